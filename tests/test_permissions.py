"""The permission matrix: every registered route, walked generically, so routes added later are covered too."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from auditdocs.db import write_transaction
from auditdocs.extensions import db
from auditdocs.models import Clause, Standard, User
from auditdocs.packs.spec import resolve
from auditdocs.search import backend
from auditdocs.services import pack_jobs, risks
from auditdocs.services.actions import ActionInput, add_action
from auditdocs.services.due_diligence import DdInput, create_due_diligence
from auditdocs.services.gifts import GiftInput, create_gift
from auditdocs.services.nonconformities import NcInput, create_nonconformity
from auditdocs.services.users import create_user
from auditdocs.timeutil import local_today

ROLES = ("admin", "quality_officer", "compliance_officer", "auditor")
# What an anonymous visitor may reach, by the product brief.
PUBLIC = {"auth.login", "main.set_language", "main.healthz", "static"}
# The only non-GET endpoints an auditor may call. A later feature that lets auditors write something that
# is not evidence (a pack, an access receipt) must add its endpoint here on purpose, or this matrix fails.
AUDITOR_MAY_WRITE = {"auth.logout", "main.set_language",
                     "account.end_session", "account.end_others",  # ending one's own sessions is no evidence
                     "account.change_password",  # nor is one's own password (a reset one must be replaced)
                     "packs.index"}  # nor is a Word pack of what they may see (issue 14: auditors build packs)
# The login form is public; a logged-in user who posts to it is sent to the dashboard and nothing happens
# (test_logged_in_user_posting_to_login_keeps_their_identity proves it, and the snapshot below would catch it).
AUDITOR_MAY_WRITE_HARMLESS = {"auth.login"}
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
# Every field a form of ours might take, with values that would really change something if accepted.
PAYLOAD = {
    "email": "intruder@example.org",
    "name": "Intruder",
    "role": "admin",
    "password": "intruder-password-42",
    "confirm": "intruder-password-42",
    "active": "y",
    "applicable": "no",
    "reason": "An auditor decided this clause does not apply.",
    "title_en": "Changed by someone without the right",
    "title_es": "Cambiado sin permiso",
    "lang": "es",
}
PLACEHOLDER = re.compile(r"<(?:(?P<conv>\w+)(?:\([^)]*\))?:)?(?P<name>\w+)>")


def _rules(app: Any) -> list[Any]:
    rules = [r for r in app.url_map.iter_rules() if r.endpoint != "static"]
    return sorted(rules, key=lambda r: (r.rule, r.endpoint))


def _url(rule: Any, object_id: int, ids: dict[str, int] | None = None) -> str:
    """A plausible URL for the rule: existing ids (`ids` by placeholder name, else `object_id`), a real clause,
    harmless strings otherwise."""

    def value(m: re.Match[str]) -> str:
        conv, name = m["conv"] or "default", m["name"]
        if conv == "int":
            return str((ids or {}).get(name, object_id))
        if conv == "float":
            return "1.0"
        if conv == "uuid":
            return "00000000-0000-4000-8000-000000000000"
        if name == "slug":
            return "iso9001_2015"
        if name == "number":
            return "4.4"
        if conv == "path":
            return "x/y"
        return str(object_id) if name.endswith("id") else "x"

    return PLACEHOLDER.sub(value, rule.rule)


def _methods(rule: Any) -> list[str]:
    return sorted(rule.methods - {"HEAD", "OPTIONS"})


# Operational state that refused requests are meant to change: failed logins and refusal counters; of sessions,
# only the walker's own last-seen time (ending someone's session would show).
OPERATIONAL = {"login_failures", "security_counters"}
MOVING_COLUMNS = {"user_sessions": {"last_seen_at"}}


def _snapshot(app: Any) -> dict[str, list[tuple]]:
    """Every row of every table but the operational ones; login/logout and refusal events are allowed to appear."""
    with app.app_context():
        out = {}
        for table in db.metadata.sorted_tables:
            if table.name in OPERATIONAL:
                continue
            moving = MOVING_COLUMNS.get(table.name, set())
            stmt = select(*[c for c in table.c if c.name not in moving]).order_by(*table.primary_key.columns)
            if table.name == "audit_events":
                stmt = stmt.where(~table.c.action.like("auth.%"), ~table.c.action.like("access.%"))
            out[table.name] = [tuple(row) for row in db.session.execute(stmt)]
        db.session.remove()
    return out


def _seed_records(app: Any, recorder_id: int) -> dict[str, int]:
    """A nonconformity with an action and an evidence file, so the record routes are walked on a real object; the
    search index exists (empty until the records are indexed), so the search pages answer rather than 503."""
    with app.app_context():
        backend().reindex([])
        with write_transaction():
            actor = db.session.get(User, recorder_id)
            today = local_today()
            nc = create_nonconformity(NcInput(
                title="Registro incompleto", description="Sin firma", source="complaint", grade="minor",
                detected_on=today, detected_by_name="Ciudadano"), actor=actor, today=today)
            action = add_action(nc, ActionInput("Capacitar", recorder_id, today), actor=actor, today=today)
            # A due-diligence file and a gift waiting for approval (no threshold: every gift needs one), recorded by
            # a compliance officer, so the approval routes are walked on an entry someone could approve.
            officer = create_user("officer-seed@example.org", "Oficial Semilla", "compliance_officer",
                                  "officer-seed-password-42")
            dd = create_due_diligence(DdInput(
                subject_type="business_associate", subject_name="Transportes Illimani SRL", category="supplier",
                risk_level="medium", checks_performed="Consulta RUC"), actor=officer, today=today)
            gift = create_gift(GiftInput(
                kind="gift", direction="received", internal_party="UT Cusco", counterparty="Constructora Andina",
                counterparty_category="contractor", occurred_on=today, value="500", currency="PEN",
                description="Canasta", purpose="Fin de año"), actor=officer, today=today)
            # An approved bribery risk (auditors see approved ones only) in an exercise, assessed and approved by
            # two different people.
            approver = create_user("approver-seed@example.org", "Aprobadora", "compliance_officer", "seed-password-42")
            exercise = risks.create_exercise(risks.ExerciseInput(name="Evaluación 2026", year=2026), actor=actor)
            risk = risks.create_risk(risks.RiskInput(
                title="Pagos a inspectores", scenario="Un inspector pide un pago", associate_category="public_official",
                inherent_likelihood=4, inherent_impact=4, residual_likelihood=2, residual_impact=2), exercise,
                actor=actor, today=today)
            risks.approve_risk(risk, actor=approver, today=today)
            # A Word pack asked for by the recorder: its owner and admins see it, everyone else gets 404.
            job = pack_jobs.queue(resolve(["ISO 9001:2015"]), actor)
            ids = {"nc_id": nc.id, "action_id": action.id, "risk_id": risk.id, "exercise_id": exercise.id,
                   "dd_id": dd.id, "gift_id": gift.id, "job_id": job.id}
        db.session.remove()
    return ids


def _goes_to_login(resp: Any) -> bool:
    return resp.status_code == 302 and urlsplit(resp.location).path == "/login"


def _walk_is_meaningful(app: Any) -> None:
    """Guard against a walk that silently covers nothing."""
    endpoints = {r.endpoint for r in _rules(app)}
    expected = {"users.index", "users.new", "users.edit", "users.reset", "clauses.applicability", "clauses.title",
                "clauses.index", "clauses.detail", "main.dashboard", "auth.logout", "tasks.index",
                "account.change_password", "nc_dashboard.dashboard", "nonconformities.index", "nonconformities.detail",
                "nonconformities.close", "nonconformities.record_check", "nonconformities.history",
                "risks.dd_index", "risks.dd_new", "risks.dd_detail", "risks.dd_edit", "risks.dd_history",
                "risks.dd_add_file", "risks.gifts_index", "risks.gift_new", "risks.gift_detail", "risks.gift_edit",
                "risks.gift_approve", "risks.gift_reject", "risks.gift_history", "risks.gift_add_file",
                "risks.gift_thresholds", "risks.dd_export_csv", "risks.gifts_export_xlsx",
                "risks.index", "risks.detail", "risks.new", "risks.assess", "risks.approve", "risks.retire",
                "risks.history", "risks.exercises", "risks.exercise", "risks.new_exercise", "risks.edit_exercise",
                "risks.close_exercise", "risks.matrix", "risks.heatmap", "risks.register_csv", "risks.register_xlsx",
                "search.index", "search.search_json", "packs.index", "packs.job", "packs.status", "packs.download"}
    assert expected <= endpoints
    writes = [r for r in _rules(app) if set(r.methods) & set(WRITE_METHODS)]
    assert len(writes) >= 6


def test_anonymous_reaches_only_login_language_switch_healthz_and_static(app, client, make_user):
    _walk_is_meaningful(app)
    target = make_user("quality_officer")
    token = client.csrf_token("/login")
    before = _snapshot(app)

    reached: dict[str, list[str]] = {}
    for rule in _rules(app):
        url = _url(rule, target.id)
        for method in _methods(rule):
            data = None if method == "GET" else {**PAYLOAD, "csrf_token": token}
            resp = client.open(url, method=method, data=data)
            if _goes_to_login(resp) or resp.status_code == 401:
                continue
            reached.setdefault(rule.endpoint, []).append(f"{method} {url} -> {resp.status_code}")

    assert set(reached) == PUBLIC - {"static"}, reached
    with client.get("/static/app/app.css") as static:
        assert static.status_code == 200
    assert client.get("/healthz").status_code == 200
    assert _snapshot(app) == before


def test_anonymous_redirect_remembers_the_page(client):
    resp = client.get("/admin/users")
    assert _goes_to_login(resp)
    assert "next=%2Fadmin%2Fusers" in resp.location


def test_auditor_can_change_nothing(app, client, login_as, make_user):
    _walk_is_meaningful(app)
    target = make_user("quality_officer")
    ids = _seed_records(app, target.id)
    login_as("auditor")
    token = client.csrf_token("/")
    before = _snapshot(app)

    wrong: list[str] = []
    tried = 0
    for rule in _rules(app):
        if rule.endpoint in AUDITOR_MAY_WRITE | AUDITOR_MAY_WRITE_HARMLESS:
            continue
        url = _url(rule, target.id, ids)
        for method in WRITE_METHODS:
            resp = client.open(url, method=method, data={**PAYLOAD, "csrf_token": token})
            tried += 1
            allowed = {403} if method in rule.methods else {403, 405}
            if resp.status_code not in allowed:
                wrong.append(f"{method} {url} ({rule.endpoint}) -> {resp.status_code}")
            elif resp.status_code == 403:
                body = resp.get_data(as_text=True)
                if 'data-testid="error-page"' not in body or "Nothing was changed" not in body:
                    wrong.append(f"{method} {url}: 403 without the friendly page")

    assert tried >= 4 * len(WRITE_METHODS)
    assert wrong == []
    assert _snapshot(app) == before
    assert client.get("/").status_code == 200, "the walk must run inside a live auditor session"


def test_auditor_may_switch_language_and_log_out(app, client, login_as):
    login_as("auditor")
    resp = client.post_form("/lang", {"lang": "es"}, page="/")
    assert resp.status_code == 302
    with client.session_transaction() as sess:
        assert sess["lang"] == "es"
    assert client.post_form("/logout", page="/").status_code == 302
    assert _goes_to_login(client.get("/"))


def test_logged_in_user_posting_to_login_keeps_their_identity(app, client, login_as, make_user):
    admin = make_user("admin")
    login_as("auditor")
    before = _snapshot(app)
    resp = client.post_form("/login", {"email": admin.email, "password": admin.password}, page="/")
    assert resp.status_code == 302
    assert urlsplit(resp.location).path == "/"
    assert client.get("/admin/users").status_code == 403
    assert _snapshot(app) == before


def test_the_payload_is_potent_for_an_admin(app, client, login_as, make_user):
    """The same requests that auditors are refused really change things when allowed: the 403s mean something."""
    target = make_user("quality_officer")
    login_as("admin")
    token = client.csrf_token("/")
    foundation = {"users.new", "users.edit", "clauses.applicability", "clauses.title"}
    for rule in _rules(app):
        if rule.endpoint not in foundation or "POST" not in rule.methods:
            continue
        foundation.discard(rule.endpoint)
        data = {**PAYLOAD, "csrf_token": token}
        if rule.endpoint == "users.edit":  # the new account takes the payload's address; the edit keeps the target's
            data["email"] = target.email
        resp = client.post(_url(rule, target.id), data=data)
        assert resp.status_code in (200, 302), f"{rule.endpoint} -> {resp.status_code}"
    assert foundation == set(), "every foundation write endpoint was exercised"

    with app.app_context():
        assert db.session.get(User, target.id).role == "admin"
        assert db.session.get(User, target.id).name == PAYLOAD["name"]
        assert db.session.scalar(select(User).where(User.email == PAYLOAD["email"])) is not None
        clause = db.session.scalar(select(Clause).join(Standard).where(
            Standard.slug == "iso9001_2015", Clause.number == "4.4"))
        assert clause.applicable is False
        assert clause.title_en == PAYLOAD["title_en"]
        db.session.remove()


@pytest.mark.parametrize(("role", "expected"), [
    ("admin", 200),
    ("quality_officer", 403),
    ("compliance_officer", 403),
    ("auditor", 403),
])
def test_admin_pages(app, client, login_as, make_user, role, expected):
    target = make_user("compliance_officer")
    login_as(role)
    pages = [r for r in _rules(app) if r.endpoint.startswith("users.") and "GET" in r.methods]
    assert len(pages) >= 3
    for rule in pages:
        url = _url(rule, target.id)
        resp = client.get(url)
        assert resp.status_code == expected, f"{role} GET {url} -> {resp.status_code}"


@pytest.mark.parametrize("role", ["quality_officer", "compliance_officer"])
def test_officers_cannot_post_to_admin_endpoints(app, client, login_as, make_user, role):
    target = make_user("auditor")
    login_as(role)
    token = client.csrf_token("/")
    before = _snapshot(app)
    writes = [r for r in _rules(app) if r.endpoint.startswith("users.") and "POST" in r.methods]
    assert len(writes) >= 2
    for rule in writes:
        resp = client.post(_url(rule, target.id), data={**PAYLOAD, "csrf_token": token})
        assert resp.status_code == 403, f"{role} POST {rule.rule} -> {resp.status_code}"
    assert _snapshot(app) == before


@pytest.mark.parametrize("role", ["compliance_officer", "auditor"])
def test_only_admins_and_quality_officers_set_applicability(app, client, login_as, role):
    login_as(role)
    resp = client.post_form("/clauses/iso9001_2015/8.3/applicability",
                            {"applicable": "no", "reason": "We do not design services of our own."}, page="/")
    assert resp.status_code == 403


@pytest.mark.parametrize("role", ROLES)
def test_every_page_answers_without_a_server_error(app, client, login_as, make_user, role):
    target = make_user("quality_officer")
    ids = _seed_records(app, target.id)
    login_as(role)
    for rule in _rules(app):
        if "GET" not in rule.methods:
            continue
        url = _url(rule, target.id, ids)
        resp = client.get(url)
        assert resp.status_code in (200, 302, 403, 404), f"{role} GET {url} -> {resp.status_code}"
        if rule.endpoint.startswith("nonconformities.") and rule.endpoint not in (
                "nonconformities.file", "nonconformities.new", "nonconformities.edit",
                "nonconformities.edit_action"):  # every role reads the register and the record's pages
            assert resp.status_code == 200, f"{role} GET {url} -> {resp.status_code}"
        if rule.endpoint in ("main.dashboard", "clauses.index", "clauses.detail", "main.healthz", "risks.index",
                             "risks.detail", "risks.history", "risks.exercises", "risks.exercise", "risks.matrix",
                             "risks.heatmap", "search.index", "search.search_json", "packs.index"):  # every role reads
            # the risks pages (auditors: approved risks), searches and builds Word packs
            assert resp.status_code == 200, f"{role} GET {url} -> {resp.status_code}"


@pytest.mark.parametrize(("role", "expected"), [
    ("admin", 200),
    ("quality_officer", 200),
    ("compliance_officer", 200),
    ("auditor", 403),  # an external auditor has no tasks to have
])
def test_my_tasks_page_by_role(app, client, login_as, role, expected):
    login_as(role)
    assert client.get("/tasks/").status_code == expected
    assert client.get("/account/password").status_code == 200  # everyone may change their own password


@pytest.mark.parametrize("role", ROLES)
def test_nonconformities_dashboard_by_role(app, client, login_as, role):
    """Everyone who reads nonconformities (every role, auditors read-only) opens the compliance dashboard."""
    login_as(role)
    assert client.get("/nonconformities/dashboard").status_code == 200
    assert client.post("/nonconformities/dashboard").status_code in (400, 403, 405)
