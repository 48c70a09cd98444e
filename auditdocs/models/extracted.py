"""The text read from a stored file, once per SHA-256: derived data for search, never evidence.

Why a row per blob and not per version: identical bytes are stored once and read once, however many versions
and attachments cite them. A row may be replaced by a re-extraction (a better reader, a larger cap); nothing
evidential changes, so the table carries no append-only trigger and is not a blob reference (gc ignores it).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import Model, one_of
from ..timeutil import utcnow

TEXT_STATUSES = ("ok", "unreadable", "unsupported", "too_large", "timeout")


class BlobText(Model):
    """What the reader made of one stored file: its text (capped) or why there is none."""

    __tablename__ = "extracted_texts"
    __table_args__ = (one_of("status", TEXT_STATUSES),)

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[str] = mapped_column(String(12))
    chars: Mapped[int] = mapped_column(Integer, default=0)
    truncated: Mapped[bool] = mapped_column(Boolean, default=False)
    text: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(String(300))
    extracted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
