"""Layout in a real browser (issue 10 item 8): the Spanish header fits at 1280 px for every role, tables are usable
on a 390 px phone (the table scrolls inside its wrapper, the page does not, the key column stays in view), and a
form refused by the server points at its fields."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect
from test_accessibility_browser import AXE, Found, _check, _report

from auditdocs.db import write_transaction
from auditdocs.demo import DEMO_USERS, create_demo
from auditdocs.extensions import db

pytestmark = pytest.mark.sqlite_only

ROLES = ("admin", "quality_officer", "compliance_officer", "auditor")
# The page may not scroll sideways; the header's entries sit on one line.
OVERFLOW = "document.documentElement.scrollWidth - window.innerWidth"
NAV_LINES = """() => {
  const tops = new Set([...document.querySelectorAll('#nav .navbar-nav > .nav-item')]
    .filter((li) => li.offsetParent !== null).map((li) => Math.round(li.getBoundingClientRect().top)));
  return tops.size;
}"""
NAV_CLIPPED = """() => {
  const bar = document.querySelector('nav.navbar').getBoundingClientRect();
  return [...document.querySelectorAll('nav.navbar a, nav.navbar button')].filter((el) => el.offsetParent !== null)
    .filter((el) => { const r = el.getBoundingClientRect();
                      return r.right > bar.right + 0.5 || r.left < bar.left - 0.5; })
    .map((el) => el.textContent.trim());
}"""


def _seed(app: Any) -> None:
    with app.app_context():
        with write_transaction():
            create_demo()
        db.session.remove()


def _spanish(page: Any) -> None:
    with page.expect_navigation():
        page.get_by_test_id("lang-es").click()
    assert page.evaluate("document.documentElement.lang") == "es"


@pytest.mark.parametrize("role", ROLES)
def test_spanish_header_fits_at_1280_for_every_role(app, live_server, page, browser_login, make_user, role):
    _seed(app)
    page.set_viewport_size({"width": 1280, "height": 800})
    longest = max((name for _email, name, r in DEMO_USERS if r == role), key=len)  # "Carmen Quispe (Administración)"
    browser_login(page, live_server, make_user(role, name=longest + " de los Ríos"))
    _spanish(page)
    for path in ("/", "/documents/", "/clauses/", "/account/sessions"):
        page.goto(live_server + path)
        expect(page.locator("#nav")).to_be_visible()  # the menu is open at this width, not behind the toggler
        assert page.evaluate(NAV_LINES) == 1, f"{role} {path}: the Spanish menu wraps to more than one line"
        assert page.evaluate(NAV_CLIPPED) == [], f"{role} {path}: header entries stick out of the bar"
        assert page.evaluate(OVERFLOW) <= 0, f"{role} {path}: the page scrolls sideways at 1280 px"
        expect(page.get_by_test_id("whoami")).to_be_visible()
        expect(page.get_by_test_id("lang-en")).to_be_visible()
    # What does not fit is one click away, under "Más".
    page.get_by_test_id("nav-more").click()
    more = page.locator("#nav .dropdown-menu")
    expect(more).to_be_visible()
    if role == "admin":
        with page.expect_navigation():
            more.get_by_role("link", name="Usuarios").click()
        expect(page.get_by_test_id("nav-more")).to_have_class(re.compile(r"\bactive\b"))


TABLE_PAGES = {  # path -> the table's test id (or a CSS selector)
    "/documents/": "[data-testid=register]",
    "/audit/": "[data-testid=audit-table]",
    "/admin/users": ".table-responsive table",
    "/org/sites": "[data-testid=site-tree]",
    "/org/processes": ".table-responsive table",
    "/programme": "[data-testid=internal-audits]",
    "/account/sessions": "[data-testid=sessions]",
    "/documents/1": "[data-testid=versions]",
    "/scope": ".table-responsive table",
    "/certificates/1": "[data-testid=certificate-files]",
    "/audits/1/sample": "[data-testid=candidates]",
}
KEY_CELL_IN_VIEW = """(table) => {
  const wrap = table.closest('.table-responsive');
  wrap.scrollLeft = wrap.scrollWidth;  // scrolled to the far right, as a thumb would
  const box = wrap.getBoundingClientRect();
  const row = table.querySelector('tbody tr');
  const cells = [...row.children];
  const key = cells[0].querySelector('input[type=checkbox]') && cells.length > 1 ? cells[1] : cells[0];
  const r = key.getBoundingClientRect();
  return {scrolls: wrap.scrollWidth > wrap.clientWidth, left: r.left - box.left, right: box.right - r.right,
          text: key.textContent.trim()};
}"""


def test_tables_are_usable_on_a_390_px_phone(app, live_server, page, browser_login, make_user):
    _seed(app)
    browser_login(page, live_server, make_user("admin"))  # at the desktop size, where the login helper looks
    _spanish(page)
    page.set_viewport_size({"width": 390, "height": 844})
    page.context.add_init_script(path=str(AXE))  # and axe on the phone layout too
    scrolled = 0
    found: Found = {}
    page.goto(live_server + "/")  # the header folded behind its toggler, opened, with "Más" open too
    page.locator("button.navbar-toggler").click()
    expect(page.locator("#nav")).to_be_visible()
    page.get_by_test_id("nav-more").click()
    expect(page.locator("#nav .dropdown-menu")).to_be_visible()
    assert page.evaluate(OVERFLOW) <= 0, "the open phone menu makes the page scroll sideways"
    _check(page, "admin/es 390px / (menu open)", found)
    for path, selector in TABLE_PAGES.items():
        page.goto(live_server + path)
        _check(page, f"admin/es 390px {path}", found)
        table = page.locator(selector).first
        expect(table).to_be_attached()
        assert page.evaluate(OVERFLOW) <= 0, f"{path}: the page itself scrolls sideways at 390 px"
        if table.locator("tbody tr").count() == 0:
            continue
        state = table.evaluate(KEY_CELL_IN_VIEW)
        if state["scrolls"]:
            scrolled += 1
            assert state["left"] >= -1 and state["right"] >= 0, f"{path}: the key column scrolled out of view: {state}"
    assert scrolled >= 4, "the check must have met tables wider than a phone"
    assert not found, _report(found)


def test_a_refused_form_leads_to_its_fields_in_spanish(app, live_server, page, browser_login, make_user,
                                                       console_errors):
    console_errors.allow(r"status of 400 .*/admin/users/new")  # the refusal is the point
    browser_login(page, live_server, make_user("admin"))
    _spanish(page)
    page.goto(f"{live_server}/admin/users/new")
    expect(page.get_by_test_id("required-legend")).to_have_text(
        "Los campos marcados con un asterisco (*) son obligatorios.")
    page.fill("#email", "rosa@example.org")
    page.fill("#password", "una-clave-bastante-larga")
    page.fill("#confirm", "otra-clave-distinta-123")
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    summary = page.get_by_test_id("error-summary")
    expect(summary).to_be_focused()  # read first
    expect(summary.locator("h2")).to_have_text("Corrija 2 campos")
    expect(page.locator("#name")).to_have_attribute("aria-invalid", "true")
    summary.get_by_role("link", name=re.compile("^Repita la contraseña: Las contraseñas no coinciden")).click()
    expect(page.locator("#confirm")).to_be_focused()
    expect(page.locator("#confirm")).to_have_accessible_description(re.compile("."))
