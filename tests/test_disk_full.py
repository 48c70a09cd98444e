"""A full disk: the person is told plainly (507, in their language), and nothing is left half-written — no row, no
temp file, no object the user was told was not saved. On a real 8 MB tmpfs (CI runs as root; elsewhere these tests
skip and tests/test_storage_faults.py covers the same paths with RLIMIT_FSIZE)."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select
from support import (
    NOTHING_LEFT,
    CSRFClient,
    base_overrides,
    create_document,
    need,
    new_document,
    pdf,
    what_is_left,
    write,
)

import config as app_config
from auditdocs import create_app
from auditdocs.extensions import db
from auditdocs.models.security import UserSession
from auditdocs.services.uploads import get_store, unsaved_folder

pytestmark = pytest.mark.sqlite_only
FULL_EN = "The server has run out of storage space, so nothing was saved."





@pytest.fixture
def app(tmp_path: Path, sqlite_template: Path) -> Iterator[Flask]:
    """The app with its data dir (SQLite database and blob store) on an 8 MB filesystem of its own."""
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount)],
                          capture_output=True, text=True, check=False)
    need(done.returncode == 0, f"the disk-full tests need to mount a small tmpfs (root): {done.stderr.strip()}")
    data = mount / "data"
    data.mkdir()
    shutil.copy(sqlite_template, data / "auditdocs.sqlite3")
    app = create_app(app_config.TestConfig, base_overrides(data, f"sqlite:///{data / 'auditdocs.sqlite3'}"))
    app.test_client_class = CSRFClient
    try:
        yield app
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _free(app: Flask) -> int:
    stats = os.statvfs(app.config["DATA_DIR"])
    return stats.f_bavail * stats.f_frsize


def _fill(app: Flask, leave: int) -> None:
    """Take the filesystem's space until `leave` bytes are free (the WAL is emptied first, as after a checkpoint)."""
    con = sqlite3.connect(Path(app.config["DATA_DIR"]) / "auditdocs.sqlite3")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    filler = Path(app.config["DATA_DIR"]) / "filler.bin"
    with filler.open("ab") as fh:
        fh.write(b"\0" * max(0, _free(app) - leave))
    assert abs(_free(app) - leave) <= 4096, (_free(app), leave)


def test_an_upload_larger_than_the_free_space_is_507_and_leaves_nothing(app, client, login_as):
    rosa = login_as("quality_officer")
    _fill(app, 1024 * 1024)
    resp = create_document(client, rosa.id, code="PR-FULL-001", content=pdf("big", padding=2 * 1024 * 1024))
    assert resp.status_code == 507
    assert FULL_EN in resp.get_data(as_text=True)
    assert what_is_left(app) == NOTHING_LEFT


def test_the_disk_full_page_speaks_spanish_and_the_upload_page_gets_json(app, client, login_as):
    rosa = login_as("quality_officer")
    client.post_form("/lang", {"lang": "es"}, page="/")
    _fill(app, 512 * 1024)
    resp = create_document(client, rosa.id, code="PR-FULL-002", content=pdf("big", padding=1024 * 1024),
                           headers={"X-Requested-With": "XMLHttpRequest"})
    assert resp.status_code == 507
    assert "se quedó sin espacio" in resp.get_json()["error"]
    assert what_is_left(app) == NOTHING_LEFT


def test_when_the_database_commit_fails_after_the_file_was_stored_the_file_is_moved_aside(app, client, login_as):
    """The blob fits, the database's commit does not: the user is told nothing was saved, and that is true."""
    rosa = login_as("quality_officer")
    content = pdf("fits exactly", padding=400 * 1024)
    with app.app_context():  # as after an earlier upload: the object's folders exist, so the rename needs no space
        sha = hashlib.sha256(content).hexdigest()
        get_store().path_for(sha).parent.mkdir(parents=True)
    _fill(app, len(content) + 4096 - len(content) % 4096)
    resp = create_document(client, rosa.id, code="PR-FULL-003", content=content)
    assert resp.status_code == 507, resp.get_data(as_text=True)[:800]
    assert FULL_EN in resp.get_data(as_text=True)
    (Path(app.config["DATA_DIR"]) / "filler.bin").unlink()
    assert what_is_left(app) == NOTHING_LEFT
    with app.app_context():
        assert [p.name for p in unsaved_folder().iterdir()] == [sha]


def test_an_import_onto_a_full_disk_stops_cleanly(app, runner, make_user, tmp_path):
    make_user("admin")
    share = tmp_path / "share"
    share.mkdir()
    for i in range(3):
        write(share / f"PR-IMP-00{i} Procedimiento.pdf", pdf(f"import {i}", padding=700 * 1024))
    _fill(app, 512 * 1024)
    result = runner.invoke(args=["import", str(share)])
    assert result.exit_code == 1, result.output
    assert "STOPPED before the end: the disk or the database is full" in result.output
    assert "Free some space and run the same import again" in result.output
    assert what_is_left(app) == NOTHING_LEFT




def test_reading_goes_on_while_the_disk_is_full(app, client, login_as):
    """Session bookkeeping is best effort: a full disk stops writes, not reading. A download is different: every
    download leaves an access receipt, and none is handed out unrecorded."""
    rosa = login_as("quality_officer")
    doc_id = new_document(client, rosa.id, code="PR-READ-001")
    with app.app_context():  # the session's last-seen time is due for its once-in-a-while write
        for row in db.session.scalars(select(UserSession)):
            row.last_seen_at -= timedelta(minutes=10)
        db.session.commit()
    _fill(app, 0)
    assert client.get("/documents/").status_code == 200
    assert client.get(f"/documents/{doc_id}").status_code == 200
    with client.get(f"/documents/{doc_id}/versions/1/download") as resp:
        assert resp.status_code == 507 and pdf("PR-READ-001") not in resp.get_data()
