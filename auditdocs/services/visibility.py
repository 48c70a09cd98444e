"""Which documents and versions a user may see; every query and route goes through here."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Select, exists, or_, select

from ..models import Document, DocumentVersion, User, document_shares
from ..models.documents import EVER_APPROVED
from ..permissions import can
from ..timeutil import to_local

READ_APPROVED_ONLY = frozenset({"auditor"})


def visible_documents(user: User) -> Select:
    """A select of the documents the user may see (restricted ones: admins, owner, shared users)."""
    stmt = select(Document)
    if not can(user, "see_all_restricted"):
        shared = exists().where(document_shares.c.document_id == Document.id,
                                document_shares.c.user_id == user.id)
        stmt = stmt.where(or_(Document.confidentiality == "normal", Document.owner_id == user.id, shared))
    if user.role in READ_APPROVED_ONLY:
        stmt = stmt.where(Document.current_version_id.is_not(None))
    return stmt


def can_see_document(user: User, doc: Document) -> bool:
    """Object-level form of visible_documents."""
    if user.role in READ_APPROVED_ONLY and doc.current_version_id is None:
        return False
    if doc.confidentiality == "normal" or can(user, "see_all_restricted") or doc.owner_id == user.id:
        return True
    return any(u.id == user.id for u in doc.shared_with)


def can_see_version(user: User, version: DocumentVersion) -> bool:
    """Auditors see approved versions only (current, superseded or obsolete), never drafts or rejections."""
    if not can_see_document(user, version.document):
        return False
    return user.role not in READ_APPROVED_ONLY or version.status in EVER_APPROVED


def visible_versions(user: User, doc: Document) -> list[DocumentVersion]:
    """The document's versions the user may see, newest first."""
    return [v for v in doc.versions if can_see_version(user, v)]


def in_force(doc: Document, day: date) -> DocumentVersion | None:
    """The approved version in force on a day (effective dates allow approval ahead of time)."""
    # The withdrawal time is stored in UTC; the day is a calendar day where the organisation is.
    if doc.withdrawn_at is not None and to_local(doc.withdrawn_at).date() <= day:
        return None
    candidates = [v for v in doc.versions
                  if v.status in EVER_APPROVED and v.effective_date is not None and v.effective_date <= day]
    # Approvals only move forward: the highest approved number already effective is the one in force.
    return max(candidates, key=lambda v: v.number, default=None)
