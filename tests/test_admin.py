"""Admin pages: list and create users, change roles, disable accounts — every change audited."""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, select
from support import audit_events

from auditdocs.db import write_transaction
from auditdocs.extensions import db
from auditdocs.models import User
from auditdocs.services.users import create_user, new_password

PASSWORD = "a-long-enough-password-42"
FIELD_ERROR_RE = re.compile(r'class="invalid-feedback d-block">([^<]*)<')


def _field_errors(resp: Any) -> list[str]:
    return [html.unescape(e).strip() for e in FIELD_ERROR_RE.findall(resp.get_data(as_text=True))]


def _user(app: Any, email: str) -> dict[str, Any] | None:
    with app.app_context():
        u = db.session.scalar(select(User).where(User.email == email))
        out = None if u is None else {"id": u.id, "role": u.role, "active": u.active, "name": u.name,
                                      "password_hash": u.password_hash}
        db.session.remove()
    return out


def _user_count(app: Any) -> int:
    with app.app_context():
        n = db.session.scalar(select(func.count(User.id)))
        db.session.remove()
    return n


def _new_user(client: Any, **fields: str) -> Any:
    data = {"email": "new.person@example.org", "name": "New Person", "role": "quality_officer",
            "password": PASSWORD, "confirm": PASSWORD, **fields}
    return client.post_form("/admin/users/new", data, page="/admin/users/new")


def _edit(client: Any, user_id: int, role: str, active: bool) -> Any:
    data = {"role": role}
    if active:
        data["active"] = "y"
    return client.post_form(f"/admin/users/{user_id}", data, page=f"/admin/users/{user_id}")


def _login(client: Any, email: str, password: str) -> Any:
    return client.post_form("/login", {"email": email, "password": password})


def test_admin_lists_every_user_with_role_and_state(app, client, login_as, make_user):
    admin = login_as("admin")
    officer = make_user("compliance_officer", name="Luisa Mendoza")
    auditor = make_user("auditor")
    client.post_form(f"/admin/users/{auditor.id}", {"role": "auditor"}, page=f"/admin/users/{auditor.id}")

    resp = client.get("/admin/users")
    assert resp.status_code == 200
    body = resp.get_data(as_text=True)
    for email in (admin.email, officer.email, auditor.email):
        assert email in body
    assert "Luisa Mendoza" in body
    assert "Compliance officer" in body and "External auditor" in body
    rows = {m.group(1): m.group(0) for m in re.finditer(r"<tr[^>]*>\s*<td>([^<]+)</td>.*?</tr>", body, re.S)}
    assert "Disabled" in rows[auditor.email]
    assert "Enabled" in rows[officer.email]
    assert f'href="/admin/users/{officer.id}"' in body


def test_admin_creates_a_user_who_can_then_log_in(app, client, login_as):
    admin = login_as("admin")
    resp = _new_user(client, email="  Rosa.Huaman@Example.org ", name="Rosa Huamán", role="quality_officer")

    assert resp.status_code == 302
    assert urlsplit(resp.location).path == "/admin/users"
    listing = client.get("/admin/users").get_data(as_text=True)
    assert "Account rosa.huaman@example.org created." in listing
    created = _user(app, "rosa.huaman@example.org")
    assert created is not None
    assert created["role"] == "quality_officer" and created["active"] is True
    assert created["name"] == "Rosa Huamán"
    assert PASSWORD not in created["password_hash"]
    assert created["password_hash"].startswith("scrypt:")
    events = audit_events(app, "user.create")
    assert events[-1]["actor_id"] == admin.id
    assert events[-1]["object_id"] == str(created["id"])
    assert events[-1]["new"] == {"email": "rosa.huaman@example.org", "role": "quality_officer",
                                 "name": "Rosa Huamán"}

    other = app.test_client()
    assert _login(other, "rosa.huaman@example.org", PASSWORD).status_code == 302


def test_duplicate_email_is_refused_with_a_clear_error(app, client, login_as, make_user):
    login_as("admin")
    existing = make_user("auditor")
    count = _user_count(app)
    creates = len(audit_events(app, "user.create"))

    resp = _new_user(client, email=existing.email.upper())

    assert resp.status_code == 400
    assert _field_errors(resp) == [f"A user with the e-mail {existing.email} already exists."]
    assert _user_count(app) == count
    assert len(audit_events(app, "user.create")) == creates
    assert _user(app, existing.email)["role"] == "auditor"


def test_weak_password_is_refused_with_a_clear_error(app, client, login_as):
    login_as("admin")
    count = _user_count(app)
    resp = _new_user(client, password="short", confirm="short")

    assert resp.status_code == 400
    errors = _field_errors(resp)
    assert len(errors) == 1
    assert re.search(r"\b(at least|between) 10\b.*characters", errors[0]), errors
    assert _user_count(app) == count


def test_mismatched_confirmation_and_bad_email_are_refused(app, client, login_as):
    login_as("admin")
    count = _user_count(app)
    resp = _new_user(client, confirm=PASSWORD + "x")
    assert resp.status_code == 400
    assert _field_errors(resp) == ["Passwords differ."]

    resp = _new_user(client, email="not-an-address")
    assert resp.status_code == 400
    assert _field_errors(resp) == ["“not-an-address” is not a valid e-mail address."]
    assert _user_count(app) == count


def test_role_change_takes_effect_and_is_audited(app, client, login_as, make_user):
    admin = login_as("admin")
    officer = make_user("quality_officer")
    officer_client = app.test_client()
    assert _login(officer_client, officer.email, officer.password).status_code == 302
    ok = officer_client.post_form("/clauses/iso9001_2015/8.3/applicability",
                                  {"applicable": "no", "reason": "We deliver a service defined by law."}, page="/")
    assert ok.status_code == 302, "a quality officer may set applicability"

    resp = _edit(client, officer.id, "compliance_officer", active=True)
    assert resp.status_code == 302
    assert "updated" in client.get("/admin/users").get_data(as_text=True)
    assert _user(app, officer.email)["role"] == "compliance_officer"
    events = audit_events(app, "user.role")
    assert len(events) == 1
    assert events[0] == {"actor_id": admin.id, "object_id": str(officer.id),
                         "old": {"role": "quality_officer"}, "new": {"role": "compliance_officer"}}

    # The open session carried the old rights: it ends at once.
    first = officer_client.get("/")
    assert first.status_code == 302 and urlsplit(first.location).path == "/login"
    assert _login(officer_client, officer.email, officer.password).status_code == 302
    refused = officer_client.post_form("/clauses/iso9001_2015/8.3/applicability",
                                       {"applicable": "yes", "reason": ""}, page="/")
    assert refused.status_code == 403


def test_promotion_to_admin_opens_the_admin_pages(app, client, login_as, make_user):
    login_as("admin")
    officer = make_user("quality_officer")
    other = app.test_client()
    assert _login(other, officer.email, officer.password).status_code == 302
    assert other.get("/admin/users").status_code == 403

    assert _edit(client, officer.id, "admin", active=True).status_code == 302
    assert _login(other, officer.email, officer.password).status_code == 302
    assert other.get("/admin/users").status_code == 200


def test_unknown_role_is_refused(app, client, login_as, make_user):
    login_as("admin")
    officer = make_user("quality_officer")
    resp = _edit(client, officer.id, "superuser", active=True)
    assert resp.status_code == 400
    assert _user(app, officer.email)["role"] == "quality_officer"
    assert audit_events(app, "user.role") == []


def test_disabling_and_enabling_are_audited(app, client, login_as, make_user):
    admin = login_as("admin")
    officer = make_user("compliance_officer")

    assert _edit(client, officer.id, "compliance_officer", active=False).status_code == 302
    assert _user(app, officer.email)["active"] is False
    assert audit_events(app, "user.disable") == [{"actor_id": admin.id, "object_id": str(officer.id),
                                              "old": {"active": True}, "new": {"active": False}}]
    assert audit_events(app, "user.role") == [], "an unchanged role is not an event"
    assert _login(app.test_client(), officer.email, officer.password).status_code == 401

    assert _edit(client, officer.id, "compliance_officer", active=True).status_code == 302
    assert audit_events(app, "user.enable") == [{"actor_id": admin.id, "object_id": str(officer.id),
                                             "old": {"active": False}, "new": {"active": True}}]
    assert _login(app.test_client(), officer.email, officer.password).status_code == 302


def test_admin_cannot_disable_their_own_account(app, client, login_as):
    admin = login_as("admin")
    resp = _edit(client, admin.id, "admin", active=False)

    assert resp.status_code == 302
    assert urlsplit(resp.location).path == f"/admin/users/{admin.id}"
    page = client.get(resp.location)
    assert page.status_code == 200, "the admin is still logged in"
    assert "You cannot disable your own account." in page.get_data(as_text=True)
    assert _user(app, admin.email)["active"] is True
    assert audit_events(app, "user.disable") == []


def test_edit_page_of_a_missing_user_is_404(client, login_as):
    login_as("admin")
    resp = client.get("/admin/users/999999")
    assert resp.status_code == 404
    assert 'data-testid="error-page"' in resp.get_data(as_text=True)


def test_create_page_renders_every_role(client, login_as):
    login_as("admin")
    body = client.get("/admin/users/new").get_data(as_text=True)
    for role in ("admin", "quality_officer", "compliance_officer", "auditor"):
        assert f'value="{role}"' in body


def test_the_user_list_pages_enabled_accounts_first(app, client, login_as, make_user):
    login_as("admin")
    with app.app_context():
        secret = new_password(PASSWORD)  # hashed once: scrypt is slow on purpose
    with app.app_context(), write_transaction():
        for i in range(60):
            create_user(f"persona{i:02d}@example.org", f"Persona {i}", "auditor", secret)
    disabled = make_user("auditor", email="aaa.disabled@example.org")
    _edit(client, disabled.id, "auditor", active=False)

    def emails(url: str) -> tuple[list[str], str]:
        body = client.get(url).get_data(as_text=True)
        return re.findall(r"<tr[^>]*>\s*<td>([^<]+)</td>", body), body

    first, body = emails("/admin/users")
    assert len(first) == 50 and first == sorted(first) and disabled.email not in first
    link = re.search(r'href="(/admin/users\?after=\d+)" rel="next"', body).group(1)
    second, body = emails(link)
    assert len(second) == 12 and second[-1] == disabled.email  # the disabled account comes last
    assert not set(first) & set(second)
    assert emails("/admin/users?last=1")[0] == (first + second)[-50:]
