"""The certification programme in a real browser, in Spanish: Rosa writes the scope, registers the certificate with
its file (after a typo the page points out at the field), plans the first surveillance audit and finds it on the
timeline, in the first year of the cycle."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from support import pdf, write

from auditdocs.db import write_transaction
from auditdocs.extensions import db
from auditdocs.models import Process, Site
from auditdocs.timeutil import local_today

pytestmark = [pytest.mark.sqlite_only, pytest.mark.browser]

STATEMENT = ("Gestión del servicio de acompañamiento familiar y cuidado diurno a niñas y niños menores de 36 meses, "
             "prestado desde la Sede Central (Lima) y sus unidades territoriales.")


def make_org(app: Any) -> None:
    """The head office, one regional unit and two processes (setup, not under test)."""
    with app.app_context():
        with write_transaction():
            head = Site(code="SEDE-CENTRAL", name_es="Sede Central (Lima)", region="Lima")
            db.session.add(head)
            db.session.flush()
            db.session.add(Site(code="UT-CUSCO", name_es="Unidad Territorial Cusco", region="Cusco",
                                parent_id=head.id))
            db.session.add(Process(code="PO-01", name_es="Visitas domiciliarias", category="operational"))
            db.session.add(Process(code="PE-02", name_es="Gestión de la calidad", category="strategic"))
        db.session.remove()


def submit(page: Any, test_id: str) -> None:
    with page.expect_navigation():
        page.get_by_test_id(test_id).click()


@pytest.mark.parametrize("browser_locale", ["es-PE"])
def test_rosa_writes_the_scope_registers_the_certificate_and_plans_the_first_surveillance(
        app, page, live_server, make_user, browser_login, console_errors, tmp_path: Path):
    make_org(app)
    with app.app_context():
        today = local_today()
    issued, planned = today - timedelta(days=100), today + timedelta(days=60)
    expires = issued + timedelta(days=3 * 365)
    certificate = write(tmp_path / "Certificado SGI-2025-0412.pdf", pdf("certificado"))
    rosa = make_user("quality_officer", name="Rosa Huamán")
    browser_login(page, live_server, rosa)

    # The scope: statement in Spanish, the head office and Cusco, home visits.
    page.goto(f"{live_server}/scope")
    expect(page.locator("h1")).to_have_text("Alcance de la certificación")
    submit(page, "define-scope-integrated")
    page.fill("#statement_es", STATEMENT)
    page.fill("#statement_en", "Management of the family-support and day-care service.")
    page.get_by_label("SEDE-CENTRAL — Sede Central (Lima)").check()
    page.get_by_label("UT-CUSCO — Unidad Territorial Cusco").check()
    page.get_by_label("PO-01 — Visitas domiciliarias").check()
    submit(page, "save-scope")
    expect(page.locator(".alert-success")).to_contain_text("Alcance de la certificación guardado.")
    expect(page.get_by_test_id("scope-statement-integrated")).to_have_text(STATEMENT)
    expect(page.get_by_test_id("scope-sites-integrated")).to_contain_text("UT-CUSCO")

    # The certificate: a wrong expiry date is pointed out at its field, then the certificate goes in with its file.
    page.goto(f"{live_server}/programme")
    submit(page, "new-certificate")
    page.fill("#number", "SGI-2025-0412")
    page.select_option("#scope", "integrated")
    page.fill("#body", "Bureau de Certificación Andina S.A.C.")
    page.fill("#issued_on", issued.isoformat())
    page.fill("#expires_on", (issued - timedelta(days=1)).isoformat())
    page.set_input_files("#file", str(certificate))
    console_errors.allow(r"status of 400")  # Chromium logs the refused post; the refusal is the point here
    submit(page, "save-certificate")
    expect(page.locator("#expires_on")).to_have_class(re.compile(r"is-invalid"))
    expect(page.locator("main")).to_contain_text("La fecha de vencimiento debe ser posterior a la fecha de emisión.")
    page.fill("#expires_on", expires.isoformat())
    page.set_input_files("#file", str(certificate))
    submit(page, "save-certificate")
    expect(page.get_by_test_id("certificate-number")).to_have_text("SGI-2025-0412")
    files = page.get_by_test_id("certificate-files")
    expect(files).to_contain_text("Certificado SGI-2025-0412.pdf")
    expect(files).to_contain_text("vigente")
    with page.expect_download() as download:
        page.get_by_test_id("download-file-1").click()
    assert download.value.suggested_filename == "Certificado SGI-2025-0412.pdf"

    # The first surveillance audit, from the certificate page.
    submit(page, "plan-audit")
    expect(page.locator("#audit_type")).to_have_value("surveillance_1")
    expect(page.locator("#auditing_body")).to_have_value("Bureau de Certificación Andina S.A.C.")
    page.fill("#planned_start", planned.isoformat())
    page.fill("#planned_end", (planned + timedelta(days=3)).isoformat())
    page.fill("#lead_auditor", "Ing. Marco Paredes")
    page.get_by_label("PO-01 — Visitas domiciliarias").check()
    submit(page, "save-audit")
    expect(page.locator(".alert-success")).to_contain_text("Auditoría planificada.")
    expect(page.get_by_test_id("audit-title")).to_have_text("Primera auditoría de seguimiento")
    expect(page.get_by_test_id("no-sites")).to_contain_text("Todavía no hay una muestra de sedes confirmada.")
    audit_id = int(page.url.rsplit("/", 1)[1])

    # The timeline: the audit sits in year 1 of the cycle; the second surveillance is still to plan.
    page.get_by_role("link", name="Programa de auditorías").click()
    year_1 = page.get_by_test_id("cycle-SGI-2025-0412-year-1")
    expect(year_1.get_by_test_id(f"timeline-audit-{audit_id}")).to_contain_text("Primera auditoría de seguimiento")
    expect(year_1.get_by_test_id(f"timeline-audit-{audit_id}")).to_contain_text("Planificada")
    expect(page.get_by_test_id("expected-SGI-2025-0412-surveillance_2")).to_contain_text("aún no planificada")
