"""Database-level refusal of UPDATE, DELETE and TRUNCATE on append-only tables (used by migrations)."""

from __future__ import annotations

from sqlalchemy.engine import Connection

APPEND_ONLY_TABLES = ("audit_events",)


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
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        raise RuntimeError(f"append-only triggers not implemented for {conn.dialect.name}")


def remove(conn: Connection, table: str) -> None:
    """Drop the triggers (downgrade only)."""
    if conn.dialect.name == "sqlite":
        for op in ("update", "delete"):
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_no_{op}")
    elif conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_no_change ON {table}")
        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
