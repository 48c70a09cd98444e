"""The bribery-risk matrix: dimensions, rating thresholds, labels in es and en, colours; every change a new version.

Why versions: an exercise is scored with the matrix current when it was created, for ever, so a past assessment
still reads as it was rated after an administrator changes the thresholds. The table refuses UPDATE and DELETE.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ..db import advisory_lock
from ..extensions import db
from ..models import RiskMatrix, User
from ..models.risks import MAX_LEVELS, MIN_LEVELS, RATINGS
from ..policy import scope_of
from ..timeutil import utcnow
from . import Forbidden, ServiceError, audit
from .programme import Problems

ACTION = "risk_matrix.save"
LANGS = ("es", "en")
LABEL_MAX, NOTE_MAX = 60, 2000
_PG_LOCK = 0x524D4154  # "RMAT": serialises new matrix versions
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")

DEFAULT_THRESHOLDS = {"medium": 5, "high": 10, "critical": 17}
DEFAULT_LABELS = {"low": {"es": "Bajo", "en": "Low"}, "medium": {"es": "Medio", "en": "Medium"},
                  "high": {"es": "Alto", "en": "High"}, "critical": {"es": "Crítico", "en": "Critical"}}
DEFAULT_COLOURS = {"low": "#2e7d32", "medium": "#f9a825", "high": "#ef6c00", "critical": "#c62828"}
DEFAULT_LIKELIHOOD = {"es": ["Rara", "Improbable", "Posible", "Probable", "Casi segura"],
                      "en": ["Rare", "Unlikely", "Possible", "Likely", "Almost certain"]}
DEFAULT_IMPACT = {"es": ["Insignificante", "Menor", "Moderado", "Mayor", "Grave"],
                  "en": ["Insignificant", "Minor", "Moderate", "Major", "Severe"]}


@dataclass
class MatrixInput:
    """What the matrix form says: dimensions, the minimum score per rating above low, labels and colours."""

    likelihood_levels: int | None
    impact_levels: int | None
    thresholds: dict[str, int | None] = field(default_factory=dict)  # medium, high, critical
    labels: dict[str, dict[str, str]] = field(default_factory=dict)  # rating -> {"es": ..., "en": ...}
    colours: dict[str, str] = field(default_factory=dict)  # rating -> "#rrggbb"
    likelihood_labels: dict[str, list[str]] = field(default_factory=dict)  # lang -> one name per level
    impact_labels: dict[str, list[str]] = field(default_factory=dict)
    note: str | None = None


def default_input() -> MatrixInput:
    """The 5x5 default (version 1 when nothing was configured)."""
    return MatrixInput(5, 5, dict(DEFAULT_THRESHOLDS), json.loads(json.dumps(DEFAULT_LABELS)), dict(DEFAULT_COLOURS),
                       json.loads(json.dumps(DEFAULT_LIKELIHOOD)), json.loads(json.dumps(DEFAULT_IMPACT)))


def input_of(matrix: RiskMatrix) -> MatrixInput:
    """A matrix version as form input (to prefill the next version)."""
    return MatrixInput(matrix.likelihood_levels, matrix.impact_levels, dict(matrix.threshold_map()),
                       matrix.label_map(), matrix.colour_map(), matrix.axis_labels("likelihood"),
                       matrix.axis_labels("impact"), None)


def current_matrix() -> RiskMatrix | None:
    """The newest version, or None while nothing was ever saved."""
    return db.session.scalar(select(RiskMatrix).order_by(RiskMatrix.version.desc()).limit(1))


def matrix_of(matrix_id: int) -> RiskMatrix:
    """A version by id (404 when there is none)."""
    matrix = db.session.get(RiskMatrix, matrix_id)
    if matrix is None:
        raise ServiceError(_l("There is no such risk matrix."), 404)
    return matrix


def versions() -> list[RiskMatrix]:
    """Every version, newest first."""
    return list(db.session.scalars(select(RiskMatrix).order_by(RiskMatrix.version.desc())))


def ensure_matrix(actor: User | None) -> RiskMatrix:
    """The current matrix, saving the 5x5 default as version 1 when the table is empty (inside a write)."""
    advisory_lock(_PG_LOCK)
    return current_matrix() or _add(default_input(), actor)


def save_matrix(data: MatrixInput, *, actor: User) -> RiskMatrix:
    """Save a new version (administrators only); exercises created from now on are scored with it."""
    refusal = scope_of(actor).refuse_configure_matrix()
    if refusal is not None:
        raise Forbidden(refusal)
    advisory_lock(_PG_LOCK)
    return _add(data, actor)


def _add(data: MatrixInput, actor: User | None) -> RiskMatrix:
    values = _validated(data)
    last = db.session.scalar(select(func.max(RiskMatrix.version))) or 0
    matrix = RiskMatrix(version=last + 1, created_at=utcnow(), created_by_id=actor.id if actor else None, **values)
    db.session.add(matrix)
    db.session.flush()
    audit.record(ACTION, "risk_matrix", f"v{matrix.version}", actor=actor, actor_label=None if actor else "system",
                 new={"version": matrix.version, "likelihood_levels": matrix.likelihood_levels,
                      "impact_levels": matrix.impact_levels, "thresholds": matrix.threshold_map(),
                      "note": matrix.note})
    return matrix


def _dump(value: object) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _validated(data: MatrixInput) -> dict[str, object]:
    problems = Problems()
    dims = {}
    for name in ("likelihood_levels", "impact_levels"):
        value = getattr(data, name)
        if value is None or not MIN_LEVELS <= value <= MAX_LEVELS:
            problems.add(name, _l("Between %(low)d and %(high)d levels.", low=MIN_LEVELS, high=MAX_LEVELS))
        dims[name] = value or 0
    highest = dims["likelihood_levels"] * dims["impact_levels"]
    thresholds = {r: data.thresholds.get(r) for r in RATINGS[1:]}
    previous = 1
    for minimum in thresholds.values():
        if minimum is None or minimum <= previous or (highest and minimum > highest):
            problems.add("thresholds", _l("Each rating needs a minimum score above the previous one's, at most "
                                          "likelihood × impact."))
            break
        previous = minimum
    labels = {r: {lang: (data.labels.get(r, {}).get(lang) or "").strip() for lang in LANGS} for r in RATINGS}
    if any(not text or len(text) > LABEL_MAX for names in labels.values() for text in names.values()):
        problems.add("labels", _l("Name every rating in Spanish and in English (at most %(num)d characters).",
                                  num=LABEL_MAX))
    colours = {r: (data.colours.get(r) or "").strip().lower() for r in RATINGS}
    if not all(_COLOUR.match(c) for c in colours.values()):
        problems.add("colours", _l("Give every rating a colour such as #c62828."))
    axes = {}
    for name, dim in (("likelihood_labels", "likelihood_levels"), ("impact_labels", "impact_levels")):
        given = getattr(data, name)
        axes[name] = {lang: [(t or "").strip() for t in given.get(lang, [])] for lang in LANGS}
        if any(len(names) != dims[dim] or not all(names) or any(len(t) > LABEL_MAX for t in names)
               for names in axes[name].values()):
            problems.add(name, _l("Name every level in Spanish and in English."))
    note = problems.text("note", data.note, NOTE_MAX)
    problems.check()
    return {"likelihood_levels": dims["likelihood_levels"], "impact_levels": dims["impact_levels"],
            "thresholds": _dump(thresholds), "labels": _dump(labels), "colours": _dump(colours),
            "likelihood_labels": _dump(axes["likelihood_labels"]), "impact_labels": _dump(axes["impact_labels"]),
            "note": note}


def rating_of(matrix: RiskMatrix, score: int) -> str:
    """The rating a score earns: the highest whose minimum it reaches ("low" below "medium")."""
    rating = RATINGS[0]
    for name, minimum in sorted(matrix.threshold_map().items(), key=lambda item: item[1]):
        if score >= minimum:
            rating = name
    return rating


def score(matrix: RiskMatrix, likelihood: int, impact: int) -> tuple[int, str]:
    """Score (likelihood × impact) and rating; levels outside the matrix are a ValueError (validate first)."""
    if not (1 <= likelihood <= matrix.likelihood_levels and 1 <= impact <= matrix.impact_levels):
        raise ValueError(f"({likelihood}, {impact}) is outside a {matrix.likelihood_levels}x{matrix.impact_levels} "
                         "matrix")
    value = likelihood * impact
    return value, rating_of(matrix, value)


def label(matrix: RiskMatrix, rating: str, lang: str) -> str:
    """A rating's name in a language (English, then the code, when missing)."""
    names = matrix.label_map().get(rating, {})
    return names.get(lang) or names.get("en") or rating


def colour(matrix: RiskMatrix, rating: str) -> str:
    """A rating's colour ("#rrggbb")."""
    return matrix.colour_map().get(rating, "#757575")


def axis_label(matrix: RiskMatrix, which: str, level: int, lang: str) -> str:
    """The name of a level (1-based) of the "likelihood" or "impact" axis; its number when unnamed."""
    names = matrix.axis_labels(which)
    chosen = names.get(lang) or names.get("en") or []
    return chosen[level - 1] if 0 < level <= len(chosen) else str(level)
