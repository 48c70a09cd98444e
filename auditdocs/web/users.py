"""Account administration: list users, create users, change roles, disable accounts."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import case, select

from ..db import write_transaction
from ..extensions import db
from ..models import User
from ..services import ServiceError, sessions
from ..services.users import create_user, new_password, set_access_until, set_active, set_role
from ..timeutil import end_of_local_day, to_local
from .forms import ConfirmForm, UserCreateForm, UserEditForm
from .keyset import Keyset
from .security import actor, require

PER_PAGE = 50
BY_STATE_AND_EMAIL = Keyset((case((User.active.is_(True), 0), else_=1), User.email, User.id), User.id)  # enabled first

bp = Blueprint("users", __name__, url_prefix="/admin")


@bp.route("/users")
@require("manage_users")
def index() -> ResponseReturnValue:
    """Every account with its role and state, enabled ones first, a page at a time."""
    page = BY_STATE_AND_EMAIL.page(select(User), request.args, PER_PAGE)
    return render_template("users/index.html", page=page)


@bp.route("/users/new", methods=["GET", "POST"])
@require("manage_users")
def new() -> ResponseReturnValue:
    """Create an account (the password is hashed before the write lock is taken)."""
    form = UserCreateForm()
    if form.validate_on_submit():
        try:
            password = new_password(form.password.data or "")
            with write_transaction():
                user = create_user(form.email.data or "", form.name.data or "", form.role.data or "", password,
                                   actor=actor())
                email = user.email
        except ServiceError as exc:
            form.email.errors = [*form.email.errors, str(exc.message)]
        else:
            flash(_("Account %(email)s created.", email=email), "success")
            return redirect(url_for("users.index"))
    return render_template("users/new.html", form=form), (400 if form.errors else 200)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@require("manage_users")
def edit(user_id: int) -> ResponseReturnValue:
    """Change a role, enable/disable an account, set the day its access ends; see and end its sessions."""
    user = db.get_or_404(User, user_id)
    form = UserEditForm(obj=user)
    if request.method == "GET" and user.access_until is not None:
        form.access_until.data = to_local(user.access_until).date()
    if form.validate_on_submit():
        until = form.access_until.data
        try:
            with write_transaction():
                set_role(user, form.role.data or "", actor=actor())
                set_active(user, bool(form.active.data), actor=actor())
                set_access_until(user, end_of_local_day(until) if until else None, actor=actor())
        except ServiceError as exc:
            flash(str(exc.message), "danger")
            return redirect(url_for("users.edit", user_id=user_id))
        flash(_("Account %(email)s updated.", email=user.email), "success")
        return redirect(url_for("users.index"))
    return render_template("users/edit.html", form=form, user=user, sessions=sessions.of_user(user),
                           end_form=ConfirmForm()), (400 if form.errors else 200)


@bp.route("/users/<int:user_id>/sessions/end", methods=["POST"])
@require("manage_users")
def end_sessions(user_id: int) -> ResponseReturnValue:
    """End every open session of an account (a lost laptop, a departed colleague)."""
    user = db.get_or_404(User, user_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    with write_transaction():
        ended = sessions.end_all(user, sessions.ENDED, actor=actor())
    flash(ngettext("%(num)d session of %(email)s ended.", "%(num)d sessions of %(email)s ended.", ended,
                   email=user.email), "success")
    return redirect(url_for("users.edit", user_id=user_id))
