"""Real-browser fixtures: the app on a live port, Debian's Chromium driven by Playwright.

Every browser test module must carry ``pytestmark = pytest.mark.sqlite_only``: the live server serves
the per-test SQLite copy built by the ``app`` fixture (``live_server`` refuses any other backend).

Each page records console errors (a strict-CSP violation is logged as "Refused to ...") and uncaught
page errors; the autouse ``no_console_errors`` fixture fails the test when any occurred that the test did
not explicitly expect with ``console_errors.allow(pattern)``.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from support import need
from werkzeug.serving import WSGIRequestHandler, make_server

CHROMIUM = os.environ.get("AUDITDOCS_CHROMIUM") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-quic",
    "--no-first-run",
    "--disable-sync",
]
MISSING = f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium)"
TIMEOUT_MS = 10_000


# --- the live server ----------------------------------------------------------------------------------


class _QuietHandler(WSGIRequestHandler):
    """No access log lines in the test output (errors are still logged)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class _ServerErrors:
    """WSGI middleware noting every 5xx answer: a friendly error page must not hide a server bug."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.errors: list[str] = []
        self.expected: list[re.Pattern[str]] = []

    def expect(self, pattern: str) -> None:
        """A 5xx the test provokes on purpose (e.g. a download refused for a damaged stored file)."""
        self.expected.append(re.compile(pattern))

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        def _start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            line = f"{environ['REQUEST_METHOD']} {environ.get('PATH_INFO', '')} -> {status}"
            if status.startswith("5") and not any(p.search(line) for p in self.expected):
                self.errors.append(line)
            return start_response(status, headers, exc_info)

        return self.app(environ, _start)


@pytest.fixture
def server_errors() -> _ServerErrors:
    """The live server's watch for 5xx answers (``server_errors.expect(pattern)`` for a deliberate one)."""
    return _ServerErrors(None)


@pytest.fixture
def live_server(app: Flask, backend: str, server_errors: _ServerErrors) -> Iterator[str]:
    """Serve the test's app on a free local port in a daemon thread; yields the base URL.

    Any 5xx answer fails the test at teardown (the traceback is in the captured log), unless expected.
    """
    if backend != "sqlite":
        pytest.fail("browser tests run on SQLite only: add `pytestmark = pytest.mark.sqlite_only`")
    wsgi = server_errors
    wsgi.app = app
    server = make_server("127.0.0.1", 0, wsgi, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="auditdocs-live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    assert not wsgi.errors, "the live server answered with a server error: " + "; ".join(wsgi.errors)


# --- the browser --------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the whole session (Debian's package; Playwright downloads nothing)."""
    need(Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK), MISSING)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - the test extras install it
        need(False, "browser tests need the Python package playwright (pip install -e '.[test]')")
        raise
    pw = sync_playwright().start()
    try:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, timeout=30_000)
    except Exception as exc:
        pw.stop()
        need(False, f"{MISSING}; launching it failed: {str(exc).splitlines()[0]}")
        raise
    try:
        yield chromium
    finally:
        chromium.close()
        pw.stop()


class ConsoleErrors:
    """Console errors and uncaught exceptions seen by one page; expected ones are allowed by pattern."""

    def __init__(self) -> None:
        self.messages: list[str] = []
        self._allowed: list[re.Pattern[str]] = []

    def allow(self, pattern: str) -> None:
        """Expect errors matching the regex (e.g. the 401 status of a deliberately bad login)."""
        self._allowed.append(re.compile(pattern))

    def on_console(self, msg: Any) -> None:
        if msg.type == "error":
            loc = msg.location or {}
            self.messages.append(f"console: {msg.text} ({loc.get('url', '?')}:{loc.get('lineNumber', '?')})")

    def on_pageerror(self, exc: Any) -> None:
        self.messages.append(f"pageerror: {exc}")

    def unexpected(self) -> list[str]:
        return [m for m in self.messages if not any(p.search(m) for p in self._allowed)]

    def clear(self) -> None:
        self.messages.clear()


@pytest.fixture
def console_errors() -> ConsoleErrors:
    """The error log of this test's page (see ``allow``)."""
    return ConsoleErrors()


@pytest.fixture(autouse=True)
def no_console_errors(console_errors: ConsoleErrors) -> Iterator[None]:
    """At the end of every browser test: no console error, no CSP violation, no uncaught exception."""
    yield
    unexpected = console_errors.unexpected()
    assert not unexpected, "browser console errors (a CSP violation reads 'Refused to ...'):\n" + "\n".join(unexpected)


@pytest.fixture
def browser_locale() -> str:
    """The browser's locale (and so its Accept-Language); parametrize this fixture to change it."""
    return "en-US"


# Reported to the console as an error too, so the watcher sees a violation even where Chromium is quiet.
_CSP_REPORTER = """
document.addEventListener("securitypolicyviolation", (e) => {
  console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || "inline"}`);
});
"""


@pytest.fixture
def page(browser: Any, browser_locale: str, console_errors: ConsoleErrors) -> Iterator[Any]:
    """A fresh context (no cookies) and page for each test, watched for console errors."""
    context = browser.new_context(locale=browser_locale, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    context.add_init_script(_CSP_REPORTER)
    pg = context.new_page()
    pg.on("console", console_errors.on_console)
    pg.on("pageerror", console_errors.on_pageerror)
    try:
        yield pg
    finally:
        context.close()


@pytest.fixture
def browser_login() -> Callable[[Any, str, Any], None]:
    """``browser_login(page, live_server, user)``: log in through the form and land on the dashboard."""

    def _login(page: Any, live_server: str, user: Any) -> None:
        page.goto(f"{live_server}/login")
        page.fill("#email", user.email)
        page.fill("#password", user.password)
        with page.expect_navigation():
            page.click("form:has(#password) button[type=submit]")
        assert page.url == f"{live_server}/", f"login as {user.email} did not reach the dashboard: {page.url}"
        assert page.get_by_test_id("whoami").is_visible()

    return _login
