"""Log in and out; sessions are renewed at login and revoked at logout."""

from __future__ import annotations

from typing import NoReturn

from flask import Blueprint, abort, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from ..db import write_transaction
from ..extensions import db
from ..models import User
from ..services import audit
from ..services.users import MAX_FAILURES, authenticate, normalise_email, recent_failures
from ..timeutil import utcnow
from .forms import LoginForm
from .helpers import safe_next
from .params import int_or_none
from .security import actor

bp = Blueprint("auth", __name__)


def load_user(identity: str) -> User | None:
    """Flask-Login loader: the cookie must carry the user's current session version."""
    raw_id, _sep, raw_version = identity.partition(":")
    user_id, version = int_or_none(raw_id), int_or_none(raw_version)
    if user_id is None or version is None:
        return None
    user = db.session.get(User, user_id)
    if user is None or not user.active or user.session_version != version:
        return None
    return user


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    """Show the login form or check the credentials.

    The throttle count and the password check (scrypt, ~100 ms) run in read transactions; only the audit
    event and last_login_at are written, each in a short write transaction, so a flood of bad logins never
    holds the SQLite write lock while passwords are hashed.
    """
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    form = LoginForm()
    status = 200
    error = None
    if form.validate_on_submit():
        email = normalise_email(form.email.data or "")
        ip = request.remote_addr
        if recent_failures(email, ip) >= MAX_FAILURES:
            _throttled(email)
        user = authenticate(email, form.password.data or "")
        if user is None:
            with write_transaction():
                audit.record("auth.login_failed", "login", email, actor_label=email)
            error, status = _("Wrong e-mail or password, or the account is disabled."), 401
        else:
            user_id = user.id
            with write_transaction():
                # Checked again under the write lock: parallel guesses that all passed the count above
                # cannot log in once the failures recorded meanwhile reach the limit.
                if recent_failures(email, ip) >= MAX_FAILURES:
                    user = None
                else:
                    user = db.session.get(User, user_id)
                    if user is not None:
                        user.last_login_at = utcnow()
                        audit.record("auth.login", "user", user.id, actor=user)
            if user is None:
                _throttled(email)
            lang = session.get("lang")
            session.clear()  # a fresh session: no fixation from before login
            if lang:
                session["lang"] = lang
            login_user(user)
            return redirect(safe_next(request.args.get("next"), url_for("main.dashboard")))
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form, error=error), status


def _throttled(email: str) -> NoReturn:
    """Record the refusal and answer 429."""
    with write_transaction():
        audit.record("auth.login_throttled", "login", email, actor_label=email)
    abort(429)


@bp.route("/logout", methods=["POST"])
def logout() -> ResponseReturnValue:
    """End the session everywhere this cookie was copied: the session version moves on."""
    with write_transaction():
        user = actor()
        user.session_version += 1
        audit.record("auth.logout", "user", user.id, actor=user)
    logout_user()
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    return redirect(url_for("auth.login"))


