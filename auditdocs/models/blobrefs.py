"""Where blob hashes live: the one list that backup, restore, verify, gc and the audit-trail cross-check read.

Why: a table that holds a SHA-256 of a stored object but is missing here would be left out of backups, and its
objects taken for orphans by gc. A new evidence-holding table registers itself once and every tool covers it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sqlalchemy import Select, TableClause, column, literal, null, select, table

from ..extensions import db

BATCH = 2000
RowLabels = Callable[[], Iterator[tuple[str, int | None, str]]]


@dataclass(frozen=True)
class BlobRef:
    """One column holding blob hashes: its table, the recorded size, and the audit action that records uploads."""

    table: str
    sha_column: str = "sha256"
    size_column: str | None = "size"
    upload_action: str | None = None  # audit events of this action carry new["sha256"] of each upload
    labels: RowLabels | None = None  # (sha256, size, what holds it) for messages; default "<table> row <id>"

    def __post_init__(self) -> None:
        for name in (self.table, self.sha_column, self.size_column or "size"):
            if not name.replace("_", "").isalnum():  # the names go into SQL text (backup reads a raw copy)
                raise ValueError(f"not an identifier: {name!r}")

    def _table(self) -> TableClause:
        return table(self.table, column("id"), column(self.sha_column),
                     *([column(self.size_column)] if self.size_column else []))

    def rows(self) -> Iterator[tuple[str, int | None, str]]:
        """Every row's (sha256, recorded size, label), a batch at a time."""
        if self.labels is not None:
            yield from self.labels()
            return
        t = self._table()
        size = t.c[self.size_column] if self.size_column else null()
        last = 0
        while True:
            batch = db.session.execute(
                select(t.c.id, t.c[self.sha_column], size).where(t.c.id > last).order_by(t.c.id).limit(BATCH)
            ).all()
            if not batch:
                return
            for row_id, digest, recorded in batch:
                yield str(digest), recorded, f"{self.table} row {row_id}"
            last = batch[-1][0]

    def referencing(self, sha256: str) -> Select[int]:
        """A select that finds a row holding this hash (gc asks right before it moves an object)."""
        t = self._table()
        return select(literal(1)).select_from(t).where(t.c[self.sha_column] == sha256).limit(1)

    def distinct_sql(self) -> str:
        """Plain SQL listing the distinct hashes, for a database copy read without the ORM (backups)."""
        return f"SELECT DISTINCT {self.sha_column} FROM {self.table} WHERE {self.sha_column} IS NOT NULL"  # noqa: S608


_REGISTRY: list[BlobRef] = []


def register(ref: BlobRef) -> Callable[[], None]:
    """Declare a blob-holding column; returns a function that withdraws it (tests)."""
    if any(r.table == ref.table and r.sha_column == ref.sha_column for r in _REGISTRY):
        raise ValueError(f"{ref.table}.{ref.sha_column} is already registered")
    _REGISTRY.append(ref)
    return lambda: _REGISTRY.remove(ref)


def registered() -> tuple[BlobRef, ...]:
    """Every declared blob-holding column."""
    return tuple(_REGISTRY)
