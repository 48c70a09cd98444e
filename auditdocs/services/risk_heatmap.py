"""Heat maps of the bribery-risk register (inherent or residual) and the trend of high and critical residual risks.

Why a plain grid: the web page draws it as SVG, the Word packs as a shaded table and the tests count its cells
against the database; all three read the same cells (likelihood, impact, count, rating, the risks in it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..models import RiskExercise, RiskMatrix
from ..policy import AccessScope
from . import risk_matrix, risk_register, risks
from .risk_register import RiskEntry

WHICH = ("inherent", "residual")


@dataclass(frozen=True)
class HeatCell:
    """One cell: its position, the rating the matrix gives it, and the risks that fall in it."""

    likelihood: int
    impact: int
    score: int
    rating: str
    colour: str
    risk_ids: tuple[int, ...] = ()

    @property
    def count(self) -> int:
        return len(self.risk_ids)


@dataclass(frozen=True)
class HeatMap:
    """A likelihood × impact grid; `cells[likelihood][impact]`, both 1-based."""

    matrix_id: int
    which: str
    likelihood_levels: int
    impact_levels: int
    cells: dict[int, dict[int, HeatCell]]
    likelihood_labels: dict[str, list[str]]
    impact_labels: dict[str, list[str]]
    outside: tuple[int, ...] = ()  # risks scored on a larger matrix than this one: in no cell

    def cell(self, likelihood: int, impact: int) -> HeatCell:
        return self.cells[likelihood][impact]

    def rows(self) -> list[list[HeatCell]]:
        """Rows from the highest likelihood down, each from the lowest impact up (how the grid is drawn)."""
        return [[self.cells[lk][im] for im in range(1, self.impact_levels + 1)]
                for lk in range(self.likelihood_levels, 0, -1)]

    @property
    def total(self) -> int:
        return sum(c.count for row in self.cells.values() for c in row.values())


@dataclass(frozen=True)
class TrendPoint:
    """One exercise's count of approved risks rated high and critical on residual risk."""

    exercise_id: int
    reference: str
    name: str
    year: int
    high: int
    critical: int
    total: int = 0  # risks in that exercise's register

    @property
    def high_or_critical(self) -> int:
        return self.high + self.critical


def grid(entries: Iterable[RiskEntry], matrix: RiskMatrix, which: str = "inherent") -> HeatMap:
    """Place each entry in the cell of its inherent or residual likelihood and impact on this matrix."""
    if which not in WHICH:
        raise ValueError(f"which must be one of {WHICH}, not {which!r}")
    placed: dict[tuple[int, int], list[int]] = {}
    outside: list[int] = []
    for entry in entries:
        key = (getattr(entry, f"{which}_likelihood"), getattr(entry, f"{which}_impact"))
        if 1 <= key[0] <= matrix.likelihood_levels and 1 <= key[1] <= matrix.impact_levels:
            placed.setdefault(key, []).append(entry.risk_id)
        else:
            outside.append(entry.risk_id)
    cells: dict[int, dict[int, HeatCell]] = {}
    for lk in range(1, matrix.likelihood_levels + 1):
        cells[lk] = {}
        for im in range(1, matrix.impact_levels + 1):
            value, rating = risk_matrix.score(matrix, lk, im)
            cells[lk][im] = HeatCell(lk, im, value, rating, risk_matrix.colour(matrix, rating),
                                     tuple(sorted(placed.get((lk, im), []))))
    return HeatMap(matrix.id, which, matrix.likelihood_levels, matrix.impact_levels, cells,
                   matrix.axis_labels("likelihood"), matrix.axis_labels("impact"), tuple(sorted(outside)))


def trend(scope: AccessScope) -> list[TrendPoint]:
    """Per exercise, oldest first: approved risks of its register rated high and critical on residual risk."""
    if not scope.can("see_risks"):
        return []
    out = []
    for exercise in sorted(risks.exercises(), key=_order):
        found = risk_register.entries(scope, exercise.id)
        out.append(TrendPoint(exercise.id, exercise.reference, exercise.name, exercise.year,
                              sum(e.residual_rating == "high" for e in found),
                              sum(e.residual_rating == "critical" for e in found), len(found)))
    return out


def _order(exercise: RiskExercise) -> tuple[int, str, int]:
    return exercise.year, exercise.starts_on.isoformat() if exercise.starts_on else "", exercise.id
