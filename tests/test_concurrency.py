"""Simultaneous uploads against a real threaded HTTP server: distinct version numbers, no lock errors, intact chain."""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import re
import threading
from collections.abc import Iterator
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from sqlalchemy import select
from support import CSRF_RE, PASSWORD, pdf
from werkzeug.serving import make_server

from auditdocs.extensions import db
from auditdocs.models import AuditEvent, Document, DocumentVersion
from auditdocs.services import audit

MB = 1024 * 1024
LOCK_WORDS = re.compile(r"database is locked|deadlock|could not serialize|OperationalError|IntegrityError", re.I)


class Browser:
    """A minimal browser: one cookie jar, form posts with the page's CSRF token, streamed multipart uploads."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"Host": f"127.0.0.1:{self.port}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        headers.update(extra or {})
        return headers

    def _keep_cookies(self, resp: http.client.HTTPResponse) -> None:
        for header in resp.headers.get_all("Set-Cookie") or []:
            jar = SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                if "1970" in (morsel["expires"] or "") or morsel["max-age"] == "0":
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            conn.request(method, path, body=body, headers=self._headers(headers))
            resp = conn.getresponse()
            data = resp.read().decode("utf-8", "replace")
            self._keep_cookies(resp)
            return resp.status, dict(resp.headers.items()), data
        finally:
            conn.close()

    def token(self, path: str) -> str:
        status, _h, page = self.request("GET", path)
        assert status == 200, (path, status, page[:500])
        match = CSRF_RE.search(page)
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def login(self, email: str, password: str = PASSWORD) -> None:
        body = urlencode({"email": email, "password": password, "csrf_token": self.token("/login")}).encode()
        status, headers, page = self.request("POST", "/login", body,
                                             {"Content-Type": "application/x-www-form-urlencoded"})
        assert status == 302, (status, page[:500])
        assert urlsplit(headers["Location"]).path == "/"

    def multipart(self, fields: dict[str, str], filename: str, content: bytes) -> tuple[bytes, str]:
        boundary = "----auditdocs" + os.urandom(8).hex()
        parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
                 for k, v in fields.items()]
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
                     f"Content-Type: application/octet-stream\r\n\r\n".encode() + content + b"\r\n")
        parts.append(f"--{boundary}--\r\n".encode())
        return b"".join(parts), f"multipart/form-data; boundary={boundary}"

    def post_streamed(self, path: str, body: bytes, content_type: str, barrier: threading.Barrier,
                      headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
        """Send all but the last bytes, wait for the other browsers, then finish together."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            conn.putrequest("POST", path, skip_host=True)
            for name, value in self._headers({"Content-Type": content_type, "Content-Length": str(len(body)),
                                               **(headers or {})}).items():
                conn.putheader(name, value)
            conn.endheaders()
            head, tail = body[:-64], body[-64:]
            for start in range(0, len(head), 256 * 1024):
                conn.send(head[start:start + 256 * 1024])
            barrier.wait(timeout=60)
            conn.send(tail)
            resp = conn.getresponse()
            data = resp.read().decode("utf-8", "replace")
            self._keep_cookies(resp)
            return resp.status, dict(resp.headers.items()), data
        finally:
            conn.close()


@pytest.fixture
def server(app: Any) -> Iterator[int]:
    """The app behind werkzeug's threaded server on a free local port."""
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, name="auditdocs-test-server", daemon=True)
    thread.start()
    try:
        yield srv.server_port
    finally:
        srv.shutdown()
        thread.join(timeout=30)
        srv.server_close()


def run_together(jobs: list[Any]) -> list[Any]:
    results: list[Any] = [None] * len(jobs)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            results[i] = jobs[i]()
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=180)
    assert not errors, errors
    assert all(not t.is_alive() for t in threads)
    return results


def read(app: Any, fn: Any) -> Any:
    with app.app_context():
        try:
            return fn()
        finally:
            db.session.remove()


def first_document(port: int, user: Any) -> int:
    author = Browser(port)
    author.login(user.email)
    body, ctype = author.multipart({"code": "PR-SAF-003", "title": "Visitas domiciliarias", "kind": "procedure",
                                    "language": "es", "confidentiality": "normal", "owner": str(user.id),
                                    "review_interval_months": "12", "csrf_token": author.token("/documents/new")},
                                   "PR-SAF-003 v1.pdf", pdf("v1", padding=64 * 1024))
    status, headers, page = author.request("POST", "/documents/new", body, {"Content-Type": ctype})
    assert status == 302, page[:2000]
    return int(urlsplit(headers["Location"]).path.rsplit("/", 1)[1])


@pytest.mark.parametrize("browsers", [2, 4])
def test_simultaneous_new_versions_of_one_document_all_succeed_with_distinct_numbers(app, server, make_user, caplog,
                                                                                     browsers):
    caplog.set_level(logging.INFO)
    people = [make_user("quality_officer") for _ in range(browsers)]
    doc_id = first_document(server, people[0])
    clients = []
    for person in people:
        b = Browser(server)
        b.login(person.email)
        clients.append(b)
    contents = [pdf(f"browser {i}", padding=3 * MB) for i in range(browsers)]  # distinct: each a new blob
    barrier = threading.Barrier(browsers)

    def upload(i: int) -> Any:
        b = clients[i]
        body, ctype = b.multipart({"csrf_token": b.token(f"/documents/{doc_id}"), "change_note": f"cambio {i}"},
                                  f"PR-SAF-003 cambio {i}.pdf", contents[i])
        return b.post_streamed(f"/documents/{doc_id}/versions", body, ctype, barrier)

    results = run_together([lambda i=i: upload(i) for i in range(browsers)])
    for status, headers, page in results:
        assert status == 302, page[:2000]
        assert urlsplit(headers["Location"]).path == f"/documents/{doc_id}"
        assert not LOCK_WORDS.search(page)

    def rows() -> list[tuple[int, str, int, str | None]]:
        return [(v.number, v.sha256, v.uploaded_by_id, v.change_note) for v in db.session.scalars(
            select(DocumentVersion).where(DocumentVersion.document_id == doc_id).order_by(DocumentVersion.number))]

    versions = read(app, rows)
    assert [v[0] for v in versions] == list(range(1, browsers + 2))
    by_sha = {sha: (number, uploader, note) for number, sha, uploader, note in versions}
    for i, content in enumerate(contents):
        number, uploader, note = by_sha[hashlib.sha256(content).hexdigest()]
        assert uploader == people[i].id and note == f"cambio {i}" and number >= 2

    def chain() -> tuple[list[str], list[str]]:
        report = audit.verify_chain()
        uploads = list(db.session.scalars(select(AuditEvent.object_id).where(AuditEvent.action == "version.upload")
                                          .order_by(AuditEvent.seq)))
        return report.errors, uploads

    errors, uploads = read(app, chain)
    assert errors == []
    assert sorted(uploads) == sorted(f"PR-SAF-003#{n}" for n in range(1, browsers + 2))

    objects = app.config["OBJECTS_DIR"]
    stored = {p.name for p in objects.rglob("*") if p.is_file() and p.parent.parent.parent == objects}
    assert {hashlib.sha256(c).hexdigest() for c in contents} <= stored
    assert not any((objects / "tmp").iterdir())

    assert not [r for r in caplog.records if LOCK_WORDS.search(r.getMessage())]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], [r.getMessage() for r in caplog.records]

    # Every browser sees the whole history afterwards.
    status, _h, page = clients[-1].request("GET", f"/documents/{doc_id}")
    assert status == 200
    for n in range(1, browsers + 2):
        assert f'data-testid="version-status-{n}"' in page


def test_two_people_registering_the_same_code_at_once_get_one_document_and_a_clear_refusal(app, server, make_user,
                                                                                         caplog):
    caplog.set_level(logging.INFO)
    people = [make_user("quality_officer") for _ in range(2)]
    clients = []
    for person in people:
        b = Browser(server)
        b.login(person.email)
        clients.append(b)
    barrier = threading.Barrier(2)

    def register(i: int) -> Any:
        b = clients[i]
        body, ctype = b.multipart({"code": "PR-QA-777", "title": f"Registro {i}", "kind": "procedure",
                                   "language": "es", "confidentiality": "normal", "owner": str(people[i].id),
                                   "review_interval_months": "12", "csrf_token": b.token("/documents/new")},
                                  f"registro {i}.pdf", pdf(f"same code {i}", padding=2 * MB))
        return b.post_streamed("/documents/new", body, ctype, barrier, {"X-Requested-With": "XMLHttpRequest"})

    results = run_together([lambda i=i: register(i) for i in range(2)])
    statuses = sorted(status for status, _h, _p in results)
    assert statuses == [200, 409], [(s, p[:300]) for s, _h, p in results]
    for status, _h, page in results:
        assert not LOCK_WORDS.search(page)
        if status == 409:
            assert "A document with the code PR-QA-777 already exists." in page

    def rows() -> tuple[int, int]:
        docs = db.session.scalars(select(Document).where(Document.code == "PR-QA-777")).all()
        versions = db.session.scalars(select(DocumentVersion)).all()
        return len(docs), len(versions)

    assert read(app, rows) == (1, 1)
    assert read(app, lambda: audit.verify_chain().errors) == []
    objects = app.config["OBJECTS_DIR"]
    assert len([p for p in objects.rglob("*") if p.is_file() and p.parent.parent.parent == objects]) == 1
    assert not any((objects / "tmp").iterdir())
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], [r.getMessage() for r in caplog.records]
