"""Read and check an organisation spreadsheet saved as CSV: every row, and the tree the file would make.

Why apart from the writing: every problem of every row must be found before anything is written, on the tree as it
would be after the import, so the person fixes the whole file in one go (see services.org_import).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import aliased

from ..extensions import db
from ..models import Process, Site, User
from ..models.org import PROCESS_CATEGORIES
from . import ServiceError
from .org import NAME_MAX, REGION_MAX, code_problem, person_problem, text_problem
from .users import normalise_email

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 10_000
COLUMNS = ("type", "code", "name_es", "name_en", "parent_code", "region", "responsible_email", "active")
OPTIONAL_COLUMNS = ("category",)
LIMITS = {"type": 20, "code": 40, "name_es": NAME_MAX, "name_en": NAME_MAX, "parent_code": 40, "region": REGION_MAX,
          "responsible_email": 254, "active": 10, "category": 20}
YES = frozenset({"", "yes", "true", "1", "sí", "si", "y", "s"})
NO = frozenset({"no", "false", "0", "n"})
Parent = aliased(Site)


@dataclass(frozen=True)
class Problem:
    """Why one line (0: the whole file) cannot be imported."""

    line: int
    message: Any


class ImportRefused(ServiceError):
    """The file or some of its rows are bad: nothing was written."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(problems[0].message, 422)
        self.problems = sorted(problems, key=lambda p: p.line)


@dataclass
class Row:
    """One line of the file, cleaned."""

    line: int
    kind: str
    code: str
    name_es: str
    name_en: str | None
    parent: str | None
    region: str | None
    user_id: int | None
    active: bool
    category: str


def _text(data: bytes) -> str:
    """UTF-8 (with or without the BOM Excel writes), or a refusal naming the line of the first bad byte."""
    if len(data) > MAX_BYTES:
        raise ImportRefused([Problem(0, _l("The file is larger than %(mb)d MB; split it.", mb=MAX_BYTES // 2**20))])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportRefused([Problem(line, _l("The file is not UTF-8 text; in Excel save it as “CSV UTF-8 (comma "
                                              "delimited)”."))]) from None
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise ImportRefused([Problem(0, _l("The file is empty."))])
    return text


def _records(text: str) -> Iterator[tuple[int, list[str]]]:
    """(first line, cells) of each record; the delimiter (',' or ';') is the one the header uses more."""
    first = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";" if first.count(";") > first.count(",") else ",",
                        strict=True)
    end = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ImportRefused([Problem(reader.line_num, _l("The line cannot be read as CSV (%(error)s).",
                                                             error=str(exc)))]) from None
        start, end = end + 1, reader.line_num
        yield start, cells


def _header(cells: list[str]) -> list[str]:
    """Column names, any case and order; refused when one is missing, unknown or repeated."""
    names = [c.strip().lower() for c in cells]
    problems = [_l("Unknown column “%(name)s”.", name=n) for n in names if n not in COLUMNS + OPTIONAL_COLUMNS]
    problems += [_l("Column “%(name)s” appears more than once.", name=n) for n in sorted(set(names))
                 if names.count(n) > 1]
    problems += [_l("Column “%(name)s” is missing.", name=n) for n in COLUMNS if n not in names]
    if problems:
        raise ImportRefused([Problem(1, p) for p in problems]
                            + [Problem(1, _l("The header must be: %(columns)s", columns=",".join(COLUMNS)))])
    return names


def _row(line: int, cells: dict[str, str], people: dict[str, User]) -> tuple[Row | None, list[Any]]:
    """One row cleaned, or the reasons it is bad."""
    bad: list[Any] = []
    for name, value in cells.items():
        if (problem := text_problem(value, LIMITS[name])) is not None:
            bad.append(f"{name}: {problem}")  # column names are the file's own, not translated
    if bad:
        return None, bad
    get = {k: v.strip() for k, v in cells.items()}.get
    kind, code = (get("type") or "").lower(), get("code") or ""
    if kind not in ("site", "process"):
        bad.append(_l("type: unknown type “%(kind)s” (write site or process).", kind=get("type") or ""))
    if (problem := code_problem(code)) is not None:
        bad.append(_l("code “%(code)s”: %(problem)s", code=code, problem=problem))
    if not get("name_es"):
        bad.append(_l("name_es: a name in Spanish is required."))
    active = (get("active") or "").lower()
    if active not in YES | NO:
        bad.append(_l("active: “%(value)s” is not yes or no.", value=get("active")))
    category = (get("category") or "").lower()
    if kind == "process":
        for column in ("parent_code", "region"):
            if get(column):
                bad.append(_l("%(column)s: must be empty for a process.", column=column))
        category = category or "operational"
        if category not in PROCESS_CATEGORIES:
            bad.append(_l("category: “%(value)s” is not strategic, operational or support.", value=category))
    elif category:
        bad.append(_l("category: only processes have a category."))
    user_id = None
    if email := normalise_email(get("responsible_email") or ""):
        user = people.get(email)
        if user is None:
            bad.append(_l("responsible_email: no account has the e-mail %(email)s.", email=email))
        elif (problem := person_problem(user)) is not None:
            bad.append(f"responsible_email {email}: {problem}")
        else:
            user_id = user.id
    if bad:
        return None, bad
    return Row(line, kind, code, get("name_es") or "", get("name_en") or None, get("parent_code") or None,
               get("region") or None, user_id, active not in NO, category), []


def read(data: bytes) -> list[Row]:
    """Every row of the file, or ImportRefused with every bad row's line and reasons."""
    records = _records(_text(data))
    try:
        _line, first = next(records)
    except StopIteration:
        raise ImportRefused([Problem(0, _l("The file is empty."))]) from None
    names = _header(first)
    people = {u.email: u for u in db.session.scalars(select(User))}
    rows: list[Row] = []
    problems: list[Problem] = []
    refused: set[tuple[str, str]] = set()
    count = 0
    for line, cells in records:
        if not any(c.strip() for c in cells):
            continue
        count += 1
        if count > MAX_ROWS:
            raise ImportRefused([Problem(line, _l("More than %(n)d rows; split the file.", n=MAX_ROWS))])
        if len(cells) != len(names):
            problems.append(Problem(line, _l("Expected %(n)d fields as in the header, found %(found)d (a missing "
                                             "or extra delimiter?).", n=len(names), found=len(cells))))
            continue
        named = dict(zip(names, cells, strict=True))
        row, bad = _row(line, named, people)
        problems += [Problem(line, reason) for reason in bad]
        if row is not None:
            rows.append(row)
        elif named["code"].strip():  # its offices are not reported again for a parent that only looks missing
            refused.add((named["type"].strip().lower(), named["code"].strip().lower()))
    if count == 0 and not problems:
        problems.append(Problem(0, _l("The file has a header but no rows.")))
    problems += check_together(rows, refused)
    if problems:
        raise ImportRefused(problems)
    return rows


def check_together(rows: list[Row], refused: set[tuple[str, str]]) -> list[Problem]:
    """What no single row shows: repeated codes, parents, loops and the one central function, on the tree as it
    will be after the import (the database's sites updated by the file's). `refused`: (type, code) of bad rows."""
    problems: list[Problem] = []
    first_line: dict[tuple[str, str], int] = {}
    for row in rows:
        key = (row.kind, row.code.lower())
        if key in first_line:
            problems.append(Problem(row.line, _l("code %(code)s: already on line %(line)d.", code=row.code,
                                                 line=first_line[key])))
        first_line.setdefault(key, row.line)
    parent_of: dict[str, str | None] = {
        code.lower(): (parent.lower() if parent else None)
        for code, parent in db.session.execute(select(Site.code, Parent.code)
                                               .outerjoin(Parent, Site.parent_id == Parent.id))}
    spelled = {code.lower(): code for code in db.session.scalars(select(Site.code))}
    head = next((code for code, parent in parent_of.items() if parent is None), None)
    process_codes = {c.lower() for c in db.session.scalars(select(Process.code))}
    process_codes |= {r.code.lower() for r in rows if r.kind == "process"} | {c for k, c in refused if k == "process"}
    sites = [r for r in rows if r.kind == "site"]
    for row in sites:
        parent_of[row.code.lower()] = row.parent.lower() if row.parent else None
        spelled.setdefault(row.code.lower(), row.code)
    for row in sites:
        if not (row.parent and ("site", row.parent.lower()) in refused):
            problems += _tree_problems(row, parent_of, process_codes, head, spelled)
        if head is None and row.parent is None:
            head = row.code.lower()
    return problems


def _tree_problems(row: Row, parent_of: dict[str, str | None], process_codes: set[str], head: str | None,
                   spelled: dict[str, str]) -> list[Problem]:
    """A site row's parent, loop and central-function problems."""
    code, out = row.code.lower(), list[Problem]()
    if row.parent is None:
        if head is not None and head != code:
            out.append(Problem(row.line, _l("parent_code: empty, but %(code)s is already the central function (the "
                                            "one site without a parent); give this site its parent.",
                                            code=spelled[head])))
        elif not row.active:
            out.append(Problem(row.line, _l("active: the central function cannot be deactivated.")))
        return out
    if code == head:
        out.append(Problem(row.line, _l("parent_code: %(code)s is the central function and cannot be placed under "
                                        "another site.", code=row.code)))
    parent = row.parent.lower()
    if parent not in parent_of:
        message = (_l("parent_code: %(code)s is a process, not a site.", code=row.parent) if parent in process_codes
                   else _l("parent_code: no site has the code %(code)s (neither in the file nor already "
                           "registered).", code=row.parent))
        return [*out, Problem(row.line, message)]
    path, current = [code], parent_of[code]
    while current is not None and current in parent_of and current not in path:
        path.append(current)
        current = parent_of[current]
    if current is not None and current == code:
        out.append(Problem(row.line, _l("parent_code: the sites would form a loop (%(loop)s).",
                                        loop=" → ".join(spelled[c] for c in [*path, code]))))
    return out
