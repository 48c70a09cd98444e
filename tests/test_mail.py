"""E-mail against a real SMTP server on a local port: approval requests go to every possible approver but the author,
each in their own language; nothing goes while SMTP is unset; a server that is down never fails the upload; a reset
password can travel by e-mail instead of being shown."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest
from smtp_box import Mailbox, free_port, smtp_config, smtp_server
from sqlalchemy import select
from support import PASSWORD, create_document, new_document, pdf, upload_version

from auditdocs.db import write_transaction
from auditdocs.extensions import db
from auditdocs.models import AuditEvent, DocumentVersion, User


@pytest.fixture
def box() -> Iterator[Mailbox]:
    with smtp_server() as mailbox:
        yield mailbox


def _language(app: Any, user: Any, lang: str | None) -> None:
    with app.app_context(), write_transaction():
        db.session.get_one(User, user.id).language = lang


@pytest.fixture
def people(app: Any, make_user: Any) -> dict[str, Any]:
    """Two quality officers (one reads Spanish), an admin, a compliance officer who uploads, an external auditor."""
    team = {"rosa": make_user("quality_officer", name="Rosa Huamán"), "john": make_user("quality_officer"),
            "ana": make_user("admin"), "luis": make_user("compliance_officer", name="Luis Quispe"),
            "audrey": make_user("auditor")}
    _language(app, team["rosa"], "es")
    _language(app, team["john"], "en")
    return team


def _login(client: Any, user: Any, password: str = PASSWORD) -> Any:
    return client.post_form("/login", {"email": user.email, "password": password})


def test_a_new_draft_asks_every_possible_approver_but_its_author_each_in_their_language(app, client, box, people):
    app.config.update(smtp_config(box))
    _login(client, people["luis"])
    doc_id = new_document(client, people["luis"].id, code="PR-QA-007", title="Control de registros",
                          change_note="Primera emisión")

    # Approvers: the two quality officers and the admin; never the compliance officer who uploaded it, nor the auditor.
    assert box.recipients == sorted([people["rosa"].email, people["john"].email, people["ana"].email])
    (rosa,) = box.to(people["rosa"].email)
    assert rosa.subject == "[auditdocs] PR-QA-007 v1 espera su aprobación"
    assert "Luis Quispe subió la versión v1 de PR-QA-007 «Control de registros»" in rosa.body
    assert "Nota del cambio: Primera emisión" in rosa.body
    assert f"http://localhost/documents/{doc_id}" in rosa.body
    (john,) = box.to(people["john"].email)
    assert john.subject == "[auditdocs] PR-QA-007 v1 awaits your approval"
    assert "Luis Quispe uploaded version v1 of PR-QA-007 “Control de registros”" in john.body
    assert str(john.message["From"]) == "auditdocs <auditdocs@example.org>"


def test_an_approvers_own_upload_is_not_sent_to_them(app, client, box, people):
    app.config.update(smtp_config(box))
    _login(client, people["rosa"])
    doc_id = new_document(client, people["rosa"].id, code="PR-QA-008")
    assert people["rosa"].email not in box.recipients
    assert box.recipients == sorted([people["john"].email, people["ana"].email])

    box.received.clear()  # a second version asks again
    assert upload_version(client, doc_id, pdf("v2")).status_code == 302
    assert box.recipients == sorted([people["john"].email, people["ana"].email])


def test_nothing_is_sent_while_smtp_is_unset(app, client, box, people):
    assert app.config["SMTP_HOST"] is None  # the default: AUDITDOCS_SMTP_HOST unset
    _login(client, people["luis"])
    new_document(client, people["luis"].id, code="PR-QA-009")
    assert box.received == []


def test_an_smtp_server_that_is_down_never_fails_the_upload(app, client, people, caplog):
    app.config.update({"SMTP_HOST": "127.0.0.1", "SMTP_PORT": free_port(), "SMTP_STARTTLS": False})
    _login(client, people["luis"])
    with caplog.at_level(logging.WARNING, logger="auditdocs.services.mail"):
        resp = create_document(client, people["luis"].id, code="PR-QA-010")
    assert resp.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(DocumentVersion.status)) == "draft"
    assert any("not sent" in r.getMessage() for r in caplog.records)


def test_a_reset_password_is_e_mailed_in_the_persons_language_and_never_shown(app, client, box, people):
    app.config.update(smtp_config(box))
    _login(client, people["ana"])
    rosa = people["rosa"]
    resp = client.post_form(f"/admin/users/{rosa.id}/password-reset", page=f"/admin/users/{rosa.id}")
    assert resp.status_code == 302
    page = client.get(resp.location).get_data(as_text=True)
    assert f"A new password was e-mailed to {rosa.email}" in page

    (mail,) = box.received
    assert mail.rcpt_tos == [rosa.email]
    assert mail.subject == "[auditdocs] Se restableció su contraseña"
    match = re.search(r"^((?:[a-z2-9]{4}-){3}[a-z2-9]{4})\r?$", mail.body, re.MULTILINE)
    assert match, mail.body
    password = match.group(1)
    assert password not in page
    with app.app_context():
        trail = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "user.password_reset")).one()
        assert password not in str(trail.new_values) and json.loads(trail.new_values)["delivery"] == "e-mail"

    other = app.test_client()
    assert _login(other, rosa).status_code == 401  # the old password no longer works
    resp = _login(other, rosa, password)
    assert resp.status_code == 302 and resp.location.startswith("/account/password")


def test_an_import_from_the_command_line_asks_too_with_links_to_the_configured_address(app, runner, box, make_user,
                                                                                       tmp_path):
    make_user("admin")  # the import's uploader by default
    rosa = make_user("quality_officer")
    _language(app, rosa, "es")
    app.config.update({**smtp_config(box), "BASE_URL": "https://docs.example.org/"})
    (tmp_path / "share").mkdir()
    (tmp_path / "share" / "PR-QA-020 Compras.pdf").write_bytes(pdf("compras"))
    result = runner.invoke(args=["import", str(tmp_path / "share")])
    assert result.exit_code == 0, result.output
    with app.app_context():
        doc_id = db.session.scalar(select(DocumentVersion.document_id))
    (mail,) = box.to(rosa.email)
    assert mail.subject == "[auditdocs] PR-QA-020 v1 espera su aprobación"
    assert f"https://docs.example.org/documents/{doc_id}" in mail.body


def test_a_reset_whose_e_mail_fails_is_shown_once_instead(app, client, people):
    app.config.update({"SMTP_HOST": "127.0.0.1", "SMTP_PORT": free_port(), "SMTP_STARTTLS": False})
    _login(client, people["ana"])
    john = people["john"]
    resp = client.post_form(f"/admin/users/{john.id}/password-reset", page=f"/admin/users/{john.id}")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert 'data-testid="mail-failed"' in html
    password = re.search(r'data-testid="new-password">([^<]+)<', html).group(1)
    assert _login(app.test_client(), john, password).location.startswith("/account/password")
