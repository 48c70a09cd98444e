"""The gifts register in a real browser, in Spanish: Ada (administrator) sets the threshold for soles; Carla,
compliance officer, records a gift received above it, which waits for approval and which she may not approve
herself; César, another compliance officer, finds it among his tasks and approves it; the history shows who did
what."""

from __future__ import annotations

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
def test_a_gift_above_the_threshold_is_approved_by_someone_else(
        app, page, live_server, make_user, browser_login, console_errors):
    console_errors.allow(r"status of 400 .*/risks/gifts/new")  # the refused form is the point
    with app.app_context():
        year = local_today().year
    ada = make_user("admin", name="Ada Salas")
    carla = make_user("compliance_officer", name="Carla Mendoza")
    cesar = make_user("compliance_officer", name="César Huanca")

    # Ada sets the threshold for soles.
    browser_login(page, live_server, ada)
    page.goto(f"{live_server}/risks/gifts/thresholds")
    expect(page.locator("h1")).to_have_text("Umbrales de obsequios")
    page.fill("#currency", "pen")
    page.fill("#amount", "100")
    page.fill("#note", "Directiva de obsequios 2026")
    submit(page, "save-threshold")
    expect(page.locator(".alert-success.alert-dismissible")).to_contain_text("Umbral para PEN guardado.")
    expect(page.get_by_test_id("threshold-PEN")).to_contain_text("100.00")

    # Carla records a gift received above it; a bad value is pointed out at its field first.
    switch_to(page, live_server, carla, browser_login)
    page.goto(f"{live_server}/risks/gifts/")
    expect(page.locator("h1")).to_have_text("Obsequios y hospitalidad")
    submit(page, "new-gift")
    page.select_option("#kind", "gift")
    page.select_option("#direction", "received")
    page.fill("#internal_party", "Jefatura de la UT Cusco")
    page.fill("#counterparty", "Constructora Andina SAC")
    page.select_option("#counterparty_category", "contractor")
    page.fill("#value", "350,5x")
    page.fill("#currency", "PEN")
    page.fill("#description", "Canasta navideña con vino y panetón")
    page.fill("#purpose", "Fiestas de fin de año, en plena licitación de obras")
    page.select_option("#decision", "accepted")
    submit(page, "save-gift")
    expect(page.get_by_test_id("error-summary")).to_contain_text("Valor")
    expect(page.locator("#value")).to_have_attribute("aria-invalid", "true")
    page.fill("#value", "350.50")
    submit(page, "save-gift")
    reference = f"GH-{year}-0001"
    expect(page.locator(".alert-success.alert-dismissible")).to_contain_text(
        f"Guardado como {reference}: su valor requiere la aprobación de otra persona.")
    expect(page.get_by_test_id("gift-status")).to_have_text("Pendiente de aprobación")
    expect(page.get_by_test_id("gift-requires-approval")).to_contain_text("Sí")
    expect(page.get_by_test_id("approve-form")).to_have_count(0)  # never her own entry
    expect(page.get_by_test_id("decide-blocked")).to_contain_text("Segregación de funciones")

    # César finds it among his tasks and approves it.
    switch_to(page, live_server, cesar, browser_login)
    page.goto(f"{live_server}/tasks/")
    page.get_by_role("link", name=reference).click()
    expect(page.get_by_test_id("gift-reference")).to_have_text(reference)
    page.get_by_label("Nota de aprobación").fill("Se acepta: se comparte con todo el personal de la UT.")
    submit(page, "approve-gift")
    expect(page.locator(".alert-success.alert-dismissible")).to_contain_text("Registro aprobado.")
    expect(page.get_by_test_id("gift-status")).to_have_text("Aprobada")
    expect(page.get_by_test_id("gift-approval")).to_contain_text("César Huanca")

    # The history tells it; the register's filter finds it among the approved entries.
    submit(page, "gift-history")
    expect(page.get_by_test_id("revision")).to_have_count(2)
    expect(page.get_by_test_id("revision").first).to_contain_text("Carla Mendoza")
    expect(page.get_by_test_id("revision").last).to_contain_text("César Huanca")
    page.goto(f"{live_server}/risks/gifts/")
    page.select_option("#f-state", "approved")
    submit(page, "apply-filters")
    expect(page.get_by_test_id("gift-row")).to_have_count(1)
    expect(page.get_by_test_id("gift-count")).to_have_text("1 registro")
