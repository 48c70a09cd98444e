"""The store's objects walked side by side with the rows that reference them, both in sha256 order.

Why: verify and gc must pair every stored object with its rows (and find the objects no row names) on stores of
any size. The store lists its objects sorted; the database streams the rows of every registered blob column
sorted the same way (byte order); a merge of the two holds one object's rows at a time, so memory stays flat
however many objects there are.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from itertools import groupby
from typing import Any, NamedTuple

from sqlalchemy import BigInteger, ColumnElement, Select, case, cast, func, literal_column, null, select, union_all
from sqlalchemy.sql import column, table

from ..extensions import db
from ..models import AuditEvent
from ..models.blobrefs import BlobRef, registered
from .uploads import get_store

STREAM_BATCH = 1000  # rows fetched at a time from the sorted stream (a server-side cursor on PostgreSQL)
EVENT_BATCH = 2000
TIME_COLUMN = "uploaded_at"  # a registered table with this column tells when each reference was added


class RefRow(NamedTuple):
    """One row referencing an object: which registered column, its id, the size it records, whether it is new."""

    ref: int  # index into registered()
    row_id: Any
    size: int | None
    fresh: bool  # added at or after the quick check's start (False without one)


class Entry(NamedTuple):
    """One object name met by the walk: its rows (none: an orphan candidate) and whether the store holds it."""

    sha: str
    rows: tuple[RefRow, ...]
    stored: bool


def _select(index: int, ref: BlobRef, since: datetime | None) -> Select[Any]:
    """(sha, ref, id, size, fresh) of one registered column, typed by the model when the app declares the table."""
    declared = db.metadata.tables.get(ref.table)
    if declared is not None:
        t: Any = declared
    else:  # a table the app does not model (a test's, a plug-in's): the registry's names are all there is
        t = table(ref.table, column("id"), column(ref.sha_column),
                  *([column(ref.size_column)] if ref.size_column else []))
    size = t.c[ref.size_column] if ref.size_column else null()
    fresh: ColumnElement[Any] = literal_column("0")
    if since is not None and declared is not None and TIME_COLUMN in declared.c:
        fresh = case((declared.c[TIME_COLUMN] >= since, 1), else_=0)
    return select(t.c[ref.sha_column].label("sha"), literal_column(str(index)).label("ref"), t.c.id.label("id"),
                  cast(size, BigInteger).label("size"), fresh.label("fresh"))


def _union(since: datetime | None = None) -> Any:
    refs = registered()
    if not refs:
        return None
    return union_all(*(_select(i, ref, since) for i, ref in enumerate(refs))).subquery("refs")


def _byte_order(col: Any) -> Any:
    """Order as Python compares str (code points, the bytes of UTF-8), not by the database's locale."""
    return col.collate("C") if db.engine.dialect.name == "postgresql" else col


def referenced_count() -> tuple[int, int]:
    """How many distinct objects the rows reference and their recorded bytes (for a progress bar)."""
    refs = _union()
    if refs is None:
        return 0, 0
    per = select(refs.c.sha, func.max(refs.c.size).label("size")).group_by(refs.c.sha).subquery()
    count, total = db.session.execute(select(func.count(), func.coalesce(func.sum(per.c.size), 0))).one()
    return int(count or 0), int(total or 0)


def _groups(since: datetime | None) -> Iterator[tuple[str | None, tuple[RefRow, ...]]]:
    """Every referenced sha256 with its rows, in byte order (rows without a hash first), streamed."""
    refs = _union(since)
    if refs is None:
        return
    stmt = select(refs).order_by(_byte_order(refs.c.sha).nulls_first(), refs.c.ref, refs.c.id)
    result = db.session.execute(stmt, execution_options={"yield_per": STREAM_BATCH})
    try:
        for sha, rows in groupby(result, key=lambda row: row.sha):
            yield sha, tuple(RefRow(int(r.ref), r.id, r.size, bool(r.fresh)) for r in rows)
    finally:
        result.close()


def walk(since: datetime | None = None) -> Iterator[Entry]:
    """Every object the store holds or a row names, once, in sha256 order (a merge of two sorted streams)."""
    stored = iter(get_store().iter_hashes())
    name = next(stored, None)
    previous = ""
    for sha, rows in _groups(since):
        if sha is None or not isinstance(sha, str):  # not a hash at all: verify reports the rows
            yield Entry(str(sha), rows, False)
            continue
        if sha < previous:
            raise RuntimeError(f"referencing rows came out of sha256 order ({sha!r} after {previous!r})")
        previous = sha
        while name is not None and name < sha:
            yield Entry(name, (), True)
            name = next(stored, None)
        yield Entry(sha, rows, name == sha)
        if name == sha:
            name = next(stored, None)
    while name is not None:
        yield Entry(name, (), True)
        name = next(stored, None)


def recorded_uploads(candidates: set[str], skip: tuple[str, ...] = ()) -> set[str]:
    """Which of these objects an upload event recorded (evidence even when its row is gone, so not an orphan).

    Reads the upload events of every registered column (but the actions in `skip`) a batch at a time and keeps
    only the hashes asked about, so a long trail costs time, not memory."""
    actions = tuple(ref.upload_action for ref in registered() if ref.upload_action and ref.upload_action not in skip)
    found: set[str] = set()
    if not candidates or not actions:
        return found
    last = 0
    while True:
        batch = db.session.execute(
            select(AuditEvent.seq, AuditEvent.new_values).where(AuditEvent.action.in_(actions), AuditEvent.seq > last)
            .order_by(AuditEvent.seq).limit(EVENT_BATCH)).all()
        if not batch:
            return found
        for _seq, values in batch:
            try:
                sha = str(json.loads(values or "{}").get("sha256"))
            except (ValueError, AttributeError):
                continue
            if sha in candidates:
                found.add(sha)
        last = batch[-1][0]


def find_orphans() -> list[str]:
    """Stored objects that no row references and no upload event recorded (left by a crash between storing and
    committing). An object whose upload event survives its deleted row is evidence, not an orphan."""
    candidates = [entry.sha for entry in walk() if not entry.rows]
    recorded = recorded_uploads(set(candidates))
    return [sha for sha in candidates if sha not in recorded]
