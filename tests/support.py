"""Helpers shared by the test modules and conftests: import them with ``from support import ...``.

Every conftest.py is loaded as a module named "conftest", so ``from conftest import ...`` resolves to whichever
one was loaded last (tests/ or tests/browser/). This module has a name of its own; pytest puts tests/ on sys.path
when it loads tests/conftest.py (the default "prepend" import mode, no __init__.py), so it imports from any test
module or conftest below tests/. The fixtures stay in conftest.py.
"""

from __future__ import annotations

import contextlib
import html
import http.client
import io
import json
import os
import re
import threading
import zipfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from docx import Document as WordDocument
from flask.testing import FlaskClient
from werkzeug.datastructures import FileStorage
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.test import encode_multipart

from auditdocs import timeutil

PG_URL = os.environ.get("AUDITDOCS_TEST_DATABASE_URL", "")
IN_CI = os.environ.get("CI", "").lower() == "true"
PASSWORD = "correct-horse-battery-staple"
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def need(condition: bool, reason: str) -> None:
    """Skip with a reason on a machine that lacks a tool; fail instead in CI, so CI proves it."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI=true but {reason}")
    pytest.skip(reason)


class CSRFClient(FlaskClient):
    """A test client that sends forms the way a browser does: with the page's CSRF token."""

    def csrf_token(self, page: str = "/login") -> str:
        resp = self.get(page, follow_redirects=True)
        match = CSRF_RE.search(resp.get_data(as_text=True))
        assert match, f"no CSRF token on {page}"
        return match.group(1)

    def post_form(self, url: str, data: dict[str, Any] | None = None, *, page: str = "/login",
                  **kwargs: Any) -> Any:
        payload = dict(data or {})
        payload["csrf_token"] = self.csrf_token(page)
        return self.post(url, data=payload, **kwargs)


def base_overrides(data_dir: Path, uri: str, engine_options: dict | None = None) -> dict[str, Any]:
    """The settings every test app gets: its data dir and database, Lima time, English by default."""
    return {
        "DATA_DIR": data_dir,
        "SQLALCHEMY_DATABASE_URI": uri,
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options or {},
        "TIMEZONE": "America/Lima",
        "DEFAULT_LANGUAGE": "en",
    }


# -- files: real bytes of the kinds people upload --------------------------------------------------------------


def pdf(tag: str = "ok", padding: int = 0, *, binary: bool = False) -> bytes:
    """Bytes that start like a PDF: the tag makes the hash unique, padding makes it large, binary adds NUL bytes."""
    return (b"%PDF-1.4\n% " + tag.encode() + b"\n" + (b"\x00\x01\x02 binary\n" if binary else b"")
            + b"1 0 obj << /Type /Catalog >> endobj\n" + os.urandom(padding) + b"\ntrailer << >>\n%%EOF\n")


def docx(text: str, heading: str | None = None) -> bytes:
    """A real Word document made by python-docx."""
    word = WordDocument()
    if heading:
        word.add_heading(heading, level=1)
    word.add_paragraph(text)
    buf = io.BytesIO()
    word.save(buf)
    return buf.getvalue()


def write(path: Path, data: bytes) -> Path:
    """Write bytes to a path and return it (for the factories that take files)."""
    path.write_bytes(data)
    return path


# -- Office packages: realistic OOXML containers, built in memory -----------------------------------------------

CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
OFFICE_DOCUMENT = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
MAIN_PARTS = {  # extension -> (main part, its content type), as Office declares them
    "docx": ("word/document.xml", "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"),
    "docm": ("word/document.xml", "application/vnd.ms-word.document.macroEnabled.main+xml"),
    "xlsx": ("xl/workbook.xml", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"),
    "xlsm": ("xl/workbook.xml", "application/vnd.ms-excel.sheet.macroEnabled.main+xml"),
    "pptx": ("ppt/presentation.xml",
             "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"),
    "pptm": ("ppt/presentation.xml", "application/vnd.ms-powerpoint.presentation.macroEnabled.main+xml"),
}
VBA = "application/vnd.ms-office.vbaProject"


def office(kind: str, *, vba: bool = False, main_at: str | None = None, doctype: bool = False,
           extra: dict[str, bytes] | None = None, extra_types: str = "", extra_rels: str = "",
           compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    """An OOXML package as Office writes one: content types, package relationships, the main part (and VBA, and
    any extra members, content-type lines or package relationships a test needs)."""
    part, content_type = MAIN_PARTS[kind]
    part = main_at or part
    overrides = f'<Override PartName="/{part}" ContentType="{content_type}"/>{extra_types}'
    if vba:
        overrides += f'<Override PartName="/{part.split("/")[0]}/vbaProject.bin" ContentType="{VBA}"/>'
    dtd = '<!DOCTYPE Types [<!ENTITY a "aaaaaaaaaa">]>' if doctype else ""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        zf.writestr("[Content_Types].xml", f'<?xml version="1.0"?>{dtd}<Types xmlns="{CT_NS}">'
                    '<Default Extension="xml" ContentType="application/xml"/>'
                    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                    f"{overrides}</Types>")
        zf.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
                    f'package/2006/relationships"><Relationship Id="rId1" Type="{OFFICE_DOCUMENT}" '
                    f'Target="/{part}"/>{extra_rels}</Relationships>')
        zf.writestr(part, "<document/>")
        if vba:
            zf.writestr(f"{part.split('/')[0]}/vbaProject.bin", b"\xd0\xcf\x11\xe0 VBA project")
        for member, data in (extra or {}).items():
            zf.writestr(member, data)
    return buf.getvalue()



# -- documents through the web, as a person registers them -------------------------------------------------------

DOC_URL = re.compile(r"^/documents/(\d+)$")


def post_in_memory(client: Any, url: str, data: dict[str, Any], headers: dict[str, str] | None = None) -> Any:
    """A browser-like multipart post, encoded in memory (the test client spools big bodies to a temp file that it
    never closes when the server refuses the body unread)."""
    fields = {k: FileStorage(v[0], filename=v[1], content_type="application/octet-stream")
              if isinstance(v, tuple) else v for k, v in data.items()}
    boundary, body = encode_multipart(fields)
    return client.post(url, input_stream=io.BytesIO(body), content_type=f'multipart/form-data; boundary="{boundary}"',
                       headers=headers or {})


def create_document(client: Any, owner_id: int, *, code: str = "PR-QA-001", title: str = "Control de documentos",
                    filename: str = "procedimiento.pdf", content: bytes | None = None,
                    headers: dict[str, str] | None = None, **fields: Any) -> Any:
    """POST the new-document form with its first version; returns the response."""
    data: dict[str, Any] = {
        "code": code, "title": title, "kind": "procedure", "language": "es", "confidentiality": "normal",
        "owner": str(owner_id), "review_interval_months": "12",
        "csrf_token": client.csrf_token("/documents/new"),
        "file": (io.BytesIO(content if content is not None else pdf(code)), filename),
    }
    data.update(fields)
    return post_in_memory(client, "/documents/new", data, headers)


def new_document(client: Any, owner_id: int, **kwargs: Any) -> int:
    """Register a document through the web and return its id (the registration must succeed)."""
    resp = create_document(client, owner_id, **kwargs)
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    match = DOC_URL.match(urlsplit(resp.headers["Location"]).path)
    assert match, resp.headers["Location"]
    return int(match.group(1))


def upload_version(client: Any, doc_id: int, content: bytes, filename: str = "version.pdf",
                   headers: dict[str, str] | None = None, **fields: Any) -> Any:
    """POST the new-version form of a document; returns the response (refusals are what some tests check)."""
    data: dict[str, Any] = {"csrf_token": client.csrf_token(f"/documents/{doc_id}"),
                            "file": (io.BytesIO(content), filename), **fields}
    return client.post(f"/documents/{doc_id}/versions", data=data, content_type="multipart/form-data",
                       headers=headers or {})


EVENT_KEYS = ("actor_id", "object_id", "old", "new")


def audit_events(app: Any, action: str, keys: tuple[str, ...] = EVENT_KEYS) -> list[dict[str, Any]]:
    """Audit events of one action, oldest first, as plain dicts of the given keys (old/new decoded)."""
    from sqlalchemy import select

    from auditdocs.extensions import db
    from auditdocs.models import AuditEvent

    with app.app_context():
        rows = db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq))
        out = []
        for e in rows:
            full = {"seq": e.seq, "action": e.action, "actor_id": e.actor_id, "actor_label": e.actor_label,
                    "object_id": e.object_id, "old": json.loads(e.old_values) if e.old_values else None,
                    "new": json.loads(e.new_values) if e.new_values else None}
            out.append({k: full[k] for k in keys})
        db.session.remove()
    return out


def twin_app(app: Any, **settings: Any) -> Any:
    """A second app on the fixture's database and data dir, with some settings changed."""
    from auditdocs import create_app
    from config import TestConfig

    overrides = base_overrides(app.config["DATA_DIR"], app.config["SQLALCHEMY_DATABASE_URI"],
                               dict(app.config["SQLALCHEMY_ENGINE_OPTIONS"]))
    overrides.update(settings)
    other = create_app(TestConfig, overrides)
    other.test_client_class = app.test_client_class
    return other


def version_from_file(doc: Any, path: Path, *, actor: Any, filename: str | None = None, **fields: Any) -> Any:
    """A new version of `doc` from a local file, through the one upload operation (inside the caller's app context)."""
    from auditdocs.services import documents as svc
    from auditdocs.services.uploads import Incoming, ingest

    return ingest(Incoming.from_path(path, filename), lambda checked: svc.add_version(doc, checked, actor=actor,
                                                                                        **fields))


def stored_upload(path: Path) -> Any:
    """A checked upload whose blob is already in the store and has no row yet (an upload about to commit)."""
    from auditdocs.services.uploads import Incoming, check_upload

    checked = check_upload(Incoming.from_path(path))
    checked.writer.commit()
    return checked


# -- documents through the services: setup that a test is not about ---------------------------------------------


def seed_document(app: Any, uploader_id: int, path: Path, *, code: str, title: str = "Control de documentos",
                  approver_id: int | None = None, owner_id: int | None = None, kind: str = "procedure",
                  filename: str | None = None, **fields: Any) -> int:
    """Setup through the services (as the import would): a document with version 1, approved if asked; its id."""
    from auditdocs.db import write_transaction
    from auditdocs.extensions import db
    from auditdocs.models import User
    from auditdocs.services import documents as svc

    with app.app_context():
        with write_transaction():
            uploader = db.session.get(User, uploader_id)
            owner = uploader if owner_id is None else db.session.get(User, owner_id)
            doc = svc.create_document(code=code, title=title, kind=kind, owner=owner, actor=uploader, **fields)
            version = version_from_file(doc, path, actor=uploader, filename=filename)
            if approver_id is not None:
                svc.approve(version, actor=db.session.get(User, approver_id))
            doc_id = doc.id
        db.session.remove()
    return doc_id


# -- real HTTP: the app on a local port, for what the test client cannot do (slow bodies, no spooling) --------------

BOUNDARY = "auditdocs-test-boundary"


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


@contextlib.contextmanager
def serve(app: Any) -> Iterator[int]:
    """Serve the app on a free local port in a thread; yields the port."""
    httpd = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd.server_port
    finally:
        httpd.shutdown()
        thread.join(5)


def multipart_body(fields: dict[str, str], filename: str, content: bytes) -> bytes:
    """A browser's form post with one file part (named "file"), built in memory."""
    body = b"".join(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
                    for k, v in fields.items())
    body += (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
             "Content-Type: application/octet-stream\r\n\r\n").encode()
    return body + content + f"\r\n--{BOUNDARY}--\r\n".encode()


def open_post(port: int, client: Any, url: str, length: int) -> http.client.HTTPConnection:
    """Start a multipart POST as the test client's logged-in user; the caller sends the body and reads the reply."""
    cookie = client.get_cookie("session")
    assert cookie is not None, "log the test client in first"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.putrequest("POST", url)
    conn.putheader("Cookie", f"session={cookie.value}")
    conn.putheader("Content-Type", f"multipart/form-data; boundary={BOUNDARY}")
    conn.putheader("Content-Length", str(length))
    conn.endheaders()
    return conn


def post_over_http(app: Any, client: Any, url: str, fields: dict[str, str], file: tuple[str, bytes]) -> tuple[int, str]:
    """POST a form with a file over real HTTP as the test client's user; returns (status, body)."""
    body = multipart_body(fields, *file)
    with serve(app) as port:
        conn = open_post(port, client, url, len(body))
        conn.send(body)
        response = conn.getresponse()
        text = response.read().decode()
        conn.close()
    return response.status, text


NOTHING_LEFT = {"documents": 0, "objects": [], "temp": []}


def what_is_left(app: Any) -> dict[str, Any]:
    """Document rows, stored objects and temp files: what a refused upload must not leave behind."""
    from sqlalchemy import func, select

    from auditdocs.extensions import db
    from auditdocs.models import Document
    from auditdocs.services.uploads import get_store

    with app.app_context():
        store = get_store()
        documents = db.session.scalar(select(func.count(Document.id)))
        temp = sorted(p.name for p in store.temp_dir.iterdir()) if store.temp_dir.is_dir() else []
        objects = list(store.iter_hashes())
        db.session.remove()
    return {"documents": documents, "objects": objects, "temp": temp}


# -- a second writer on the app's database ------------------------------------------------------------------------

# The tables every write path of the app touches: a second connection that can lock them in EXCLUSIVE mode (which
# readers do not block) proves the app holds no write transaction at that moment (PostgreSQL).
WRITTEN_TABLES = "documents, document_versions, audit_events, users"


def _sqlite_path(app: Any) -> str:
    return str(app.config["SQLALCHEMY_DATABASE_URI"]).removeprefix("sqlite:///")


@contextlib.contextmanager
def _other_connection(app: Any) -> Iterator[Any]:
    """A connection of its own to the app's database, outside the app's engine and pool."""
    import sqlite3

    from sqlalchemy import create_engine

    uri = str(app.config["SQLALCHEMY_DATABASE_URI"])
    if uri.startswith("sqlite"):
        con = sqlite3.connect(_sqlite_path(app), timeout=0, isolation_level=None)
        try:
            yield con
        finally:
            con.close()
        return
    engine = create_engine(uri, **dict(app.config["SQLALCHEMY_ENGINE_OPTIONS"]))
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


def write_elsewhere(app: Any) -> None:
    """Write from a second connection without waiting: raises if the app holds the write lock (SQLite) or a write
    transaction on the tables it writes (PostgreSQL)."""
    from sqlalchemy import text

    with _other_connection(app) as con:
        if hasattr(con, "isolation_level"):  # sqlite3: BEGIN IMMEDIATE is the write lock itself
            con.execute("BEGIN IMMEDIATE")
            con.execute("UPDATE users SET name = name")
            con.execute("COMMIT")
            return
        with con.begin():
            con.execute(text("SET LOCAL lock_timeout = '50ms'"))
            con.execute(text(f"LOCK TABLE {WRITTEN_TABLES} IN EXCLUSIVE MODE"))
            con.execute(text("UPDATE users SET name = name"))


@contextlib.contextmanager
def write_lock_held(app: Any) -> Iterator[None]:
    """Another program holds the database's write lock (SQLite) or locks the tables every write needs
    (PostgreSQL) until the block ends."""
    from sqlalchemy import text

    with _other_connection(app) as con:
        if hasattr(con, "isolation_level"):
            con.execute("BEGIN IMMEDIATE")
            try:
                yield
            finally:
                con.execute("ROLLBACK")
            return
        with con.begin():
            con.execute(text(f"LOCK TABLE {WRITTEN_TABLES} IN EXCLUSIVE MODE"))
            yield


# -- a large corpus in a few statements ---------------------------------------------------------------------------


def bulk_documents(app: Any, owner_id: int, clause_id: int, n: int) -> None:
    """n documents (BIG-000001...: procedures, records, evidence in turn), each with an approved version effective a
    week ago, all mapped to the clause: one INSERT ... SELECT per table, for pages that only read a large corpus."""
    from datetime import date, timedelta

    from sqlalchemy import text

    from auditdocs.extensions import db

    effective = (date.today() - timedelta(days=7)).isoformat()
    review = (date.today() + timedelta(days=358)).isoformat()
    with app.app_context():
        dialect = db.engine.dialect.name
        if dialect == "sqlite":
            series = f"WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < {n}) "  # noqa: S608 - constants of this function, no input
            source, now, code = "seq", "CURRENT_TIMESTAMP", "'BIG-' || printf('%06d', n)"
        else:
            series, source = "", f"generate_series(1, {n}) AS seq(n)"
            now, code = "now()", "'BIG-' || lpad(n::text, 6, '0')"
        kinds = "CASE n % 3 WHEN 0 THEN 'procedure' WHEN 1 THEN 'record' ELSE 'evidence' END"
        statements = [
            f"{series}INSERT INTO documents (id, code, code_key, search_key, title, kind, owner_id, language, "  # noqa: S608 - constants of this function, no input
            f"confidentiality, review_interval_months, status, created_at, created_by_id, next_review_date) "
            f"SELECT 100000 + n, {code}, lower({code}), lower({code}) || ' registro masivo', 'Registro masivo', "
            f"{kinds}, {owner_id}, 'es', 'normal', 12, 'active', {now}, {owner_id}, '{review}' FROM {source}",
            f"{series}INSERT INTO document_versions (id, document_id, number, original_filename, mime_type, size, "  # noqa: S608 - constants of this function, no input
            f"sha256, uploaded_by_id, uploaded_at, effective_date, status, approved_at) "
            f"SELECT 100000 + n, 100000 + n, 1, 'registro.pdf', 'application/pdf', 10, "
            f"'{'0' * 64}', {owner_id}, {now}, '{effective}', 'approved', {now} FROM {source}",
            "UPDATE documents SET current_version_id = id WHERE id > 100000",
            f"{series}INSERT INTO document_clauses (document_id, clause_id) SELECT 100000 + n, {clause_id} "  # noqa: S608 - constants of this function, no input
            f"FROM {source}",
        ]
        if dialect == "postgresql":
            statements.append("ANALYZE")
        for statement in statements:
            db.session.execute(text(statement))
        db.session.commit()
        db.session.remove()


def text_of(resp: Any) -> str:
    """A response's body with HTML entities decoded, for assertions on what a person reads."""
    return html.unescape(resp.get_data(as_text=True))


def browser(app: Any, user: Any) -> Any:
    """A fresh signed-in client (after a test moves the clock weeks on, an old session has timed out, as it would)."""
    c = app.test_client()
    assert c.post_form("/login", {"email": user.email, "password": user.password}).status_code == 302
    return c


def approve(c: Any, doc_id: int, number: int, effective: date | None = None) -> Any:
    """Approve a version through the page's form (an empty date means today)."""
    return c.post_form(f"/documents/{doc_id}/versions/{number}/approve",
                       {"effective_date": effective.isoformat() if effective else ""}, page="/")


def today_of(app: Any) -> date:
    """The organisation's today, read through timeutil so a test's moved clock applies."""
    with app.app_context():
        return timeutil.local_today()
