"""Uploads on the document endpoints stream into the blob store's temp area while being hashed."""

from __future__ import annotations

import hashlib
import io

from auditdocs.storage import BlobWriter


def _multipart_request(app, path: str, payload: bytes):  # type: ignore[no-untyped-def]
    return app.test_request_context(path, method="POST", content_type="multipart/form-data",
                                    data={"title": "x", "file": (io.BytesIO(payload), "evidencia.pdf")})


def test_document_upload_parts_are_hashed_while_parsed_into_the_store(app):
    # 384 KiB: written to disk by the store even though Werkzeug would keep it in memory (its threshold is 500 KiB).
    payload = b"%PDF-1.4\n" + bytes(range(256)) * 1536
    with _multipart_request(app, "/documents/new", payload) as ctx:
        stream = ctx.request.files["file"].stream
        assert isinstance(stream, BlobWriter)
        assert stream.sha256 == hashlib.sha256(payload).hexdigest() and stream.size == len(payload)
        temp = stream.path
        assert temp.parent == app.config["OBJECTS_DIR"] / "tmp" and temp.stat().st_size == len(payload)
    assert not temp.exists(), "an upload nobody committed is removed at the end of the request"


def test_other_forms_keep_werkzeug_spooling(app):
    with _multipart_request(app, "/login", b"%PDF-1.4\nnot for the store\n") as ctx:
        assert not isinstance(ctx.request.files["file"].stream, BlobWriter)
