"""Restore from a backup into an empty data dir: check every hash first, write only when all is well, then verify.

Why: a backup is only worth what a restore from it proves; nothing is written until the manifest, every object
and the database copy have been checked.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alembic.script import ScriptDirectory
from flask import current_app
from sqlalchemy import inspect, text

from ..extensions import db
from ..search import indexing
from ..storage import hash_file
from .backup import (
    DATA_TABLES,
    DB_FILES,
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    OBJECTS,
    SECRET_FILE,
    BackupError,
    _fsync,
    _libpq,
    _run,
    _tool,
    _write_private,
    pg_schema,
    sqlite_path,
)
from .integrity import Progress, no_progress
from .uploads import get_store


def read_manifest(src: Path) -> dict[str, Any]:
    """Load and sanity-check a backup's manifest against this app (backend, schema, migration)."""
    path = src / MANIFEST
    if not path.is_file():
        raise BackupError(f"{src} is not an auditdocs backup (no {MANIFEST})")
    try:
        manifest = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise BackupError(f"{path} cannot be read: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT \
            or manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(f"{path} is not a backup format this version of auditdocs reads")
    if not isinstance(manifest.get("database"), dict) or not isinstance(manifest.get("objects"), list) \
            or not all(isinstance(o, dict) for o in manifest["objects"]):
        raise BackupError(f"{path} is malformed")
    backend = db.engine.dialect.name
    if manifest.get("backend") != backend or manifest.get("database", {}).get("file") != DB_FILES.get(backend):
        raise BackupError(f"this backup holds a {manifest.get('backend')} database but the app uses {backend}")
    if backend != "sqlite" and manifest.get("schema") != pg_schema():
        raise BackupError(f"this backup holds schema {manifest.get('schema') or 'public'} but the app uses "
                          f"{pg_schema() or 'public'}: point the app's search_path at the backup's schema")
    revision = manifest.get("schema_revision")
    if revision:
        try:
            ScriptDirectory.from_config(current_app.extensions["migrate"].migrate.get_config()).get_revision(revision)
        except Exception:
            raise BackupError(f"the backup is at migration {revision}, unknown to this version of auditdocs: "
                              "upgrade auditdocs first") from None
    return manifest


def target_not_empty() -> str | None:
    """Why the data dir or database is not a fit restore target (None when it is empty)."""
    data_dir = Path(current_app.config["DATA_DIR"])
    if next(get_store().iter_hashes(), None):
        return f"the data dir {data_dir} already holds stored objects"
    if db.engine.dialect.name == "sqlite" and not sqlite_path().exists():
        return None
    with db.engine.connect() as conn:
        names = set(inspect(conn).get_table_names())
        busy = [t for t in DATA_TABLES if t in names and conn.execute(text(f"SELECT 1 FROM {t} LIMIT 1")).first()]  # noqa: S608
    if busy:
        return f"the database {db.engine.url.render_as_string()} already holds data ({', '.join(busy)})"
    return None


def check_backup(src: Path, manifest: dict[str, Any], progress: Progress = no_progress) -> list[str]:
    """Every problem that would make a restore incomplete; the backup is read, nothing is written."""
    problems: list[str] = []
    entry = manifest["database"]
    try:
        if hash_file(src / entry["file"]) != (entry["sha256"], entry["size"]):
            problems.append(f"database copy {entry['file']} does not match the manifest (altered)")
    except FileNotFoundError:
        problems.append(f"database copy {entry['file']} is missing")
    store = get_store()
    with progress("Checking backup objects", len(manifest["objects"])) as advance:
        for obj in manifest["objects"]:
            sha = str(obj.get("sha256"))
            try:
                store.path_for(sha)  # refuses anything that is not a hash: no path tricks from a manifest
                if hash_file(src / OBJECTS / sha[:2] / sha[2:4] / sha) != (sha, obj.get("size")):
                    problems.append(f"object {sha} does not match its hash or size (altered)")
            except FileNotFoundError:
                problems.append(f"object {sha} is missing from the backup")
            except ValueError:
                problems.append(f"the manifest lists {sha!r}, which is not an object name")
            advance(1)
    return problems


@dataclass
class Restored:
    """What restore wrote."""

    objects: int = 0
    bytes: int = 0
    notes: list[str] = field(default_factory=list)


def restore(src: Path, manifest: dict[str, Any], progress: Progress = no_progress) -> Restored:
    """Copy objects, then the database, then the key; undo the objects if the database step fails."""
    store, result, written = get_store(), Restored(), []
    try:
        with progress("Restoring objects", len(manifest["objects"])) as advance:
            for obj in manifest["objects"]:
                sha = obj["sha256"]
                blob = store.put_path(src / OBJECTS / sha[:2] / sha[2:4] / sha)
                if blob.created:
                    written.append(store.path_for(sha))
                if blob.sha256 != sha:
                    raise BackupError(f"object {sha} changed while it was being restored")
                result.objects, result.bytes = result.objects + 1, result.bytes + blob.size
                advance(1)
        _restore_database(src / manifest["database"]["file"])
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    for gone in manifest.get("missing_objects", []):
        result.notes.append(f"WARNING: object {gone['sha256']} was not in the backup ({gone['reason']})")
    key = Path(current_app.config["DATA_DIR"]) / SECRET_FILE
    if os.environ.get("AUDITDOCS_SECRET_KEY"):
        result.notes.append("Secret key: AUDITDOCS_SECRET_KEY is set, the backup's key was not restored.")
    elif (src / SECRET_FILE).is_file():
        _write_private(key, (src / SECRET_FILE).read_bytes())
        result.notes.append(f"Secret key restored to {key} (restart the app to use it).")
    return result


def _restore_database(dump: Path) -> None:
    """Put the database copy in place: replace the (empty) SQLite file, or pg_restore into the empty schema."""
    db.session.remove()
    if db.engine.dialect.name == "sqlite":
        target = sqlite_path()
        db.engine.dispose()  # no pooled connection may keep the old file open
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".restoring")
        shutil.copyfile(dump, tmp)
        _fsync(tmp)
        for suffix in ("-wal", "-shm"):  # a journal of the old empty file must never be replayed into the new one
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        os.replace(tmp, target)
        _fsync(target.parent)
        return
    url, env = _libpq()
    schema = pg_schema()
    if schema:  # pg_restore --schema restores the objects in a schema, not the schema itself
        with db.engine.begin() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
    cmd = [_tool("pg_restore"), "--no-owner", "--no-privileges", "--single-transaction", "--clean", "--if-exists",
           f"--dbname={url}", *([f"--schema={schema}"] if schema else []), str(dump)]
    _run(cmd, env)
    db.engine.dispose()


def rebuild_derived() -> list[str]:
    """Rebuild what a backup leaves out because it can be derived: the search index, from the restored rows."""
    return [f"search index ({indexing.rebuild()} documents)"]
