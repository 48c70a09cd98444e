"""Login, logout and sessions through the real views, with real CSRF tokens."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from support import audit_events

from auditdocs.db import write_transaction
from auditdocs.extensions import db
from auditdocs.models import User
from auditdocs.services.security import PAIR_LIMIT
from auditdocs.services.users import set_active

LOGIN_ERROR_RE = re.compile(r'data-testid="login-error">([^<]*)<')


def _auth_events(app: Any, action: str) -> list[dict[str, Any]]:
    return audit_events(app, action, ("actor_id", "actor_label", "object_id", "old", "new"))


def _goes_to_login(resp: Any) -> bool:
    return resp.status_code == 302 and urlsplit(resp.location).path == "/login"


def _login(client: Any, email: str, password: str, url: str = "/login") -> Any:
    return client.post_form(url, {"email": email, "password": password})


def _session_cookie(client: Any) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None, "no session cookie set"
    return cookie.value


def test_login_renews_the_session_and_is_audited(app, client, make_user):
    user = make_user("quality_officer")
    client.get("/login")
    with client.session_transaction() as sess:
        sess["planted"] = "chosen-by-an-attacker"  # what a fixation attack would leave behind
    token_before_login = client.csrf_token()
    cookie_before = _session_cookie(client)

    resp = client.post("/login", data={"email": user.email, "password": user.password,
                                       "csrf_token": token_before_login})

    assert resp.status_code == 302
    assert urlsplit(resp.location).path == "/"
    assert _session_cookie(client) != cookie_before
    with client.session_transaction() as sess:
        assert "planted" not in sess
        assert sess.get("_user_id") == f"{user.id}:1"
    # The pre-login session is gone, so a CSRF token issued for it no longer works.
    stale = client.post("/lang", data={"lang": "es", "csrf_token": token_before_login})
    assert stale.status_code == 400
    assert "Form expired" in stale.get_data(as_text=True)

    logins = _auth_events(app, "auth.login")
    assert len(logins) == 1
    assert logins[0]["actor_id"] == user.id
    assert logins[0]["object_id"] == str(user.id)
    assert client.get("/").status_code == 200
    with app.app_context():
        assert db.session.get(User, user.id).last_login_at is not None
        db.session.remove()


def test_login_email_is_case_insensitive(client, make_user):
    user = make_user("auditor")
    resp = _login(client, f"  {user.email.upper()} ", user.password)
    assert resp.status_code == 302
    assert client.get("/").status_code == 200


def test_wrong_password_is_refused_with_a_clear_message_and_audited(app, client, make_user):
    user = make_user("admin")
    resp = _login(client, user.email, "not-the-password")

    assert resp.status_code == 401
    body = resp.get_data(as_text=True)
    match = LOGIN_ERROR_RE.search(body)
    assert match, body[:800]
    assert match.group(1).strip() == "Wrong e-mail or password, or the account is disabled."
    assert "Traceback" not in body
    failures = _auth_events(app, "auth.login_failed")
    assert len(failures) == 1
    assert failures[0]["object_id"] == user.email
    assert failures[0]["actor_id"] is None
    assert _auth_events(app, "auth.login") == []
    assert _goes_to_login(client.get("/"))


def _normalised(body: str, email: str) -> str:
    """The page without the per-request CSRF token and the echoed e-mail."""
    body = re.sub(r'(name="csrf_token"[^>]*value=")[^"]+', r"\1TOKEN", body)
    return body.replace(email, "EMAIL")


def test_unknown_email_gets_the_same_answer_as_a_wrong_password(app, client, make_user):
    user = make_user("quality_officer")
    wrong_password = _login(client, user.email, "not-the-password")
    unknown = _login(client, "nobody@example.org", "not-the-password")

    assert wrong_password.status_code == unknown.status_code == 401
    assert _normalised(unknown.get_data(as_text=True), "nobody@example.org") == _normalised(
        wrong_password.get_data(as_text=True), user.email)
    failures = _auth_events(app, "auth.login_failed")
    assert [f["object_id"] for f in failures] == [user.email, "nobody@example.org"]


def test_login_is_throttled_after_five_failures(app, client, make_user):
    user = make_user("quality_officer")
    other = make_user("quality_officer")
    variants = [user.email, user.email.upper(), f" {user.email}", user.email.capitalize(), user.email]
    assert len(variants) == PAIR_LIMIT == 5
    for email in variants:
        assert _login(client, email, "guess-guess-guess").status_code == 401

    # Even the right password is refused now: the attacker cannot tell a hit from a miss.
    resp = _login(client, user.email, user.password)
    assert resp.status_code == 429
    body = resp.get_data(as_text=True)
    assert 'data-testid="error-page"' in body
    assert "Too many attempts" in body
    assert _goes_to_login(client.get("/"))
    assert _auth_events(app, "auth.login") == []
    throttled = _auth_events(app, "auth.login_throttled")
    assert [t["object_id"] for t in throttled] == [user.email]

    # The throttle is per account: another user still gets in from the same browser.
    assert _login(client, other.email, other.password).status_code == 302


def test_disabled_account_is_refused_at_login(app, client, make_user):
    user = make_user("compliance_officer")
    with app.app_context(), write_transaction():
        set_active(db.session.get(User, user.id), False)

    resp = _login(client, user.email, user.password)
    assert resp.status_code == 401
    match = LOGIN_ERROR_RE.search(resp.get_data(as_text=True))
    assert match and "disabled" in match.group(1)
    assert _auth_events(app, "auth.login") == []
    assert _goes_to_login(client.get("/"))


def test_open_session_is_refused_at_once_when_an_admin_disables_the_account(app, client, login_as, make_user):
    victim = login_as("quality_officer")
    assert client.get("/clauses/").status_code == 200

    admin = make_user("admin")
    admin_client = app.test_client()
    assert _login(admin_client, admin.email, admin.password).status_code == 302
    resp = admin_client.post_form(f"/admin/users/{victim.id}", {"role": "quality_officer"},
                                  page=f"/admin/users/{victim.id}")  # "active" unchecked
    assert resp.status_code == 302

    assert _goes_to_login(client.get("/"))
    assert _goes_to_login(client.get("/clauses/"))
    with app.app_context():
        assert db.session.get(User, victim.id).active is False
        db.session.remove()


def test_logout_is_post_only(app, client, login_as):
    login_as("auditor")
    resp = client.get("/logout")
    assert resp.status_code == 405
    assert client.get("/").status_code == 200, "a GET must not have logged the user out"
    assert _auth_events(app, "auth.logout") == []


def test_logout_ends_the_session_and_is_audited(app, client, login_as):
    user = login_as("quality_officer")
    resp = client.post_form("/logout", page="/")
    assert resp.status_code == 302
    assert urlsplit(resp.location).path == "/login"
    assert _goes_to_login(client.get("/"))
    logouts = _auth_events(app, "auth.logout")
    assert len(logouts) == 1 and logouts[0]["actor_id"] == user.id


def test_replayed_session_cookie_is_refused_after_logout(app, client, login_as):
    login_as("admin")
    assert client.get("/admin/users").status_code == 200
    stolen = _session_cookie(client)

    assert client.post_form("/logout", page="/").status_code == 302
    client.set_cookie("session", stolen)  # the copy taken before logout

    assert _goes_to_login(client.get("/"))
    assert _goes_to_login(client.get("/admin/users"))


def test_replayed_cookie_from_another_browser_is_refused_after_logout(app, client, login_as):
    """Logging out in one browser also ends a copy of the session held elsewhere."""
    login_as("quality_officer")
    copy = app.test_client()
    copy.set_cookie("session", _session_cookie(client))
    assert copy.get("/").status_code == 200

    client.post_form("/logout", page="/")
    assert _goes_to_login(copy.get("/"))


def test_login_without_csrf_token_is_a_form_expired_page(app, client, make_user):
    user = make_user("admin")
    client.get("/login")
    resp = client.post("/login", data={"email": user.email, "password": user.password})

    assert resp.status_code == 400
    body = resp.get_data(as_text=True)
    assert 'data-testid="error-page"' in body
    assert "Form expired" in body
    assert _auth_events(app, "auth.login") == []
    assert _goes_to_login(client.get("/"))


def test_login_with_a_forged_csrf_token_is_refused(client, make_user):
    user = make_user("admin")
    client.get("/login")
    resp = client.post("/login", data={"email": user.email, "password": user.password,
                                       "csrf_token": "forged.token.value"})
    assert resp.status_code == 400
    assert "Form expired" in resp.get_data(as_text=True)


def test_next_parameter_brings_the_user_back_to_the_page_asked_for(client, make_user):
    user = make_user("quality_officer")
    first = client.get("/clauses/iso9001_2015/4.4")
    assert _goes_to_login(first)
    resp = _login(client, user.email, user.password, url=first.location)
    assert resp.status_code == 302
    assert urlsplit(resp.location).path == "/clauses/iso9001_2015/4.4"


@pytest.mark.parametrize("target", [
    "//evil.example",
    "//evil.example/login",
    "https://evil.example/",
    "/\\evil.example",
    "\\\\evil.example",
    "/\t/evil.example",
    "javascript:alert(1)",
])
def test_open_redirect_via_next_is_ignored(client, make_user, target):
    user = make_user("quality_officer")
    resp = _login(client, user.email, user.password, url=f"/login?next={quote(target, safe='')}")
    assert resp.status_code == 302
    parts = urlsplit(resp.location)
    assert parts.netloc in ("", "localhost")
    assert parts.path == "/"
    assert "evil" not in resp.location


def test_open_redirect_via_language_switch_is_ignored(client):
    resp = client.post_form("/lang", {"lang": "es", "next": "//evil.example/"})
    assert resp.status_code == 302
    assert urlsplit(resp.location).netloc in ("", "localhost")
    assert "evil" not in resp.location
