"""The register of gifts, hospitality, donations and similar benefits, given or received (ISO 37001 8.7); every save
is a revision.

Why here: the pages, the demo data and the command line apply the same rules. Each entry is judged against the
threshold of its currency in force when it is saved (services.gift_thresholds): at or above it, or in a currency
without one, it waits for approval by someone who may approve gifts and who neither recorded nor last changed it
(segregation of duties, 403). A change to an entry is judged again and, if it still needs approval, waits for it
again: an approval covers the entry as it was approved. Bad values are reported per field (400), all at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, and_, exists, func, select, true

from ..db import advisory_lock
from ..extensions import db
from ..models import Gift, RecordRevision, User
from ..models.risks import GIFT_DECISIONS, GIFT_DIRECTIONS, GIFT_KINDS, GIFT_STATUSES
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
    common_conditions,
    ids_text,
    linked_clauses,
    linked_risks,
    not_future,
)
from .gift_thresholds import check_amount, check_currency, needs_approval
from .numbering import next_number, reference
from .programme import Problems

PREFIX, KIND = "GH", "gift"
_PG_LOCK = 0x47494654  # "GIFT": namespace of the per-entry locks
DECIDED = ("approved", "rejected")
CONTENT = ("kind", "direction", "internal_party", "counterparty", "counterparty_category", "site_id", "occurred_on",
           "value", "currency", "description", "purpose", "decision", "decision_note", "risk_ids", "clause_ids")


@dataclass
class GiftInput:
    """What the gift form says; the service checks all of it."""

    kind: str | None
    direction: str | None
    internal_party: str | None
    counterparty: str | None
    counterparty_category: str | None
    occurred_on: date | None
    value: Decimal | str | None
    currency: str | None
    description: str | None
    purpose: str | None = None
    decision: str | None = None
    decision_note: str | None = None
    site_id: int | None = None
    risk_ids: Sequence[int] = field(default_factory=list)
    clause_ids: Sequence[int] = field(default_factory=list)


def get_gift(scope: AccessScope, gift_id: int) -> Gift:
    """The entry if this scope sees it; otherwise 404 (as if it did not exist)."""
    row = db.session.get(Gift, gift_id)
    if row is None or not scope.sees_gift(row):
        raise ServiceError(_l("There is no such entry in the gifts register."), 404)
    return row


def require_recorder(actor: User) -> AccessScope:
    """Recording and changing entries: staff who record gifts (403 otherwise)."""
    scope = scope_of(actor)
    refusal = scope.refuse_record_gift()
    if refusal is not None:
        raise Forbidden(refusal)
    return scope


def hold(row: Gift) -> None:
    """Serialise changes to one entry and re-read it under the lock (another request may have approved it)."""
    advisory_lock(_PG_LOCK, f"{KIND}:{row.id}")
    db.session.refresh(row)


def _validated(data: GiftInput, today: date) -> tuple[dict[str, Any], list[Any], list[Any]]:
    problems = Problems()
    values: dict[str, Any] = {
        "kind": check_choice(problems, "kind", data.kind, GIFT_KINDS, _l("Choose the kind of benefit.")),
        "direction": check_choice(problems, "direction", data.direction, GIFT_DIRECTIONS,
                                  _l("Say whether it was given or received.")),
        "internal_party": problems.text("internal_party", data.internal_party, NAME_MAX,
                                        _l("Name the person or unit of the organisation involved.")),
        "counterparty": problems.text("counterparty", data.counterparty, NAME_MAX,
                                      _l("Name the other party.")),
        "counterparty_category": check_category(problems, "counterparty_category", data.counterparty_category),
        "occurred_on": problems.day("occurred_on", data.occurred_on, _l("Enter the day it was given or received.")),
        "value": check_amount(problems, "value", data.value, _l("Enter the value (0 when it has none).")),
        "currency": check_currency(problems, "currency", data.currency),
        "description": problems.text("description", data.description, TEXT_MAX, _l("Describe what it was.")),
        "purpose": problems.text("purpose", data.purpose, TEXT_MAX, _l("State the purpose or the occasion.")),
        "decision": check_choice(problems, "decision", data.decision, GIFT_DECISIONS),
        "decision_note": problems.text("decision_note", data.decision_note, TEXT_MAX),
        "site_id": data.site_id,
    }
    not_future(problems, "occurred_on", values["occurred_on"], today,
               _l("A gift cannot be recorded for a day still to come."))
    if values["decision"] in ("returned", "donated") and values["direction"] == "given":
        problems.add("decision", _l("Only something received can be returned or donated."))
    check_place(problems, data.site_id)
    risks = linked_risks(problems, data.risk_ids)
    clauses = linked_clauses(problems, data.clause_ids)
    problems.check()
    values["risk_ids"], values["clause_ids"] = ids_text(risks), ids_text(clauses)
    return values, risks, clauses


def _judge(row: Gift) -> None:
    """Whether the entry needs approval now, by the threshold in force; an approval so far no longer covers it."""
    row.requires_approval = needs_approval(row.value, row.currency)
    row.status = "pending_approval" if row.requires_approval else "recorded"
    row.approver_id, row.approved_on, row.approval_note = None, None, None


def _apply(row: Gift, values: dict[str, Any], risks: list[Any]) -> None:
    for key, value in values.items():
        setattr(row, key, value)
    row.risks = risks
    row.search_key = search_key(row.reference, f"{row.counterparty} {row.internal_party} {row.description}")


def create_gift(data: GiftInput, *, actor: User, today: date) -> Gift:
    """Record an entry with the next reference of the year (revision 1), waiting for approval if it needs it."""
    require_recorder(actor)
    values, risks, _clauses = _validated(data, today)
    number = next_number(KIND, today.year)
    row = Gift(reference=reference(PREFIX, today.year, number), year=today.year, number=number,
               created_by_id=actor.id)
    _apply(row, values, risks)
    _judge(row)
    db.session.add(row)
    db.session.flush()
    revisions.save(row, actor=actor)
    return row


def update_gift(row: Gift, data: GiftInput, *, actor: User, today: date, note: str | None = None) -> bool:
    """Change an entry; if anything changed it is judged again (and waits for approval again if it needs it).
    Returns whether anything changed."""
    require_recorder(actor)
    hold(row)
    values, risks, _clauses = _validated(data, today)
    if all(getattr(row, key) == values[key] for key in CONTENT):
        return False
    _apply(row, values, risks)
    _judge(row)
    revisions.save(row, actor=actor, note=note)
    return True


def refuse_decide(row: Gift, actor: User) -> Any:
    """Why this person may not approve or reject this entry (None when they may): the policy's role rule, and
    segregation of duties: not whoever recorded the entry or saved its current state."""
    refusal = scope_of(actor).refuse_approve_gift(row)
    if refusal is not None:
        return refusal
    last = revisions.latest(Gift.__entity_type__, row.id)
    if actor.id == row.created_by_id or (last is not None and last.author_id == actor.id):
        return _l("Segregation of duties: an entry must be approved by someone other than whoever recorded or "
                  "last changed it.")
    return None


def _decide(row: Gift, actor: User, today: date, status: str, note: str | None, required: Any) -> None:
    role = scope_of(actor).refuse_approve_gift(row)
    if role is not None:
        raise Forbidden(role)
    hold(row)
    if row.status != "pending_approval":
        raise ServiceError(_l("This entry is not waiting for approval."), 409)
    refusal = refuse_decide(row, actor)  # under the lock: nobody changed it since
    if refusal is not None:
        raise Forbidden(refusal)
    problems = Problems()
    text = problems.text("approval_note", note, TEXT_MAX, required)
    problems.check()
    row.status, row.approver_id, row.approved_on, row.approval_note = status, actor.id, today, text
    revisions.save(row, actor=actor, note=text)


def approve_gift(row: Gift, *, actor: User, today: date, note: str | None = None) -> None:
    """Approve an entry waiting for approval."""
    _decide(row, actor, today, "approved", note, None)


def reject_gift(row: Gift, *, actor: User, today: date, note: str | None) -> None:
    """Reject an entry waiting for approval, saying why (the recorder may then change it, e.g. to returned)."""
    _decide(row, actor, today, "rejected", note, _l("Say why the entry is rejected."))


# -- the register ------------------------------------------------------------------------------------------------


def filter_condition(filters: RegisterFilters) -> ColumnElement[bool]:
    """The register's filters as one SQL condition; `state` is the entry's status; year is the year it occurred."""
    year_free = RegisterFilters(filters.site_id, filters.category, filters.state, None, filters.text)
    parts = common_conditions(year_free, Gift, Gift.site_id, Gift.counterparty_category)
    if filters.year is not None:
        parts.append(Gift.occurred_on.between(date(filters.year, 1, 1), date(filters.year, 12, 31)))
    if filters.state:
        parts.append(Gift.status == (filters.state if filters.state in GIFT_STATUSES else "-"))
    return all_of(parts, true())


def visibility(scope: AccessScope) -> ColumnElement[bool]:
    """Everyone who reads the risk area reads every entry (auditors too, read-only)."""
    return true() if scope.can("see_risks") else and_(Gift.id.is_(None))


def filtered(scope: AccessScope, filters: RegisterFilters) -> Select[Gift]:
    """The register: visible entries matching the filters, the latest first."""
    return (select(Gift).where(visibility(scope), filter_condition(filters))
            .order_by(Gift.occurred_on.desc(), Gift.id.desc()))


def count(scope: AccessScope, filters: RegisterFilters) -> int:
    return int(db.session.scalar(select(func.count(Gift.id)).where(visibility(scope), filter_condition(filters)))
               or 0)


def waiting_for(scope: AccessScope) -> Select[Gift]:
    """Entries waiting for approval that this person neither recorded nor last changed, the oldest first (their
    task list: the same segregation of duties as refuse_decide)."""
    mine = exists().where(RecordRevision.entity_type == Gift.__entity_type__, RecordRevision.entity_id == Gift.id,
                          RecordRevision.number == Gift.revision, RecordRevision.author_id == scope.user_id)
    return (select(Gift).where(visibility(scope), Gift.status == "pending_approval",
                               Gift.created_by_id != scope.user_id, ~mine)
            .order_by(Gift.created_at, Gift.id))
