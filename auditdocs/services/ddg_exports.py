"""The due-diligence files and the gifts register as export specs (services.exports): CSV and XLSX, formula-safe.

Why here: the web downloads and `auditdocs export due-diligence|gifts` list the same columns, filtered the way the
register pages filter, with labels in the reader's language. On the command line --status is the file's status
(in progress, decided) or the decision; for gifts, the entry's status.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from ..ddg_labels import (
    ASSOCIATE_CATEGORY_LABELS,
    DD_DECISION_LABELS,
    DD_STATUS_LABELS,
    DD_SUBJECT_TYPE_LABELS,
    GIFT_DECISION_LABELS,
    GIFT_DIRECTION_LABELS,
    GIFT_KIND_LABELS,
    GIFT_STATUS_LABELS,
    RISK_LEVEL_LABELS,
)
from ..extensions import db
from ..models import DueDiligence, Gift, Process, Site, User
from ..models.risks import DD_STATUSES, GIFT_STATUSES
from ..policy import AccessScope
from . import due_diligence, exports, gifts
from .ddg_common import RegisterFilters, clause_names, clause_refs
from .exports import Column, label

YIELD_PER = 500
DD_STATE_CHOICES = (*DD_STATUSES, *due_diligence.DECISION_CHOICES)


def _lang() -> str:
    locale = get_locale()
    return str(locale.language) if locale else "es"


def _place(item: Site | Process | None) -> str:
    return f"{item.code} — {item.name(_lang())}" if item is not None else ""


def _name(user: User | None) -> str:
    return user.name if user is not None else ""


def _risks(row: DueDiligence | Gift) -> str:
    return "; ".join(r.reference for r in row.risks)


def dd_columns(today: date) -> list[Column[DueDiligence]]:
    """One row per due-diligence file."""
    names = clause_names()
    return [
        Column("reference", _l("Reference"), lambda r: r.reference),
        Column("subject_type", _l("Subject type"), lambda r: label(DD_SUBJECT_TYPE_LABELS, r.subject_type)),
        Column("subject_name", _l("Subject"), lambda r: r.subject_name),
        Column("category", _l("Category"), lambda r: label(ASSOCIATE_CATEGORY_LABELS, r.category)),
        Column("position", _l("Position"), lambda r: r.position),
        Column("site", _l("Site"), lambda r: _place(r.site)),
        Column("process", _l("Process"), lambda r: _place(r.process)),
        Column("risk_level", _l("Risk level"), lambda r: label(RISK_LEVEL_LABELS, r.risk_level)),
        Column("checks_performed", _l("Checks performed"), lambda r: r.checks_performed),
        Column("result", _l("Result"), lambda r: r.result),
        Column("status", _l("Status"), lambda r: label(DD_STATUS_LABELS, r.status)),
        Column("decision", _l("Decision"), lambda r: label(DD_DECISION_LABELS, r.decision)),
        Column("conditions", _l("Conditions"), lambda r: r.conditions),
        Column("decided_on", _l("Decided on"), lambda r: r.decided_on),
        Column("reviewer", _l("Reviewer"), lambda r: _name(r.reviewer)),
        Column("next_review", _l("Next review"), lambda r: r.next_review),
        Column("review_overdue", _l("Review overdue"), lambda r: r.next_review is not None and r.next_review < today),
        Column("risks", _l("Bribery risks"), _risks),
        Column("clauses", _l("Clauses"), lambda r: clause_refs(r.clause_ids, names)),
    ]


def gift_columns(_today: date) -> list[Column[Gift]]:
    """One row per entry of the gifts register."""
    names = clause_names()
    return [
        Column("reference", _l("Reference"), lambda g: g.reference),
        Column("kind", _l("Kind"), lambda g: label(GIFT_KIND_LABELS, g.kind)),
        Column("direction", _l("Given or received"), lambda g: label(GIFT_DIRECTION_LABELS, g.direction)),
        Column("occurred_on", _l("Date"), lambda g: g.occurred_on),
        Column("internal_party", _l("Our side"), lambda g: g.internal_party),
        Column("counterparty", _l("Other party"), lambda g: g.counterparty),
        Column("counterparty_category", _l("Category of the other party"),
               lambda g: label(ASSOCIATE_CATEGORY_LABELS, g.counterparty_category)),
        Column("site", _l("Site"), lambda g: _place(g.site)),
        Column("value", _l("Value"), lambda g: g.value),
        Column("currency", _l("Currency"), lambda g: g.currency),
        Column("description", _l("Description"), lambda g: g.description),
        Column("purpose", _l("Purpose"), lambda g: g.purpose),
        Column("decision", _l("Decision"), lambda g: label(GIFT_DECISION_LABELS, g.decision)),
        Column("decision_note", _l("Decision note"), lambda g: g.decision_note),
        Column("requires_approval", _l("Requires approval"), lambda g: g.requires_approval),
        Column("status", _l("Status"), lambda g: label(GIFT_STATUS_LABELS, g.status)),
        Column("approver", _l("Approved or rejected by"), lambda g: _name(g.approver)),
        Column("approved_on", _l("Approved or rejected on"), lambda g: g.approved_on),
        Column("approval_note", _l("Approval note"), lambda g: g.approval_note),
        Column("recorded_by", _l("Recorded by"), lambda g: _name(g.created_by)),
        Column("risks", _l("Bribery risks"), _risks),
        Column("clauses", _l("Clauses"), lambda g: clause_refs(g.clause_ids, names)),
    ]


def dd_rows(scope: AccessScope, filters: RegisterFilters, _today: date) -> Iterator[DueDiligence]:
    stmt = due_diligence.filtered(scope, filters).options(
        selectinload(DueDiligence.site), selectinload(DueDiligence.process), selectinload(DueDiligence.reviewer),
        selectinload(DueDiligence.risks))
    yield from db.session.scalars(stmt.execution_options(yield_per=YIELD_PER))


def gift_rows(scope: AccessScope, filters: RegisterFilters, _today: date) -> Iterator[Gift]:
    stmt = gifts.filtered(scope, filters).options(
        selectinload(Gift.site), selectinload(Gift.approver), selectinload(Gift.created_by), selectinload(Gift.risks))
    yield from db.session.scalars(stmt.execution_options(yield_per=YIELD_PER))


DUE_DILIGENCE: exports.Register[DueDiligence] = exports.Register(
    kind="due-diligence", title=_l("Due diligence"), columns=dd_columns, rows=dd_rows,
    count=lambda scope, filters, _today: due_diligence.count(scope, filters),
    cli_filters=lambda status, site_id: RegisterFilters(site_id=site_id, state=status),
    statuses=DD_STATE_CHOICES, status_help="the file's status or decision: " + ", ".join(DD_STATE_CHOICES))
GIFTS: exports.Register[Gift] = exports.Register(
    kind="gifts", title=_l("Gifts and hospitality"), columns=gift_columns, rows=gift_rows,
    count=lambda scope, filters, _today: gifts.count(scope, filters),
    cli_filters=lambda status, site_id: RegisterFilters(site_id=site_id, state=status),
    statuses=GIFT_STATUSES, status_help="the entry's status: " + ", ".join(GIFT_STATUSES))


def register() -> None:
    """Make both exportable by `auditdocs export` (called by the app factory; idempotent)."""
    exports.register(DUE_DILIGENCE)
    exports.register(GIFTS)

