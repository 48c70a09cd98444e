"""Bulk upload in a real browser, in Spanish: Rosa picks several files at once from the register, watches each one's
progress and result, and finds the new documents in the register."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select
from support import docx, pdf, seed_document, write

from auditdocs.extensions import db
from auditdocs.models import Document
from auditdocs.services.import_plan import derived_code

pytestmark = [pytest.mark.sqlite_only, pytest.mark.browser]

EXISTING = pdf("PR-QA-001 primera versión")
# Records, per progress bar (by its accessible name), the highest value it showed before its result replaced it.
_PROGRESS_RECORDER = """
() => {
  window.progressSeen = {};
  new MutationObserver(() => {
    document.querySelectorAll("[data-results] progress").forEach((bar) => {
      const name = bar.getAttribute("aria-label");
      window.progressSeen[name] = Math.max(window.progressSeen[name] || 0, bar.value);
    });
  }).observe(document.querySelector("[data-results]"), {subtree: true, attributes: true, childList: true});
}
"""


def test_rosa_uploads_many_files_in_spanish(page, live_server, app, make_user, browser_login, tmp_path,
                                            console_errors):
    console_errors.allow(r"status of 400")  # the refused file's answer: a 400 with its reason, shown in its row
    rosa = make_user("quality_officer", name="Rosa Quispe")
    seed_document(app, rosa.id, write(tmp_path / "v1.pdf", EXISTING), code="PR-QA-001",
                  title="Control de documentos")
    folder = tmp_path / "compartido"
    folder.mkdir()
    files = [
        write(folder / "PR-SAF-003 Visitas domiciliarias v4.pdf", pdf("visitas", padding=3 * 1024 * 1024)),
        write(folder / "PR-QA-001 Control de documentos v2.docx", docx("Segunda versión", "Control de documentos")),
        write(folder / "Informe anual de gestión.docx", docx("Informe anual")),
        write(folder / "copia de respaldo.pdf", EXISTING),
        write(folder / "factura.pdf", b"MZ\x90\x00" + b"\x00" * 300),
    ]

    browser_login(page, live_server, rosa)
    with page.expect_navigation():
        page.get_by_test_id("lang-es").click()
    page.goto(f"{live_server}/documents/")
    with page.expect_navigation():
        page.get_by_test_id("bulk-upload").click()
    expect(page.locator("h1")).to_have_text("Subir varios archivos")
    expect(page.get_by_text("Cada archivo se envía por separado, con su propia barra de progreso.")).to_be_visible()

    page.set_input_files("#files", [str(f) for f in files])
    expect(page.locator("[data-chosen-count]")).to_have_text("Archivos elegidos: 5")
    page.evaluate(_PROGRESS_RECORDER)
    page.get_by_test_id("bulk-submit").click()

    results = page.get_by_test_id("bulk-results")
    expect(page.locator("[data-progress-note]")).to_have_text("Todos los archivos procesados.")
    summary = page.get_by_test_id("bulk-summary")
    expect(summary).to_contain_text("Documentos nuevos")  # not the English labels
    for outcome, count in (("created", "2"), ("version", "1"), ("duplicate", "1"), ("refused", "1")):
        expect(summary.locator(f'[data-count="{outcome}"]')).to_have_text(count)

    def row(name: str) -> Any:
        return results.locator("tbody tr").filter(has_text=name)

    expect(row("PR-SAF-003 Visitas")).to_contain_text("Creado")
    expect(row("PR-SAF-003 Visitas")).to_contain_text("Documento PR-SAF-003 creado; la versión v4 espera aprobación.")
    expect(row("PR-QA-001 Control")).to_contain_text("Nueva versión")
    expect(row("PR-QA-001 Control")).to_contain_text("Nueva versión v2 de PR-QA-001; espera aprobación.")
    expect(row("copia de respaldo")).to_contain_text("Duplicado")
    expect(row("copia de respaldo")).to_contain_text("Mismo contenido que PR-QA-001 v1")
    expect(row("factura.pdf")).to_contain_text("Rechazado")
    expect(row("factura.pdf")).to_contain_text("no es un archivo PDF válido")
    informe = derived_code("", "Informe anual de gestión")
    expect(row("Informe anual").get_by_role("link", name=informe)).to_be_visible()

    seen = page.evaluate("() => window.progressSeen")
    assert seen.get("Progreso de la subida de PR-SAF-003 Visitas domiciliarias v4.pdf", 0) > 0, seen
    assert len(seen) == 5, seen  # every file had its own labelled progress bar

    with page.expect_navigation():
        row("PR-SAF-003 Visitas").get_by_role("link", name="PR-SAF-003").click()
    expect(page.get_by_test_id("doc-code")).to_have_text("PR-SAF-003")
    page.goto(f"{live_server}/documents/")
    register = page.get_by_test_id("register")
    expect(register).to_contain_text("PR-SAF-003")
    expect(register).to_contain_text("Visitas domiciliarias")
    expect(register).to_contain_text(informe)
    page.wait_for_load_state("networkidle")  # the icon request too, before the server stops

    with app.app_context():
        codes = set(db.session.scalars(select(Document.code)))
        qa = db.session.scalar(select(Document).where(Document.code == "PR-QA-001"))
        assert codes == {"PR-QA-001", "PR-SAF-003", informe}
        assert [(v.number, v.revision_label) for v in sorted(qa.versions, key=lambda v: v.number)] == [
            (1, None), (2, "v2")]
        db.session.remove()


def test_without_javascript_the_plain_form_does_the_same(browser, live_server, app, make_user, tmp_path,
                                                          console_errors):
    """Scripts off: the form posts every file at once and the page answers with the same result table."""
    rosa = make_user("quality_officer", name="Rosa Quispe")
    seed_document(app, rosa.id, write(tmp_path / "v1.pdf", EXISTING), code="PR-QA-001")
    files = [write(tmp_path / "PR-SAF-003 Visitas v4.pdf", pdf("visitas")),
             write(tmp_path / "copia.pdf", EXISTING), write(tmp_path / "vacío.pdf", b"")]
    context = browser.new_context(locale="es-PE", java_script_enabled=False, viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.on("console", console_errors.on_console)
        page.goto(f"{live_server}/login")
        page.fill("#email", rosa.email)
        page.fill("#password", rosa.password)
        with page.expect_navigation():
            page.click("form:has(#password) button[type=submit]")
        with page.expect_navigation():
            page.get_by_test_id("lang-es").click()
        page.goto(f"{live_server}/documents/bulk-upload")
        expect(page.get_by_text("Sin JavaScript, todos los archivos van en un solo envío")).to_be_visible()
        page.set_input_files("#files", [str(f) for f in files])
        with page.expect_navigation():
            page.get_by_test_id("bulk-submit").click()
        results = page.get_by_test_id("bulk-results").locator("tbody tr")
        expect(results).to_have_count(3)
        expect(results.filter(has_text="PR-SAF-003 Visitas v4.pdf")).to_contain_text("Creado")
        expect(results.filter(has_text="copia.pdf")).to_contain_text("Duplicado")
        expect(results.filter(has_text="vacío.pdf")).to_contain_text("El archivo “vacío.pdf” está vacío.")
        for outcome, count in (("created", "1"), ("version", "0"), ("duplicate", "1"), ("refused", "1")):
            expect(page.locator(f'[data-count="{outcome}"]')).to_have_text(count)
        page.wait_for_load_state("networkidle")
    finally:
        context.close()


_DROP = """
(content) => {
  const files = new DataTransfer();
  files.items.add(new File([content], "PR-DROP-001 Archivo soltado.pdf", {type: "application/pdf"}));
  document.querySelector("[data-dropzone]").dispatchEvent(
    new DragEvent("drop", {dataTransfer: files, bubbles: true, cancelable: true}));
}
"""


def test_files_dropped_on_the_zone_are_uploaded(page, live_server, app, make_user, browser_login):
    rosa = make_user("quality_officer", name="Rosa Quispe")
    browser_login(page, live_server, rosa)
    with page.expect_navigation():
        page.get_by_test_id("lang-es").click()
    page.goto(f"{live_server}/documents/bulk-upload")
    page.evaluate(_DROP, pdf("soltado").decode("latin-1"))
    expect(page.locator("[data-chosen-count]")).to_have_text("Archivos elegidos: 1")
    page.get_by_test_id("bulk-submit").click()
    expect(page.locator("[data-progress-note]")).to_have_text("Todos los archivos procesados.")
    expect(page.get_by_test_id("bulk-results").locator("tbody tr")).to_contain_text("Creado")
    expect(page.locator('[data-count="created"]')).to_have_text("1")
    with app.app_context():
        doc = db.session.scalar(select(Document).where(Document.code == "PR-DROP-001"))
        assert (doc.title, doc.owner_id) == ("Archivo soltado", rosa.id)
        db.session.remove()
