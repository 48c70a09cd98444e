"""Which version of a document is in force on a day: a lifecycle rule every page, export and pack shares.

Why dates and not a stored flag: a version approved ahead of its effective date takes over on that day without a
job having to run, and a pack for a past audit period asks what was in force then. The stored statuses ("approved",
"superseded" written at approval, "obsolete" at withdrawal) record decisions for the audit trail; what a person is
shown comes from `document_state` and `version_state`, which read only dates and decisions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, Select, exists, or_, select

from ..models import Document, DocumentVersion
from ..models.documents import EVER_APPROVED
from ..timeutil import end_of_local_day, to_local

# What a person is shown, for a document or one of its versions, on a given day.
IN_FORCE, APPROVED_FUTURE, SUPERSEDED, WITHDRAWN = "in_force", "approved_future", "superseded", "withdrawn"
DRAFT, REJECTED, NOT_IN_FORCE = "draft", "rejected", "not_in_force"


@dataclass(frozen=True)
class State:
    """A status that cannot contradict another page: the key, the day it started (or starts), and for a document
    the version in force (or the approved one waiting for its day) and any approved version still to come."""

    key: str
    since: date | None = None
    version: DocumentVersion | None = None
    upcoming: DocumentVersion | None = None


def withdrawn_on(doc: Document) -> date | None:
    """The calendar day, where the organisation is, from which nothing of the document is in force."""
    return to_local(doc.withdrawn_at).date() if doc.withdrawn_at is not None else None


def _approved(doc: Document) -> list[DocumentVersion]:
    """Versions ever approved with their effective day, oldest number first (approvals only move forward)."""
    return sorted((v for v in doc.versions if v.status in EVER_APPROVED and v.effective_date is not None),
                  key=lambda v: v.number)


def in_force(doc: Document, day: date) -> DocumentVersion | None:
    """The approved version in force on a day (effective dates allow approval ahead of time)."""
    # The withdrawal time is stored in UTC; the day is a calendar day where the organisation is.
    gone = withdrawn_on(doc)
    if gone is not None and gone <= day:
        return None
    candidates = [v for v in _approved(doc) if v.effective_date is not None and v.effective_date <= day]
    # Approvals only move forward: the highest approved number already effective is the one in force.
    return max(candidates, key=lambda v: v.number, default=None)


def _upcoming(doc: Document, day: date) -> DocumentVersion | None:
    """The approved version that takes effect after the day (the latest one), if the document is not withdrawn."""
    gone = withdrawn_on(doc)
    if gone is not None and gone <= day:
        return None
    waiting = [v for v in _approved(doc) if v.effective_date is not None and v.effective_date > day]
    return waiting[-1] if waiting else None


def document_state(doc: Document, day: date) -> State:
    """What the document is on the day: in force (maybe with an approved successor waiting), approved and effective
    from a later day, withdrawn, or a draft with nothing approved."""
    gone = withdrawn_on(doc)
    if gone is not None and gone <= day:
        return State(WITHDRAWN, gone)
    current, upcoming = in_force(doc, day), _upcoming(doc, day)
    if current is not None:
        return State(IN_FORCE, current.effective_date, current, upcoming)
    if upcoming is not None:
        return State(APPROVED_FUTURE, upcoming.effective_date, upcoming)
    return State(DRAFT if not _approved(doc) else NOT_IN_FORCE)


def version_state(version: DocumentVersion, doc: Document, day: date) -> State:
    """What one version is on the day: superseded only from the day a later approved version took effect, in force
    until then, "approved, effective from" before its own day; withdrawn with its document."""
    if version.status == "draft":
        return State(DRAFT)
    if version.status == "rejected":
        return State(REJECTED)
    if version.status not in EVER_APPROVED or version.effective_date is None:
        return State(NOT_IN_FORCE)
    later = [v.effective_date for v in _approved(doc) if v.number > version.number and v.effective_date is not None]
    replaced = min(later, default=None)
    gone = withdrawn_on(doc)
    if gone is not None and gone <= day:
        if replaced is not None and replaced <= gone:
            return State(SUPERSEDED, replaced)
        return State(WITHDRAWN, gone)
    if version.effective_date > day:
        return State(APPROVED_FUTURE, version.effective_date, version)
    if in_force(doc, day) is version:
        return State(IN_FORCE, version.effective_date, version)
    return State(SUPERSEDED, replaced)


def _not_withdrawn_by(day: date) -> ColumnElement[bool]:
    """Correlated to Document: not withdrawn on or before the day (a past day sees a since-withdrawn document)."""
    return or_(Document.withdrawn_at.is_(None), Document.withdrawn_at > end_of_local_day(day))


def in_force_document_ids(day: date) -> Select[int]:
    """Documents with an approved version effective on the day (a future-dated approval covers nothing yet)."""
    return select(DocumentVersion.document_id).join(Document, Document.id == DocumentVersion.document_id).where(
        _not_withdrawn_by(day), DocumentVersion.status.in_(EVER_APPROVED), DocumentVersion.effective_date <= day)


def has_version_in_force(day: date) -> ColumnElement[bool]:
    """Correlated to Document: a version is in force on the day (the rule of `in_force`, probed row by row)."""
    return exists().where(DocumentVersion.document_id == Document.id, DocumentVersion.status.in_(EVER_APPROVED),
                          DocumentVersion.effective_date <= day, _not_withdrawn_by(day))
