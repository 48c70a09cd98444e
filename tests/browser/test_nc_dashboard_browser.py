"""The nonconformities dashboard in a real browser, in Spanish: a compliance officer goes from the panel on her
dashboard to the full dashboard, reads the open counts, the days to closure and the ageing table, and follows a
count to the register filtered by that grade."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from playwright.sync_api import expect
from records_support import add_action, on_nc, raise_nc
from sqlalchemy import select

from auditdocs.extensions import db
from auditdocs.models import Nonconformity
from auditdocs.services import nonconformities as svc
from auditdocs.timeutil import local_today

pytestmark = [pytest.mark.sqlite_only, pytest.mark.browser]
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
RUN_AXE = """async () => (await axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a",
  "wcag21aa"]}, resultTypes: ["violations"]})).violations.filter((v) => ["serious", "critical"].includes(v.impact))
  .map((v) => v.id + ": " + v.nodes.map((n) => n.target.join(" ")).join("; "))"""
STAND_IN = '<!doctype html><link rel="icon" href="/static/app/favicon.svg"><title>registro</title><main></main>'


@pytest.fixture(autouse=True)
def _register_pages(app: Flask) -> dict[str, bool]:
    """On a branch without the register's pages yet, stand-ins answer at their agreed addresses (registered before
    the live server's first request)."""
    stubbed = {}
    for endpoint, rule in (("nonconformities.index", "/nonconformities/"),
                           ("nonconformities.detail", "/nonconformities/<int:nc_id>")):
        stubbed[endpoint] = endpoint not in app.view_functions
        if stubbed[endpoint]:
            app.add_url_rule(rule, endpoint, lambda **_kw: STAND_IN)
    return stubbed


@pytest.mark.parametrize("browser_locale", ["es-PE"])
def test_carmen_reads_the_dashboard_and_opens_the_major_ones(page, app, live_server, make_user, browser_login,
                                                             _register_pages):
    carmen = make_user("compliance_officer", name="Carmen Rojas")
    rosa = make_user("quality_officer", name="Rosa Huamán")
    with app.app_context():
        today = local_today()
    major = [raise_nc(app, rosa.id, today=today, grade="major", title=f"Obsequio sin registrar {n}",
                      detected_on=today - timedelta(days=n)) for n in (3, 12)]
    minor = raise_nc(app, rosa.id, today=today, grade="minor", title="Acta sin firma",
                     detected_on=today - timedelta(days=40))
    for days in (3, 6):  # closed after 3 and 6 days: average 4.5, 90th percentile 3 + 3 × 0.9 = 5.7
        closed = raise_nc(app, rosa.id, today=today, grade="observation", detected_on=today - timedelta(days=days))
        on_nc(app, rosa.id, closed, svc.close_nonconformity, today=today, note="No requiere acción.", no_action=True)
    add_action(app, rosa.id, minor, carmen.id, due=today - timedelta(days=2), today=today - timedelta(days=20),
               description="Firmar y archivar el acta")
    with app.app_context():
        references = dict(db.session.execute(select(Nonconformity.id, Nonconformity.reference)).all())

    page.add_init_script(path=str(AXE))  # the page with figures, bars and lists: no serious violation either
    browser_login(page, live_server, carmen)
    panel = page.get_by_test_id("nc-panel")
    expect(panel).to_contain_text("No conformidades abiertas")
    expect(panel.get_by_test_id("nc-panel-major")).to_have_text("2")
    expect(panel.get_by_test_id("nc-panel-overdue")).to_have_text("1")
    with page.expect_navigation():
        panel.get_by_role("link", name="Ver el panel de no conformidades").click()

    expect(page.locator("h1")).to_have_text("Panel de no conformidades")
    expect(page.get_by_test_id("nc-grade-major")).to_have_text("2")
    expect(page.get_by_test_id("nc-grade-minor")).to_have_text("1")
    expect(page.get_by_test_id("nc-open-total")).to_have_text("3")
    expect(page.get_by_test_id("nc-closed-count")).to_have_text("2")
    expect(page.get_by_test_id("nc-closure-average")).to_have_text("4,5")
    expect(page.get_by_test_id("nc-closure-p90")).to_have_text("5,7")
    expect(page.get_by_test_id("nc-actions-overdue-count")).to_have_text("1")
    expect(page.get_by_test_id("nc-mine-count")).to_have_text("1")  # the overdue action is hers
    expect(page.get_by_test_id("nc-overdue")).to_contain_text("Acta sin firma")
    chart = page.get_by_test_id("nc-ageing-chart")
    expect(chart).to_have_attribute("role", "img")
    expect(chart.locator("title")).to_have_text("No conformidades abiertas por días desde su detección y por grado")
    first = page.get_by_test_id("nc-ageing-row-0")
    expect(first).to_contain_text("0–30 días")
    expect(first.get_by_test_id("nc-ageing-cell-major")).to_have_text("2")
    expect(page.get_by_test_id("nc-ageing-row-1").get_by_test_id("nc-ageing-cell-minor")).to_have_text("1")

    assert page.evaluate(RUN_AXE) == []

    with page.expect_navigation():
        page.get_by_test_id("nc-grade-major").click()
    url = urlsplit(page.url)
    assert url.path == "/nonconformities/"
    assert parse_qs(url.query) == {"status": ["not_closed"], "grade": ["major"]}
    if not _register_pages["nonconformities.index"]:  # the real register: the two major ones, not the minor one
        for nc_id in major:
            expect(page.locator("main")).to_contain_text(references[nc_id])
        expect(page.locator("main")).not_to_contain_text(references[minor])
