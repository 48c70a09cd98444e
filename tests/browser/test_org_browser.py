"""The organisation pages in a real browser, in Spanish: Rosa adds a local office under a regional unit, finds it in the
tree, and edits it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from auditdocs.db import write_transaction
from auditdocs.services import org as svc

pytestmark = [pytest.mark.sqlite_only, pytest.mark.browser]


@pytest.mark.parametrize("browser_locale", ["es-PE"])
def test_rosa_adds_an_office_under_a_regional_unit_and_edits_it(page, app, live_server, make_user, browser_login,
                                                                console_errors):
    rosa = make_user("quality_officer", name="Rosa Huamán")
    with app.app_context(), write_transaction():
        head = svc.create_site(svc.SiteData(code="SEDE-CENTRAL", name_es="Sede Central (Lima)", region="Lima"))
        cusco = svc.create_site(svc.SiteData(code="UT-CUSCO", name_es="Unidad Territorial Cusco", region="Cusco",
                                             parent_id=head.id))
        svc.create_site(svc.SiteData(code="UT-PUNO", name_es="Unidad Territorial Puno", region="Puno",
                                     parent_id=head.id))
        cusco_id = cusco.id
    browser_login(page, live_server, rosa)

    page.get_by_test_id("nav-more").click()  # the header keeps the first areas inline; the rest are under "Más"
    with page.expect_navigation():
        page.get_by_role("link", name="Organización").click()
    expect(page.locator("h1")).to_have_text("Sedes")
    with page.expect_navigation():
        page.get_by_test_id("new-site").click()
    expect(page.locator("h1")).to_have_text("Nueva sede")

    page.fill("#code", "OE-QUILLABAMBA")
    page.fill("#name_es", "Oficina de Enlace Quillabamba")
    page.select_option("#parent_id", str(cusco_id))
    page.fill("#region", "Cusco")
    page.fill("#address", "Jr. Libertad 215, Quillabamba")
    page.select_option("#responsible_id", str(rosa.id))
    with page.expect_navigation():
        page.get_by_role("button", name="Crear sede").click()
    expect(page.get_by_text("Sede OE-QUILLABAMBA creada.")).to_be_visible()
    expect(page.get_by_test_id("site-name")).to_contain_text("Oficina de Enlace Quillabamba")
    expect(page.get_by_test_id("coverage")).to_contain_text("cláusulas")

    with page.expect_navigation():
        page.get_by_role("link", name="Sedes", exact=True).first.click()
    office = page.get_by_test_id("site-OE-QUILLABAMBA")
    expect(office).to_have_attribute("data-depth", "2")
    expect(office).to_contain_text("Rosa Huamán")
    rows = page.locator("[data-testid=site-tree] tbody tr")
    expect(rows).to_have_count(4)
    codes = [rows.nth(i).get_attribute("data-testid") for i in range(4)]
    assert codes == ["site-SEDE-CENTRAL", "site-UT-CUSCO", "site-OE-QUILLABAMBA", "site-UT-PUNO"]

    with page.expect_navigation():
        office.get_by_role("link", name="Oficina de Enlace Quillabamba").click()
    with page.expect_navigation():
        page.get_by_test_id("edit-site").click()
    expect(page.locator("h1")).to_have_text("Editar OE-QUILLABAMBA")
    page.fill("#name_es", "Oficina de Enlace La Convención")
    page.fill("#name_en", "La Convención Liaison Office")
    with page.expect_navigation():
        page.get_by_role("button", name="Guardar").click()
    expect(page.get_by_text("Sede OE-QUILLABAMBA actualizada.")).to_be_visible()
    expect(page.get_by_test_id("site-name")).to_contain_text("Oficina de Enlace La Convención")
    expect(page.get_by_test_id("site-details")).to_contain_text("Unidad Territorial Cusco")

    with page.expect_navigation():
        page.get_by_test_id("edit-site").click()
    page.fill("#code", "mal código")
    console_errors.allow(r"status of 400 .*/org/sites/\d+/edit")  # the refused form comes back as a 400
    with page.expect_navigation():
        page.get_by_role("button", name="Guardar").click()
    expect(page.locator(".invalid-feedback")).to_contain_text("Use letras, dígitos")
    page.wait_for_load_state("networkidle")
