"""Keyset pagination: a page starts after (or ends before) a given row, so the last page costs what the first does.

Why not OFFSET: the database walks and drops every skipped row, so page 4,000 of the register read 100,000 rows.
Here a page is "the next 25 rows in sort order after row X", served from the index behind the sort order; links
carry the id of the row at the page's edge (`after=`, `before=`) or ask for the end (`last=1`). Totals are counted
up to a cap: past it the page says "more than 1,000", which is what a person needs to know.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, SQLColumnExpression, bindparam, tuple_

from ..extensions import db
from ..services.counts import Count, count_capped
from .params import int_or_none


@dataclass
class KeysetPage:
    """One page of a keyset listing and the anchors of the pages around it."""

    items: list[Any]
    has_prev: bool
    has_next: bool
    count: Count

    @property
    def paged(self) -> bool:
        """True when there is more than this page."""
        return self.has_prev or self.has_next


@dataclass
class Keyset:
    """How a listing is ordered: key expressions (the last one unique), their direction, and the anchor column."""

    keys: Sequence[SQLColumnExpression[Any]]
    anchor: SQLColumnExpression[Any]
    descending: bool = False

    def _ordered(self, stmt: Select[Any], forward: bool) -> Select[Any]:
        ascending = forward != self.descending
        return stmt.order_by(None).order_by(*(k.asc() if ascending else k.desc() for k in self.keys))

    def _beyond(self, values: Sequence[Any], forward: bool) -> ColumnElement[bool]:
        bound = tuple_(*(bindparam(None, v, type_=getattr(k, "type", None))
                         for k, v in zip(self.keys, values, strict=True)))
        row = tuple_(*self.keys)
        return row > bound if forward != self.descending else row < bound

    def _anchor_values(self, stmt: Select[Any], anchor: int | None) -> Sequence[Any] | None:
        """The sort keys of the anchor row, if it is one the statement selects (else the page starts afresh)."""
        if anchor is None:
            return None
        row = db.session.execute(stmt.with_only_columns(*self.keys).order_by(None)
                                 .where(self.anchor == anchor).limit(1)).first()
        return tuple(row) if row is not None else None

    def _fetch(self, stmt: Select[Any], per_page: int, forward: bool,
               values: Sequence[Any] | None = None) -> list[Any]:
        if values is not None:
            stmt = stmt.where(self._beyond(values, forward))
        rows = list(db.session.scalars(self._ordered(stmt, forward).limit(per_page + 1)))
        return rows if forward else rows[::-1]

    def page(self, stmt: Select[Any], args: Mapping[str, str], per_page: int, count: Count | None = None) -> KeysetPage:
        """The page the query string asks for: first (default), after=ID, before=ID or last=1; `count` when the
        caller counts the rows a cheaper way than the statement would."""
        count = count if count is not None else count_capped(stmt)
        after = self._anchor_values(stmt, int_or_none(args.get("after")))
        before = self._anchor_values(stmt, int_or_none(args.get("before")))
        if after is not None:
            rows = self._fetch(stmt, per_page, True, after)
            if rows:
                return KeysetPage(rows[:per_page], True, len(rows) > per_page, count)
        elif before is not None:
            rows = self._fetch(stmt, per_page, False, before)
            if len(rows) > per_page:
                return KeysetPage(rows[1:], True, True, count)
        if args.get("last") == "1" or (after is not None):  # asked for the end, or for a page past it
            rows = self._fetch(stmt, per_page, False)
            return KeysetPage(rows[-per_page:], len(rows) > per_page, False, count)
        rows = self._fetch(stmt, per_page, True)
        return KeysetPage(rows[:per_page], False, len(rows) > per_page, count)
