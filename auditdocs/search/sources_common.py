"""Pieces every search source shares: clauses as exact terms, places and people as facet values, dates.

Why apart: documents, records, risks and attachments must name a clause, a site or a day the same way, or a facet
would count one thing twice under two spellings.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import Clause, Process, Site, Standard, User
from ..models.records import id_list
from ..timeutil import to_local

BATCH = 500
RECORD_KINDS = ("nonconformity", "corrective_action", "bribery_risk", "due_diligence", "gift")
# An attachment carries this group besides its record's key, so a scope that may not read one kind of record also
# misses that kind's evidence files.
OWNER_KIND_GROUP = "owner_kind:{}"


def clause_terms(clauses: Iterable[Clause]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(clause terms, standard slugs): each clause as "8.5.2" and as "iso9001_2015:8.5.2"."""
    numbers: dict[str, None] = {}
    standards: dict[str, None] = {}
    for clause in clauses:
        numbers[clause.number] = None
        numbers[f"{clause.standard.slug}:{clause.number}"] = None
        standards[clause.standard.slug] = None
    return tuple(numbers), tuple(standards)


class Lookups:
    """Sites, processes, people and clauses by id, loaded once per batch (no query per row)."""

    def __init__(self) -> None:
        self._sites: dict[int, str] | None = None
        self._processes: dict[int, str] | None = None
        self._clauses: dict[int, Clause] | None = None
        self._users: dict[int, str] = {}

    def site(self, site_id: Any) -> str | None:
        if self._sites is None:
            self._sites = dict(db.session.execute(select(Site.id, Site.code)).all())
        return self._sites.get(site_id) if isinstance(site_id, int) else None

    def process(self, process_id: Any) -> str | None:
        if self._processes is None:
            self._processes = dict(db.session.execute(select(Process.id, Process.code)).all())
        return self._processes.get(process_id) if isinstance(process_id, int) else None

    def clauses(self, ids: str | Iterable[int] | None) -> list[Clause]:
        """Clauses of an id list field ("3,17") or of ids."""
        if self._clauses is None:
            rows = db.session.scalars(select(Clause).options(joinedload(Clause.standard).lazyload(Standard.clauses)))
            self._clauses = {clause.id: clause for clause in rows}
        wanted = id_list(ids) if isinstance(ids, str) or ids is None else list(ids)
        return [self._clauses[i] for i in wanted if i in self._clauses]

    def want_users(self, ids: Iterable[Any]) -> None:
        """Load the names of these users in one query."""
        missing = {i for i in ids if isinstance(i, int) and i not in self._users}
        if missing:
            self._users.update(dict(db.session.execute(
                select(User.id, User.name).where(User.id.in_(missing))).all()))

    def user(self, user_id: Any) -> str | None:
        if isinstance(user_id, int) and user_id not in self._users:
            self.want_users([user_id])
        return self._users.get(user_id) if isinstance(user_id, int) else None


def day_of(value: date | datetime | str | None) -> date | None:
    """A calendar day (where the organisation is) from a date, a timestamp or a snapshot's ISO text."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    if isinstance(value, datetime):
        return to_local(value).date()
    return value


def joined(*parts: object) -> str:
    """Non-empty parts, one per line (the body of a search document)."""
    return "\n".join(str(p).strip() for p in parts if p is not None and str(p).strip())


def places(codes: Iterable[str]) -> str | None:
    """Several sites or processes as one facet value; None for the whole organisation."""
    found = sorted(set(codes))
    return ", ".join(found) if found else None
