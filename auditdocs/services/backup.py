"""Online backup and restore: the database copy first, then the blobs that copy references, the key and a manifest.

Why: evidence must survive the loss of the server (ISO 9001/37001 7.5.3), and a backup is only worth what a
restore from it proves — so the manifest carries every hash a restore checks before it writes anything.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import current_app

from ..extensions import db
from ..models.blobrefs import registered
from ..storage import hash_file
from ..timeutil import utc_text, utcnow
from .audit import GENESIS
from .integrity import Progress, no_progress
from .uploads import get_store

FORMAT, FORMAT_VERSION = "auditdocs-backup", 1
MANIFEST, OBJECTS, SECRET_FILE = "manifest.json", "objects", "secret_key"
DB_FILES = {"sqlite": "auditdocs.sqlite3", "postgresql": "database.pgdump"}
DATA_TABLES = ("users", "documents", "document_versions", "attachments", "record_revisions", "audit_events")
Query = Callable[[str], list[Any]]


class BackupError(Exception):
    """A refusal or failure that one line explains."""


def _fsync(path: Path) -> None:
    """Flush a file or directory to disk so a backup survives a power cut."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_private(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Write a file atomically with the given mode (the secret key is 0600 from its first byte)."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def sqlite_path() -> Path:
    """The SQLite database file the app uses."""
    database = db.engine.url.database
    if not database or database == ":memory:":
        raise BackupError("the app's SQLite database is not a file")
    return Path(database)


def pg_schema() -> str | None:
    """The schema named by the connection's search_path (one per test run), or None for the server default."""
    connect_args = (current_app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {}).get("connect_args") or {}
    options = f"{connect_args.get('options', '')} {db.engine.url.query.get('options', '')}"
    match = re.search(r"-c\s*search_path\s*=\s*([^\s,]+)", options)
    return match.group(1).strip('"') if match else None


def _libpq() -> tuple[str, dict[str, str]]:
    """A libpq URL for pg_dump/pg_restore (no "+psycopg", password in the environment, not the command line)."""
    url, env = db.engine.url.set(drivername="postgresql"), dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
        url = url.set(password=None)
    return url.render_as_string(hide_password=False), env


def _tool(name: str, server_major: int | None = None) -> str:
    """Find a PostgreSQL client tool, refusing one older than the server (it cannot read newer catalogues)."""
    path = shutil.which(name)
    if not path:
        raise BackupError(f"{name} not found: install the PostgreSQL client tools")
    if server_major is not None:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, check=False).stdout
        match = re.search(r"(\d+)", out)
        if not match or int(match.group(1)) < server_major:
            raise BackupError(f"{name} is version {match.group(1) if match else '?'} but the server is "
                              f"PostgreSQL {server_major}: install client tools of version {server_major} or later")
    return path


def _run(cmd: list[str], env: dict[str, str]) -> None:
    """Run a client tool; its last error line becomes ours."""
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode:
        lines = [ln for ln in proc.stderr.splitlines() if ln.strip()] or [f"exit code {proc.returncode}"]
        raise BackupError(f"{Path(cmd[0]).name} failed: {lines[-1].strip()}")


@dataclass
class Snapshot:
    """What the database copy holds: the objects it references, its chain head, counts, migration."""

    objects: list[str]
    head: tuple[int, str]
    counts: dict[str, int]
    revision: str | None


def _read_snapshot(query: Query) -> Snapshot:
    """Read the referenced hashes and the chain head from the copy (or the dump's own snapshot)."""
    objects = sorted({str(r[0]) for ref in registered() for r in query(ref.distinct_sql())})
    head = query("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1")
    counts = {t: int(query(f"SELECT COUNT(*) FROM {t}")[0][0]) for t in DATA_TABLES}  # noqa: S608 - fixed names
    revision = query("SELECT version_num FROM alembic_version")
    return Snapshot(objects, (int(head[0][0]), str(head[0][1])) if head else (0, GENESIS), counts,
                    str(revision[0][0]) if revision else None)


def _copy_sqlite(dest_file: Path) -> Snapshot:
    """Copy the live database with the SQLite backup API from a new connection (readers never block writers)."""
    source = sqlite_path()
    if not source.is_file():
        raise BackupError(f"database file {source} not found")
    src = sqlite3.connect(source, timeout=30)
    try:
        dst = sqlite3.connect(dest_file)
        try:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
            if dst.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise BackupError("the database copy fails SQLite's quick_check")
            snapshot = _read_snapshot(lambda sql: dst.execute(sql).fetchall())
        finally:
            dst.close()
    finally:
        src.close()
    return snapshot


def _dump_postgres(dest_file: Path) -> Snapshot:
    """pg_dump from an exported snapshot, and read the referenced hashes from that same snapshot."""
    url, env = _libpq()
    schema = pg_schema()
    with db.engine.connect() as conn:
        conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            server_major = int(conn.exec_driver_sql("SHOW server_version_num").scalar_one()) // 10000
            pg_dump = _tool("pg_dump", server_major)
            snapshot_id = conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
            cmd = [pg_dump, "--format=custom", "--no-owner", f"--snapshot={snapshot_id}", f"--file={dest_file}"]
            _run([*cmd, *([f"--schema={schema}"] if schema else []), f"--dbname={url}"], env)
            return _read_snapshot(lambda sql: list(conn.exec_driver_sql(sql).fetchall()))


def _place(src: Path, dst: Path) -> None:
    """Copy, never hard-link: a backup must not share an inode with the live store it protects."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src, dst)


def prepare_dest(dest: Path) -> bool:
    """Refuse an existing non-empty DEST; create it; True when we created it."""
    if dest.exists():
        if not dest.is_dir() or any(dest.iterdir()):
            raise BackupError(f"{dest} already exists and is not an empty folder: give a new folder")
        return False
    dest.mkdir(parents=True)
    return True


def backup(dest: Path, progress: Progress = no_progress) -> dict[str, Any]:
    """Write a complete backup into DEST (database first, then blobs) and return its manifest."""
    created = prepare_dest(dest)
    try:
        return _backup_into(dest, progress)
    except BaseException:
        for child in list(dest.iterdir()):  # leave no half backup that looks like a whole one
            if child.is_dir():
                shutil.rmtree(child)
            else:
                child.unlink()
        if created:
            dest.rmdir()
        raise


def _backup_into(dest: Path, progress: Progress) -> dict[str, Any]:
    """The steps of a backup, in the order that keeps it consistent."""
    backend, started = db.engine.dialect.name, utcnow()
    db_file = dest / DB_FILES[backend]
    snap = _copy_sqlite(db_file) if backend == "sqlite" else _dump_postgres(db_file)
    _fsync(db_file)
    db_sha, db_size = hash_file(db_file)
    store = get_store()
    objects: list[dict[str, Any]] = []
    missing: list[dict[str, str]] = []
    with progress("Copying objects", len(snap.objects)) as advance:
        for sha in snap.objects:
            src, dst = store.path_for(sha), dest / OBJECTS / sha[:2] / sha[2:4] / sha
            if not src.is_file():
                missing.append({"sha256": sha, "reason": "missing from the store"})
            else:
                _place(src, dst)
                actual, size = hash_file(dst)
                if actual == sha:
                    objects.append({"sha256": sha, "size": size})
                else:  # a corrupt copy is worth nothing: leave it out and say so
                    dst.unlink()
                    missing.append({"sha256": sha, "reason": "altered in the store (hash mismatch)"})
            advance(1)
    key = Path(current_app.config["DATA_DIR"]) / SECRET_FILE
    if key.is_file():
        _write_private(dest / SECRET_FILE, key.read_bytes())
    manifest = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "created_at": utc_text(started),
        "app_version": app_version(), "backend": backend, "schema": pg_schema() if backend != "sqlite" else None,
        "schema_revision": snap.revision,
        "database": {"file": db_file.name, "sha256": db_sha, "size": db_size},
        "audit_head": {"seq": snap.head[0], "hash": snap.head[1]},
        "counts": {**snap.counts, "objects": len(objects), "object_bytes": sum(o["size"] for o in objects)},
        "secret_key": key.is_file(), "objects": objects, "missing_objects": missing,
    }
    os.sync()  # every copied object is on disk before the manifest says the backup is complete
    _write_private(dest / MANIFEST, json.dumps(manifest, indent=1, sort_keys=True).encode(), 0o644)
    _fsync(dest)
    return manifest


def app_version() -> str:
    """The installed auditdocs version, for the manifest."""
    try:
        return importlib.metadata.version("auditdocs")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - run from a plain checkout
        return "unknown"
