"""The nonconformities open in a pack's period and their corrective actions, as the tables a clause prints.

Why "open in the period": an auditor of a period asks what was found and still being dealt with during it — a
nonconformity detected on or before its last day and not closed before its first day — and what was done about it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, and_, or_, select

from ..extensions import db
from ..labels import ACTION_STATUS_LABELS, NC_GRADE_LABELS, NC_STATUS_LABELS
from ..models import CorrectiveAction, Nonconformity, nonconformity_clauses
from ..policy import AccessScope
from ..services.exports import label
from .content import Block, TableBlock
from .places import Places
from .records_common import Names, Part, Row, day, process_condition, site_condition, words
from .spec import PackSpec

NC_COLUMNS = (_l("Reference"), _l("Title"), _l("Grade"), _l("Site"), _l("Detected on"), _l("Status"),
              _l("Closed on"))
ACTION_COLUMNS = (_l("Nonconformity"), _l("Action"), _l("Owner"), _l("Status"), _l("Due"), _l("Implemented on"),
                  _l("Effectiveness"))
RESULTS = ("effective", "not_effective")


@dataclass
class NcRecords:
    """The period's nonconformities in print order, their actions, and which of the pack's clauses each names."""

    ncs: list[Nonconformity] = field(default_factory=list)
    actions: dict[int, list[CorrectiveAction]] = field(default_factory=dict)
    by_clause: dict[int, list[Nonconformity]] = field(default_factory=dict)
    nc_rows: dict[int, Row] = field(default_factory=dict)  # by nonconformity id, filled by render()
    action_rows: dict[int, list[Row]] = field(default_factory=dict)


def period_condition(spec: PackSpec) -> ColumnElement[bool]:
    """Detected by the period's last day and not closed before its first."""
    return and_(Nonconformity.detected_on <= spec.date_to,
                or_(Nonconformity.closed_on.is_(None), Nonconformity.closed_on >= spec.date_from))


def load(spec: PackSpec, scope: AccessScope, places: Places, clause_ids: Collection[int]) -> NcRecords:
    """Three queries whatever the number of records: the nonconformities, their actions, their clause links."""
    if not scope.can("see_nonconformities"):
        return NcRecords()
    condition = and_(scope.nonconformity_condition(), period_condition(spec),
                     site_condition(Nonconformity.site_id, places), process_condition(Nonconformity.process_id, places))
    chosen = select(Nonconformity.id).where(condition)
    ncs = list(db.session.scalars(select(Nonconformity).where(condition)
                                  .order_by(Nonconformity.reference, Nonconformity.id)))
    if not ncs:
        return NcRecords()
    by_id = {nc.id: nc for nc in ncs}
    actions: dict[int, list[CorrectiveAction]] = defaultdict(list)
    for action in db.session.scalars(select(CorrectiveAction).where(CorrectiveAction.nonconformity_id.in_(chosen))
                                     .order_by(CorrectiveAction.nonconformity_id, CorrectiveAction.number,
                                               CorrectiveAction.id)):
        actions[action.nonconformity_id].append(action)
    linked: dict[int, set[int]] = defaultdict(set)
    if clause_ids:
        link = nonconformity_clauses.c
        links = select(link.clause_id, link.nonconformity_id).where(link.clause_id.in_(sorted(clause_ids)),
                                                                    link.nonconformity_id.in_(chosen))
        for clause_id, nc_id in db.session.execute(links):
            linked[clause_id].add(nc_id)
    order = {nc.id: n for n, nc in enumerate(ncs)}
    by_clause = {clause_id: [by_id[i] for i in sorted(ids, key=order.__getitem__) if i in by_id]
                 for clause_id, ids in linked.items()}
    return NcRecords(ncs=ncs, actions=dict(actions), by_clause=by_clause)


def user_ids(records: NcRecords) -> set[int | None]:
    """The people the action tables name."""
    return {a.owner_id for found in records.actions.values() for a in found}


def _effectiveness(action: CorrectiveAction, statuses: dict[str, str]) -> str:
    """The check's result and day, or when it is due."""
    if action.status in RESULTS:
        return f"{label(statuses, action.status)} ({day(action.checked_on)})"
    if action.check_due is not None and action.status == "implemented":
        return str(_("Check due %(day)s", day=day(action.check_due)))
    return ""


def render(records: NcRecords, names: Names) -> None:
    """Every row once, however many clauses print it."""
    grades, statuses, action_statuses = words(NC_GRADE_LABELS), words(NC_STATUS_LABELS), words(ACTION_STATUS_LABELS)
    for nc in records.ncs:
        records.nc_rows[nc.id] = (nc.reference, nc.title, label(grades, nc.grade), names.site(nc.site_id),
                                  day(nc.detected_on), label(statuses, nc.status), day(nc.closed_on))
        records.action_rows[nc.id] = [
            (nc.reference, f"A{a.number}: {a.description}", names.user(a.owner_id), label(action_statuses, a.status),
             day(a.due_date), day(a.implemented_on), _effectiveness(a, action_statuses))
            for a in records.actions.get(nc.id, [])]


def blocks(ncs: list[Nonconformity], records: NcRecords, *, register: bool) -> Part:
    """The nonconformities' table and their actions' table (rendered), and how many rows they cite (no table when
    empty)."""
    if not ncs:
        return [], 0
    caption = (_("Nonconformity register: nonconformities open in the period") if register
               else _("Nonconformities linked to this clause, open in the period"))
    out: list[Block] = [TableBlock(caption, tuple(str(c) for c in NC_COLUMNS), [records.nc_rows[nc.id] for nc in ncs])]
    actions: list[Row] = [row for nc in ncs for row in records.action_rows[nc.id]]
    if actions:
        out.append(TableBlock(_("Their corrective actions"), tuple(str(c) for c in ACTION_COLUMNS), actions))
    return out, len(ncs) + len(actions)
