"""Preview without download: PDF pages as capped, cached PNGs; images and text shown safely; everything else is a
download; permissions exactly as downloads; an auditor's preview is recorded."""

from __future__ import annotations

import html
import io
import re
import struct
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pytest
from flask import Flask
from support import audit_events, docx, new_document, pdf, seed_document, write

from auditdocs.extensions import db
from auditdocs.models import Document
from auditdocs.pdfpages import png
from auditdocs.services import preview as svc
from auditdocs.services.uploads import get_store

IMG = re.compile(r'<img[^>]+src="(/documents/\d+/versions/\d+/preview/page-(\d+)\.png)"')


def make_pdf(sizes: list[tuple[float, float]]) -> bytes:
    """A real PDF with blank pages of the given sizes (points), made by PDFium."""
    doc = pdfium.PdfDocument.new()
    for width, height in sizes:
        doc.new_page(width, height)
    buf = io.BytesIO()
    doc.save(buf)
    doc.close()
    return buf.getvalue()


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's header (and proof that it is one)."""
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


class Fetched:
    """A response read in full and closed (file responses hold their file open until closed)."""

    def __init__(self, client: Any, url: str) -> None:
        with client.get(url) as resp:
            self.status_code, self.mimetype, self.headers = resp.status_code, resp.mimetype, resp.headers
            self.data = resp.get_data()


def sha_of(app: Flask, doc_id: int, number: int = 1) -> str:
    with app.app_context():
        [sha] = [v.sha256 for v in db.session.get(Document, doc_id).versions if v.number == number]
        db.session.remove()
    return sha


def cache_of(app: Flask, sha: str) -> Path:
    with app.test_request_context():
        return svc.cache_dir(sha)


@pytest.fixture
def rosa(app: Flask, login_as: Any) -> Any:
    return login_as("quality_officer", name="Rosa Huamán")


def test_a_multi_page_pdf_shows_each_page_as_a_png_within_the_size_cap(app, client, rosa):
    doc_id = new_document(client, rosa.id, code="PR-PV-1",
                          content=make_pdf([(595, 842), (842, 595), (100, 50)]), filename="paginas.pdf")
    detail = client.get(f"/documents/{doc_id}").get_data(as_text=True)
    assert f'href="/documents/{doc_id}/versions/1/preview"' in detail

    page = client.get(f"/documents/{doc_id}/versions/1/preview")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    images = IMG.findall(body)
    assert [n for _url, n in images] == ["1", "2", "3"]
    assert "3 pages." in body
    assert f'href="/documents/{doc_id}/versions/1/download"' in body

    sizes = []
    for url, _n in images:
        resp = Fetched(client, url)
        assert resp.status_code == 200 and resp.mimetype == "image/png"
        assert resp.headers["Content-Disposition"].startswith("inline;")
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in resp.headers["Content-Security-Policy"]
        assert "default-src 'none'" in resp.headers["Content-Security-Policy"]
        sizes.append(png_size(resp.data))
    (w1, h1), (w2, h2), (w3, h3) = sizes
    assert h1 == 1600 and abs(w1 - 1600 * 595 / 842) <= 1  # portrait: the long side is capped at 1600 px
    assert w2 == 1600 and abs(h2 - 1600 * 595 / 842) <= 1  # landscape
    assert (w3, h3) == (300, 150)  # a tiny page is enlarged three times at most
    assert client.get(f"/documents/{doc_id}/versions/1/preview/page-4.png").status_code == 404


def test_a_2000_page_pdf_shows_only_the_first_pages_and_renders_no_more(app, client, rosa):
    doc_id = new_document(client, rosa.id, code="PR-PV-BIG", content=make_pdf([(200, 200)] * 2000),
                          filename="enorme.pdf")
    body = client.get(f"/documents/{doc_id}/versions/1/preview").get_data(as_text=True)
    assert "Showing the first 20 of 2,000 pages. Download the file for the rest." in html.unescape(body)
    assert len(IMG.findall(body)) == 20
    folder = cache_of(app, sha_of(app, doc_id))
    assert sorted(p.name for p in folder.glob("page-*.png")) == [f"page-{n:04d}.png" for n in range(1, 21)]
    assert client.get(f"/documents/{doc_id}/versions/1/preview/page-21.png").status_code == 404
    assert client.get(f"/documents/{doc_id}/versions/1/preview/page-0.png").status_code == 404
    assert len(list(folder.glob("page-*.png"))) == 20  # asking beyond the cap rendered nothing


@pytest.mark.parametrize("content", [pdf("not really a pdf"), b"%PDF-1.7\n" + b"\x00\xff garbage " * 200])
def test_a_broken_pdf_says_so_and_offers_the_download(app, client, rosa, content):
    doc_id = new_document(client, rosa.id, code="PR-PV-BAD", content=content, filename="roto.pdf")
    resp = client.get(f"/documents/{doc_id}/versions/1/preview")
    assert resp.status_code == 200
    body = html.unescape(resp.get_data(as_text=True))
    assert "This PDF could not be read for a preview" in body
    assert f'href="/documents/{doc_id}/versions/1/download"' in body
    assert not IMG.findall(body)
    assert client.get(f"/documents/{doc_id}/versions/1/preview/page-1.png").status_code == 404
    assert client.get(f"/documents/{doc_id}/versions/1/preview").status_code == 200  # the verdict is cached too


def test_the_second_preview_reuses_the_cached_pages(app, client, rosa, monkeypatch):
    doc_id = new_document(client, rosa.id, code="PR-PV-CACHE", content=make_pdf([(595, 842)] * 2))
    assert client.get(f"/documents/{doc_id}/versions/1/preview").status_code == 200
    folder = cache_of(app, sha_of(app, doc_id))
    first = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in folder.iterdir()}
    assert set(first) == {"info.json", "page-0001.png", "page-0002.png"}  # no temp file left behind

    def no_rendering(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("a cached preview must not start the renderer")

    monkeypatch.setattr(svc.subprocess, "run", no_rendering)
    body = client.get(f"/documents/{doc_id}/versions/1/preview").get_data(as_text=True)
    assert len(IMG.findall(body)) == 2
    assert png_size(Fetched(client, f"/documents/{doc_id}/versions/1/preview/page-2.png").data)[1] == 1600
    assert {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in folder.iterdir()} == first


def test_a_deleted_cache_is_rebuilt(app, client, rosa):
    doc_id = new_document(client, rosa.id, code="PR-PV-GONE", content=make_pdf([(300, 300)]))
    client.get(f"/documents/{doc_id}/versions/1/preview")
    folder = cache_of(app, sha_of(app, doc_id))
    for p in folder.iterdir():
        p.unlink()
    folder.rmdir()
    assert len(IMG.findall(client.get(f"/documents/{doc_id}/versions/1/preview").get_data(as_text=True))) == 1
    assert (folder / "page-0001.png").is_file()


def test_text_is_shown_escaped_and_never_run(app, client, rosa):
    text = "<script>alert('x')</script>\nÑandú & ñu\n".encode() + b"bad byte: \xff\n"
    doc_id = new_document(client, rosa.id, code="PR-PV-TXT", content=text, filename="notas.txt")
    body = client.get(f"/documents/{doc_id}/versions/1/preview").get_data(as_text=True)
    assert "<script>alert" not in body
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in body
    pre = re.search(r'<pre[^>]*data-testid="preview-text"[^>]*>(.*?)</pre>', body, re.S).group(1)
    assert html.unescape(pre) == "<script>alert('x')</script>\nÑandú & ñu\nbad byte: \ufffd\n"


def test_a_long_text_is_cut_with_a_note(app, client, rosa):
    doc_id = new_document(client, rosa.id, code="PR-PV-LONG", content=b"linea\n" * 100_000, filename="largo.csv")
    body = client.get(f"/documents/{doc_id}/versions/1/preview").get_data(as_text=True)
    assert "Showing the first 256 KB. Download the file for the rest." in body
    pre = re.search(r'<pre[^>]*>(.*?)</pre>', body, re.S).group(1)
    assert len(pre) == svc.TEXT_BYTES


def test_an_image_is_shown_from_its_own_route_and_other_types_only_download(app, client, rosa):
    picture = png(2, 1, 6, b"\xff\x00\x00\x00\xff\x00")
    doc_id = new_document(client, rosa.id, code="PR-PV-IMG", content=picture, filename="foto.png")
    body = client.get(f"/documents/{doc_id}/versions/1/preview").get_data(as_text=True)
    assert f'src="/documents/{doc_id}/versions/1/preview/image"' in body
    resp = Fetched(client, f"/documents/{doc_id}/versions/1/preview/image")
    assert resp.status_code == 200 and resp.mimetype == "image/png" and resp.data == picture
    assert resp.headers["Content-Disposition"].startswith("inline;")
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"

    word = new_document(client, rosa.id, code="PR-PV-DOC", content=docx("Hola"), filename="manual.docx")
    body = client.get(f"/documents/{word}/versions/1/preview").get_data(as_text=True)
    assert "Files of this type cannot be previewed here. Download the file to open it." in body
    assert f'href="/documents/{word}/versions/1/download"' in body
    for url in (f"/documents/{word}/versions/1/preview/image", f"/documents/{word}/versions/1/preview/page-1.png",
                f"/documents/{doc_id}/versions/1/preview/page-1.png"):
        assert client.get(url).status_code == 404, url
    download = client.get(f"/documents/{word}/versions/1/download")
    assert download.headers["Content-Disposition"].startswith("attachment;")  # the original stays an attachment
    download.close()


@pytest.fixture
def approved(app: Flask, make_user: Any, tmp_path: Path) -> dict[str, Any]:
    """An approved PDF with a draft version 2, uploaded by one quality officer and approved by another."""
    rosa, jefa = make_user("quality_officer", name="Rosa Huamán"), make_user("quality_officer", name="Jefa")
    doc_id = seed_document(app, rosa.id, write(tmp_path / "a.pdf", make_pdf([(595, 842)] * 2)), code="PR-PV-AUD",
                           approver_id=jefa.id)
    with app.app_context():
        from support import version_from_file

        from auditdocs.db import write_transaction
        from auditdocs.models import User

        with write_transaction():
            version_from_file(db.session.get(Document, doc_id), write(tmp_path / "b.pdf", make_pdf([(300, 300)])),
                              actor=db.session.get(User, rosa.id))
        db.session.remove()
    return {"doc_id": doc_id, "rosa": rosa}


def test_an_auditor_preview_is_recorded_once_like_a_download(app, client, login_as, approved):
    doc_id = approved["doc_id"]
    auditor = login_as("auditor")
    body = client.get(f"/documents/{doc_id}/versions/1/preview").get_data(as_text=True)
    for url, _n in IMG.findall(body):
        assert Fetched(client, url).status_code == 200
    events = audit_events(app, "version.preview", ("actor_id", "object_id", "new"))
    assert events == [{"actor_id": auditor.id, "object_id": "PR-PV-AUD#1",
                       "new": {"sha256": sha_of(app, doc_id)}}]
    downloads = audit_events(app, "version.download", ("actor_id", "object_id"))
    assert downloads == []
    client.get(f"/documents/{doc_id}/versions/1/download").close()
    assert audit_events(app, "version.download", ("actor_id", "object_id")) == [
        {"actor_id": auditor.id, "object_id": "PR-PV-AUD#1"}]


def test_staff_previews_leave_no_receipt(app, client, login_as, approved):
    login_as("quality_officer")
    assert client.get(f"/documents/{approved['doc_id']}/versions/2/preview").status_code == 200
    assert audit_events(app, "version.preview") == []


def test_drafts_and_hidden_documents_are_not_found(app, client, login_as, make_user, approved, tmp_path):
    doc_id = approved["doc_id"]
    owner = make_user("quality_officer")
    secret = seed_document(app, owner.id, write(tmp_path / "s.pdf", make_pdf([(100, 100)])), code="PR-PV-SECRET",
                           confidentiality="restricted", approver_id=approved["rosa"].id)
    login_as("auditor")
    for url in (f"/documents/{doc_id}/versions/2/preview", f"/documents/{doc_id}/versions/2/preview/page-1.png",
                f"/documents/{doc_id}/versions/2/preview/image", f"/documents/{secret}/versions/1/preview",
                f"/documents/{secret}/versions/1/preview/page-1.png", f"/documents/{doc_id}/versions/9/preview"):
        assert client.get(url).status_code == 404, url
    assert client.get(f"/documents/{doc_id}/versions/1/preview").status_code == 200
    assert audit_events(app, "version.preview", ("object_id",)) == [{"object_id": "PR-PV-AUD#1"}]


def test_a_version_that_failed_its_integrity_check_is_not_previewed(app, client, login_as, approved):
    doc_id = approved["doc_id"]
    login_as("auditor")
    sha = sha_of(app, doc_id)
    with app.app_context():
        path = get_store().path_for(sha)
        db.session.remove()
    path.chmod(0o644)
    good = path.read_bytes()
    path.write_bytes(good[:-20] + b"tampered with here!!")
    resp = client.get(f"/documents/{doc_id}/versions/1/preview")
    assert resp.status_code == 200
    body = html.unescape(resp.get_data(as_text=True))
    assert "This file failed its integrity check and is not shown" in body
    assert not IMG.findall(body) and "/download" not in body
    assert client.get(f"/documents/{doc_id}/versions/1/preview/page-1.png").status_code == 404
    assert audit_events(app, "version.preview") == []
    assert [e["object_id"] for e in audit_events(app, "store.integrity_failure", ("object_id",))] == [sha]
    assert "integrity-failed-1" in client.get(f"/documents/{doc_id}").get_data(as_text=True)


def test_the_permission_walk_covers_the_preview_routes(app):
    endpoints = {r.endpoint for r in app.url_map.iter_rules()}
    assert {"documents.preview", "documents.preview_page", "documents.preview_image"} <= endpoints
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("documents.preview"):
            assert rule.methods - {"HEAD", "OPTIONS"} == {"GET"}  # a preview never writes evidence


def test_past_the_time_budget_the_rest_of_the_pages_are_drawn_when_asked(app, client, rosa):
    app.config["PREVIEW_TIME_BUDGET"] = 0.0  # each run draws one page and stops
    doc_id = new_document(client, rosa.id, code="PR-PV-SLOW", content=make_pdf([(400, 400)] * 3))
    body = client.get(f"/documents/{doc_id}/versions/1/preview").get_data(as_text=True)
    assert len(IMG.findall(body)) == 3  # every page within the cap is offered
    folder = cache_of(app, sha_of(app, doc_id))
    assert sorted(p.name for p in folder.glob("page-*.png")) == ["page-0001.png"]
    resp = Fetched(client, f"/documents/{doc_id}/versions/1/preview/page-3.png")
    assert resp.status_code == 200 and png_size(resp.data) == (1200, 1200)  # 400 pt at three times at most
    assert sorted(p.name for p in folder.glob("page-*.png")) == ["page-0001.png", "page-0003.png"]


def test_a_renderer_that_hangs_is_killed_and_the_page_says_so(app, client, rosa, monkeypatch, tmp_path):
    hanging = write(tmp_path / "hang.py", b"import time\ntime.sleep(60)\n")
    monkeypatch.setattr(svc, "WORKER", hanging)
    monkeypatch.setattr(svc, "KILL_GRACE", 0.5)
    app.config["PREVIEW_TIME_BUDGET"] = 0.0
    doc_id = new_document(client, rosa.id, code="PR-PV-HANG", content=make_pdf([(400, 400)]))
    resp = client.get(f"/documents/{doc_id}/versions/1/preview")
    assert resp.status_code == 200
    body = resp.get_data(as_text=True)
    assert "The preview took too long to prepare. Try again in a moment, or download the file." in body
    assert f'href="/documents/{doc_id}/versions/1/download"' in body
    assert not cache_of(app, sha_of(app, doc_id)).joinpath("info.json").exists()  # a timeout is not remembered


def password_protected_pdf() -> bytes:
    """A one-page PDF under the standard security handler whose user password is not empty: nothing opens it
    without the password (the O and U entries match no empty password)."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
               b"<< /Filter /Standard /V 1 /R 2 /O <" + b"11" * 32 + b"> /U <" + b"22" * 32 + b"> /P -4 >>"]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R /Encrypt 4 0 R /ID [<%s> <%s>] >>\nstartxref\n%d\n%%%%EOF\n"
              % (len(objects) + 1, b"ab" * 16, b"ab" * 16, xref))
    return out.getvalue()


def test_a_password_protected_pdf_says_so_and_offers_the_download(app, client, rosa):
    doc_id = new_document(client, rosa.id, code="PR-PV-LOCK", content=password_protected_pdf(), filename="clave.pdf")
    resp = client.get(f"/documents/{doc_id}/versions/1/preview")
    assert resp.status_code == 200
    body = resp.get_data(as_text=True)
    assert "This PDF is protected with a password and cannot be previewed." in body
    assert f'href="/documents/{doc_id}/versions/1/download"' in body and not IMG.findall(body)
