"""Helpers for the tests of due diligence and gifts: logins, believable forms, a bribery risk to link to, thresholds
set through the service; ids (never ORM objects) cross between app contexts."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from flask import Flask
from sqlalchemy import select

from auditdocs.db import write_transaction
from auditdocs.extensions import db
from auditdocs.models import RiskExercise, User
from auditdocs.services import gift_thresholds, risks
from auditdocs.timeutil import local_today

GIFTS, DD = "/risks/gifts/", "/risks/due-diligence/"
NEW_GIFT, NEW_DD = f"{GIFTS}new", f"{DD}new"


def login(client: Any, user: Any) -> None:
    client.post_form("/logout", page="/")
    resp = client.post_form("/login", {"email": user.email, "password": user.password})
    assert resp.status_code == 302


def today(app: Flask) -> date:
    with app.app_context():
        return local_today()


def new_id(resp: Any) -> int:
    assert resp.status_code == 302, resp.get_data(as_text=True)[:3000]
    return int(resp.location.rstrip("/").rsplit("/", 1)[1])


def gift_form(app: Flask, **fields: Any) -> dict[str, Any]:
    """A believable gift received at a site, with any field overridden."""
    data: dict[str, Any] = {
        "kind": "gift", "direction": "received", "occurred_on": today(app).isoformat(),
        "internal_party": "Jefatura de la UT Cusco", "counterparty": "Constructora Andina SAC",
        "counterparty_category": "contractor", "site_id": "0", "value": "80.00", "currency": "PEN",
        "description": "Canasta navideña", "purpose": "Fiestas de fin de año", "decision": "",
        "decision_note": "",
    }
    data.update(fields)
    return data


def dd_form(**fields: Any) -> dict[str, Any]:
    """A believable due-diligence file on a supplier, still in progress, with any field overridden."""
    data: dict[str, Any] = {
        "subject_type": "business_associate", "subject_name": "Transportes Illimani SRL", "category": "supplier",
        "position": "", "site_id": "0", "process_id": "0", "risk_level": "medium",
        "checks_performed": "Consulta RUC, listas de sancionados, referencias bancarias", "result": "",
        "decision": "", "conditions": "", "decided_on": "", "reviewer_id": "0", "next_review": "",
    }
    data.update(fields)
    return data


def set_threshold(app: Flask, admin_id: int, currency: str, amount: str, note: str = "") -> None:
    with app.app_context(), write_transaction():
        gift_thresholds.set_threshold(currency, Decimal(amount), note or None,
                                      actor=db.session.get(User, admin_id))  # type: ignore[arg-type]


def seed_risk(app: Flask, user_id: int, title: str = "Soborno en la adjudicación de obras") -> int:
    """A bribery risk of the register, assessed in an exercise through the risk services (something to link to)."""
    with app.app_context(), write_transaction():
        actor = db.session.get(User, user_id)
        assert actor is not None
        exercise = db.session.scalar(select(RiskExercise).order_by(RiskExercise.id).limit(1))
        if exercise is None:
            exercise = risks.create_exercise(risks.ExerciseInput(name="Evaluación 2026", year=2026), actor=actor)
        risk = risks.create_risk(risks.RiskInput(
            title=title, scenario="Pago indebido para favorecer a un postor", associate_category="contractor",
            inherent_likelihood=4, inherent_impact=4, residual_likelihood=2, residual_impact=4),
            exercise, actor=actor, today=local_today())
        return risk.id
