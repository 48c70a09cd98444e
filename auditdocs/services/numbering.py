"""References of records, numbered per kind and year without gaps or duplicates (NC-2026-0001).

Why a counter row rather than MAX()+1: the number is taken inside the creating transaction, serialised (an advisory
lock on PostgreSQL; on SQLite writers already hold BEGIN IMMEDIATE through write_transaction), so two creations
never take the same number, and a creation that rolls back rolls the counter back with it, leaving no gap.
"""

from __future__ import annotations

from sqlalchemy import select

from ..db import advisory_lock
from ..extensions import db
from ..models import RecordCounter

_PG_LOCK = 0x4E554D42  # "NUMB": namespace of the per-kind, per-year numbering locks


def next_number(kind: str, year: int) -> int:
    """Take the next number of a kind in a year, in the caller's (write) transaction."""
    advisory_lock(_PG_LOCK, f"{kind}:{year}")
    counter = db.session.scalar(select(RecordCounter).where(RecordCounter.kind == kind, RecordCounter.year == year)
                                .with_for_update())
    if counter is None:
        counter = RecordCounter(kind=kind, year=year, last=0)
        db.session.add(counter)
    counter.last += 1
    db.session.flush()
    return counter.last


def reference(prefix: str, year: int, number: int) -> str:
    """The reference people quote: NC-2026-0001 (four digits at least, more when a year needs them)."""
    return f"{prefix}-{year}-{number:04d}"
