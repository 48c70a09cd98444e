"""Engine tuning and the one way to write: SQLite pragmas, BEGIN IMMEDIATE for writers, a guard on stray writes.

Every write (web, CLI, import, demo) runs inside `write_transaction()`. On SQLite the transaction it opens begins
IMMEDIATE, so a writer waits for the lock up front instead of failing half-way with "database is locked"; the read
that came before (the login gate, a capability check, a form's choices) is closed first, so no lock is held while a
request body is parsed or a password hashed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from flask import has_request_context
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, scoped_session

from .extensions import db

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_immediate: ContextVar[bool] = ContextVar("auditdocs_immediate", default=False)
_in_write: ContextVar[bool] = ContextVar("auditdocs_in_write", default=False)


class StrayWrite(RuntimeError):
    """A request changed rows outside write_transaction(): a programming error, never a user's."""


def set_write_mode(on: bool) -> None:
    """Make every transaction in this context begin IMMEDIATE (CLI commands that commit as they go)."""
    _immediate.set(on)


def wants_immediate() -> bool:
    """True when the next transaction will write: inside write_transaction() or a writer CLI command."""
    return _immediate.get()


def end_read() -> None:
    """Close the current read transaction, so the next one starts afresh (as a writer, inside a write block)."""
    db.session.commit()


@contextmanager
def write_transaction() -> Iterator[scoped_session[Any]]:
    """Run a write in its own transaction (BEGIN IMMEDIATE on SQLite), commit it, roll back on any error.

    Re-entrant: a block inside another joins it, and the outermost block commits.
    """
    if _in_write.get():
        yield db.session
        return
    end_read()
    tokens = (_in_write.set(True), _immediate.set(True))
    try:
        yield db.session
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    finally:
        _immediate.reset(tokens[1])
        _in_write.reset(tokens[0])


def _refuse_stray_writes(session: Session, _context: Any, _instances: Any) -> None:
    """A request that would flush changes outside write_transaction() fails loudly instead of losing them."""
    if has_request_context() and not _in_write.get() and (session.new or session.dirty or session.deleted):
        raise StrayWrite("rows changed outside write_transaction(): wrap the write in it")


def guard_session() -> None:
    """Install the stray-write guard on the app's session (once per process: there is one session factory)."""
    if not event.contains(db.session, "before_flush", _refuse_stray_writes):
        event.listen(db.session, "before_flush", _refuse_stray_writes)


def configure_engine(engine: Engine) -> None:
    """Attach the SQLite pragmas and the begin hook; PostgreSQL needs nothing here."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=20000")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if wants_immediate() else "BEGIN")
