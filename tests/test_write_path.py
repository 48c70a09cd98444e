"""The write path over real HTTP: what a person may do is decided after their upload has arrived, from their
account as it is then, not as it was when the request began."""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from support import CSRF_RE, pdf
from werkzeug.serving import WSGIRequestHandler, make_server

from auditdocs.db import write_transaction
from auditdocs.extensions import db
from auditdocs.models import Document, User
from auditdocs.services.uploads import get_store
from auditdocs.services.users import set_role

pytestmark = pytest.mark.sqlite_only  # the server thread serves the per-test SQLite copy
BOUNDARY = "auditdocs-test-boundary"


class _Quiet(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


@pytest.fixture
def server(app: Flask) -> Iterator[int]:
    """The test's app on a free local port; yields the port."""
    httpd = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_Quiet)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd.server_port
    finally:
        httpd.shutdown()
        thread.join(5)


def _multipart(fields: dict[str, str], filename: str, content: bytes) -> tuple[bytes, bytes]:
    """The body of a browser's form post, split where the file's bytes begin and end."""
    head = b"".join(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
                    for k, v in fields.items())
    head += (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
             "Content-Type: application/pdf\r\n\r\n").encode()
    return head + content[:len(content) // 2], content[len(content) // 2:] + f"\r\n--{BOUNDARY}--\r\n".encode()


def _wait_for_the_upload_to_stream(app: Flask) -> None:
    """Until the file part is being written into the store's temp area (the login gate is behind it)."""
    with app.app_context():
        temp = get_store().temp_dir
    deadline = time.monotonic() + 10
    while not (temp.is_dir() and any(temp.iterdir())):
        assert time.monotonic() < deadline, "the upload never started streaming"
        time.sleep(0.01)


def test_a_role_taken_away_while_the_upload_streams_is_refused(app, client, login_as, server):
    luis = login_as("compliance_officer")
    token = CSRF_RE.search(client.get("/documents/new").get_data(as_text=True))
    assert token
    cookie = client.get_cookie("session")
    assert cookie is not None
    fields = {"csrf_token": token.group(1), "code": "PR-RACE-001", "title": "Compras", "kind": "procedure",
              "language": "es", "confidentiality": "normal", "owner": str(luis.id), "review_interval_months": "12"}
    first, rest = _multipart(fields, "compras.pdf", pdf("compras", padding=256 * 1024))

    conn = http.client.HTTPConnection("127.0.0.1", server, timeout=30)
    conn.putrequest("POST", "/documents/new")
    conn.putheader("Cookie", f"session={cookie.value}")
    conn.putheader("Content-Type", f"multipart/form-data; boundary={BOUNDARY}")
    conn.putheader("Content-Length", str(len(first) + len(rest)))
    conn.endheaders()
    conn.send(first)
    _wait_for_the_upload_to_stream(app)  # the server has let the request in and is reading the file...
    with app.app_context(), write_transaction():  # ...when an administrator makes Luis an auditor
        set_role(db.session.get(User, luis.id), "auditor")
    conn.send(rest)
    response: Any = conn.getresponse()
    body = response.read().decode()
    conn.close()

    assert response.status == 403, body[:500]
    with app.app_context():
        assert db.session.scalar(select(func.count(Document.id))) == 0
