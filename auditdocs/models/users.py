"""Users and their roles."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import DateTime, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import Model, one_of
from ..timeutil import utcnow

ADMIN = "admin"
QUALITY_OFFICER = "quality_officer"
COMPLIANCE_OFFICER = "compliance_officer"
AUDITOR = "auditor"
ROLES = (ADMIN, QUALITY_OFFICER, COMPLIANCE_OFFICER, AUDITOR)


class User(UserMixin, Model):
    """A person who logs in; never deleted, only disabled, so the audit trail keeps its actors."""

    __tablename__ = "users"
    __table_args__ = (one_of("role", ROLES),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    # Bumped at logout and on disable: a replayed session cookie then no longer matches.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    language: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # An external auditor's access ends with the audit: no login, and open sessions end, after this moment.
    access_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Set by an administrator's password reset: until the person chooses a password of their own, the app shows
    # them nothing but the change-password page.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=false())

    @property
    def is_active(self) -> bool:
        """Flask-Login refuses inactive users at once."""
        return bool(self.active)

    def get_id(self) -> str:
        """Session identity carries the session version so logout can revoke it."""
        return f"{self.id}:{self.session_version}"

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"
