"""Sessions end: after the idle time-out and the absolute lifetime, at log-out (this browser only), when their owner
ends them from another browser, when an administrator does, and when an auditor's access period ends."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import Flask
from sqlalchemy import select
from support import PASSWORD

from auditdocs.extensions import db
from auditdocs.models import User
from auditdocs.models.security import UserSession
from auditdocs.timeutil import as_utc, end_of_local_day, local_today


def _browser(app: Flask, user: Any) -> Any:
    browser = app.test_client()
    resp = browser.post_form("/login", {"email": user.email, "password": PASSWORD})
    assert resp.status_code == 302
    return browser


def _logged_out(resp: Any) -> bool:
    return resp.status_code == 302 and urlsplit(resp.location).path == "/login"


def _age_sessions(app: Flask, *, created: timedelta = timedelta(), seen: timedelta = timedelta()) -> None:
    with app.app_context():
        for row in db.session.scalars(select(UserSession)):
            row.created_at -= created
            row.last_seen_at -= seen
        db.session.commit()


def _reasons(app: Flask) -> list[str | None]:
    with app.app_context():
        return [r.end_reason for r in db.session.scalars(select(UserSession).order_by(UserSession.id))]


def test_a_session_ends_after_the_idle_time_out_and_says_why(app, make_user):
    browser = _browser(app, make_user("quality_officer"))
    assert browser.get("/").status_code == 200
    _age_sessions(app, seen=timedelta(minutes=31))
    resp = browser.get("/documents/")
    assert _logged_out(resp)
    assert "Your session ended after a while without activity" in browser.get(resp.location).get_data(as_text=True)
    assert _reasons(app) == ["idle"]


def test_activity_keeps_a_session_open_until_its_lifetime_ends(app, make_user):
    browser = _browser(app, make_user("quality_officer"))
    _age_sessions(app, seen=timedelta(minutes=20))
    assert browser.get("/").status_code == 200  # 20 minutes idle: still open, and the idle clock starts again
    _age_sessions(app, seen=timedelta(minutes=20))
    assert browser.get("/").status_code == 200
    _age_sessions(app, created=timedelta(hours=12, minutes=1))
    assert _logged_out(browser.get("/"))
    assert _reasons(app) == ["expired"]


def test_the_time_outs_are_configurable(app, make_user):
    app.config.update(SESSION_IDLE_MINUTES=5, SESSION_MAX_HOURS=1)
    browser = _browser(app, make_user("quality_officer"))
    _age_sessions(app, seen=timedelta(minutes=6))
    assert _logged_out(browser.get("/"))


def test_logging_out_ends_only_this_browser(app, make_user):
    rosa = make_user("quality_officer")
    office, laptop = _browser(app, rosa), _browser(app, rosa)
    office.post_form("/logout", page="/")
    assert _logged_out(office.get("/"))
    assert laptop.get("/").status_code == 200
    assert sorted(r or "" for r in _reasons(app)) == ["", "logout"]


def test_a_person_sees_and_ends_their_other_sessions(app, make_user):
    rosa, other = make_user("quality_officer"), make_user("quality_officer")
    office, laptop, phone = _browser(app, rosa), _browser(app, rosa), _browser(app, rosa)
    stranger = _browser(app, other)
    page = office.get("/account/sessions").get_data(as_text=True)
    assert page.count('data-testid="session-') == 3 and "This browser" in page
    with app.app_context():
        ids = [r.id for r in db.session.scalars(select(UserSession).order_by(UserSession.id))]
    laptop_id, stranger_id = ids[1], ids[3]
    assert office.post_form(f"/account/sessions/{stranger_id}/end", {}, page="/account/sessions").status_code == 404
    assert office.post_form(f"/account/sessions/{laptop_id}/end", {}, page="/account/sessions").status_code == 302
    assert _logged_out(laptop.get("/"))
    assert phone.get("/").status_code == 200 and stranger.get("/").status_code == 200
    assert office.post_form("/account/sessions/end-others", {}, page="/account/sessions").status_code == 302
    assert _logged_out(phone.get("/"))
    assert office.get("/").status_code == 200 and stranger.get("/").status_code == 200


def test_an_admin_ends_every_session_of_an_account(app, make_user, client, login_as):
    luis = make_user("compliance_officer")
    laptop = _browser(app, luis)
    login_as("admin")
    page = client.get(f"/admin/users/{luis.id}").get_data(as_text=True)
    assert 'data-testid="sessions"' in page
    assert client.post_form(f"/admin/users/{luis.id}/sessions/end", {}, page=f"/admin/users/{luis.id}"
                            ).status_code == 302
    assert _logged_out(laptop.get("/"))


def test_an_auditors_access_ends_with_the_audit(app, make_user, client, login_as):
    ana = make_user("auditor", name="Ana Torres")
    auditor = _browser(app, ana)
    login_as("admin")
    with app.app_context():
        today = local_today()
    yesterday = (today - timedelta(days=1)).isoformat()
    resp = client.post_form(f"/admin/users/{ana.id}", {"role": "auditor", "active": "y",
                                                       "access_until": yesterday}, page=f"/admin/users/{ana.id}")
    assert resp.status_code == 302
    assert _logged_out(auditor.get("/"))
    fresh = app.test_client()
    resp = fresh.post_form("/login", {"email": ana.email, "password": PASSWORD})
    assert resp.status_code == 403
    assert "Your access ended on" in resp.get_data(as_text=True)

    tomorrow = (today + timedelta(days=1)).isoformat()
    client.post_form(f"/admin/users/{ana.id}", {"role": "auditor", "active": "y", "access_until": tomorrow},
                     page=f"/admin/users/{ana.id}")
    assert fresh.post_form("/login", {"email": ana.email, "password": PASSWORD}).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(UserSession.id).where(UserSession.ended_at.is_(None))) is not None
        stored = db.session.get(User, ana.id).access_until  # the end of that day where the organisation is
        assert as_utc(stored) == end_of_local_day(today + timedelta(days=1))


def test_the_last_administrators_access_cannot_be_given_an_end(app, client, login_as):
    admin = login_as("admin")
    with app.app_context():
        yesterday = (local_today() - timedelta(days=1)).isoformat()
    resp = client.post_form(f"/admin/users/{admin.id}", {"role": "admin", "active": "y", "access_until": yesterday},
                            page=f"/admin/users/{admin.id}", follow_redirects=True)
    assert "is the last active administrator" in resp.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, admin.id).access_until is None
    assert client.get("/admin/users").status_code == 200
