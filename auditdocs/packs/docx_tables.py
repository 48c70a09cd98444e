"""Tables of any length in linear time: the whole w:tbl is written as text and parsed once, never through
python-docx's `table.cell`, `table.rows[i]` or `add_row` (each rebuilds or rewalks the grid: quadratic)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from .docx_styles import TABLE_CODE, TABLE_GRID, TABLE_TEXT, TEXT_WIDTH
from .docx_xml import append_to_body, escape_many, parse

HEADER_FILL = "D9E2F3"  # pale blue: the header row repeated at the top of every page
SAMPLE_ROWS = 200  # rows read to size the columns: enough to see the usual lengths, cheap at any table length
CHAR, HEADER_CHAR = 100, 110  # twips per character of 8-point Cambria, plain and bold, a little over the average
PAD = 260  # twips of cell margins, left and right, and a little air
LONGEST_WORD = 16  # characters: longer words (hashes, paths) may break rather than widen their column further
LONGEST_LINE = 60  # characters: beyond this a column wraps rather than take the page


def column_widths(columns: Sequence[str], rows: Sequence[Sequence[str]], total: int = TEXT_WIDTH) -> list[int]:
    """Widths in twips summing to total: each column at least its longest word (so "approved" never becomes
    "approve/d"), then the room left goes first to the columns that need least to fit their longest line whole, and
    what remains is shared equally by the ones that must wrap anyway."""
    least, wanted = [], []
    for j, header in enumerate(columns):
        texts = [row[j] for row in rows[:SAMPLE_ROWS] if j < len(row)]
        word = max((len(w) for text in texts for w in text.split()), default=1)
        line = max((len(li) for text in [header, *texts] for li in text.split("\n")), default=1)
        header_word = max((len(w) for w in header.split()), default=1)
        least.append(max(min(word, LONGEST_WORD) * CHAR, header_word * HEADER_CHAR) + PAD)
        wanted.append(max(min(line, LONGEST_LINE) * CHAR + PAD, least[-1]))
    if sum(least) >= total:
        widths = [total * w // sum(least) for w in least]
    elif sum(wanted) <= total:
        widths = [total * w // sum(wanted) for w in wanted]
    else:
        widths, spare = list(least), total - sum(least)
        pending = sorted(range(len(columns)), key=lambda j: (wanted[j] - least[j], j))
        while pending:
            share, first = spare // len(pending), pending[0]
            if wanted[first] - least[first] > share:
                for j in pending:
                    widths[j] += share
                break
            widths[first], spare = wanted[first], spare - (wanted[first] - least[first])
            pending.pop(0)
    widths[-1] += total - sum(widths)
    return widths


def _t(safe: str) -> str:
    """One escaped line as w:t; xml:space only where spaces would otherwise be dropped."""
    if not safe:
        return ""
    if safe[0] == " " or safe[-1] == " " or "  " in safe:
        return f'<w:t xml:space="preserve">{safe}</w:t>'
    return f"<w:t>{safe}</w:t>"


def _text(safe: str) -> str:
    """A run's content from escaped text: its lines as w:t, joined by w:br."""
    if not safe:
        return ""
    if "\n" in safe:
        return "<w:br/>".join(_t(line) for line in safe.split("\n"))
    return _t(safe)


def _cell(head: str, safe: str, bold: bool) -> str:
    body = _text(safe)
    if not body:
        return f"{head}</w:p></w:tc>"
    return f"{head}<w:r>{'<w:rPr><w:b/></w:rPr>' if bold else ''}{body}</w:r></w:p></w:tc>"


def _heads(widths: Sequence[int], styles: Sequence[str], fill: str | None, with_width: bool) -> list[str]:
    """Each column's cell opening up to the paragraph's properties. Body cells carry no width: the fixed layout
    takes the grid's, and 60,000 cells without it are 3 MB less XML to write and parse."""
    heads = []
    for width, style in zip(widths, styles, strict=True):
        props = (f'<w:tcW w:w="{width}" w:type="dxa"/>' if with_width else "") + (
            f'<w:shd w:val="clear" w:color="auto" w:fill="{fill}"/>' if fill else "")
        heads.append(f"<w:tc>{f'<w:tcPr>{props}</w:tcPr>' if props else ''}"
                     f'<w:p><w:pPr><w:pStyle w:val="{style}"/></w:pPr>')
    return heads


def table_xml(columns: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[int], *,
              fills: Mapping[int, str] | None = None, bold_rows: Collection[int] = (),
              code_columns: Collection[int] = ()) -> str:
    """The w:tbl: fixed layout on the given widths, a bold shaded header row repeated on every page, then one row
    per input row (padded or cut to the columns), row n shaded fills[n] and bold when n is in bold_rows."""
    fills, bold = fills or {}, frozenset(bold_rows)
    count = len(columns)
    styles = [TABLE_CODE[1] if j in code_columns else TABLE_TEXT[1] for j in range(count)]
    grid = "".join(f'<w:gridCol w:w="{w}"/>' for w in widths)
    header = _heads(widths, [TABLE_TEXT[1]] * count, HEADER_FILL, True)
    parts = [f'<w:tbl><w:tblPr><w:tblStyle w:val="{TABLE_GRID}"/><w:tblW w:w="{sum(widths)}" w:type="dxa"/>'
             '<w:tblLayout w:type="fixed"/>'
             '<w:tblLook w:val="04A0" w:firstRow="1" w:lastRow="0" w:firstColumn="0" w:lastColumn="0" '
             'w:noHBand="0" w:noVBand="1"/></w:tblPr>'
             f"<w:tblGrid>{grid}</w:tblGrid>"
             "<w:tr><w:trPr><w:cantSplit/><w:tblHeader/></w:trPr>",
             *(_cell(head, text, True) for head, text in zip(header, escape_many(list(columns)), strict=True)),
             "</w:tr>"]
    plain = _heads(widths, styles, None, False)
    shaded = {fill: _heads(widths, styles, fill, False) for fill in sorted(set(fills.values()))}
    blank = ("",) * count
    safe = escape_many([text for row in rows
                        for text in (row if len(row) == count else (tuple(row[:count]) + blank[len(row):]))])
    for n in range(len(rows)):
        fill = fills.get(n)
        heads = plain if fill is None else shaded[fill]
        cells = safe[n * count:(n + 1) * count]
        parts.append("<w:tr>")
        parts.extend(_cell(head, text, n in bold) for head, text in zip(heads, cells, strict=True))
        parts.append("</w:tr>")
    parts.append("</w:tbl>")
    return "".join(parts)


def add_table(document: Any, columns: Sequence[str], rows: Sequence[Sequence[str]], *,
              fills: Mapping[int, str] | None = None,
              bold_rows: Collection[int] = (), code_columns: Collection[int] = ()) -> Any:
    """Append the table at the end of the body in one parse; returns its w:tbl element."""
    widths = column_widths(columns, rows)
    tbl = parse(table_xml(columns, rows, widths, fills=fills, bold_rows=bold_rows, code_columns=code_columns))
    append_to_body(document, tbl)
    return tbl
