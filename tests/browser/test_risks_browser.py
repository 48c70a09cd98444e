"""Bribery risks in a real browser, in Spanish: Carla, compliance officer, assesses a risk in the annual exercise
(a missing scenario is pointed out at its field); she cannot approve her own assessment, Beto (another compliance
officer) approves it; then the risk is found from the residual heat map, reaching its cell with Tab and opening it
with Enter."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect
from risks_web_support import make_exercise

pytestmark = [pytest.mark.sqlite_only, pytest.mark.browser]
FOCUSED_CELL = """(sel) => { const a = document.activeElement; return !!a && a.matches(sel); }"""


def submit(page: Any, test_id: str) -> None:
    with page.expect_navigation():
        page.get_by_test_id(test_id).click()


@pytest.mark.parametrize("browser_locale", ["es-PE"])
def test_carla_assesses_beto_approves_and_the_heat_map_cell_leads_to_the_risk(
        app, page, live_server, make_user, browser_login, console_errors):
    console_errors.allow(r"status of 400 .*/risks/new")  # the refused form is the point
    carla = make_user("compliance_officer", name="Carla Mendoza")
    beto = make_user("compliance_officer", name="Beto Quispe")
    make_exercise(app, carla.id, name="Evaluación anual de riesgos de soborno 2026")
    browser_login(page, live_server, carla)

    page.goto(f"{live_server}/risks/")
    expect(page.locator("h1")).to_have_text("Registro de riesgos de soborno")
    submit(page, "new-risk")
    expect(page.get_by_test_id("scoring-guide")).to_contain_text("Crítico")
    page.fill("#title", "Pagos a inspectores municipales")
    page.select_option("#associate_category", "public_official")
    page.select_option("#inherent_likelihood", "4")
    page.select_option("#inherent_impact", "5")
    page.select_option("#residual_likelihood", "2")
    page.select_option("#residual_impact", "4")
    submit(page, "save-risk")
    expect(page.get_by_test_id("error-summary")).to_contain_text("Escenario de soborno")
    expect(page.locator("#scenario")).to_have_attribute("aria-invalid", "true")
    page.fill("#scenario", "Un inspector pide un pago para no observar la obra.")
    submit(page, "save-risk")
    expect(page.locator(".alert-success.alert-dismissible")).to_contain_text("espera la aprobación")
    expect(page.get_by_test_id("risk-reference")).to_have_text("BR-0001")
    expect(page.get_by_test_id("risk-status")).to_have_text("Pendiente de aprobación")
    expect(page.get_by_test_id("risk-inherent")).to_contain_text("Crítico")
    expect(page.get_by_test_id("risk-residual")).to_contain_text("Medio")
    expect(page.get_by_test_id("approve-block")).to_contain_text("Segregación de funciones")
    expect(page.get_by_test_id("approve-form")).to_have_count(0)
    risk_url = page.url

    page.context.clear_cookies()
    browser_login(page, live_server, beto)
    page.goto(risk_url)
    page.fill("#approve-note", "Revisado con el comité de cumplimiento")
    submit(page, "approve")
    expect(page.get_by_test_id("risk-status")).to_have_text("Evaluación aprobada")
    expect(page.get_by_test_id("risk-approved")).to_contain_text("Beto Quispe")

    page.goto(f"{live_server}/risks/heatmap")
    cell = '[data-testid="heatmap-residual"] a[data-likelihood="2"][data-impact="4"]'
    expect(page.locator(cell)).to_have_attribute("data-count", "1")
    expect(page.locator(cell)).to_contain_text("Medio")
    page.get_by_test_id("apply-heatmap").focus()
    for _tab in range(80):  # Tab through the inherent map's cells to this one
        page.keyboard.press("Tab")
        if page.evaluate(FOCUSED_CELL, cell):
            break
    assert page.evaluate(FOCUSED_CELL, cell), "the heat-map cell is not reachable with Tab"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_test_id("register-cell")).to_contain_text("probabilidad 2 e impacto 4")
    rows = page.get_by_test_id("risk-row")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Pagos a inspectores municipales")
    with page.expect_navigation():
        rows.first.get_by_test_id("risk-ref").click()
    expect(page.get_by_test_id("risk-reference")).to_have_text("BR-0001")
