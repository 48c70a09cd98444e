"""Nonconformities: raise, edit, close and reopen (ISO 9001 10.2, ISO 37001 10.1); every save is a revision.

Why here: the web pages, the demo data and the command line must apply the same rules. Role rules live in policy
(`refuse_*`, 403); state rules here (409); bad values are reported per form field (`InvalidInput`, 400), all at
once. Each change goes through `revisions.save`, which appends the revision, records the audit event and announces
the change; the caller commits (inside `write_transaction()`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..db import advisory_lock
from ..extensions import db
from ..models import Audit, Clause, CorrectiveAction, Document, Nonconformity, Process, Site, User
from ..models.records import (
    AUDIT_SOURCES,
    ISHIKAWA_CATEGORIES,
    LIVE_ACTION,
    NC_GRADES,
    NC_SOURCES,
    NO_ACTION_GRADES,
    ROOT_CAUSE_METHODS,
)
from ..policy import AccessScope, Refusal, scope_of
from ..textnorm import search_key
from . import Forbidden, ServiceError, revisions
from .numbering import next_number, reference
from .programme import NAME_MAX, Problems, rows_by_id

PREFIX, KIND = "NC", "nonconformity"
_PG_LOCK = 0x4E434F4E  # "NCON": namespace of the per-nonconformity locks
TITLE_MAX, TEXT_MAX = 300, 20000


@dataclass
class NcInput:
    """What the nonconformity form says; the service checks all of it."""

    title: str | None
    description: str | None
    source: str
    grade: str
    detected_on: date | None
    detected_by_id: int | None = None
    detected_by_name: str | None = None  # someone without an account (a citizen, the certification body)
    audit_id: int | None = None  # internal or external audit of the programme
    site_id: int | None = None
    process_id: int | None = None
    clause_ids: Sequence[int] = field(default_factory=list)
    document_ids: Sequence[int] = field(default_factory=list)
    correction: str | None = None
    root_cause_method: str | None = None
    ishikawa_category: str | None = None
    analysis: str | None = None
    root_cause: str | None = None


def get_nonconformity(scope: AccessScope, nc_id: int) -> Nonconformity:
    """The nonconformity if this scope sees it; otherwise 404 (as if it did not exist)."""
    nc = db.session.get(Nonconformity, nc_id)
    if nc is None or not scope.sees_nonconformity(nc):
        raise ServiceError(_l("There is no such nonconformity."), 404)
    return nc


def require_recorder(actor: User) -> AccessScope:
    """Raising and editing nonconformities and their actions: staff who record them (403 otherwise)."""
    scope = scope_of(actor)
    refusal = scope.refuse_record_nonconformity()
    if refusal is not None:
        raise Forbidden(refusal)
    return scope


def hold(nc: Nonconformity) -> None:
    """Serialise changes to one nonconformity and its actions, and re-read them under the lock: on PostgreSQL another
    request may have closed it or changed an action since this one read them, and the rules must see that."""
    advisory_lock(_PG_LOCK, f"{KIND}:{nc.id}")
    db.session.refresh(nc)
    db.session.scalars(select(CorrectiveAction).where(CorrectiveAction.nonconformity_id == nc.id)
                       .execution_options(populate_existing=True)).all()
    db.session.refresh(nc, attribute_names=["actions"])


def require_not_closed(nc: Nonconformity) -> None:
    """A closed nonconformity changes only by being reopened (409)."""
    if nc.is_closed:
        raise ServiceError(_l("This nonconformity is closed: reopen it first."), 409)


def _one(model: type[Site] | type[Process] | type[User], value: int | None, problems: Problems,
         name: str) -> None:
    if value is not None and db.session.get(model, value) is None:
        problems.add(name, _l("Choose from the list."))


def _check_audit(data: NcInput, problems: Problems) -> None:
    """An audit is named only by a nonconformity from an audit, and of the same kind (internal or external)."""
    if data.audit_id is None:
        return
    if data.source not in AUDIT_SOURCES:
        problems.add("audit_id", _l("Only a nonconformity from an audit names an audit of the programme."))
        return
    found = db.session.get(Audit, data.audit_id)
    if found is None:
        problems.add("audit_id", _l("Choose from the list."))
    elif (found.audit_type == "internal") != (data.source == "internal_audit"):
        problems.add("audit_id", _l("Choose an internal audit for an internal-audit finding, a certification audit "
                                    "for an external one."))


def _validated(data: NcInput, scope: AccessScope, today: date) -> tuple[dict[str, object], list[Clause],
                                                                         list[Document]]:
    problems = Problems()
    title = problems.text("title", data.title, TITLE_MAX, _l("Give the nonconformity a title."))
    description = problems.text("description", data.description, TEXT_MAX, _l("Describe what was found."))
    if data.source not in NC_SOURCES:
        problems.add("source", _l("Choose from the list."))
    if data.grade not in NC_GRADES:
        problems.add("grade", _l("Choose from the list."))
    detected_on = problems.day("detected_on", data.detected_on, _l("Enter the day it was detected."))
    if detected_on and detected_on > today:
        problems.add("detected_on", _l("A nonconformity cannot be detected in the future."))
    by_name = problems.text("detected_by_name", data.detected_by_name, NAME_MAX)
    if data.detected_by_id is None and by_name is None:
        problems.add("detected_by_name", _l("Say who detected it."))
    _one(User, data.detected_by_id, problems, "detected_by_id")
    _check_audit(data, problems)
    _one(Site, data.site_id, problems, "site_id")
    _one(Process, data.process_id, problems, "process_id")
    clauses = rows_by_id(Clause, data.clause_ids, problems, "clause_ids")
    documents = _documents(data.document_ids, scope, problems)
    method = data.root_cause_method or None
    if method is not None and method not in ROOT_CAUSE_METHODS:
        problems.add("root_cause_method", _l("Choose from the list."))
    category = data.ishikawa_category or None
    if category is not None and (method != "ishikawa" or category not in ISHIKAWA_CATEGORIES):
        problems.add("ishikawa_category", _l("An Ishikawa category goes with the Ishikawa method only."))
    values: dict[str, object] = {
        "title": title, "description": description, "source": data.source, "grade": data.grade,
        "detected_on": detected_on, "detected_by_id": data.detected_by_id, "detected_by_name": by_name,
        "audit_id": data.audit_id, "site_id": data.site_id, "process_id": data.process_id,
        "correction": problems.text("correction", data.correction, TEXT_MAX), "root_cause_method": method,
        "ishikawa_category": category, "analysis": problems.text("analysis", data.analysis, TEXT_MAX),
        "root_cause": problems.text("root_cause", data.root_cause, TEXT_MAX),
    }
    problems.check()
    return values, clauses, documents


def _documents(ids: Sequence[int], scope: AccessScope, problems: Problems) -> list[Document]:
    """Linked controlled documents: only ones the person sees (a hidden one reads as not in the list)."""
    wanted = set(ids)
    if not wanted:
        return []
    found = list(db.session.scalars(select(Document).where(Document.id.in_(wanted), scope.document_condition())))
    if len(found) != len(wanted):
        problems.add("document_ids", _l("Choose from the list."))
    return found


def _apply(nc: Nonconformity, values: dict[str, object], clauses: list[Clause], documents: list[Document]) -> None:
    for key, value in values.items():
        setattr(nc, key, value)
    nc.clauses, nc.documents = clauses, documents
    nc.search_key = search_key(nc.reference, nc.title)
    nc.clause_ids = ",".join(str(c) for c in sorted(c.id for c in clauses))
    nc.document_ids = ",".join(str(d) for d in sorted(d.id for d in documents))


def create_nonconformity(data: NcInput, *, actor: User, today: date) -> Nonconformity:
    """Raise a nonconformity with the next reference of the year (revision 1)."""
    scope = require_recorder(actor)
    values, clauses, documents = _validated(data, scope, today)
    number = next_number(KIND, today.year)
    nc = Nonconformity(reference=reference(PREFIX, today.year, number), year=today.year, number=number,
                       status="open", action_required=False, no_action_decision=False, created_by_id=actor.id)
    _apply(nc, values, clauses, documents)
    db.session.add(nc)
    db.session.flush()
    revisions.save(nc, actor=actor)
    return nc


def update_nonconformity(nc: Nonconformity, data: NcInput, *, actor: User, today: date,
                         note: str | None = None, seen_revision: int | None = None) -> bool:
    """Edit an open nonconformity (analysis, root cause, links...); returns whether anything changed.

    `seen_revision` is the revision the editor's form was built from: a newer one means a concurrent save (409)."""
    scope = require_recorder(actor)
    hold(nc)
    require_not_closed(nc)
    revisions.require_unchanged(nc, seen_revision)
    values, clauses, documents = _validated(data, scope, today)
    # Links to documents this editor may not see stay: they could neither see nor mean to remove them.
    documents += [d for d in nc.documents if d not in documents and not scope.sees_document(d)]
    before = nc.revision
    _apply(nc, values, clauses, documents)
    return revisions.save(nc, actor=actor, note=note).number != before


def settle(nc: Nonconformity) -> None:
    """The status an open nonconformity's actions give it: in progress while an action is live; "action required"
    while an action checked not effective has no newer action (other than a cancelled one) after it."""
    if nc.is_closed:
        return
    actions = sorted(nc.actions, key=lambda a: a.number)
    last_failed = max((a.number for a in actions if a.status == "not_effective"), default=0)
    nc.action_required = bool(last_failed) and not any(
        a.number > last_failed and a.status != "cancelled" for a in actions)  # a cancelled one replaces nothing
    nc.status = "in_progress" if any(a.status in LIVE_ACTION for a in actions) else "open"


def close_refusal(nc: Nonconformity, *, no_action: bool) -> Refusal:
    """Why the nonconformity cannot close now (state only; None when it can)."""
    actions = list(nc.actions)
    if nc.is_closed:
        return _l("This nonconformity is already closed.")
    if no_action:
        if nc.grade not in NO_ACTION_GRADES:
            return _l("Only an observation or an opportunity for improvement may close without an action.")
        if any(a.status != "cancelled" for a in actions):
            return _l("This nonconformity has corrective actions: it closes when they are checked effective.")
        return None
    live = [a for a in actions if a.status in LIVE_ACTION]
    if live:
        return _l("Action A%(num)d is still open: every action must be checked effective or cancelled first.",
                  num=live[0].number)
    if nc.action_required:
        return _l("An action was checked not effective: raise a new action first.")
    if not any(a.status == "effective" for a in actions):
        return _l("At least one corrective action must be checked effective before closing.")
    return None


def close_nonconformity(nc: Nonconformity, *, actor: User, today: date, note: str | None,
                        no_action: bool = False) -> None:
    """Close after verified effective actions, or (observation, OFI) on a recorded decision that no action is
    needed; compliance and quality officers only."""
    refusal = scope_of(actor).refuse_close_nonconformity(nc)
    if refusal is not None:
        raise Forbidden(refusal)
    hold(nc)
    settle(nc)
    refusal = close_refusal(nc, no_action=no_action)
    if refusal is not None:
        raise ServiceError(refusal, 409)
    problems = Problems()
    text = problems.text("closure_note", note, TEXT_MAX,
                         _l("Record the decision that no action is needed, and why.") if no_action else None)
    problems.check()
    nc.status, nc.closed_on, nc.closed_by_id = "closed", today, actor.id
    nc.closure_note, nc.no_action_decision = text, no_action
    revisions.save(nc, actor=actor, note=text)


def reopen_nonconformity(nc: Nonconformity, *, actor: User, reason: str | None) -> None:
    """Reopen a closed nonconformity, saying why; its closure stays in the history."""
    refusal = scope_of(actor).refuse_close_nonconformity(nc)
    if refusal is not None:
        raise Forbidden(refusal)
    hold(nc)
    if not nc.is_closed:
        raise ServiceError(_l("Only a closed nonconformity can be reopened."), 409)
    problems = Problems()
    text = problems.text("reason", reason, TEXT_MAX, _l("Say why the nonconformity is reopened."))
    problems.check()
    nc.status, nc.closed_on, nc.closed_by_id, nc.closure_note, nc.no_action_decision = "open", None, None, None, False
    nc.reopen_reason = text
    settle(nc)
    revisions.save(nc, actor=actor, note=text)
