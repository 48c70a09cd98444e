"""No write lock during slow work, and a clear "busy, try again" when another writer holds the database too long.

The slow steps (checking a file's content, fsyncing it, hashing a password) are watched while they run: at that
moment a second connection must be able to write (SQLite: take the write lock itself; PostgreSQL: lock every
table the app writes in EXCLUSIVE mode, which only a write transaction would block). The watch runs the real step
afterwards: nothing is replaced. Then a writer holds the database past the app's lock timeout: the person gets 503
with Retry-After in their language, the log says why, and nothing is half-done.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from support import (
    NOTHING_LEFT,
    PASSWORD,
    create_document,
    pdf,
    twin_app,
    what_is_left,
    write,
    write_elsewhere,
    write_lock_held,
)

from auditdocs.extensions import db
from auditdocs.models import AuditEvent, Document, User
from auditdocs.services import uploads, users
from auditdocs.storage import BlobWriter

QUICK_LOCK_MS = 300


def _watch(monkeypatch: pytest.MonkeyPatch, app: Any, target: Any, name: str, seen: list[str]) -> None:
    """While `target.name` runs, a second connection writes; the real function runs after (its result is kept)."""
    real: Callable[..., Any] = getattr(target, name)

    def watched(*args: Any, **kwargs: Any) -> Any:
        write_elsewhere(app)  # raises if the app holds the write lock now
        seen.append(name)
        return real(*args, **kwargs)

    monkeypatch.setattr(target, name, watched)


def _count(app: Any, model: Any) -> int:
    with app.app_context():
        n = db.session.scalar(select(func.count()).select_from(model)) or 0
        db.session.remove()
    return n


def test_an_upload_is_checked_and_fsynced_while_others_write(app, client, login_as, monkeypatch):
    rosa = login_as("quality_officer")
    seen: list[str] = []
    _watch(monkeypatch, app, uploads, "sniff", seen)
    _watch(monkeypatch, app, BlobWriter, "sync", seen)
    resp = create_document(client, rosa.id, code="PR-LOCK-001")
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    assert seen == ["sniff", "sync"]  # both slow steps ran, and another writer got through during each
    assert _count(app, Document) == 1


def test_a_new_version_is_checked_while_others_write(app, client, login_as, monkeypatch):
    rosa = login_as("quality_officer")
    resp = create_document(client, rosa.id, code="PR-LOCK-002")
    doc_id = int(resp.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    seen: list[str] = []
    _watch(monkeypatch, app, uploads, "sniff", seen)
    data = {"csrf_token": client.csrf_token(f"/documents/{doc_id}"), "file": (io.BytesIO(pdf("v2")), "v2.pdf")}
    resp = client.post(f"/documents/{doc_id}/versions", data=data, content_type="multipart/form-data")
    assert resp.status_code == 302 and seen == ["sniff"]


def test_an_import_checks_its_files_while_others_write(app, runner, make_user, monkeypatch, tmp_path):
    make_user("admin", email="admin@example.org")
    share = tmp_path / "share"
    share.mkdir()
    for i in range(3):
        write(share / f"PR-IMP-00{i} Procedimiento {i}.pdf", pdf(f"import {i}"))
    seen: list[str] = []
    _watch(monkeypatch, app, uploads, "sniff", seen)
    _watch(monkeypatch, app, BlobWriter, "sync", seen)
    result = runner.invoke(args=["import", str(share)])
    assert result.exit_code == 0, result.output
    assert seen.count("sniff") == 3 and seen.count("sync") == 3
    assert _count(app, Document) == 3


def test_passwords_are_hashed_while_others_write(app, client, make_user, login_as, monkeypatch):
    person = make_user("quality_officer")
    seen: list[str] = []
    _watch(monkeypatch, app, users, "check_password_hash", seen)
    assert client.post_form("/login", {"email": person.email, "password": PASSWORD}).status_code == 302
    client.post("/logout", data={"csrf_token": client.csrf_token("/")})
    login_as("admin")
    _watch(monkeypatch, app, users, "generate_password_hash", seen)
    data = {"email": "nueva@example.org", "name": "Nueva", "role": "auditor", "password": PASSWORD,
            "confirm": PASSWORD}
    resp = client.post_form("/admin/users/new", data, page="/admin/users/new")
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    assert seen == ["check_password_hash", "check_password_hash", "generate_password_hash"]


# -- a writer that holds on too long -----------------------------------------------------------------------------


@pytest.fixture
def quick(app: Any) -> Iterator[Any]:
    """The same database, with a lock timeout short enough for a test."""
    twin = twin_app(app, DB_LOCK_TIMEOUT_MS=QUICK_LOCK_MS)
    yield twin
    with twin.app_context():
        db.session.remove()
        db.engine.dispose()


def test_an_upload_meets_a_busy_database_with_503_and_loses_nothing(app, quick, make_user, caplog):
    rosa = make_user("quality_officer")
    client = quick.test_client()
    assert client.post_form("/login", {"email": rosa.email, "password": PASSWORD}).status_code == 302
    before = what_is_left(app)
    caplog.set_level(logging.WARNING, logger="auditdocs")
    with write_lock_held(app):
        resp = create_document(client, rosa.id, code="PR-BUSY-001", headers={"Accept-Language": "es"})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 503, body[:500]
    assert resp.headers["Retry-After"] == "10"
    assert "ocupado" in body and "Traceback" not in body
    assert what_is_left(app) == before == NOTHING_LEFT
    assert any("database busy on POST /documents/new" in r.getMessage() for r in caplog.records)
    # Once the other writer is done, the same upload goes through.
    resp = create_document(client, rosa.id, code="PR-BUSY-001")
    assert resp.status_code == 302 and _count(app, Document) == 1


def test_a_login_meets_a_busy_database_with_503(app, quick, make_user):
    person = make_user("auditor")
    client = quick.test_client()
    events = _count(app, AuditEvent)
    with write_lock_held(app):
        resp = client.post_form("/login", {"email": person.email, "password": PASSWORD})
    assert resp.status_code == 503 and resp.headers["Retry-After"] == "10"
    assert "busy" in resp.get_data(as_text=True)
    assert _count(app, AuditEvent) == events
    assert client.get("/").status_code == 302  # not signed in: nothing half-done
    assert client.post_form("/login", {"email": person.email, "password": PASSWORD}).status_code == 302


def test_an_import_stops_cleanly_when_the_database_stays_busy_and_resumes(app, quick, make_user, tmp_path: Path):
    make_user("admin", email="admin@example.org")
    share = tmp_path / "share"
    share.mkdir()
    for i in range(4):
        write(share / f"PR-RES-00{i} Procedimiento {i}.pdf", pdf(f"resume {i}"))
    runner = quick.test_cli_runner()
    with write_lock_held(app):
        stopped = runner.invoke(args=["import", str(share)])
    assert stopped.exit_code == 1, stopped.output
    assert "locked by another writer" in stopped.output and "Traceback" not in stopped.output
    assert what_is_left(app) == NOTHING_LEFT
    resumed = runner.invoke(args=["import", str(share)])
    assert resumed.exit_code == 0, resumed.output
    assert _count(app, Document) == 4
    with app.app_context():
        assert db.session.scalar(select(func.count(User.id))) == 1
        db.session.remove()
