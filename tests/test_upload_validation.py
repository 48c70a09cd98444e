"""Every upload refusal through the web forms: right status, a clear message in the user's language, nothing left.

Each hostile file is posted to both forms (new document, new version), as a plain form post and as the upload
page's XMLHttpRequest, in English and in Spanish. The Spanish catalogue is compiled from the repository's .po
into a temporary folder (as `make` would), so a message is expected in Spanish exactly when the catalogue
translates it.
"""

from __future__ import annotations

import html
import io
import re
import struct
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask
from flask_babel import force_locale, gettext
from sqlalchemy import func, select
from support import CSRFClient, pdf, post_in_memory, twin_app

import config
from auditdocs.extensions import db
from auditdocs.models import AuditEvent, Document, DocumentVersion

XHR = {"X-Requested-With": "XMLHttpRequest"}
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")
MB = 1024 * 1024

MSG_EXTENSION = "Files of type “.%(ext)s” are not accepted (“%(name)s”). Allowed file types: %(allowed)s."
MSG_NO_EXTENSION = "The file “%(name)s” has no file extension. Allowed file types: %(allowed)s."
MSG_NO_NAME = "The uploaded file has no usable file name."
MSG_CONTENT = "The file “%(name)s” is not a valid %(ext)s file: its content does not match its extension."
MSG_EMPTY = "The file “%(name)s” is empty."
MSG_BOMB = ("The file “%(name)s” was refused because it would unpack to too many files or to an unsafe size. "
            "Please check the file and upload it again.")
MSG_TOO_LARGE = "The file is larger than the limit of %(mb)s MB. Nothing was saved."


# -- hostile content, built in memory ----------------------------------------------------------------------------


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x00\x00\x00\x00:~\x9bU"


def zip_bytes(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


DOCX_PARTS = {"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"}


def docx_with_many_entries(n: int = 2001) -> bytes:
    """A well-formed .docx container with more entries than the cap (stored, empty: built in milliseconds)."""
    members = dict(DOCX_PARTS)
    members.update({f"word/media/p{i}.xml": b"" for i in range(n)})
    return zip_bytes(members, zipfile.ZIP_STORED)


def docx_declaring_a_huge_member() -> bytes:
    """A .docx whose central directory claims a 2 GB member (never expanded: the header is patched)."""
    data = bytearray(zip_bytes({**DOCX_PARTS, "word/media/huge.bin": b"x" * 100}, zipfile.ZIP_STORED))
    pos = 0
    while (pos := data.find(b"PK\x01\x02", pos)) != -1:
        name_len = struct.unpack_from("<H", data, pos + 28)[0]
        if bytes(data[pos + 46:pos + 46 + name_len]) == b"word/media/huge.bin":
            struct.pack_into("<I", data, pos + 24, 0x7FFF_FFFF)  # uncompressed size
        pos += 4
    return bytes(data)


def docx_with_a_high_ratio_member() -> bytes:
    """20 MB of zeros deflated to a few KB inside a .docx: expands 1000-fold."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, data in DOCX_PARTS.items():
            zf.writestr(name, data)
        with zf.open("word/media/zeros.bin", "w") as member:
            chunk = bytes(MB)
            for _ in range(20):
                member.write(chunk)
    return buf.getvalue()


# (id, client file name, content, message, name shown in the message or None)
REJECTIONS: list[tuple[str, str, Any, str, str | None]] = [
    ("exe", "setup.exe", b"MZ\x90\x00\x03\x00\x00\x00", MSG_EXTENSION, "setup.exe"),
    ("html", "informe.html", b"<html><script>alert(1)</script></html>", MSG_EXTENSION, "informe.html"),
    ("nul-trick", "report.pdf\x00.html", pdf(), MSG_EXTENSION, "report.pdf.html"),
    ("double-ext", "factura.pdf.exe", b"MZ\x90\x00", MSG_EXTENSION, "factura.pdf.exe"),
    ("no-extension", "README", b"plain text\n", MSG_NO_EXTENSION, "README"),
    ("only-dots", "....", b"plain text\n", MSG_NO_NAME, None),
    ("only-controls", "\x01\x07\u202e\u200b", b"plain text\n", MSG_NO_NAME, None),
    ("pdf-that-is-png", "escaneo.pdf", PNG, MSG_CONTENT, "escaneo.pdf"),
    ("png-that-is-pdf", "foto.png", pdf(), MSG_CONTENT, "foto.png"),
    ("docx-plain-zip", "informe.docx", zip_bytes({"hello.txt": b"hello"}), MSG_CONTENT, "informe.docx"),
    ("docx-junk-prefix", "informe.docx", b"MZjunk" + zip_bytes(DOCX_PARTS), MSG_CONTENT, "informe.docx"),
    ("odt-wrong-mimetype", "acta.odt", zip_bytes({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet",
                                                  "content.xml": b"<office:document-content/>"}),
     MSG_CONTENT, "acta.odt"),
    ("txt-that-is-binary", "notas.txt", bytes(range(256)) * 4, MSG_CONTENT, "notas.txt"),
    ("eml-without-headers", "correo.eml", b"\x01\x02 not an e-mail at all \x03", MSG_CONTENT, "correo.eml"),
    ("empty", "vacío.pdf", b"", MSG_EMPTY, "vacío.pdf"),
    ("zip-bomb-entries", "bomba.docx", docx_with_many_entries, MSG_BOMB, "bomba.docx"),
    ("zip-bomb-declared-size", "bomba.docx", docx_declaring_a_huge_member, MSG_BOMB, "bomba.docx"),
    ("zip-bomb-ratio", "bomba.docx", docx_with_a_high_ratio_member, MSG_BOMB, "bomba.docx"),
]


# -- fixtures: the app with the compiled catalogues ----------------------------------------------------------------


@pytest.fixture(scope="session")
def catalogues(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repository's .po files compiled to .mo in a temporary folder."""
    out = tmp_path_factory.mktemp("translations")
    for po in sorted((config.ROOT / "auditdocs" / "translations").glob("*/LC_MESSAGES/messages.po")):
        lang = po.parent.parent.name
        with po.open("rb") as fh:
            catalogue = read_po(fh, locale=lang)
        dest = out / lang / "LC_MESSAGES"
        dest.mkdir(parents=True)
        with (dest / "messages.mo").open("wb") as fh:
            write_mo(fh, catalogue)
    return out


def close_app(other: Flask) -> None:
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def web(app: Flask, catalogues: Path) -> Iterator[Flask]:
    other = twin_app(app, BABEL_TRANSLATION_DIRECTORIES=str(catalogues))
    yield other
    close_app(other)


@pytest.fixture
def small_web(app: Flask, catalogues: Path) -> Iterator[Flask]:
    other = twin_app(app, BABEL_TRANSLATION_DIRECTORIES=str(catalogues), MAX_UPLOAD_MB=1)
    yield other
    close_app(other)


# -- helpers ----------------------------------------------------------------------------------------------------


def signed_in(web: Flask, user: Any, lang: str) -> CSRFClient:
    client: CSRFClient = web.test_client()  # type: ignore[assignment]
    resp = client.post_form("/login", {"email": user.email, "password": user.password})
    assert resp.status_code == 302
    resp = client.post_form("/lang", {"lang": lang}, page="/")
    assert resp.status_code == 302
    assert f'<html lang="{lang}">' in client.get("/").get_data(as_text=True)
    return client


def first_document(client: CSRFClient, owner_id: int) -> int:
    resp = post_new_document(client, owner_id, "procedimiento.pdf", pdf("v1"), code="PR-BASE-001")
    assert resp.status_code == 302, body_text(resp)[:1000]
    return int(urlsplit(resp.headers["Location"]).path.rsplit("/", 1)[1])


def post_new_document(client: CSRFClient, owner_id: int, filename: str, content: bytes, *, code: str = "PR-UP-001",
                      headers: dict[str, str] | None = None) -> Any:
    data = {"code": code, "title": "Documento de prueba", "kind": "procedure", "language": "es",
            "confidentiality": "normal", "owner": str(owner_id), "review_interval_months": "12",
            "csrf_token": client.csrf_token("/documents/new"), "file": (io.BytesIO(content), filename)}
    return post_in_memory(client, "/documents/new", data, headers)


def post_new_version(client: CSRFClient, doc_id: int, filename: str, content: bytes, *,
                     headers: dict[str, str] | None = None) -> Any:
    data = {"change_note": "nueva versión", "csrf_token": client.csrf_token("/documents/new"),
            "file": (io.BytesIO(content), filename)}
    return post_in_memory(client, f"/documents/{doc_id}/versions", data, headers)


def body_text(resp: Any) -> str:
    return html.unescape(resp.get_data(as_text=True))


def translated(web: Flask, lang: str, msgid: str) -> str:
    with web.test_request_context(), force_locale(lang):
        return gettext(msgid)


def assert_says(web: Flask, lang: str, msgid: str, shown: str, name: str | None = None, **params: Any) -> None:
    """The message (translated when the catalogue has it) is in what the user sees, with the file's name."""
    template = translated(web, lang, msgid)
    if lang != "en" and template != msgid:  # translated: the English wording must not be what the user reads
        english = max(PLACEHOLDER.split(msgid), key=len).strip()
        assert english not in shown, (english, shown[:3000])
    if params:
        assert template % params in shown, (template, shown[:3000])
    else:
        for fragment in PLACEHOLDER.split(template):
            if len(fragment.strip(" “”.,:()")) >= 3:
                assert fragment.strip() in shown, (fragment, shown[:3000])
    if name is not None:
        assert name in shown


def state(web: Flask) -> dict[str, Any]:
    """Rows and files that a refused upload must not leave behind."""
    objects = Path(web.config["OBJECTS_DIR"])
    tmp = objects / "tmp"
    with web.app_context():
        rows = (db.session.scalar(select(func.count(Document.id))),
                db.session.scalar(select(func.count(DocumentVersion.id))),
                db.session.scalar(select(func.count(AuditEvent.id))))
        db.session.remove()
    return {
        "rows": rows,
        "objects": sorted(str(p.relative_to(objects)) for p in objects.rglob("*")
                          if p.is_file() and tmp not in p.parents),
        "temp": sorted(p.name for p in tmp.iterdir()) if tmp.exists() else [],
    }


def assert_refused(web: Flask, client: CSRFClient, doc_id: int, filename: str, content: bytes, status: int,
                   lang: str, msgid: str, name: str | None, **params: Any) -> None:
    """Post the file to both forms, as a form and as XHR; each is refused and leaves nothing behind."""
    before = state(web)
    assert before["temp"] == []
    with web.app_context():
        owner_id = db.session.scalar(select(Document.owner_id).where(Document.id == doc_id))
        db.session.remove()
    for form in ("new", "version"):
        for headers in ({}, XHR):
            if form == "new":
                resp = post_new_document(client, owner_id, filename, content, headers=headers)
            else:
                resp = post_new_version(client, doc_id, filename, content, headers=headers)
            where = f"{form} form, {'XHR' if headers else 'HTML'}, {lang}"
            assert resp.status_code == status, (where, body_text(resp)[:2000])
            if headers:
                payload = resp.get_json()
                assert payload is not None and payload["ok"] is False, where
                assert_says(web, lang, msgid, payload["error"], name, **params)
            else:
                assert resp.mimetype == "text/html"
                page = body_text(resp)
                assert f'<html lang="{lang}">' in page
                assert_says(web, lang, msgid, page, name, **params)
            after = state(web)
            assert after == before, (where, before, after)


# -- every rejection ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("filename", "content", "msgid", "name"), [r[1:] for r in REJECTIONS],
                         ids=[r[0] for r in REJECTIONS])
def test_rejected_upload(web, make_user, filename, content, msgid, name):
    user = make_user("quality_officer")
    data = content() if callable(content) else content
    doc_id = None
    for lang in ("en", "es"):
        client = signed_in(web, user, lang)
        if doc_id is None:
            doc_id = first_document(client, user.id)
        assert_refused(web, client, doc_id, filename, data, 400, lang, msgid, name)


def test_the_extension_message_lists_what_is_allowed(web, make_user):
    """The refusal tells the user what to do: the allow-list is part of the message."""
    user = make_user("quality_officer")
    client = signed_in(web, user, "en")
    resp = post_new_document(client, user.id, "setup.exe", b"MZ", headers=XHR)
    assert resp.status_code == 400
    error = resp.get_json()["error"]
    assert error.startswith("Files of type “.exe” are not accepted (“setup.exe”). Allowed file types: pdf, doc,")
    assert "docx" in error and "eml" in error


def test_a_missing_file_is_a_clear_form_error(web, make_user):
    user = make_user("quality_officer")
    client = signed_in(web, user, "en")
    doc_id = first_document(client, user.id)
    before = state(web)
    data = {"code": "PR-NOFILE", "title": "Sin archivo", "kind": "procedure", "language": "es",
            "confidentiality": "normal", "owner": str(user.id), "review_interval_months": "12",
            "csrf_token": client.csrf_token("/documents/new")}
    resp = client.post("/documents/new", data=data, content_type="multipart/form-data")
    assert resp.status_code == 400 and "Choose a file to upload." in body_text(resp)
    resp = client.post(f"/documents/{doc_id}/versions", data={"csrf_token": data["csrf_token"]},
                       content_type="multipart/form-data", headers=XHR)
    assert resp.status_code == 400 and "Choose a file to upload." in resp.get_json()["error"]
    assert state(web) == before


# -- hostile names with an allowed extension and valid content are kept as display names only ----------------------


KEPT_NAMES = [
    ("dot-dot-slash", "../../etc/passwd.txt", "passwd.txt"),
    ("nul", "acta\x00final.txt", "actafinal.txt"),
    ("control-chars", "in\x07for\x1bme\x7f.txt", "informe.txt"),
    ("bidi-override", "factura\u202efdp.txt", "facturafdp.txt"),
    ("unicode", "Informe de auditoría ñ 文件.txt", "Informe de auditoría ñ 文件.txt"),
    ("markup", "<img src=x onerror=alert(1)>.txt", "<img src=x onerror=alert(1)>.txt"),
    ("very-long", "a" * 320 + ".txt", "a" * 251 + ".txt"),
    ("leading-dots", "...hidden.txt", "...hidden.txt"),
]


@pytest.mark.parametrize(("raw", "display"), [k[1:] for k in KEPT_NAMES], ids=[k[0] for k in KEPT_NAMES])
def test_hostile_names_are_kept_only_as_display_names(web, make_user, raw, display):
    user = make_user("quality_officer")
    client = signed_in(web, user, "en")
    content = f"Contenido de {display!r}\n".encode()
    resp = post_new_document(client, user.id, raw, content, code="PR-NAME-001")
    assert resp.status_code == 302, body_text(resp)[:2000]
    doc_id = int(urlsplit(resp.headers["Location"]).path.rsplit("/", 1)[1])
    resp = post_new_version(client, doc_id, raw, content + b"v2")
    assert resp.status_code == 302, body_text(resp)[:2000]

    with web.app_context():
        names = list(db.session.scalars(select(DocumentVersion.original_filename)
                                        .where(DocumentVersion.document_id == doc_id)))
        shas = list(db.session.scalars(select(DocumentVersion.sha256).where(DocumentVersion.document_id == doc_id)))
        db.session.remove()
    assert names == [display, display]
    assert len(display) <= 255
    # Stored under the hash, never under (any part of) the client's name.
    data_dir = Path(web.config["DATA_DIR"])
    stored = [p for p in data_dir.rglob("*") if p.is_file() and p.parent.parent.parent.name == "objects"]
    assert sorted(p.name for p in stored) == sorted(shas)
    stem = display.rsplit(".", 1)[0].strip(".")[:50]
    assert not any(stem in str(p.relative_to(data_dir)) for p in data_dir.rglob("*"))
    assert not (data_dir.parent / "etc").exists()

    raw_page = client.get(f"/documents/{doc_id}").get_data(as_text=True)
    assert "<img src=x" not in raw_page  # escaped when shown
    assert html.unescape(raw_page).count(display) >= 2

    resp = client.get(f"/documents/{doc_id}/versions/1/download")
    try:
        assert resp.status_code == 200 and resp.get_data() == content
        disposition = resp.headers["Content-Disposition"]
    finally:
        resp.close()
    assert disposition.startswith("attachment;")
    assert display in disposition or quote(display) in disposition
    assert "/" not in disposition  # never a path


# -- oversize ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "es"])
def test_a_file_over_the_limit_is_413_and_leaves_nothing(small_web, make_user, lang):
    user = make_user("quality_officer")
    client = signed_in(small_web, user, lang)
    doc_id = first_document(client, user.id)
    big = b"%PDF-1.4\n" + bytes(MB + MB // 2)  # 1.5 MB: under the Content-Length cap, over the upload limit
    assert_refused(small_web, client, doc_id, "grande.pdf", big, 413, lang, MSG_TOO_LARGE, None, mb=1)
    # Exactly at the limit is accepted.
    at_limit = b"%PDF-1.4\n" + bytes(MB - 9)
    resp = post_new_version(client, doc_id, "justo.pdf", at_limit)
    assert resp.status_code == 302, body_text(resp)[:2000]


class CountingStream:
    """A request body that records how much of it the server read."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.pos = 0
        self.read_bytes = 0

    def read(self, n: int = -1) -> bytes:
        n = self.size - self.pos if n is None or n < 0 else min(n, self.size - self.pos)
        self.pos += n
        self.read_bytes += n
        return b"x" * n

    def readline(self, n: int = -1) -> bytes:
        return self.read(1 if n != 0 else 0)

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = 0) -> int:  # the test client measures the body; that is no read
        self.pos = {0: offset, 1: self.pos + offset, 2: self.size + offset}[whence]
        return self.pos


@pytest.mark.parametrize("xhr", [False, True], ids=["html", "xhr"])
def test_a_body_over_the_limit_is_refused_by_content_length_before_it_is_read(small_web, make_user, xhr):
    user = make_user("quality_officer")
    client = signed_in(small_web, user, "en")
    doc_id = first_document(client, user.id)
    before = state(small_web)
    for url in ("/documents/new", f"/documents/{doc_id}/versions"):
        stream = CountingStream(50 * MB)
        resp = client.post(url, input_stream=stream, content_length=stream.size,
                           content_type="multipart/form-data; boundary=----auditdocs", headers=XHR if xhr else {})
        assert resp.status_code == 413, url
        assert stream.read_bytes == 0, f"{url}: read {stream.read_bytes} bytes of a refused body"
        if xhr:
            assert resp.get_json()["error"] == "The file is larger than the limit of 1 MB. Nothing was saved."
        else:
            page = body_text(resp)
            assert "File too large" in page
            assert "The file is larger than the limit of 1 MB. Nothing was saved." in page
        assert state(small_web) == before
