"""Faults of the machine rather than of the person: a full disk or database, a quota, a failing device.

Why: such a failure must reach the person as "nothing was saved, tell your administrator" (507 or 503) or "the
system is busy, try again" (503 with Retry-After), never as a traceback or a generic error, whether it came from the
blob store, SQLite or PostgreSQL.
"""

from __future__ import annotations

import errno
import sqlite3

from psycopg import errors as pg_errors
from sqlalchemy.exc import DBAPIError

from .storage import OUT_OF_SPACE

SPACE, DEVICE, BUSY = "space", "device", "busy"
_SQLITE_FULL = 13
_SQLITE_IOERR = 10
_SQLITE_BUSY, _SQLITE_LOCKED = 5, 6


def _classify_one(exc: BaseException) -> str | None:
    if isinstance(exc, OSError) and exc.errno in OUT_OF_SPACE:
        return SPACE
    if isinstance(exc, OSError) and exc.errno == errno.EIO:
        return DEVICE
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", 0) & 0xFF  # extended codes keep the primary one in the low byte
        if code == _SQLITE_FULL or "disk is full" in str(exc):
            return SPACE
        if code == _SQLITE_IOERR:
            return DEVICE
        if code in (_SQLITE_BUSY, _SQLITE_LOCKED) or "database is locked" in str(exc):
            return BUSY
    if isinstance(exc, pg_errors.DiskFull):
        return SPACE
    if isinstance(exc, pg_errors.IoError):
        return DEVICE
    if isinstance(exc, pg_errors.LockNotAvailable | pg_errors.DeadlockDetected):
        return BUSY
    return None


def storage_fault(exc: BaseException) -> str | None:
    """SPACE when storage ran out, DEVICE when a disk failed, BUSY when the database stayed locked by another writer
    past the lock timeout, None otherwise (the whole cause chain is read)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if (kind := _classify_one(current)) is not None:
            return kind
        if isinstance(current, DBAPIError) and current.orig is not None:
            current = current.orig
        else:
            current = current.__cause__ or current.__context__
    return None
