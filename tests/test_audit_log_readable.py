"""The audit log as a person reads it: translated sentences, links only where the reader may look, changes as a
field table, the action and user filters as lists, and a page that costs the same queries for 5 events or 50."""

from __future__ import annotations

import ast
import csv
import html
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, select
from support import CSRFClient, new_document, pdf, upload_version

from auditdocs.db import write_transaction
from auditdocs.extensions import db
from auditdocs.models import Document, User
from auditdocs.models.users import ADMIN, QUALITY_OFFICER
from auditdocs.policy import CAPABILITIES
from auditdocs.services import audit
from auditdocs.services import documents as svc
from auditdocs.web.audit_sentences import ACTIONS

ROW = re.compile(r'<tr data-testid="event" data-seq="(\d+)" data-action="([^"]*)">(.*?)</tr>\s*'
                 r"(?=<tr data-testid|</tbody>\s*</table>\s*</div>)", re.S)
SENTENCE = re.compile(r'<span data-testid="sentence">(.*?)</span>', re.S)
TAG = re.compile(r"<[^>]+>")


def login(client: Any, user: Any) -> Any:
    resp = client.post_form("/login", {"email": user.email, "password": user.password})
    assert resp.status_code == 302
    return client


def rows(client: Any, query: str = "") -> list[dict[str, Any]]:
    """Each event row: seq, action, the sentence as text, the sentence's HTML, and the change table's cells."""
    resp = client.get("/audit/" + query)
    assert resp.status_code == 200
    out = []
    for seq, action, body in ROW.findall(resp.get_data(as_text=True)):
        sentence = SENTENCE.search(body).group(1)
        cells = [[html.unescape(TAG.sub("", c)).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", tr, re.S)]
                 for tr in re.findall(r"<tr>(.*?)</tr>", body, re.S)]
        out.append({"seq": int(seq), "action": action, "text": html.unescape(TAG.sub("", sentence)),
                    "html": sentence, "changes": cells, "row": body})
    return out


def switch_language(client: CSRFClient, lang: str) -> None:
    assert client.post_form("/lang", {"lang": lang}, page="/").status_code == 302


@pytest.fixture
def people(app: Flask, make_user: Any) -> dict[str, Any]:
    """Rosa registers PR-QA-001 and uploads v2 and v3; Jorge approves v1 and v3 and rejects v2."""
    rosa = make_user("quality_officer", email="rosa@example.org", name="Rosa Huamán")
    jorge = make_user("quality_officer", email="jorge@example.org", name="Jorge Quispe")
    admin = make_user("admin", email="admin@example.org", name="Ana Admin")
    rosa_client = login(app.test_client(), rosa)
    doc_id = new_document(rosa_client, rosa.id, code="PR-QA-001", title="Control de documentos")
    jorge_client = login(app.test_client(), jorge)
    assert jorge_client.post_form(f"/documents/{doc_id}/versions/1/approve", {}, page="/").status_code == 302
    for n in (2, 3):
        assert upload_version(rosa_client, doc_id, pdf(f"v{n}"), f"v{n}.pdf").status_code == 302
    assert jorge_client.post_form(f"/documents/{doc_id}/versions/2/reject", {"reason": "Falta la firma"},
                                  page="/").status_code == 302
    assert jorge_client.post_form(f"/documents/{doc_id}/versions/3/approve", {}, page="/").status_code == 302
    return {"rosa": rosa, "jorge": jorge, "admin": admin, "doc_id": doc_id}


def test_events_read_as_sentences_in_english_and_spanish(app, client, people):
    login(client, people["admin"])
    doc = people["doc_id"]
    texts = [r["text"] for r in rows(client)]
    for sentence in ("Rosa Huamán registered PR-QA-001", "Rosa Huamán uploaded PR-QA-001 v1",
                     "Jorge Quispe approved PR-QA-001 v1", "Jorge Quispe rejected PR-QA-001 v2",
                     "Jorge Quispe approved PR-QA-001 v3", "Rosa Huamán logged in", "Ana Admin logged in"):
        assert sentence in texts, sentence
    approved = next(r for r in rows(client) if r["text"] == "Jorge Quispe approved PR-QA-001 v3")
    assert f'<a href="/documents/{doc}">PR-QA-001 v3</a>' in approved["html"]
    assert f'<a href="/admin/users/{people["jorge"].id}">Jorge Quispe</a>' in approved["html"]
    assert "version.approve" in approved["row"]  # the code stays beside the sentence for those who search it

    switch_language(client, "es")
    texts = [r["text"] for r in rows(client)]
    for sentence in ("Rosa Huamán registró PR-QA-001", "Rosa Huamán subió PR-QA-001 v1",
                     "Jorge Quispe aprobó PR-QA-001 v3", "Jorge Quispe rechazó PR-QA-001 v2",
                     "Ana Admin inició sesión"):
        assert sentence in texts, sentence
    rejected = next(r for r in rows(client) if r["action"] == "version.reject")
    assert ["Estado", "Borrador", "Rechazada"] in rejected["changes"]
    assert ["Motivo", "", "Falta la firma"] in rejected["changes"]


def test_other_objects_and_unknown_actions_read_well(app, client, people):
    with app.app_context(), write_transaction():
        audit.record("widget.frob", "widget", 7, actor_label="cli", new={"speed": 3})
        audit.record("store.gc", "store", None, actor_label="cli", new={"bytes": 10})
    login(client, people["admin"])
    texts = {r["action"]: r for r in rows(client)}
    assert texts["widget.frob"]["text"] == "The command line: “widget.frob” on widget 7"
    assert texts["widget.frob"]["changes"] == [["Field", "Value"], ["speed", "3"]]  # nothing before: values only
    assert texts["store.gc"]["text"] == "The command line moved unreferenced stored files to quarantine"


def test_an_edit_shows_a_field_table_with_translated_labels_and_values(app, client, people):
    with app.app_context(), write_transaction():
        doc = db.session.scalar(select(Document).where(Document.code == "PR-QA-001"))
        svc.update_metadata(doc, {"title": "Control de la información documentada", "kind": "policy",
                                  "review_interval_months": 24},
                            actor=db.session.get(User, people["rosa"].id))
    login(client, people["admin"])
    [edit] = rows(client, "?action=document.update")
    assert edit["text"] == "Rosa Huamán edited the details of PR-QA-001"
    table = edit["changes"]
    assert table[0] == ["Field", "Before", "After"]
    assert ["Title", "Control de documentos", "Control de la información documentada"] in table
    assert ["Kind", "Procedure", "Policy"] in table
    assert ["Review interval (months)", "12", "24"] in table
    assert any(r[0] == "Next review" for r in table)  # the date moved too, shown in the reader's format
    assert "{" not in edit["row"]  # no raw JSON on the page

    switch_language(client, "es")
    [edit] = rows(client, "?action=document.update")
    assert ["Tipo", "Procedimiento", "Política"] in edit["changes"]
    # The CSV keeps the raw fields for machines.
    with client.get("/audit/export.csv?action=document.update") as resp:
        lines = list(csv.reader(io.StringIO(resp.get_data(as_text=True)[1:])))
    assert lines[0] == ["seq", "occurred_at_utc", "actor", "action", "object_type", "object_id", "old_values",
                        "new_values", "ip", "prev_hash", "hash"]
    assert lines[1][2:6] == ["rosa@example.org", "document.update", "document", "PR-QA-001"]
    assert json.loads(lines[1][6])["kind"] == "procedure" and json.loads(lines[1][7])["kind"] == "policy"


def test_filters_are_lists_of_actions_and_of_people(app, client, people):
    login(client, people["admin"])
    page = client.get("/audit/").get_data(as_text=True)
    assert '<select class="form-select form-select-sm" id="a-action" name="action">' in page
    assert '<option value="version.approve" >Version approved</option>' in page
    assert '<option value="version.preview" >Version previewed</option>' in page
    assert f'<option value="{people["rosa"].id}" >Rosa Huamán (rosa@example.org)</option>' in page
    assert 'type="text" name="user"' not in page and 'id="a-user" name="user" value' not in page

    approvals = rows(client, "?action=version.approve")
    assert [r["text"] for r in approvals] == ["Jorge Quispe approved PR-QA-001 v3",
                                             "Jorge Quispe approved PR-QA-001 v1"]
    assert 'value="version.approve" selected' in client.get("/audit/?action=version.approve").get_data(as_text=True)
    by_rosa = rows(client, f"?user={people['rosa'].id}")
    assert by_rosa and all(r["text"].startswith("Rosa Huamán ") for r in by_rosa)
    assert {r["action"] for r in by_rosa} == {"auth.login", "document.create", "version.upload"}
    both = rows(client, f"?user={people['jorge'].id}&action=version.reject")
    assert [r["text"] for r in both] == ["Jorge Quispe rejected PR-QA-001 v2"]
    no_account = rows(client, "?user=none")
    assert {r["action"] for r in no_account} == {"user.create"}  # the fixture's accounts, made as by the CLI
    assert all(r["text"].startswith("The command line created the account of ") for r in no_account)


@pytest.fixture
def officers_read_the_log(monkeypatch: pytest.MonkeyPatch) -> None:
    """A deployment that lets quality officers read the trail: the page must still hide what they may not see."""
    monkeypatch.setitem(CAPABILITIES, "view_audit_log", frozenset({ADMIN, QUALITY_OFFICER}))


def test_objects_are_linked_only_when_the_reader_may_see_them(app, client, people, make_user,
                                                               officers_read_the_log):
    owner = make_user("compliance_officer", name="Luis Dueño")
    owner_client = login(app.test_client(), owner)
    secret = new_document(owner_client, owner.id, code="PR-SECRETO-9", title="Plan de investigación confidencial",
                          confidentiality="restricted")
    login(client, people["rosa"])
    events = {r["text"]: r for r in rows(client)}
    created = events["Luis Dueño registered PR-SECRETO-9"]
    assert "<a " not in created["html"]  # neither the restricted document nor its owner's account is linked
    assert "Not shown: you may not see this object." in created["row"] and not created["changes"]
    uploaded = events["Luis Dueño uploaded PR-SECRETO-9 v1"]
    assert "<a " not in uploaded["html"] and not uploaded["changes"]
    page = client.get("/audit/").get_data(as_text=True)
    assert "Plan de investigación confidencial" not in page
    assert f'/documents/{secret}"' not in page
    visible = events["Jorge Quispe approved PR-QA-001 v3"]
    assert f'<a href="/documents/{people["doc_id"]}">PR-QA-001 v3</a>' in visible["html"]
    assert "/admin/users/" not in page  # officers do not manage accounts: people are named, not linked

    admin = login(app.test_client(), people["admin"])
    created = {r["text"]: r for r in rows(admin)}["Luis Dueño registered PR-SECRETO-9"]
    assert f'<a href="/documents/{secret}">PR-SECRETO-9</a>' in created["html"]
    assert ["Title", "Plan de investigación confidencial"] in created["changes"]


def test_a_page_costs_the_same_queries_for_few_events_as_for_many(app, client, people, make_user):
    login(client, people["admin"])
    with app.app_context():
        engine = db.engine

    def queries(query: str) -> int:
        seen: list[str] = []

        def count(*args: Any) -> None:
            seen.append(args[2])

        event.listen(engine, "before_cursor_execute", count)
        try:
            client.get("/audit/" + query)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(seen)

    few = queries("?action=version.approve")
    for n in range(10):
        user = make_user("quality_officer", name=f"Persona {n}")
        other = login(app.test_client(), user)
        new_document(other, user.id, code=f"PR-N1-{n}")
    assert len(rows(client)) == 50
    assert queries("") == few


def _recorded_actions() -> set[str]:
    """Every action name the code passes to the trail as a literal (record, record_access, note, ACTION = ...)."""
    found: set[str] = set()
    root = Path(__file__).resolve().parent.parent / "auditdocs"

    def literals(node: ast.AST) -> set[str]:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return {node.value}
        if isinstance(node, ast.IfExp):
            return literals(node.body) | literals(node.orelse)
        return set()

    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "attr", getattr(node.func, "id", ""))
                if name in {"record", "record_access"} and node.args:
                    found |= literals(node.args[0])
                found |= {v for kw in node.keywords if kw.arg == "action" for v in literals(kw.value)}
            elif isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "ACTION" for t in node.targets):
                found |= literals(node.value)
    return {a for a in found if re.fullmatch(r"[a-z_]+\.[a-z_]+", a)}


def test_every_action_the_code_records_has_a_sentence():
    recorded = _recorded_actions()
    assert {"version.approve", "version.preview", "record.revise", "auth.login_failed", "user.disable"} <= recorded
    assert recorded - set(ACTIONS) == set()
    # Actions named by f-strings or tuples in the code, checked by name.
    assert {f"{kind}.update" for kind in ("site", "process")} | {"access.not_found", "access.forbidden"} <= set(
        ACTIONS)
