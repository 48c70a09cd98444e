"""The clause picker in a real browser, in Spanish: Rosa finds clauses by number or by words typed without accents,
ticks and unticks them by keyboard alone, a stray click never loses what she had ticked, she adds clauses to several
documents from the register, and the picker fits a 390 px phone."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from support import pdf, seed_document, write

from auditdocs.extensions import db
from auditdocs.models import Document

pytestmark = [pytest.mark.sqlite_only, pytest.mark.browser]


def spanish(page: Any, live_server: str, browser_login: Any, user: Any) -> None:
    browser_login(page, live_server, user)
    with page.expect_navigation():
        page.get_by_test_id("lang-es").click()
    expect(page.locator("html")).to_have_attribute("lang", "es")


def picker(page: Any, field: str = "clauses") -> Any:
    return page.get_by_test_id(f"clause-picker-{field}")


def box(page: Any, ref: str, field: str = "clauses") -> Any:
    return picker(page, field).locator(f'input[type=checkbox][data-ref="{ref}"]')


def row(page: Any, ref: str, field: str = "clauses") -> Any:
    return picker(page, field).locator(".cp-row", has=page.locator(f'input[data-ref="{ref}"]'))


def chips(page: Any, field: str = "clauses") -> Any:
    return page.get_by_test_id(f"clause-chips-{field}").locator("button.cp-chip")


def chip_refs(page: Any, field: str = "clauses") -> list[str]:
    return [t.replace("×", "").strip() for t in chips(page, field).all_inner_texts()]


def mapped(app: Any, doc_id: int) -> list[str]:
    with app.app_context():
        refs = sorted(c.ref for c in db.session.get(Document, doc_id).clauses)
        db.session.remove()
    return refs


@pytest.fixture
def rosa(make_user: Any) -> Any:
    return make_user("quality_officer", name="Rosa Quispe")


@pytest.fixture
def document(app: Any, rosa: Any, tmp_path: Path) -> int:
    """A procedure already mapped to 7.5 of both standards."""
    return seed_document(app, rosa.id, write(tmp_path / "control.pdf", pdf("control")), code="PR-QA-001",
                         title="Control de la información documentada",
                         clauses=["ISO 9001:2015 7.5", "ISO 37001:2016 7.5"])


def test_type_ahead_by_number_and_by_spanish_words_without_accents(page, live_server, rosa, browser_login):
    spanish(page, live_server, browser_login, rosa)
    page.goto(f"{live_server}/documents/new")
    search = picker(page).get_by_label("Buscar una cláusula por número o por palabras")
    expect(search).to_be_visible()
    # Before any search, sub-clauses are folded away: the top clauses show, 8.5 is inside a closed 8.
    expect(row(page, "ISO 9001:2015 8")).to_be_visible()
    expect(row(page, "ISO 9001:2015 8.5")).to_be_hidden()
    expect(picker(page).locator('[data-cp-toggle][aria-controls$="-sub"]').first).to_have_attribute(
        "aria-expanded", "false")

    search.fill("8.5")
    for ref in ("ISO 9001:2015 8.5", "ISO 9001:2015 8.5.1", "ISO 9001:2015 8.5.6", "ISO 37001:2016 8.5"):
        expect(row(page, ref)).to_be_visible()
    for ref in ("ISO 9001:2015 8.4", "ISO 9001:2015 7.5", "ISO 37001:2016 8.7"):
        expect(row(page, ref)).to_be_hidden()
    expect(row(page, "ISO 9001:2015 8.5")).to_contain_text("Producción y provisión del servicio")
    expect(picker(page).locator("[data-cp-status]")).to_have_text(re.compile(r"^\d+ cláusulas coinciden$"))

    # Words typed without accents find the Spanish titles that have them.
    search.fill("planificacion de los cambios")
    expect(row(page, "ISO 9001:2015 6.3")).to_be_visible()
    expect(row(page, "ISO 9001:2015 6.3")).to_contain_text("Planificación de los cambios")
    expect(picker(page).locator("[data-cp-status]")).to_have_text("1 cláusula coincide")
    expect(row(page, "ISO 9001:2015 6.2")).to_be_hidden()
    search.fill("debida diligencia")
    expect(row(page, "ISO 37001:2016 8.2")).to_be_visible()
    # The English titles are searched too, from the Spanish page.
    search.fill("due diligence")
    expect(row(page, "ISO 37001:2016 8.2")).to_be_visible()
    search.fill("gestion de la calidad")
    expect(row(page, "ISO 9001:2015 4.4")).to_be_visible()
    expect(row(page, "ISO 9001:2015 4.4")).to_contain_text("Sistema de gestión de la calidad")
    search.fill("zzzz")
    expect(picker(page).locator("[data-cp-status]")).to_have_text("Ninguna cláusula coincide con esta búsqueda.")

    # Enter in the search box never sends the form; Escape brings the whole tree back.
    search.fill("7.5.3")
    search.press("Enter")
    assert page.url == f"{live_server}/documents/new"
    expect(box(page, "ISO 9001:2015 7.5.3")).to_be_focused()
    search.focus()
    search.press("Escape")
    expect(search).to_have_value("")
    expect(row(page, "ISO 9001:2015 4")).to_be_visible()
    expect(row(page, "ISO 37001:2016 10")).to_be_visible()


def test_keyboard_only_tick_and_remove_by_chip(page, live_server, app, rosa, browser_login, document):
    spanish(page, live_server, browser_login, rosa)
    page.goto(f"{live_server}/documents/{document}")
    assert chip_refs(page) == ["ISO 9001:2015 7.5", "ISO 37001:2016 7.5"]
    expect(picker(page).locator("[data-cp-count]")).to_have_text("2")

    # Tab reaches the search box; the list below it is one tab stop, entered with the arrow keys.
    search = picker(page).locator("[data-cp-search]")
    search.focus()
    page.keyboard.type("gestion del riesgo")
    page.keyboard.press("Escape")
    page.keyboard.type("37001 8.7")  # the edition narrows a number that both standards have
    page.keyboard.press("ArrowDown")
    first = box(page, "ISO 37001:2016 8.7")
    expect(first).to_be_focused()
    page.keyboard.press("Space")
    expect(first).to_be_checked()
    assert chip_refs(page) == ["ISO 9001:2015 7.5", "ISO 37001:2016 7.5", "ISO 37001:2016 8.7"]

    # Arrow keys: up passes the parent shown for context, then reaches the search box; Escape there shows the
    # whole tree again; Right opens a clause, Left closes it.
    page.keyboard.press("ArrowUp")
    expect(box(page, "ISO 37001:2016 8")).to_be_focused()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    expect(search).to_be_focused()
    page.keyboard.press("Escape")
    page.keyboard.press("ArrowDown")
    focused = page.evaluate("() => document.activeElement.dataset.ref")
    assert focused == "ISO 37001:2016 8"  # the list remembers where she last was
    page.keyboard.press("Home")
    expect(box(page, "ISO 9001:2015 1")).to_be_focused()
    for _ in range(3):
        page.keyboard.press("ArrowDown")
    expect(box(page, "ISO 9001:2015 4")).to_be_focused()
    toggle = row(page, "ISO 9001:2015 4").locator("[data-cp-toggle]")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    page.keyboard.press("ArrowRight")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(box(page, "ISO 9001:2015 4")).to_have_attribute("aria-expanded", "true")  # what a screen reader hears
    page.keyboard.press("ArrowRight")
    expect(box(page, "ISO 9001:2015 4.1")).to_be_focused()
    page.keyboard.press("Space")
    page.keyboard.press("ArrowLeft")
    expect(box(page, "ISO 9001:2015 4")).to_be_focused()
    page.keyboard.press("ArrowLeft")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    assert chip_refs(page) == ["ISO 9001:2015 4.1", "ISO 9001:2015 7.5", "ISO 37001:2016 7.5", "ISO 37001:2016 8.7"]

    # Shift+Tab from the list reaches the chips; Delete on one unticks it and focus stays among the chips.
    page.keyboard.press("Shift+Tab")
    last = chips(page).last
    expect(last).to_be_focused()
    expect(last).to_have_attribute("aria-label", re.compile(r"^Quitar ISO 37001:2016 8\.7 Regalos"))
    page.keyboard.press("Delete")
    expect(box(page, "ISO 37001:2016 8.7")).not_to_be_checked()
    expect(chips(page).last).to_be_focused()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")  # a chip is a button: Enter removes it too
    assert chip_refs(page) == ["ISO 9001:2015 4.1", "ISO 37001:2016 7.5"]

    # Saved with the keyboard: the page lists what the chips showed.
    page.get_by_test_id("save-clauses").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator("main .alert-success").first).to_contain_text("Se guardó la vinculación con las cláusulas.")
    assert mapped(app, document) == ["ISO 37001:2016 7.5", "ISO 9001:2015 4.1"]


def test_a_stray_click_keeps_the_earlier_clauses(page, live_server, app, rosa, browser_login, document):
    spanish(page, live_server, browser_login, rosa)
    page.goto(f"{live_server}/documents/{document}")
    expect(box(page, "ISO 9001:2015 7.5")).to_be_checked()
    # The branches holding ticked clauses start open, so what is mapped is in view.
    expect(row(page, "ISO 9001:2015 7.5")).to_be_visible()

    # A plain click on another clause (the old list dropped every other mapping on such a click) adds it.
    row(page, "ISO 9001:2015 7.4").locator("label").click()
    expect(box(page, "ISO 9001:2015 7.4")).to_be_checked()
    for ref in ("ISO 9001:2015 7.5", "ISO 37001:2016 7.5"):
        expect(box(page, ref)).to_be_checked()
    # So does a click on a clause found by search, which hides the others without unticking them.
    picker(page).locator("[data-cp-search]").fill("8.5")
    row(page, "ISO 9001:2015 8.5").locator("label").click()
    expect(picker(page).locator("[data-cp-count]")).to_have_text("4")
    assert chip_refs(page) == ["ISO 9001:2015 7.4", "ISO 9001:2015 7.5", "ISO 9001:2015 8.5", "ISO 37001:2016 7.5"]

    with page.expect_navigation():
        page.get_by_test_id("save-clauses").click()
    listed = page.get_by_test_id("doc-clauses")
    for ref in ("ISO 9001:2015 7.4", "ISO 9001:2015 7.5", "ISO 9001:2015 8.5", "ISO 37001:2016 7.5"):
        expect(listed).to_contain_text(ref)
    assert mapped(app, document) == ["ISO 37001:2016 7.5", "ISO 9001:2015 7.4", "ISO 9001:2015 7.5",
                                     "ISO 9001:2015 8.5"]
    # The picker on the saved page starts from the saved mapping.
    assert chip_refs(page) == ["ISO 9001:2015 7.4", "ISO 9001:2015 7.5", "ISO 9001:2015 8.5", "ISO 37001:2016 7.5"]


def test_new_document_with_clauses_from_the_picker(page, live_server, app, rosa, browser_login, tmp_path):
    spanish(page, live_server, browser_login, rosa)
    page.goto(f"{live_server}/documents/new")
    page.fill("#code", "PR-AB-002")
    page.fill("#title", "Debida diligencia de socios de negocios")
    search = picker(page).locator("[data-cp-search]")
    search.fill("diligencia")
    row(page, "ISO 37001:2016 8.2").locator("label").click()
    search.fill("8.4")
    row(page, "ISO 9001:2015 8.4").locator("label").click()
    assert chip_refs(page) == ["ISO 9001:2015 8.4", "ISO 37001:2016 8.2"]
    page.set_input_files("#file", str(write(tmp_path / "diligencia.pdf", pdf("diligencia"))))
    with page.expect_navigation(url=re.compile(r"/documents/\d+$")):
        page.get_by_test_id("create-document").click()
    listed = page.get_by_test_id("doc-clauses")
    expect(listed).to_contain_text("ISO 37001:2016 8.2")
    expect(listed).to_contain_text("ISO 9001:2015 8.4")


def test_bulk_mapping_on_the_register(page, live_server, app, rosa, browser_login, tmp_path):
    ids = [seed_document(app, rosa.id, write(tmp_path / f"{code}.pdf", pdf(code)), code=code, title=code,
                         clauses=clauses)
           for code, clauses in (("PR-A", ["ISO 9001:2015 4.3"]), ("PR-B", []), ("PR-C", []))]
    spanish(page, live_server, browser_login, rosa)
    page.goto(f"{live_server}/documents/")
    page.get_by_label("Seleccionar PR-A").check()
    page.get_by_label("Seleccionar PR-B").check()
    field = picker(page, "clause")
    expect(field).to_be_hidden()  # folded under its button until wanted
    page.get_by_test_id("bulk-clauses-open").click()
    expect(field).to_contain_text("Cláusulas que se agregarán a los documentos marcados")
    expect(page.get_by_test_id("clause-chips-clause")).to_contain_text("Aún no se ha marcado ninguna cláusula.")
    search = field.locator("[data-cp-search]")
    search.fill("regalos")
    row(page, "ISO 37001:2016 8.7", "clause").locator("label").click()
    search.fill("4.3")
    row(page, "ISO 9001:2015 4.3", "clause").locator("label").click()
    assert chip_refs(page, "clause") == ["ISO 9001:2015 4.3", "ISO 37001:2016 8.7"]
    with page.expect_navigation():
        page.get_by_test_id("bulk-clauses-submit").click()
    expect(page.locator("main .alert-success").first).to_contain_text(
        "ISO 9001:2015 4.3, ISO 37001:2016 8.7")
    a, b, c = ids
    assert mapped(app, a) == ["ISO 37001:2016 8.7", "ISO 9001:2015 4.3"]
    assert mapped(app, b) == ["ISO 37001:2016 8.7", "ISO 9001:2015 4.3"]
    assert mapped(app, c) == []
    row_a = page.get_by_test_id("register").locator("tbody tr", has_text="PR-A")
    expect(row_a).to_contain_text("ISO 37001:2016 8.7")


@pytest.mark.parametrize("path", ["/documents/new", "document", "/documents/"])
def test_the_picker_fits_a_phone(page, live_server, rosa, browser_login, document, path):
    spanish(page, live_server, browser_login, rosa)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server}/documents/{document}" if path == "document" else f"{live_server}{path}")
    field = "clause" if path == "/documents/" else "clauses"
    if field == "clause":
        page.get_by_test_id("bulk-clauses-open").click()
    search = picker(page, field).locator("[data-cp-search]")
    search.fill("8.5")
    target = row(page, "ISO 37001:2016 8.5", field)
    target.scroll_into_view_if_needed()
    expect(target).to_be_visible()
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow} px at 390 px"
    tree = picker(page, field).locator("[data-cp-tree]")
    assert page.evaluate("(el) => el.scrollWidth - el.clientWidth", tree.element_handle()) <= 0
    # Touch targets: the row (its label covers it) and the toggles are about 44 px high.
    for ref in ("ISO 9001:2015 8.5", "ISO 37001:2016 8.5"):
        height = row(page, ref, field).bounding_box()["height"]
        assert height >= 43, (ref, height)
    toggle = row(page, "ISO 9001:2015 8.5", field).locator("[data-cp-toggle]").bounding_box()
    assert toggle["height"] >= 43 and toggle["width"] >= 43, toggle
    row(page, "ISO 37001:2016 8.5", field).locator("label").click()
    chip = chips(page, field).filter(has_text="ISO 37001:2016 8.5")
    assert chip.bounding_box()["height"] >= 43
    assert page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth") <= 0


def test_without_javascript_the_tree_of_checkboxes_still_saves(browser, live_server, app, rosa, document):
    """Progressive enhancement: with scripts off the whole tree is open, the boxes post as they are."""
    context = browser.new_context(java_script_enabled=False, locale="es-PE", viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.goto(f"{live_server}/login")
        page.fill("#email", rosa.email)
        page.fill("#password", rosa.password)
        with page.expect_navigation():
            page.click("form:has(#password) button[type=submit]")
        page.goto(f"{live_server}/documents/{document}")
        expect(picker(page).locator("[data-cp-search]")).to_be_hidden()
        expect(row(page, "ISO 9001:2015 8.5.1")).to_be_visible()  # nothing folded away
        expect(box(page, "ISO 9001:2015 7.5")).to_be_checked()
        row(page, "ISO 9001:2015 8.5.1").locator("label").click()
        with page.expect_navigation():
            page.get_by_test_id("save-clauses").click()
        expect(page.get_by_test_id("doc-clauses")).to_contain_text("ISO 9001:2015 8.5.1")
        assert mapped(app, document) == ["ISO 37001:2016 7.5", "ISO 9001:2015 7.5", "ISO 9001:2015 8.5.1"]
    finally:
        context.close()
