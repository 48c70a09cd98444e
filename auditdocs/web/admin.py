"""Admin pages: list users, create users, change roles, disable accounts."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ..extensions import db
from ..models import User
from ..permissions import require
from ..services import ServiceError
from ..services.users import create_user, set_active, set_role
from .forms import UserCreateForm, UserEditForm

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/users")
@require("manage_users")
def users():  # type: ignore[no-untyped-def]
    """Every account with its role and state."""
    rows = db.session.scalars(select(User).order_by(User.active.desc(), User.email)).all()
    return render_template("admin/users.html", users=rows, form=UserCreateForm())


@bp.route("/users/new", methods=["GET", "POST"])
@require("manage_users")
def user_new():  # type: ignore[no-untyped-def]
    """Create an account."""
    form = UserCreateForm()
    if form.validate_on_submit():
        try:
            user = create_user(form.email.data or "", form.name.data or "", form.role.data or "",
                               form.password.data or "", actor=current_user)
        except ServiceError as exc:
            db.session.rollback()
            form.email.errors = [*form.email.errors, str(exc.message)]
        else:
            db.session.commit()
            flash(_("Account %(email)s created.", email=user.email), "success")
            return redirect(url_for("admin.users"))
    status = 400 if form.errors else 200
    return render_template("admin/user_new.html", form=form), status


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@require("manage_users")
def user_edit(user_id: int):  # type: ignore[no-untyped-def]
    """Change a role or enable/disable an account."""
    user = db.get_or_404(User, user_id)
    form = UserEditForm(obj=user)
    if form.validate_on_submit():
        try:
            set_role(user, form.role.data or "", actor=current_user)
            set_active(user, bool(form.active.data), actor=current_user)
        except ServiceError as exc:
            db.session.rollback()
            flash(str(exc.message), "danger")
            return redirect(url_for("admin.user_edit", user_id=user_id))
        db.session.commit()
        flash(_("Account %(email)s updated.", email=user.email), "success")
        return redirect(url_for("admin.users"))
    status = 400 if form.errors else 200
    return render_template("admin/user_edit.html", form=form, user=user), status
