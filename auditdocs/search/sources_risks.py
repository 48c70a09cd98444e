"""Bribery risks, due-diligence files and gift entries as search documents (issue 12's registers).

Why a risk indexes its approved revision: an auditor reads a risk's approved state only, and one key per risk
must serve everyone. A risk whose latest revision is approved is indexed as it stands; one reassessed since its
approval is indexed as last approved (staff find the pending reassessment on the risk page); one never approved
is indexed as it stands with approved=False, so approved-only readers never find it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import select

from ..extensions import db
from ..models import BriberyRisk, DueDiligence, Gift, RecordRevision
from ..services import revisions
from .lang import guess_lang
from .sources_common import Lookups, clause_terms, day_of, joined
from .types import SearchDoc

MODELS: dict[str, Any] = {"bribery_risk": BriberyRisk, "due_diligence": DueDiligence, "gift": Gift}


def _approved_snapshots(rows: Sequence[BriberyRisk]) -> dict[int, dict[str, Any]]:
    """The approved revision's fields of each risk reassessed since its approval, in one query."""
    behind = {r.id: r.approved_revision for r in rows
              if r.approved_revision is not None and r.approved_revision != r.revision}
    if not behind:
        return {}
    found = db.session.scalars(select(RecordRevision).where(
        RecordRevision.entity_type == BriberyRisk.__entity_type__, RecordRevision.entity_id.in_(behind),
        RecordRevision.number.in_(set(behind.values()))))
    return {rev.entity_id: revisions.fields_of(rev) for rev in found if behind.get(rev.entity_id) == rev.number}


def risk_docs(ids: Sequence[int], look: Lookups) -> list[SearchDoc]:
    """Risks as an auditor may read them (see the module docstring)."""
    rows = db.session.scalars(select(BriberyRisk).where(BriberyRisk.id.in_(ids))).all()
    approved_state = _approved_snapshots(rows)
    states = {r.id: approved_state.get(r.id) or revisions.snapshot(r) for r in rows}
    look.want_users(s.get("owner_id") for s in states.values())
    out = []
    for risk in rows:
        s = states[risk.id]
        body = joined(s.get("scenario"), s.get("activity"), s.get("associate_detail"), s.get("controls_description"),
                      s.get("treatment"), s.get("retire_reason"), s.get("associate_category"),
                      s.get("inherent_rating"), s.get("residual_rating"))
        day = day_of(s.get("approved_on")) or day_of(s.get("assessed_on")) or day_of(risk.created_at)
        out.append(SearchDoc(
            key=f"bribery_risk:{risk.id}", kind="bribery_risk", object_id=risk.id,
            title=f"{s.get('reference') or risk.reference} {s.get('title') or ''}".strip(), body=body,
            lang=guess_lang(joined(s.get("title"), body)), codes=(risk.reference,),
            clauses=("4.5", "iso37001_2016:4.5"), standards=("iso37001_2016",), site=look.site(s.get("site_id")),
            process=look.process(s.get("process_id")), status=str(s.get("status") or risk.status),
            owner=look.user(s.get("owner_id")), year=day.year if day else None, day=day,
            approved=risk.approved_revision is not None, text_state="none"))
    return out


def due_diligence_docs(ids: Sequence[int], look: Lookups) -> list[SearchDoc]:
    """Due-diligence files: the subject, the checks, the result and the decision."""
    rows = db.session.scalars(select(DueDiligence).where(DueDiligence.id.in_(ids))).all()
    look.want_users(f.reviewer_id for f in rows)
    out = []
    for f in rows:
        clauses, standards = clause_terms(look.clauses(f.clause_ids))
        body = joined(f.subject_name, f.position, f.checks_performed, f.result, f.decision, f.conditions, f.category,
                      f.risk_level)
        day: date | None = f.decided_on or day_of(f.created_at)
        out.append(SearchDoc(
            key=f"due_diligence:{f.id}", kind="due_diligence", object_id=f.id, title=f"{f.reference} {f.subject_name}",
            body=body, lang=guess_lang(body), codes=(f.reference,), clauses=clauses, standards=standards,
            site=look.site(f.site_id), process=look.process(f.process_id), status=f.status,
            owner=look.user(f.reviewer_id), year=f.year, day=day, text_state="none"))
    return out


def gift_docs(ids: Sequence[int], look: Lookups) -> list[SearchDoc]:
    """Gift, hospitality and donation entries: the parties, what it was, why, and the decision."""
    rows = db.session.scalars(select(Gift).where(Gift.id.in_(ids))).all()
    out = []
    for g in rows:
        clauses, standards = clause_terms(look.clauses(g.clause_ids))
        body = joined(g.description, g.purpose, g.internal_party, g.counterparty, f"{g.value} {g.currency}", g.kind,
                      g.direction, g.decision, g.decision_note, g.approval_note)
        out.append(SearchDoc(
            key=f"gift:{g.id}", kind="gift", object_id=g.id, title=f"{g.reference} {g.counterparty}", body=body,
            lang=guess_lang(body), codes=(g.reference,), clauses=clauses, standards=standards,
            site=look.site(g.site_id), status=g.status, owner=g.internal_party, year=g.year, day=g.occurred_on,
            text_state="none"))
    return out


def owners(wanted: dict[str, set[int]]) -> dict[tuple[str, int], tuple[str, bool, str | None, str | None]]:
    """Reference and auditor visibility of the risks, files and gifts that attachments belong to."""
    found: dict[tuple[str, int], tuple[str, bool, str | None, str | None]] = {}
    if ids := wanted.get("bribery_risk"):
        for risk in db.session.scalars(select(BriberyRisk).where(BriberyRisk.id.in_(ids))):
            found[("bribery_risk", risk.id)] = (risk.reference, risk.approved_revision is not None, None, None)
    for kind in ("due_diligence", "gift"):
        if ids := wanted.get(kind):
            model = MODELS[kind]
            for row in db.session.scalars(select(model).where(model.id.in_(ids))):
                found[(kind, row.id)] = (row.reference, True, None, None)
    return found
