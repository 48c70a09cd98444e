"""axe-core on every page each role can open, in Spanish and English: no serious or critical WCAG 2.1 A/AA violation.

The pages are not listed by hand: every GET rule of the app's url_map is tried with sample values taken from the
seeded demo organisation (ids and keys read from the database), so pages added later are checked too. A rule whose
answer is not an HTML page (downloads, CSV, redirects to a page already seen) or that the role may not open (403,
404) is skipped. axe comes from tests/browser/vendor (test-only, never served) and is loaded as an init script of
the browser context, which the app's strict CSP does not apply to; the app's own CSP stays on.
"""

from __future__ import annotations

import itertools
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, inspect, select, text

from auditdocs.db import write_transaction
from auditdocs.demo import create_demo
from auditdocs.extensions import db
from auditdocs.models import BriberyRisk, Clause, Gift, Nonconformity, PackJob, Standard, User
from auditdocs.packs.spec import resolve
from auditdocs.policy import AccessScope
from auditdocs.services import pack_jobs, risks
from auditdocs.services.actions import ActionInput, add_action, implement_action
from auditdocs.services.due_diligence import DdInput, create_due_diligence
from auditdocs.services.gifts import GiftInput, create_gift
from auditdocs.services.nonconformities import NcInput, create_nonconformity
from auditdocs.timeutil import local_today

pytestmark = pytest.mark.sqlite_only

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = {"serious", "critical"}
ROLES = ("admin", "quality_officer", "compliance_officer", "auditor")
LANGUAGES = ("es", "en")
# Not pages: the probe, the files, and what a logged-in user is only redirected away from.
NOT_PAGES = {"static", "main.healthz", "auth.login"}
PLACEHOLDER = re.compile(r"<(?:(?P<conv>\w+)(?:\([^)]*\))?:)?(?P<name>\w+)>")
CANDIDATES = 4  # sample values tried per placeholder (an auditor cannot see a draft: the next one may do)
# Placeholders whose stem does not name their table.
TABLE_OF = {"nc": "nonconformities", "risk": "bribery_risks", "exercise": "risk_exercises", "dd": "due_diligence"}
RUN_AXE = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
  return result.violations.map((v) => ({id: v.id, impact: v.impact, help: v.help,
                                        targets: v.nodes.slice(0, 5).map((n) => n.target.join(" ")),
                                        why: (v.nodes[0].failureSummary || "").split("\\n")[1] || ""}));
}"""


def _seed(app: Flask) -> None:
    """The demo organisation: documents in every state, sites, processes, a certificate and its audits; and, if the
    demo holds none, a nonconformity with an implemented action (so its page shows the check's forms)."""
    with app.app_context():
        with write_transaction():
            create_demo()
            if db.session.scalar(select(func.count()).select_from(Nonconformity)) == 0:
                _seed_nonconformity()
            if db.session.scalar(select(func.count()).select_from(BriberyRisk)) == 0:
                _seed_risk()
            if db.session.scalar(select(func.count()).select_from(Gift)) == 0:
                _seed_gift_and_due_diligence()
            if db.session.scalar(select(func.count()).select_from(PackJob)) == 0:
                _seed_pack_jobs()
        db.session.remove()


def _seed_nonconformity() -> None:
    recorder = next(u for u in db.session.scalars(select(User).order_by(User.id))
                    if AccessScope.of(u).can("record_nonconformities") and u.role != "admin")
    today = local_today()
    nc = create_nonconformity(NcInput(title="Registro de obsequios incompleto", description="Tres obsequios sin "
                                      "registrar.", source="internal_audit", grade="minor", detected_on=today,
                                      detected_by_id=recorder.id), actor=recorder, today=today)
    action = add_action(nc, ActionInput("Capacitar al personal", recorder.id, today), actor=recorder, today=today)
    implement_action(action, actor=recorder, today=today, evidence="Lista de asistencia")


def _seed_risk() -> None:
    """An approved bribery risk (so auditors open its page too) with a review flag, in an exercise."""
    users = list(db.session.scalars(select(User).order_by(User.id)))
    assessor = next(u for u in users if AccessScope.of(u).can("assess_risks") and u.role != "admin")
    approver = next(u for u in users if AccessScope.of(u).can("approve_risks") and u.id != assessor.id)
    today = local_today()
    exercise = risks.create_exercise(risks.ExerciseInput(name="Evaluación anual 2026", year=today.year), actor=assessor)
    risk = risks.create_risk(risks.RiskInput(
        title="Pagos a inspectores municipales", scenario="Un inspector pide un pago para no observar la obra.",
        associate_category="public_official", inherent_likelihood=5, inherent_impact=4, residual_likelihood=3,
        residual_impact=2, next_review=today - timedelta(days=1)), exercise, actor=assessor, today=today)
    risks.approve_risk(risk, actor=approver, today=today)


def _seed_gift_and_due_diligence() -> None:
    """A decided due-diligence file and a gift waiting for approval (no threshold yet: every gift needs one), so
    their pages show the decision and the approval forms."""
    officer = next(u for u in db.session.scalars(select(User).order_by(User.id))
                   if AccessScope.of(u).can("record_due_diligence") and u.role != "admin")
    today = local_today()
    create_due_diligence(DdInput(
        subject_type="business_associate", subject_name="Transportes Illimani SRL", category="supplier",
        risk_level="medium", checks_performed="Consulta RUC y listas de sancionados", result="Sin observaciones",
        decision="proceed", decided_on=today, reviewer_id=officer.id, next_review=today + timedelta(days=365)),
        actor=officer, today=today)
    create_gift(GiftInput(
        kind="hospitality", direction="received", internal_party="UT Cusco", counterparty="Constructora Andina",
        counterparty_category="contractor", occurred_on=today, value="350.50", currency="PEN",
        description="Almuerzo de trabajo", purpose="Reunión de obra"), actor=officer, today=today)


def _seed_pack_jobs() -> None:
    """Two Word-pack jobs of a quality officer, one queued and one failed, so their page is checked in both states
    (admins see every job; the others' jobs answer 404 and are skipped)."""
    officer = next(u for u in db.session.scalars(select(User).order_by(User.id)) if u.role == "quality_officer")
    pack_jobs.queue(resolve(["ISO 9001:2015"], lang="es"), officer)
    failed = pack_jobs.queue(resolve(["ISO 37001:2016"], clauses=["8.2"], lang="en"), officer)
    failed.status, failed.error = "failed", "The account that asked for this pack is no longer active."


def _samples(app: Flask) -> dict[tuple[str, str], list[str]]:
    """Sample values per (converter, placeholder name), read from the seeded tables.

    `<int:doc_id>` takes ids of the table named after its stem (documents, users, audits...); a string
    placeholder takes values of a column of that name (a scope's key, a standard's slug); a clause's number goes
    with the first standard's slug.
    """
    with app.app_context():
        tables = inspect(db.engine).get_table_names()
        first_standard = db.session.scalars(select(Standard).order_by(Standard.id)).first()
        clause_numbers = list(db.session.scalars(
            select(Clause.number).where(Clause.standard_id == first_standard.id).order_by(Clause.id)
            .limit(CANDIDATES))) if first_standard else []
        columns = {t: {c["name"] for c in inspect(db.engine).get_columns(t)} for t in tables}

        def ids(stem: str) -> list[str]:
            with_id = sorted((t for t in tables if "id" in columns[t]), key=len)
            names = [t for t in with_id if t == TABLE_OF.get(stem)]
            names += [t for t in with_id if t in (f"{stem}s", f"{stem}es") or t.endswith(f"_{stem}s")]
            names += [t for t in with_id if t.startswith(stem) and t not in names]
            for table in names:
                rows = db.session.execute(text(f'SELECT id FROM "{table}" ORDER BY id LIMIT {CANDIDATES}'))  # noqa: S608
                found = [str(r[0]) for r in rows]
                if found:
                    return found
            return ["1"]

        def values(name: str) -> list[str]:
            for table in tables:
                if name in columns[table] and "id" in columns[table]:
                    rows = db.session.execute(
                        text(f'SELECT DISTINCT "{name}" FROM "{table}" ORDER BY "{name}" LIMIT {CANDIDATES}'))  # noqa: S608
                    return [str(r[0]) for r in rows]
            return ["x"]

        out: dict[tuple[str, str], list[str]] = {}
        for rule in app.url_map.iter_rules():
            for m in PLACEHOLDER.finditer(rule.rule):
                conv, name = m["conv"] or "default", m["name"]
                if (conv, name) in out:
                    continue
                if conv == "int":
                    out[conv, name] = ids(name.removesuffix("_id")) if name.endswith("_id") else ["1", "2"]
                elif name == "number":
                    out[conv, name] = clause_numbers or ["4.4"]
                elif name == "slug" and first_standard is not None:
                    out[conv, name] = [first_standard.slug]
                else:
                    out[conv, name] = values(name)
        db.session.remove()
    return out


def _candidate_urls(rule: Any, samples: dict[tuple[str, str], list[str]]) -> list[str]:
    """The rule's URL with every combination of sample values (a handful at most)."""
    found = list(PLACEHOLDER.finditer(rule.rule))
    if not found:
        return [rule.rule]
    choices = [samples[(m["conv"] or "default", m["name"])] for m in found]
    urls = []
    for combo in itertools.islice(itertools.product(*choices), CANDIDATES * 2):
        values = iter(combo)
        urls.append(PLACEHOLDER.sub(lambda _m, v=values: next(v), rule.rule))
    return urls


def _get_rules(app: Flask) -> list[Any]:
    rules = [r for r in app.url_map.iter_rules() if "GET" in r.methods and r.endpoint not in NOT_PAGES]
    return sorted(rules, key=lambda r: r.rule)


Found = dict[str, list[str]]  # "[impact] rule (help) at targets" -> the "role/language path" where it occurs


def _check(page: Any, where: str, found: Found) -> None:
    """Run axe on the loaded page and note each serious or critical violation."""
    assert page.evaluate("typeof axe") == "object", "axe-core was not loaded into the page"
    for v in page.evaluate(RUN_AXE, TAGS):
        if v["impact"] in BLOCKING:
            issue = f"[{v['impact']}] {v['id']} ({v['help']}) at {'; '.join(v['targets'])}: {v['why']}"
            found.setdefault(issue, []).append(where)


def _report(found: Found) -> str:
    """One line per violation and target, with the pages (role/language path) where it occurs."""
    lines = [f"{len(found)} serious or critical axe violation(s) (WCAG 2.1 A/AA):"]
    for issue, where in sorted(found.items()):
        pages = ", ".join(where[:6]) + (" ..." if len(where) > 6 else "")
        lines.append(f"- {issue}\n    on {len(where)} page(s): {pages}")
    return "\n".join(lines)


def _walk(page: Any, live_server: str, rules: list[Any], samples: dict[tuple[str, str], list[str]],
          label: str, found: Found) -> list[str]:
    """Visit every HTML page the logged-in role can open; returns the paths checked."""
    seen: set[str] = set()
    for rule in rules:
        for url in _candidate_urls(rule, samples):
            resp = page.request.get(live_server + url)
            final = resp.url.removeprefix(live_server)
            if resp.status != 200 or not resp.headers.get("content-type", "").startswith("text/html"):
                continue
            if final not in seen:
                seen.add(final)
                page.goto(live_server + url)
                _check(page, f"{label} {final}", found)
            break  # one sample per rule is enough
    return sorted(seen)


def _check_states(page: Any, live_server: str, label: str, found: Found, console_errors: Any) -> None:
    """What a plain GET does not show: the header's "More" menu open, the error page, and a form refused with its
    error summary."""
    console_errors.allow(r"status of 404 .*/no-such-page")
    page.goto(f"{live_server}/no-such-page")
    page.get_by_test_id("error-page").wait_for()
    _check(page, f"{label} /no-such-page (404)", found)
    page.goto(f"{live_server}/")
    page.get_by_test_id("nav-more").click()
    page.locator("#nav .dropdown-menu.show").wait_for()
    _check(page, f"{label} / (More menu open)", found)
    if page.request.get(f"{live_server}/admin/users/new").status == 200:
        console_errors.allow(r"status of 400 .*/admin/users/new")  # the refusal is the point
        page.goto(f"{live_server}/admin/users/new")
        with page.expect_navigation():
            page.locator("main form button[type=submit]").click()
        page.get_by_test_id("error-summary").wait_for()
        _check(page, f"{label} /admin/users/new (refused, error summary)", found)


@pytest.mark.parametrize("role", ROLES)
def test_no_serious_accessibility_violation_on_any_page(app, live_server, browser, browser_login, make_user,
                                                         console_errors, role):
    _seed(app)
    samples = _samples(app)
    rules = _get_rules(app)
    user = make_user(role)
    found: Found = {}
    checked: dict[str, list[str]] = {}
    for lang in LANGUAGES:
        context = browser.new_context(locale="es-PE" if lang == "es" else "en-US",
                                      viewport={"width": 1280, "height": 900})
        context.add_init_script(path=str(AXE))
        page = context.new_page()
        page.on("console", console_errors.on_console)
        page.on("pageerror", console_errors.on_pageerror)
        try:
            page.goto(f"{live_server}/login")
            assert page.evaluate("document.documentElement.lang") == lang
            _check(page, f"anonymous/{lang} /login", found)
            browser_login(page, live_server, user)
            with page.expect_navigation():
                page.get_by_test_id(f"lang-{lang}").click()
            assert page.evaluate("document.documentElement.lang") == lang
            checked[lang] = _walk(page, live_server, rules, samples, f"{role}/{lang}", found)
            _check_states(page, live_server, f"{role}/{lang}", found, console_errors)
        finally:
            context.close()

    assert not found, _report(found)
    # The walk must have covered the role's areas, not silently nothing.
    must = {"/", "/documents/", "/clauses/", "/account/sessions", "/search"}
    if role == "admin":
        must |= {"/admin/users", "/audit/", "/org/sites", "/programme"}
    assert must <= set(checked["es"]), checked["es"]
    assert checked["es"] == checked["en"]
    assert any(p.startswith("/documents/") and p[len("/documents/"):].isdigit() for p in checked["es"])
    assert any(re.fullmatch(r"/nonconformities/\d+/history", p) for p in checked["es"]), checked["es"]
    assert any(re.fullmatch(r"/risks/gifts/\d+", p) for p in checked["es"]), checked["es"]
    assert any(re.fullmatch(r"/risks/due-diligence/\d+/history", p) for p in checked["es"]), checked["es"]
