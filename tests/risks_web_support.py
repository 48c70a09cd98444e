"""Helpers for the bribery-risk page tests: exercises and risks made through the core services as named users, ids
(never ORM objects) crossing app contexts."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Flask

from auditdocs.db import write_transaction
from auditdocs.extensions import db
from auditdocs.models import BriberyRisk, RiskExercise, User
from auditdocs.services import risks
from auditdocs.timeutil import local_today


def make_exercise(app: Flask, user_id: int, name: str = "Evaluación anual 2026", year: int = 2026) -> int:
    """Plan an exercise (the matrix in force, the default 5x5 the first time); its id."""
    with app.app_context(), write_transaction():
        actor = db.session.get(User, user_id)
        return risks.create_exercise(risks.ExerciseInput(name=name, year=year), actor=actor).id  # type: ignore[arg-type]


def risk_input(**fields: Any) -> risks.RiskInput:
    """A believable bribery risk, any field overridden."""
    values: dict[str, Any] = {
        "title": "Soborno para agilizar licencias", "scenario": "Un gestor ofrece un pago para acelerar un trámite.",
        "associate_category": "public_official", "inherent_likelihood": 4, "inherent_impact": 4,
        "residual_likelihood": 2, "residual_impact": 3}
    values.update(fields)
    return risks.RiskInput(**values)


def make_risk(app: Flask, user_id: int, exercise_id: int, today: date | None = None, **fields: Any) -> int:
    """Assess a new risk in an exercise as a user; its id."""
    with app.app_context(), write_transaction():
        actor = db.session.get(User, user_id)
        exercise = db.session.get(RiskExercise, exercise_id)
        return risks.create_risk(risk_input(**fields), exercise, actor=actor,  # type: ignore[arg-type]
                                 today=today or local_today()).id


def approve(app: Flask, user_id: int, risk_id: int) -> None:
    """Approve a risk's pending assessment as a user."""
    with app.app_context(), write_transaction():
        risks.approve_risk(db.session.get(BriberyRisk, risk_id), actor=db.session.get(User, user_id),  # type: ignore
                           today=local_today())


def reassess(app: Flask, user_id: int, risk_id: int, exercise_id: int, **fields: Any) -> None:
    """Reassess a risk in an exercise as a user."""
    with app.app_context(), write_transaction():
        risks.assess_risk(db.session.get(BriberyRisk, risk_id), risk_input(**fields),  # type: ignore[arg-type]
                          db.session.get(RiskExercise, exercise_id), actor=db.session.get(User, user_id),  # type: ignore
                          today=local_today())
