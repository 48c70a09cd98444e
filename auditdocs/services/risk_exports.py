"""The bribery-risk register as an export spec (services.exports): CSV and XLSX, one row per risk, every field.

Why here: the web download and `auditdocs export risks` list the same columns, filtered the way the register page
filters (exercise, site, process, category, residual rating, status, text), with labels in the reader's language
and ratings in the words of the matrix each risk was scored with. With an exercise, the rows are the register as it
stood at that exercise (risk_register.entries); auditors get the approved state of each risk, as on the pages.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..ddg_labels import ASSOCIATE_CATEGORY_LABELS
from ..extensions import db
from ..models import BriberyRisk, CorrectiveAction, Document, Process, RiskExercise, RiskMatrix, Site, User
from ..policy import AccessScope
from ..textnorm import fold
from . import exports, risk_matrix, risk_register
from .exports import Column, label
from .risk_register import RiskEntry

EFFECTIVENESS_LABELS = {
    "effective": _l("Effective"), "partially_effective": _l("Partially effective"),
    "ineffective": _l("Ineffective"), "not_assessed": _l("Not assessed"),
}
CLI_STATUSES = ("approved", "retired")  # the console reads approved states: nothing there is pending
RISK_STATUS_LABELS = {
    "pending_approval": _l("Pending approval"), "approved": _l("Assessment approved"), "retired": _l("Retired"),
}


@dataclass(frozen=True)
class RiskFilters:
    """The register page's filters: an exercise (None: now), site, process, category, residual rating, status,
    text in the reference or title. Status "retired" lists the retired risks (the register now leaves them out)."""

    exercise_id: int | None = None
    site_id: int | None = None
    process_id: int | None = None
    category: str | None = None
    rating: str | None = None
    status: str | None = None
    text: str | None = None


@dataclass(frozen=True)
class Names:
    """What the entries name, loaded once per export: places, people, exercises, matrices, documents, actions."""

    sites: dict[int, Site]
    processes: dict[int, Process]
    users: dict[int, User]
    exercises: dict[int, RiskExercise]
    matrices: dict[int, RiskMatrix]
    documents: dict[int, Document]
    actions: dict[int, CorrectiveAction]


@dataclass(frozen=True)
class RiskRow:
    """One exported risk and the names it needs."""

    entry: RiskEntry
    names: Names


def _lang() -> str:
    locale = get_locale()
    return str(locale.language) if locale else "es"


def _retired(scope: AccessScope) -> list[RiskEntry]:
    """Retired risks the scope sees: staff their row, auditors the approved state marked retired."""
    found = []
    for risk in db.session.scalars(select(BriberyRisk).where(scope.risk_condition(), BriberyRisk.status == "retired")
                                   .order_by(BriberyRisk.number)):
        entry = risk_register.approved_entry(risk) if scope.approved_only else RiskEntry.of_row(risk)
        if entry is not None:
            found.append(dataclasses.replace(entry, status="retired", retire_reason=risk.retire_reason))
    return found


def _keep(entry: RiskEntry, filters: RiskFilters) -> bool:
    """The page's own filters on top of the register's (unknown codes match nothing, never everything)."""
    if filters.category and entry.associate_category != filters.category:
        return False
    if filters.rating and entry.residual_rating != filters.rating:
        return False
    if filters.status and entry.status != filters.status:
        return False
    return not filters.text or fold(filters.text) in fold(f"{entry.reference} {entry.title}")


def entries(scope: AccessScope, filters: RiskFilters) -> list[RiskEntry]:
    """The filtered register, by reference."""
    if filters.status == "retired" and filters.exercise_id is None:
        found = [e for e in _retired(scope) if (filters.site_id is None or e.site_id == filters.site_id)
                 and (filters.process_id is None or e.process_id == filters.process_id)]
    else:
        found = risk_register.entries(scope, filters.exercise_id, filters.site_id, filters.process_id)
    return [e for e in found if _keep(e, filters)]


def _by_id(model: Any, ids: set[int], *where: Any) -> dict[int, Any]:
    if not ids:
        return {}
    return {row.id: row for row in db.session.scalars(select(model).where(model.id.in_(ids), *where))}


def names(scope: AccessScope, found: list[RiskEntry]) -> Names:
    """One query per kind; control documents the scope may not see stay unnamed."""
    base = risk_register.lookups(found)
    documents = {i for e in found for i in e.control_document_ids}
    actions = {i for e in found for i in e.treatment_action_ids}
    return Names(base.sites, base.processes, base.users,
                 _by_id(RiskExercise, {e.exercise_id for e in found}),
                 _by_id(RiskMatrix, {e.matrix_id for e in found}),
                 _by_id(Document, documents, scope.document_condition()),
                 _by_id(CorrectiveAction, actions))


def rows(scope: AccessScope, filters: RiskFilters, _today: date) -> Iterator[RiskRow]:
    found = entries(scope, filters)
    shared = names(scope, found)
    for entry in found:
        yield RiskRow(entry, shared)


def count(scope: AccessScope, filters: RiskFilters, _today: date) -> int:
    return len(entries(scope, filters))


def _place(item: Site | Process | None) -> str:
    return f"{item.code} — {item.name(_lang())}" if item is not None else ""


def _site(r: RiskRow) -> str:
    if r.entry.site_id is None:
        return str(_l("Whole organisation"))
    return _place(r.names.sites.get(r.entry.site_id))


def _user(r: RiskRow, user_id: int | None) -> str:
    user = r.names.users.get(user_id) if user_id is not None else None
    return user.name if user is not None else ""


def _rating(r: RiskRow, rating: str) -> str:
    matrix = r.names.matrices.get(r.entry.matrix_id)
    return risk_matrix.label(matrix, rating, _lang()) if matrix is not None else rating


def _exercise(r: RiskRow) -> str:
    exercise = r.names.exercises.get(r.entry.exercise_id)
    return f"{exercise.reference} — {exercise.name}" if exercise is not None else ""


def _controls(r: RiskRow) -> str:
    docs = (r.names.documents.get(i) for i in r.entry.control_document_ids)
    return "; ".join(f"{d.code} — {d.title}" for d in docs if d is not None)


def _actions(r: RiskRow) -> str:
    found = (r.names.actions.get(i) for i in r.entry.treatment_action_ids)
    return "; ".join(a.code for a in found if a is not None)


def _matrix(r: RiskRow) -> int | None:
    matrix = r.names.matrices.get(r.entry.matrix_id)
    return matrix.version if matrix is not None else None


def columns(today: date) -> list[Column[RiskRow]]:
    """Every field of a risk as the register holds it."""
    return [
        Column("reference", _l("Reference"), lambda r: r.entry.reference),
        Column("title", _l("Title"), lambda r: r.entry.title),
        Column("status", _l("Status"), lambda r: label(RISK_STATUS_LABELS, r.entry.status)),
        Column("exercise", _l("Assessment exercise"), _exercise),
        Column("site", _l("Site"), _site),
        Column("process", _l("Process"), lambda r: _place(r.names.processes.get(r.entry.process_id or 0))),
        Column("activity", _l("Activity"), lambda r: r.entry.activity),
        Column("associate_category", _l("Category of business associate or position"),
               lambda r: label(ASSOCIATE_CATEGORY_LABELS, r.entry.associate_category)),
        Column("associate_detail", _l("Business associate or position"), lambda r: r.entry.associate_detail),
        Column("scenario", _l("Bribery scenario"), lambda r: r.entry.scenario),
        Column("inherent_likelihood", _l("Inherent likelihood"), lambda r: r.entry.inherent_likelihood),
        Column("inherent_impact", _l("Inherent impact"), lambda r: r.entry.inherent_impact),
        Column("inherent_score", _l("Inherent score"), lambda r: r.entry.inherent_score),
        Column("inherent_rating", _l("Inherent rating"), lambda r: _rating(r, r.entry.inherent_rating)),
        Column("controls", _l("Control documents"), _controls),
        Column("controls_description", _l("Existing controls"), lambda r: r.entry.controls_description),
        Column("control_effectiveness", _l("Control effectiveness"),
               lambda r: label(EFFECTIVENESS_LABELS, r.entry.control_effectiveness)),
        Column("residual_likelihood", _l("Residual likelihood"), lambda r: r.entry.residual_likelihood),
        Column("residual_impact", _l("Residual impact"), lambda r: r.entry.residual_impact),
        Column("residual_score", _l("Residual score"), lambda r: r.entry.residual_score),
        Column("residual_rating", _l("Residual rating"), lambda r: _rating(r, r.entry.residual_rating)),
        Column("treatment", _l("Treatment"), lambda r: r.entry.treatment),
        Column("treatment_actions", _l("Treatment actions"), _actions),
        Column("owner", _l("Owner"), lambda r: _user(r, r.entry.owner_id)),
        Column("next_review", _l("Next review"), lambda r: r.entry.next_review),
        Column("review_overdue", _l("Review overdue"),
               lambda r: r.entry.next_review is not None and r.entry.next_review < today),
        Column("assessed_by", _l("Assessed by"), lambda r: _user(r, r.entry.assessed_by_id)),
        Column("assessed_on", _l("Assessed on"), lambda r: r.entry.assessed_on),
        Column("approved_by", _l("Approved by"), lambda r: _user(r, r.entry.approved_by_id)),
        Column("approved_on", _l("Approved on"), lambda r: r.entry.approved_on),
        Column("revision", _l("Revision"), lambda r: r.entry.revision),
        Column("matrix_version", _l("Risk matrix version"), _matrix),
        Column("retire_reason", _l("Why retired"), lambda r: r.entry.retire_reason),
    ]


RISKS: exports.Register[RiskRow] = exports.Register(
    kind="risks", title=_l("Bribery risks"), columns=columns, rows=rows, count=count,
    cli_filters=lambda status, site_id: RiskFilters(site_id=site_id, status=status, rating=None),
    statuses=CLI_STATUSES, status_help="the risk's status: " + ", ".join(CLI_STATUSES))


def register() -> None:
    """Make the register exportable by `auditdocs export risks` (called by the app factory; idempotent)."""
    exports.register(RISKS)
