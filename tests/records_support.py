"""Helpers for tests of nonconformities and corrective actions: each step runs through the services, in its own
write transaction, as a named user; ids (never ORM objects) cross between app contexts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

from flask import Flask
from sqlalchemy import select

from auditdocs.db import write_transaction
from auditdocs.extensions import db
from auditdocs.models import Clause, CorrectiveAction, Nonconformity, Standard, User
from auditdocs.services import actions, nonconformities
from auditdocs.services.actions import ActionInput
from auditdocs.services.nonconformities import NcInput

T = TypeVar("T")
DAY = date(2026, 3, 2)  # a Monday; tests pass `today` explicitly, so no test depends on the clock


def as_user(app: Flask, user_id: int, work: Callable[[User], T]) -> T:
    """Run one step as a user inside a write transaction (committed unless it raises)."""
    with app.app_context(), write_transaction():
        return work(db.session.get(User, user_id))  # type: ignore[arg-type]


def nc_input(**fields: Any) -> NcInput:
    """A believable nonconformity form, with any field overridden."""
    values: dict[str, Any] = {
        "title": "Registro de obsequios incompleto", "description": "Tres obsequios recibidos sin registrar.",
        "source": "internal_audit", "grade": "minor", "detected_on": DAY, "detected_by_name": "Equipo auditor",
    }
    values.update(fields)
    return NcInput(**values)


def raise_nc(app: Flask, user_id: int, today: date = DAY, **fields: Any) -> int:
    """Create a nonconformity; its id."""
    return as_user(app, user_id, lambda actor: nonconformities.create_nonconformity(
        nc_input(**fields), actor=actor, today=today).id)


def add_action(app: Flask, user_id: int, nc_id: int, owner_id: int, due: date = date(2026, 4, 30),
               today: date = DAY, description: str = "Capacitar al personal en el registro de obsequios") -> int:
    """Raise an action on a nonconformity; its id."""
    return as_user(app, user_id, lambda actor: actions.add_action(
        db.session.get(Nonconformity, nc_id), ActionInput(description, owner_id, due),  # type: ignore[arg-type]
        actor=actor, today=today).id)


def act(app: Flask, user_id: int, action_id: int, step: Callable[..., Any], **kwargs: Any) -> None:
    """Run one workflow step (actions.start_action, implement_action...) on an action as a user."""
    as_user(app, user_id, lambda actor: step(db.session.get(CorrectiveAction, action_id), actor=actor, **kwargs))


def on_nc(app: Flask, user_id: int, nc_id: int, step: Callable[..., Any], **kwargs: Any) -> None:
    """Run one step (close_nonconformity, reopen_nonconformity...) on a nonconformity as a user."""
    as_user(app, user_id, lambda actor: step(db.session.get(Nonconformity, nc_id), actor=actor, **kwargs))


def implemented(app: Flask, user_id: int, action_id: int, today: date = DAY) -> None:
    """Start and implement an action with its evidence."""
    act(app, user_id, action_id, actions.start_action, today=today)
    act(app, user_id, action_id, actions.implement_action, today=today, evidence="Lista de asistencia firmada")


def state(app: Flask, nc_id: int) -> tuple[str, bool, list[str]]:
    """A nonconformity's status, whether it needs a new action, and its actions' statuses in order."""
    with app.app_context():
        nc = db.session.get(Nonconformity, nc_id)
        assert nc is not None
        return nc.status, nc.action_required, [a.status for a in nc.actions]


def clause_id(app: Flask, slug: str, number: str) -> int:
    """The id of a clause of the catalogue ("iso9001_2015", "10.2")."""
    with app.app_context():
        found = db.session.scalar(select(Clause.id).join(Standard, Standard.id == Clause.standard_id)
                                  .where(Standard.slug == slug, Clause.number == number))
        assert found is not None
        return found
