"""A file-size limit and a failing device give the same plain answers as a full disk (507/503), leaving nothing
behind; the classifier reads SQLite's and PostgreSQL's "disk full" as well as the operating system's."""

from __future__ import annotations

import errno
import resource
import signal
import sqlite3
from collections.abc import Iterator

import pytest
from psycopg import errors as pg_errors
from sqlalchemy.exc import OperationalError
from support import NOTHING_LEFT, create_document, pdf, post_over_http, what_is_left

from auditdocs.faults import DEVICE, SPACE, storage_fault

pytestmark = pytest.mark.sqlite_only  # the limits act on this process's files: the SQLite test database's
FULL_EN = "The server has run out of storage space, so nothing was saved."





@pytest.fixture
def limited() -> Iterator[None]:
    """RLIMIT_FSIZE for this process, a little above what the test database needs: a larger write gets EFBIG."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (8 * 1024 * 1024, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)


def test_a_file_larger_than_the_filesystem_allows_is_507(app, client, login_as, limited):
    """Over real HTTP: the test client would spool the body to a file of its own and meet the limit first."""
    rosa = login_as("quality_officer")
    fields = {"csrf_token": client.csrf_token("/documents/new"), "code": "PR-FSIZE-001", "title": "Grande",
              "kind": "procedure", "language": "es", "confidentiality": "normal", "owner": str(rosa.id),
              "review_interval_months": "12"}
    status, body = post_over_http(app, client, "/documents/new", fields,
                                  ("grande.pdf", pdf("too big", padding=9 * 1024 * 1024)))
    assert status == 507
    assert FULL_EN in body
    assert what_is_left(app) == NOTHING_LEFT


def test_a_failing_device_is_503_and_leaves_nothing(app, client, login_as, monkeypatch):
    """No machine here can fail a disk on demand: fsync is made to report EIO, as a dying disk does."""
    rosa = login_as("quality_officer")

    def failing_fsync(_fd: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr("auditdocs.storage.os.fsync", failing_fsync)
    resp = create_document(client, rosa.id, code="PR-EIO-001", content=pdf("on a failing disk"))
    assert resp.status_code == 503
    assert "could not read or write its storage, so nothing was saved" in resp.get_data(as_text=True)
    assert what_is_left(app) == NOTHING_LEFT


def test_the_classifier_reads_the_whole_cause_chain():
    full = sqlite3.OperationalError("database or disk is full")
    assert storage_fault(OperationalError("COMMIT", {}, full)) == SPACE
    assert storage_fault(OperationalError("INSERT", {}, pg_errors.DiskFull("could not extend file"))) == SPACE
    assert storage_fault(OSError(errno.EDQUOT, "Disk quota exceeded")) == SPACE
    assert storage_fault(RuntimeError("wrapped")) is None
    try:
        try:
            raise OSError(errno.EIO, "Input/output error")
        except OSError as inner:
            raise RuntimeError("while saving") from inner
    except RuntimeError as outer:
        assert storage_fault(outer) == DEVICE
