"""Stored objects found not to match their hash: operational state that the version page and `verify` show."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import Model
from ..timeutil import utcnow


class BlobFailure(Model):
    """One object failing its integrity check: when it was first and last seen, by what, and whether it was cleared.

    Not evidence (the incident itself is an audit event); a row is cleared when the object matches again, e.g. after
    an administrator restores it from a backup.
    """

    __tablename__ = "blob_failures"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    first_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    detected_by: Mapped[str] = mapped_column(String(20))  # "download" or "verify"
    detail: Mapped[str] = mapped_column(Text)
    times_seen: Mapped[int] = mapped_column(Integer, default=1)
    cleared_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
