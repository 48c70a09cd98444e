"""Changes to the clause catalogue made by people: applicability and title corrections."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..models import Clause, User
from ..timeutil import utcnow
from . import ServiceError, audit


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


def clause_page_extras(clause: Clause, user: User) -> dict:
    """Documents mapped to the clause that the user may see."""
    from sqlalchemy import select

    from ..extensions import db
    from ..models import Document, DocumentVersion, document_clauses
    from .visibility import visible_documents

    stmt = visible_documents(user).where(Document.id.in_(
        select(document_clauses.c.document_id).where(document_clauses.c.clause_id == clause.id)
    )).order_by(Document.code)
    from .coverage import in_force_document_ids

    documents = list(db.session.scalars(stmt))
    in_force_ids = set(db.session.scalars(in_force_document_ids().where(
        DocumentVersion.document_id.in_([d.id for d in documents]))))
    return {"documents": documents, "in_force_ids": in_force_ids}
