"""A throwaway app for a benchmark run: a temp data dir and an empty migrated database (PostgreSQL: its own schema).

Why one place: every benchmark must leave nothing behind — no data dir, no schema — even when it fails halfway.
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import create_engine, text

import config as app_config
from auditdocs import create_app
from auditdocs.db import write_transaction
from auditdocs.extensions import db
from auditdocs.provision import initialise


@contextmanager
def bench_app(backend: str, database_url: str | None, prefix: str) -> Iterator[Flask]:
    """An empty, migrated database with the clause catalogue, removed on exit (its schema dropped on PostgreSQL)."""
    tmp = Path(tempfile.mkdtemp(prefix=f"{prefix}-{backend}-"))
    overrides: dict[str, Any] = {"DATA_DIR": tmp, "TIMEZONE": "America/Lima", "DEFAULT_LANGUAGE": "es"}
    drop: Callable[[], None] = lambda: None  # noqa: E731
    if backend == "sqlite":
        overrides["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp / 'auditdocs.sqlite3'}"
    else:
        assert database_url, "PostgreSQL needs a database URL"
        schema = f"{prefix.replace('-', '_')}_{secrets.token_hex(4)}"
        admin = create_engine(database_url)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        overrides["SQLALCHEMY_DATABASE_URI"] = database_url
        overrides["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"options": f"-csearch_path={schema}"}}

        def drop() -> None:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()
    app: Flask | None = None
    try:
        app = create_app(app_config.TestConfig, overrides)
        with app.app_context(), write_transaction():
            initialise()
        yield app
    finally:
        if app is not None:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
        drop()
        shutil.rmtree(tmp, ignore_errors=True)
