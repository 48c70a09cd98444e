"""A Spanish quality officer's whole day in a real browser, end to end across the pieces of issue 10.

Rosa uploads the morning's files at once, maps the procedure to its clauses with the picker, previews it without
downloading; Jorge, another quality officer in a browser of his own, finds it in his tasks and approves it; Rosa
then finds the version in force on the document page and in the register.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pytest
from playwright.sync_api import expect
from support import docx, write

pytestmark = [pytest.mark.sqlite_only, pytest.mark.browser]

PROCEDURE = "PR-QA-001 Control de la información documentada.pdf"
INSTRUCTION = "IT-SAF-004 Visitas domiciliarias.docx"


def three_pages() -> bytes:
    """A real three-page PDF (the preview renders each page)."""
    doc = pdfium.PdfDocument.new()
    for _ in range(3):
        doc.new_page(595, 842)
    buf = io.BytesIO()
    doc.save(buf)
    doc.close()
    return buf.getvalue()


def spanish(page: Any) -> None:
    """Switch the signed-in person's interface to Spanish."""
    with page.expect_navigation():
        page.get_by_test_id("lang-es").click()
    expect(page.locator("html")).to_have_attribute("lang", "es")


@pytest.fixture
def second_page(browser: Any, console_errors: Any) -> Iterator[Any]:
    """Jorge's own browser (own cookies), watched for console errors like the first."""
    context = browser.new_context(locale="es-PE", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.on("console", console_errors.on_console)
    page.on("pageerror", console_errors.on_pageerror)
    try:
        yield page
    finally:
        context.close()


@pytest.mark.parametrize("browser_locale", ["es-PE"])
def test_the_quality_officers_day_in_spanish(page, second_page, live_server, make_user, browser_login,
                                             tmp_path: Path):
    rosa = make_user("quality_officer", name="Rosa Huamán")
    jorge = make_user("quality_officer", name="Jorge Quispe")
    folder = tmp_path / "mañana"
    folder.mkdir()
    files = [write(folder / PROCEDURE, three_pages()),
             write(folder / INSTRUCTION, docx("Pasos de la visita", "Visitas domiciliarias"))]

    # Morning: both files at once from the register.
    browser_login(page, live_server, rosa)
    spanish(page)
    page.goto(f"{live_server}/documents/")
    with page.expect_navigation():
        page.get_by_test_id("bulk-upload").click()
    page.set_input_files("#files", [str(f) for f in files])
    page.get_by_test_id("bulk-submit").click()
    expect(page.locator("[data-progress-note]")).to_have_text("Todos los archivos procesados.")
    expect(page.get_by_test_id("bulk-summary").locator('[data-count="created"]')).to_have_text("2")
    results = page.get_by_test_id("bulk-results")
    expect(results.locator("tbody tr").filter(has_text="PR-QA-001")).to_contain_text("Creado")

    # The procedure: map it to 7.5 of both standards with the picker (a click never drops the other).
    with page.expect_navigation():
        results.get_by_role("link", name="PR-QA-001").click()
    expect(page.get_by_test_id("doc-code")).to_have_text("PR-QA-001")
    expect(page.get_by_test_id("in-force")).to_contain_text("Aún no hay ninguna versión aprobada vigente")
    picker = page.get_by_test_id("clause-picker-clauses")
    search = picker.locator("[data-cp-search]")
    for ref in ("ISO 9001:2015 7.5", "ISO 37001:2016 7.5"):
        standard, number = ref.split(" ")[1].split(":")[0], ref.rsplit(" ", 1)[1]
        search.fill(f"{standard} {number}")  # "9001 7.5": the number within one standard
        picker.locator(".cp-row", has=page.locator(f'input[data-ref="{ref}"]')).locator("label").click()
    expect(picker.locator("[data-cp-count]")).to_have_text("2")
    with page.expect_navigation():
        page.get_by_test_id("save-clauses").click()
    listed = page.get_by_test_id("doc-clauses")
    expect(listed).to_contain_text("ISO 9001:2015 7.5")
    expect(listed).to_contain_text("ISO 37001:2016 7.5")

    # A look at the draft without downloading it: three page images.
    with page.expect_navigation():
        page.get_by_test_id("preview-1").click()
    expect(page.get_by_test_id("preview-cap")).to_have_text("3 páginas.")
    images = page.get_by_test_id("preview-page")
    expect(images).to_have_count(3)
    expect(images.first).to_have_attribute("alt", "Página 1 de 3")
    page.wait_for_function("() => [...document.querySelectorAll('[data-testid=preview-page]')]"
                           ".every((img) => img.complete && img.naturalWidth > 0)")
    doc_url = page.url.rsplit("/versions/", 1)[0]

    # Jorge approves it from his tasks; Rosa's own drafts never wait for her.
    browser_login(second_page, live_server, jorge)
    spanish(second_page)
    with second_page.expect_navigation():
        second_page.get_by_role("link", name="Mis tareas", exact=True).first.click()
    tasks = second_page.get_by_test_id("task-approve")
    expect(tasks).to_have_count(2)
    with second_page.expect_navigation():
        tasks.filter(has_text="PR-QA-001").get_by_test_id("task-code").click()
    second_page.get_by_test_id("approve-open-1").click()
    expect(second_page.get_by_text("Déjela vacía para usar la fecha de hoy", exact=False)).to_be_visible()
    with second_page.expect_navigation():
        second_page.get_by_test_id("approve-1").click()
    expect(second_page.get_by_test_id("version-status-1")).to_have_text("Vigente")

    # Afternoon: Rosa finds the version in force on the page and in the register.
    page.goto(doc_url)
    expect(page.get_by_test_id("in-force")).to_contain_text("Vigente hoy: versión v1")
    expect(page.get_by_test_id("version-status-1")).to_have_text("Vigente")
    page.goto(f"{live_server}/documents/")
    row = page.get_by_test_id("register").locator("tbody tr").filter(has_text="PR-QA-001")
    expect(row).to_contain_text("Vigente")
    expect(page.get_by_test_id("register").locator("tbody tr").filter(has_text="IT-SAF-004")).to_contain_text(
        "Borrador")
    assert re.search(r"/documents/\d+$", doc_url)
    page.wait_for_load_state("networkidle")
