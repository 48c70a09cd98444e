"""The bribery-risk heat map as a shaded Word table: python-docx has no SVG, and a table keeps the counts and ratings
as text a reader (and a screen reader) gets without the colours."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt, RGBColor
from docx.table import Table, _Cell

from ..colours import safe_fill, text_colour

HEADINGS = {"es": ("Probabilidad", "Impacto"), "en": ("Likelihood", "Impact")}


class WordCell(Protocol):
    """What a cell of the heat map must give."""

    likelihood: int
    impact: int
    count: int
    rating: str


@dataclass(frozen=True)
class Square:
    """One cell as printed: its count, the rating's words and its shade."""

    count: int
    label: str
    fill: str


def _cells(cells: Any) -> Iterable[WordCell]:
    """Cells given flat or as rows of cells."""
    for item in cells:
        if isinstance(item, list | tuple):
            yield from item
        else:
            yield item


def _grid(heatmap: Any, lang: str) -> tuple[list[str], list[str], dict[tuple[int, int], Square]]:
    """The level labels (1 first) and each cell's square, from the core's HeatMap."""
    likelihood = list(heatmap.likelihood_labels)
    impact = list(heatmap.impact_labels)
    squares = {}
    for cell in _cells(heatmap.cells):
        label = heatmap.rating_label(cell.rating, lang) if hasattr(heatmap, "rating_label") else cell.rating
        squares[(cell.likelihood, cell.impact)] = Square(cell.count, str(label), safe_fill(heatmap.colour(cell.rating)))
    return likelihood, impact, squares


def shade(cell: _Cell, fill: str) -> None:
    """Give a cell a solid background (w:shd in its properties)."""
    tc_pr = cell._tc.get_or_add_tcPr()
    for old in tc_pr.findall(qn("w:shd")):
        tc_pr.remove(old)
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill.lstrip("#").upper())
    tc_pr.append(shd)


def _write(cell: _Cell, lines: Sequence[str], bold_first: bool = False, ink: str | None = None) -> None:
    """Text in a cell, one paragraph per line, centred."""
    paragraph = cell.paragraphs[0]
    for n, line in enumerate(lines):
        if n:
            paragraph = cell.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        run = paragraph.add_run(line)
        run.bold = bold_first and n == 0
        run.font.size = Pt(11 if n == 0 else 8)
        if ink:
            run.font.color.rgb = RGBColor.from_string(ink.lstrip("#").upper())


def add_heatmap_table(document: Any, heatmap: Any, lang: str) -> Table:
    """Append the heat map: likelihood rows from the highest down, impact columns from the lowest, each cell shaded
    with its rating's colour and printing its count and rating."""
    likelihood, impact, squares = _grid(heatmap, lang)
    row_title, column_title = HEADINGS.get(lang, HEADINGS["en"])
    table = document.add_table(rows=len(likelihood) + 1, cols=len(impact) + 1)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    rows = list(table.rows)  # read the grid once: table.cell(i, j) rebuilds it on every call
    header = list(rows[0].cells)
    _write(header[0], [f"{row_title} \u2193 / {column_title} \u2192"], bold_first=True)
    for level, text in enumerate(impact, 1):
        _write(header[level], [str(level), text], bold_first=True)
    for row, level in zip(rows[1:], range(len(likelihood), 0, -1), strict=True):
        cells = list(row.cells)
        _write(cells[0], [str(level), likelihood[level - 1]], bold_first=True)
        for column in range(1, len(impact) + 1):
            square = squares.get((level, column), Square(0, "", "#FFFFFF"))
            shade(cells[column], square.fill)
            _write(cells[column], [str(square.count), square.label], bold_first=True, ink=text_colour(square.fill))
    return table
