"""Changes to the clause catalogue made by people: applicability and title corrections."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, exists, select
from sqlalchemy.orm import selectinload

from ..events import announce
from ..extensions import db
from ..models import Clause, Document, DocumentVersion, User, document_clauses
from ..models.documents import KINDS
from ..policy import AccessScope
from ..timeutil import utcnow
from . import ServiceError, audit
from .counts import Count, count_capped
from .lifecycle import document_state, has_version_in_force, in_force_document_ids


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


CLAUSE_PAGE_FIRST = 10  # documents shown per kind; the rest is one click away in the filtered register
KIND_COUNT_CAP = 100  # per-kind counts stop here ("100+"); the total goes to counts.COUNT_CAP


@dataclass
class KindGroup:
    """The documents of one kind mapped to a clause: how many, and the most recently registered few."""

    kind: str
    count: Count
    documents: list[Document]


def clause_page_extras(clause: Clause, scope: AccessScope, day: date, listed: Sequence[ColumnElement[bool]] = (),
                       evidence: ColumnElement[bool] | None = None) -> dict[str, Any]:
    """Per kind, the documents mapped to the clause that the scope sees and that meet `listed` (counted up to a cap,
    the newest few listed), which of those are in force on the day, and whether any mapped document meeting
    `evidence` is (`listed`: placed under a site, the register's filter; `evidence`: what counts for the site, the
    gap view's).

    Every query walks the clause's mapping index and probes each document by its key, stopping at a cap or a page:
    the page costs the same whether the clause holds a hundred documents or thirty thousand."""
    dc = document_clauses

    def mapped(*conditions: ColumnElement[bool], filtered: bool = True) -> Select[Any]:
        where = [*listed] if filtered else []
        sees = exists().where(Document.id == dc.c.document_id, scope.document_condition(), *where, *conditions)
        return select(dc.c.document_id).where(dc.c.clause_id == clause.id, sees)

    total = count_capped(mapped())
    groups = []
    for kind in KINDS if total else ():
        of_kind = mapped(Document.kind == kind)
        count = count_capped(of_kind, KIND_COUNT_CAP)
        if count:
            newest = of_kind.order_by(dc.c.document_id.desc()).limit(CLAUSE_PAGE_FIRST)
            shown = db.session.scalars(select(Document).where(Document.id.in_(newest)).order_by(Document.code)
                                       .options(selectinload(Document.versions)))
            groups.append(KindGroup(kind, count, list(shown)))
    shown_ids = [d.id for g in groups for d in g.documents]  # at most CLAUSE_PAGE_FIRST per kind
    in_force_ids = set(db.session.scalars(in_force_document_ids(day).where(
        DocumentVersion.document_id.in_(shown_ids)))) if shown_ids else set()
    counts = [has_version_in_force(day)]
    if evidence is not None:  # the gap view's question, which a site's list does not answer
        any_in_force = bool(db.session.scalar(select(exists(mapped(*counts, evidence, filtered=False)))))
    else:
        any_in_force = bool(in_force_ids) or bool(db.session.scalar(select(exists(mapped(*counts)))))
    states = {d.id: document_state(d, day) for g in groups for d in g.documents}  # the badges every page shows
    return {"groups": groups, "total": total, "in_force_ids": in_force_ids, "any_in_force": any_in_force,
            "first": CLAUSE_PAGE_FIRST, "states": states}
