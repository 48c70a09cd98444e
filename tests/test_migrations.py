"""Alembic: upgrading an empty database gives exactly the models' schema, with the append-only triggers."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import DBAPIError

import config as app_config
from auditdocs import create_app
from auditdocs.db import write_transaction
from auditdocs.extensions import db
from auditdocs.models.append_only import APPEND_ONLY_TABLES
from auditdocs.services import audit

PG_URL = os.environ.get("AUDITDOCS_TEST_DATABASE_URL", "")
ROOT_CONFTEST = Path(__file__).resolve().parent / "conftest.py"


def _need(config: pytest.Config, condition: bool, reason: str) -> None:
    """The suite's need() (skip locally, fail in CI); every conftest is a module named "conftest", so look it up."""
    for plugin in config.pluginmanager.get_plugins():
        file = getattr(plugin, "__file__", None)
        if file and Path(file).resolve() == ROOT_CONFTEST:
            plugin.need(condition, reason)
            return
    raise RuntimeError(f"{ROOT_CONFTEST} is not loaded as a conftest plugin")


def _fresh_sqlite(tmp_path: Path) -> Flask:
    data_dir = tmp_path / "fresh"
    return create_app(app_config.TestConfig, {
        "DATA_DIR": data_dir,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{data_dir / 'auditdocs.sqlite3'}",
        "SQLALCHEMY_ENGINE_OPTIONS": {},
    })


@pytest.fixture
def pg_fresh(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Flask]:
    """An app on a brand-new, empty PostgreSQL schema of its own, dropped afterwards."""
    _need(request.config, bool(PG_URL), "PostgreSQL tests need AUDITDOCS_TEST_DATABASE_URL")
    schema = f"auditdocs_mig_{secrets.token_hex(4)}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    app = create_app(app_config.TestConfig, {
        "DATA_DIR": tmp_path / "fresh",
        "SQLALCHEMY_DATABASE_URI": PG_URL,
        "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"options": f"-csearch_path={schema}"}},
    })
    try:
        yield app
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _tables(app: Flask) -> set[str]:
    with app.app_context(), db.engine.connect() as conn:
        return set(inspect(conn).get_table_names())


def _schema_diff(app: Flask) -> list[Any]:
    with app.app_context(), db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
        return compare_metadata(ctx, db.metadata)


def _triggers(app: Flask) -> set[str]:
    with app.app_context(), db.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            rows = conn.execute(text(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_events'"))
        else:
            rows = conn.execute(text(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_events'::regclass AND NOT tgisinternal"))
        return {r[0] for r in rows}


def _upgrade_empty(app: Flask) -> None:
    assert _tables(app) == set(), "the database must start empty"
    with app.app_context():
        upgrade()
        db.session.remove()


def _append_one_event(app: Flask) -> None:
    with app.app_context(), write_transaction():
        audit.record("test.event", "test", "1", new={"n": 1}, actor_label="pytest")
    with app.app_context():
        db.session.remove()


def _refused(app: Flask, sql: str) -> str:
    """Run a statement that must be refused; return the database's message."""
    with app.app_context(), db.engine.connect() as conn, pytest.raises(DBAPIError) as exc, conn.begin():
        conn.execute(text(sql))
    return str(exc.value.orig)


def _event_rows(app: Flask) -> list[tuple]:
    with app.app_context(), db.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text("SELECT seq, action, hash FROM audit_events ORDER BY seq"))]


def _assert_schema_and_triggers(app: Flask, expected_triggers: set[str]) -> None:
    _upgrade_empty(app)
    model_tables = {t.name for t in db.metadata.sorted_tables}
    assert _tables(app) == model_tables | {"alembic_version"}
    assert _schema_diff(app) == []
    assert set(APPEND_ONLY_TABLES) == {"audit_events"}
    assert _triggers(app) == expected_triggers

    _append_one_event(app)
    before = _event_rows(app)
    assert len(before) == 1
    assert "append-only" in _refused(app, "UPDATE audit_events SET action = 'tampered'")
    assert "append-only" in _refused(app, "DELETE FROM audit_events")
    assert _event_rows(app) == before
    # Inserting is still allowed: the trail grows.
    _append_one_event(app)
    assert len(_event_rows(app)) == 2


@pytest.mark.sqlite_only
def test_sqlite_upgrade_from_empty_matches_the_models(tmp_path):
    app = _fresh_sqlite(tmp_path)
    try:
        _assert_schema_and_triggers(app, {"audit_events_no_update", "audit_events_no_delete"})
    finally:
        with app.app_context():
            db.engine.dispose()


def test_postgresql_upgrade_from_empty_matches_the_models(pg_fresh):
    _assert_schema_and_triggers(pg_fresh, {"audit_events_no_change", "audit_events_no_truncate"})
    assert "append-only" in _refused(pg_fresh, "TRUNCATE audit_events")
    assert len(_event_rows(pg_fresh)) == 2


@pytest.mark.sqlite_only
def test_sqlite_downgrade_to_base_and_upgrade_again(tmp_path):
    app = _fresh_sqlite(tmp_path)
    try:
        _upgrade_empty(app)
        with app.app_context():
            downgrade(revision="base")
            db.session.remove()
        assert _tables(app) == {"alembic_version"}
        assert _triggers(app) == set()
        with app.app_context():
            upgrade()
            db.session.remove()
        assert _schema_diff(app) == []
        assert _triggers(app) == {"audit_events_no_update", "audit_events_no_delete"}
    finally:
        with app.app_context():
            db.engine.dispose()


def test_the_test_database_is_at_head_with_no_diff(app):
    """The database every other test uses was built by the migrations, not by create_all."""
    assert _schema_diff(app) == []
    with app.app_context():
        with db.engine.connect() as conn:
            version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        scripts = ScriptDirectory.from_config(app.extensions["migrate"].migrate.get_config())
        heads = scripts.get_heads()
    assert len(heads) == 1, f"one linear history expected, found heads {heads}"
    assert version == heads[0]
