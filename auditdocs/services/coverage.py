"""Clause coverage: which clauses asking for documented information lack approved evidence."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import Select, select

from ..extensions import db
from ..models import Clause, Document, DocumentVersion, Standard, document_clauses
from ..models.documents import EVER_APPROVED
from ..timeutil import local_today


def in_force_document_ids() -> Select:
    """Documents with an approved version already effective today (a future-dated approval covers nothing yet)."""
    return select(DocumentVersion.document_id).join(Document, Document.id == DocumentVersion.document_id).where(
        Document.status == "active", DocumentVersion.status.in_(EVER_APPROVED),
        DocumentVersion.effective_date <= local_today())


def gaps_by_standard() -> dict[str, list[Clause]]:
    """Applicable clauses that ask for documents or records with no document in force mapped to them
    or to a sub-clause; clauses marked not applicable (or under one) are justified, not gaps."""
    clauses = db.session.scalars(
        select(Clause).join(Standard).order_by(Standard.sort_order, Clause.sort_key)
    ).all()
    covered_ids = set(db.session.scalars(select(document_clauses.c.clause_id).where(
        document_clauses.c.document_id.in_(in_force_document_ids()))))
    by_id = {c.id: c for c in clauses}
    covered: set[int] = set()
    for cid in covered_ids:  # a mapping to a sub-clause covers its parents too
        while cid is not None and cid not in covered:
            covered.add(cid)
            cid = by_id[cid].parent_id if cid in by_id else None

    def applicable(c: Clause) -> bool:
        while c is not None:
            if not c.applicable:
                return False
            c = by_id.get(c.parent_id) if c.parent_id else None
        return True

    result: dict[str, list[Clause]] = defaultdict(list)
    for c in clauses:
        if c.documented_information != "none" and c.id not in covered and applicable(c):
            result[c.standard.slug].append(c)
    return result
