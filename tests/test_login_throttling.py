"""Password spraying and distributed guessing are limited without locking the real user out, and no anonymous
client can grow the append-only audit trail without bound."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask
from sqlalchemy import func, select
from support import audit_events

from auditdocs.db import write_transaction
from auditdocs.extensions import db
from auditdocs.models.security import LoginFailure, SecurityCounter
from auditdocs.services import security
from auditdocs.services.security import ACCOUNT_SLOW_AFTER, ADDRESS_LIMIT, PAIR_LIMIT, WINDOW


def attempt(client: Any, email: str, password: str, ip: str = "127.0.0.1") -> Any:
    """One login from an address (the test client's REMOTE_ADDR)."""
    token = client.csrf_token("/login")
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token},
                       environ_base={"REMOTE_ADDR": ip})


def _age_failures(app: Flask, by: timedelta) -> None:
    """Move recorded failures and counters into the past, as if time had passed."""
    with app.app_context():  # row by row: date arithmetic in SQL differs between SQLite and PostgreSQL
        for failure in db.session.scalars(select(LoginFailure)):
            failure.at -= by
        for counter in db.session.scalars(select(SecurityCounter)):
            counter.window_start, counter.last_at = counter.window_start - by, counter.last_at - by
        db.session.commit()


def test_one_address_spraying_many_accounts_is_stopped(app, make_user):
    victim = make_user("quality_officer")
    sprayer = app.test_client()
    for i in range(ADDRESS_LIMIT):
        assert attempt(sprayer, f"user{i}@example.org", "Invierno2026!", ip="203.0.113.9").status_code == 401
    resp = attempt(sprayer, victim.email, victim.password, ip="203.0.113.9")  # even a right guess is refused
    assert resp.status_code == 429
    assert 0 < int(resp.headers["Retry-After"]) <= WINDOW.total_seconds()
    assert attempt(app.test_client(), victim.email, victim.password, ip="198.51.100.4").status_code == 302


def test_many_addresses_guessing_one_account_are_slowed_but_its_owner_gets_in(app, make_user):
    owner = make_user("compliance_officer")
    assert attempt(app.test_client(), owner.email, owner.password, ip="192.0.2.10").status_code == 302  # usual
    for i in range(ACCOUNT_SLOW_AFTER):
        assert attempt(app.test_client(), owner.email, f"guess-{i}", ip=f"203.0.113.{i}").status_code == 401
    # A new address now waits before its password is even checked (2, 4, 8 ... seconds after the last failure).
    resp = attempt(app.test_client(), owner.email, owner.password, ip="203.0.113.200")
    assert resp.status_code == 429
    assert 1 <= int(resp.headers["Retry-After"]) <= 2
    assert "sign in from your usual network" in resp.get_data(as_text=True)
    # The owner, from the address they always use, is not slowed.
    assert attempt(app.test_client(), owner.email, owner.password, ip="192.0.2.10").status_code == 302
    # Once the delay has passed, a new address may try again (and a wrong guess makes the next wait longer).
    _age_failures(app, timedelta(seconds=3))
    assert attempt(app.test_client(), owner.email, "guess-again", ip="203.0.113.201").status_code == 401
    resp = attempt(app.test_client(), owner.email, owner.password, ip="203.0.113.202")
    assert resp.status_code == 429 and 3 <= int(resp.headers["Retry-After"]) <= 4


def test_the_pair_limit_still_holds_and_the_window_moves_on(app, make_user):
    user = make_user("quality_officer")
    client = app.test_client()
    for _ in range(PAIR_LIMIT):
        assert attempt(client, user.email, "wrong-password").status_code == 401
    assert attempt(client, user.email, user.password).status_code == 429
    _age_failures(app, WINDOW + timedelta(seconds=1))
    assert attempt(client, user.email, user.password).status_code == 302


def test_the_trail_gets_one_event_per_key_and_window_with_the_counts_kept_aside(app, make_user, client, login_as):
    user = make_user("quality_officer")
    attacker = app.test_client()
    for _ in range(PAIR_LIMIT):
        attempt(attacker, user.email, "wrong-password", ip="203.0.113.7")
    for _ in range(200):  # a client hammering the throttled login
        assert attempt(attacker, user.email, "wrong-password", ip="203.0.113.7").status_code == 429
    failed = audit_events(app, "auth.login_failed", ("object_id", "new"))
    throttled = audit_events(app, "auth.login_throttled", ("object_id", "new"))
    assert [e["object_id"] for e in failed] == [user.email]
    assert [e["object_id"] for e in throttled] == [user.email]
    with app.app_context():
        counts = dict(db.session.execute(select(SecurityCounter.kind, SecurityCounter.count)).all())
        assert db.session.scalar(select(func.count(LoginFailure.id))) == PAIR_LIMIT
    assert counts == {"login_failed": PAIR_LIMIT, "login_throttled": 200}

    # The next window opens with one event that carries the previous window's count.
    _age_failures(app, WINDOW + timedelta(seconds=1))
    attempt(attacker, user.email, "wrong-password", ip="203.0.113.7")
    failed = audit_events(app, "auth.login_failed", ("object_id", "new"))
    assert len(failed) == 2 and failed[1]["new"]["previous_window"]["count"] == PAIR_LIMIT

    login_as("admin")
    page = client.get("/audit/").get_data(as_text=True)
    assert 'data-testid="security-counters"' in page and "Throttled logins" in page and "<td>200</td>" in page


def test_an_office_behind_one_address_is_not_locked_out_by_strangers(app, make_user):
    """Twenty guesses at unknown accounts from the office's NAT do not stop a colleague who signs in from there."""
    colleague = make_user("quality_officer")
    assert attempt(app.test_client(), colleague.email, colleague.password, ip="198.51.100.20").status_code == 302
    for i in range(ADDRESS_LIMIT):
        assert attempt(app.test_client(), f"nobody{i}@example.org", "x" * 12, ip="198.51.100.20").status_code == 401
    assert attempt(app.test_client(), "nobody-else@example.org", "x" * 12, ip="198.51.100.20").status_code == 429
    assert attempt(app.test_client(), colleague.email, colleague.password, ip="198.51.100.20").status_code == 302


def test_ipv6_addresses_count_by_their_network(app, make_user):
    """Rotating through one /64 (as any IPv6 host can) does not escape the per-address limit."""
    for i in range(ADDRESS_LIMIT):
        assert attempt(app.test_client(), f"n{i}@example.org", "x" * 12, ip=f"2001:db8:1:2::{i + 1:x}"
                       ).status_code == 401
    assert attempt(app.test_client(), "n99@example.org", "x" * 12, ip="2001:db8:1:2:ffff::9").status_code == 429
    assert attempt(app.test_client(), "n99@example.org", "x" * 12, ip="2001:db8:1:3::1").status_code == 401


def test_a_flood_of_distinct_keys_is_capped_in_the_trail(app, monkeypatch):
    monkeypatch.setattr(security, "AUDITED_KEYS_PER_WINDOW", 5)
    for i in range(12):
        assert attempt(app.test_client(), f"k{i}@example.org", "x" * 12, ip=f"203.0.113.{i}").status_code == 401
    events = audit_events(app, "auth.login_failed", ("object_id", "new"))
    assert [e["object_id"] for e in events][-1] == security.OVERFLOW and len(events) == 6
    with app.app_context():
        overflow = db.session.scalar(select(SecurityCounter.count).where(SecurityCounter.key == security.OVERFLOW))
    assert overflow == 7


def test_a_key_longer_than_its_column_is_counted_not_looped_on(app):
    key = "x" * 1000
    with app.app_context(), write_transaction():
        for _ in range(3):
            security.note("login_failed", key, action="auth.login_failed", object_type="login", object_id="x",
                          actor_label="test")
    with app.app_context():
        rows = db.session.execute(select(SecurityCounter.key, SecurityCounter.count)).all()
    assert len(rows) == 1 and rows[0][1] == 3 and len(rows[0][0]) <= security.KEY_MAX
