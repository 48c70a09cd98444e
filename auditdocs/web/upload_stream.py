"""Streaming uploads: the multipart parser writes file parts straight into the blob store's temp area.

Flask-WTF's CSRF check parses the whole body before the view runs; with this request class that parse
hashes and counts the file while writing it once to disk, so memory stays flat and nothing is copied twice.
"""

from __future__ import annotations

from typing import IO

from flask import Flask, current_app, g
from flask import Request as FlaskRequest
from flask.typing import ResponseReturnValue
from werkzeug.datastructures import FileStorage

from ..services.uploads import Incoming, get_store
from ..storage import BlobStore, BlobWriter, UploadTooLarge
from .errors import render_error

STREAMING_ENDPOINTS: set[str] = set()


def streaming_upload(endpoint: str) -> None:
    """Declare an endpoint whose file parts stream into the blob store."""
    STREAMING_ENDPOINTS.add(endpoint)


class AuditdocsRequest(FlaskRequest):
    """Request whose uploaded files are BlobWriters on streaming endpoints."""

    def _get_file_stream(self, total_content_length: int | None, content_type: str | None,
                         filename: str | None = None, content_length: int | None = None) -> IO[bytes]:
        if self.endpoint in STREAMING_ENDPOINTS:
            writer = get_store().writer(current_app.config["MAX_UPLOAD_BYTES"])
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
    store.sweep_temp()  # older than a day and not locked by a worker still writing

    @app.teardown_request
    def _discard_unused(_exc: BaseException | None) -> None:
        for writer in g.pop("blob_writers", []):
            writer.discard()  # no-op once committed

    @app.errorhandler(UploadTooLarge)
    def _too_large(_e: UploadTooLarge) -> ResponseReturnValue:
        return render_error(413)
