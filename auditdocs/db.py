"""Engine tuning: SQLite pragmas and BEGIN IMMEDIATE for writers, so busy locks never reach a user."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from flask import g, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from .extensions import db

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_force_write: ContextVar[bool] = ContextVar("auditdocs_force_write", default=False)


def set_write_mode(on: bool) -> None:
    """Make every transaction in this context a writer (used by CLI commands)."""
    _force_write.set(on)


def wants_immediate() -> bool:
    """True when the coming transaction will write: a POST view, a CLI command or write_transaction().

    The login gate and the CSRF check of a POST read in a deferred transaction that is closed before the
    body is parsed, so a long upload never holds the SQLite write lock; views marked with
    `manual_transactions` read freely and write only inside write_transaction().
    """
    if _force_write.get():
        return True
    if not has_request_context() or request.method in SAFE_METHODS:
        return False
    return bool(g.get("write_phase")) and not g.get("manual_transactions")


def enter_write_phase() -> None:
    """before_request hook registered after CSRF: from here on a POST's transactions are writers."""
    g.write_phase = True


@contextmanager
def write_transaction() -> Iterator[Session]:
    """Run a write in its own transaction (BEGIN IMMEDIATE on SQLite) and commit it; roll back on error."""
    db.session.commit()  # end any read transaction so the next one starts as a writer
    token = _force_write.set(True)
    try:
        yield db.session
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    finally:
        _force_write.reset(token)


def configure_engine(engine: Engine) -> None:
    """Attach the SQLite pragmas and the begin hook; PostgreSQL needs nothing here."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=20000")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:  # type: ignore[no-untyped-def]
        conn.exec_driver_sql("BEGIN IMMEDIATE" if wants_immediate() else "BEGIN")
