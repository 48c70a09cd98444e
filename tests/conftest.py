"""Shared fixtures: an app per test on a real SQLite file (and PostgreSQL when configured)."""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import text
from support import PASSWORD, PG_URL, CSRFClient, base_overrides

from auditdocs import create_app
from auditdocs.extensions import db
from config import TestConfig


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run every database test on SQLite, and on PostgreSQL too when AUDITDOCS_TEST_DATABASE_URL is set."""
    if "backend" in metafunc.fixturenames:
        backends = ["sqlite"]
        if PG_URL and not metafunc.definition.get_closest_marker("sqlite_only"):
            backends.append("postgresql")
        metafunc.parametrize("backend", backends, scope="session")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sqlite_only: run on the SQLite backend only")


def _initialise(app: Flask) -> None:
    from auditdocs.db import write_transaction
    from auditdocs.provision import initialise

    with app.app_context(), write_transaction():
        initialise()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrate and load the catalogue once; each test gets a copy of the file."""
    data_dir = tmp_path_factory.mktemp("template")
    db_file = data_dir / "auditdocs.sqlite3"
    app = create_app(TestConfig, base_overrides(data_dir, f"sqlite:///{db_file}"))
    _initialise(app)
    with app.app_context():
        pass
    import sqlite3

    con = sqlite3.connect(db_file)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.execute("PRAGMA journal_mode=DELETE")
    con.close()
    return db_file


@pytest.fixture(scope="session")
def pg_schema() -> Iterator[dict[str, Any]]:
    """A schema of its own for this run in the shared CI database, dropped at the end."""
    from sqlalchemy import create_engine

    schema = f"auditdocs_test_{os.getpid()}_{secrets.token_hex(3)}"
    engine = create_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    options = {"connect_args": {"options": f"-csearch_path={schema}"}, "pool_pre_ping": True}
    info = {"schema": schema, "engine_options": options, "initialised": False}
    try:
        yield info
    finally:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


def _reset_pg(app: Flask) -> None:
    """Empty every table but the migration marker (triggers off for this session only), reload the catalogue."""
    from auditdocs.db import write_transaction
    from auditdocs.standards import load_catalogue

    with app.app_context():
        tables = [t.name for t in db.metadata.sorted_tables]
        db.session.execute(text("SET session_replication_role = replica"))
        db.session.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        db.session.execute(text("SET session_replication_role = DEFAULT"))
        db.session.commit()
        with write_transaction():
            load_catalogue()
        db.session.remove()


@pytest.fixture
def app(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Flask]:
    """A fresh app and database for one test."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    if backend == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        shutil.copy(template, data_dir / "auditdocs.sqlite3")
        overrides = base_overrides(data_dir, f"sqlite:///{data_dir / 'auditdocs.sqlite3'}")
        app = create_app(TestConfig, overrides)
    else:
        pg = request.getfixturevalue("pg_schema")
        app = create_app(TestConfig, base_overrides(data_dir, PG_URL, pg["engine_options"]))
        if not pg["initialised"]:
            _initialise(app)
            pg["initialised"] = True
        _reset_pg(app)
    app.test_client_class = CSRFClient
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> CSRFClient:
    return app.test_client()  # type: ignore[return-value]


@pytest.fixture
def runner(app: Flask):  # type: ignore[no-untyped-def]
    return app.test_cli_runner()


@pytest.fixture
def make_user(app: Flask) -> Callable[..., Any]:
    """Factory: create a user directly through the service (as the CLI would)."""
    from auditdocs.db import write_transaction
    from auditdocs.services.users import create_user

    counter = {"n": 0}

    def _make(role: str = "quality_officer", email: str | None = None, name: str | None = None,
              password: str = PASSWORD) -> Any:
        counter["n"] += 1
        email = email or f"{role}{counter['n']}@example.org"
        with app.app_context(), write_transaction():
            user = create_user(email, name or f"{role.title()} {counter['n']}", role, password)
            user_id = user.id
        return _Ref(user_id, email, role, password)

    return _make


class _Ref:
    """Plain data about a test user (no ORM object leaks between app contexts)."""

    def __init__(self, id: int, email: str, role: str, password: str) -> None:
        self.id, self.email, self.role, self.password = id, email, role, password

    def __repr__(self) -> str:
        return f"<user {self.email}>"


@pytest.fixture
def login_as(client: CSRFClient, make_user: Callable[..., Any]) -> Callable[..., Any]:
    """Factory: create a user of the role and log the test client in as them."""

    def _login(role: str = "quality_officer", **kwargs: Any) -> Any:
        user = make_user(role, **kwargs)
        resp = client.post_form("/login", {"email": user.email, "password": user.password})
        assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
        return user

    return _login
