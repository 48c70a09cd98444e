"""Due diligence and gifts in the shared task registry: entries waiting for my approval, and due-diligence files
whose next review has passed.

Why a module of its own: services.tasks is read by pages that must not know about these registers; `register()`
(called by the app factory) plugs them in.
"""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..policy import AccessScope
from . import due_diligence, gifts
from .counts import count_capped
from .tasks import Task, TaskBatch, register_task_source

GIFT_PAGE = "risks.gift_detail"  # web: the risks blueprint
DD_PAGE = "risks.dd_detail"


def gift_approvals(scope: AccessScope, _today: date, limit: int) -> TaskBatch:
    """Entries waiting for approval that this person may approve (never their own)."""
    stmt = gifts.waiting_for(scope)
    rows = db.session.scalars(stmt.limit(limit)).all()
    tasks = [Task("approve", _l("Approve"), g.reference, f"{g.counterparty} · {g.value:.2f} {g.currency}", GIFT_PAGE,
                  {"gift_id": g.id}, since=g.created_at) for g in rows]
    return TaskBatch(tasks, count_capped(stmt))


def dd_reviews(scope: AccessScope, today: date, limit: int) -> TaskBatch:
    """Due-diligence files whose next review day has passed."""
    stmt = due_diligence.reviews_past(scope, today)
    rows = db.session.scalars(stmt.limit(limit)).all()
    tasks = [Task("review", _l("Review"), r.reference, r.subject_name, DD_PAGE, {"dd_id": r.id}, due=r.next_review)
             for r in rows]
    return TaskBatch(tasks, count_capped(stmt))


def register() -> None:
    """Plug the task sources in (the app factory calls it; calling again changes nothing)."""
    register_task_source("gift_approvals", _l("Gifts and hospitality waiting for my approval"), gift_approvals,
                         capability="approve_gifts")
    register_task_source("dd_reviews", _l("Due-diligence reviews past their date"), dd_reviews,
                         capability="record_due_diligence")
