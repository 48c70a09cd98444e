"""`auditdocs backup` / `restore`: a backup taken from a live app restores into a new data dir and verifies."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, func, select, text
from support import PASSWORD, PG_URL, CSRFClient, need, version_from_file

import config
from auditdocs import create_app
from auditdocs.db import write_transaction
from auditdocs.extensions import db
from auditdocs.models import Document, DocumentVersion, User
from auditdocs.services import audit
from auditdocs.services import documents as svc
from auditdocs.services.integrity import get_store
from auditdocs.services.users import create_user


def sha_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def make_app(backend: str, tmp_path: Path) -> Iterator[Callable[..., Flask]]:
    """Factory: an app on a data dir of its own; on PostgreSQL in a private schema, dropped at the end."""
    schema = f"auditdocs_bk_{os.getpid()}_{secrets.token_hex(3)}"
    apps: list[Flask] = []

    def make(name: str) -> Flask:
        data_dir = tmp_path / name
        data_dir.mkdir()
        if backend == "sqlite":
            uri, options = f"sqlite:///{data_dir / 'auditdocs.sqlite3'}", {}
        else:
            uri, options = PG_URL, {"connect_args": {"options": f"-csearch_path={schema}"}, "pool_pre_ping": True}
        app = create_app(config.TestConfig, {"DATA_DIR": data_dir, "SQLALCHEMY_DATABASE_URI": uri,
                                      "SQLALCHEMY_ENGINE_OPTIONS": options, "DEFAULT_LANGUAGE": "en"})
        app.test_client_class = CSRFClient
        apps.append(app)
        return app

    make.schema = schema  # type: ignore[attr-defined]
    yield make
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    if backend == "postgresql":
        drop_pg_schema(schema)


def drop_pg_schema(schema: str) -> None:
    engine = create_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


@pytest.fixture
def source(backend: str, make_app: Callable[..., Flask]) -> Flask:
    """A live, initialised app holding two users and approved documents (three versions)."""
    if backend == "postgresql":
        need(shutil.which("pg_dump") is not None and shutil.which("pg_restore") is not None,
             "pg_dump/pg_restore not installed")
        drop_pg_schema(make_app.schema)
        engine = create_engine(PG_URL)
        with engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{make_app.schema}"'))
        engine.dispose()
    app = make_app("source")
    result = app.test_cli_runner().invoke(args=["init"])
    assert result.exit_code == 0, result.output
    with app.app_context(), write_transaction():
        author = create_user("author@example.org", "Author", "quality_officer", PASSWORD)
        approver = create_user("approver@example.org", "Approver", "quality_officer", PASSWORD)
        for code, versions in (("PR-QA-001", 2), ("FO-SAF-002", 1)):
            doc = svc.create_document(code=code, title=f"Document {code}", kind="procedure", owner=author,
                                      actor=author)
            for n in range(versions):
                path = Path(app.config["DATA_DIR"]).parent / f"{code}-{n}.txt"
                path.write_bytes(f"{code} version {n}\n{secrets.token_hex(300)}\n".encode())
                version = version_from_file(doc, path, actor=author)
                svc.approve(version, actor=approver)
    (Path(app.config["DATA_DIR"]) / "secret_key").write_text("k" * 64)  # as load_secret_key would create it
    return app


def contents(app: Flask) -> dict[str, Any]:
    """What a restore must bring back: every version's identity and bytes, and the chain head."""
    store = get_store()
    rows = db.session.execute(
        select(Document.code, DocumentVersion.number, DocumentVersion.sha256, DocumentVersion.status)
        .join(Document, Document.id == DocumentVersion.document_id).order_by(Document.code, DocumentVersion.number)
    ).all()
    return {"versions": [tuple(r) for r in rows], "head": audit.head(),
            "bytes": {r.sha256: store.path_for(r.sha256).read_bytes() for r in rows}}


def test_backup_then_restore_into_a_new_data_dir(backend, source, make_app, tmp_path, monkeypatch):
    with source.app_context():
        before = contents(source)
        orphan = get_store().put_path(Path(__file__)).sha256  # referenced by no row: not part of the backup
    dest = tmp_path / "backup"
    result = source.test_cli_runner().invoke(args=["backup", str(dest)])
    assert result.exit_code == 0, result.output
    assert f"Backup written to {dest}: {backend} database" in result.stdout
    manifest = json.loads((dest / "manifest.json").read_text())
    db_file = dest / manifest["database"]["file"]
    assert manifest["database"]["sha256"] == sha_of(db_file)
    assert manifest["backend"] == backend
    assert manifest["audit_head"] == {"seq": before["head"][0], "hash": before["head"][1]}
    assert sorted(o["sha256"] for o in manifest["objects"]) == sorted(before["bytes"])
    assert manifest["counts"]["documents"] == 2 and manifest["counts"]["document_versions"] == 3
    assert not (dest / "objects" / orphan[:2] / orphan[2:4] / orphan).exists()
    for sha, data in before["bytes"].items():
        assert (dest / "objects" / sha[:2] / sha[2:4] / sha).read_bytes() == data
    assert stat.S_IMODE((dest / "secret_key").stat().st_mode) == 0o600

    if backend == "postgresql":  # the server is lost: the schema goes, the restore re-creates it
        with source.app_context():
            db.session.remove()
            db.engine.dispose()
        drop_pg_schema(make_app.schema)
    monkeypatch.delenv("AUDITDOCS_SECRET_KEY", raising=False)
    target = make_app("restored")
    result = target.test_cli_runner().invoke(args=["restore", str(dest)])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1].startswith("OK: 3 objects")
    assert "Rebuilt: search index (" in result.stdout
    data_dir = Path(target.config["DATA_DIR"])
    assert (data_dir / "secret_key").read_text() == "k" * 64
    assert stat.S_IMODE((data_dir / "secret_key").stat().st_mode) == 0o600

    runner = target.test_cli_runner()
    verified = runner.invoke(args=["verify", "--strict", "--checkpoint", f"{before['head'][0]}:{before['head'][1]}"])
    assert verified.exit_code == 0, verified.output
    with target.app_context():
        assert contents(target) == before

    client = target.test_client()
    login = client.post_form("/login", {"email": "author@example.org", "password": PASSWORD})
    assert login.status_code == 302
    with target.app_context():
        versions = db.session.execute(
            select(Document.id, DocumentVersion.number, DocumentVersion.sha256)
            .join(Document, Document.id == DocumentVersion.document_id)).all()
    assert len(versions) == 3
    for doc_id, number, sha in versions:
        with client.get(f"/documents/{doc_id}/versions/{number}/download") as resp:
            assert resp.status_code == 200
            assert resp.data == before["bytes"][sha]


def test_backup_refuses_an_existing_non_empty_dest(source, tmp_path):
    dest = tmp_path / "taken"
    dest.mkdir()
    (dest / "notes.txt").write_text("mine")
    result = source.test_cli_runner().invoke(args=["backup", str(dest)])
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and "not an empty folder" in result.output
    assert sorted(p.name for p in dest.iterdir()) == ["notes.txt"]


def test_backup_into_an_existing_empty_dir(source, tmp_path):
    dest = tmp_path / "empty"
    dest.mkdir()
    result = source.test_cli_runner().invoke(args=["backup", str(dest)])
    assert result.exit_code == 0, result.output
    assert (dest / "manifest.json").is_file()


def test_backup_lists_a_blob_missing_from_the_store(source, tmp_path):
    with source.app_context():
        sha = db.session.scalars(select(DocumentVersion.sha256).order_by(DocumentVersion.id)).first()
        get_store().path_for(sha).unlink()
    dest = tmp_path / "backup"
    result = source.test_cli_runner().invoke(args=["backup", str(dest)])
    assert result.exit_code == 1
    assert f"ERROR: object {sha} not backed up: missing from the store" in result.stdout
    manifest = json.loads((dest / "manifest.json").read_text())
    assert [m["sha256"] for m in manifest["missing_objects"]] == [sha]
    assert len(manifest["objects"]) == 2


def snapshot_of_target(app: Flask) -> tuple[Any, ...]:
    """Everything a refused restore must leave untouched."""
    data_dir = Path(app.config["DATA_DIR"])
    files = sorted((str(p.relative_to(data_dir)), sha_of(p)) for p in data_dir.rglob("*")
                   if p.is_file() and not p.name.endswith(("-wal", "-shm")))
    with app.app_context():
        counts = tuple(db.session.scalar(select(func.count()).select_from(m)) for m in (User, Document,
                                                                                          DocumentVersion))
        head = audit.head()
        db.session.remove()
    return files, counts, head


def test_restore_refuses_a_data_dir_that_holds_data(source, tmp_path):
    dest = tmp_path / "backup"
    assert source.test_cli_runner().invoke(args=["backup", str(dest)]).exit_code == 0
    before = snapshot_of_target(source)
    result = source.test_cli_runner().invoke(args=["restore", str(dest)])
    assert result.exit_code == 1
    assert result.output.count("\n") == 1
    assert "already holds" in result.output and "nothing was changed" in result.output
    assert snapshot_of_target(source) == before


def test_restore_refuses_a_data_dir_with_stored_objects(backend, source, make_app, tmp_path):
    dest = tmp_path / "backup"
    assert source.test_cli_runner().invoke(args=["backup", str(dest)]).exit_code == 0
    if backend == "postgresql":
        with source.app_context():
            db.session.remove()
            db.engine.dispose()
        drop_pg_schema(make_app.schema)
    target = make_app("target")
    with target.app_context():
        stray = get_store().put_path(Path(__file__)).sha256
    result = target.test_cli_runner().invoke(args=["restore", str(dest)])
    assert result.exit_code == 1
    assert "already holds stored objects" in result.output
    data_dir = Path(target.config["DATA_DIR"])
    assert [p.name for p in data_dir.rglob("*") if p.is_file()] == [stray]


def test_restore_refuses_a_damaged_backup_and_writes_nothing(backend, source, make_app, tmp_path):
    dest = tmp_path / "backup"
    assert source.test_cli_runner().invoke(args=["backup", str(dest)]).exit_code == 0
    manifest = json.loads((dest / "manifest.json").read_text())
    sha = manifest["objects"][0]["sha256"]
    damaged = dest / "objects" / sha[:2] / sha[2:4] / sha
    data = bytearray(damaged.read_bytes())
    data[0] ^= 0xFF
    damaged.unlink()  # a new file: the backup may share the inode with the live store through a hard link
    damaged.write_bytes(bytes(data))
    if backend == "postgresql":
        with source.app_context():
            db.session.remove()
            db.engine.dispose()
        drop_pg_schema(make_app.schema)
    target = make_app("target")
    result = target.test_cli_runner().invoke(args=["restore", str(dest)])
    assert result.exit_code == 1
    assert f"ERROR: object {sha} does not match its hash or size (altered)" in result.stderr
    assert "nothing was restored" in result.stderr
    data_dir = Path(target.config["DATA_DIR"])
    assert not [p for p in data_dir.rglob("*") if p.is_file()]
    if backend == "postgresql":
        engine = create_engine(PG_URL)
        with engine.connect() as conn:
            tables = conn.execute(text("SELECT count(*) FROM information_schema.tables WHERE table_schema = :s"),
                                  {"s": make_app.schema}).scalar()
        engine.dispose()
        assert tables == 0


def test_restore_refuses_a_backup_from_a_newer_migration(source, make_app, tmp_path):
    dest = tmp_path / "backup"
    assert source.test_cli_runner().invoke(args=["backup", str(dest)]).exit_code == 0
    manifest = json.loads((dest / "manifest.json").read_text())
    manifest["schema_revision"] = "9999_from_the_future"
    (dest / "manifest.json").write_text(json.dumps(manifest))
    target = make_app("target")
    result = target.test_cli_runner().invoke(args=["restore", str(dest)])
    assert result.exit_code == 1
    assert "migration 9999_from_the_future" in result.output and "upgrade auditdocs first" in result.output


def test_restore_refuses_a_database_that_holds_data(backend, source, make_app, tmp_path):
    dest = tmp_path / "backup"
    assert source.test_cli_runner().invoke(args=["backup", str(dest)]).exit_code == 0
    target = make_app("target")  # an empty data dir, but a database with users and documents
    if backend == "sqlite":
        shutil.copy(dest / "auditdocs.sqlite3", Path(target.config["DATA_DIR"]) / "auditdocs.sqlite3")
        snapshot_of_target(target)  # the app's first connection switches the copy to WAL: a change of its own
    before = snapshot_of_target(target)
    assert before[1] == (2, 2, 3)
    result = target.test_cli_runner().invoke(args=["restore", str(dest)])
    assert result.exit_code == 1
    assert result.output.count("\n") == 1
    assert "already holds data (users, documents, document_versions, audit_events)" in result.output
    assert snapshot_of_target(target) == before
    assert not list(Path(target.config["DATA_DIR"]).rglob("objects/*/*/*"))


def test_restore_keeps_a_secret_key_from_the_environment(backend, source, make_app, tmp_path, monkeypatch):
    dest = tmp_path / "backup"
    assert source.test_cli_runner().invoke(args=["backup", str(dest)]).exit_code == 0
    if backend == "postgresql":
        with source.app_context():
            db.session.remove()
            db.engine.dispose()
        drop_pg_schema(make_app.schema)
    target = make_app("target")
    monkeypatch.setenv("AUDITDOCS_SECRET_KEY", "s" * 64)
    result = target.test_cli_runner().invoke(args=["restore", str(dest)])
    assert result.exit_code == 0, result.output
    assert "AUDITDOCS_SECRET_KEY is set" in result.stdout
    assert not (Path(target.config["DATA_DIR"]) / "secret_key").exists()
