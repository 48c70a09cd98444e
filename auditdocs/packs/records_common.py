"""What the record tables of a pack share: the places as SQL, the names they print, and cells as text.

Why one module: nonconformities, risks, due diligence, gifts and audits must agree on which records a place holds
(a record placed nowhere is the organisation's and always counts) and print sites, people and days alike.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, or_, select, true

from ..extensions import db
from ..models import Process, Site, User
from .content import Block
from .places import Places

Row = tuple[str, ...]
Part = tuple[list[Block], int]  # the blocks a clause prints and how many records (rows) they cite


def site_condition(column: Any, places: Places) -> ColumnElement[bool]:
    """On a record's site column: placed at one of the pack's sites (or under them), or nowhere."""
    if places.everywhere:
        return true()
    return or_(column.is_(None), column.in_(sorted(places.site_ids)))


def process_condition(column: Any, places: Places) -> ColumnElement[bool]:
    """On a record's process column: one of the pack's processes, or none recorded."""
    if not places.processes:
        return true()
    return or_(column.is_(None), column.in_(sorted(p.id for p in places.processes)))


def day(value: date | None) -> str:
    """A day as printed in every pack table: ISO, so it reads alike in both languages and sorts."""
    return value.isoformat() if value is not None else ""


def words(labels: Mapping[str, Any]) -> dict[str, str]:
    """A register's labels in the pack's language, translated once per table rather than once per cell (gettext
    costs more than everything else a row needs)."""
    return {code: str(text) for code, text in labels.items()}


class Names:
    """The sites, processes and people the tables name: the site tree and process map read once per pack (they are
    small), people once per kind of record, only those named."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.sites = {s.id: s for s in db.session.scalars(select(Site))}
        self.processes = {p.id: p for p in db.session.scalars(select(Process))}
        self.users: dict[int, User] = {}

    def need(self, user_ids: Collection[int | None]) -> None:
        """Read the people not read yet, in one query."""
        wanted = sorted({i for i in user_ids if i is not None} - set(self.users))
        if wanted:
            self.users.update((u.id, u) for u in db.session.scalars(select(User).where(User.id.in_(wanted))))

    def site(self, site_id: int | None, *, nowhere: str = "") -> str:
        """"LIM — Sede central"; `nowhere` for a record placed at no site."""
        if site_id is None:
            return nowhere
        found = self.sites.get(site_id)
        return f"{found.code} — {found.name(self.lang)}" if found is not None else ""

    def site_code(self, site_id: int) -> str:
        found = self.sites.get(site_id)
        return found.code if found is not None else ""

    def process(self, process_id: int | None) -> str:
        found = self.processes.get(process_id) if process_id is not None else None
        return f"{found.code} — {found.name(self.lang)}" if found is not None else ""

    def process_code(self, process_id: int) -> str:
        found = self.processes.get(process_id)
        return found.code if found is not None else ""

    def user(self, user_id: int | None) -> str:
        found = self.users.get(user_id) if user_id is not None else None
        return found.name if found is not None else ""
