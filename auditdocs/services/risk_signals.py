"""Bribery risks in the shared registries: high and critical residual risks per site as a site signal (sampling
ranks sites by it), and the assessments waiting for my approval as a task source.

Why a module of its own: services.site_signals and services.tasks are read by pages that must not know about risks;
`register()` (called by the app factory) plugs them in.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..extensions import db
from ..models import BriberyRisk
from ..models.risks import HIGH_RATINGS
from ..policy import AccessScope
from . import site_signals
from .counts import count_capped
from .risk_register import RiskEntry, approved_entry
from .tasks import Task, TaskBatch, register_task_source

DETAIL = "risks.detail"  # the page of a risk (web: risks blueprint)


def high_residual_by_site(site_ids: Collection[int]) -> dict[int, int]:
    """Per site, risks not retired whose approved state rates the residual risk high or critical."""
    rows = db.session.scalars(select(BriberyRisk).where(
        BriberyRisk.site_id.in_(list(site_ids)), BriberyRisk.status != "retired",
        BriberyRisk.approved_revision.is_not(None)))
    approved = [approved_entry(risk) for risk in rows]
    return dict(Counter(e.site_id for e in approved if _high(e) and e is not None and e.site_id is not None))


def _high(entry: RiskEntry | None) -> bool:
    return entry is not None and entry.residual_rating in HIGH_RATINGS


def approvals_owed(scope: AccessScope, _today: date, limit: int) -> TaskBatch:
    """Assessments pending approval that I may approve (not my own)."""
    stmt = (select(BriberyRisk).where(BriberyRisk.status == "pending_approval",
                                      BriberyRisk.assessed_by_id != scope.user_id)
            .order_by(BriberyRisk.assessed_on, BriberyRisk.number))
    rows = db.session.scalars(stmt.limit(limit)).all()
    return TaskBatch([Task("approve_risk", _l("Approve"), r.reference, r.title, DETAIL, {"risk_id": r.id},
                           since=r.created_at) for r in rows], count_capped(stmt))


def register() -> None:
    """Plug the site counter and the task source in (the app factory calls it; calling again changes nothing)."""
    site_signals.register_counter(site_signals.HIGH_RESIDUAL_RISKS, high_residual_by_site)
    register_task_source("risk_approvals", _l("Risk assessments to approve"), approvals_owed,
                         capability="approve_risks")
