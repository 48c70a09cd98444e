"""Log in and out; sessions are renewed at login and revoked at logout."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from ..extensions import db
from ..models import User
from ..services import audit
from ..services.users import MAX_FAILURES, authenticate, normalise_email, recent_failures
from ..timeutil import utcnow
from .forms import LoginForm
from .helpers import safe_next

bp = Blueprint("auth", __name__)


def load_user(identity: str) -> User | None:
    """Flask-Login loader: the cookie must carry the user's current session version."""
    user_id, _sep, version = identity.partition(":")
    if not user_id.isdigit() or not version.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or user.session_version != int(version):
        return None
    return user


@bp.route("/login", methods=["GET", "POST"])
def login():  # type: ignore[no-untyped-def]
    """Show the login form or check the credentials."""
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    form = LoginForm()
    status = 200
    error = None
    if form.validate_on_submit():
        email = normalise_email(form.email.data or "")
        if recent_failures(email, request.remote_addr) >= MAX_FAILURES:
            audit.record("auth.login_throttled", "login", email, actor_label=email)
            db.session.commit()
            abort(429)
        user = authenticate(email, form.password.data or "")
        if user is None:
            audit.record("auth.login_failed", "login", email, actor_label=email)
            db.session.commit()
            error, status = _("Wrong e-mail or password, or the account is disabled."), 401
        else:
            lang = session.get("lang")
            session.clear()  # a fresh session: no fixation from before login
            if lang:
                session["lang"] = lang
            user.last_login_at = utcnow()
            audit.record("auth.login", "user", user.id, actor=user)
            db.session.commit()
            login_user(user)
            return redirect(safe_next(request.args.get("next"), url_for("main.dashboard")))
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form, error=error), status


@bp.route("/logout", methods=["POST"])
def logout():  # type: ignore[no-untyped-def]
    """End the session everywhere this cookie was copied: the session version moves on."""
    user = db.session.get(User, current_user.id)
    if user is not None:
        user.session_version += 1
        audit.record("auth.logout", "user", user.id, actor=user)
        db.session.commit()
    logout_user()
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    return redirect(url_for("auth.login"))


