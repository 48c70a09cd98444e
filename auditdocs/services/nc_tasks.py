"""Nonconformities in the shared registries: "my actions" and "effectiveness checks I owe" as task sources, and the
count of open major nonconformities per site as a site signal (sampling ranks sites by it).

Why a module of its own: services.tasks and services.site_signals are read by pages that must not know about
records; `register()` (called by the app factory) plugs them in.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ..extensions import db
from ..models import CorrectiveAction, Nonconformity
from ..policy import AccessScope
from . import site_signals
from .counts import count_capped
from .nc_queries import checks_owed_query, my_actions_query, open_condition
from .tasks import Task, TaskBatch, register_task_source

DETAIL = "nonconformities.detail"  # the page of a nonconformity, with its actions (web: nonconformities blueprint)


def _task(kind: str, action_label: object, item: CorrectiveAction, due: date | None) -> Task:
    nc = item.nonconformity
    return Task(kind, action_label, item.code, nc.title, DETAIL, {"nc_id": nc.id, "_anchor": f"action-{item.id}"},
                due=due, since=item.created_at)


def my_actions(scope: AccessScope, _today: date, limit: int) -> TaskBatch:
    """Actions I own that still need my work, by due date."""
    stmt = my_actions_query(scope)
    rows = db.session.scalars(stmt.limit(limit)).all()
    return TaskBatch([_task("action", _l("Carry out"), a, a.due_date) for a in rows], count_capped(stmt))


def checks_owed(scope: AccessScope, _today: date, limit: int) -> TaskBatch:
    """Implemented actions whose effectiveness check I owe (named checker, or any checker but the owner)."""
    stmt = checks_owed_query(scope)
    rows = db.session.scalars(stmt.limit(limit)).all()
    return TaskBatch([_task("effectiveness", _l("Check effectiveness"), a, a.check_due) for a in rows],
                     count_capped(stmt))


def open_major_by_site(site_ids: Collection[int]) -> dict[int, int]:
    """Open major nonconformities recorded at each site (at the site itself, not its offices)."""
    stmt = (select(Nonconformity.site_id, func.count()).where(
        Nonconformity.site_id.in_(list(site_ids)), Nonconformity.grade == "major", open_condition())
        .group_by(Nonconformity.site_id))
    return {site_id: n for site_id, n in db.session.execute(stmt).all() if site_id is not None}


def register() -> None:
    """Plug the task sources and the site counter in (the app factory calls it; calling again changes nothing)."""
    register_task_source("nc_actions", _l("My corrective actions"), my_actions, capability="record_nonconformities")
    register_task_source("nc_checks", _l("Effectiveness checks I owe"), checks_owed,
                         capability="check_effectiveness")
    site_signals.register_counter(site_signals.OPEN_MAJOR_NONCONFORMITIES, open_major_by_site)
