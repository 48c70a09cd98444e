"""Geometry of the server-rendered heat maps and trend chart: the template draws what this computes, so the SVG needs
no script and no inline style (strict CSP) and every count stays readable without colour."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from ...colours import safe_fill, text_colour

CELL = 64  # px of one square
LEFT = 150  # room for the likelihood axis title and level labels
TOP = 12
BOTTOM = 70  # room for the impact level labels and axis title
LABEL_CHARS = 16  # level labels longer than this are cut (the table alternative prints them in full)


class CellLike(Protocol):
    """What one cell of a heat map gives (the core's HeatMap cells have these)."""

    @property
    def likelihood(self) -> int: ...
    @property
    def impact(self) -> int: ...
    @property
    def count(self) -> int: ...
    @property
    def rating(self) -> str: ...


def short(text: str, limit: int = LABEL_CHARS) -> str:
    """A level label cut to fit its axis."""
    return text if len(text) <= limit else text[:limit - 1] + "…"


@dataclass(frozen=True)
class SvgCell:
    """One square as drawn: where, which colours, what it says and where it links."""

    x: int
    y: int
    fill: str
    ink: str
    count: int
    rating: str
    label: str
    likelihood: int
    impact: int
    href: str
    name: str  # the link's accessible name: "Likelihood 3, impact 4: 2 risks (High)"


@dataclass(frozen=True)
class AxisLabel:
    """A level label and where it sits."""

    x: int
    y: int
    text: str
    full: str


@dataclass(frozen=True)
class SvgHeatMap:
    """A heat map ready for templates/risks/_heatmap.html."""

    width: int
    height: int
    cells: list[SvgCell]
    rows: list[AxisLabel]  # likelihood, top (highest) to bottom
    columns: list[AxisLabel]  # impact, left (lowest) to right
    grid_x: int
    grid_y: int
    grid_w: int
    grid_h: int
    total: int


def layout(cells: Sequence[CellLike], likelihood_labels: Sequence[str], impact_labels: Sequence[str],
           colour_of: Callable[[str], str], label_of: Callable[[str], str],
           href_of: Callable[[int, int], str], name_of: Callable[[int, int, int, str], str]) -> SvgHeatMap:
    """Place the cells: likelihood rows from the highest down, impact columns from the lowest right."""
    rows_n, cols_n = len(likelihood_labels), len(impact_labels)
    drawn = []
    for cell in cells:
        x = LEFT + (cell.impact - 1) * CELL
        y = TOP + (rows_n - cell.likelihood) * CELL
        fill = safe_fill(colour_of(cell.rating))
        label = label_of(cell.rating)
        drawn.append(SvgCell(x, y, fill, text_colour(fill), cell.count, cell.rating, label, cell.likelihood,
                             cell.impact, href_of(cell.likelihood, cell.impact),
                             name_of(cell.likelihood, cell.impact, cell.count, label)))
    drawn.sort(key=lambda c: (-c.likelihood, c.impact))  # reading (and Tab) order: top row first, left to right
    rows = [AxisLabel(LEFT - 8, TOP + (rows_n - level) * CELL + CELL // 2 + 4, short(f"{level} {text}"),
                      f"{level} {text}") for level, text in sorted(enumerate(likelihood_labels, 1), reverse=True)]
    columns = [AxisLabel(LEFT + (level - 1) * CELL + CELL // 2, TOP + rows_n * CELL + 16, str(level),
                         f"{level} {text}") for level, text in enumerate(impact_labels, 1)]
    return SvgHeatMap(width=LEFT + cols_n * CELL + 8, height=TOP + rows_n * CELL + BOTTOM, cells=drawn, rows=rows,
                      columns=columns, grid_x=LEFT, grid_y=TOP, grid_w=cols_n * CELL, grid_h=rows_n * CELL,
                      total=sum(c.count for c in cells))


@dataclass(frozen=True)
class Bar:
    """One exercise's bars in the trend chart (high on the left, critical on the right)."""

    name: str
    label: str
    high: int
    critical: int
    x: int
    high_y: int
    high_h: int
    critical_y: int
    critical_h: int


@dataclass(frozen=True)
class TrendChart:
    """The trend of high and critical residual risks, one group of bars per exercise."""

    width: int
    height: int
    base_y: int
    bars: list[Bar]
    peak: int
    bar_w: int


def trend_chart(points: Sequence[tuple[str, int, int]], height: int = 160, group: int = 70) -> TrendChart:
    """Bars scaled to the highest count, with room under them for each exercise's name."""
    peak = max([1, *(max(h, c) for _n, h, c in points)])
    top, base = 16, height - 40
    bar_w = (group - 14) // 2

    def size(n: int) -> int:
        return round((base - top) * n / peak)

    bars = [Bar(name, short(name, 12), h, c, 40 + i * group, base - size(h), size(h), base - size(c), size(c))
            for i, (name, h, c) in enumerate(points)]
    return TrendChart(width=40 + max(1, len(points)) * group + 10, height=height, base_y=base, bars=bars, peak=peak,
                      bar_w=bar_w)
