"""A person's own account: the sessions they have open, and ending the ones they do not recognise."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext

from ..db import write_transaction
from ..extensions import db
from ..models.security import UserSession
from ..services import sessions
from .forms import ConfirmForm
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
