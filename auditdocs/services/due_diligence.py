"""Due diligence on business associates and on personnel in exposed positions (ISO 37001 8.2); every save is a
revision.

Why here: the pages, the demo data and the command line apply the same rules. A file is opened "in progress" with
the checks performed; it is decided (proceed, proceed with conditions, do not proceed) with the result, the day,
the reviewer and, unless the decision is not to proceed, the next review. Role rules live in policy (403), bad
values are reported per field (`InvalidInput`, 400), all at once; the caller commits (`write_transaction()`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, and_, func, select, true

from ..db import advisory_lock
from ..extensions import db
from ..models import DueDiligence, User
from ..models.risks import DD_DECISIONS, DD_STATUSES, DD_SUBJECT_TYPES, RATINGS
from ..policy import AccessScope, scope_of
from ..textnorm import search_key
from . import Forbidden, ServiceError, revisions
from .ddg_common import (
    NAME_MAX,
    TEXT_MAX,
    RegisterFilters,
    all_of,
    check_category,
    check_choice,
    check_place,
    check_user,
    common_conditions,
    ids_text,
    linked_clauses,
    linked_risks,
    not_future,
)
from .numbering import next_number, reference
from .programme import Problems

PREFIX, KIND = "DD", "due_diligence"
_PG_LOCK = 0x44444C47  # "DDLG": namespace of the per-file locks
PENDING = "pending"  # the decision filter's "not decided yet"
DECISION_CHOICES = (*DD_DECISIONS, PENDING)


@dataclass
class DdInput:
    """What the due-diligence form says; the service checks all of it."""

    subject_type: str | None
    subject_name: str | None
    category: str | None
    risk_level: str | None
    checks_performed: str | None
    position: str | None = None
    site_id: int | None = None
    process_id: int | None = None
    result: str | None = None
    decision: str | None = None
    conditions: str | None = None
    decided_on: date | None = None
    reviewer_id: int | None = None
    next_review: date | None = None
    risk_ids: Sequence[int] = field(default_factory=list)
    clause_ids: Sequence[int] = field(default_factory=list)


def get_due_diligence(scope: AccessScope, dd_id: int) -> DueDiligence:
    """The file if this scope sees it; otherwise 404 (as if it did not exist)."""
    row = db.session.get(DueDiligence, dd_id)
    if row is None or not scope.sees_due_diligence(row):
        raise ServiceError(_l("There is no such due-diligence file."), 404)
    return row


def require_recorder(actor: User) -> AccessScope:
    """Opening and updating due-diligence files: administrators and compliance officers (403 otherwise)."""
    scope = scope_of(actor)
    refusal = scope.refuse_record_due_diligence()
    if refusal is not None:
        raise Forbidden(refusal)
    return scope


def hold(row: DueDiligence) -> None:
    """Serialise changes to one file and re-read it under the lock (another request may have decided it)."""
    advisory_lock(_PG_LOCK, f"{KIND}:{row.id}")
    db.session.refresh(row)


def _decision(data: DdInput, problems: Problems, today: date, was_decided: bool) -> dict[str, Any]:
    """The decision and what must come with it: result, day, reviewer, conditions, next review."""
    decision = check_choice(problems, "decision", data.decision, DD_DECISIONS)
    if decision is None and was_decided:
        problems.add("decision", _l("A decided file stays decided: record the new decision instead."))
    conditions = problems.text("conditions", data.conditions, TEXT_MAX)
    result = problems.text("result", data.result, TEXT_MAX)
    decided_on = problems.day("decided_on", data.decided_on)
    next_review = problems.day("next_review", data.next_review)
    if decision is not None:
        if result is None:
            problems.add("result", _l("Record the result of the checks before deciding."))
        if decided_on is None:
            problems.add("decided_on", _l("Enter the day of the decision."))
        check_user(problems, "reviewer_id", data.reviewer_id, _l("Say who reviewed the file and decided."))
        if decision == "proceed_with_conditions" and conditions is None:
            problems.add("conditions", _l("State the conditions."))
        if decision != "do_not_proceed" and next_review is None:
            problems.add("next_review", _l("Enter the day of the next review."))
    else:
        for name, value in (("decided_on", decided_on), ("conditions", conditions)):
            if value is not None:
                problems.add(name, _l("Only a decided file has this; choose the decision first."))
        check_user(problems, "reviewer_id", data.reviewer_id)
    if conditions is not None and decision not in (None, "proceed_with_conditions"):
        problems.add("conditions", _l("Conditions go with the decision to proceed with conditions only."))
    not_future(problems, "decided_on", decided_on, today, _l("A decision cannot be dated in the future."))
    if decided_on and next_review and next_review <= decided_on:
        problems.add("next_review", _l("The next review comes after the decision."))
    return {"decision": decision, "conditions": conditions, "result": result, "decided_on": decided_on,
            "reviewer_id": data.reviewer_id, "next_review": next_review,
            "status": "decided" if decision is not None else "in_progress"}


def _validated(data: DdInput, today: date, was_decided: bool = False) -> tuple[dict[str, Any], list[Any], list[Any]]:
    problems = Problems()
    subject_type = check_choice(problems, "subject_type", data.subject_type, DD_SUBJECT_TYPES,
                                _l("Say whether the subject is a business associate or personnel."))
    name = problems.text("subject_name", data.subject_name, NAME_MAX, _l("Name the subject of the due diligence."))
    category = check_category(problems, "category", data.category)
    position = problems.text("position", data.position, NAME_MAX)
    if subject_type == "personnel" and position is None:
        problems.add("position", _l("Name the position the person holds or will hold."))
    risk_level = check_choice(problems, "risk_level", data.risk_level, RATINGS,
                              _l("Choose the bribery-risk level of the subject."))
    checks = problems.text("checks_performed", data.checks_performed, TEXT_MAX,
                           _l("Describe the checks performed."))
    check_place(problems, data.site_id, data.process_id)
    values = {"subject_type": subject_type, "subject_name": name, "category": category, "position": position,
              "risk_level": risk_level, "checks_performed": checks, "site_id": data.site_id,
              "process_id": data.process_id, **_decision(data, problems, today, was_decided)}
    risks = linked_risks(problems, data.risk_ids)
    clauses = linked_clauses(problems, data.clause_ids)
    problems.check()
    return values, risks, clauses


def _apply(row: DueDiligence, values: dict[str, Any], risks: list[Any], clauses: list[Any]) -> None:
    for key, value in values.items():
        setattr(row, key, value)
    row.risks = risks
    row.risk_ids = ids_text(risks)
    row.clause_ids = ids_text(clauses)
    row.search_key = search_key(row.reference, f"{row.subject_name} {row.position or ''}")


def create_due_diligence(data: DdInput, *, actor: User, today: date) -> DueDiligence:
    """Open a due-diligence file with the next reference of the year (revision 1)."""
    require_recorder(actor)
    values, risks, clauses = _validated(data, today)
    number = next_number(KIND, today.year)
    row = DueDiligence(reference=reference(PREFIX, today.year, number), year=today.year, number=number,
                       created_by_id=actor.id)
    _apply(row, values, risks, clauses)
    db.session.add(row)
    db.session.flush()
    revisions.save(row, actor=actor)
    return row


def update_due_diligence(row: DueDiligence, data: DdInput, *, actor: User, today: date,
                         note: str | None = None) -> bool:
    """Update a file (the checks as they go, the decision, a periodic review); returns whether anything changed."""
    require_recorder(actor)
    hold(row)
    values, risks, clauses = _validated(data, today, was_decided=row.decision is not None)
    before = row.revision
    _apply(row, values, risks, clauses)
    return revisions.save(row, actor=actor, note=note).number != before


# -- the register ------------------------------------------------------------------------------------------------


def filter_condition(filters: RegisterFilters) -> ColumnElement[bool]:
    """The register's filters as one SQL condition; `state` is a decision, "pending" or a status."""
    parts = common_conditions(filters, DueDiligence, DueDiligence.site_id, DueDiligence.category)
    if filters.state == PENDING:
        parts.append(DueDiligence.decision.is_(None))
    elif filters.state in DD_STATUSES:
        parts.append(DueDiligence.status == filters.state)
    elif filters.state:
        parts.append(DueDiligence.decision == (filters.state if filters.state in DD_DECISIONS else "-"))
    return all_of(parts, true())


def visibility(scope: AccessScope) -> ColumnElement[bool]:
    """Everyone who reads the risk area reads every file (auditors too, read-only)."""
    return true() if scope.can("see_risks") else and_(DueDiligence.id.is_(None))


def filtered(scope: AccessScope, filters: RegisterFilters) -> Select[DueDiligence]:
    """The register: visible files matching the filters, newest first."""
    return (select(DueDiligence).where(visibility(scope), filter_condition(filters))
            .order_by(DueDiligence.year.desc(), DueDiligence.number.desc()))


def count(scope: AccessScope, filters: RegisterFilters) -> int:
    return int(db.session.scalar(select(func.count(DueDiligence.id)).where(
        visibility(scope), filter_condition(filters))) or 0)


def reviews_past(scope: AccessScope, today: date) -> Select[DueDiligence]:
    """Files whose next review day has passed, the most overdue first."""
    return (select(DueDiligence).where(visibility(scope), DueDiligence.next_review < today)
            .order_by(DueDiligence.next_review, DueDiligence.id))
