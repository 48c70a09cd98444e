"""Platform behaviour: security headers, cookies, health, error pages, upload limit, secret key, config, time."""

from __future__ import annotations

import re
import stat
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from support import need, twin_app

import config as app_config
from auditdocs import create_app
from auditdocs.extensions import db
from auditdocs.models import User

PAGES_ANONYMOUS = ["/login"]
PAGES_LOGGED_IN = ["/", "/clauses/", "/clauses/iso9001_2015/4.4", "/admin/users", "/admin/users/new",
                   "/no-such-page"]


def _dispose(app: Flask) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _check_security_headers(resp: Any) -> None:
    csp = resp.headers.get("Content-Security-Policy", "")
    directives = {d.strip().split(" ", 1)[0]: d.strip() for d in csp.split(";") if d.strip()}
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, csp
    assert directives.get("default-src") == "default-src 'self'"
    assert directives.get("script-src") == "script-src 'self'"
    assert directives.get("frame-ancestors") == "frame-ancestors 'none'"
    assert directives.get("object-src") == "object-src 'none'"
    assert resp.headers.get("X-Content-Type-Options") == "nosniff"
    assert resp.headers.get("Referrer-Policy") in ("same-origin", "strict-origin-when-cross-origin", "no-referrer")
    assert resp.headers.get("X-Frame-Options") == "DENY"


@pytest.mark.parametrize("path", ["/login", "/healthz", "/no-such-page"])
def test_security_headers_without_login(client, path):
    _check_security_headers(client.get(path))


def test_security_headers_on_pages_after_login(client, login_as):
    login_as("admin")
    for path in PAGES_LOGGED_IN:
        resp = client.get(path)
        _check_security_headers(resp)
        assert "no-store" in resp.headers.get("Cache-Control", ""), path


def test_static_files_carry_nosniff_and_may_be_cached(client):
    with client.get("/static/app/app.js") as resp:
        assert resp.status_code == 200
        assert resp.headers.get("X-Content-Type-Options") == "nosniff"
        assert "no-store" not in resp.headers.get("Cache-Control", "")


def test_hsts_only_over_https(client):
    assert "Strict-Transport-Security" not in client.get("/login").headers
    secure = client.get("/login", base_url="https://localhost")
    assert "max-age=" in secure.headers.get("Strict-Transport-Security", "")


def _inline_code(body: str) -> list[str]:
    """Anything a CSP without 'unsafe-inline' would block."""
    found = re.findall(r"<script(?![^>]*\ssrc=)[^>]*>", body)
    found += re.findall(r"<style[\s>]", body)
    found += re.findall(r"\sstyle=\"", body)
    found += re.findall(r"\son[a-z]+=[\"']", body)
    found += re.findall(r"href=\"javascript:", body)
    return found


def test_pages_need_no_inline_script_or_style(client, login_as):
    assert _inline_code(client.get("/login").get_data(as_text=True)) == []
    login_as("admin")
    for path in PAGES_LOGGED_IN:
        assert _inline_code(client.get(path).get_data(as_text=True)) == [], path


def _set_cookies(resp: Any, name: str) -> list[str]:
    return [c for c in resp.headers.getlist("Set-Cookie") if c.startswith(f"{name}=")]


def test_session_cookie_is_httponly_and_samesite_lax(client, make_user):
    user = make_user("auditor")
    first = _set_cookies(client.get("/login"), "session")
    assert first, "the login page sets the session cookie (CSRF token)"
    resp = client.post_form("/login", {"email": user.email, "password": user.password})
    assert resp.status_code == 302
    cookies = _set_cookies(resp, "session")
    assert cookies
    for cookie in first + cookies:
        attrs = {a.strip().split("=", 1)[0].lower(): a.strip() for a in cookie.split(";")[1:]}
        assert "httponly" in attrs, cookie
        assert attrs.get("samesite") == "SameSite=Lax", cookie
        assert "secure" not in attrs, "plain-HTTP development must still be able to log in"


def test_cookies_are_secure_when_configured_for_https(app, monkeypatch):
    monkeypatch.setenv("AUDITDOCS_SECURE_COOKIES", "1")
    secure_app = twin_app(app)
    try:
        assert secure_app.config["SESSION_COOKIE_SECURE"] is True
        client = secure_app.test_client()
        resp = client.get("/login", base_url="https://localhost")
        cookies = _set_cookies(resp, "session")
        assert cookies and all("Secure" in c and "HttpOnly" in c for c in cookies)
    finally:
        _dispose(secure_app)


def test_healthz_answers_json_without_login_and_details_only_to_admins(app, client, backend, login_as):
    resp = client.get("/healthz")
    assert resp.status_code == 200
    assert resp.mimetype == "application/json"
    assert resp.get_json() == {"status": "ok"}  # nothing about the backend, counts or paths for a stranger
    login_as("quality_officer")
    assert client.get("/healthz").get_json() == {"status": "ok"}
    client.post_form("/logout", page="/")
    login_as("admin")
    data = client.get("/healthz").get_json()
    assert data["status"] == "ok"
    assert data["checks"]["database"]["status"] == "ok"
    assert data["checks"]["database"]["backend"] == backend
    assert data["checks"]["database"]["clauses"] == 94 + 88
    assert data["checks"]["storage"]["status"] == "ok"
    assert "index" in data["checks"]


@pytest.mark.sqlite_only
def test_healthz_reports_a_broken_database(tmp_path):
    broken = create_app(app_config.TestConfig, {
        "DATA_DIR": tmp_path / "data",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'missing-dir' / 'x.sqlite3'}",
        "SQLALCHEMY_ENGINE_OPTIONS": {},
    })
    try:
        resp = broken.test_client().get("/healthz")
        assert resp.status_code == 503
        assert resp.get_json() == {"status": "degraded"}
    finally:
        _dispose(broken)


def test_404_is_a_friendly_html_page(client):
    resp = client.get("/no-such-page")
    assert resp.status_code == 404
    assert resp.mimetype == "text/html"
    body = resp.get_data(as_text=True)
    assert 'data-testid="error-page"' in body
    assert "Not found" in body
    assert 'href="/login"' in body, "a way back for someone not logged in"
    assert "Traceback" not in body and "werkzeug" not in body.lower()


def _spanish(message: str) -> str:
    """The compiled Spanish translation of a message (skips, or fails in CI, when catalogues are not compiled)."""
    from babel.support import Translations

    translations = Path(__file__).resolve().parent.parent / "auditdocs" / "translations"
    compiled = translations / "es" / "LC_MESSAGES" / "messages.mo"
    need(compiled.is_file(), f"compile the catalogues first (make translations): {compiled}")
    text = Translations.load(str(translations), ["es"]).gettext(message)
    assert text != message, f"no Spanish translation of {message!r}"
    return text


def test_404_in_spanish_when_the_browser_prefers_it(client):
    resp = client.get("/no-such-page", headers={"Accept-Language": "es-PE,es;q=0.9,en;q=0.5"})
    assert resp.status_code == 404
    body = resp.get_data(as_text=True)
    assert 'data-testid="error-page"' in body
    assert '<html lang="es">' in body
    assert _spanish("Not found") in body
    assert _spanish("This page does not exist, or you do not have access to it.") in body
    assert "This page does not exist" not in body


def test_form_expired_page_in_spanish(client):
    with client.session_transaction() as sess:
        sess["lang"] = "es"
    resp = client.post("/login", data={"email": "a@example.org", "password": "x"})
    assert resp.status_code == 400
    body = resp.get_data(as_text=True)
    assert _spanish("Form expired") in body
    assert "Form expired" not in body


def test_405_is_a_friendly_page(client, login_as):
    login_as("quality_officer")
    resp = client.get("/logout")
    assert resp.status_code == 405
    assert 'data-testid="error-page"' in resp.get_data(as_text=True)


def test_500_is_a_friendly_page_without_a_traceback(app, client, login_as):
    def explode() -> str:
        raise RuntimeError("secret internals: db password is hunter2")

    app.add_url_rule("/test-only-explode", "test_only_explode", explode)
    login_as("quality_officer")
    resp = client.get("/test-only-explode")
    assert resp.status_code == 500
    body = resp.get_data(as_text=True)
    assert 'data-testid="error-page"' in body
    assert "Something went wrong" in body
    assert "hunter2" not in body and "Traceback" not in body
    assert client.get("/").status_code == 200, "the app keeps serving after a crash"


def test_413_when_the_body_exceeds_the_limit(app):
    small = twin_app(app, MAX_UPLOAD_MB=1)
    try:
        assert small.config["MAX_CONTENT_LENGTH"] < 3 * 1024 * 1024
        client = small.test_client()
        token = client.csrf_token()
        resp = client.post("/login", data={"email": "x" * (3 * 1024 * 1024), "password": "x",
                                           "csrf_token": token})
        assert resp.status_code == 413
        body = resp.get_data(as_text=True)
        assert 'data-testid="error-page"' in body
        assert "1 MB" in body
        # A normal request on the same app still works.
        assert client.get("/login").status_code == 200
    finally:
        _dispose(small)


def _plain_app(data_dir: Path) -> Flask:
    """The production Config (no test secret), on a throwaway SQLite file."""
    return create_app(app_config.Config, {"DATA_DIR": data_dir,
                               "SQLALCHEMY_DATABASE_URI": f"sqlite:///{data_dir / 'auditdocs.sqlite3'}"})


@pytest.mark.sqlite_only
def test_secret_key_is_generated_once_with_mode_0600_and_reused(tmp_path, monkeypatch):
    monkeypatch.delenv("AUDITDOCS_SECRET_KEY", raising=False)
    data_dir = tmp_path / "data"
    first = _plain_app(data_dir)
    key_file = data_dir / "secret_key"
    try:
        assert key_file.is_file()
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        key = first.config["SECRET_KEY"]
        assert len(key) >= 32
        assert key_file.read_text().strip() == key
        second = _plain_app(data_dir)
        try:
            assert second.config["SECRET_KEY"] == key
        finally:
            _dispose(second)
        other = _plain_app(tmp_path / "other")
        try:
            assert other.config["SECRET_KEY"] != key, "each installation gets its own key"
        finally:
            _dispose(other)
    finally:
        _dispose(first)


@pytest.mark.sqlite_only
def test_secret_key_from_the_environment_wins_and_writes_no_file(tmp_path, monkeypatch):
    monkeypatch.setenv("AUDITDOCS_SECRET_KEY", "from-the-environment-0123456789abcdef")
    data_dir = tmp_path / "data"
    app = _plain_app(data_dir)
    try:
        assert app.config["SECRET_KEY"] == "from-the-environment-0123456789abcdef"
        assert not (data_dir / "secret_key").exists()
    finally:
        _dispose(app)


@pytest.mark.sqlite_only
def test_default_paths_hang_off_the_data_dir(tmp_path, monkeypatch):
    for name in ("AUDITDOCS_DATABASE_URL", "AUDITDOCS_SECRET_KEY", "AUDITDOCS_TIMEZONE",
                 "AUDITDOCS_MAX_UPLOAD_MB", "AUDITDOCS_DEFAULT_LANGUAGE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AUDITDOCS_DATA_DIR", "relative-data")
    data_dir = (tmp_path / "relative-data").resolve()

    config = app_config.Config()
    assert data_dir == config.DATA_DIR
    assert f"sqlite:///{data_dir / 'auditdocs.sqlite3'}" == config.SQLALCHEMY_DATABASE_URI
    assert config.TIMEZONE == "America/Lima"
    assert config.MAX_UPLOAD_MB == 100
    assert config.DEFAULT_LANGUAGE in ("es", "en")

    app = create_app(app_config.Config)
    try:
        assert app.config["DATA_DIR"] == data_dir
        for key in ("OBJECTS_DIR", "INDEX_DIR", "PACKS_DIR"):
            assert Path(app.config[key]).resolve().parent == data_dir, key
        assert (data_dir / "secret_key").is_file()
        assert app.config["MAX_CONTENT_LENGTH"] >= 100 * 1024 * 1024
    finally:
        _dispose(app)

    monkeypatch.delenv("AUDITDOCS_DATA_DIR")
    assert (Path(__file__).resolve().parent.parent / "storage") == app_config.Config().DATA_DIR


@pytest.mark.sqlite_only
def test_database_url_and_limits_come_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("AUDITDOCS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("AUDITDOCS_DATABASE_URL", "postgresql+psycopg://u@db.example/auditdocs")
    monkeypatch.setenv("AUDITDOCS_MAX_UPLOAD_MB", "7")
    monkeypatch.setenv("AUDITDOCS_TIMEZONE", "Europe/Madrid")
    monkeypatch.setenv("AUDITDOCS_ORG_NAME", "Programa X")
    config = app_config.Config()
    assert config.SQLALCHEMY_DATABASE_URI == "postgresql+psycopg://u@db.example/auditdocs"
    assert config.MAX_UPLOAD_MB == 7
    assert config.TIMEZONE == "Europe/Madrid"
    assert config.ORG_NAME == "Programa X"


def _user_row(body: str, email: str) -> str:
    for row in re.findall(r"<tr[^>]*>.*?</tr>", body, re.S):
        if email in row:
            return row
    raise AssertionError(f"{email} not listed")


def test_times_are_shown_in_lima_time(app, client, login_as, make_user):
    visitor = make_user("auditor")
    with app.app_context():
        user = db.session.scalar(select(User).where(User.id == visitor.id))
        user.last_login_at = datetime(2024, 3, 5, 15, 30, tzinfo=UTC)  # 10:30 in Lima (UTC-5)
        db.session.commit()
        db.session.remove()
    login_as("admin")

    row = _user_row(client.get("/admin/users").get_data(as_text=True), visitor.email)
    assert "10:30" in row and "15:30" not in row
    assert "Mar 5, 2024" in row, "English dates: month, day, year (the app's one medium format)"

    client.post_form("/lang", {"lang": "es"}, page="/")
    row = _user_row(client.get("/admin/users").get_data(as_text=True), visitor.email)
    assert "10:30" in row and "15:30" not in row
    assert "5 mar 2024" in row, "Spanish dates: day, month, year"
