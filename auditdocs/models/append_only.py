"""Database-level protection of evidence rows (used by migrations).

- `install`/`remove`: refuse UPDATE, DELETE and TRUNCATE on append-only tables (the audit trail).
- `install_no_delete`/`remove_no_delete`: refuse DELETE (and TRUNCATE on PostgreSQL) on tables whose rows are
  kept for ever but may still change state (users are disabled, documents withdrawn, versions approved).
- `install_immutable_columns`/`remove_immutable_columns`: refuse an UPDATE that changes one of the named columns
  (a version's bytes, number, document and uploader are fixed once written; its status is not).

SQLite drops a table's triggers when a migration rebuilds it (batch mode): such a migration must call the
install functions again. PostgreSQL skips these triggers for a session with `session_replication_role = replica`
(a DBA's deliberate bypass, used by the test-suite's reset); `auditdocs verify` cross-checks the rows against the
audit trail to catch what a bypass changed.
"""

from __future__ import annotations

from sqlalchemy.engine import Connection

APPEND_ONLY_TABLES = ("audit_events", "attachments", "record_revisions", "risk_matrices", "gift_thresholds")
NO_DELETE_TABLES = ("users", "documents", "document_versions", "document_reviews", "sites", "processes", "scopes",
                    "certificates", "audits", "nonconformities", "corrective_actions", "record_counters",
                    "risk_exercises", "bribery_risks", "due_diligence", "gifts")
IMMUTABLE_COLUMNS = {
    "document_versions": ("document_id", "number", "sha256", "size", "original_filename", "mime_type",
                          "uploaded_by_id", "uploaded_at"),
}


def _unsupported(conn: Connection) -> RuntimeError:  # pragma: no cover - only SQLite and PostgreSQL are supported
    return RuntimeError(f"protective triggers not implemented for {conn.dialect.name}")


def install(conn: Connection, table: str) -> None:
    """Create the triggers; call again after any migration that rebuilds the table (SQLite batch mode)."""
    if conn.dialect.name == "sqlite":
        for op in ("UPDATE", "DELETE"):
            conn.exec_driver_sql(
                f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {op} refused'); END"
            )
    elif conn.dialect.name == "postgresql":
        conn.exec_driver_sql(
            "CREATE OR REPLACE FUNCTION auditdocs_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION '%% is append-only: %% refused', TG_TABLE_NAME, TG_OP; END $$"
        )
        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_no_change ON {table}")
        conn.exec_driver_sql(
            f"CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION auditdocs_refuse_change()"
        )
        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        conn.exec_driver_sql(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION auditdocs_refuse_change()"
        )
    else:  # pragma: no cover
        raise _unsupported(conn)


def remove(conn: Connection, table: str) -> None:
    """Drop the triggers (downgrade only)."""
    if conn.dialect.name == "sqlite":
        for op in ("update", "delete"):
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_no_{op}")
    elif conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_no_change ON {table}")
        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")


def install_no_delete(conn: Connection, table: str) -> None:
    """Refuse DELETE on the table (and TRUNCATE on PostgreSQL); UPDATE and INSERT stay allowed."""
    message = f"{table} rows are kept for ever: DELETE refused"
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(
            f"CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
        )
    elif conn.dialect.name == "postgresql":
        conn.exec_driver_sql(  # %% is psycopg's escape of the % placeholder RAISE uses
            "CREATE OR REPLACE FUNCTION auditdocs_refuse_delete() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION '%% rows are kept for ever: %% refused', TG_TABLE_NAME, TG_OP; END $$"
        )
        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_no_delete ON {table}")
        conn.exec_driver_sql(
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION auditdocs_refuse_delete()"
        )
        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        conn.exec_driver_sql(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION auditdocs_refuse_delete()"
        )
    else:  # pragma: no cover
        raise _unsupported(conn)


def remove_no_delete(conn: Connection, table: str) -> None:
    """Drop the DELETE/TRUNCATE triggers (downgrade only); the shared function goes with the last table."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_no_delete")
    elif conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_no_delete ON {table}")
        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")


def drop_no_delete_function(conn: Connection) -> None:
    """Drop the PostgreSQL function behind the DELETE triggers, once no trigger uses it (downgrade only)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("DROP FUNCTION IF EXISTS auditdocs_refuse_delete()")


def install_immutable_columns(conn: Connection, table: str, columns: tuple[str, ...]) -> None:
    """Refuse an UPDATE that changes any of `columns` (setting a column to its current value is allowed).

    SQLite: one `BEFORE UPDATE OF col, ...` trigger raising ABORT for the first changed column (`IS NOT` compares
    NULLs too). PostgreSQL: a row trigger function comparing OLD and NEW with IS DISTINCT FROM.
    """
    for column in columns:  # the names go into SQL text: only plain identifiers
        if not column.replace("_", "").isalnum():
            raise ValueError(f"not a column name: {column!r}")
    trigger = f"{table}_immutable"
    if conn.dialect.name == "sqlite":
        checks = " ".join(
            f"SELECT RAISE(ABORT, '{table}.{col} is immutable: UPDATE refused') WHERE OLD.{col} IS NOT NEW.{col};"
            for col in columns
        )
        conn.exec_driver_sql(
            f"CREATE TRIGGER IF NOT EXISTS {trigger} BEFORE UPDATE OF {', '.join(columns)} ON {table} "
            f"FOR EACH ROW BEGIN {checks} END"
        )
    elif conn.dialect.name == "postgresql":
        checks = " ".join(
            f"IF OLD.{col} IS DISTINCT FROM NEW.{col} THEN "
            f"RAISE EXCEPTION '{table}.{col} is immutable: UPDATE refused'; END IF;"
            for col in columns
        )
        conn.exec_driver_sql(
            f"CREATE OR REPLACE FUNCTION auditdocs_{trigger}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN {checks} RETURN NEW; END $$"
        )
        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
        conn.exec_driver_sql(
            f"CREATE TRIGGER {trigger} BEFORE UPDATE ON {table} FOR EACH ROW EXECUTE FUNCTION auditdocs_{trigger}()"
        )
    else:  # pragma: no cover
        raise _unsupported(conn)


def remove_immutable_columns(conn: Connection, table: str) -> None:
    """Drop the immutable-columns trigger (and its PostgreSQL function); downgrade only."""
    trigger = f"{table}_immutable"
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {trigger}")
    elif conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
        conn.exec_driver_sql(f"DROP FUNCTION IF EXISTS auditdocs_{trigger}()")
