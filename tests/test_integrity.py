"""`auditdocs verify`, `checkpoint` and `gc` against real documents, a real store and hand-made tampering."""

from __future__ import annotations

import json
import os
import secrets
import stat
import time
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, text

from auditdocs.db import write_transaction
from auditdocs.extensions import db
from auditdocs.models import AuditEvent, User
from auditdocs.models.append_only import install
from auditdocs.services import audit
from auditdocs.services import documents as svc
from auditdocs.services.audit import event_hash
from auditdocs.services.integrity import get_store


def add_documents(app: Flask, tmp_path: Path, make_user: Any, n: int = 2, prefix: str = "PR-QA") -> list[dict]:
    """Create n approved documents through the services, one version each; return what a test needs."""
    author, approver = make_user("quality_officer"), make_user("quality_officer")
    out = []
    with app.app_context(), write_transaction():
        a, b = db.session.get(User, author.id), db.session.get(User, approver.id)
        for i in range(1, n + 1):
            path = tmp_path / f"{prefix}-{i:03d}.txt"
            path.write_bytes(f"Procedure {i}\n{secrets.token_hex(1000)}".encode()[:1500])  # 1500 bytes each
            checked = svc.check_and_store(svc.Incoming.from_path(path))
            doc = svc.create_document(code=f"{prefix}-{i:03d}", title=f"Procedure {i}", kind="procedure",
                                      owner=a, actor=a)
            svc.approve(svc.add_version(doc, checked, actor=a), actor=b)
            out.append({"code": doc.code, "sha": checked.sha256, "size": checked.size})
    return out


def blob_path(app: Flask, sha: str) -> Path:
    with app.app_context():
        return get_store().path_for(sha)


def chain_head(app: Flask) -> tuple[int, str]:
    with app.app_context():
        return audit.head()


def tamper(app: Flask, *statements: tuple[str, dict]) -> None:
    """Change audit rows as an intruder with database access would: around the append-only triggers."""
    with app.app_context(), db.engine.begin() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            conn.exec_driver_sql("DROP TRIGGER audit_events_no_update")
            conn.exec_driver_sql("DROP TRIGGER audit_events_no_delete")
        else:
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        for sql, params in statements:
            conn.execute(text(sql), params)
        if sqlite:
            install(conn, "audit_events")


def verify(runner: Any, *args: str) -> Any:
    return runner.invoke(args=["verify", *args])


def test_verify_clean_store_prints_one_line_summary(app, runner, make_user, tmp_path):
    docs = add_documents(app, tmp_path, make_user)
    seq, digest = chain_head(app)
    result = verify(runner)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    assert [d["size"] for d in docs] == [1500, 1500]
    assert lines[0].startswith(f"OK: 2 objects (3.0 kB), {seq} audit events, ")
    assert f"chain head {seq}:{digest[:16]}" in lines[0]


def test_verify_empty_store_is_clean(app, runner):
    result = verify(runner)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("OK: 0 objects (0 B)")


def test_flipped_byte_is_an_error_naming_the_document(app, runner, make_user, tmp_path):
    docs = add_documents(app, tmp_path, make_user)
    path = blob_path(app, docs[1]["sha"])
    path.chmod(path.stat().st_mode | stat.S_IWUSR)
    data = bytearray(path.read_bytes())
    data[10] ^= 0x01
    path.write_bytes(bytes(data))
    result = verify(runner)
    assert result.exit_code == 1
    errors = [ln for ln in result.stdout.splitlines() if ln.startswith("ERROR:")]
    assert len(errors) == 1
    assert docs[1]["code"] in errors[0] and "altered" in errors[0] and docs[1]["sha"] in errors[0]
    assert docs[0]["code"] not in result.stdout
    assert result.stdout.splitlines()[-1].startswith("FAILED: 1 error, 0 warnings")


def test_missing_blob_is_an_error(app, runner, make_user, tmp_path):
    docs = add_documents(app, tmp_path, make_user)
    blob_path(app, docs[0]["sha"]).unlink()
    result = verify(runner)
    assert result.exit_code == 1
    assert f"ERROR: object {docs[0]['sha']} is missing — used by {docs[0]['code']} v1" in result.stdout


def test_size_recorded_in_the_row_must_match_the_object(app, runner, make_user, tmp_path):
    docs = add_documents(app, tmp_path, make_user)
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(text("UPDATE document_versions SET size = size + 1 WHERE sha256 = :s"), {"s": docs[0]["sha"]})
    result = verify(runner)
    assert result.exit_code == 1
    assert f"ERROR: {docs[0]['code']} v1: the database records {docs[0]['size'] + 1} bytes" in result.stdout


def test_edited_audit_event_is_an_error(app, runner, make_user, tmp_path):
    add_documents(app, tmp_path, make_user)
    assert verify(runner).exit_code == 0
    tamper(app, ("UPDATE audit_events SET new_values = :v WHERE seq = 3", {"v": json.dumps({"title": "forged"})}))
    result = verify(runner)
    assert result.exit_code == 1
    assert "ERROR: audit event 3: content does not match its hash (edited)" in result.stdout


def test_deleted_middle_event_is_a_gap(app, runner, make_user, tmp_path):
    add_documents(app, tmp_path, make_user)
    tamper(app, ("DELETE FROM audit_events WHERE seq = 2", {}))
    result = verify(runner)
    assert result.exit_code == 1
    assert "ERROR: audit chain gap: expected event 2, found 3" in result.stdout
    assert "ERROR: audit event 3: broken link to the previous event" in result.stdout


def test_checkpoint_prints_the_chain_head(app, runner, make_user, tmp_path):
    add_documents(app, tmp_path, make_user)
    seq, digest = chain_head(app)
    result = runner.invoke(args=["checkpoint"])
    assert result.exit_code == 0
    assert result.stdout == f"{seq}:{digest}\n"
    assert "outside" in result.stderr


def test_checkpoint_on_an_empty_trail_is_refused(app, runner):
    result = runner.invoke(args=["checkpoint"])
    assert result.exit_code == 1
    assert result.stdout == ""


def test_checkpoint_detects_a_truncated_chain(app, runner, make_user, tmp_path):
    add_documents(app, tmp_path, make_user)
    kept = runner.invoke(args=["checkpoint"]).stdout.strip()
    seq = int(kept.split(":")[0])
    add_documents(app, tmp_path, make_user, prefix="PR-HR")
    passed = verify(runner, "--checkpoint", kept)
    assert passed.exit_code == 0, passed.output
    assert f"passes checkpoint {seq}" in passed.stdout
    tamper(app, ("DELETE FROM audit_events WHERE seq >= :s", {"s": seq - 1}))
    assert verify(runner).exit_code == 0  # what is left is a consistent chain: only the checkpoint can tell
    result = verify(runner, "--checkpoint", kept)
    assert result.exit_code == 1
    assert f"ERROR: checkpoint {seq}: the chain is shorter than the checkpoint (truncated)" in result.stdout


def test_checkpoint_detects_a_recomputed_chain(app, runner, make_user, tmp_path):
    add_documents(app, tmp_path, make_user)
    kept = runner.invoke(args=["checkpoint"]).stdout.strip()
    with app.app_context():
        rows = [{c.name: getattr(ev, c.name) for c in AuditEvent.__table__.columns}
                for ev in db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq))]
    statements, prev = [], None
    for row in rows:  # forge event 2, then rewrite every later hash so the chain is consistent again
        if row["seq"] == 2:
            row["new_values"] = json.dumps({"forged": True})
        if row["seq"] >= 2:
            row["prev_hash"] = prev
            row["hash"] = event_hash(AuditEvent(**row))
            statements.append(("UPDATE audit_events SET new_values = :n, prev_hash = :p, hash = :h WHERE seq = :s",
                               {"n": row["new_values"], "p": row["prev_hash"], "h": row["hash"], "s": row["seq"]}))
        prev = row["hash"]
    tamper(app, *statements)
    assert verify(runner).exit_code == 0, verify(runner).output
    result = verify(runner, "--checkpoint", kept)
    assert result.exit_code == 1
    assert "the chain no longer passes through this hash" in result.stdout


@pytest.mark.parametrize("value", ["12", "x:" + "a" * 64, "0:" + "a" * 64, "5:" + "g" * 64, "5:" + "a" * 63])
def test_bad_checkpoint_is_a_usage_error(app, runner, value):
    result = verify(runner, "--checkpoint", value)
    assert result.exit_code == 2
    assert "SEQ:HASH" in result.stderr
    assert result.stdout == ""


def test_orphan_is_a_warning_then_quarantined_by_gc(app, runner, make_user, tmp_path):
    add_documents(app, tmp_path, make_user)
    stray = tmp_path / "stray.bin"
    stray.write_bytes(b"left by a crash between storing and committing " + secrets.token_bytes(32))
    with app.app_context():
        orphan = get_store().put_path(stray).sha256
    result = verify(runner)
    assert result.exit_code == 0
    assert f"WARNING: orphan object {orphan}" in result.stdout
    assert result.stdout.splitlines()[-1].startswith("OK with 1 warning: 2 objects")
    assert verify(runner, "--strict").exit_code == 1

    young = runner.invoke(args=["gc", "--yes"])  # it may be an upload about to commit its row
    assert young.exit_code == 0, young.output
    assert f"Left in place (younger than 60 minutes): {orphan}" in young.stdout
    path = blob_path(app, orphan)
    assert path.is_file()
    old = time.time() - 2 * 3600
    os.utime(path, (old, old))

    declined = runner.invoke(args=["gc"], input="n\n")
    assert declined.exit_code == 1
    assert path.is_file()

    moved = runner.invoke(args=["gc", "--yes"])
    assert moved.exit_code == 0, moved.output
    assert not path.exists()
    quarantined = list((Path(app.config["DATA_DIR"]) / "quarantine").glob(f"*/{orphan}"))
    assert len(quarantined) == 1 and quarantined[0].read_bytes() == stray.read_bytes()
    assert f"  {orphan}" in moved.stdout
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "store.gc")).one()
        assert event.actor_label == "cli"
        assert json.loads(event.new_values)["quarantined"] == [orphan]
    clean = verify(runner, "--strict")
    assert clean.exit_code == 0, clean.output
    assert "WARNING" not in clean.stdout


def test_gc_with_nothing_to_do_records_nothing(app, runner, make_user, tmp_path):
    add_documents(app, tmp_path, make_user)
    before = chain_head(app)
    result = runner.invoke(args=["gc", "--yes"])
    assert result.exit_code == 0
    assert "No orphan objects to move." in result.stdout
    assert chain_head(app) == before


def test_gc_sweeps_stale_temp_files_only(app, runner, make_user, tmp_path):
    add_documents(app, tmp_path, make_user)
    temp_dir = blob_path(app, "a" * 64).parents[2] / "tmp"
    stale, fresh = temp_dir / "stale.part", temp_dir / "fresh.part"
    stale.write_bytes(b"abandoned")
    fresh.write_bytes(b"in progress")
    old = time.time() - 2 * 86400
    os.utime(stale, (old, old))
    result = runner.invoke(args=["gc", "--yes"])
    assert result.exit_code == 0
    assert "Removed 1 stale temp file(s)." in result.stdout
    assert not stale.exists() and fresh.exists()


def test_progress_bar_on_a_long_chain(app, runner, make_user, tmp_path):
    add_documents(app, tmp_path, make_user)
    quiet = verify(runner)
    assert "Checking audit chain" not in quiet.stderr
    with app.app_context(), write_transaction():
        for i in range(250):
            audit.record("test.event", "test", i, actor_label="cli")
    result = verify(runner)
    assert result.exit_code == 0, result.output
    assert "Checking audit chain" in result.stderr
    assert len(result.stdout.splitlines()) == 1
