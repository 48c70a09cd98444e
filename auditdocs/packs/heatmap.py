"""The bribery-risk heat map as a shaded Word table: python-docx has no SVG, and a table keeps the counts and ratings
as text a reader (and a screen reader) gets without the colours."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt, RGBColor
from docx.table import Table, _Cell

from ..colours import safe_fill, text_colour
from ..models.risks import RATINGS
from ..services.risk_heatmap import HeatMap
from ..services.risk_matrix import label, matrix_of

HEADINGS = {"es": ("Probabilidad", "Impacto"), "en": ("Likelihood", "Impact")}


@dataclass(frozen=True)
class Square:
    """One cell as printed: its count, the rating's words and its shade."""

    count: int
    label: str
    fill: str


def _levels(names: Mapping[str, Sequence[str]], lang: str, levels: int) -> list[str]:
    chosen = list(names.get(lang) or names.get("en") or [])
    return [str(chosen[n]) if n < len(chosen) else "" for n in range(levels)]


def _grid(heatmap: HeatMap, lang: str, words: Mapping[str, str] | None
          ) -> tuple[list[str], list[str], dict[tuple[int, int], Square]]:
    """The level names (level 1 first) and each cell's square."""
    if words is None:
        matrix = matrix_of(heatmap.matrix_id)
        words = {rating: label(matrix, rating, lang) for rating in RATINGS}
    squares = {(cell.likelihood, cell.impact): Square(cell.count, str(words.get(cell.rating, cell.rating)),
                                                      safe_fill(cell.colour))
               for row in heatmap.cells.values() for cell in row.values()}
    return (_levels(heatmap.likelihood_labels, lang, heatmap.likelihood_levels),
            _levels(heatmap.impact_labels, lang, heatmap.impact_levels), squares)


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


def add_heatmap_table(document: Any, heatmap: HeatMap, lang: str, words: Mapping[str, str] | None = None) -> Table:
    """Append the heat map: likelihood rows from the highest down, impact columns from the lowest, each cell shaded
    with its rating's colour and printing its count and its rating's word (`words`, else the heat map's matrix's
    words in `lang`)."""
    likelihood, impact, squares = _grid(heatmap, lang, words)
    row_title, column_title = HEADINGS.get(lang, HEADINGS["en"])
    table: Table = document.add_table(rows=len(likelihood) + 1, cols=len(impact) + 1)
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
