"""Which nonconformities and actions a person sees, filtered and counted in the database.

Why one module: the register, its exports, the dashboard, the tasks and the site signals must agree on what "open",
"overdue" and "due soon" mean, and on what each person may see (policy.nonconformity_condition).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Integer, Select, and_, exists, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import contains_eager
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from ..models import CorrectiveAction, Nonconformity, nonconformity_clauses
from ..models.records import LIVE_ACTION, NC_GRADES, NC_SOURCES, NC_STATUSES
from ..policy import AccessScope
from ..textnorm import fold
from . import placement

DUE_SOON = timedelta(days=14)  # the dashboard's "due in the next 14 days"
OPEN_STATUSES = ("open", "in_progress")
NOT_DONE = ("planned", "in_progress")  # an action whose owner still owes the work (its due date counts)
STATUS_CHOICES = (*NC_STATUSES, "not_closed")


@dataclass(frozen=True)
class NcFilters:
    """The register's filters; None or empty means "any". Unknown codes match nothing (a forged query)."""

    status: str | None = None  # open | in_progress | closed | not_closed
    grade: str | None = None
    site_id: int | None = None  # the site and every site under it
    process_id: int | None = None
    clause_id: int | None = None
    source: str | None = None
    text: str | None = None  # reference or title, accents and case folded
    overdue: bool = False  # has an action past its due date and not implemented


def open_condition() -> ColumnElement[bool]:
    """Not closed."""
    return Nonconformity.status.in_(OPEN_STATUSES)


def overdue_action_condition(today: date) -> ColumnElement[bool]:
    """On CorrectiveAction: past its due date and still not implemented."""
    return and_(CorrectiveAction.status.in_(NOT_DONE), CorrectiveAction.due_date < today)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def filter_condition(filters: NcFilters, today: date) -> ColumnElement[bool]:
    """The filters as one SQL condition on Nonconformity."""
    parts: list[ColumnElement[bool]] = []
    if filters.status:
        parts.append(open_condition() if filters.status == "not_closed" else Nonconformity.status == (
            filters.status if filters.status in STATUS_CHOICES else "-"))
    if filters.grade:
        parts.append(Nonconformity.grade == (filters.grade if filters.grade in NC_GRADES else "-"))
    if filters.source:
        parts.append(Nonconformity.source == (filters.source if filters.source in NC_SOURCES else "-"))
    if filters.site_id is not None:
        parts.append(Nonconformity.site_id.in_(placement.subtree_ids(filters.site_id)))
    if filters.process_id is not None:
        parts.append(Nonconformity.process_id == filters.process_id)
    if filters.clause_id is not None:
        parts.append(exists().where(nonconformity_clauses.c.nonconformity_id == Nonconformity.id,
                                    nonconformity_clauses.c.clause_id == filters.clause_id))
    text = fold(filters.text or "")
    if text:
        parts.append(Nonconformity.search_key.like(f"%{_escape_like(text)}%", escape="\\"))
    if filters.overdue:
        parts.append(exists().where(CorrectiveAction.nonconformity_id == Nonconformity.id,
                                    overdue_action_condition(today)))
    return and_(*parts) if parts else and_(Nonconformity.id.is_not(None))


def visible_nonconformities(scope: AccessScope) -> Select[Nonconformity]:
    """Every nonconformity this scope sees (no order: the caller sorts)."""
    return select(Nonconformity).where(scope.nonconformity_condition())


def filtered(scope: AccessScope, filters: NcFilters, today: date) -> Select[Nonconformity]:
    """The register: visible nonconformities matching the filters, newest first (id breaks ties)."""
    return (visible_nonconformities(scope).where(filter_condition(filters, today))
            .order_by(Nonconformity.detected_on.desc(), Nonconformity.id.desc()))


def open_nonconformities_query(scope: AccessScope) -> Select[Nonconformity]:
    """Visible nonconformities not closed yet."""
    return visible_nonconformities(scope).where(open_condition())


def visible_actions(scope: AccessScope) -> Select[CorrectiveAction]:
    """Actions of the nonconformities this scope sees."""
    return (select(CorrectiveAction).join(Nonconformity, Nonconformity.id == CorrectiveAction.nonconformity_id)
            .where(scope.nonconformity_condition()).options(contains_eager(CorrectiveAction.nonconformity)))


def actions_overdue(scope: AccessScope, today: date) -> Select[CorrectiveAction]:
    """Visible actions past their due date and not implemented, most overdue first."""
    return (visible_actions(scope).where(overdue_action_condition(today))
            .order_by(CorrectiveAction.due_date, CorrectiveAction.id))


def actions_due(scope: AccessScope, today: date, within: timedelta = DUE_SOON) -> Select[CorrectiveAction]:
    """Visible actions not implemented yet that fall due from today to `within` days ahead, soonest first."""
    return (visible_actions(scope).where(CorrectiveAction.status.in_(NOT_DONE),
                                         CorrectiveAction.due_date >= today,
                                         CorrectiveAction.due_date <= today + within)
            .order_by(CorrectiveAction.due_date, CorrectiveAction.id))


def my_actions_query(scope: AccessScope) -> Select[CorrectiveAction]:
    """Actions this person owns that still need their work (planned, in progress), soonest due first."""
    return (visible_actions(scope).where(CorrectiveAction.owner_id == scope.user_id,
                                         CorrectiveAction.status.in_(NOT_DONE))
            .order_by(CorrectiveAction.due_date, CorrectiveAction.id))


def checks_owed_condition(scope: AccessScope) -> ColumnElement[bool]:
    """On CorrectiveAction: implemented, and this person owes the check — they are the named checker, or none is
    named and they may check effectiveness and do not own the action."""
    if scope.user_id is None or not scope.can("check_effectiveness"):
        return and_(CorrectiveAction.id.is_(None))
    mine: Any = CorrectiveAction.checker_id == scope.user_id
    anyone = and_(CorrectiveAction.checker_id.is_(None), CorrectiveAction.owner_id != scope.user_id)
    return and_(CorrectiveAction.status == "implemented", mine | anyone)


def checks_owed_query(scope: AccessScope) -> Select[CorrectiveAction]:
    """Effectiveness checks this person owes, scheduled ones first by date."""
    return (visible_actions(scope).where(checks_owed_condition(scope))
            .order_by(CorrectiveAction.check_due.is_(None), CorrectiveAction.check_due, CorrectiveAction.id))


def live_action_condition() -> ColumnElement[bool]:
    """On CorrectiveAction: not final."""
    return CorrectiveAction.status.in_(LIVE_ACTION)


class DaysBetween(FunctionElement[int]):
    """Whole days from one date column to another, in SQL (dashboard: days from detection to closure)."""

    type = Integer()
    inherit_cache = True


@compiles(DaysBetween)
def _days_generic(element: DaysBetween, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = list(element.clauses)
    return f"({compiler.process(end, **kw)} - {compiler.process(start, **kw)})"  # PostgreSQL: date - date = int


@compiles(DaysBetween, "sqlite")
def _days_sqlite(element: DaysBetween, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = list(element.clauses)
    return (f"CAST(julianday({compiler.process(end, **kw)}) - julianday({compiler.process(start, **kw)}) "
            "AS INTEGER)")


def days_to_close() -> DaysBetween:
    """On Nonconformity: days from detected_on to closed_on (NULL while open), the same on SQLite and PostgreSQL."""
    return DaysBetween(Nonconformity.detected_on, Nonconformity.closed_on)
