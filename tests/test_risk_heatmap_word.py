"""The Word heat map for the packs and the colour arithmetic behind both heat maps: written to a .docx, re-read with
python-docx, every cell carries its count, its rating's words and its shade."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import docx
from docx.oxml.ns import qn

from auditdocs.colours import contrast, safe_fill, text_colour
from auditdocs.models.risks import RiskMatrix
from auditdocs.packs.heatmap import add_heatmap_table
from auditdocs.services.risk_heatmap import HeatMap, grid

COLOURS = {"low": "#2e7d32", "medium": "#f9a825", "high": "#ef6c00", "critical": "#b71c1c"}
LABELS = {"low": {"es": "Bajo", "en": "Low"}, "medium": {"es": "Medio", "en": "Medium"},
          "high": {"es": "Alto", "en": "High"}, "critical": {"es": "Crítico", "en": "Critical"}}


@dataclass
class Entry:
    """What grid() reads of a register entry."""

    risk_id: int
    inherent_likelihood: int
    inherent_impact: int


def _matrix(rows: int, cols: int) -> RiskMatrix:
    """A matrix that is never stored: the heat map needs only its values."""
    return RiskMatrix(id=7, version=3, likelihood_levels=rows, impact_levels=cols,
                      thresholds=json.dumps({"medium": 3, "high": 6, "critical": 10}), labels=json.dumps(LABELS),
                      colours=json.dumps(COLOURS),
                      likelihood_labels=json.dumps({"es": [f"P{n}" for n in range(1, rows + 1)],
                                                    "en": [f"L{n}" for n in range(1, rows + 1)]}),
                      impact_labels=json.dumps({"es": [f"I{n}" for n in range(1, cols + 1)],
                                                "en": [f"M{n}" for n in range(1, cols + 1)]}))


def _map(rows: int = 4, cols: int = 3) -> HeatMap:
    """Risks spread unevenly: cell (l, i) holds (l * 7 + i * 3) % 5 of them."""
    entries, n = [], 0
    for li in range(1, rows + 1):
        for im in range(1, cols + 1):
            for _k in range((li * 7 + im * 3) % 5):
                n += 1
                entries.append(Entry(n, li, im))
    return grid(entries, _matrix(rows, cols), "inherent")


def _words(lang: str) -> dict[str, str]:
    return {k: v[lang] for k, v in LABELS.items()}


def _shade(cell) -> str | None:  # type: ignore[no-untyped-def]
    shd = cell._tc.tcPr.find(qn("w:shd")) if cell._tc.tcPr is not None else None
    return None if shd is None else shd.get(qn("w:fill"))


def test_the_word_heat_map_prints_counts_ratings_and_shades_each_cell(tmp_path: Path):
    heat = _map()
    document = docx.Document()
    add_heatmap_table(document, heat, "es", _words("es"))
    path = tmp_path / "heat.docx"
    document.save(str(path))

    table = docx.Document(str(path)).tables[0]
    rows = list(table.rows)
    assert len(rows) == 5 and len(rows[0].cells) == 4
    header = [c.text for c in rows[0].cells]
    assert "Probabilidad" in header[0] and "Impacto" in header[0]
    assert header[1:] == ["1\nI1", "2\nI2", "3\nI3"]
    seen = 0
    for row, level in zip(rows[1:], (4, 3, 2, 1), strict=True):  # the highest likelihood on top
        cells = list(row.cells)
        assert cells[0].text == f"{level}\nP{level}"
        for impact in (1, 2, 3):
            expected = heat.cell(level, impact)
            count, label = cells[impact].text.split("\n")
            assert int(count) == expected.count
            assert label == LABELS[expected.rating]["es"]
            assert _shade(cells[impact]) == COLOURS[expected.rating].lstrip("#").upper()
            assert expected.count == (level * 7 + impact * 3) % 5
            seen += expected.count
    assert seen == heat.total > 0
    assert _shade(rows[0].cells[1]) is None  # headers are not shaded


def test_the_word_heat_map_speaks_english_and_keeps_text_readable_on_its_shade(tmp_path: Path):
    document = docx.Document()
    add_heatmap_table(document, _map(5, 5), "en", _words("en"))
    table = document.tables[0]
    assert "Likelihood" in table.rows[0].cells[0].text
    top_right = table.rows[1].cells[5]
    assert top_right.text.endswith("Critical")
    run = top_right.paragraphs[0].runs[0]
    assert str(run.font.color.rgb) == "FFFFFF"  # white on dark red
    yellow = [c for c in table.rows[5].cells[1:] if c.text.endswith("Medium")]
    assert not yellow or str(yellow[0].paragraphs[0].runs[0].font.color.rgb) == "000000"


def test_text_colour_always_reaches_the_contrast_axe_asks_for():
    for colour in ("#2e7d32", "#f9a825", "#ef6c00", "#b71c1c", "#777777", "#808080", "#ffffff", "#000", "#0000ff"):
        assert contrast(colour, text_colour(colour)) >= 4.5, colour


def test_a_colour_that_is_not_a_hex_code_never_reaches_the_markup():
    assert safe_fill('#fff" onload="x') == "#9e9e9e"
    assert safe_fill("red") == "#9e9e9e"
    assert safe_fill("#A1b2C3") == "#A1b2C3"
