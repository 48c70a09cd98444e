"""Helpers shared by the test modules and conftests: import them with ``from support import ...``.

Every conftest.py is loaded as a module named "conftest", so ``from conftest import ...`` resolves to whichever
one was loaded last (tests/ or tests/browser/). This module has a name of its own; pytest puts tests/ on sys.path
when it loads tests/conftest.py (the default "prepend" import mode, no __init__.py), so it imports from any test
module or conftest below tests/. The fixtures stay in conftest.py.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

PG_URL = os.environ.get("AUDITDOCS_TEST_DATABASE_URL", "")
IN_CI = os.environ.get("CI", "").lower() == "true"
PASSWORD = "correct-horse-battery-staple"
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def need(condition: bool, reason: str) -> None:
    """Skip with a reason on a machine that lacks a tool; fail instead in CI, so CI proves it."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI=true but {reason}")
    pytest.skip(reason)


class CSRFClient(FlaskClient):
    """A test client that sends forms the way a browser does: with the page's CSRF token."""

    def csrf_token(self, page: str = "/login") -> str:
        resp = self.get(page, follow_redirects=True)
        match = CSRF_RE.search(resp.get_data(as_text=True))
        assert match, f"no CSRF token on {page}"
        return match.group(1)

    def post_form(self, url: str, data: dict[str, Any] | None = None, *, page: str = "/login",
                  **kwargs: Any) -> Any:
        payload = dict(data or {})
        payload["csrf_token"] = self.csrf_token(page)
        return self.post(url, data=payload, **kwargs)


def base_overrides(data_dir: Path, uri: str, engine_options: dict | None = None) -> dict[str, Any]:
    """The settings every test app gets: its data dir and database, Lima time, English by default."""
    return {
        "DATA_DIR": data_dir,
        "SQLALCHEMY_DATABASE_URI": uri,
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options or {},
        "TIMEZONE": "America/Lima",
        "DEFAULT_LANGUAGE": "en",
    }


EVENT_KEYS = ("actor_id", "object_id", "old", "new")


def audit_events(app: Any, action: str, keys: tuple[str, ...] = EVENT_KEYS) -> list[dict[str, Any]]:
    """Audit events of one action, oldest first, as plain dicts of the given keys (old/new decoded)."""
    from sqlalchemy import select

    from auditdocs.extensions import db
    from auditdocs.models import AuditEvent

    with app.app_context():
        rows = db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq))
        out = []
        for e in rows:
            full = {"seq": e.seq, "action": e.action, "actor_id": e.actor_id, "actor_label": e.actor_label,
                    "object_id": e.object_id, "old": json.loads(e.old_values) if e.old_values else None,
                    "new": json.loads(e.new_values) if e.new_values else None}
            out.append({k: full[k] for k in keys})
        db.session.remove()
    return out


def twin_app(app: Any, **settings: Any) -> Any:
    """A second app on the fixture's database and data dir, with some settings changed."""
    from auditdocs import create_app
    from config import TestConfig

    overrides = base_overrides(app.config["DATA_DIR"], app.config["SQLALCHEMY_DATABASE_URI"],
                               dict(app.config["SQLALCHEMY_ENGINE_OPTIONS"]))
    overrides.update(settings)
    other = create_app(TestConfig, overrides)
    other.test_client_class = app.test_client_class
    return other
