"""Figures for the dashboard: what needs attention before the next audit."""

from __future__ import annotations

from typing import Any

from flask import request
from sqlalchemy import func, select

from ..extensions import db
from ..models import Clause, Document, DocumentVersion, Standard
from ..policy import current_scope
from ..services import nc_stats, security
from ..services.certificates import expiry_warnings
from ..services.counts import Count, count_capped
from ..services.coverage import gaps_by_standard
from ..services.tasks import can_have_tasks, my_tasks
from ..timeutil import local_today
from .placing import placement_filter
from .risks.flags import flag_rows

LISTED = 20  # rows per dashboard list; counts go up to services.counts.COUNT_CAP
TASKS_LISTED = 5  # the most urgent of my tasks; the rest on /tasks


def dashboard_context() -> dict[str, Any]:
    """Per standard: clauses, documented-information asks, not applicable, gaps; overdue reviews; drafts."""
    rows = db.session.execute(
        select(
            Standard.code, Standard.slug, func.count(Clause.id),
            func.sum(func.cast(Clause.documented_information != "none", db.Integer)),
            func.sum(func.cast(Clause.applicable.is_(False), db.Integer)),
        )
        .join(Clause, Clause.standard_id == Standard.id)
        .group_by(Standard.id, Standard.code, Standard.slug, Standard.sort_order)
        .order_by(Standard.sort_order)
    ).all()
    today = local_today()
    gap_filter = placement_filter(request.args)  # the gap view for one site and/or process
    gaps = gaps_by_standard(today, gap_filter.evidence())
    standards = [
        {"code": code, "slug": slug, "clauses": n, "documented": documented or 0, "not_applicable": na or 0,
         "gaps": len(gaps.get(slug, [])), "gap_clauses": gaps.get(slug, [])}
        for code, slug, n, documented, na in rows
    ]
    scope = current_scope()
    overdue_q = scope.visible_documents().where(Document.status == "active", Document.next_review_date < today)
    overdue = db.session.scalars(overdue_q.order_by(Document.next_review_date, Document.id).limit(LISTED)).all()
    overdue_count = count_capped(overdue_q)
    pending: list[Any] | None = None
    pending_count = Count(0, False)
    if scope.can("approve_documents"):
        pending_q = (select(DocumentVersion, Document).join(Document, Document.id == DocumentVersion.document_id)
                     .where(DocumentVersion.status == "draft", scope.document_condition()))
        rows = db.session.execute(pending_q.order_by(DocumentVersion.uploaded_at, DocumentVersion.id)
                                  .limit(LISTED)).all()
        pending = [(v, d, v.uploaded_by_id == scope.user_id) for v, d in rows]  # their own: someone else approves
        pending_count = count_capped(pending_q)
    tasks = my_tasks(scope, today, TASKS_LISTED) if can_have_tasks(scope) else None
    probes = security.refusal_bursts() if scope.can("view_audit_log") else None
    nc_panel = nc_stats.panel(scope, today) if scope.can("record_nonconformities") else None
    risk_flags = flag_rows(scope, today) if scope.can("assess_risks") else None
    return {"standards": standards, "overdue": overdue, "overdue_count": overdue_count, "pending": pending,
            "pending_count": pending_count, "today": today, "probes": probes,
            "expiring": expiry_warnings(today), "gap_filter": gap_filter,
            "tasks": tasks, "nc_panel": nc_panel, "risk_flags": risk_flags, "risk_flags_listed": TASKS_LISTED}
