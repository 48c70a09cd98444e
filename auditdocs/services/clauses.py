"""Changes to the clause catalogue made by people: applicability and title corrections."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..events import announce
from ..extensions import db
from ..models import Clause, Document, DocumentVersion, User, document_clauses
from ..policy import AccessScope
from ..timeutil import utcnow
from . import ServiceError, audit
from .lifecycle import in_force_document_ids


def set_applicability(clause: Clause, applicable: bool, reason: str, actor: User | None) -> None:
    """Not applicable needs a justification (ISO 9001 4.3); who and when are kept."""
    reason = (reason or "").strip()
    if not applicable and len(reason) < 10:
        raise ServiceError(_l("Explain why the clause does not apply (at least 10 characters)."))
    old = {"applicable": clause.applicable, "reason": clause.not_applicable_reason}
    clause.applicable = applicable
    clause.not_applicable_reason = None if applicable else reason
    clause.applicability_changed_at = utcnow()
    clause.applicability_changed_by_id = actor.id if actor else None
    audit.record("clause.applicability", "clause", clause.ref, old=old,
                 new={"applicable": applicable, "reason": clause.not_applicable_reason}, actor=actor)
    announce("clause", clause.id, "applicability")


def correct_title(clause: Clause, title_en: str, title_es: str, actor: User | None) -> None:
    """Store an admin's title correction and lock it against catalogue reloads."""
    title_en, title_es = title_en.strip(), title_es.strip()
    if not title_en:
        raise ServiceError(_l("The English title cannot be empty."))
    old = {"title_en": clause.title_en, "title_es": clause.title_es}
    clause.title_en, clause.title_es = title_en, title_es or None
    clause.title_corrected_at = utcnow()
    clause.title_corrected_by_id = actor.id if actor else None
    audit.record("clause.title", "clause", clause.ref, old=old,
                 new={"title_en": title_en, "title_es": clause.title_es}, actor=actor)
    announce("clause", clause.id, "title")


def clause_page_extras(clause: Clause, scope: AccessScope, day: date) -> dict[str, Any]:
    """Documents mapped to the clause that the scope sees, and which of them are in force on the day."""
    stmt = scope.visible_documents().where(Document.id.in_(
        select(document_clauses.c.document_id).where(document_clauses.c.clause_id == clause.id)
    )).order_by(Document.code)
    documents = list(db.session.scalars(stmt))
    in_force_ids = set(db.session.scalars(in_force_document_ids(day).where(
        DocumentVersion.document_id.in_([d.id for d in documents]))))
    return {"documents": documents, "in_force_ids": in_force_ids}
