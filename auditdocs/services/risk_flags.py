"""Review-cycle flags of the bribery-risk register for the dashboard: risks past their review date, risks whose
linked controls were withdrawn, risks whose treatment actions are overdue.

Why flags on current rows: they ask for work now (reassess, replace a control, chase an action), so they read the
register as it stands, retired risks excepted; each flag names the risk and what raised it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, select

from ..extensions import db
from ..models import BriberyRisk, CorrectiveAction, Document, risk_controls, risk_treatments
from ..policy import AccessScope
from .nc_queries import overdue_action_condition

FLAG_KINDS = ("review_overdue", "control_withdrawn", "treatment_overdue")


@dataclass(frozen=True)
class ReviewFlag:
    """One reason to look at a risk again."""

    kind: str  # one of FLAG_KINDS
    risk_id: int
    reference: str
    title: str
    since: date | None  # the missed review date, or the overdue action's due date
    detail: str = ""  # the withdrawn document's code, or the overdue action's code ("NC-2026-0001 / A2")
    object_id: int | None = None  # that document's or action's id


def _live(scope: AccessScope) -> list[ColumnElement[bool]]:
    return [BriberyRisk.status != "retired", scope.risk_condition()]


def flags(scope: AccessScope, today: date) -> list[ReviewFlag]:
    """Every flag of the risks this scope sees, by kind then reference."""
    if not scope.can("see_risks"):
        return []
    out = [ReviewFlag("review_overdue", r.id, r.reference, r.title, r.next_review)
           for r in db.session.scalars(select(BriberyRisk).where(
               *_live(scope), BriberyRisk.next_review.is_not(None), BriberyRisk.next_review < today)
               .order_by(BriberyRisk.number))]
    withdrawn = db.session.execute(
        select(BriberyRisk, Document).join(risk_controls, risk_controls.c.risk_id == BriberyRisk.id)
        .join(Document, Document.id == risk_controls.c.document_id)
        .where(*_live(scope), Document.status == "obsolete", scope.document_condition())
        .order_by(BriberyRisk.number, Document.code))
    out += [ReviewFlag("control_withdrawn", r.id, r.reference, r.title, None, d.code, d.id) for r, d in withdrawn]
    overdue = db.session.execute(
        select(BriberyRisk, CorrectiveAction).join(risk_treatments, risk_treatments.c.risk_id == BriberyRisk.id)
        .join(CorrectiveAction, CorrectiveAction.id == risk_treatments.c.action_id)
        .where(*_live(scope), overdue_action_condition(today))
        .order_by(BriberyRisk.number, CorrectiveAction.due_date))
    out += [ReviewFlag("treatment_overdue", r.id, r.reference, r.title, a.due_date, a.code, a.id) for r, a in overdue]
    return out


def counts(scope: AccessScope, today: date) -> dict[str, int]:
    """How many flags of each kind (every kind present, zero when none)."""
    found = Counter(f.kind for f in flags(scope, today))
    return {kind: found.get(kind, 0) for kind in FLAG_KINDS}


def flagged_risk_ids(scope: AccessScope, today: date) -> set[int]:
    """The risks with at least one flag."""
    return {f.risk_id for f in flags(scope, today)}
