"""A corrupt blob is never served as good evidence; good downloads carry Content-Length, resume by range and get a
readable ASCII fallback name."""

from __future__ import annotations

import hashlib
import http.client
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from sqlalchemy import select
from support import audit_events, new_document, pdf, serve

from auditdocs.extensions import db
from auditdocs.models.blobhealth import BlobFailure
from auditdocs.services.uploads import get_store
from auditdocs.web.blobs import IntegrityCut, ascii_fallback


def _blob(app: Flask, content: bytes) -> Path:
    with app.app_context():
        return get_store().path_for(hashlib.sha256(content).hexdigest())


def _corrupt(path: Path) -> bytes:
    """Flip one byte in the stored object (as a failing disk or a hand would); returns the good bytes."""
    good = path.read_bytes()
    path.chmod(0o644)
    path.write_bytes(good[:10] + bytes([good[10] ^ 0xFF]) + good[11:])
    return good


def _restore(path: Path, good: bytes) -> None:
    path.write_bytes(good)


def _failure(app: Flask, sha: str) -> BlobFailure | None:
    with app.app_context():
        row = db.session.scalar(select(BlobFailure).where(BlobFailure.sha256 == sha))
        db.session.expunge_all()
        return row


@pytest.fixture
def document(app: Flask, client: Any, login_as: Any) -> dict[str, Any]:
    rosa = login_as("quality_officer")
    content = pdf("acta de revisión", padding=200 * 1024)
    doc_id = new_document(client, rosa.id, filename="Acta.pdf", content=content)
    return {"id": doc_id, "content": content, "sha": hashlib.sha256(content).hexdigest()}


def test_a_flipped_byte_is_refused_before_anything_is_sent_and_marked(app, client, document):
    path = _blob(app, document["content"])
    good = _corrupt(path)
    resp = client.get(f"/documents/{document['id']}/versions/1/download")
    body = resp.get_data()
    assert resp.status_code == 500
    assert document["content"][:200] not in body and good[:50] not in body
    assert b"failed its integrity check and was not sent" in body
    assert "X-Content-SHA256" not in resp.headers

    page = client.get(f"/documents/{document['id']}").get_data(as_text=True)
    assert 'data-testid="integrity-failed-1"' in page and 'data-testid="download-1"' not in page
    client.get(f"/documents/{document['id']}/versions/1/download")  # a second attempt: counted, not re-audited
    failure = _failure(app, document["sha"])
    assert failure is not None and failure.times_seen == 2 and failure.detected_by == "download"
    assert [e["object_id"] for e in audit_events(app, "store.integrity_failure", ("object_id",))] == [
        document["sha"]]


def test_verify_reports_and_marks_it_and_a_restore_clears_the_mark(app, client, runner, document):
    path = _blob(app, document["content"])
    good = _corrupt(path)
    result = runner.invoke(args=["verify"])
    assert result.exit_code == 1
    assert f"object {document['sha']} does not match its hash (altered)" in result.output
    assert _failure(app, document["sha"]).detected_by == "verify"
    assert 'data-testid="integrity-failed-1"' in client.get(f"/documents/{document['id']}").get_data(as_text=True)

    _restore(path, good)  # the administrator restores the object from a backup
    assert runner.invoke(args=["verify"]).exit_code == 0
    assert _failure(app, document["sha"]).cleared_at is not None
    assert 'integrity-failed-1' not in client.get(f"/documents/{document['id']}").get_data(as_text=True)
    with client.get(f"/documents/{document['id']}/versions/1/download") as resp:
        assert resp.status_code == 200 and resp.get_data() == good
    assert len(audit_events(app, "store.integrity_restored")) == 1


def test_a_large_corrupt_file_is_cut_short_of_its_length(app, client, login_as):
    """Streamed while hashed: the last chunk is held back, so a mismatch never completes as a download."""
    app.config["VERIFY_BEFORE_SEND_BYTES"] = 1024  # every file counts as large
    rosa = login_as("quality_officer")
    content = pdf("informe largo", padding=3 * 1024 * 1024)  # more than one chunk: bytes go out before the end
    doc_id = new_document(client, rosa.id, filename="Informe.pdf", content=content)
    _corrupt(_blob(app, content))
    resp = client.get(f"/documents/{doc_id}/versions/1/download", buffered=False)
    assert resp.status_code == 200  # the headers went out before the end was read...
    assert resp.headers["Content-Length"] == str(len(content))
    received = bytearray()
    with pytest.raises(IntegrityCut):  # ...and the body ends before Content-Length
        for chunk in resp.response:
            received += chunk
    resp.close()
    assert 0 < len(received) < len(content)
    assert _failure(app, hashlib.sha256(content).hexdigest()) is not None


def test_over_real_http_the_client_sees_an_incomplete_download(app, client, login_as):
    """Bigger than one chunk, so bytes are on the wire before the mismatch is known: the connection is cut."""
    app.config["VERIFY_BEFORE_SEND_BYTES"] = 1024
    rosa = login_as("quality_officer")
    content = pdf("informe largo", padding=3 * 1024 * 1024)
    document = {"id": new_document(client, rosa.id, filename="Informe.pdf", content=content)}
    _corrupt(_blob(app, content))
    cookie = client.get_cookie("session")
    with serve(app) as port:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", f"/documents/{document['id']}/versions/1/download",
                     headers={"Cookie": f"session={cookie.value}"})
        response = conn.getresponse()
        with pytest.raises(http.client.IncompleteRead):
            response.read()
        conn.close()


def test_a_good_large_file_streams_complete_and_resumes_by_range(app, client, document):
    app.config["VERIFY_BEFORE_SEND_BYTES"] = 1024
    url = f"/documents/{document['id']}/versions/1/download"
    with client.get(url) as resp:
        assert resp.status_code == 200 and resp.get_data() == document["content"]
        assert resp.headers["Content-Length"] == str(len(document["content"]))
        assert resp.headers["Accept-Ranges"] == "bytes" and resp.headers["X-Content-SHA256"] == document["sha"]
    with client.get(url, headers={"Range": "bytes=1000-"}) as part:
        assert part.status_code == 206
        size = len(document["content"])
        assert part.headers["Content-Range"] == f"bytes 1000-{size - 1}/{size}"
        assert part.get_data() == document["content"][1000:]


def test_a_range_of_a_corrupt_file_is_refused(app, client, document):
    _corrupt(_blob(app, document["content"]))
    resp = client.get(f"/documents/{document['id']}/versions/1/download", headers={"Range": "bytes=0-99"})
    assert resp.status_code == 500


@pytest.mark.parametrize(("name", "fallback"), [
    ("文件.pdf", "documento.pdf"),
    ("Informe de auditoría ñ.pdf", "Informe de auditoria n.pdf"),
    ("Acta: final; v2 * ¿ok?.pdf", "Acta_ final_ v2 _ ok_.pdf"),
])
def test_a_name_without_ascii_gets_a_readable_fallback(app, client, login_as, name, fallback):
    rosa = login_as("quality_officer")
    client.post_form("/lang", {"lang": "es"}, page="/")
    doc_id = new_document(client, rosa.id, filename=name, content=pdf(name))
    with client.get(f"/documents/{doc_id}/versions/1/download") as resp:
        assert resp.get_data() == pdf(name)
        disposition = resp.headers["Content-Disposition"]
    assert disposition.startswith(f'attachment; filename="{fallback}"; ')
    assert f"filename*=UTF-8''{quote(name, safe='')}" in disposition


def test_the_fallback_of_a_name_with_nothing_readable_is_the_word_document(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert ascii_fallback("报告") == "document"
        assert ascii_fallback("报告.xlsx") == "document.xlsx"


def test_a_remembered_check_never_covers_bytes_changed_since(app, client, document):
    """Resumed downloads reuse a recent full check of the same bytes; a change to the file voids it."""
    url = f"/documents/{document['id']}/versions/1/download"
    with client.get(url, headers={"Range": "bytes=0-99"}) as first:
        assert first.status_code == 206 and first.get_data() == document["content"][:100]
    _corrupt(_blob(app, document["content"]))
    assert client.get(url, headers={"Range": "bytes=100-199"}).status_code == 500


def test_a_download_refused_for_damage_leaves_no_access_receipt(app, client, document):
    _corrupt(_blob(app, document["content"]))
    before = len(audit_events(app, "version.download"))
    assert client.get(f"/documents/{document['id']}/versions/1/download").status_code == 500
    assert len(audit_events(app, "version.download")) == before
