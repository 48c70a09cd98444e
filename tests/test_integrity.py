"""`auditdocs verify`, `checkpoint` and `gc` against real documents, a real store and hand-made tampering."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import sqlite3
import stat
import time
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, text
from support import seed_document, stored_upload, version_from_file, write

from auditdocs.db import write_transaction
from auditdocs.extensions import db
from auditdocs.models import AuditEvent, Document, DocumentVersion, User
from auditdocs.services import audit
from auditdocs.services import documents as svc
from auditdocs.services.audit import event_hash
from auditdocs.services.integrity import get_store


def add_documents(app: Flask, tmp_path: Path, make_user: Any, n: int = 2, prefix: str = "PR-QA") -> list[dict]:
    """Create n approved documents through the services, one version each; return what a test needs."""
    author, approver = make_user("quality_officer"), make_user("quality_officer")
    out = []
    for i in range(1, n + 1):
        code = f"{prefix}-{i:03d}"
        data = f"Procedure {i}\n{secrets.token_hex(1000)}".encode()[:1500]  # 1500 bytes each
        seed_document(app, author.id, write(tmp_path / f"{code}.txt", data), code=code, title=f"Procedure {i}",
                      approver_id=approver.id)
        out.append({"code": code, "sha": hashlib.sha256(data).hexdigest(), "size": len(data)})
    return out


def blob_path(app: Flask, sha: str) -> Path:
    with app.app_context():
        return get_store().path_for(sha)


def chain_head(app: Flask) -> tuple[int, str]:
    with app.app_context():
        return audit.head()


def tamper(app: Flask, *statements: tuple[str, dict]) -> None:
    """Change rows as a DBA or intruder with database access would: around every trigger and foreign key.

    SQLite: a connection of its own (foreign keys are off by default) drops the triggers, runs the statements and
    re-creates the triggers from their saved SQL. PostgreSQL: `session_replication_role = replica` for this
    transaction only, which skips user triggers and foreign-key checks alike.
    """
    with app.app_context():
        url = db.engine.url
        db.session.remove()
        db.engine.dispose()
        if url.get_backend_name() == "sqlite":
            con = sqlite3.connect(url.database, isolation_level=None)
            try:
                con.execute("BEGIN IMMEDIATE")
                triggers = con.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall()
                for name, _sql in triggers:
                    con.execute(f'DROP TRIGGER "{name}"')
                for sql, params in statements:
                    con.execute(sql, params)
                for _name, sql in triggers:
                    con.execute(sql)
                con.execute("COMMIT")
            finally:
                con.close()
            return
        with db.engine.begin() as conn:
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
            for sql, params in statements:
                conn.execute(text(sql), params)


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
    tamper(app, ("UPDATE document_versions SET size = size + 1 WHERE sha256 = :s", {"s": docs[0]["sha"]}))
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


def _access_events(app: Flask, n: int) -> None:
    """Events that describe no document row (so removing them leaves the rows consistent with the trail)."""
    with app.app_context(), write_transaction():
        for i in range(n):
            audit.record("test.event", "test", i, actor_label="cli")


def test_checkpoint_detects_a_truncated_chain(app, runner, make_user, tmp_path):
    add_documents(app, tmp_path, make_user)
    _access_events(app, 2)
    kept = runner.invoke(args=["checkpoint"]).stdout.strip()
    seq = int(kept.split(":")[0])
    _access_events(app, 3)
    passed = verify(runner, "--checkpoint", kept)
    assert passed.exit_code == 0, passed.output
    assert f"passes checkpoint {seq}" in passed.stdout
    tamper(app, ("DELETE FROM audit_events WHERE seq >= :s", {"s": seq - 1}))
    assert verify(runner).exit_code == 0  # what is left is a consistent chain: only the checkpoint can tell
    result = verify(runner, "--checkpoint", kept)
    assert result.exit_code == 1
    assert f"ERROR: checkpoint {seq}: the chain is shorter than the checkpoint (truncated)" in result.stdout


def test_truncating_document_events_is_caught_by_the_cross_check(app, runner, make_user, tmp_path):
    add_documents(app, tmp_path, make_user)
    seq = chain_head(app)[0]
    later = add_documents(app, tmp_path, make_user, n=1, prefix="PR-HR")
    tamper(app, ("DELETE FROM audit_events WHERE seq > :s", {"s": seq}))
    result = verify(runner)  # no checkpoint: the rows the removed events described give it away
    assert result.exit_code == 1
    errors = [ln for ln in result.stdout.splitlines() if ln.startswith("ERROR:")]
    assert f"ERROR: document {later[0]['code']}: no document.create event in the audit trail (row added by hand)" \
        in errors
    assert f"ERROR: {later[0]['code']} v1: no version.upload event in the audit trail (row added by hand)" in errors
    assert all("PR-HR" in ln for ln in errors)


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


def test_quick_check_rehashes_an_object_a_new_row_names(app, runner, make_user, tmp_path):
    """--since: a row added at or after the day makes its object "new" even when the file's times are older."""
    from datetime import date, timedelta

    docs = add_documents(app, tmp_path, make_user)
    path = blob_path(app, docs[0]["sha"])
    path.chmod(0o644)
    path.write_bytes(path.read_bytes()[::-1])  # same size, other bytes
    later = date.today() + timedelta(days=3)
    quick = ("verify", "--since", later.isoformat(), "--sample", "0")
    assert runner.invoke(args=quick).exit_code == 0  # its times are older than the day: only stat-checked
    tamper(app, ("UPDATE document_versions SET uploaded_at = :t WHERE sha256 = :s",
                 {"t": f"{later + timedelta(days=1)} 12:00:00.000000", "s": docs[0]["sha"]}))
    result = runner.invoke(args=quick)
    assert result.exit_code == 1
    assert f"ERROR: object {docs[0]['sha']} does not match its hash (altered) — used by {docs[0]['code']} v1" \
        in result.stdout
    assert result.stdout.splitlines()[-1].endswith("1 rehashed (1 new or changed, 0 sampled), 1 only stat-checked")


# -- rows cross-checked against the audit trail -----------------------------------------------------------------


def _errors(result: Any) -> list[str]:
    return [ln for ln in result.stdout.splitlines() if ln.startswith("ERROR:")]


def versioned_document(app: Flask, tmp_path: Path, make_user: Any, code: str = "PR-QA-010") -> dict:
    """One document with three versions: v1 superseded by v2 (approved, current), v3 a draft."""
    author, approver = make_user("quality_officer"), make_user("quality_officer")
    out: dict = {"code": code, "versions": {}}
    with app.app_context(), write_transaction():
        a, b = db.session.get(User, author.id), db.session.get(User, approver.id)
        doc = svc.create_document(code=code, title="Versioned", kind="procedure", owner=a, actor=a)
        for n in (1, 2, 3):
            path = tmp_path / f"{code}-v{n}.txt"
            path.write_bytes(f"{code} revision {n}\n{secrets.token_hex(200)}".encode())
            version = version_from_file(doc, path, actor=a)
            if n < 3:
                svc.approve(version, actor=b)
            out["versions"][n] = {"sha": version.sha256, "size": version.size}
        out["id"] = doc.id
    return out


def test_deleted_superseded_version_row_is_an_error_and_gc_keeps_its_blob(app, runner, make_user, tmp_path):
    doc = versioned_document(app, tmp_path, make_user)
    assert verify(runner, "--strict").exit_code == 0
    v1 = doc["versions"][1]
    tamper(app, ("DELETE FROM document_versions WHERE sha256 = :s", {"s": v1["sha"]}))
    result = verify(runner)
    assert result.exit_code == 1
    errors = _errors(result)
    assert len(errors) == 1, errors
    assert errors[0].startswith(f"ERROR: {doc['code']} v1: version row deleted (uploaded in audit event ")
    assert errors[0].endswith(f": sha256 {v1['sha']}, {v1['size']} bytes)")
    assert "orphan" not in result.stdout  # the upload event still names the blob: evidence, not an orphan
    path = blob_path(app, v1["sha"])
    old = time.time() - 2 * 3600
    os.utime(path, (old, old))
    gc = runner.invoke(args=["gc", "--yes"])
    assert gc.exit_code == 0, gc.output
    assert "No orphan objects to move." in gc.stdout
    assert path.is_file()


def test_row_pointed_at_another_stored_object_is_an_error(app, runner, make_user, tmp_path):
    doc = versioned_document(app, tmp_path, make_user)
    other = add_documents(app, tmp_path, make_user, n=1, prefix="PR-HR")[0]
    v2 = doc["versions"][2]
    tamper(app, ("UPDATE document_versions SET sha256 = :s, size = :z WHERE sha256 = :old",
                 {"s": other["sha"], "z": other["size"], "old": v2["sha"]}))
    result = verify(runner)
    assert result.exit_code == 1
    errors = _errors(result)
    assert any(e.startswith(f"ERROR: {doc['code']} v2: sha256 is '{other['sha']}' in the database but "
                            f"'{v2['sha']}' in its upload event") for e in errors), errors
    assert any(e.startswith(f"ERROR: {doc['code']} v2: size is {other['size']} in the database but {v2['size']}")
               for e in errors), errors
    assert all(doc["code"] in e for e in errors), errors


@pytest.mark.parametrize(("number", "status", "expected"), [(1, "approved", "superseded"), (3, "approved", "draft"),
                                                             (2, "obsolete", "approved")])
def test_status_changed_by_hand_is_an_error(app, runner, make_user, tmp_path, number, status, expected):
    doc = versioned_document(app, tmp_path, make_user)
    with app.app_context(), db.engine.begin() as conn:  # the triggers allow status changes: the trail does not
        conn.execute(text("UPDATE document_versions SET status = :st WHERE sha256 = :s"),
                     {"st": status, "s": doc["versions"][number]["sha"]})
    result = verify(runner)
    assert result.exit_code == 1
    errors = _errors(result)
    assert len(errors) == 1, errors
    assert errors[0].startswith(f"ERROR: {doc['code']} v{number}: status is {status} in the database but "
                                f"{expected} in the audit trail (event ")


def test_forged_approver_and_current_version_are_errors(app, runner, make_user, tmp_path):
    doc = versioned_document(app, tmp_path, make_user)
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(text("UPDATE document_versions SET approved_by_id = uploaded_by_id WHERE sha256 = :s"),
                     {"s": doc["versions"][2]["sha"]})
        conn.execute(text("UPDATE documents SET current_version_id = (SELECT id FROM document_versions "
                          "WHERE sha256 = :s) WHERE id = :d"), {"s": doc["versions"][1]["sha"], "d": doc["id"]})
    errors = _errors(verify(runner))
    assert len(errors) == 2, errors
    assert errors[0].startswith(f"ERROR: {doc['code']} v2: approved_by_id is ")
    assert errors[1] == (f"ERROR: document {doc['code']}: current version is {doc['code']} v1 in the database but "
                         f"{doc['code']} v2 in the audit trail")


def test_deleted_document_rows_are_errors(app, runner, make_user, tmp_path):
    doc = versioned_document(app, tmp_path, make_user)
    owner = make_user("quality_officer")
    with app.app_context(), write_transaction():
        user = db.session.get(User, owner.id)
        svc.create_document(code="FO-QA-099", title="Empty form", kind="form", owner=user, actor=user,
                            clauses=["ISO 9001:2015 7.5"])
    tamper(app, ("DELETE FROM document_clauses WHERE document_id = (SELECT id FROM documents WHERE code = :c)",
                 {"c": "FO-QA-099"}),
           ("DELETE FROM documents WHERE code = :c", {"c": "FO-QA-099"}),
           ("UPDATE documents SET current_version_id = NULL WHERE id = :d", {"d": doc["id"]}),
           ("DELETE FROM documents WHERE id = :d", {"d": doc["id"]}))
    result = verify(runner)
    assert result.exit_code == 1
    errors = _errors(result)
    assert any(e.startswith("ERROR: document FO-QA-099: document row deleted (created in audit event ") for e in errors)
    assert any(e.startswith(f"ERROR: document {doc['code']}: document row deleted") for e in errors)
    orphaned = [e for e in errors if f"belongs to document id {doc['id']}, which has no row" in e]
    assert len(orphaned) == 3, errors
    assert "v2" in orphaned[1] and doc["versions"][2]["sha"] in orphaned[1]


def test_version_row_added_by_hand_is_an_error(app, runner, make_user, tmp_path):
    doc = versioned_document(app, tmp_path, make_user)
    tamper(app, ("INSERT INTO document_versions (document_id, number, original_filename, mime_type, size, sha256, "
                 "uploaded_by_id, uploaded_at, status) SELECT document_id, 9, original_filename, mime_type, size, "
                 "sha256, uploaded_by_id, uploaded_at, 'approved' FROM document_versions WHERE sha256 = :s",
                 {"s": doc["versions"][1]["sha"]}))
    assert _errors(verify(runner)) == [
        f"ERROR: {doc['code']} v9: no version.upload event in the audit trail (row added by hand)"]


def test_deleted_review_row_is_an_error(app, runner, make_user, tmp_path):
    doc = versioned_document(app, tmp_path, make_user)
    reviewer = make_user("quality_officer")
    with app.app_context(), write_transaction():
        svc.record_review(db.session.get(Document, doc["id"]), actor=db.session.get(User, reviewer.id), note="ok")
    assert verify(runner).exit_code == 0
    tamper(app, ("DELETE FROM document_reviews", {}))
    errors = _errors(verify(runner))
    assert len(errors) == 1 and errors[0].startswith(f"ERROR: document {doc['code']}: 0 review row(s)"), errors


def test_full_workflow_and_import_verify_clean(app, runner, make_user, tmp_path):
    """Every workflow step, import included, leaves rows the audit trail explains exactly."""
    doc = versioned_document(app, tmp_path, make_user)  # create, 3 uploads, 2 approvals (one supersedes)
    officer, admin = make_user("quality_officer"), make_user("admin")
    with app.app_context(), write_transaction():
        actor = db.session.get(User, officer.id)
        document = db.session.get(Document, doc["id"])
        draft = next(v for v in document.versions if v.number == 3)
        svc.reject(draft, actor=actor, reason="Wrong template used")
        svc.record_review(document, actor=actor, note="Still valid")
        svc.update_metadata(document, {"title": "Versioned, renamed", "review_interval_months": 6}, actor=actor)
        svc.set_clauses(document, ["ISO 9001:2015 7.5", "ISO 37001:2016 7.5"], actor=actor)
    second = versioned_document(app, tmp_path, make_user, code="PR-QA-011")  # v1 superseded, v2 current, v3 draft
    with app.app_context(), write_transaction():
        svc.withdraw(db.session.get(Document, second["id"]), actor=db.session.get(User, officer.id),
                     reason="Replaced by PR-QA-010")
    share = tmp_path / "share"
    share.mkdir()
    (share / "PR-IMP-001 Imported procedure v1.txt").write_text("first revision\n")
    (share / "PR-IMP-001 Imported procedure v2.txt").write_text("second revision\n")
    (share / "RG-IMP-002 Imported record.txt").write_text("a record\n")
    imported = runner.invoke(args=["import", str(share), "--as", officer.email, "--approve-as", admin.email])
    assert imported.exit_code == 0, imported.output
    result = verify(runner, "--strict")
    assert result.exit_code == 0, result.output
    with app.app_context():
        statuses = dict(db.session.execute(select(DocumentVersion.sha256, DocumentVersion.status)).all())
    assert [statuses[second["versions"][n]["sha"]] for n in (1, 2, 3)] == ["superseded", "obsolete", "rejected"]
    assert [statuses[doc["versions"][n]["sha"]] for n in (1, 2, 3)] == ["superseded", "approved", "rejected"]



def test_demo_data_verifies_clean(app, runner):
    """The demo goes through the services in every state (superseded, drafts, withdrawn): the trail explains it."""
    demo = runner.invoke(args=["demo-data"])
    assert demo.exit_code == 0, demo.output
    result = verify(runner, "--strict")
    assert result.exit_code == 0, result.output

# -- gc and an upload that reuses an orphan's bytes -------------------------------------------------------------


def _old_orphan(app: Flask, tmp_path: Path) -> tuple[Path, str]:
    stray = tmp_path / "reused.txt"
    stray.write_bytes(f"stored by an upload that crashed, then uploaded again\n{secrets.token_hex(16)}".encode())
    with app.app_context():
        sha = get_store().put_path(stray).sha256
    old = time.time() - 2 * 3600
    os.utime(blob_path(app, sha), (old, old))
    return stray, sha


def _commit_version(app: Flask, author: Any, checked: svc.Checked, code: str) -> None:
    with app.app_context(), write_transaction():
        user = db.session.get(User, author.id)
        doc = svc.create_document(code=code, title="Reused bytes", kind="record", owner=user, actor=user)
        svc.add_version(doc, checked, actor=user)


def test_gc_leaves_an_orphan_that_an_upload_is_reusing(app, runner, make_user, tmp_path):
    stray, sha = _old_orphan(app, tmp_path)
    author = make_user("quality_officer")
    with app.app_context():
        checked = stored_upload(stray)  # the bytes exist: the writer refreshes them
        assert checked.sha256 == sha
    assert time.time() - blob_path(app, sha).stat().st_mtime < 600
    gc = runner.invoke(args=["gc", "--yes"])  # before the upload's rows commit
    assert gc.exit_code == 0, gc.output
    assert f"Left in place (younger than 60 minutes): {sha}" in gc.stdout
    assert blob_path(app, sha).is_file()
    _commit_version(app, author, checked, "RG-QA-050")
    result = verify(runner, "--strict")
    assert result.exit_code == 0, result.output


def test_gc_rechecks_each_orphan_right_before_moving_it(app, make_user, tmp_path, monkeypatch):
    from auditdocs.services import integrity
    from auditdocs.storage import BlobStore

    stray, sha = _old_orphan(app, tmp_path)
    with app.app_context():
        plan = integrity.plan_gc()
        assert [s for s, _ in plan.moved] == [sha]
        stored_upload(stray)  # reused between the plan (or prompt) and the move
        result = integrity.run_gc(plan)
        assert result.moved == [] and result.kept == [sha]
        db.session.rollback()
    assert blob_path(app, sha).is_file()

    os.utime(blob_path(app, sha), (time.time() - 7200, time.time() - 7200))
    real = BlobStore.quarantine

    def touched_while_moving(self, digest, dest):  # an upload refreshes the object just before the rename
        os.utime(self.path_for(digest))
        return real(self, digest, dest)

    monkeypatch.setattr(BlobStore, "quarantine", touched_while_moving)
    with app.app_context():
        result = integrity.run_gc(integrity.plan_gc())
        assert result.moved == [] and result.kept == [sha]
        db.session.rollback()
    assert blob_path(app, sha).is_file()  # put back
