"""Server-side sessions: each signed-in browser is a row, so sessions time out, can be listed and can be ended.

Why: a signed cookie alone cannot be revoked or expired by the server. The cookie carries a random token; the row
(stored by the token's SHA-256) says who, since when, last seen when, from where, and whether it has ended. A
session ends at logout, after the idle time-out or the absolute lifetime (defaults 30 minutes and 12 hours,
AUDITDOCS_SESSION_IDLE_MINUTES and AUDITDOCS_SESSION_MAX_HOURS), when its owner ends it from another browser, or when
the account is disabled, changes role or its access date passes.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, select

from ..extensions import db
from ..models import User
from ..models.security import UserSession
from ..timeutil import as_utc, utcnow
from . import audit

TOUCH_EVERY = timedelta(minutes=2)  # last_seen is written at most this often (each write takes the write lock)
KEEP_ENDED = timedelta(days=90)
IDLE, EXPIRED, LOGOUT, ENDED, REVOKED = "idle", "expired", "logout", "ended", "revoked"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def idle_limit() -> timedelta:
    """How long a session may go unused."""
    return timedelta(minutes=float(current_app.config.get("SESSION_IDLE_MINUTES", 30)))


def lifetime() -> timedelta:
    """How long a session may last at all, however busy."""
    return timedelta(hours=float(current_app.config.get("SESSION_MAX_HOURS", 12)))


def start(user: User, ip: str | None, user_agent: str | None) -> str:
    """Open a session for a user who just proved who they are; returns the token for the cookie."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.execute(delete(UserSession).where(UserSession.ended_at < now - KEEP_ENDED),
                       execution_options={"synchronize_session": False})
    db.session.add(UserSession(token_hash=_digest(token), user_id=user.id, created_at=now, last_seen_at=now,
                               ip=ip, user_agent=(user_agent or "")[:300] or None))
    db.session.flush()
    return token


def why_ended(row: UserSession | None, user: User, now: datetime | None = None) -> str | None:
    """None while the session is good; else why it ended (or must end now)."""
    if row is None or row.user_id != user.id:
        return REVOKED  # (the caller treats a missing row as a plain new login)
    if row.ended_at is not None:
        return row.end_reason or ENDED
    now = now or utcnow()
    if as_utc(row.created_at) + lifetime() <= now:
        return EXPIRED
    if as_utc(row.last_seen_at) + idle_limit() <= now:
        return IDLE
    if user.access_until is not None and as_utc(user.access_until) <= now:
        return EXPIRED
    return None


def find(token: str | None) -> UserSession | None:
    """The session a cookie's token names."""
    if not token:
        return None
    return db.session.scalar(select(UserSession).where(UserSession.token_hash == _digest(token)))


def needs_touch(row: UserSession) -> bool:
    """True when last_seen is stale enough to be worth a write."""
    return as_utc(row.last_seen_at) + TOUCH_EVERY <= utcnow()


def touch(row: UserSession) -> None:
    """Record activity (the idle clock starts again); the caller commits."""
    row.last_seen_at = utcnow()


def end(row: UserSession, reason: str, *, actor: User | None = None) -> None:
    """End one session; a person ending a session (theirs elsewhere, or another account's) is audited. Ends that
    follow from an audited change (a role, a disabled account, an access date) are not audited twice."""
    if row.ended_at is not None:
        return
    row.ended_at, row.end_reason = utcnow(), reason
    if reason == ENDED:
        audit.record("auth.session_end", "user", row.user_id, actor=actor,
                     new={"session": row.id, "reason": reason, "started": row.created_at, "ip": row.ip})


def end_all(user: User, reason: str, *, actor: User | None = None, except_id: int | None = None) -> int:
    """End every open session of a user (but one); returns how many ended."""
    rows = db.session.scalars(select(UserSession).where(
        UserSession.user_id == user.id, UserSession.ended_at.is_(None), UserSession.id != (except_id or 0))).all()
    for row in rows:
        end(row, reason, actor=actor)
    return len(rows)


def of_user(user: User, *, limit: int = 30) -> list[UserSession]:
    """A user's sessions, open ones first, newest first."""
    return list(db.session.scalars(select(UserSession).where(UserSession.user_id == user.id)
                                   .order_by(UserSession.ended_at.is_not(None), UserSession.last_seen_at.desc())
                                   .limit(limit)))
