"""Helpers for tests of bribery risks: each step runs through the services, in its own write transaction, as a named
user; ids (never ORM objects) cross between app contexts."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Flask
from records_support import as_user

from auditdocs.extensions import db
from auditdocs.models import BriberyRisk, RiskExercise
from auditdocs.services import risk_matrix, risks
from auditdocs.services.risk_matrix import MatrixInput
from auditdocs.services.risks import ExerciseInput, RiskInput

DAY = date(2026, 3, 2)


def risk_input(**fields: Any) -> RiskInput:
    """A believable assessment form, with any field overridden."""
    values: dict[str, Any] = {
        "title": "Pago indebido a inspector municipal", "associate_category": "public_official",
        "scenario": "Un inspector pide un pago para agilizar la licencia de funcionamiento.",
        "inherent_likelihood": 4, "inherent_impact": 4, "residual_likelihood": 2, "residual_impact": 3,
    }
    values.update(fields)
    return RiskInput(**values)


def new_exercise(app: Flask, user_id: int, name: str = "Evaluación anual 2026", year: int = 2026,
                 **fields: Any) -> int:
    """Plan an exercise; its id."""
    return as_user(app, user_id, lambda actor: risks.create_exercise(
        ExerciseInput(name=name, year=year, **fields), actor=actor).id)


def new_risk(app: Flask, user_id: int, exercise_id: int, today: date = DAY, **fields: Any) -> int:
    """Identify and assess a risk in an exercise; its id."""
    return as_user(app, user_id, lambda actor: risks.create_risk(
        risk_input(**fields), db.session.get(RiskExercise, exercise_id),  # type: ignore[arg-type]
        actor=actor, today=today).id)


def reassess(app: Flask, user_id: int, risk_id: int, exercise_id: int, today: date = DAY, **fields: Any) -> bool:
    """Reassess a risk in an exercise; whether anything changed."""
    return as_user(app, user_id, lambda actor: risks.assess_risk(
        db.session.get(BriberyRisk, risk_id), risk_input(**fields),  # type: ignore[arg-type]
        db.session.get(RiskExercise, exercise_id), actor=actor, today=today))  # type: ignore[arg-type]


def approve(app: Flask, user_id: int, risk_id: int, today: date = DAY, note: str | None = None) -> None:
    """Approve a risk's pending assessment."""
    as_user(app, user_id, lambda actor: risks.approve_risk(
        db.session.get(BriberyRisk, risk_id), actor=actor, today=today, note=note))  # type: ignore[arg-type]


def matrix_4x4(**fields: Any) -> MatrixInput:
    """A 4x4 matrix with its own thresholds (medium from 3, high from 7, critical from 12)."""
    values: dict[str, Any] = {
        "likelihood_levels": 4, "impact_levels": 4, "thresholds": {"medium": 3, "high": 7, "critical": 12},
        "labels": risk_matrix.DEFAULT_LABELS, "colours": risk_matrix.DEFAULT_COLOURS,
        "likelihood_labels": {"es": ["Baja", "Media", "Alta", "Muy alta"],
                              "en": ["Low", "Medium", "High", "Very high"]},
        "impact_labels": {"es": ["Leve", "Moderado", "Grave", "Muy grave"],
                          "en": ["Minor", "Moderate", "Major", "Severe"]},
        "note": "Matriz simplificada para 2027",
    }
    values.update(fields)
    return MatrixInput(**values)


def save_matrix(app: Flask, user_id: int, data: MatrixInput) -> int:
    """Save a new matrix version; its id."""
    return as_user(app, user_id, lambda actor: risk_matrix.save_matrix(data, actor=actor).id)
