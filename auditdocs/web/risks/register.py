"""The bribery-risk register: now or as it stood at an exercise, filtered by site, process, category, rating, status,
text, or one heat-map cell (the heat maps link here), with counts per rating and the review flags."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from flask import render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l

from ...models.risks import CATEGORIES, RATINGS, RISK_STATUSES
from ...policy import current_scope
from ...services import ServiceError, risk_register, risks
from ...services.risk_register import RiskEntry
from ...textnorm import fold
from ...timeutil import local_today
from ..programme_forms import process_choices, site_choices
from .blueprint import bp
from .common import int_arg, matrix_view, shown_matrix
from .flags import flag_rows
from .register_export import FILTER_NAMES, risk_filters

FILTERS = ("q", "exercise", "site", "process", "category", "rating", "status", "which", "l", "i")
WHICH_WORDS = {
    "inherent": _l("Only the risks in the inherent-risk heat-map cell likelihood %(l)d, impact %(i)d."),
    "residual": _l("Only the risks in the residual-risk heat-map cell likelihood %(l)d, impact %(i)d."),
}


def _keep(entry: RiskEntry, raw: Mapping[str, str], cell: tuple[int, int] | None, which: str) -> bool:
    if raw["category"] in CATEGORIES and entry.associate_category != raw["category"]:
        return False
    if raw["rating"] in RATINGS and entry.residual_rating != raw["rating"]:
        return False
    if raw["status"] in RISK_STATUSES and entry.status != raw["status"]:
        return False
    if raw["q"] and fold(raw["q"]) not in fold(f"{entry.reference} {entry.title}"):
        return False
    if cell is not None:
        return (getattr(entry, f"{which}_likelihood"), getattr(entry, f"{which}_impact")) == cell
    return True


def _export_query(raw: Mapping[str, str]) -> dict[str, str]:
    """The filters the export links carry: the page's own, when the export accepts them all (else none)."""
    query = {k: raw[k] for k in FILTER_NAMES if raw.get(k)}
    try:
        risk_filters(query)
    except ServiceError:
        return {}
    return query


def register_context(args: Mapping[str, str]) -> dict[str, Any]:
    """The register for the query string's filters."""
    scope = current_scope()
    raw = {k: (args.get(k) or "").strip() for k in FILTERS}
    exercise_id, site_id, process_id = int_arg("exercise"), int_arg("site"), int_arg("process")
    choices = risks.exercises()
    exercise = next((e for e in choices if e.id == exercise_id), None)
    which = raw["which"] if raw["which"] in WHICH_WORDS else "residual"
    likelihood, impact = int_arg("l"), int_arg("i")
    cell = (likelihood, impact) if likelihood and impact and raw["which"] in WHICH_WORDS else None
    found = risk_register.entries(scope, exercise.id if exercise else None, site_id, process_id)
    rows = [e for e in found if _keep(e, raw, cell, which)]
    matrix = exercise.matrix if exercise else shown_matrix()
    base = {k: raw[k] for k in ("exercise", "site", "process") if raw[k]}
    return {"rows": rows, "raw": raw, "exercise": exercise, "exercises": choices, "cell": cell,
            "cell_note": str(WHICH_WORDS[which]) % {"l": cell[0], "i": cell[1]} if cell else None,
            "base_query": base, "lk": risk_register.lookups(rows),
            "mv": matrix_view(matrix), "ratings": RATINGS, "by_rating": Counter(e.residual_rating for e in rows),
            "today": local_today(), "site_choices": site_choices(), "process_choices": process_choices(),
            "may_assess": scope.refuse_assess_risk() is None, "export_query": _export_query(raw),
            "flags": flag_rows(scope, local_today()) if not scope.approved_only else None}


@bp.route("/")
def index() -> ResponseReturnValue:
    """The register: what could go wrong, where, how grave before and after the controls, who approved it."""
    return render_template("risks/index.html", **register_context(request.args))
