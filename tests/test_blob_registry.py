"""The blob-reference registry: a table that declares where it keeps blob hashes is backed up, verified and kept
out of gc's hands without any tool knowing about it."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import BigInteger, Column, Integer, MetaData, String, Table
from support import pdf

from auditdocs.extensions import db
from auditdocs.models.blobrefs import BlobRef, register, registered
from auditdocs.services.uploads import get_store


@pytest.fixture
def scan_table(app: Flask) -> Iterator[None]:
    """A table of the test's own holding blob hashes, as a future feature's would."""
    with app.app_context():
        SCAN_TABLE.create(db.engine)
    yield
    with app.app_context():
        SCAN_TABLE.drop(db.engine)


SCAN_TABLE = Table("test_scans", MetaData(), Column("id", Integer, primary_key=True), Column("digest", String(64)),
                   Column("bytes", BigInteger))
SCANS = BlobRef("test_scans", sha_column="digest", size_column="bytes")


@pytest.fixture
def scans(scan_table: None) -> Iterator[BlobRef]:
    """The table, registered for this test."""
    unregister = register(SCANS)
    yield SCANS
    unregister()


def _scan(app: Flask, data: bytes) -> str:
    """Store a blob and point a row of the test table at it."""
    with app.app_context():
        blob = get_store().put(io.BytesIO(data))
        with db.engine.begin() as conn:
            conn.execute(SCAN_TABLE.insert().values(digest=blob.sha256, bytes=blob.size))
    return blob.sha256


def _object(app: Flask, sha: str) -> Path:
    with app.app_context():
        return get_store().path_for(sha)


def test_the_built_in_tables_are_registered():
    assert {(r.table, r.upload_action) for r in registered()} >= {("document_versions", "version.upload"),
                                                                   ("attachments", "attachment.add")}


def test_a_registered_table_is_refused_twice(scans):
    with pytest.raises(ValueError, match="already registered"):
        register(BlobRef("test_scans", sha_column="digest"))
    with pytest.raises(ValueError, match="not an identifier"):
        BlobRef("test_scans; DROP TABLE users")


def test_backup_copies_the_blobs_a_registered_table_holds(app, scans, runner, tmp_path):
    sha = _scan(app, pdf("scan of a signed attendance sheet"))
    dest = tmp_path / "backup"
    result = runner.invoke(args=["backup", str(dest)])
    assert result.exit_code == 0, result.output
    manifest = json.loads((dest / "manifest.json").read_text())
    assert sha in {o["sha256"] for o in manifest["objects"]}
    assert (dest / "objects" / sha[:2] / sha[2:4] / sha).read_bytes() == _object(app, sha).read_bytes()


def test_verify_rehashes_them_and_gc_leaves_them(app, scans, runner):
    sha = _scan(app, pdf("scan"))
    gc = runner.invoke(args=["gc", "--yes", "--min-age", "0"])
    assert gc.exit_code == 0 and "No orphan objects to move." in gc.output
    assert _object(app, sha).is_file()
    assert runner.invoke(args=["verify", "--strict"]).exit_code == 0

    path = _object(app, sha)
    path.chmod(0o644)
    path.write_bytes(b"%PDF-1.4 swapped")
    result: Any = runner.invoke(args=["verify"])
    assert result.exit_code == 1
    assert f"ERROR: object {sha} does not match its hash (altered) — used by test_scans row 1" in result.output


def test_the_registration_is_what_makes_the_difference(app, scan_table, runner):
    """Unregistered, the row is invisible to the tools and its blob an orphan; registered, it is evidence."""
    sha = _scan(app, pdf("scan"))
    result = runner.invoke(args=["verify", "--strict"])
    assert result.exit_code == 1
    assert f"WARNING: orphan object {sha} is referenced by nothing in the database" in result.output
    unregister = register(SCANS)
    try:
        assert runner.invoke(args=["verify", "--strict"]).exit_code == 0
    finally:
        unregister()
    assert SCANS not in registered()


def test_rows_that_hold_no_valid_hash_are_named_and_the_walk_goes_on(app, scans, runner):
    """Bad values sort among the good ones (upper case before lower, NULL first): the object walk still pairs every
    good row with its object."""
    good = [_scan(app, pdf(f"scan {i}")) for i in range(3)]
    near = good[2][:63] + "z"  # sorts beside a good hash
    with app.app_context(), db.engine.begin() as conn:
        for digest in (good[1].upper(), None, "not-a-hash", near):
            conn.execute(SCAN_TABLE.insert().values(digest=digest, bytes=10))
    result: Any = runner.invoke(args=["verify"])
    assert result.exit_code == 1
    errors = sorted(ln for ln in result.output.splitlines() if ln.startswith("ERROR:"))
    assert errors == sorted([
        f"ERROR: test_scans row 4: the database holds an invalid sha256 {good[1].upper()!r}",
        "ERROR: test_scans row 5: the database holds an invalid sha256 'None'",
        "ERROR: test_scans row 6: the database holds an invalid sha256 'not-a-hash'",
        f"ERROR: test_scans row 7: the database holds an invalid sha256 {near!r}"])
    assert "orphan" not in result.output
    assert "FAILED: 4 errors, 0 warnings; checked 7 objects" in result.output
    assert result.output.rstrip().endswith("; full check: 3 rehashed")
