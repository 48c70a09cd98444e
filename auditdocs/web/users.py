"""Account administration: list and create users, correct names and e-mails, change roles, disable accounts, reset
passwords."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import case, select

from ..db import write_transaction
from ..extensions import db
from ..models import User
from ..services import ServiceError, mail, sessions
from ..services.users import (
    NewPassword,
    create_user,
    generate_password,
    hash_password,
    new_password,
    reset_password,
    set_access_until,
    set_active,
    set_must_change,
    set_role,
    update_details,
)
from ..timeutil import end_of_local_day, to_local
from .account_forms import UserAccountForm
from .forms import ConfirmForm, UserCreateForm
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
    """Correct the name or e-mail, change a role, enable/disable an account, set the day its access ends, ask for a
    new password; see and end its sessions, reset its password."""
    user = db.get_or_404(User, user_id)
    form = UserAccountForm(obj=user)
    if request.method == "GET" and user.access_until is not None:
        form.access_until.data = to_local(user.access_until).date()
    status = 200
    if form.validate_on_submit():
        until = form.access_until.data
        try:
            with write_transaction():
                try:
                    update_details(user, form.name.data or "", form.email.data or "", actor=actor())
                except ServiceError as exc:
                    form.email.errors = [*form.email.errors, str(exc.message)]
                    status = exc.status
                    raise
                set_role(user, form.role.data or "", actor=actor())
                set_active(user, bool(form.active.data), actor=actor())
                set_access_until(user, end_of_local_day(until) if until else None, actor=actor())
                set_must_change(user, bool(form.must_change_password.data), actor=actor())
        except ServiceError as exc:
            if status == 200:  # a refusal about the account's state, not a field: said at the top
                flash(str(exc.message), "danger")
                return redirect(url_for("users.edit", user_id=user_id))
            db.session.refresh(user)
        else:
            flash(_("Account %(email)s updated.", email=user.email), "success")
            return redirect(url_for("users.index"))
    elif form.errors:
        status = 400
    return render_template("users/edit.html", form=form, user=user, sessions=sessions.of_user(user),
                           end_form=ConfirmForm(), reset_form=ConfirmForm(), mail_on=mail.enabled()), status


@bp.route("/users/<int:user_id>/password-reset", methods=["POST"])
@require("manage_users")
def reset(user_id: int) -> ResponseReturnValue:
    """Give the account a generated password it must change at its next login: e-mailed to it when mail is set up,
    else shown here once (never stored in clear, never in the trail)."""
    user = db.get_or_404(User, user_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if user.id == actor().id:
        flash(_("To change your own password, use your account page."), "danger")
        return redirect(url_for("users.edit", user_id=user_id))
    password = generate_password()
    secret = NewPassword(hash_password(password))  # hashed before the write lock
    mailed = mail.enabled()
    try:
        with write_transaction():
            reset_password(user, secret, actor(), mailed=mailed)
    except ServiceError as exc:
        flash(str(exc.message), "danger")
        return redirect(url_for("users.edit", user_id=user_id))
    if mailed and mail.send_quietly([mail.reset_password_message(user, password)]):
        flash(_("A new password was e-mailed to %(email)s; it must be changed at the next sign-in.",
                email=user.email), "success")
        return redirect(url_for("users.edit", user_id=user_id))
    return render_template("users/password_reset.html", user=user, password=password, mail_failed=mailed)


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
