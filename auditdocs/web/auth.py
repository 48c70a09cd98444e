"""Log in and out; sessions are renewed at login and revoked at logout."""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Blueprint, g, make_response, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from sqlalchemy.exc import SQLAlchemyError

from ..db import write_transaction
from ..extensions import db
from ..models import User
from ..services import audit, security, sessions
from ..services.users import authenticate, normalise_email
from ..timeutil import as_utc, utcnow
from .errors import render_error
from .forms import LoginForm
from .helpers import fmt_datetime, safe_next
from .params import int_or_none
from .security import actor

bp = Blueprint("auth", __name__)
logger = logging.getLogger(__name__)
# What a person whose password was reset may still reach before choosing their own.
WHILE_FORCED = {"account.change_password", "auth.logout", "auth.login", "main.set_language", "main.healthz", "static"}


@bp.before_app_request
def _forced_password_change() -> ResponseReturnValue | None:
    """After an administrator's reset, every page leads to the change-password page until it is done (runs after
    the login gate, so the person is known)."""
    endpoint = request.endpoint
    if endpoint is None or endpoint in WHILE_FORCED or not current_user.is_authenticated:
        return None
    if not current_user.must_change_password:
        return None
    target = request.full_path.rstrip("?") if request.method == "GET" else None
    return redirect(url_for("account.change_password", next=target))


def load_user(identity: str) -> User | None:
    """Flask-Login loader: the cookie must carry the user's current session version and name a session that is
    still open (not logged out, idle, expired or ended elsewhere); activity moves its idle clock on."""
    raw_id, _sep, raw_version = identity.partition(":")
    user_id, version = int_or_none(raw_id), int_or_none(raw_version)
    if user_id is None or version is None:
        return None
    user = db.session.get(User, user_id)
    if user is None or not user.active or user.session_version != version:
        return None
    row = sessions.find(session.get("sid"))
    if row is None:  # a cookie from before server-side sessions, or a forged one: just log in again
        return None
    reason = sessions.why_ended(row, user)
    if reason is not None:
        g.session_ended = reason
        if row.ended_at is None:
            _bookkeeping(sessions.end, row, reason)
        return None
    if sessions.needs_touch(row):
        _bookkeeping(sessions.touch, row)
    g.user_session_id = row.id
    return user


def _bookkeeping(step: Callable[..., None], *args: object) -> None:
    """Record a session's activity or end; best effort, because reading and downloading must go on while the
    database is full or busy (the decision above was already taken from the row as read)."""
    try:
        with write_transaction():
            step(*args)
    except (SQLAlchemyError, OSError):
        logger.warning("session bookkeeping skipped (%s); the request goes on", step.__name__, exc_info=True)


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
        if throttle := security.throttled(email, ip):
            return _throttled(email, ip, throttle)
        user = authenticate(email, form.password.data or "")
        if user is None:
            with write_transaction():
                security.record_login_failure(email, ip)
            error, status = _("Wrong e-mail or password, or the account is disabled."), 401
        elif user.access_until is not None and as_utc(user.access_until) <= utcnow():
            error, status = _("Your access ended on %(when)s. Ask the organisation for a new period of access.",
                              when=fmt_datetime(user.access_until, "short")), 403
        else:
            user_id, token = user.id, ""
            with write_transaction():
                # Checked again under the write lock: parallel guesses that all passed the check above
                # cannot log in once the failures recorded meanwhile reach a limit.
                throttle = security.throttled(email, ip)
                if throttle is None:
                    user = db.session.get_one(User, user_id)
                    user.last_login_at = utcnow()
                    audit.record("auth.login", "user", user.id, actor=user)
                    token = sessions.start(user, ip, request.user_agent.string)
            if throttle is not None:
                return _throttled(email, ip, throttle)
            lang = session.get("lang")
            session.clear()  # a fresh session: no fixation from before login
            if lang:
                session["lang"] = lang
            session["sid"] = token
            login_user(user)
            target = safe_next(request.args.get("next"), url_for("main.dashboard"))
            if user.must_change_password:  # a reset password: the person chooses their own first
                return redirect(url_for("account.change_password", next=target))
            return redirect(target)
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form, error=error), status


def _throttled(email: str, ip: str | None, throttle: security.Throttle) -> ResponseReturnValue:
    """Count the refusal (one audit event per key and window) and answer 429 with Retry-After."""
    with write_transaction():
        security.record_throttled(email, ip, throttle)
    if throttle.reason == "account":
        message = _("This account has had many failed sign-ins. From an address it has not used before, wait "
                    "%(seconds)d seconds and try again, or sign in from your usual network.",
                    seconds=throttle.retry_after)
        page = render_error(429, message)
    else:
        page = render_error(429)
    response = make_response(page)
    response.headers["Retry-After"] = str(throttle.retry_after)
    return response


@bp.route("/logout", methods=["POST"])
def logout() -> ResponseReturnValue:
    """End this browser's session (copies of its cookie are refused from now on); other sessions go on."""
    with write_transaction():
        user = actor()
        row = sessions.find(session.get("sid"))
        if row is not None:
            sessions.end(row, sessions.LOGOUT)
        audit.record("auth.logout", "user", user.id, actor=user)
    logout_user()
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    return redirect(url_for("auth.login"))


