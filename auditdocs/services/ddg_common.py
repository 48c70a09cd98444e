"""What the due-diligence files (ISO 37001 8.2) and the gifts register (8.7) share: their links to risks and clauses,
the checks of their common fields, and the register filters.

Why one module: both registers link to bribery risks (by id, with a link table for queries and an id list in each
revision for the history) and to clauses (an id list), filter by site, category, year and text the same way, and
their pages, exports and tasks must read those the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, and_, select

from ..extensions import db
from ..models import Clause, Process, Site, User
from ..models.records import id_list
from ..models.risks import CATEGORIES, BriberyRisk
from ..textnorm import fold
from . import placement
from .programme import Problems, rows_by_id

TEXT_MAX, NAME_MAX = 20000, 300


@dataclass(frozen=True)
class RegisterFilters:
    """A register's filters; None means "any". `state` is the due-diligence decision or the gift's status."""

    site_id: int | None = None  # the site and every site under it
    category: str | None = None
    state: str | None = None
    year: int | None = None
    text: str | None = None


def ids_text(rows: Sequence[Any]) -> str:
    """Linked rows as the id list a revision holds ("3,17"), sorted so an unchanged list never makes a revision."""
    return ",".join(str(i) for i in sorted({r.id for r in rows}))


def check_place(problems: Problems, site_id: int | None, process_id: int | None = None) -> None:
    """A chosen site or process must exist (a stale or forged form otherwise)."""
    if site_id is not None and db.session.get(Site, site_id) is None:
        problems.add("site_id", _l("Choose from the list."))
    if process_id is not None and db.session.get(Process, process_id) is None:
        problems.add("process_id", _l("Choose from the list."))


def check_user(problems: Problems, name: str, user_id: int | None, required: Any = None) -> None:
    """A chosen person must exist."""
    if user_id is None:
        if required is not None:
            problems.add(name, required)
    elif db.session.get(User, user_id) is None:
        problems.add(name, _l("Choose from the list."))


def check_choice(problems: Problems, name: str, value: str | None, allowed: Sequence[str],
                 required: Any = None) -> str | None:
    """A code from its list; empty is None (a problem when required)."""
    value = (value or "").strip() or None
    if value is None:
        if required is not None:
            problems.add(name, required)
    elif value not in allowed:
        problems.add(name, _l("Choose from the list."))
    return value


def check_category(problems: Problems, name: str, value: str | None) -> str | None:
    """The category of business associate or position (the risk register's categories)."""
    return check_choice(problems, name, value, CATEGORIES, _l("Choose the category."))


def linked_risks(problems: Problems, ids: Sequence[int]) -> list[BriberyRisk]:
    """The bribery risks named by id; an unknown id is a problem at the field."""
    return rows_by_id(BriberyRisk, ids, problems, "risk_ids")


def linked_clauses(problems: Problems, ids: Sequence[int]) -> list[Clause]:
    """The clauses named by id; an unknown id is a problem at the field."""
    return rows_by_id(Clause, ids, problems, "clause_ids")


def clauses_of(text: str | None) -> list[Clause]:
    """The clauses a record's id list names, in catalogue order."""
    ids = id_list(text)
    if not ids:
        return []
    return list(db.session.scalars(select(Clause).where(Clause.id.in_(ids)).order_by(Clause.sort_key)))


def clause_names() -> dict[int, str]:
    """Every clause's reference by id (the catalogue is small): exports name clauses without a query per row."""
    return {c.id: c.ref for c in db.session.scalars(select(Clause))}


def clause_refs(text: str | None, names: dict[int, str]) -> str:
    """The clauses of an id list as people cite them: "ISO 37001:2016 8.2; ISO 37001:2016 8.7"."""
    return "; ".join(names.get(i, f"#{i}") for i in id_list(text))


def not_future(problems: Problems, name: str, day: date | None, today: date, message: Any) -> None:
    """A day that must already have come."""
    if day is not None and day > today:
        problems.add(name, message)


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def common_conditions(filters: RegisterFilters, model: Any, site: Any, category: Any) -> list[ColumnElement[bool]]:
    """The site (with its subtree), category, year and text filters on a register's columns."""
    parts: list[ColumnElement[bool]] = []
    if filters.site_id is not None:
        parts.append(site.in_(placement.subtree_ids(filters.site_id)))
    if filters.category:
        parts.append(category == (filters.category if filters.category in CATEGORIES else "-"))
    if filters.year is not None:
        parts.append(model.year == filters.year)
    text = fold(filters.text or "")
    if text:
        parts.append(model.search_key.like(f"%{escape_like(text)}%", escape="\\"))
    return parts


def all_of(parts: list[ColumnElement[bool]], always: ColumnElement[bool]) -> ColumnElement[bool]:
    """The conditions joined; `always` when there are none."""
    return and_(*parts) if parts else always


def money(value: Decimal | None) -> str:
    """An amount as people write it in a form: 1250.00."""
    return "" if value is None else f"{value:.2f}"
