"""Operational security state: failed logins, aggregated refusals, and the sessions people hold.

Not evidence: rows here change and are pruned. What must be kept for ever (a first failure in a window, a session
ended by an administrator) also goes into the audit trail, once per key and window, so nobody can flood it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from ..timeutil import utcnow
from .users import User


class LoginFailure(Model):
    """One wrong password (or unknown e-mail): counted per account, per address and per pair over a window."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_email_at", "email", "at"), Index("ix_login_failures_ip_at", "ip", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    ip: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


class SecurityCounter(Model):
    """How often one kind of refusal happened for one key (an e-mail and address, an account) in one window."""

    __tablename__ = "security_counters"
    __table_args__ = (UniqueConstraint("kind", "key", "window_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))  # "login_failed", "login_throttled", "not_found", "forbidden"
    key: Mapped[str] = mapped_column(String(400))
    window_start: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    count: Mapped[int] = mapped_column(Integer, default=1)
    first_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    sample: Mapped[str | None] = mapped_column(String(400))  # the first path or object asked for, for people

    user: Mapped[User | None] = relationship(foreign_keys=[user_id])


class UserSession(Model):
    """A signed-in browser: ends at logout, after the idle time-out or the absolute lifetime, or when ended."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256 of the token in the cookie
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    end_reason: Mapped[str | None] = mapped_column(String(20))

    user: Mapped[User] = relationship(foreign_keys=[user_id])
