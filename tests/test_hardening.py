"""Odd and hostile input through the real views: out-of-range ids and pages, NUL characters, header injection in
`next`, owners of restricted documents, error pages, and a failed login that must not hold the write lock."""

from __future__ import annotations

import html
import logging
import re
import threading
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from sqlalchemy import event, select
from support import create_document, new_document, pdf

from auditdocs.db import write_transaction
from auditdocs.extensions import db
from auditdocs.models import AuditEvent, User
from auditdocs.services import audit
from auditdocs.services import users as users_service
from auditdocs.services.security import PAIR_LIMIT

BIG = 2**64  # past any database integer
JUST_TOO_BIG = 2**31  # one past what an INTEGER column holds
NUL_MESSAGE = "The request contains characters that are not allowed (NUL)."
NUL_MESSAGE_ES = "La solicitud contiene caracteres no permitidos (NUL)."
REGISTER_ROW = re.compile(r'<td class="text-nowrap"><a href="/documents/(\d+)">([^<]+)</a>')
OWNER_OPTION = re.compile(r'<select[^>]*id="f-owner"[^>]*>(.*?)</select>', re.S)


# -- helpers ----------------------------------------------------------------------------------------------


def text_of(resp: Any) -> str:
    return html.unescape(resp.get_data(as_text=True))


def login(client: Any, user: Any) -> None:
    resp = client.post_form("/login", {"email": user.email, "password": user.password})
    assert resp.status_code == 302, text_of(resp)[:500]


def client_for(app: Any, user: Any) -> Any:
    other = app.test_client()
    login(other, user)
    return other


def register_codes(resp: Any) -> list[str]:
    assert resp.status_code == 200, text_of(resp)[:1000]
    return [code for _id, code in REGISTER_ROW.findall(resp.get_data(as_text=True))]


def owner_names(resp: Any) -> list[str]:
    assert resp.status_code == 200, text_of(resp)[:1000]
    match = OWNER_OPTION.search(resp.get_data(as_text=True))
    assert match, "no owner filter on the register"
    return [html.unescape(n) for n in re.findall(r'<option value="\d+"[^>]*>([^<]*)</option>', match.group(1))]


def assert_nul_refused(resp: Any, message: str = NUL_MESSAGE) -> None:
    assert resp.status_code == 400, (resp.status_code, text_of(resp)[:1000])
    page = text_of(resp)
    assert 'data-testid="error-page"' in page
    assert message in page


def events(app: Any, action: str) -> list[AuditEvent]:
    with app.app_context():
        rows = list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                       .order_by(AuditEvent.seq)))
        db.session.expunge_all()
        db.session.remove()
    return rows


@pytest.fixture
def admin(app: Any, make_user: Any) -> Any:
    """A logged-in administrator's browser; `.user_id` is their id (documents are theirs by default)."""
    user = make_user("admin", name="Ana Admin")
    browser = client_for(app, user)
    browser.user_id = user.id
    return browser


# -- out-of-range integers --------------------------------------------------------------------------------


@pytest.mark.parametrize("number", [BIG, JUST_TOO_BIG, 10**30])
def test_ids_no_database_integer_holds_are_404(app, admin, number):
    doc_id = new_document(admin, admin.user_id, code="PR-INT-001")
    for url in (f"/documents/{number}", f"/documents/{number}/versions/1/download",
                f"/documents/{doc_id}/versions/{number}/download", f"/admin/users/{number}"):
        resp = admin.get(url)
        assert resp.status_code == 404, (url, resp.status_code, text_of(resp)[:500])
        assert 'data-testid="error-page"' in text_of(resp)
    resp = admin.post_form(f"/documents/{number}/withdraw", {"reason": "prueba"}, page="/")
    assert resp.status_code == 404
    assert admin.get(f"/documents/{doc_id}").status_code == 200  # the real one still works


@pytest.mark.parametrize("page", ["²", "¹", "٣", str(BIG), "99999999999999999999", "-1", "0", "1e3", " ", "x"])
def test_odd_page_numbers_show_page_1(app, admin, page):
    new_document(admin, admin.user_id, code="PR-PAGE-001")
    resp = admin.get(f"/documents/?page={quote(page)}")
    assert register_codes(resp) == ["PR-PAGE-001"], page
    resp = admin.get(f"/audit/?page={quote(page)}")
    assert resp.status_code == 200, text_of(resp)[:500]
    assert "<code>document.create</code>" in resp.get_data(as_text=True)  # the newest events: page 1


@pytest.mark.parametrize("value", ["²", str(BIG), str(JUST_TOO_BIG), "99999999999999999999"])
def test_odd_owner_and_clause_filters_are_ignored(app, admin, value):
    new_document(admin, admin.user_id, code="PR-FILTER-001")
    for param in ("owner", "clause"):
        resp = admin.get(f"/documents/?{param}={quote(value)}")
        assert register_codes(resp) == ["PR-FILTER-001"], (param, value)


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "2024-02-30", "²"])
def test_odd_audit_dates_are_ignored(app, admin, day):
    for param in ("start", "end"):
        resp = admin.get(f"/audit/?{param}={quote(day)}")
        assert resp.status_code == 200, (param, day, text_of(resp)[:500])
        assert "<code>auth.login</code>" in resp.get_data(as_text=True)
        resp = admin.get(f"/audit/export.csv?{param}={quote(day)}")
        assert resp.status_code == 200 and "auth.login" in resp.get_data(as_text=True)


# -- NUL characters -----------------------------------------------------------------------------------------


def test_nul_in_the_login_email_is_a_clear_400(app, client, make_user):
    user = make_user("quality_officer")
    resp = client.post_form("/login", {"email": user.email + "\x00", "password": user.password})
    assert_nul_refused(resp)
    resp = client.post_form("/login", {"email": user.email, "password": "wrong\x00password"})
    assert_nul_refused(resp)
    assert not events(app, "auth.login_failed")  # refused before any check, nothing recorded
    login(client, user)  # the client and the account are fine afterwards


def test_nul_in_the_query_string_is_a_clear_400(app, client, login_as):
    login_as("admin")
    for url in ("/documents/?q=PR%00", "/documents/?q%00=x", "/documents/?owner=1%00", "/audit/?user=%00",
                "/audit/?action=auth%00", "/audit/?object=a%00b", "/audit/export.csv?user=%00",
                "/clauses/?q=%00"):
        assert_nul_refused(client.get(url))
    assert client.get("/documents/?q=PR").status_code == 200


def test_nul_in_a_path_parameter_is_a_clear_400(app, client, login_as):
    login_as("quality_officer")
    assert client.get("/clauses/iso9001_2015/4.1").status_code == 200
    assert_nul_refused(client.get("/clauses/iso9001_2015/4.1%00"))
    assert_nul_refused(client.get("/clauses/iso9001%00/4.1"))


def test_nul_in_form_fields_is_a_clear_400_but_file_contents_may_hold_nul(app, admin):
    binary = pdf("PR-NUL-001", binary=True)
    resp = create_document(admin, admin.user_id, code="PR-NUL-001", title="Control\x00de documentos", content=binary)
    assert_nul_refused(resp)
    resp = create_document(admin, admin.user_id, code="PR-NUL-001\x00", content=binary)
    assert_nul_refused(resp)
    with app.app_context():
        assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "document.create")) is None
        db.session.remove()
    content = pdf("PR-NUL-002", binary=True)  # the PDF itself has NUL bytes: fine
    doc_id = new_document(admin, admin.user_id, code="PR-NUL-002", content=content)
    resp = admin.get(f"/documents/{doc_id}/versions/1/download")
    try:
        assert resp.status_code == 200 and resp.get_data() == content
    finally:
        resp.close()
    resp = admin.post_form(f"/documents/{doc_id}/withdraw", {"reason": "obsoleto\x00"}, page="/")
    assert_nul_refused(resp)


def test_nul_page_is_in_the_users_language(app, client, make_user):
    client.post_form("/lang", {"lang": "es"})
    user = make_user("quality_officer")
    assert_nul_refused(client.post_form("/login", {"email": user.email + "\x00", "password": "x"}), NUL_MESSAGE_ES)


def test_nul_for_json_clients_is_a_json_400(app, client, login_as):
    login_as("quality_officer")
    resp = client.get("/documents/?q=%00", headers={"X-Requested-With": "XMLHttpRequest"})
    assert resp.status_code == 400
    assert resp.get_json() == {"ok": False, "error": NUL_MESSAGE, "title": "Bad request", "status": 400}


def test_anonymous_nul_requests_still_go_to_the_login_page(app, client):
    resp = client.get("/documents/?q=%00")
    assert resp.status_code == 302 and urlsplit(resp.location).path == "/login"


# -- redirect targets ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["/\r\nX-Injected: 1", "/documents/\nSet-Cookie: a=b", "/\t/evil.example",
                                    "/\x7f", "/docs\x1b[31m", "/ok\rno"])
def test_next_with_control_characters_goes_to_the_fallback(app, client, make_user, target):
    user = make_user("quality_officer")
    resp = client.post_form(f"/login?next={quote(target)}", {"email": user.email, "password": user.password})
    assert resp.status_code == 302, text_of(resp)[:500]
    assert resp.headers["Location"] == "/"
    assert "X-Injected" not in resp.headers and "Set-Cookie: a=b" not in str(resp.headers)
    resp = client.post_form("/lang", {"lang": "es", "next": target}, page="/")
    assert resp.status_code == 302 and resp.headers["Location"] == "/"


def test_a_plain_next_still_works(app, client, make_user):
    user = make_user("quality_officer")
    resp = client.post_form("/login?next=" + quote("/documents/?q=PR"), {"email": user.email,
                                                                         "password": user.password})
    assert resp.status_code == 302 and resp.headers["Location"] == "/documents/?q=PR"


# -- owners of restricted documents -------------------------------------------------------------------------


def test_owner_filter_lists_only_owners_of_visible_documents(app, make_user):
    admin_user = make_user("admin", name="Ana Admin")
    rosa = make_user("compliance_officer", name="Rosa Reservada")
    luis = make_user("quality_officer", name="Luis Visible")
    pedro = make_user("quality_officer", name="Pedro Compartido")
    maria = make_user("auditor", name="María Auditora")
    admin = client_for(app, admin_user)
    new_document(admin, luis.id, code="PR-OPEN-001")
    new_document(admin, rosa.id, code="PR-SECRET-001", confidentiality="restricted")
    shared = new_document(admin, rosa.id, code="PR-SECRET-002", confidentiality="restricted")

    assert owner_names(admin.get("/documents/")) == ["Luis Visible", "Rosa Reservada"]
    assert owner_names(client_for(app, rosa).get("/documents/")) == ["Luis Visible", "Rosa Reservada"]
    outsider = client_for(app, make_user("quality_officer", name="Otro Usuario"))
    resp = outsider.get("/documents/")
    assert owner_names(resp) == ["Luis Visible"]
    assert "Rosa Reservada" not in text_of(resp)
    assert register_codes(outsider.get(f"/documents/?owner={rosa.id}")) == []  # filtering by id shows nothing

    # Shared with Pedro: he sees that document, so its owner is listed for him.
    edit = admin.post_form(f"/documents/{shared}/edit", {
        "title": "Documento PR-SECRET-002", "kind": "procedure", "language": "es",
        "confidentiality": "restricted", "owner_id": rosa.id, "shared_with": [pedro.id],
        "review_interval_months": "12"}, page="/")
    assert edit.status_code == 302, text_of(edit)[:1500]
    assert owner_names(client_for(app, pedro).get("/documents/")) == ["Luis Visible", "Rosa Reservada"]
    # Auditors see approved documents only: nothing is approved yet, so nobody is listed.
    assert owner_names(client_for(app, maria).get("/documents/")) == []


# -- error pages --------------------------------------------------------------------------------------------


def test_a_missing_stored_file_is_410_with_advice_and_logged_as_error(app, admin, caplog):
    doc_id = new_document(admin, admin.user_id, code="PR-GONE-001")
    with app.app_context():
        from auditdocs.models import DocumentVersion

        sha = db.session.scalar(select(DocumentVersion.sha256).where(DocumentVersion.document_id == doc_id))
        db.session.remove()
    for path in app.config["OBJECTS_DIR"].rglob(sha):
        path.chmod(0o600)
        path.unlink()
    with caplog.at_level(logging.ERROR, logger="auditdocs.web.errors"):
        resp = admin.get(f"/documents/{doc_id}/versions/1/download")
    assert resp.status_code == 410
    assert ("The stored file for this version is missing. Your administrator should run `auditdocs verify`."
            in text_of(resp))
    assert any(r.levelno == logging.ERROR and "410" in r.getMessage() for r in caplog.records)


def test_every_status_the_app_answers_has_its_own_message(app):
    from auditdocs.web.errors import MESSAGES

    assert {400, 401, 403, 404, 405, 409, 410, 413, 429, 500} <= set(MESSAGES)
    texts = [str(msg) for _title, msg in MESSAGES.values()]
    assert len(set(texts)) == len(texts)


# -- the write lock during the password check (SQLite) ------------------------------------------------------


@pytest.mark.sqlite_only
def test_a_failed_login_does_not_hold_the_write_lock_during_the_password_check(app, make_user, monkeypatch):
    """While one login sits in the password check, another user's write and an audit write get through.

    A write lock held by the login would make them fail: every connection waits at most 200 ms for it."""
    writer = make_user("quality_officer", name="Wanda Writer")
    target = make_user("quality_officer", name="Tomás Target")
    writer_client = client_for(app, writer)
    with app.app_context():
        engine = db.engine
        language = db.session.get(User, writer.id).language
        db.session.remove()
    other_language = "en" if language == "es" else "es"

    def _short_busy_timeout(dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
        dbapi_conn.execute("PRAGMA busy_timeout=200")

    event.listen(engine, "checkout", _short_busy_timeout)

    real_check = users_service.check_password_hash
    in_check, release = threading.Event(), threading.Event()

    def paused_check(pwhash: str, password: str) -> bool:
        if password == "wrong-password-1":
            in_check.set()
            assert release.wait(30), "the test never released the password check"
        return real_check(pwhash, password)

    monkeypatch.setattr(users_service, "check_password_hash", paused_check)
    login_client = app.test_client()
    token = login_client.csrf_token()
    outcome: dict[str, Any] = {}

    def attempt() -> None:
        try:
            outcome["resp"] = login_client.post("/login", data={
                "email": target.email, "password": "wrong-password-1", "csrf_token": token})
        except BaseException as exc:  # reported in the test's thread
            outcome["error"] = exc

    thread = threading.Thread(target=attempt, name="slow-login")
    thread.start()
    try:
        assert in_check.wait(30), "the login never reached the password check"
        # 1. Another user's request that writes (the saved language preference).
        resp = writer_client.post_form("/lang", {"lang": other_language}, page="/")
        assert resp.status_code == 302, text_of(resp)[:1000]
        # 2. A direct audit write in a writer transaction (BEGIN IMMEDIATE).
        with app.app_context():
            with write_transaction():
                audit.record("test.write_during_login", "test", 1, actor_label="test")
            saved = db.session.get(User, writer.id).language
            db.session.remove()
        assert saved == other_language
        assert thread.is_alive(), "the login finished before the writes: the test proved nothing"
    finally:
        release.set()
        thread.join(60)
        event.remove(engine, "checkout", _short_busy_timeout)
    assert not thread.is_alive()
    assert "error" not in outcome, outcome.get("error")
    resp = outcome["resp"]
    assert resp.status_code == 401, text_of(resp)[:1000]
    failed = events(app, "auth.login_failed")
    written = events(app, "test.write_during_login")
    assert [e.object_id for e in failed] == [target.email]
    assert failed[0].seq > written[0].seq  # the failure was recorded after the password check, not before


@pytest.mark.sqlite_only
def test_a_successful_login_writes_only_after_the_password_check(app, client, make_user, monkeypatch):
    user = make_user("quality_officer")
    real_check = users_service.check_password_hash
    seen: list[bool] = []

    def probing_check(pwhash: str, password: str) -> bool:
        # A writer transaction would hold SQLite's RESERVED lock: another BEGIN IMMEDIATE would fail at once.
        import sqlite3

        con = sqlite3.connect(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"), timeout=0.05,
                              isolation_level=None)
        try:
            con.execute("BEGIN IMMEDIATE")
            con.execute("ROLLBACK")
            seen.append(True)
        except sqlite3.OperationalError:
            seen.append(False)
        finally:
            con.close()
        return real_check(pwhash, password)

    monkeypatch.setattr(users_service, "check_password_hash", probing_check)
    login(client, user)
    assert client.post_form("/login", {"email": "nobody@example.org", "password": "x" * 12}).status_code == 302
    assert seen == [True]  # the second post is redirected: already logged in, no check
    with app.app_context():
        row = db.session.get(User, user.id)
        assert row.last_login_at is not None
        db.session.remove()
    assert [e.object_id for e in events(app, "auth.login")] == [str(user.id)]


def test_throttling_still_answers_429(app, client, make_user):
    user = make_user("quality_officer")
    for _ in range(PAIR_LIMIT):
        assert client.post_form("/login", {"email": user.email, "password": "wrong-password"}).status_code == 401
    resp = client.post_form("/login", {"email": user.email, "password": user.password})
    assert resp.status_code == 429
    assert "Too many attempts" in text_of(resp)
    assert len(events(app, "auth.login_throttled")) == 1
    assert not events(app, "auth.login")
