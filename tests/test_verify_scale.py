"""`auditdocs verify` at scale: the quick mode (--since, --sample), hashing threads, the rate bar — against real
documents, a real store and files changed behind the application's back."""

from __future__ import annotations

import hashlib
import io
import os
import secrets
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import select
from support import seed_document, write

from auditdocs.extensions import db
from auditdocs.models.blobhealth import BlobFailure
from auditdocs.services.uploads import get_store


def add_documents(app: Flask, tmp_path: Path, make_user: Any, n: int = 3, large: int = 0) -> list[dict]:
    """n approved documents through the services, one version each: 1500 bytes, or 300 kB for the first `large`
    (those are hashed by the worker threads, the small ones by the thread that walks the store)."""
    author, approver = make_user("quality_officer"), make_user("quality_officer")
    out = []
    for i in range(1, n + 1):
        code = f"PR-SC-{i:03d}"
        size = 300_000 if i <= large else 1500
        data = f"Procedure {i}\n{secrets.token_hex(size // 2)}".encode()[:size]
        seed_document(app, author.id, write(tmp_path / f"{code}.txt", data), code=code, approver_id=approver.id)
        with app.app_context():
            path = get_store().path_for(hashlib.sha256(data).hexdigest())
        out.append({"code": code, "data": data, "path": path, "sha": path.name})
    return out


def local_day(app: Flask, days_from_today: int = 0) -> date:
    """A calendar day where the organisation is (what --since means)."""
    return datetime.now(ZoneInfo(app.config["TIMEZONE"])).date() + timedelta(days=days_from_today)


def rewrite(path: Path, data: bytes, *, mtime: float | None = None) -> None:
    """Change an object's bytes behind the application's back (its mode is read-only), optionally setting its
    modification time; its ctime becomes now either way, as only the kernel sets it."""
    path.chmod(0o644)
    path.write_bytes(data)
    path.chmod(0o444)
    if mtime is not None:
        os.utime(path, (mtime, mtime))


def flipped(data: bytes) -> bytes:
    return data[:10] + bytes([data[10] ^ 1]) + data[11:]


def verify(runner: Any, *args: str) -> Any:
    return runner.invoke(args=["verify", *args])


def summary(result: Any) -> str:
    return str(result.stdout.splitlines()[-1])


def test_full_run_says_so_and_rehashes_everything(app, runner, make_user, tmp_path):
    add_documents(app, tmp_path, make_user)
    result = verify(runner)
    assert result.exit_code == 0, result.output
    assert summary(result).startswith("OK: 3 objects (4.5 kB), ")
    assert summary(result).endswith("; full check: 3 rehashed")


def test_quick_check_stats_old_objects_and_rehashes_a_sample(app, runner, make_user, tmp_path):
    add_documents(app, tmp_path, make_user)
    later = local_day(app, 2).isoformat()  # nothing was stored or changed since: old objects, as seen from then
    result = verify(runner, "--since", later, "--sample", "0")
    assert result.exit_code == 0, result.output
    assert summary(result).endswith(f"; quick check since {later}: 0 rehashed (0 new or changed, 0 sampled), "
                                    "3 only stat-checked")
    assert summary(result).startswith("OK: 3 objects (4.5 kB), ")
    sampled = verify(runner, "--since", later)  # the default sample (100) covers this small store
    assert sampled.exit_code == 0, sampled.output
    assert summary(sampled).endswith("3 rehashed (0 new or changed, 3 sampled), 0 only stat-checked")


def test_objects_stored_since_the_day_are_rehashed(app, runner, make_user, tmp_path):
    docs = add_documents(app, tmp_path, make_user)
    rewrite(docs[1]["path"], flipped(docs[1]["data"]))
    result = verify(runner, "--since", local_day(app).isoformat(), "--sample", "0")
    assert result.exit_code == 1
    assert f"ERROR: object {docs[1]['sha']} does not match its hash (altered) — used by {docs[1]['code']} v1" \
        in result.stdout
    assert summary(result).endswith("3 rehashed (3 new or changed, 0 sampled), 0 only stat-checked")


def test_an_object_modified_since_the_day_is_rehashed_the_others_only_stat_checked(app, runner, make_user,
                                                                                   tmp_path):
    docs = add_documents(app, tmp_path, make_user)
    since = local_day(app, 2)
    after = datetime.combine(since + timedelta(days=1), datetime.min.time()).timestamp()
    rewrite(docs[0]["path"], flipped(docs[0]["data"]), mtime=after)  # altered, and its mtime tells
    result = verify(runner, "--since", since.isoformat(), "--sample", "0")
    assert result.exit_code == 1
    errors = [ln for ln in result.stdout.splitlines() if ln.startswith("ERROR:")]
    assert errors == [f"ERROR: object {docs[0]['sha']} does not match its hash (altered) — used by "
                      f"{docs[0]['code']} v1"]
    assert summary(result).endswith("1 rehashed (1 new or changed, 0 sampled), 2 only stat-checked")


def test_bytes_changed_with_old_times_are_missed_unless_sampled(app, runner, make_user, tmp_path):
    """A change that leaves the file's times before the day (bit rot, a raw write) is not "new or changed": the
    quick mode finds it only in its sample; the full run always does."""
    docs = add_documents(app, tmp_path, make_user)
    rewrite(docs[2]["path"], flipped(docs[2]["data"]))
    later = local_day(app, 2).isoformat()
    missed = verify(runner, "--since", later, "--sample", "0")
    assert missed.exit_code == 0, missed.output
    assert "ERROR" not in missed.stdout
    found = verify(runner, "--since", later, "--sample", "50")  # more than the store holds: every object
    assert found.exit_code == 1
    assert f"ERROR: object {docs[2]['sha']} does not match its hash (altered) — used by {docs[2]['code']} v1" \
        in found.stdout
    assert summary(found).endswith("3 rehashed (0 new or changed, 3 sampled), 0 only stat-checked")
    assert verify(runner).exit_code == 1


def test_quick_check_finds_missing_and_resized_objects_by_stat(app, runner, make_user, tmp_path):
    docs = add_documents(app, tmp_path, make_user)
    docs[0]["path"].unlink()
    rewrite(docs[1]["path"], docs[1]["data"] + b"appended")
    result = verify(runner, "--since", local_day(app, 2).isoformat(), "--sample", "0")
    assert result.exit_code == 1
    errors = [ln for ln in result.stdout.splitlines() if ln.startswith("ERROR:")]
    assert errors == [f"ERROR: object {docs[0]['sha']} is missing — used by {docs[0]['code']} v1",
                      f"ERROR: {docs[1]['code']} v1: the database records 1500 bytes but object {docs[1]['sha']} "
                      "holds 1508"]
    assert summary(result).endswith("0 rehashed (0 new or changed, 0 sampled), 2 only stat-checked")


def test_quick_check_rehashes_objects_marked_as_failing_and_clears_the_mark(app, runner, make_user, tmp_path):
    docs = add_documents(app, tmp_path, make_user)
    rewrite(docs[0]["path"], flipped(docs[0]["data"]))
    assert verify(runner).exit_code == 1  # marks it as failing
    rewrite(docs[0]["path"], docs[0]["data"])  # restored from a copy
    result = verify(runner, "--since", local_day(app, 2).isoformat(), "--sample", "0")
    assert result.exit_code == 0, result.output
    assert summary(result).endswith("1 rehashed (1 new or changed, 0 sampled), 2 only stat-checked")
    with app.app_context():
        mark = db.session.scalars(select(BlobFailure).where(BlobFailure.sha256 == docs[0]["sha"])).one()
        assert mark.cleared_at is not None


def test_orphans_among_many_objects_are_found_in_either_mode(app, runner, make_user, tmp_path):
    add_documents(app, tmp_path, make_user, n=6)
    with app.app_context():
        orphans = sorted(get_store().put(io.BytesIO(f"orphan {i} {secrets.token_hex(8)}".encode())).sha256
                         for i in range(4))
    for args in ((), ("--since", local_day(app, 2).isoformat())):
        result = verify(runner, *args)
        assert result.exit_code == 0, result.output
        warned = [ln.split()[3] for ln in result.stdout.splitlines() if ln.startswith("WARNING: orphan object")]
        assert warned == orphans
        assert summary(result).startswith("OK with 4 warnings: 6 objects (9.0 kB)")


@pytest.mark.parametrize("workers", ["1", "3"])
def test_any_number_of_hashing_threads_finds_the_same(app, runner, make_user, tmp_path, workers):
    docs = add_documents(app, tmp_path, make_user, n=6, large=3)
    rewrite(docs[1]["path"], flipped(docs[1]["data"]))  # large
    rewrite(docs[4]["path"], flipped(docs[4]["data"]))  # small
    rewrite(docs[2]["path"], docs[2]["data"][:-1])  # large, a byte short
    result = verify(runner, "--workers", workers)
    assert result.exit_code == 1
    assert [ln for ln in result.stdout.splitlines() if ln.startswith("ERROR:")] == [
        f"ERROR: object {docs[1]['sha']} does not match its hash (altered) — used by {docs[1]['code']} v1",
        f"ERROR: object {docs[2]['sha']} does not match its hash (altered) — used by {docs[2]['code']} v1",
        f"ERROR: {docs[2]['code']} v1: the database records 300000 bytes but object {docs[2]['sha']} holds 299999",
        f"ERROR: object {docs[4]['sha']} does not match its hash (altered) — used by {docs[4]['code']} v1"]
    assert summary(result).endswith("; full check: 6 rehashed")
    assert summary(result).startswith("FAILED: 4 errors, 0 warnings; checked 6 objects (904.5 kB), ")


@pytest.mark.parametrize("value", ["2024-13-01", "2024-02-30", "yesterday", "01/06/2024", "2024-6-1x"])
def test_a_bad_since_date_is_a_usage_error(app, runner, value):
    result = verify(runner, "--since", value)
    assert result.exit_code == 2
    assert f"Invalid value for '--since': {value!r} is not a date written YYYY-MM-DD" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("args", [("--sample", "5"), ("--since", "2024-06-01", "--sample", "-1"),
                                  ("--workers", "0")])
def test_bad_sample_and_workers_are_usage_errors(app, runner, args):
    result = verify(runner, *args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert ("--sample goes with --since" if args == ("--sample", "5") else "Invalid value") in result.stderr


class _Terminal(io.StringIO):
    """A stderr that says it is a terminal, as a person's is: the bar is drawn only there."""

    def isatty(self) -> bool:
        return True


def test_the_object_bar_shows_its_rate(monkeypatch):
    from auditdocs.cli.store import scan_progress

    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    with scan_progress("Checking objects", 5, 10) as advance:  # small: no bar
        advance(5, 10)
    assert terminal.getvalue() == ""
    with scan_progress("Checking objects", 1000, 1_000_000_000) as advance:
        for _ in range(1000):
            advance(1, 1_000_000)
    drawn = terminal.getvalue()
    assert "Checking objects" in drawn and "100%" in drawn
    assert " MB/s, " in drawn and " objects/s" in drawn
