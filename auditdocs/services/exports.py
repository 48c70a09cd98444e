"""Registers exported as spreadsheets: one column spec, streamed to CSV (UTF-8 with BOM) or XLSX (openpyxl).

Why one module: every register (nonconformities and actions now; risks, gifts later) must export the same safe way —
typed numbers and dates, headers in the reader's language, and no cell a spreadsheet would run as a formula. A
register declares its columns (key, translated header, value function) and its rows, and registers itself in
KINDS under a name; the web routes and `auditdocs export KIND` use the same spec.

Formula injection: a text cell that starts with =, +, -, @, a tab or a carriage return is prefixed with an
apostrophe in CSV (the usual guard: the spreadsheet then shows it as text). In XLSX it is written as an explicit
string cell (data type "s", never a formula) AND gets the same apostrophe: the two formats then hold the same text,
and the cell stays inert when someone copies it elsewhere or saves the workbook again as CSV. Numbers and dates
are never prefixed: they stay typed numbers and dates in XLSX (a negative number is a number, not text), and are
written as plain digits or ISO dates in CSV, which no spreadsheet runs as a formula.
"""

from __future__ import annotations

import contextlib
import csv
import io
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any, Generic, TypeVar

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from ..policy import AccessScope
from ..timeutil import to_local

R = TypeVar("R")
Cell = str | int | float | Decimal | date | datetime | bool | None

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"  # Excel opens a CSV as UTF-8 (accents intact) only when it starts with the byte-order mark
CSV_CHUNK_ROWS = 200  # rows per chunk sent to the client: few writes, little memory
XLSX_MAX_TEXT = 32767  # the most characters an Excel cell holds
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIME = "text/csv"
FORMATS = ("csv", "xlsx")
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"


@dataclass(frozen=True)
class Column(Generic[R]):
    """One column: a stable key (tests, scripts), a lazily translated header and how a row gives its value."""

    key: str
    header: Any
    value: Callable[[R], Cell]


@dataclass(frozen=True)
class Register(Generic[R]):
    """What `auditdocs export KIND` and the web export need from a register.

    rows(scope, filters, today) yields the rows the scope sees; `filters` is the register's own filter object, built
    by cli_filters(status, site_id) for the command line (the web builds it from its query string)."""

    kind: str  # "nonconformities": the command's KIND and the file name's stem
    title: Any  # the sheet's name, lazily translated
    columns: Callable[[date], Sequence[Column[R]]]  # by day: "days open" and "overdue" depend on it
    rows: Callable[[AccessScope, Any, date], Iterator[R]]
    count: Callable[[AccessScope, Any, date], int]  # for the command line's progress bar
    cli_filters: Callable[[str | None, int | None], Any]
    statuses: tuple[str, ...] = field(default=())  # what --status accepts
    status_help: str = ""


KINDS: dict[str, Register[Any]] = {}


def register(spec: Register[Any]) -> None:
    """Make a register exportable under its kind (idempotent: the app factory may run more than once)."""
    KINDS[spec.kind] = spec


def neutralise(text: str) -> str:
    """A text a spreadsheet would run as a formula gets a leading apostrophe."""
    return "'" + text if text.startswith(FORMULA_START) else text


def headers(columns: Sequence[Column[Any]]) -> list[str]:
    """The header row in the active language."""
    return [neutralise(str(c.header)) for c in columns]


def _plain(value: Cell) -> Cell:
    """Lazy strings become text; aware times become the organisation's local time (spreadsheets have no zones)."""
    if isinstance(value, datetime):
        return to_local(value).replace(tzinfo=None) if value.tzinfo is not None else value
    if value is None or isinstance(value, (str, int, float, Decimal, date)):
        return value
    return str(value)


def csv_text(value: Cell) -> str:
    """A value as CSV text: ISO dates, plain numbers, yes/no in the active language, neutralised text."""
    value = _plain(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(_("Yes") if value else _("No"))
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, (date, int, float, Decimal)):
        return value.isoformat() if isinstance(value, date) else str(value)
    return neutralise(value)


def iter_csv(columns: Sequence[Column[R]], rows: Iterable[R], *, bom: bool = True,
             progress: Callable[[int], None] | None = None) -> Iterator[str]:
    """The CSV as text chunks (header first), a few hundred rows at a time: never the whole file in memory."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers(columns))
    pending = 0
    for row in rows:
        writer.writerow([csv_text(c.value(row)) for c in columns])
        pending += 1
        if pending >= CSV_CHUNK_ROWS:
            yield _drain(buffer, bom)
            bom = False
            if progress:
                progress(pending)
            pending = 0
    yield _drain(buffer, bom)
    if progress and pending:
        progress(pending)


def _drain(buffer: io.StringIO, bom: bool) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return BOM + text if bom else text


def _xlsx_cell(sheet: Any, value: Cell) -> WriteOnlyCell:
    """A typed cell: numbers and dates keep their type; text is an explicit string, cleaned and neutralised."""
    value = _plain(value)
    if isinstance(value, str):
        cell = WriteOnlyCell(sheet, value=None)
        cell.value = neutralise(ILLEGAL_CHARACTERS_RE.sub("", value))[:XLSX_MAX_TEXT]
        cell.data_type = "s"  # openpyxl would take a text starting with "=" for a formula
        return cell
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, datetime):
        cell.number_format = DATETIME_FORMAT
    elif isinstance(value, date):
        cell.number_format = DATE_FORMAT
    return cell


def sheet_title(title: str) -> str:
    """Excel's rules for a sheet name: at most 31 characters, none of []:*?/\\."""
    cleaned = "".join(ch for ch in title if ch not in "[]:*?/\\").strip("' ")
    return cleaned[:31] or "Sheet1"


def write_xlsx(columns: Sequence[Column[R]], rows: Iterable[R], target: str | IO[bytes], *, title: str,
               progress: Callable[[int], None] | None = None) -> None:
    """The workbook in openpyxl's write-only mode (rows go to a temporary XML file, not memory), saved to target."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(sheet_title(title))
    sheet.freeze_panes = "A2"
    sheet.append([_xlsx_cell(sheet, h) for h in (str(c.header) for c in columns)])
    pending = 0
    try:
        for row in rows:
            sheet.append([_xlsx_cell(sheet, c.value(row)) for c in columns])
            pending += 1
            if progress and pending >= CSV_CHUNK_ROWS:
                progress(pending)
                pending = 0
    except BaseException:
        _discard(sheet)
        raise
    book.save(target)
    if progress and pending:
        progress(pending)


def _discard(sheet: Any) -> None:
    """A workbook that will not be saved: finish its sheet and remove openpyxl's temporary file for it now, rather
    than leave both to the garbage collector (openpyxl offers no public way; these are its own save steps)."""
    with contextlib.suppress(Exception):
        sheet.close()
    writer = getattr(sheet, "_writer", None)
    if writer is not None:
        with contextlib.suppress(Exception):
            writer.cleanup()


def file_name(kind: str, fmt: str, today: date) -> str:
    """A dated, ASCII file name: auditdocs-nonconformities-2026-12-01.xlsx."""
    return f"auditdocs-{kind}-{today.isoformat()}.{fmt}"


def label(labels: Mapping[str, Any], code: str | None) -> str:
    """A code's label in the active language (the code itself when unknown, never an error)."""
    if not code:
        return ""
    found = labels.get(code)
    return str(found) if found is not None else code
