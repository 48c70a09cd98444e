"""A person's own account: their password, the sessions they have open, and ending the ones they do not recognise."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import login_user

from ..db import write_transaction
from ..extensions import db
from ..models import User
from ..models.security import UserSession
from ..services import ServiceError, security, sessions
from ..services.users import WrongPassword, change_own_password, check_own_password
from .account_forms import ChangePasswordForm
from .forms import ConfirmForm
from .helpers import safe_next
from .security import actor

bp = Blueprint("account", __name__, url_prefix="/account")


@bp.route("/sessions")
def my_sessions() -> ResponseReturnValue:
    """Where the person is signed in: this browser, others still open, and the latest ended ones."""
    me = actor()
    return render_template("account/sessions.html", sessions=sessions.of_user(me),
                           current_id=g.get("user_session_id"), form=ConfirmForm(),
                           idle_minutes=int(sessions.idle_limit().total_seconds() // 60),
                           max_hours=int(sessions.lifetime().total_seconds() // 3600))


@bp.route("/sessions/<int:session_id>/end", methods=["POST"])
def end_session(session_id: int) -> ResponseReturnValue:
    """End one of the person's other sessions (another person's is none of theirs: 404)."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    me = actor()
    row = db.session.get(UserSession, session_id)
    if row is None or row.user_id != me.id:
        abort(404)
    if row.id == g.get("user_session_id"):
        abort(409)  # this browser's own session ends with "Log out"
    with write_transaction():
        sessions.end(row, sessions.ENDED, actor=me)
    flash(_("The session was ended."), "success")
    return redirect(url_for("account.my_sessions"))


@bp.route("/sessions/end-others", methods=["POST"])
def end_others() -> ResponseReturnValue:
    """End every session of the person but this one."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    me = actor()
    with write_transaction():
        ended = sessions.end_all(me, sessions.ENDED, actor=me, except_id=g.get("user_session_id"))
    flash(ngettext("%(num)d other session ended.", "%(num)d other sessions ended.", ended), "success")
    return redirect(url_for("account.my_sessions"))


@bp.route("/password", methods=["GET", "POST"])
def change_password() -> ResponseReturnValue:
    """Choose a new password (the current one first); the person's other sessions end, this one goes on. After an
    administrator's reset this is the only page the person can reach until it is done."""
    me = actor()
    form = ChangePasswordForm()
    forced = bool(me.must_change_password)
    status = 200
    if form.validate_on_submit():
        email, ip = me.email, request.remote_addr
        if (throttle := security.throttled(email, ip)) is not None:  # guessing the current password: as at login
            form.current_password.errors = [_("Too many wrong passwords. Wait %(seconds)d seconds and try again.",
                                              seconds=throttle.retry_after)]
            return render_template("account/password.html", form=form, forced=forced), 429
        try:
            secret = check_own_password(me, form.current_password.data or "", form.new_password.data or "")
        except WrongPassword as exc:
            with write_transaction():
                security.record_login_failure(email, ip)
            form.current_password.errors = [str(exc.message)]
            status = exc.status
        except ServiceError as exc:
            form.new_password.errors = [str(exc.message)]
            status = exc.status
        else:
            with write_transaction():
                me = db.session.get_one(User, me.id)
                change_own_password(me, secret, keep_session_id=g.get("user_session_id"))
            login_user(me)  # this browser's cookie carries the new session version
            flash(_("Your password was changed. Your other sessions were ended."), "success")
            return redirect(safe_next(request.args.get("next"), url_for("main.dashboard")))
    elif form.errors:
        status = 400
    return render_template("account/password.html", form=form, forced=forced), status
