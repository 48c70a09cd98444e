"""Accounts: an admin corrects names and e-mails, resets a password (shown once, never kept in clear) and can force a
change at the next login, which then bars every other page; people change their own password; external auditors are
never offered as document owners."""

from __future__ import annotations

import json
import re
from typing import Any

from sqlalchemy import select
from support import PASSWORD, create_document, what_is_left

from auditdocs.db import write_transaction
from auditdocs.extensions import db
from auditdocs.models import AuditEvent, User

NEW_PASSWORD = "a-brand-new-passphrase-2026"
PASSWORD_SHOWN = re.compile(r'data-testid="new-password">([^<]+)<')


def _login(client: Any, email: str, password: str = PASSWORD) -> Any:
    return client.post_form("/login", {"email": email, "password": password})


def _user(app: Any, user_id: int) -> User:
    with app.app_context():
        user = db.session.get_one(User, user_id)
        db.session.expunge(user)
        return user


def _trail(app: Any, action: str) -> list[AuditEvent]:
    with app.app_context():
        events = list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))
        for event in events:
            db.session.expunge(event)
        return events


def _edit_form(target: Any, **changes: str) -> dict[str, str]:
    data = {"name": "Rosa Huamán", "email": target.email, "role": target.role, "active": "y"}
    data.update(changes)
    return data


def test_an_admin_corrects_a_name_and_an_e_mail(app, client, login_as, make_user):
    rosa = make_user("quality_officer", email="rosa@example.org", name="Rosa Huaman")
    login_as("admin")
    resp = client.post_form(f"/admin/users/{rosa.id}", _edit_form(rosa, email="  Rosa.Huaman@Example.org "),
                            page=f"/admin/users/{rosa.id}")
    assert resp.status_code == 302
    user = _user(app, rosa.id)
    assert (user.name, user.email) == ("Rosa Huamán", "rosa.huaman@example.org")
    (event,) = _trail(app, "user.update")
    assert json.loads(event.old_values) == {"name": "Rosa Huaman", "email": "rosa@example.org"}
    assert json.loads(event.new_values) == {"name": "Rosa Huamán", "email": "rosa.huaman@example.org"}
    assert _login(app.test_client(), "rosa.huaman@example.org").status_code == 302


def test_an_e_mail_already_taken_in_any_case_is_refused_at_its_field_in_spanish(app, client, login_as, make_user):
    make_user("quality_officer", email="jorge@example.org")
    rosa = make_user("quality_officer", email="rosa@example.org")
    login_as("admin")
    client.post_form("/lang", {"lang": "es"}, page="/")
    resp = client.post_form(f"/admin/users/{rosa.id}", _edit_form(rosa, email="JORGE@example.org", name="Otra"),
                            page=f"/admin/users/{rosa.id}")
    assert resp.status_code == 409
    html = resp.get_data(as_text=True)
    assert "Ya existe un usuario con el correo electrónico jorge@example.org." in html
    assert 'id="email"' in html and "is-invalid" in html
    user = _user(app, rosa.id)
    assert (user.email, user.name) == ("rosa@example.org", "Quality_Officer 2")  # nothing half-written
    assert _trail(app, "user.update") == []


def test_a_reset_shows_the_password_once_and_forces_a_change(app, client, login_as, make_user):
    rosa = make_user("quality_officer")
    admin = login_as("admin")
    elsewhere = app.test_client()
    assert _login(elsewhere, rosa.email).status_code == 302

    resp = client.post_form(f"/admin/users/{rosa.id}/password-reset", page=f"/admin/users/{rosa.id}")
    assert resp.status_code == 200
    password = PASSWORD_SHOWN.search(resp.get_data(as_text=True)).group(1)
    assert re.fullmatch(r"(?:[a-z2-9]{4}-){3}[a-z2-9]{4}", password)
    assert resp.headers["Cache-Control"] == "no-store"
    assert password not in client.get(f"/admin/users/{rosa.id}").get_data(as_text=True)  # shown once
    user = _user(app, rosa.id)
    assert user.must_change_password and password not in user.password_hash
    (event,) = _trail(app, "user.password_reset")
    assert event.actor_id == admin.id and password not in (event.new_values or "") + (event.old_values or "")
    assert json.loads(event.new_values) == {"must_change_password": True, "delivery": "shown once"}
    assert elsewhere.get("/").status_code == 302  # her open sessions ended

    person = app.test_client()
    assert _login(person, rosa.email).status_code == 401  # the old password stopped working
    resp = _login(person, rosa.email, password)
    assert resp.status_code == 302 and resp.location == "/account/password?next=/"
    page = person.get(resp.location).get_data(as_text=True)
    assert 'data-testid="password-change-required"' in page
    assert f'data-testid="must-change-{rosa.id}"' in client.get("/admin/users").get_data(as_text=True)


def test_a_forced_person_reaches_nothing_until_the_password_is_changed(app, client, login_as, make_user):
    rosa = make_user("quality_officer")
    login_as("admin")
    resp = client.post_form(f"/admin/users/{rosa.id}/password-reset", page=f"/admin/users/{rosa.id}")
    password = PASSWORD_SHOWN.search(resp.get_data(as_text=True)).group(1)

    person = app.test_client()
    _login(person, rosa.email, password)
    for url in ("/documents/", "/tasks/", "/", "/account/sessions", "/clauses/"):
        resp = person.get(url)
        assert resp.status_code == 302 and resp.location.startswith("/account/password"), url
    resp = person.post_form("/documents/new", {"code": "PR-X"}, page="/account/password")
    assert resp.status_code == 302 and resp.location.startswith("/account/password")
    with person.get("/static/app/app.css") as static:
        assert static.status_code == 200

    resp = person.post_form("/account/password?next=/documents/", {
        "current_password": password, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD}, page="/account/password")
    assert resp.status_code == 302 and resp.location == "/documents/"
    assert person.get("/documents/").status_code == 200  # same session, new password
    assert not _user(app, rosa.id).must_change_password
    (event,) = _trail(app, "user.password_change")
    assert json.loads(event.new_values) == {"after_reset": True}
    assert _login(app.test_client(), rosa.email, NEW_PASSWORD).status_code == 302


def test_an_admin_can_ask_for_a_new_password_without_resetting_it(app, client, login_as, make_user):
    rosa = make_user("quality_officer", name="Rosa Huamán")
    login_as("admin")
    resp = client.post_form(f"/admin/users/{rosa.id}", _edit_form(rosa, must_change_password="y"),
                            page=f"/admin/users/{rosa.id}")
    assert resp.status_code == 302
    person = app.test_client()
    assert _login(person, rosa.email).location.startswith("/account/password")
    assert [json.loads(e.new_values) for e in _trail(app, "user.must_change_password")] == [
        {"must_change_password": True}]


def test_admins_reset_others_not_themselves_and_not_disabled_accounts(app, client, login_as, make_user):
    admin = login_as("admin")
    resp = client.post_form(f"/admin/users/{admin.id}/password-reset", page=f"/admin/users/{admin.id}")
    assert resp.status_code == 302
    assert "use your account page" in client.get(resp.location).get_data(as_text=True)
    gone = make_user("quality_officer")
    with app.app_context(), write_transaction():
        db.session.get_one(User, gone.id).active = False
    resp = client.post_form(f"/admin/users/{gone.id}/password-reset", page=f"/admin/users/{gone.id}")
    assert "Enable the account before resetting its password." in client.get(resp.location).get_data(as_text=True)
    assert _trail(app, "user.password_reset") == []


def test_people_change_their_own_password(app, client, login_as):
    me = login_as("compliance_officer")
    other = app.test_client()
    _login(other, me.email)
    url = "/account/password"
    assert 'href="/account/password"' in client.get("/account/sessions").get_data(as_text=True)

    wrong = client.post_form(url, {"current_password": "not-my-password", "new_password": NEW_PASSWORD,
                                   "confirm": NEW_PASSWORD}, page=url)
    assert wrong.status_code == 400 and "The current password is not correct." in wrong.get_data(as_text=True)
    short = client.post_form(url, {"current_password": PASSWORD, "new_password": "short", "confirm": "short"},
                             page=url)
    assert short.status_code == 400 and "at least 10 characters" in short.get_data(as_text=True)
    differ = client.post_form(url, {"current_password": PASSWORD, "new_password": NEW_PASSWORD,
                                    "confirm": NEW_PASSWORD + "x"}, page=url)
    assert differ.status_code == 400 and "Passwords differ." in differ.get_data(as_text=True)
    assert _trail(app, "user.password_change") == []

    done = client.post_form(url, {"current_password": PASSWORD, "new_password": NEW_PASSWORD,
                                  "confirm": NEW_PASSWORD}, page=url)
    assert done.status_code == 302 and done.location == "/"
    assert client.get("/").status_code == 200  # this session goes on
    assert other.get("/").status_code == 302  # the other one ended
    (event,) = _trail(app, "user.password_change")
    assert event.new_values is None  # nothing about the password itself
    assert _login(app.test_client(), me.email).status_code == 401
    assert _login(app.test_client(), me.email, NEW_PASSWORD).status_code == 302


def test_an_external_auditor_changes_their_own_password_too(app, client, login_as):
    me = login_as("auditor")
    resp = client.post_form("/account/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD,
                                                  "confirm": NEW_PASSWORD}, page="/account/password")
    assert resp.status_code == 302
    assert _login(app.test_client(), me.email, NEW_PASSWORD).status_code == 302


def test_external_auditors_are_never_offered_as_document_owners(app, client, login_as, make_user):
    audrey = make_user("auditor", email="audrey@example.org")
    luis = make_user("compliance_officer", email="luis@example.org")
    login_as("quality_officer")
    html = client.get("/documents/new").get_data(as_text=True)
    owner_select = html.split('id="owner"', 1)[1].split("</select>", 1)[0]
    assert luis.email in owner_select and audrey.email not in owner_select
    resp = create_document(client, audrey.id, code="PR-AUD-001")
    assert resp.status_code == 400  # a forged choice is refused, nothing registered
    assert what_is_left(app)["documents"] == 0


def test_guessing_the_current_password_is_throttled_like_a_login(app, client, login_as):
    login_as("quality_officer")
    url = "/account/password"
    guess = {"current_password": "guess-number-x", "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    statuses = [client.post_form(url, guess, page=url).status_code for _ in range(6)]
    assert statuses == [400] * 5 + [429]
    right = client.post_form(url, {**guess, "current_password": PASSWORD}, page=url)
    assert right.status_code == 429 and "Too many wrong passwords" in right.get_data(as_text=True)
    assert _trail(app, "user.password_change") == []
