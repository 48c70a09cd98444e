"""Alembic: upgrading an empty database gives exactly the models' schema, with the append-only triggers."""

from __future__ import annotations

import secrets
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import DBAPIError
from support import PG_URL, need, seed_document, write

import config as app_config
from auditdocs import create_app
from auditdocs.db import write_transaction
from auditdocs.extensions import db
from auditdocs.models import text_index
from auditdocs.models.append_only import APPEND_ONLY_TABLES, IMMUTABLE_COLUMNS, NO_DELETE_TABLES
from auditdocs.services import audit


def _fresh_sqlite(tmp_path: Path) -> Flask:
    data_dir = tmp_path / "fresh"
    return create_app(app_config.TestConfig, {
        "DATA_DIR": data_dir,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{data_dir / 'auditdocs.sqlite3'}",
        "SQLALCHEMY_ENGINE_OPTIONS": {},
    })


@pytest.fixture
def pg_fresh(tmp_path: Path) -> Iterator[Flask]:
    """An app on a brand-new, empty PostgreSQL schema of its own, dropped afterwards."""
    need(bool(PG_URL), "PostgreSQL tests need AUDITDOCS_TEST_DATABASE_URL")
    schema = f"auditdocs_mig_{secrets.token_hex(4)}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    app = create_app(app_config.TestConfig, {
        "DATA_DIR": tmp_path / "fresh",
        "SQLALCHEMY_DATABASE_URI": PG_URL,
        "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"options": f"-csearch_path={schema}"}},
    })
    try:
        yield app
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _tables(app: Flask) -> set[str]:
    with app.app_context(), db.engine.connect() as conn:
        return {t for t in inspect(conn).get_table_names() if not t.startswith(text_index.UNMODELLED_PREFIXES)}


def _modelled(obj: Any, name: str | None, _type: str, _reflected: bool, _compare_to: Any) -> bool:
    """The text index lives outside the models (an FTS5 table, a trigram index): see models/text_index.py."""
    return not (name or "").startswith(text_index.UNMODELLED_PREFIXES)


def _schema_diff(app: Flask) -> list[Any]:
    with app.app_context(), db.engine.connect() as conn, warnings.catch_warnings():
        # Expression indexes (the register's review order) are not compared: test_scale_indexes checks them.
        warnings.filterwarnings("ignore", message=".*expression-based index")
        warnings.filterwarnings("ignore", message=".*functional index")
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True,
                                                     "include_object": _modelled})
        return compare_metadata(ctx, db.metadata)


def _triggers(app: Flask) -> set[str]:
    with app.app_context(), db.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            rows = conn.execute(text(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_events'"))
        else:
            rows = conn.execute(text(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_events'::regclass AND NOT tgisinternal"))
        return {r[0] for r in rows}


def _upgrade_empty(app: Flask) -> None:
    assert _tables(app) == set(), "the database must start empty"
    with app.app_context():
        upgrade()
        db.session.remove()


def _append_one_event(app: Flask) -> None:
    with app.app_context(), write_transaction():
        audit.record("test.event", "test", "1", new={"n": 1}, actor_label="pytest")
    with app.app_context():
        db.session.remove()


def _refused(app: Flask, sql: str) -> str:
    """Run a statement that must be refused; return the database's message."""
    with app.app_context(), db.engine.connect() as conn, pytest.raises(DBAPIError) as exc, conn.begin():
        conn.execute(text(sql))
    return str(exc.value.orig)


def _event_rows(app: Flask) -> list[tuple]:
    with app.app_context(), db.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text("SELECT seq, action, hash FROM audit_events ORDER BY seq"))]


def _assert_schema_and_triggers(app: Flask, expected_triggers: set[str]) -> None:
    _upgrade_empty(app)
    model_tables = {t.name for t in db.metadata.sorted_tables}
    assert _tables(app) == model_tables | {"alembic_version"}
    assert _schema_diff(app) == []
    assert set(APPEND_ONLY_TABLES) == {"audit_events", "attachments", "record_revisions", "risk_matrices",
                                       "gift_thresholds"}
    assert _triggers(app) == expected_triggers

    _append_one_event(app)
    before = _event_rows(app)
    assert len(before) == 1
    assert "append-only" in _refused(app, "UPDATE audit_events SET action = 'tampered'")
    assert "append-only" in _refused(app, "DELETE FROM audit_events")
    assert _event_rows(app) == before
    # Inserting is still allowed: the trail grows.
    _append_one_event(app)
    assert len(_event_rows(app)) == 2


@pytest.mark.sqlite_only
def test_sqlite_upgrade_from_empty_matches_the_models(tmp_path):
    app = _fresh_sqlite(tmp_path)
    try:
        _assert_schema_and_triggers(app, {"audit_events_no_update", "audit_events_no_delete"})
    finally:
        with app.app_context():
            db.engine.dispose()


def test_postgresql_upgrade_from_empty_matches_the_models(pg_fresh):
    _assert_schema_and_triggers(pg_fresh, {"audit_events_no_change", "audit_events_no_truncate"})
    assert "append-only" in _refused(pg_fresh, "TRUNCATE audit_events")
    assert len(_event_rows(pg_fresh)) == 2


@pytest.mark.sqlite_only
def test_sqlite_downgrade_to_base_and_upgrade_again(tmp_path):
    app = _fresh_sqlite(tmp_path)
    try:
        _upgrade_empty(app)
        with app.app_context():
            downgrade(revision="base")
            db.session.remove()
        assert _tables(app) == {"alembic_version"}
        assert _triggers(app) == set()
        with app.app_context():
            upgrade()
            db.session.remove()
        assert _schema_diff(app) == []
        assert _triggers(app) == {"audit_events_no_update", "audit_events_no_delete"}
    finally:
        with app.app_context():
            db.engine.dispose()


def test_the_test_database_is_at_head_with_no_diff(app):
    """The database every other test uses was built by the migrations, not by create_all."""
    assert _schema_diff(app) == []
    with app.app_context():
        with db.engine.connect() as conn:
            version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        scripts = ScriptDirectory.from_config(app.extensions["migrate"].migrate.get_config())
        heads = scripts.get_heads()
    assert len(heads) == 1, f"one linear history expected, found heads {heads}"
    assert version == heads[0]


# -- evidence rows: no DELETE, immutable version columns (migration 0003) ---------------------------------------


def _protective_triggers(app: Flask) -> set[str]:
    """Triggers on the evidence tables other than the audit trail."""
    with app.app_context(), db.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            rows = conn.execute(text("SELECT tbl_name, name FROM sqlite_master WHERE type = 'trigger'"))
        else:
            rows = conn.execute(text("SELECT tgrelid::regclass::text, tgname FROM pg_trigger WHERE NOT tgisinternal"))
        return {name for table, name in rows
                if table in NO_DELETE_TABLES and not name.startswith(text_index.FTS_TABLE)}  # upkeep, not protection


def _pg_functions(app: Flask) -> set[str]:
    with app.app_context(), db.engine.connect() as conn:
        return set(conn.execute(text("SELECT proname FROM pg_proc WHERE proname LIKE 'auditdocs%' "
                                     "AND pronamespace = current_schema()::regnamespace")).scalars())


BEFORE_0008 = ("users", "documents", "document_versions", "document_reviews")  # 0008 added the organisation's


def _expected_protective(backend: str, tables: tuple[str, ...] = NO_DELETE_TABLES) -> set[str]:
    names = {f"{t}_no_delete" for t in tables} | {"document_versions_immutable"}
    if backend == "postgresql":
        names |= {f"{t}_no_truncate" for t in tables}
    return names


def _allowed(app: Flask, *statements: str) -> None:
    with app.app_context(), db.engine.begin() as conn:
        for sql in statements:
            conn.execute(text(sql))


def _evidence(app: Flask, make_user: Any, tmp_path: Path) -> None:
    """A document with an approved version, a clause and a review, written through the services."""
    from auditdocs.models import Document, User
    from auditdocs.services import documents as svc

    author, approver = make_user("quality_officer"), make_user("quality_officer")
    doc_id = seed_document(app, author.id, write(tmp_path / "PR-QA-001.txt", b"Control of documented information\n"),
                           code="PR-QA-001", title="Control", approver_id=approver.id, clauses=["ISO 9001:2015 7.5"])
    with app.app_context(), write_transaction():
        svc.record_review(db.session.get(Document, doc_id), actor=db.session.get(User, approver.id))
    _organisation_rows(app, approver.id)


def _organisation_rows(app: Flask, user_id: int) -> None:
    """One row in each protected table of the organisation and programme (the triggers are what is tested)."""
    from datetime import date

    from auditdocs.models import Audit, Certificate, Process, Scope, Site

    with app.app_context(), write_transaction():
        site, process, scope = Site(code="SEDE", name_es="Sede central"), Process(code="P1", name_es="Calidad"), \
            Scope(key="iso9001_2015")
        db.session.add_all([site, process, scope])
        db.session.flush()
        cert = Certificate(number="C-1", scope_id=scope.id, body="Body", issued_on=date(2026, 1, 1),
                           expires_on=date(2029, 1, 1), created_by_id=user_id)
        db.session.add(cert)
        db.session.flush()
        db.session.add(Audit(certificate_id=cert.id, audit_type="initial", planned_start=date(2026, 1, 1),
                             auditing_body="Body", created_by_id=user_id))
    _record_rows(app, user_id)


def _record_rows(app: Flask, user_id: int) -> None:
    """A nonconformity with an action, through the services (migration 0010's protected tables)."""
    from datetime import date

    from auditdocs.models import Nonconformity, User
    from auditdocs.services import actions, nonconformities

    day = date(2026, 3, 2)
    with app.app_context(), write_transaction():
        actor = db.session.get(User, user_id)
        assert actor is not None
        nc = nonconformities.create_nonconformity(nonconformities.NcInput(
            title="Acta sin firma", description="El acta de la reunión no está firmada.", source="other",
            grade="minor", detected_on=day, detected_by_name="Auditor"), actor=actor, today=day)
        actions.add_action(db.session.get(Nonconformity, nc.id), actions.ActionInput(  # type: ignore[arg-type]
            "Firmar el acta", user_id, day), actor=actor, today=day)
    _risk_rows(app, user_id)


def _risk_rows(app: Flask, user_id: int) -> None:
    """One row in each table of migration 0011 (the triggers are what is tested, so plain rows and revisions)."""
    from datetime import date
    from decimal import Decimal

    from auditdocs.models import BriberyRisk, DueDiligence, Gift, GiftThreshold, RiskExercise, RiskMatrix, User
    from auditdocs.services import revisions

    day = date(2026, 3, 2)
    with app.app_context(), write_transaction():
        actor = db.session.get(User, user_id)
        matrix = RiskMatrix(version=1, likelihood_levels=5, impact_levels=5, thresholds='{"medium": 5}', labels="{}",
                            colours="{}", likelihood_labels="{}", impact_labels="{}", created_by_id=user_id)
        db.session.add_all([matrix, GiftThreshold(currency="EUR", amount=Decimal("50.00"), set_by_id=user_id)])
        db.session.flush()
        exercise = RiskExercise(reference="RA-2026-01", name="2026", year=2026, status="planned", matrix_id=matrix.id)
        db.session.add(exercise)
        db.session.flush()
        risk = BriberyRisk(reference="BR-0001", number=1, title="Soborno", associate_category="supplier",
                           scenario="Un proveedor ofrece dinero.", inherent_likelihood=3, inherent_impact=3,
                           inherent_score=9, inherent_rating="medium", residual_likelihood=2, residual_impact=2,
                           residual_score=4, residual_rating="low", exercise_id=exercise.id, matrix_id=matrix.id,
                           status="pending_approval")
        dd = DueDiligence(reference="DD-2026-0001", year=2026, number=1, subject_type="business_associate",
                          subject_name="Proveedor", category="supplier", risk_level="low", status="in_progress")
        gift = Gift(reference="GH-2026-0001", year=2026, number=1, kind="gift", direction="received",
                    internal_party="Compras", counterparty="Proveedor", counterparty_category="supplier",
                    occurred_on=day, value=Decimal("20.00"), currency="EUR", description="Agenda",
                    decision="accepted", status="recorded")
        db.session.add_all([risk, dd, gift])
        db.session.flush()
        for record in (exercise, risk, dd, gift):
            revisions.save(record, actor=actor)


def test_risk_configuration_rows_are_append_only(app, make_user, tmp_path):
    """A matrix version or a gift threshold, once written, is never changed nor removed: a change is a new row."""
    _risk_rows(app, make_user("admin").id)
    for table in ("risk_matrices", "gift_thresholds"):
        assert "append-only" in _refused(app, f"UPDATE {table} SET note = 'rewritten'")  # noqa: S608
        assert "append-only" in _refused(app, f"DELETE FROM {table}")  # noqa: S608


IMMUTABLE_CHANGES = {
    "document_id": "document_id = document_id + 1000",
    "number": "number = number + 1",
    "sha256": "sha256 = '" + "0" * 64 + "'",
    "size": "size = size + 1",
    "original_filename": "original_filename = 'forged.txt'",
    "mime_type": "mime_type = 'application/octet-stream'",
    "uploaded_by_id": "uploaded_by_id = uploaded_by_id + 1000",
    "uploaded_at": "uploaded_at = '2000-01-01 00:00:00+00:00'",
}


def test_evidence_rows_refuse_delete_and_keep_version_columns(app, backend, make_user, tmp_path):
    assert _protective_triggers(app) == _expected_protective(backend)
    assert set(IMMUTABLE_CHANGES) == set(IMMUTABLE_COLUMNS["document_versions"])
    _evidence(app, make_user, tmp_path)
    for table in NO_DELETE_TABLES:
        message = _refused(app, f"DELETE FROM {table}")  # noqa: S608 - names from a constant
        assert f"{table} rows are kept for ever: DELETE refused" in message, message
    for column, change in IMMUTABLE_CHANGES.items():
        message = _refused(app, f"UPDATE document_versions SET {change}")  # noqa: S608
        assert f"document_versions.{column} is immutable: UPDATE refused" in message, message
    # State changes stay allowed: a status, a note, a column set to its own value, a user disabled, a mapping.
    _allowed(app, "UPDATE document_versions SET status = 'obsolete', change_note = 'by hand'",
             "UPDATE document_versions SET sha256 = sha256, size = size, uploaded_at = uploaded_at",
             "UPDATE users SET active = false", "UPDATE documents SET title = 'Renamed'",
             "DELETE FROM document_clauses")
    with app.app_context(), db.engine.connect() as conn:
        counts = [conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()  # noqa: S608
                  for t in NO_DELETE_TABLES]
        status = conn.execute(text("SELECT status FROM document_versions")).scalar_one()
    assert all(counts) and status == "obsolete"
    if backend == "postgresql":
        for table in NO_DELETE_TABLES:
            message = _refused(app, f"TRUNCATE {table} CASCADE")
            assert "rows are kept for ever: TRUNCATE refused" in message, message


def _downgrade_to_0002_and_back(app: Flask, backend: str) -> None:
    _upgrade_empty(app)
    assert _protective_triggers(app) == _expected_protective(backend)
    with app.app_context():
        downgrade(revision="0002")
        db.session.remove()
    assert _protective_triggers(app) == set()
    assert _triggers(app)  # the audit trail keeps its own
    if backend == "postgresql":
        assert _pg_functions(app) == {"auditdocs_refuse_change"}
    _allowed(app, "DELETE FROM users")
    with app.app_context():
        upgrade()
        db.session.remove()
    assert _protective_triggers(app) == _expected_protective(backend)
    assert _schema_diff(app) == []
    if backend == "postgresql":
        assert _pg_functions(app) == {"auditdocs_refuse_change", "auditdocs_refuse_delete",
                                      "auditdocs_document_versions_immutable"}


@pytest.mark.sqlite_only
def test_sqlite_downgrade_0003_removes_the_evidence_triggers(tmp_path):
    app = _fresh_sqlite(tmp_path)
    try:
        _downgrade_to_0002_and_back(app, "sqlite")
    finally:
        with app.app_context():
            db.engine.dispose()


def test_postgresql_downgrade_0003_removes_the_evidence_triggers(pg_fresh):
    _downgrade_to_0002_and_back(pg_fresh, "postgresql")


# -- CHECK constraints on code columns (migration 0005) -------------------------------------------------------

BAD_CODES = {
    "users": "UPDATE users SET role = 'superuser'",
    "documents": "UPDATE documents SET status = 'published'",
    "documents ": "UPDATE documents SET kind = 'memo'",
    "documents  ": "UPDATE documents SET confidentiality = 'secret'",
    "document_versions": "UPDATE document_versions SET status = 'final'",
    "clauses": "UPDATE clauses SET documented_information = 'some'",
}


def test_code_columns_refuse_unknown_values(app, make_user, tmp_path):
    _evidence(app, make_user, tmp_path)
    for sql in BAD_CODES.values():
        message = _refused(app, sql).lower()
        assert "check" in message, (sql, message)
    _allowed(app, "UPDATE documents SET status = 'obsolete'", "UPDATE users SET role = 'auditor'")


def _rows_before_0005(app: Flask) -> None:
    """Rows that reference each other across the tables 0005 rebuilds, written at revision 0004."""
    with app.app_context():
        upgrade(revision="0004")
        db.session.remove()
    _allowed(app,
             "INSERT INTO users (id, email, name, role, password_hash, active, session_version, created_at) "
             "VALUES (1, 'rosa@example.org', 'Rosa', 'quality_officer', 'x', true, 1, '2026-01-01 00:00:00+00:00')",
             "INSERT INTO documents (id, code, title, kind, owner_id, language, confidentiality, "
             "review_interval_months, status, created_at, created_by_id) VALUES (1, 'PR-QA-001', 'Control', "
             "'procedure', 1, 'es', 'normal', 12, 'draft', '2026-01-01 00:00:00+00:00', 1)",
             "INSERT INTO document_versions (id, document_id, number, original_filename, mime_type, size, sha256, "
             "uploaded_by_id, uploaded_at, status) VALUES (1, 1, 1, 'a.pdf', 'application/pdf', 10, '"
             + "a" * 64 + "', 1, '2026-01-01 00:00:00+00:00', 'draft')")


def _assert_0005_kept_everything(app: Flask, backend: str) -> None:
    with app.app_context():
        upgrade()
        db.session.remove()
    with app.app_context(), db.engine.connect() as conn:
        assert conn.execute(text("SELECT d.code, v.number, u.email FROM documents d JOIN document_versions v "
                                 "ON v.document_id = d.id JOIN users u ON u.id = d.owner_id")).all() == [
            ("PR-QA-001", 1, "rosa@example.org")]
    assert _protective_triggers(app) == _expected_protective(backend)
    assert "kept for ever" in _refused(app, "DELETE FROM documents")
    assert "check" in _refused(app, "UPDATE documents SET status = 'published'").lower()
    assert _schema_diff(app) == []
    with app.app_context():
        downgrade(revision="0004")
        db.session.remove()
    _allowed(app, "UPDATE documents SET status = 'published'")  # the constraint is gone again...
    assert _protective_triggers(app) == _expected_protective(backend, BEFORE_0008)  # ...but the triggers are not


@pytest.mark.sqlite_only
def test_sqlite_0005_rebuilds_tables_with_their_rows_and_triggers(tmp_path):
    app = _fresh_sqlite(tmp_path)
    try:
        _rows_before_0005(app)
        _assert_0005_kept_everything(app, "sqlite")
    finally:
        with app.app_context():
            db.engine.dispose()


def test_postgresql_0005_keeps_rows_and_triggers(pg_fresh):
    _rows_before_0005(pg_fresh)
    _assert_0005_kept_everything(pg_fresh, "postgresql")
