"""Tables of any length in linear time: the whole w:tbl is written as text and parsed once, never through
python-docx's `table.cell`, `table.rows[i]` or `add_row` (each rebuilds or rewalks the grid: quadratic)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from .docx_styles import TABLE_CODE, TABLE_GRID, TABLE_TEXT, TEXT_WIDTH
from .docx_xml import append_to_body, parse, run_xml

HEADER_FILL = "D9E2F3"  # pale blue: the header row repeated at the top of every page
SAMPLE_ROWS = 200  # rows read to size the columns: enough to see the usual lengths, cheap at any table length
MIN_WEIGHT, MAX_WEIGHT = 4, 48  # characters: a column is never starved, a long title never takes the whole page


def column_widths(columns: Sequence[str], rows: Sequence[Sequence[str]], total: int = TEXT_WIDTH,
                  weights: Sequence[int] | None = None) -> list[int]:
    """Widths in twips summing to total: given weights, or each column's longest line in its header word and the
    first rows, clamped."""
    if weights is None:
        found = []
        for j, header in enumerate(columns):
            longest = max((len(word) for word in header.split()), default=0)
            for row in rows[:SAMPLE_ROWS]:
                if j < len(row) and row[j]:
                    longest = max(longest, *(len(line) for line in row[j].split("\n")))
            found.append(min(max(longest, MIN_WEIGHT), MAX_WEIGHT))
        weights = found
    whole = sum(weights) or 1
    widths = [total * w // whole for w in weights]
    widths[-1] += total - sum(widths)
    return widths


def _cell(text: str, width: int, style: str, fill: str | None, bold: bool) -> str:
    shade = f'<w:shd w:val="clear" w:color="auto" w:fill="{fill}"/>' if fill else ""
    return (f'<w:tc><w:tcPr><w:tcW w:w="{width}" w:type="dxa"/>{shade}</w:tcPr>'
            f'<w:p><w:pPr><w:pStyle w:val="{style}"/></w:pPr>{run_xml(text, bold=bold)}</w:p></w:tc>')


def table_xml(columns: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[int], *,
              fills: Mapping[int, str] | None = None, bold_rows: Collection[int] = (),
              code_columns: Collection[int] = ()) -> str:
    """The w:tbl: fixed layout on the given widths, a bold shaded header row repeated on every page, then one row
    per input row (padded or cut to the columns), row n shaded fills[n] and bold when n is in bold_rows."""
    fills = fills or {}
    styles = [TABLE_CODE[1] if j in code_columns else TABLE_TEXT[1] for j in range(len(columns))]
    grid = "".join(f'<w:gridCol w:w="{w}"/>' for w in widths)
    parts = [f'<w:tbl><w:tblPr><w:tblStyle w:val="{TABLE_GRID}"/><w:tblW w:w="{sum(widths)}" w:type="dxa"/>'
             '<w:tblLayout w:type="fixed"/>'
             '<w:tblLook w:val="04A0" w:firstRow="1" w:lastRow="0" w:firstColumn="0" w:lastColumn="0" '
             'w:noHBand="0" w:noVBand="1"/></w:tblPr>'
             f"<w:tblGrid>{grid}</w:tblGrid>"
             "<w:tr><w:trPr><w:cantSplit/><w:tblHeader/></w:trPr>",
             *(_cell(text, w, TABLE_TEXT[1], HEADER_FILL, True) for text, w in zip(columns, widths, strict=True)),
             "</w:tr>"]
    width_of = list(zip(widths, styles, strict=True))
    blank = [""] * len(columns)
    for n, row in enumerate(rows):
        fill, bold = fills.get(n), n in bold_rows
        cells = list(row[: len(columns)]) + blank[len(row):]
        parts.append("<w:tr>")
        parts.extend(_cell(text, w, style, fill, bold) for text, (w, style) in zip(cells, width_of, strict=True))
        parts.append("</w:tr>")
    parts.append("</w:tbl>")
    return "".join(parts)


def add_table(document: Any, columns: Sequence[str], rows: Sequence[Sequence[str]], *,
              weights: Sequence[int] | None = None, fills: Mapping[int, str] | None = None,
              bold_rows: Collection[int] = (), code_columns: Collection[int] = ()) -> Any:
    """Append the table at the end of the body in one parse; returns its w:tbl element."""
    widths = column_widths(columns, rows, weights=weights)
    tbl = parse(table_xml(columns, rows, widths, fills=fills, bold_rows=bold_rows, code_columns=code_columns))
    append_to_body(document, tbl)
    return tbl
