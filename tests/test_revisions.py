"""Record revisions and attachments, on a small record type of the tests' own: each save appends a numbered,
hashed snapshot; the row is its projection; the database refuses rewriting either; verify proves it all."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Date, DateTime, MetaData, Numeric, String, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from support import audit_events, pdf, write

from auditdocs.db import write_transaction
from auditdocs.extensions import db
from auditdocs.models import Attachment, RecordRevision, Revisioned, User
from auditdocs.models.revisions import register_record_type
from auditdocs.services import Forbidden, ServiceError, revisions
from auditdocs.services.attachments import attach, attachments_of
from auditdocs.services.uploads import Incoming, get_store, ingest
from auditdocs.timeutil import local_today, utcnow


class _TestBase(DeclarativeBase):
    """A metadata of the tests' own: the app's migrations and resets never see this table."""

    metadata = MetaData()


class Finding(Revisioned, _TestBase):
    """A small structured record, as nonconformities and risks will be."""

    __tablename__ = "test_findings"
    __entity_type__ = "test_finding"
    __revision_fields__ = ("title", "grade", "due")
    __edit_capability__ = "upload_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    grade: Mapped[str] = mapped_column(String(20))
    due: Mapped[date | None] = mapped_column(Date)


@contextmanager
def _registered(app: Flask, record_type: type[Revisioned]) -> Iterator[None]:
    """A test record type's tables created and the type registered for one test only."""
    with app.app_context():
        _TestBase.metadata.create_all(db.engine)
    unregister = register_record_type(record_type)
    try:
        yield
    finally:
        unregister()
        with app.app_context():
            db.session.remove()
            _TestBase.metadata.drop_all(db.engine)


@pytest.fixture
def findings(app: Flask) -> Iterator[type[Finding]]:
    """The test record type, registered for this test only."""
    with _registered(app, Finding):
        yield Finding


def _new(app: Flask, user_id: int, **fields: Any) -> int:
    with app.app_context(), write_transaction():
        record = Finding(**{"title": "Late gift registrations", "grade": "minor", "due": None, **fields})
        db.session.add(record)
        db.session.flush()
        revisions.save(record, actor=db.session.get(User, user_id), note="Raised")
        return record.id


def _edit(app: Flask, user_id: int, record_id: int, note: str = "Edited", **fields: Any) -> RecordRevision:
    with app.app_context(), write_transaction():
        record = db.session.get(Finding, record_id)
        for key, value in fields.items():
            setattr(record, key, value)
        revision = revisions.save(record, actor=db.session.get(User, user_id), note=note)
        db.session.expunge(revision)
        return revision


def test_each_save_appends_a_hashed_snapshot_and_the_row_projects_it(app, findings, make_user):
    luis = make_user("compliance_officer")
    record_id = _new(app, luis.id)
    _edit(app, luis.id, record_id, grade="major", due=date(2027, 3, 31))
    with app.app_context():
        history = revisions.history("test_finding", record_id)
        assert [r.number for r in history] == [1, 2]
        first, second = history
        assert json.loads(first.snapshot) == {"title": "Late gift registrations", "grade": "minor", "due": None}
        assert json.loads(second.snapshot)["due"] == "2027-03-31"
        assert all(r.sha256 == hashlib.sha256(r.snapshot.encode()).hexdigest() for r in history)
        assert second.author_id == luis.id and second.change_note == "Edited"
        assert abs((utcnow() - second.created_at.replace(tzinfo=utcnow().tzinfo)).total_seconds()) < 60
        assert db.session.get(Finding, record_id).revision == 2
    events = audit_events(app, "record.revise", ("object_id", "new", "actor_id"))
    assert [e["object_id"] for e in events] == [f"test_finding:{record_id}#1", f"test_finding:{record_id}#2"]
    assert events[1]["new"]["sha256"] == second.sha256 and events[1]["actor_id"] == luis.id


def test_a_save_that_changes_nothing_appends_nothing(app, findings, make_user):
    luis = make_user("compliance_officer")
    record_id = _new(app, luis.id)
    again = _edit(app, luis.id, record_id, grade="minor")
    assert again.number == 1
    with app.app_context():
        assert len(revisions.history("test_finding", record_id)) == 1


def test_diff_between_revisions_and_from_creation(app, findings, make_user):
    luis = make_user("compliance_officer")
    record_id = _new(app, luis.id)
    _edit(app, luis.id, record_id, grade="major", title="Late gift registrations in two regions")
    with app.app_context():
        first, second = revisions.history("test_finding", record_id)
        changes = {c.field: (c.old, c.new) for c in revisions.diff(first, second)}
        assert changes == {"title": ("Late gift registrations", "Late gift registrations in two regions"),
                           "grade": ("minor", "major")}
        assert [c.field for c in revisions.diff(None, first)] == ["title", "grade"]  # due stays None


def test_the_record_as_it_stood_on_a_date_or_moment(app, findings, make_user):
    luis = make_user("compliance_officer")
    record_id = _new(app, luis.id)
    between = utcnow()
    _edit(app, luis.id, record_id, grade="major")
    with app.app_context():
        assert revisions.as_of("test_finding", record_id, between).number == 1
        assert revisions.as_of("test_finding", record_id, utcnow()).number == 2
        assert revisions.as_of("test_finding", record_id, local_today()).number == 2
        assert revisions.as_of("test_finding", record_id, local_today() - timedelta(days=1)) is None


def test_concurrent_saves_never_take_the_same_number(app, findings, make_user):
    luis, rosa = make_user("compliance_officer"), make_user("quality_officer")
    record_id = _new(app, luis.id)
    errors: list[BaseException] = []

    def editor(user_id: int, prefix: str) -> None:
        try:
            for i in range(5):
                _edit(app, user_id, record_id, title=f"{prefix} {i}")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=editor, args=(u, p)) for u, p in ((luis.id, "Luis"), (rosa.id, "Rosa"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with app.app_context():
        numbers = [r.number for r in revisions.history("test_finding", record_id)]
        assert numbers == list(range(1, 12))
        assert db.session.get(Finding, record_id).revision == 11


def _refused(app: Flask, sql: str) -> str:
    with app.app_context(), db.engine.connect() as conn, pytest.raises(DBAPIError) as exc, conn.begin():
        conn.execute(text(sql))
    return str(exc.value.orig)


@pytest.mark.parametrize("table", ["record_revisions", "attachments"])
def test_the_database_refuses_rewriting_revisions_and_attachments(app, findings, make_user, tmp_path, table):
    luis = make_user("compliance_officer")
    record_id = _new(app, luis.id)
    _attach(app, luis.id, record_id, write(tmp_path / "acta.pdf", pdf("acta")))
    assert "append-only" in _refused(app, f"UPDATE {table} SET sha256 = 'x'")  # noqa: S608
    assert "append-only" in _refused(app, f"DELETE FROM {table}")  # noqa: S608


def _verify(runner: Any) -> Any:
    return runner.invoke(args=["verify"])


def test_verify_checks_every_row_against_its_latest_revision(app, findings, make_user, runner):
    luis = make_user("compliance_officer")
    record_id = _new(app, luis.id)
    _edit(app, luis.id, record_id, grade="major")
    assert _verify(runner).exit_code == 0
    with app.app_context(), db.engine.begin() as conn:  # behind the application's back
        conn.execute(text("UPDATE test_findings SET grade = 'observation' WHERE id = :id"), {"id": record_id})
    result = _verify(runner)
    assert result.exit_code == 1
    assert (f"ERROR: test_finding {record_id}: grade is 'observation' in the row but 'major' in revision 2"
            in result.output)


def test_verify_finds_a_row_written_without_a_revision(app, findings, make_user, runner):
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(text("INSERT INTO test_findings (id, title, grade, revision) "
                          "VALUES (99, 'Hand-made', 'minor', 0)"))
    result = _verify(runner)
    assert result.exit_code == 1
    assert "test_finding 99: has no revision" in result.output


@pytest.mark.sqlite_only
def test_verify_finds_a_rewritten_or_deleted_revision(app, findings, make_user, runner):
    """Dropping the trigger stands for a DBA's bypass; the hash and the audit trail still tell."""
    luis = make_user("compliance_officer")
    record_id = _new(app, luis.id)
    _edit(app, luis.id, record_id, grade="major")
    with app.app_context(), db.engine.begin() as conn:
        conn.exec_driver_sql("DROP TRIGGER record_revisions_no_update")
        conn.exec_driver_sql("DROP TRIGGER record_revisions_no_delete")
        conn.execute(text("UPDATE record_revisions SET snapshot = replace(snapshot, 'minor', 'observation') "
                          "WHERE number = 1"))
        conn.execute(text("DELETE FROM record_revisions WHERE number = 2"))
    result = _verify(runner)
    assert result.exit_code == 1
    assert f"test_finding {record_id} revision 1: the snapshot does not match its SHA-256 (edited)" in result.output
    assert f"test_finding {record_id} revision 2: revision row deleted (recorded in the audit trail)" in result.output
    assert f"test_finding {record_id}: the row says revision 2 but the latest is 1" in result.output


# -- attachments -------------------------------------------------------------------------------------------------


def _attach(app: Flask, user_id: int, record_id: int, path: Any, name: str | None = None) -> int:
    with app.app_context():
        attachment = ingest(Incoming.from_path(path, name), lambda checked: attach(
            db.session.get(Finding, record_id), checked, actor=db.session.get(User, user_id)))
        return attachment.id


def test_an_attachment_is_a_checked_upload_referenced_not_copied(app, findings, make_user, tmp_path, runner):
    luis = make_user("compliance_officer")
    record_id = _new(app, luis.id)
    first = _attach(app, luis.id, record_id, write(tmp_path / "acta.pdf", pdf("acta de reunión")), "Acta reunión.pdf")
    second = _attach(app, luis.id, record_id, tmp_path / "acta.pdf", "copia.pdf")  # the same bytes again
    with app.app_context():
        rows = attachments_of(db.session.get(Finding, record_id))
        assert [(a.id, a.original_filename, a.mime_type) for a in rows] == [
            (first, "Acta reunión.pdf", "application/pdf"), (second, "copia.pdf", "application/pdf")]
        assert rows[0].sha256 == rows[1].sha256 == hashlib.sha256((tmp_path / "acta.pdf").read_bytes()).hexdigest()
        assert list(get_store().iter_hashes()) == [rows[0].sha256]  # stored once
    events = audit_events(app, "attachment.add", ("object_id", "new"))
    assert [e["object_id"] for e in events] == [f"test_finding:{record_id}"] * 2
    assert _verify(runner).exit_code == 0


def test_a_refused_attachment_leaves_no_row_and_no_file(app, findings, make_user, tmp_path):
    luis = make_user("compliance_officer")
    auditor = make_user("auditor")
    record_id = _new(app, luis.id)
    with pytest.raises(ServiceError) as refused:
        _attach(app, luis.id, record_id, write(tmp_path / "macro.exe", b"MZ\x90\x00"))
    assert refused.value.status == 400
    with pytest.raises(Forbidden):
        _attach(app, auditor.id, record_id, write(tmp_path / "ok.pdf", pdf("ok")))
    with app.app_context():
        assert db.session.scalar(select(Attachment.id)) is None
        assert list(get_store().iter_hashes()) == []
        assert list(get_store().temp_dir.iterdir()) == []


def test_verify_and_gc_cover_attachments(app, findings, make_user, tmp_path, runner):
    luis = make_user("compliance_officer")
    record_id = _new(app, luis.id)
    _attach(app, luis.id, record_id, write(tmp_path / "acta.pdf", pdf("acta")))
    with app.app_context():
        sha = db.session.scalar(select(Attachment.sha256))
        path = get_store().path_for(sha)
    gc = runner.invoke(args=["gc", "--yes", "--min-age", "0"])
    assert gc.exit_code == 0 and "No orphan objects to move." in gc.output
    path.chmod(0o644)
    path.write_bytes(path.read_bytes() + b"tampered")
    result = _verify(runner)
    assert result.exit_code == 1
    assert f"object {sha} does not match its hash (altered) — used by attachments row 1" in result.output


def test_verify_finds_an_attachment_row_changed_behind_the_trail(app, findings, make_user, tmp_path, runner):
    luis = make_user("compliance_officer")
    record_id = _new(app, luis.id)
    attachment_id = _attach(app, luis.id, record_id, write(tmp_path / "acta.pdf", pdf("acta")), "acta.pdf")
    with app.app_context(), db.engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("DROP TRIGGER attachments_no_update")
        else:
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        conn.execute(text("UPDATE attachments SET original_filename = 'otro.pdf'"))
    result = _verify(runner)
    assert result.exit_code == 1
    assert (f"attachment {attachment_id} (test_finding {record_id}, otro.pdf): original_filename is 'otro.pdf' in "
            "the database but 'acta.pdf' in its audit event") in result.output


class Inspection(Revisioned, _TestBase):
    """A record with a time and a decimal: what the database stores is what a revision must hold."""

    __tablename__ = "test_inspections"
    __entity_type__ = "test_inspection"
    __revision_fields__ = ("seen_at", "score", "tags")
    __edit_capability__ = "upload_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    score: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    tags: Mapped[str] = mapped_column(String(200))


@pytest.fixture
def inspections(app: Flask) -> Iterator[type[Inspection]]:
    with _registered(app, Inspection):
        yield Inspection


def test_a_revision_holds_what_the_database_stores(app, inspections, make_user, runner):
    """A time given in UTC and a decimal given with fewer places are stored normalised; the snapshot is taken after
    that, so verify does not cry tamper and a second save of the same values adds no revision."""
    luis = make_user("compliance_officer")
    with app.app_context(), write_transaction():
        record = Inspection(seen_at=datetime(2026, 3, 2, 14, 0, tzinfo=UTC), score=Decimal("1.5"), tags="a")
        db.session.add(record)
        db.session.flush()
        first = revisions.save(record, actor=db.session.get(User, luis.id))
        record_id, number = record.id, first.number
    assert number == 1
    with app.app_context():
        stored = json.loads(revisions.latest("test_inspection", record_id).snapshot)
        assert stored["seen_at"] == "2026-03-02T14:00:00.000000Z" and stored["score"] == "1.50"
    with app.app_context(), write_transaction():
        record = db.session.get(Inspection, record_id)
        record.score = Decimal("1.50")
        assert revisions.save(record, actor=db.session.get(User, luis.id)).number == 1
    assert _verify(runner).exit_code == 0


def test_sets_hash_the_same_in_every_process():
    from auditdocs.services.audit import canonical_json

    assert canonical_json({"roles": {"b", "a", "c"}}) == canonical_json({"roles": {"c", "a", "b"}}) == \
        '{"roles":["a","b","c"]}'
