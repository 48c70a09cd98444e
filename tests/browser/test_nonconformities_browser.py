"""Nonconformities in a real browser, in Spanish: Carla, compliance officer, raises a finding with its clause,
plans and carries out the corrective action, schedules its effectiveness check for Quique (a quality officer, never
the action's owner), who records it effective; only then can Carla close the nonconformity. The register's
filters find it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from auditdocs.timeutil import local_today

pytestmark = [pytest.mark.sqlite_only, pytest.mark.browser]


def submit(page: Any, test_id: str) -> None:
    with page.expect_navigation():
        page.get_by_test_id(test_id).click()


def switch_to(page: Any, live_server: str, user: Any, browser_login: Any) -> None:
    page.context.clear_cookies()
    browser_login(page, live_server, user)


@pytest.mark.parametrize("browser_locale", ["es-PE"])
def test_carla_raises_a_nonconformity_and_closes_it_after_an_effective_action(
        app, page, live_server, make_user, browser_login, console_errors):
    console_errors.allow(r"status of 400 .*/nonconformities/new")  # the refused form is the point
    with app.app_context():
        today = local_today()
    carla = make_user("compliance_officer", name="Carla Mendoza")
    quique = make_user("quality_officer", name="Quique Rojas")
    browser_login(page, live_server, carla)

    # Raise: a missing title is pointed out at its field, then the finding goes in with its clause.
    page.goto(f"{live_server}/nonconformities/")
    expect(page.locator("h1")).to_have_text("No conformidades")
    submit(page, "new-nc")
    page.fill("#description", "Tres obsequios recibidos en la Unidad Territorial Cusco no figuran en el registro.")
    page.select_option("#source", "anti_bribery_concern")
    page.select_option("#grade", "minor")
    submit(page, "save-nc")
    expect(page.get_by_test_id("error-summary")).to_contain_text("Título")
    expect(page.locator("#title")).to_have_attribute("aria-invalid", "true")
    page.fill("#title", "Registro de obsequios incompleto")
    picker = page.get_by_test_id("clause-picker-clause_ids")
    picker.locator("[data-cp-search]").fill("8.7")
    picker.locator(".cp-row", has=page.locator('input[data-ref="ISO 37001:2016 8.7"]')).locator("label").click()
    page.fill("#correction", "Se registraron los tres obsequios el mismo día.")
    submit(page, "save-nc")
    expect(page.locator(".alert-success.alert-dismissible")).to_contain_text("No conformidad registrada.")
    reference = f"NC-{today.year}-0001"
    expect(page.get_by_test_id("nc-reference")).to_have_text(reference)
    expect(page.get_by_test_id("nc-clauses")).to_contain_text("8.7")
    expect(page.get_by_test_id("nc-status")).to_have_text("Abierta")

    # The corrective action, owned by Carla, started and implemented with its evidence.
    page.get_by_test_id("add-action-open").click()
    page.fill("#new-description", "Capacitar al personal de la UT Cusco en el registro de obsequios.")
    page.select_option("#new-owner_id", str(carla.id))
    page.fill("#new-due_date", (today + timedelta(days=30)).isoformat())
    submit(page, "add-action-submit")
    expect(page.locator(".alert-success.alert-dismissible")).to_contain_text("Acción correctiva A1 registrada.")
    expect(page.get_by_test_id("close-blocked")).to_contain_text("A1")
    submit(page, "start-1")
    expect(page.get_by_test_id("action-status-1")).to_have_text("En curso")
    page.get_by_test_id("implement-open-1").click()
    page.get_by_label("Evidencia de cumplimiento").fill("Capacitación dictada; lista de asistencia firmada.")
    submit(page, "implement-submit-1")
    expect(page.get_by_test_id("action-status-1")).to_have_text("Implementada")

    # The check is scheduled for Quique: Carla, the owner, is not even offered, and cannot record it herself.
    page.get_by_test_id("schedule-open-1").click()
    schedule = page.get_by_test_id("schedule-1")
    checker = schedule.get_by_label("Verificado por")
    expect(checker.locator(f'option[value="{quique.id}"]')).to_have_count(1)
    expect(checker.locator(f'option[value="{carla.id}"]')).to_have_count(0)
    schedule.get_by_label("Verificar el").fill(today.isoformat())
    checker.select_option(str(quique.id))
    submit(page, "schedule-submit-1")
    expect(page.locator(".alert-success.alert-dismissible")).to_contain_text("Verificación de eficacia programada.")
    expect(page.get_by_test_id("check-open-1")).to_have_count(0)

    # Quique records it effective.
    switch_to(page, live_server, quique, browser_login)
    page.goto(f"{live_server}/nonconformities/")
    page.get_by_test_id("nc-ref").filter(has_text=reference).click()
    page.get_by_test_id("check-open-1").click()
    page.get_by_label("Eficaz", exact=True).check()
    page.get_by_label("Evidencia de la verificación").fill("Muestreo de 20 registros de obsequios: todos completos.")
    submit(page, "check-submit-1")
    expect(page.get_by_test_id("action-status-1")).to_have_text("Eficaz")

    # Carla closes it.
    switch_to(page, live_server, carla, browser_login)
    page.goto(f"{live_server}/nonconformities/")
    page.get_by_test_id("nc-ref").filter(has_text=reference).click()
    page.get_by_label("Nota de cierre").fill("Acción eficaz verificada por Calidad.")
    submit(page, "close-nc")
    expect(page.locator(".alert-success.alert-dismissible")).to_contain_text("No conformidad cerrada.")
    expect(page.get_by_test_id("nc-status")).to_have_text("Cerrada")
    expect(page.get_by_test_id("closed-note")).to_contain_text("Carla Mendoza")

    # The history tells it step by step; the register's filters find it, and only it.
    submit(page, "nc-history")
    expect(page.get_by_test_id("revision").first).to_contain_text("Carla Mendoza")
    expect(page.get_by_test_id("timeline")).to_contain_text("Quique Rojas")
    page.goto(f"{live_server}/nonconformities/")
    page.select_option("#f-status", "closed")
    page.select_option("#f-grade", "minor")
    submit(page, "apply-filters")
    expect(page.get_by_test_id("nc-row")).to_have_count(1)
    expect(page.get_by_test_id("nc-count")).to_have_text("1 no conformidad")
    page.select_option("#f-grade", "major")
    submit(page, "apply-filters")
    expect(page.get_by_test_id("nc-row")).to_have_count(0)
