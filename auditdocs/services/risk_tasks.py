"""Bribery risks in the shared task registry: the risks I own whose next review day has passed.

Why a module of its own: services.tasks is read by pages that must not know about risks; `register()` (called by
the app factory) plugs the source in beside the core's "risk_approvals".
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select

from ..extensions import db
from ..models import BriberyRisk
from ..policy import AccessScope
from .counts import count_capped
from .risk_signals import DETAIL
from .tasks import Task, TaskBatch, register_task_source


def reviews_past(scope: AccessScope, today: date) -> Select[Any]:
    """Risks this person owns, not retired, that they see, whose next review came before today; oldest first."""
    return (select(BriberyRisk).where(scope.risk_condition(), BriberyRisk.owner_id == scope.user_id,
                                      BriberyRisk.status != "retired", BriberyRisk.next_review < today)
            .order_by(BriberyRisk.next_review, BriberyRisk.number))


def my_reviews(scope: AccessScope, today: date, limit: int) -> TaskBatch:
    """The reassessments I owe: one task per risk, due on its review day."""
    stmt = reviews_past(scope, today)
    rows = db.session.scalars(stmt.limit(limit)).all()
    return TaskBatch([Task("review_risk", _l("Reassess"), r.reference, r.title, DETAIL, {"risk_id": r.id},
                           due=r.next_review) for r in rows], count_capped(stmt))


def register() -> None:
    """Plug the source in (the app factory calls it; calling again changes nothing)."""
    register_task_source("risk_reviews", _l("Risks I own past their review date"), my_reviews,
                         capability="assess_risks")
