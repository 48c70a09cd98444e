"""In a real browser, in Spanish: Rosa previews a procedure without downloading it (pages of a PDF, a text file
shown as text), and the administrator reads the audit log as sentences, filters it by action and by person, and
follows a link to the document."""

from __future__ import annotations

import io
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from playwright.sync_api import expect
from support import seed_document, write

pytestmark = [pytest.mark.sqlite_only, pytest.mark.browser]


def two_pages() -> bytes:
    doc = pdfium.PdfDocument.new()
    doc.new_page(595, 842)
    doc.new_page(842, 595)
    buf = io.BytesIO()
    doc.save(buf)
    doc.close()
    return buf.getvalue()


@pytest.mark.parametrize("browser_locale", ["es-PE"])
def test_rosa_previews_a_pdf_and_a_text_file(page, app, live_server, make_user, browser_login, tmp_path: Path):
    rosa = make_user("quality_officer", name="Rosa Huamán")
    jorge = make_user("quality_officer", name="Jorge Quispe")
    doc_id = seed_document(app, rosa.id, write(tmp_path / "p.pdf", two_pages()), code="PR-QA-001",
                           title="Control de documentos", approver_id=jorge.id, filename="procedimiento.pdf")
    notes = seed_document(app, rosa.id, write(tmp_path / "n.txt", "<b>Acta</b> de reunión\nÑandú\n".encode()),
                          code="RG-QA-002", title="Acta", filename="acta.txt")
    browser_login(page, live_server, rosa)

    page.goto(f"{live_server}/documents/{doc_id}")
    with page.expect_navigation():
        page.get_by_test_id("preview-1").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("PR-QA-001 · Control de documentos")
    expect(page.get_by_test_id("preview-cap")).to_have_text("2 páginas.")
    images = page.get_by_test_id("preview-page")
    expect(images).to_have_count(2)
    expect(images.first).to_have_attribute("alt", "Página 1 de 2")
    for i in range(2):
        images.nth(i).scroll_into_view_if_needed()
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=images.nth(i).element_handle())
    widths = [images.nth(i).evaluate("img => [img.naturalWidth, img.naturalHeight]") for i in range(2)]
    assert widths[0][1] == 1600 and widths[1][0] == 1600
    expect(page.get_by_test_id("preview-download")).to_have_text("Descargar")

    page.goto(f"{live_server}/documents/{notes}")
    with page.expect_navigation():
        page.get_by_test_id("preview-1").click()
    expect(page.get_by_test_id("preview-text")).to_have_text("<b>Acta</b> de reunión\nÑandú\n")
    expect(page.locator("pre b")).to_have_count(0)  # shown as text, never as markup
    expect(page.get_by_role("link", name="Vista previa de v1")).to_have_count(0)
    expect(page.locator("ol.breadcrumb")).to_contain_text("Vista previa de v1")


@pytest.mark.parametrize("browser_locale", ["es-PE"])
def test_the_administrator_reads_the_log_as_sentences_and_filters_it(page, app, live_server, make_user,
                                                                      browser_login, tmp_path: Path):
    rosa = make_user("quality_officer", name="Rosa Huamán")
    jorge = make_user("quality_officer", name="Jorge Quispe")
    admin = make_user("admin", name="Ana Admin")
    doc_id = seed_document(app, rosa.id, write(tmp_path / "p.pdf", two_pages()), code="PR-QA-001",
                           approver_id=jorge.id)
    browser_login(page, live_server, admin)

    page.get_by_test_id("nav-more").click()  # the header keeps the first areas; the log is under "Más"
    with page.expect_navigation():
        page.get_by_role("link", name="Bitácora de auditoría").click()
    sentences = page.get_by_test_id("sentence")
    expect(sentences.filter(has_text="Jorge Quispe aprobó PR-QA-001 v1")).to_have_count(1)
    expect(sentences.filter(has_text="Rosa Huamán subió PR-QA-001 v1")).to_have_count(1)
    expect(sentences.filter(has_text="Ana Admin inició sesión")).to_have_count(1)

    page.select_option("#a-action", label="Versión aprobada")
    with page.expect_navigation():
        page.get_by_role("button", name="Aplicar").click()
    expect(sentences).to_have_count(1)
    approved = page.get_by_test_id("event").first
    expect(approved.get_by_test_id("changes")).to_contain_text("Estado")
    expect(approved.get_by_test_id("changes")).to_contain_text("Aprobada")

    page.select_option("#a-action", value="")
    page.select_option("#a-user", label="Rosa Huamán (quality_officer1@example.org)")
    with page.expect_navigation():
        page.get_by_role("button", name="Aplicar").click()
    texts = sentences.all_inner_texts()
    assert texts and all(t.startswith("Rosa Huamán ") for t in texts), texts

    with page.expect_navigation():
        page.get_by_role("link", name="PR-QA-001 v1").first.click()
    assert page.url == f"{live_server}/documents/{doc_id}"
    page.wait_for_load_state("networkidle")  # the icon request too, before the server stops
