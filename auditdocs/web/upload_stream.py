"""Streaming uploads: the multipart parser writes file parts straight into the blob store's temp area.

Flask-WTF's CSRF check parses the whole body before the view runs; with this request class that parse
hashes and counts the file while writing it once to disk, so memory stays flat and nothing is copied twice.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import IO, TypeVar

from flask import Flask, current_app, g
from flask import Request as FlaskRequest
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import BadRequest
from werkzeug.formparser import FormDataParser

from ..db import write_transaction
from ..services import ServiceError, uploads
from ..services.uploads import Checked, Incoming, get_store, unsaved_folder
from ..storage import BlobStore, BlobWriter, UploadTooLarge
from .errors import render_error
from .forms import form_refused, report

STREAMING_ENDPOINTS: set[str] = set()
# Endpoints that take many files in one form: a file past the size limit is refused alone (the others are kept),
# and the body may hold up to MANY_FILES_FACTOR files of the largest size.
MANY_FILE_ENDPOINTS: set[str] = set()
MANY_FILES_FACTOR = 10

T = TypeVar("T")


def streaming_upload(endpoint: str, *, each_file_alone: bool = False) -> None:
    """Declare an endpoint whose file parts stream into the blob store (each judged alone: see MANY_FILE_ENDPOINTS)."""
    STREAMING_ENDPOINTS.add(endpoint)
    if each_file_alone:
        MANY_FILE_ENDPOINTS.add(endpoint)


def many_files_limit_mb() -> int:
    """How much one form of a many-file endpoint may carry in all, in MB (for the page to say)."""
    return int(current_app.config["MAX_UPLOAD_MB"]) * MANY_FILES_FACTOR


class SizeLimitedPart(BlobWriter):
    """A file part that stops being stored at the size limit and lets the rest of the body pass unread into nothing,
    so the form's other files are still parsed; the view refuses it as too large."""

    too_large = False

    def write(self, data: bytes) -> int:
        if self.too_large:
            return len(data)
        try:
            return super().write(data)
        except UploadTooLarge:  # the writer has discarded its temp file
            self.too_large = True
            return len(data)

    def seek(self, offset: int, whence: int = 0) -> int:
        return 0 if self.too_large else super().seek(offset, whence)


def too_large(file: FileStorage) -> bool:
    """This part went past the size limit (on a many-file endpoint) and holds nothing."""
    return isinstance(file.stream, SizeLimitedPart) and file.stream.too_large


class UndecodableForm(BadRequest):
    """A form whose part headers are not UTF-8: most often a file name saved in another encoding."""


class MalformedForm(BadRequest):
    """A form body that is not valid multipart at all."""


class AuditdocsRequest(FlaskRequest):
    """Request whose uploaded files are BlobWriters on streaming endpoints, and whose broken forms say so (Werkzeug
    would silently drop the whole form, which then reads as an expired CSRF token)."""

    def make_form_data_parser(self) -> FormDataParser:
        parser = super().make_form_data_parser()
        parser.silent = False
        return parser

    def _load_form_data(self) -> None:
        try:
            super()._load_form_data()
        except UnicodeDecodeError:
            raise UndecodableForm() from None
        except ValueError:
            raise MalformedForm() from None

    @property
    def max_content_length(self) -> int | None:
        limit = super().max_content_length
        if limit is not None and self.endpoint in MANY_FILE_ENDPOINTS:
            return limit + int(current_app.config["MAX_UPLOAD_BYTES"]) * (MANY_FILES_FACTOR - 1)
        return limit

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value

    def _get_file_stream(self, total_content_length: int | None, content_type: str | None,
                         filename: str | None = None, content_length: int | None = None) -> IO[bytes]:
        if self.endpoint in STREAMING_ENDPOINTS:
            limit = current_app.config["MAX_UPLOAD_BYTES"]
            writer = (SizeLimitedPart(get_store(), limit) if self.endpoint in MANY_FILE_ENDPOINTS
                      else get_store().writer(limit))
            g.setdefault("blob_writers", []).append(writer)
            return writer  # type: ignore[return-value]  # file-like enough for Werkzeug's parser
        return super()._get_file_stream(total_content_length, content_type, filename, content_length)


def incoming(file: FileStorage) -> Incoming:
    """Wrap an uploaded file as an Incoming, copying only if it did not stream into the store."""
    if isinstance(file.stream, BlobWriter):
        return Incoming(file.filename, file.stream)
    writer = get_store().writer(current_app.config["MAX_UPLOAD_BYTES"])
    try:
        while chunk := file.stream.read(1024 * 1024):
            writer.write(chunk)
    except BaseException:
        writer.discard()
        raise
    return Incoming(file.filename, writer)


def init_uploads(app: Flask, store: BlobStore) -> None:
    """Install the request class, the store, the stale-temp sweep and the cleanup of abandoned parts."""
    app.request_class = AuditdocsRequest
    app.extensions["auditdocs.store"] = store
    store.sweep_temp()  # leftovers of interrupted uploads: no writer holds their lock any more
    unsaved_folder(app.config["DATA_DIR"]).mkdir(parents=True, exist_ok=True)

    @app.teardown_request
    def _discard_unused(_exc: BaseException | None) -> None:
        for writer in g.pop("blob_writers", []):
            writer.discard()  # no-op once committed

    @app.errorhandler(UploadTooLarge)
    def _too_large(_e: UploadTooLarge) -> ResponseReturnValue:
        return render_error(413)

    @app.errorhandler(UndecodableForm)
    def _undecodable(_e: UndecodableForm) -> ResponseReturnValue:
        return render_error(400, _("The name of the file you chose is not valid text (UTF-8), so it cannot be "
                                   "read. Rename the file, for example without special characters, and upload it "
                                   "again. Nothing was saved."))

    @app.errorhandler(MalformedForm)
    def _malformed(_e: MalformedForm) -> ResponseReturnValue:
        return render_error(400, _("The form arrived incomplete or damaged, so nothing was saved. Reload the page "
                                   "and try again."))


def save_with_evidence(form: FlaskForm, write: Callable[[Checked | None], T]) -> T | int:
    """Run a record form's `write` in one transaction with its optional evidence file (`form.evidence`): the file is
    checked first (its error at the field), stored, and the row and its attachment commit together or not at all.
    Returns what `write` returned, or the status of the refusal (already reported on the page)."""
    file = form.evidence.data
    try:
        if not isinstance(file, FileStorage) or not file.filename:
            with write_transaction():
                return write(None)
        try:
            checked = uploads.check_upload(incoming(file))
        except ServiceError as exc:
            form.evidence.errors = [*form.evidence.errors, str(exc.message)]
            return form_refused() if exc.status == 400 else exc.status
        return uploads.ingest_checked(checked, write)
    except ServiceError as exc:
        return report(exc, form)
