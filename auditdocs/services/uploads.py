"""The one way evidence enters: stream into the store's temp area, check, write the rows, store the blob last.

Why: a refused file must leave no row and no object behind, and the slow part (hashing, fsync) must happen
before any database lock is taken. Web uploads, `auditdocs import`, record attachments and the demo data all go
through `ingest()`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from flask import current_app
from flask_babel import lazy_gettext as _l

from ..db import advisory_lock, in_write_transaction, write_transaction
from ..extensions import db
from ..filecheck import DEFAULT_ALLOWED, UploadRejected, check_name, sniff
from ..models.blobrefs import registered
from ..storage import BlobStore, BlobWriter, EmptyUpload, StoredBlob, UploadTooLarge
from . import ServiceError

T = TypeVar("T")
logger = logging.getLogger(__name__)


def get_store() -> BlobStore:
    """The app's blob store (one per data dir)."""
    store: BlobStore = current_app.extensions["auditdocs.store"]
    return store


def allowed_extensions() -> tuple[str, ...]:
    """The configured allow-list, or the default one."""
    return current_app.config.get("ALLOWED_EXTENSIONS") or DEFAULT_ALLOWED


@dataclass
class Incoming:
    """An uploaded file already streamed into the store's temp area, not yet committed."""

    filename: str | None
    writer: BlobWriter

    @classmethod
    def from_path(cls, source: str | Path, filename: str | None = None) -> Incoming:
        """Stream a local file into a writer (demo data, tests)."""
        path = Path(source)
        writer = get_store().writer(current_app.config["MAX_UPLOAD_BYTES"])
        try:
            with path.open("rb") as fh:
                while chunk := fh.read(1024 * 1024):
                    writer.write(chunk)
        except BaseException:
            writer.discard()
            raise
        return cls(filename or path.name, writer)


@dataclass
class Checked:
    """A validated upload: display name, mime type, blob (stored, or still in the temp area until `store`)."""

    display_name: str
    mime_type: str
    sha256: str
    size: int
    writer: BlobWriter | None = field(default=None, repr=False, compare=False)


def check_upload(incoming: Incoming) -> Checked:
    """Validate name and content without storing, and fsync the bytes; a refusal leaves no file behind."""
    writer = incoming.writer
    try:
        name, ext = check_name(incoming.filename, allowed_extensions())
        if writer.size == 0:
            raise UploadRejected("empty", _l("The file “%(name)s” is empty."), name=name)
        writer.flush()
        mime = sniff(writer.path, ext, name=name)
        writer.sync()  # the slow part happens before any database lock is taken
    except UploadRejected as exc:
        writer.discard()
        raise ServiceError(exc.text(), 400) from None
    except UploadTooLarge:
        writer.discard()
        raise ServiceError(_l("The file is larger than the limit of %(mb)s MB. Nothing was saved.",
                              mb=current_app.config["MAX_UPLOAD_MB"]), 413) from None
    except BaseException:
        writer.discard()
        raise
    return Checked(name, mime, writer.sha256, writer.size, writer)


def _store(checked: Checked) -> StoredBlob | None:
    """Commit a checked upload's bytes into the store (fsync, rename; identical bytes are kept once)."""
    writer = checked.writer
    if writer is None:
        return None
    try:
        return writer.commit()
    except EmptyUpload:
        raise ServiceError(_l("The file is empty."), 400) from None
    except BaseException:
        writer.discard()
        raise


def ingest(incoming: Incoming, write: Callable[[Checked], T]) -> T:
    """Check the file (before any lock), write its rows in the write transaction, store the blob last, commit.

    `write` adds the rows that reference the blob (a version, an attachment) and returns what the caller needs.
    A refusal leaves no row and no object. Inside an outer write block this is a savepoint the outer block commits;
    if anything fails after the rename (a crash, the commit, a later step of the outer block) the object is at worst
    an orphan, which `verify` reports and `gc` quarantines: never a row without its file.
    """
    return ingest_checked(check_upload(incoming), write)


def ingest_checked(checked: Checked, write: Callable[[Checked], T]) -> T:
    """The writing half of `ingest`, for an upload `check_upload` already passed."""
    writer = checked.writer
    try:
        with write_transaction():
            result = write(checked)
            _lock_blob(checked.sha256)
            _store(checked)
    except BaseException:
        if writer is not None and writer.placed and not in_write_transaction():
            _withdraw_unsaved(checked.sha256, writer.stored_mtime_ns)
        raise
    finally:
        if writer is not None:
            writer.discard()  # a no-op once stored
    return result


def ingest_batch(items: Sequence[tuple[Checked, Callable[[Checked], T]]]) -> list[T | ServiceError]:
    """Write several checked uploads in one transaction, each in a savepoint of its own: a refused one loses only
    itself (its ServiceError takes its place in the list), and one commit serves them all (an import's batch).

    If the transaction fails as a whole (a full disk, a lock timeout), nothing of the batch is saved: the bytes
    already renamed into the store go to quarantine, as for a single upload."""
    results: list[T | ServiceError] = []
    placed: list[BlobWriter] = []
    try:
        with write_transaction():
            for checked, write in items:
                try:
                    results.append(ingest_checked(checked, write))
                except ServiceError as exc:
                    results.append(exc)
                if checked.writer is not None and checked.writer.placed:
                    placed.append(checked.writer)
    except BaseException:
        for writer in placed:
            _withdraw_unsaved(writer.sha256, writer.stored_mtime_ns)
        raise
    finally:
        for checked, _write in items:
            if checked.writer is not None:
                checked.writer.discard()
    return results


def unsaved_folder(data_dir: Path | None = None) -> Path:
    """Where the bytes of uploads whose commit failed go; created at start-up, as a full disk may refuse a mkdir."""
    return Path(data_dir or current_app.config["DATA_DIR"]) / "quarantine" / "unsaved-uploads"


def _withdraw_unsaved(sha256: str, stored_mtime_ns: int | None) -> None:
    """The commit failed after the bytes were renamed into the store: move them to quarantine at once, so "nothing
    was saved" is true. Done under the write lock (SQLite) or the blob's advisory lock (PostgreSQL), which every
    upload holds from storing its bytes to its commit: another upload of the same bytes has either committed (its
    row is seen, the bytes stay) or will store them again itself."""
    store = get_store()
    try:
        with write_transaction():
            _lock_blob(sha256)
            path = store.path_for(sha256)
            if path.stat().st_mtime_ns != stored_mtime_ns:
                return  # reused since: not ours alone any more
            if any(db.session.execute(ref.referencing(sha256)).first() for ref in registered()):
                return
            store.quarantine(sha256, unsaved_folder())
        logger.warning("upload of %s not saved (the commit failed): its bytes were moved to %s", sha256,
                       unsaved_folder())
    except Exception:
        logger.exception("upload of %s not saved and its bytes could not be moved aside; gc will", sha256)


_PG_BLOB_LOCK = 0x424C4F42  # "BLOB": namespace of the per-object advisory locks


def _lock_blob(sha256: str) -> None:
    """Serialise storing and withdrawing one object's bytes (SQLite writers already hold BEGIN IMMEDIATE)."""
    advisory_lock(_PG_BLOB_LOCK, sha256)
