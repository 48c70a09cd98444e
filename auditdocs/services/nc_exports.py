"""The nonconformity register and its corrective actions as export specs (services.exports).

Why here: the web export, `auditdocs export nonconformities|actions` and any later report must list the same
columns, filtered the way the register page filters (services.nc_queries), with labels in the reader's language.
The actions export lists the actions of the nonconformities the filters select; on the command line --status is
the action's own status (planned, in progress...), since that is what someone exporting actions asks for.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..labels import ACTION_STATUS_LABELS, NC_GRADE_LABELS, NC_SOURCE_LABELS, NC_STATUS_LABELS
from ..models import CorrectiveAction, Nonconformity, Process, Site, User
from ..models.records import ACTION_STATUSES
from ..policy import AccessScope
from . import exports
from .exports import Column, label
from .nc_queries import STATUS_CHOICES, NcFilters, filter_condition, filtered, visible_actions

YIELD_PER = 500  # rows fetched per round trip while streaming: bounded memory on a register of any size
RESULTS = ("effective", "not_effective")


class NcRow(NamedTuple):
    """A nonconformity and how many actions it has (counted in the same query)."""

    nc: Nonconformity
    actions: int


@dataclass(frozen=True)
class ActionFilters:
    """The register's filters on the actions' nonconformities, and optionally the action's own status."""

    nc: NcFilters = field(default_factory=NcFilters)
    status: str | None = None


def _lang() -> str:
    locale = get_locale()
    return str(locale.language) if locale else "es"


def _place(item: Site | Process | None) -> str:
    """"UT-CUSCO — Unidad Territorial Cusco": the code people search by and the name in the reader's language."""
    return f"{item.code} — {item.name(_lang())}" if item is not None else ""


def _name(user: User | None) -> str:
    return user.name if user is not None else ""


def _days_open(nc: Nonconformity, today: date) -> int:
    """Days from detection to closure, or to today while it is not closed."""
    return ((nc.closed_on or today) - nc.detected_on).days


def nc_columns(today: date) -> list[Column[NcRow]]:
    """The register's columns."""
    return [
        Column("reference", _l("Reference"), lambda r: r.nc.reference),
        Column("title", _l("Title"), lambda r: r.nc.title),
        Column("description", _l("Description"), lambda r: r.nc.description),
        Column("grade", _l("Grade"), lambda r: label(NC_GRADE_LABELS, r.nc.grade)),
        Column("status", _l("Status"), lambda r: label(NC_STATUS_LABELS, r.nc.status)),
        Column("source", _l("Source"), lambda r: label(NC_SOURCE_LABELS, r.nc.source)),
        Column("site", _l("Site"), lambda r: _place(r.nc.site)),
        Column("process", _l("Process"), lambda r: _place(r.nc.process)),
        Column("clauses", _l("Clauses"), lambda r: "; ".join(c.ref for c in r.nc.clauses)),
        Column("detected_on", _l("Detected on"), lambda r: r.nc.detected_on),
        Column("detected_by", _l("Detected by"), lambda r: r.nc.detected_by_label()),
        Column("root_cause", _l("Root cause"), lambda r: r.nc.root_cause),
        Column("closed_on", _l("Closed on"), lambda r: r.nc.closed_on),
        Column("days_open", _l("Days open"), lambda r: _days_open(r.nc, today)),
        Column("actions", _l("Actions"), lambda r: r.actions),
    ]


def action_columns(today: date) -> list[Column[CorrectiveAction]]:
    """The actions' columns: one row per action, its nonconformity named by reference."""
    return [
        Column("nc_reference", _l("Nonconformity"), lambda a: a.nonconformity.reference),
        Column("number", _l("Action number"), lambda a: a.number),
        Column("description", _l("Description"), lambda a: a.description),
        Column("owner", _l("Owner"), lambda a: _name(a.owner)),
        Column("due_date", _l("Due"), lambda a: a.due_date),
        Column("status", _l("Status"), lambda a: label(ACTION_STATUS_LABELS, a.status)),
        Column("overdue", _l("Overdue"), lambda a: a.overdue(today)),
        Column("implemented_on", _l("Implemented on"), lambda a: a.implemented_on),
        Column("check_due", _l("Check due"), lambda a: a.check_due),
        Column("checked_by", _l("Checked by"), lambda a: _name(a.checked_by)),
        Column("checked_on", _l("Checked on"), lambda a: a.checked_on),
        Column("result", _l("Result"), lambda a: label(ACTION_STATUS_LABELS, a.status) if a.status in RESULTS
               else ""),
        Column("check_evidence", _l("Check evidence"), lambda a: a.check_evidence),
    ]


def nc_statement(scope: AccessScope, filters: NcFilters, today: date) -> Select[Any]:
    """The filtered register with each row's action count, its links loaded in batches."""
    count = (select(func.count(CorrectiveAction.id)).where(CorrectiveAction.nonconformity_id == Nonconformity.id)
             .correlate(Nonconformity).scalar_subquery())
    return (filtered(scope, filters, today).add_columns(count)
            .options(selectinload(Nonconformity.site), selectinload(Nonconformity.process),
                     selectinload(Nonconformity.detected_by), selectinload(Nonconformity.clauses)))


def nc_rows(scope: AccessScope, filters: NcFilters, today: date) -> Iterator[NcRow]:
    """The register's rows, streamed."""
    for nc, actions in db.session.execute(nc_statement(scope, filters, today).execution_options(yield_per=YIELD_PER)):
        yield NcRow(nc, actions)


def nc_count(scope: AccessScope, filters: NcFilters, today: date) -> int:
    return int(db.session.scalar(select(func.count(Nonconformity.id)).where(
        scope.nonconformity_condition(), filter_condition(filters, today))) or 0)


def action_statement(scope: AccessScope, filters: ActionFilters, today: date) -> Select[CorrectiveAction]:
    """Actions of the filtered nonconformities, newest nonconformity first, then by number."""
    stmt = visible_actions(scope).where(filter_condition(filters.nc, today))
    if filters.status:
        stmt = stmt.where(CorrectiveAction.status == (filters.status if filters.status in ACTION_STATUSES else "-"))
    return (stmt.order_by(Nonconformity.detected_on.desc(), Nonconformity.id.desc(), CorrectiveAction.number)
            .options(selectinload(CorrectiveAction.owner), selectinload(CorrectiveAction.checked_by)))


def action_rows(scope: AccessScope, filters: ActionFilters, today: date) -> Iterator[CorrectiveAction]:
    """The actions' rows, streamed."""
    yield from db.session.scalars(action_statement(scope, filters, today).execution_options(yield_per=YIELD_PER))


def action_count(scope: AccessScope, filters: ActionFilters, today: date) -> int:
    stmt = (select(func.count(CorrectiveAction.id))
            .join(Nonconformity, Nonconformity.id == CorrectiveAction.nonconformity_id)
            .where(scope.nonconformity_condition(), filter_condition(filters.nc, today)))
    if filters.status:
        stmt = stmt.where(CorrectiveAction.status == filters.status)
    return int(db.session.scalar(stmt) or 0)


NONCONFORMITIES: exports.Register[NcRow] = exports.Register(
    kind="nonconformities", title=_l("Nonconformities"), columns=nc_columns, rows=nc_rows, count=nc_count,
    cli_filters=lambda status, site_id: NcFilters(status=status, site_id=site_id),
    statuses=STATUS_CHOICES, status_help="the nonconformity's status: " + ", ".join(STATUS_CHOICES))
ACTIONS: exports.Register[CorrectiveAction] = exports.Register(
    kind="actions", title=_l("Corrective actions"), columns=action_columns, rows=action_rows, count=action_count,
    cli_filters=lambda status, site_id: ActionFilters(NcFilters(site_id=site_id), status),
    statuses=ACTION_STATUSES, status_help="the action's own status: " + ", ".join(ACTION_STATUSES))


def register() -> None:
    """Make both exportable by `auditdocs export` (called by the app factory; idempotent)."""
    exports.register(NONCONFORMITIES)
    exports.register(ACTIONS)
