"""Engine tuning and the one way to write: SQLite pragmas, BEGIN IMMEDIATE for writers, a guard on stray writes.

Every web write runs inside `write_transaction()`, and so do the services that span a transaction of their own
(uploads, imports, demo data); long CLI commands that commit as they go (gc, import, init) run in writer mode
instead. On SQLite a write transaction begins IMMEDIATE, so a writer waits for the lock up front instead of failing
half-way with "database is locked"; the read that came before (the login gate, a capability check, a form's
choices) is closed first, so no lock is held while a request body is parsed or a password hashed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from flask import g, has_request_context
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, scoped_session

from .extensions import db

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_immediate: ContextVar[bool] = ContextVar("auditdocs_immediate", default=False)
_IN_WRITE = "auditdocs.in_write"  # on the session's info: re-entrancy belongs to a session, not to a thread
SCOPE_KEY = "_auditdocs_scope"  # the request's cached access scope (auditdocs.policy), dropped when a read ends


class StrayWrite(RuntimeError):
    """A request changed rows outside write_transaction(): a programming error, never a user's."""


def set_write_mode(on: bool) -> None:
    """Make every transaction in this context begin IMMEDIATE (CLI commands that commit as they go)."""
    _immediate.set(on)


def wants_immediate() -> bool:
    """True when the next transaction will write: inside write_transaction() or a writer CLI command."""
    return _immediate.get()


def in_write_transaction() -> bool:
    """True inside write_transaction() on this context's session."""
    return bool(db.session().info.get(_IN_WRITE))


def end_read() -> None:
    """Close the current read transaction, so the next one starts afresh (as a writer, inside a write block).

    The request's access scope goes with it: the next check re-reads the user, so a role changed while a long
    upload was streaming counts (the row is read again, under the lock when writing)."""
    db.session.commit()
    if has_request_context():
        g.pop(SCOPE_KEY, None)


@contextmanager
def write_transaction() -> Iterator[scoped_session[Any]]:
    """Run a write in its own transaction (BEGIN IMMEDIATE on SQLite), commit it, roll back on any error.

    A block inside another is a savepoint: if it fails, only its own changes are undone and the error goes on to
    the outer block, which decides; the outermost block commits.
    """
    session = db.session()
    if session.info.get(_IN_WRITE):
        with session.begin_nested():
            yield db.session
        return
    end_read()
    token = _immediate.set(True)
    session.info[_IN_WRITE] = True
    try:
        yield db.session
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    finally:
        session.info.pop(_IN_WRITE, None)
        _immediate.reset(token)


@contextmanager
def outside_writes() -> Iterator[None]:
    """Code run from inside a write (change subscribers) starts its own transactions as if none were open."""
    token = _immediate.set(False)
    try:
        yield
    finally:
        _immediate.reset(token)


def _refuse_stray_writes(session: Session, _context: Any, _instances: Any) -> None:
    """A request that would flush changes outside write_transaction() fails loudly instead of losing them."""
    if has_request_context() and not session.info.get(_IN_WRITE) and (session.new or session.dirty or session.deleted):
        raise StrayWrite("rows changed outside write_transaction(): wrap the write in it")


def guard_session() -> None:
    """Install the stray-write guard on the app's session (once per process: there is one session factory)."""
    if not event.contains(db.session, "before_flush", _refuse_stray_writes):
        event.listen(db.session, "before_flush", _refuse_stray_writes)


def configure_engine(engine: Engine, lock_timeout_ms: int = 20000) -> None:
    """Attach the SQLite pragmas and the begin hook; on PostgreSQL bound every lock wait the same way.

    `lock_timeout_ms` is how long a writer waits for another to finish before giving up: the request then answers
    503 "busy, try again" (web.errors) instead of hanging or failing with a raw database error."""
    timeout = max(0, int(lock_timeout_ms))
    if engine.dialect.name == "postgresql":

        @event.listens_for(engine, "connect")
        def _pg_on_connect(dbapi_conn: Any, _record: Any) -> None:
            with dbapi_conn.cursor() as cur:
                cur.execute(f"SET lock_timeout = {timeout}")  # an int, not text: nothing to inject
            dbapi_conn.commit()

        return
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={timeout}")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if wants_immediate() else "BEGIN")


def advisory_lock(namespace: int, key: str = "") -> None:
    """Serialise one kind of write on PostgreSQL for the rest of the transaction (SQLite writers already hold BEGIN
    IMMEDIATE). Advisory locks belong to the whole database, so the key includes the schema: installations (or a
    test run beside a benchmark) in different schemas of one database must not wait on each other."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:ns, hashtext(current_schema() || ':' || :key))"),
                           {"ns": namespace, "key": key})
