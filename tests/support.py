"""Helpers shared by the test modules and conftests: import them with ``from support import ...``.

Every conftest.py is loaded as a module named "conftest", so ``from conftest import ...`` resolves to whichever
one was loaded last (tests/ or tests/browser/). This module has a name of its own; pytest puts tests/ on sys.path
when it loads tests/conftest.py (the default "prepend" import mode, no __init__.py), so it imports from any test
module or conftest below tests/. The fixtures stay in conftest.py.
"""

from __future__ import annotations

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
