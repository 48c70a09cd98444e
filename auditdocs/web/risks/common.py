"""What the bribery-risk pages share: the right to read them, lookups under the access scope, the matrix as a page
shows it (words in the reader's language, colours), and how a refused change is answered."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from flask import abort, request

from ...colours import safe_fill, text_colour
from ...models.risks import RATINGS, BriberyRisk, RiskExercise, RiskMatrix
from ...policy import current_scope
from ...services import ServiceError, risk_matrix
from ...services.risks import get_exercise, get_risk
from ..helpers import current_lang
from .blueprint import bp
from .labels import CATEGORY_LABELS, EFFECTIVENESS_LABELS, EXERCISE_STATUS_LABELS, RATING_WORDS, RISK_STATUS_LABELS

LABELS = {"risk_category_labels": CATEGORY_LABELS, "risk_effectiveness_labels": EFFECTIVENESS_LABELS,
          "risk_status_labels": RISK_STATUS_LABELS, "exercise_status_labels": EXERCISE_STATUS_LABELS,
          "rating_words": RATING_WORDS}


@bp.context_processor
def _labels() -> dict[str, Any]:
    """The register's translated labels for the risks pages."""
    return LABELS


@bp.before_request
def _may_see() -> None:
    """Every risks page needs the right to read risks (auditors read, never write)."""
    if not current_scope().can("see_risks"):
        abort(403)


@dataclass(frozen=True)
class MatrixView:
    """A matrix as a page shows it: each rating's word in the reader's language and its colours, the level names."""

    matrix: RiskMatrix
    words: dict[str, str]
    fills: dict[str, str]
    inks: dict[str, str]
    likelihood: list[str]
    impact: list[str]

    def word(self, rating: str | None) -> str:
        """The configured word of a rating ("—" for none)."""
        return self.words.get(rating or "", "—")


def matrix_view(matrix: RiskMatrix, lang: str | None = None) -> MatrixView:
    """The matrix's words and colours in the reader's language (English when a word is missing)."""
    lang = lang or current_lang()
    labels, colours = matrix.label_map(), matrix.colour_map()
    words = {r: str(labels.get(r, {}).get(lang) or labels.get(r, {}).get("en") or RATING_WORDS[r]) for r in RATINGS}
    fills = {r: safe_fill(str(colours.get(r, ""))) for r in RATINGS}

    def axis(which: str, levels: int) -> list[str]:
        names = matrix.axis_labels(which)
        chosen = list(names.get(lang) or names.get("en") or [])
        return [str(chosen[n]) if n < len(chosen) else str(n + 1) for n in range(levels)]

    return MatrixView(matrix, words, fills, {r: text_colour(f) for r, f in fills.items()},
                      axis("likelihood", matrix.likelihood_levels), axis("impact", matrix.impact_levels))


def shown_matrix() -> RiskMatrix:
    """The matrix in force; before any was saved, the 5x5 default as it will be saved (not stored by a GET)."""
    matrix = risk_matrix.current_matrix()
    if matrix is not None:
        return matrix
    data = risk_matrix.default_input()
    return RiskMatrix(version=0, likelihood_levels=data.likelihood_levels, impact_levels=data.impact_levels,
                      thresholds=json.dumps(data.thresholds), labels=json.dumps(data.labels),
                      colours=json.dumps(data.colours), likelihood_labels=json.dumps(data.likelihood_labels),
                      impact_labels=json.dumps(data.impact_labels), id=0)


def int_arg(name: str) -> int | None:
    """A positive whole number from the query string, else None."""
    raw = (request.args.get(name) or "").strip()
    return int(raw) if raw.isdigit() and 0 < int(raw) < 2**31 else None


def risk_or_404(risk_id: int) -> BriberyRisk:
    """A risk the current user sees, else 404."""
    try:
        return get_risk(current_scope(), risk_id)
    except ServiceError:
        abort(404)


def exercise_or_404(exercise_id: int) -> RiskExercise:
    """An exercise, else 404 (every reader of risks sees every exercise)."""
    try:
        return get_exercise(current_scope(), exercise_id)
    except ServiceError:
        abort(404)
