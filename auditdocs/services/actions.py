"""Corrective actions: planned → in progress → implemented → checked effective or not effective; or cancelled.

Why here: the workflow is evidence of ISO 9001 10.2 / ISO 37001 10.1 — who did what, checked by whom, with what
evidence — so every step is validated once for the web, the demo and the command line, and saved as a revision of
the action, with the nonconformity's own status saved beside it when the step changes it. Role rules come from
policy (403), state rules are 409, bad values 400 per field (`InvalidInput`); the caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ..extensions import db
from ..models import CorrectiveAction, Nonconformity, User
from ..policy import AccessScope, scope_of
from . import Forbidden, ServiceError, revisions
from .nonconformities import TEXT_MAX, hold, require_not_closed, require_recorder, settle
from .programme import Problems


@dataclass
class ActionInput:
    """What the action form says."""

    description: str | None
    owner_id: int | None
    due_date: date | None


def get_action(scope: AccessScope, action_id: int) -> CorrectiveAction:
    """The action if this scope sees its nonconformity; otherwise 404."""
    action = db.session.get(CorrectiveAction, action_id)
    if action is None or not scope.sees_nonconformity(action.nonconformity):
        raise ServiceError(_l("There is no such corrective action."), 404)
    return action


def _refuse(refusal: object | None) -> None:
    if refusal is not None:
        raise Forbidden(refusal)


def _require_status(action: CorrectiveAction, *allowed: str) -> None:
    if action.status not in allowed:
        raise ServiceError(_l("This step is not possible in the action's current state."), 409)


def _staff(user_id: int | None, problems: Problems, name: str, capability: str) -> User | None:
    """An active account whose role can do the work (an external auditor cannot own or check an action)."""
    user = db.session.get(User, user_id) if user_id is not None else None
    if user_id is not None and (user is None or not user.is_active or not scope_of(user).can(capability)):
        problems.add(name, _l("Choose from the list."))
        return None
    return user


def _validated(data: ActionInput, today: date, current: CorrectiveAction | None) -> dict[str, object]:
    problems = Problems()
    description = problems.text("description", data.description, TEXT_MAX, _l("Describe the action."))
    if data.owner_id is None:
        problems.add("owner_id", _l("Choose who owns the action."))
    _staff(data.owner_id, problems, "owner_id", "record_nonconformities")
    due = problems.day("due_date", data.due_date, _l("Enter the due date."))
    if due and due < today and (current is None or current.due_date != due):
        problems.add("due_date", _l("The due date cannot be in the past."))
    problems.check()
    return {"description": description, "owner_id": data.owner_id, "due_date": due}


def _save_both(action: CorrectiveAction, actor: User, note: str | None = None) -> None:
    """Save the action, then its nonconformity if the step changed the nonconformity's status."""
    db.session.flush()
    revisions.save(action, actor=actor, note=note)
    nc = action.nonconformity
    db.session.refresh(nc, attribute_names=["actions"])
    settle(nc)
    revisions.save(nc, actor=actor)


def add_action(nc: Nonconformity, data: ActionInput, *, actor: User, today: date) -> CorrectiveAction:
    """Raise an action against an open nonconformity (a new action after a not-effective one clears the need)."""
    require_recorder(actor)
    hold(nc)
    require_not_closed(nc)
    values = _validated(data, today, None)
    number = (db.session.scalar(select(func.max(CorrectiveAction.number))
                                .where(CorrectiveAction.nonconformity_id == nc.id)) or 0) + 1
    action = CorrectiveAction(nonconformity_id=nc.id, nonconformity=nc, number=number, status="planned",
                              created_by_id=actor.id, **values)
    db.session.add(action)
    _save_both(action, actor)
    return action


def update_action(action: CorrectiveAction, data: ActionInput, *, actor: User, today: date) -> bool:
    """Change an action's description, owner or due date while it is planned or in progress."""
    _refuse(scope_of(actor).refuse_work_action(action))
    hold(action.nonconformity)
    require_not_closed(action.nonconformity)
    _require_status(action, "planned", "in_progress")
    values = _validated(data, today, action)
    if values["owner_id"] != action.owner_id:
        require_recorder(actor)  # an owner does not hand their action to someone else on their own
    before = action.revision
    for key, value in values.items():
        setattr(action, key, value)
    _save_both(action, actor)
    return action.revision != before


def start_action(action: CorrectiveAction, *, actor: User, today: date) -> None:
    """Planned → in progress."""
    _refuse(scope_of(actor).refuse_work_action(action))
    hold(action.nonconformity)
    _require_status(action, "planned")
    action.status, action.started_on = "in_progress", today
    _save_both(action, actor)


def implement_action(action: CorrectiveAction, *, actor: User, today: date, evidence: str | None) -> None:
    """Planned or in progress → implemented, with the completion evidence (attachments may add to it)."""
    _refuse(scope_of(actor).refuse_work_action(action))
    hold(action.nonconformity)
    _require_status(action, "planned", "in_progress")
    problems = Problems()
    text = problems.text("completion_note", evidence, TEXT_MAX, _l("Describe what was done (the completion "
                                                                    "evidence)."))
    problems.check()
    action.status, action.implemented_on, action.completion_note = "implemented", today, text
    action.started_on = action.started_on or today
    _save_both(action, actor)


def schedule_check(action: CorrectiveAction, *, actor: User, due: date | None, checker_id: int | None) -> None:
    """Schedule the effectiveness check of an implemented action, optionally naming who does it (not the owner)."""
    require_recorder(actor)
    hold(action.nonconformity)
    _require_status(action, "implemented")
    problems = Problems()
    day = problems.day("check_due", due, _l("Enter the day of the effectiveness check."))
    if day and action.implemented_on and day < action.implemented_on:
        problems.add("check_due", _l("The effectiveness check comes after the implementation."))
    _staff(checker_id, problems, "checker_id", "check_effectiveness")
    if checker_id is not None and checker_id == action.owner_id:
        problems.add("checker_id", _l("Segregation of duties: the effectiveness of an action must be checked by "
                                      "someone other than its owner."))
    problems.check()
    action.check_due, action.checker_id = day, checker_id
    _save_both(action, actor)


def record_check(action: CorrectiveAction, *, actor: User, today: date, effective: bool,
                 evidence: str | None) -> None:
    """Implemented → effective or not effective (both final), by someone other than the owner, with evidence.
    Not effective reopens the nonconformity until a new action is raised."""
    hold(action.nonconformity)
    _refuse(scope_of(actor).refuse_check_action(action))  # the owner and checker as they stand under the lock
    _require_status(action, "implemented")
    problems = Problems()
    text = problems.text("check_evidence", evidence, TEXT_MAX, _l("Record the evidence of the check."))
    if action.implemented_on and today < action.implemented_on:
        problems.add("check_evidence", _l("The effectiveness check comes after the implementation."))
    problems.check()
    action.status = "effective" if effective else "not_effective"
    action.checked_by_id, action.checked_on, action.check_evidence = actor.id, today, text
    _save_both(action, actor)


def cancel_action(action: CorrectiveAction, *, actor: User, reason: str | None) -> None:
    """Cancel an action that is not final yet, saying why; compliance and quality officers only."""
    _refuse(scope_of(actor).refuse_cancel_action(action))
    hold(action.nonconformity)
    require_not_closed(action.nonconformity)
    _require_status(action, "planned", "in_progress", "implemented")
    problems = Problems()
    text = problems.text("cancel_reason", reason, TEXT_MAX, _l("Say why the action is cancelled."))
    problems.check()
    action.status, action.cancel_reason = "cancelled", text
    _save_both(action, actor, note=text)
