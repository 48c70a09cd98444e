"""Figures for the dashboard, each a single query."""

from __future__ import annotations

from sqlalchemy import func, select

from ..extensions import db
from ..models import Clause, Standard


def dashboard_context() -> dict:
    """Per standard: clauses, those asking for documented information, those not applicable."""
    rows = db.session.execute(
        select(
            Standard.id,
            Standard.code,
            Standard.slug,
            func.count(Clause.id),
            func.sum(func.cast(Clause.documented_information != "none", db.Integer)),
            func.sum(func.cast(Clause.applicable.is_(False), db.Integer)),
        )
        .join(Clause, Clause.standard_id == Standard.id)
        .group_by(Standard.id, Standard.code, Standard.slug)
        .order_by(Standard.sort_order)
    ).all()
    standards = [
        {"code": r[1], "slug": r[2], "clauses": r[3], "documented": r[4] or 0, "not_applicable": r[5] or 0}
        for r in rows
    ]
    return {"standards": standards}
