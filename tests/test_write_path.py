"""The write path over real HTTP: what a person may do is decided after their upload has arrived, from their
account as it is then, not as it was when the request began."""

from __future__ import annotations

import time

import pytest
from flask import Flask
from sqlalchemy import func, select
from support import multipart_body, open_post, pdf, serve

from auditdocs.db import write_transaction
from auditdocs.extensions import db
from auditdocs.models import Document, User
from auditdocs.services.uploads import get_store
from auditdocs.services.users import set_role

pytestmark = pytest.mark.sqlite_only  # the server thread serves the per-test SQLite copy


def _wait_for_the_upload_to_stream(app: Flask) -> None:
    """Until the file part is being written into the store's temp area (the login gate is behind it)."""
    with app.app_context():
        temp = get_store().temp_dir
    deadline = time.monotonic() + 10
    while not (temp.is_dir() and any(temp.iterdir())):
        assert time.monotonic() < deadline, "the upload never started streaming"
        time.sleep(0.01)


def test_a_role_taken_away_while_the_upload_streams_is_refused(app, client, login_as):
    luis = login_as("compliance_officer")
    fields = {"csrf_token": client.csrf_token("/documents/new"), "code": "PR-RACE-001", "title": "Compras",
              "kind": "procedure", "language": "es", "confidentiality": "normal", "owner": str(luis.id),
              "review_interval_months": "12"}
    body = multipart_body(fields, "compras.pdf", pdf("compras", padding=256 * 1024))
    with serve(app) as port:
        conn = open_post(port, client, "/documents/new", len(body))
        conn.send(body[:len(body) // 2])
        _wait_for_the_upload_to_stream(app)  # the server has let the request in and is reading the file...
        with app.app_context(), write_transaction():  # ...when an administrator makes Luis an auditor
            set_role(db.session.get(User, luis.id), "auditor")
        conn.send(body[len(body) // 2:])
        response = conn.getresponse()
        text = response.read().decode()
        conn.close()

    assert response.status == 403, text[:500]
    with app.app_context():
        assert db.session.scalar(select(func.count(Document.id))) == 0
