"""Rosa, in Spanish, places a new procedure at the Cusco regional unit and in the home-visits process, then finds it
by filtering the register by that site (and does not find Puno's record there)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from support import audit_events, docx, pdf, seed_document, write

from auditdocs.db import write_transaction
from auditdocs.extensions import db
from auditdocs.models import Document, Process, Site

pytestmark = [pytest.mark.sqlite_only, pytest.mark.browser]

DOC_PAGE = re.compile(r"/documents/(\d+)$")


def _organisation(app: Any) -> dict[str, int]:
    """The head office, two regional units and two processes, as rows."""
    with app.app_context(), write_transaction():
        central = Site(code="SEDE-CENTRAL", name_es="Sede Central (Lima)", region="Lima")
        db.session.add(central)
        db.session.flush()
        cusco = Site(code="UT-CUSCO", name_es="Unidad Territorial Cusco", region="Cusco", parent_id=central.id)
        puno = Site(code="UT-PUNO", name_es="Unidad Territorial Puno", region="Puno", parent_id=central.id)
        visits = Process(code="PO-01", name_es="Visitas domiciliarias", name_en="Home visits", category="operational")
        buying = Process(code="PS-01", name_es="Compras y abastecimiento", category="support")
        db.session.add_all([cusco, puno, visits, buying])
        db.session.flush()
        ids = {"cusco": cusco.id, "puno": puno.id, "visits": visits.id}
    with app.app_context():
        db.session.remove()
    return ids


@pytest.mark.parametrize("browser_locale", ["es-PE"])
def test_rosa_places_a_procedure_at_cusco_and_finds_it_by_site(page, live_server, app, make_user, browser_login,
                                                               tmp_path: Path):
    ids = _organisation(app)
    rosa = make_user("quality_officer", name="Rosa Huamán")
    seed_document(app, rosa.id, write(tmp_path / "puno.pdf", pdf("puno")), code="RG-SAF-121",
                  title="Registro de visitas — Puno", kind="record", sites=["UT-PUNO"], processes=["PO-01"])
    seed_document(app, rosa.id, write(tmp_path / "politica.pdf", pdf("politica")), code="PO-SIG-001",
                  title="Política del Sistema Integrado de Gestión", kind="policy")
    word = write(tmp_path / "PR-SAF-003 Visitas domiciliarias v4.docx",
                 docx("Describe la visita domiciliaria semanal.", heading="Visitas domiciliarias"))

    browser_login(page, live_server, rosa)
    page.goto(f"{live_server}/documents/new")
    expect(page.locator("h1")).to_have_text("Nuevo documento")
    sites = page.get_by_test_id("placement-sites")
    expect(sites).to_contain_text("No marque ninguna si aplica a toda la organización.")
    page.fill("#code", "PR-SAF-003")
    page.fill("#title", "Visitas domiciliarias")
    page.set_input_files("#file", str(word))
    sites.get_by_label("Unidad Territorial Cusco").check()
    page.get_by_test_id("placement-processes").get_by_label("Visitas domiciliarias").check()
    with page.expect_navigation(url=DOC_PAGE):
        page.get_by_test_id("create-document").click()

    doc_id = int(DOC_PAGE.search(page.url).group(1))
    placed = page.get_by_test_id("doc-placement")
    expect(placed).to_contain_text("Unidad Territorial Cusco")
    expect(placed).to_contain_text("Visitas domiciliarias")
    expect(placed.get_by_role("link", name="Unidad Territorial Cusco")).to_have_attribute(
        "href", f"/org/sites/{ids['cusco']}")
    with app.app_context():
        doc = db.session.get(Document, doc_id)
        assert [s.code for s in doc.sites] == ["UT-CUSCO"] and [p.code for p in doc.processes] == ["PO-01"]
        db.session.remove()
    created = [e for e in audit_events(app, "document.create") if e["object_id"] == "PR-SAF-003"]
    assert created[0]["new"]["sites"] == ["UT-CUSCO"] and created[0]["new"]["processes"] == ["PO-01"]

    page.goto(f"{live_server}/documents/")
    cusco = page.locator("#f-site option", has_text="Unidad Territorial Cusco")
    page.select_option("#f-site", cusco.get_attribute("value"))
    with page.expect_navigation():
        page.get_by_role("button", name="Aplicar").click()
    assert f"site={ids['cusco']}" in page.url
    expect(page.locator("#f-placement-help")).to_contain_text("más los documentos de toda la organización")
    register = page.get_by_test_id("register")
    expect(register.locator("tbody tr", has_text="PR-SAF-003")).to_contain_text("UT-CUSCO · PO-01")
    expect(register.locator("tbody tr", has_text="PO-SIG-001")).to_contain_text("Toda la organización")
    expect(register).not_to_contain_text("RG-SAF-121")
    expect(page.get_by_test_id("register-count")).to_have_text("2 documentos")
