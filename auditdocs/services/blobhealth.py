"""Recording and clearing integrity failures of stored objects, so no page presents a damaged file as good evidence."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from sqlalchemy import select

from ..extensions import db
from ..models.blobhealth import BlobFailure
from ..timeutil import utcnow
from . import audit

logger = logging.getLogger(__name__)


def record_failure(sha256: str, detected_by: str, detail: str) -> None:
    """Mark an object as failing (one audit event per incident, not per attempt); the caller commits."""
    logger.error("stored object %s failed its integrity check (%s): %s", sha256, detected_by, detail)
    row = db.session.get(BlobFailure, sha256)
    now = utcnow()
    if row is not None and row.cleared_at is None:
        row.last_seen_at, row.times_seen = now, row.times_seen + 1
        return
    if row is None:
        db.session.add(BlobFailure(sha256=sha256, first_seen_at=now, last_seen_at=now, detected_by=detected_by,
                                   detail=detail, times_seen=1))
    else:
        row.first_seen_at = row.last_seen_at = now
        row.detected_by, row.detail, row.times_seen, row.cleared_at = detected_by, detail, 1, None
    db.session.flush()
    audit.record("store.integrity_failure", "blob", sha256, actor_label="system",
                 new={"detected_by": detected_by, "detail": detail})


def record_success(sha256: str, checked_by: str) -> None:
    """An object that failed matches again (restored from a backup): clear the mark, with an audit event."""
    row = db.session.get(BlobFailure, sha256)
    if row is None or row.cleared_at is not None:
        return
    row.cleared_at = utcnow()
    audit.record("store.integrity_restored", "blob", sha256, actor_label="system", new={"checked_by": checked_by})


def failing(hashes: Iterable[str]) -> set[str]:
    """Which of these objects are currently marked as failing."""
    wanted = list(set(hashes))
    if not wanted:
        return set()
    return set(db.session.scalars(select(BlobFailure.sha256).where(
        BlobFailure.sha256.in_(wanted), BlobFailure.cleared_at.is_(None))))


def all_failing() -> list[BlobFailure]:
    """Every object currently marked as failing, oldest first."""
    return list(db.session.scalars(select(BlobFailure).where(BlobFailure.cleared_at.is_(None))
                                   .order_by(BlobFailure.first_seen_at)))
