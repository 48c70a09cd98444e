"""Rosa plans the first surveillance audit in Spanish, asks for the IAF MD 1 site sample, swaps one region for a
recorded reason and confirms; the audit page then lists the head office and the three regions with their reasons."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from auditdocs.db import write_transaction
from auditdocs.extensions import db
from auditdocs.models import Audit, AuditSite, Certificate, Scope, Site

pytestmark = [pytest.mark.sqlite_only, pytest.mark.browser]

REGIONS = {"AMAZONAS": "Amazonas", "ANCASH": "Áncash", "APURIMAC": "Apurímac", "AREQUIPA": "Arequipa",
           "AYACUCHO": "Ayacucho", "CAJAMARCA": "Cajamarca", "CUSCO": "Cusco", "HUANCAVELICA": "Huancavelica",
           "HUANUCO": "Huánuco", "ICA": "Ica", "JUNIN": "Junín", "LA-LIBERTAD": "La Libertad",
           "LAMBAYEQUE": "Lambayeque", "LIMA": "Lima", "LORETO": "Loreto", "MADRE-DE-DIOS": "Madre de Dios",
           "PIURA": "Piura", "PUNO": "Puno", "SAN-MARTIN": "San Martín"}
VISITED = ["UT-AREQUIPA", "UT-CUSCO", "UT-LA-LIBERTAD", "UT-PIURA", "UT-PUNO"]  # by the initial audit
REASON = "Huaicos en la carretera: la unidad territorial no es accesible en marzo."


def organisation(app: Any, owner_id: int) -> int:
    """The head office, 19 regional units, the integrated scope, its certificate and the initial audit (done)."""
    with app.app_context(), write_transaction():
        central = Site(code="SEDE-CENTRAL", name_es="Sede Central (Lima)", region="Lima")
        db.session.add(central)
        db.session.flush()
        units = {f"UT-{key}": Site(code=f"UT-{key}", name_es=f"Unidad Territorial {name}", region=name,
                                   parent_id=central.id) for key, name in REGIONS.items()}
        db.session.add_all(units.values())
        issued = date.today() - timedelta(days=450)
        cert = Certificate(number="SGI-2025-0412", body="Bureau de Certificación Andina S.A.C.", issued_on=issued,
                           expires_on=issued + timedelta(days=3 * 365), created_by_id=owner_id,
                           scope=Scope(key="integrated", statement_es="Servicio de acompañamiento familiar",
                                       sites=[central, *units.values()]))
        initial = Audit(certificate=cert, audit_type="initial", planned_start=issued - timedelta(days=30),
                        actual_start=issued - timedelta(days=30), actual_end=issued - timedelta(days=26),
                        status="done", auditing_body=cert.body, created_by_id=owner_id)
        initial.sites.append(AuditSite(site=central, reason="función central"))
        for code in VISITED:
            initial.sites.append(AuditSite(site=units[code], reason="muestra inicial"))
        db.session.add_all([cert, initial])
        db.session.flush()
        return cert.id


@pytest.mark.parametrize("browser_locale", ["es-PE"])
def test_rosa_plans_a_surveillance_audit_and_confirms_the_site_sample(page, app, live_server, make_user,
                                                                     browser_login, console_errors):
    rosa = make_user("quality_officer", name="Rosa Huamán")
    cert_id = organisation(app, rosa.id)
    browser_login(page, live_server, rosa)

    # Plan the first surveillance audit of the certificate (the helper page pre-fills type and body).
    page.goto(f"{live_server}/audits/new?certificate={cert_id}")
    expect(page.locator("#audit_type")).to_have_value("surveillance_1")
    page.fill("#planned_start", (date.today() + timedelta(days=60)).isoformat())
    page.fill("#lead_auditor", "Carmen Quispe")
    with page.expect_navigation():
        page.get_by_test_id("save-audit").click()
    expect(page.get_by_test_id("no-sites")).to_be_visible()

    # Ask for the sample: the head office plus 3 of the 19 regional units, none visited yet in this cycle.
    proposal_link = page.get_by_test_id("propose-sample")
    expect(proposal_link).to_have_text("Proponer muestra de sedes")
    with page.expect_navigation():
        proposal_link.click()
    expect(page.locator("h1")).to_have_text("Muestra de sedes")
    expect(page.get_by_test_id("formula")).to_have_text(
        "x = 19 sedes además de la función central; muestra mínima y = ⌈0,6 × √19⌉ = 3")
    central_box = page.locator("[data-testid=site-SEDE-CENTRAL] input[type=checkbox]")
    expect(central_box).to_be_checked()
    expect(central_box).to_be_disabled()
    ticked = page.locator("input[name=sites][type=checkbox]:checked")
    expect(ticked).to_have_count(3)
    proposed = [page.locator(f"label[for={box.get_attribute('id')}]").inner_text() for box in ticked.all()]
    assert not set(proposed) & set(VISITED), proposed
    expect(page.get_by_test_id(f"reason-{proposed[0]}")).to_contain_text("nunca visitada en este ciclo")
    expect(page.get_by_test_id("reason-SEDE-CENTRAL")).to_have_text("función central: se audita siempre")
    # Open major nonconformities are counted now that the register exists (none in this seed).
    expect(page.locator("[data-testid=candidates]")).not_to_contain_text("aún no se registra")
    expect(page.locator("[data-testid=candidates] thead")).to_contain_text("No conformidades mayores abiertas")
    seed = page.get_by_test_id("seed").inner_text()

    # Swap one region for another; without a reason the choice is refused at the field, nothing is saved.
    console_errors.allow(r"status of 400 .*/audits/\d+/sample")  # that refusal is the point here
    dropped = proposed[-1]
    added = next(f"UT-{key}" for key in REGIONS if f"UT-{key}" not in proposed and f"UT-{key}" not in VISITED)
    page.get_by_label(f"Visitar {dropped}", exact=True).uncheck()
    page.get_by_label(f"Visitar {added}", exact=True).check()
    with page.expect_navigation():
        page.get_by_test_id("confirm-sample").click()
    expect(page.locator(".invalid-feedback")).to_contain_text(
        f"Su elección difiere de la propuesta para la semilla {seed}: indique el motivo (queda registrado).")
    expect(page.get_by_label(f"Visitar {added}", exact=True)).to_be_checked()
    expect(page.get_by_label(f"Visitar {dropped}", exact=True)).not_to_be_checked()
    page.fill("#note", REASON)
    with page.expect_navigation():
        page.get_by_test_id("confirm-sample").click()

    # The audit page lists the sample with the reason of each site.
    expect(page.locator(".alert-success")).to_contain_text(
        f"Muestra de sedes confirmada: la función central y 3 sedes más (semilla {seed}).")
    rows = page.locator("[data-testid=audit-sites] tbody tr")
    expect(rows).to_have_count(4)
    sites = page.get_by_test_id("audit-sites")
    expect(sites).to_contain_text("función central: se audita siempre")
    expect(rows.filter(has_text=added)).to_contain_text(f"elegida por el oficial: {REASON}")
    for code in proposed[:-1]:
        expect(rows.filter(has_text=code)).to_contain_text("nunca visitada en este ciclo")
    expect(sites).not_to_contain_text(dropped)
    with app.app_context():
        audit = db.session.scalars(select(Audit).where(Audit.audit_type == "surveillance_1")).one()
        assert audit.sample_seed == int(seed) and audit.sample_note == REASON
        db.session.remove()
