"""Account administration: list users, create users, change roles, disable accounts."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select

from ..db import write_transaction
from ..extensions import db
from ..models import User
from ..services import ServiceError
from ..services.users import create_user, new_password, set_active, set_role
from .forms import UserCreateForm, UserEditForm
from .security import actor, require

bp = Blueprint("users", __name__, url_prefix="/admin")


@bp.route("/users")
@require("manage_users")
def index() -> ResponseReturnValue:
    """Every account with its role and state."""
    rows = db.session.scalars(select(User).order_by(User.active.desc(), User.email)).all()
    return render_template("users/index.html", users=rows)


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
    """Change a role or enable/disable an account."""
    user = db.get_or_404(User, user_id)
    form = UserEditForm(obj=user)
    if form.validate_on_submit():
        try:
            with write_transaction():
                set_role(user, form.role.data or "", actor=actor())
                set_active(user, bool(form.active.data), actor=actor())
        except ServiceError as exc:
            flash(str(exc.message), "danger")
            return redirect(url_for("users.edit", user_id=user_id))
        flash(_("Account %(email)s updated.", email=user.email), "success")
        return redirect(url_for("users.index"))
    return render_template("users/edit.html", form=form, user=user), (400 if form.errors else 200)
