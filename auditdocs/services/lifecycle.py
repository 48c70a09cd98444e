"""Which version of a document is in force on a day: a lifecycle rule every page, export and pack shares.

Why dates and not a stored flag: a version approved ahead of its effective date takes over on that day without a
job having to run, and a pack for a past audit period asks what was in force then.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import ColumnElement, Select, exists, select

from ..models import Document, DocumentVersion
from ..models.documents import EVER_APPROVED
from ..timeutil import to_local


def in_force(doc: Document, day: date) -> DocumentVersion | None:
    """The approved version in force on a day (effective dates allow approval ahead of time)."""
    # The withdrawal time is stored in UTC; the day is a calendar day where the organisation is.
    if doc.withdrawn_at is not None and to_local(doc.withdrawn_at).date() <= day:
        return None
    candidates = [v for v in doc.versions
                  if v.status in EVER_APPROVED and v.effective_date is not None and v.effective_date <= day]
    # Approvals only move forward: the highest approved number already effective is the one in force.
    return max(candidates, key=lambda v: v.number, default=None)


def in_force_document_ids(day: date) -> Select[int]:
    """Documents with an approved version effective on the day (a future-dated approval covers nothing yet)."""
    return select(DocumentVersion.document_id).join(Document, Document.id == DocumentVersion.document_id).where(
        Document.status == "active", DocumentVersion.status.in_(EVER_APPROVED),
        DocumentVersion.effective_date <= day)


def has_version_in_force(day: date) -> ColumnElement[bool]:
    """Correlated to Document: it has an approved version effective on the day (with Document.status == "active",
    the same rule as in_force_document_ids, probed row by row instead of listed)."""
    return exists().where(DocumentVersion.document_id == Document.id, DocumentVersion.status.in_(EVER_APPROVED),
                          DocumentVersion.effective_date <= day)
