"""Upload intake: stream a file into the store's temp area, validate its name and content, commit it last.

Why: a refused file must leave no row and no object behind, and the slow part (hashing, fsync) must happen
before any database lock is taken.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l

from ..storage import BlobStore, BlobWriter, EmptyUpload, UploadTooLarge
from ..uploads import DEFAULT_ALLOWED, UploadRejected, check_name, sniff
from . import ServiceError


def get_store() -> BlobStore:
    """The app's blob store (one per data dir)."""
    return current_app.extensions["auditdocs.store"]


def allowed_extensions() -> tuple[str, ...]:
    """The configured allow-list, or the default one."""
    return current_app.config.get("ALLOWED_EXTENSIONS") or DEFAULT_ALLOWED


@dataclass
class Incoming:
    """An uploaded file already streamed into the store's temp area, not yet committed."""

    filename: str | None
    writer: BlobWriter

    @classmethod
    def from_path(cls, path: object, filename: str | None = None) -> Incoming:
        """Stream a local file into a writer (imports, demo data, tests)."""

        path = Path(str(path))
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
    """Validate name and content without storing; a refusal leaves no file behind.

    The web views store the blob with `store` at the end of the transaction that adds its rows, so a refusal
    in between (a withdrawn document, a duplicate code) leaves no orphan object either.
    """
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


def store(checked: Checked) -> Checked:
    """Commit a checked upload's bytes into the store (fsync, rename; identical bytes are kept once)."""
    writer = checked.writer
    if writer is None:
        return checked
    try:
        writer.commit()
    except EmptyUpload:
        raise ServiceError(_l("The file is empty."), 400) from None
    except BaseException:
        writer.discard()
        raise
    return checked


def discard(checked: Checked | None) -> None:
    """Drop a checked upload that will not be used (no-op once stored)."""
    if checked is not None and checked.writer is not None:
        checked.writer.discard()


def check_and_store(incoming: Incoming) -> Checked:
    """Validate name and content, then commit the blob; a refusal leaves no file behind."""
    return store(check_upload(incoming))
