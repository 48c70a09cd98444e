"""The register's text filter, served by an index on both databases (used by migrations and the register).

Documents carry `search_key`, their code and title folded (textnorm). A substring of it is found through:
- SQLite: an FTS5 table with the trigram tokenizer over that column (`documents_text`, external content, kept in
  step by triggers on insert and update; documents are never deleted);
- PostgreSQL: a trigram GIN index (pg_trgm). Where the extension cannot be created (a managed database without
  the right), the index is skipped and the filter still works, scanning the table: the migration says so.
Fewer than three characters cannot use a trigram: such a filter matches the start of the code instead.

SQLite drops a table's triggers when a migration rebuilds it (batch mode): such a migration must call `install`
again.
"""

from __future__ import annotations

import logging

from sqlalchemy import ColumnElement, column, select, table
from sqlalchemy.engine import Connection

from ..textnorm import fold
from .documents import Document

logger = logging.getLogger(__name__)
FTS_TABLE = "documents_text"
TRGM_INDEX = "ix_documents_search_key_trgm"
MIN_TRIGRAM = 3
# What the schema comparison with the models must leave aside: the FTS table, its shadow tables, the GIN index.
UNMODELLED_PREFIXES = (FTS_TABLE, TRGM_INDEX)

_fts = table(FTS_TABLE, column("rowid"), column("search_key"))
_SQLITE_INSTALL = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS documents_text USING fts5(search_key, content='documents', "
    "content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER IF NOT EXISTS documents_text_insert AFTER INSERT ON documents BEGIN "
    "INSERT INTO documents_text(rowid, search_key) VALUES (new.id, new.search_key); END",
    "CREATE TRIGGER IF NOT EXISTS documents_text_update AFTER UPDATE OF search_key ON documents BEGIN "
    "INSERT INTO documents_text(documents_text, rowid, search_key) VALUES ('delete', old.id, old.search_key); "
    "INSERT INTO documents_text(rowid, search_key) VALUES (new.id, new.search_key); END",
    "INSERT INTO documents_text(documents_text) VALUES ('rebuild')",
)
_SQLITE_REMOVE = ("DROP TRIGGER IF EXISTS documents_text_insert", "DROP TRIGGER IF EXISTS documents_text_update",
                  "DROP TABLE IF EXISTS documents_text")


def install(conn: Connection) -> None:
    """Create the text index and fill it from the rows already there."""
    if conn.dialect.name == "sqlite":
        for statement in _SQLITE_INSTALL:
            conn.exec_driver_sql(statement)
    elif conn.dialect.name == "postgresql":
        schema = _trigram_schema(conn)
        if schema is None:
            logger.warning("pg_trgm is not available to this database user: the register's text filter will scan "
                           "the documents table. Ask the DBA to run CREATE EXTENSION pg_trgm, then `flask db "
                           "downgrade 0006 && flask db upgrade`.")
            return
        conn.exec_driver_sql(f'CREATE INDEX IF NOT EXISTS {TRGM_INDEX} ON documents USING gin '
                             f'(search_key "{schema}".gin_trgm_ops)')


def _trigram_schema(conn: Connection) -> str | None:
    """The schema pg_trgm lives in, creating the extension when this user may; None when it cannot be had."""
    found = conn.exec_driver_sql("SELECT n.nspname FROM pg_extension e JOIN pg_namespace n "
                                 "ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'").scalar()
    if found is not None:
        return str(found)
    try:
        with conn.begin_nested():
            # In public, not in the current schema: a schema dropped later must not take the extension with it.
            conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public")
    except Exception:
        return None
    return "public"


def remove(conn: Connection) -> None:
    """Drop the text index (downgrade); the PostgreSQL extension stays, other schemas may use it."""
    if conn.dialect.name == "sqlite":
        for statement in _SQLITE_REMOVE:
            conn.exec_driver_sql(statement)
    elif conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"DROP INDEX IF EXISTS {TRGM_INDEX}")


def _escaped(text: str, specials: str, escape: str) -> str:
    return "".join(escape.format(ch) if ch in specials else ch for ch in text)


def matching(query: str, dialect: str) -> ColumnElement[bool]:
    """Condition on Document: its code or title contains the query (accents and case ignored)."""
    folded = fold(query)
    if len(folded) < MIN_TRIGRAM:
        prefix = _escaped(folded, "%_\\", "\\{}")
        return Document.code_key.like(f"{prefix}%", escape="\\")
    if dialect == "sqlite":  # GLOB, not LIKE: FTS5 serves both from the trigram index, but LIKE cannot escape
        pattern = "*" + _escaped(folded, "*?[", "[{}]") + "*"
        return Document.id.in_(select(_fts.c.rowid).where(_fts.c.search_key.op("GLOB")(pattern)))
    return Document.search_key.like("%" + _escaped(folded, "%_\\", "\\{}") + "%", escape="\\")
