"""The foundation in a real browser: log in, switch language, browse the clause catalogue, strict CSP."""

from __future__ import annotations

import gettext
from pathlib import Path

import pytest
from playwright.sync_api import expect

import auditdocs

pytestmark = [pytest.mark.sqlite_only, pytest.mark.browser]

SCREENSHOT = Path("/tmp/auditdocs-clauses.png")
ES_MO = Path(auditdocs.__file__).resolve().parent / "translations" / "es" / "LC_MESSAGES" / "messages.mo"
# Bootstrap's bg-primary utility with the darker header blue of app.css (WCAG AA for the white menu text).
HEADER_BLUE = "rgb(10, 76, 170)"


def _lang(page) -> str | None:
    return page.locator("html").get_attribute("lang")


def _switch_language(page, code: str) -> None:
    with page.expect_navigation():
        page.get_by_test_id(f"lang-{code}").click()
    expect(page.locator("html")).to_have_attribute("lang", code)


def _assert_language(page, code: str) -> None:
    """The page is in `code` and the header switch says so (aria-pressed only on the active button)."""
    other = "en" if code == "es" else "es"
    expect(page.locator("html")).to_have_attribute("lang", code)
    expect(page.get_by_test_id(f"lang-{code}")).to_have_attribute("aria-pressed", "true")
    assert page.get_by_test_id(f"lang-{other}").get_attribute("aria-pressed") is None


def _logout(page, live_server: str) -> None:
    with page.expect_navigation():
        page.locator("form[action='/logout'] button[type=submit]").click()
    assert page.url.startswith(f"{live_server}/login")


def test_login_shows_dashboard(page, live_server, make_user, browser_login):
    admin = make_user("admin", name="Ana Admin")
    browser_login(page, live_server, admin)
    expect(page.locator("h1")).to_have_text("Dashboard")
    expect(page.get_by_test_id("whoami")).to_contain_text("Ana Admin")
    expect(page.locator("main")).to_contain_text("ISO 9001:2015")
    expect(page.locator("main")).to_contain_text("ISO 37001:2016")
    # The vendored Bootstrap stylesheet is applied (served by the app itself, allowed by the CSP).
    bg = page.locator("nav.navbar").evaluate("e => getComputedStyle(e).backgroundColor")
    assert bg == HEADER_BLUE


def test_anonymous_is_sent_to_login(page, live_server):
    page.goto(f"{live_server}/clauses/")
    assert page.url.startswith(f"{live_server}/login")
    expect(page.locator("#email")).to_be_visible()


def test_bad_login_shows_error(page, live_server, make_user, console_errors):
    user = make_user("quality_officer")
    console_errors.allow(r"status of 401")  # Chromium logs the 401 of the refused login as a console error
    page.goto(f"{live_server}/login")
    page.fill("#email", user.email)
    page.fill("#password", "not-the-password")
    with page.expect_navigation() as nav:
        page.click("form:has(#password) button[type=submit]")
    assert nav.value.status == 401
    expect(page.get_by_test_id("login-error")).to_be_visible()
    expect(page.get_by_test_id("login-error")).to_contain_text("Wrong e-mail or password")
    assert page.get_by_test_id("whoami").count() == 0


def test_language_switch_is_remembered(page, live_server, make_user, browser_login):
    user = make_user("quality_officer")
    browser_login(page, live_server, user)
    _assert_language(page, "en")  # the browser asks for en-US

    _switch_language(page, "es")
    _assert_language(page, "es")
    assert page.url == f"{live_server}/", "the switch should bring the user back to the same page"

    page.goto(f"{live_server}/clauses/")  # another page load
    _assert_language(page, "es")

    _logout(page, live_server)  # the choice survives logout ...
    _assert_language(page, "es")
    browser_login(page, live_server, user)  # ... and the next login
    _assert_language(page, "es")

    page.context.clear_cookies()  # a new browser: the choice is remembered on the account
    browser_login(page, live_server, user)
    _assert_language(page, "es")

    _switch_language(page, "en")
    _assert_language(page, "en")
    page.reload()
    _assert_language(page, "en")


def _spanish_dashboard() -> str | None:
    """The compiled Spanish translation of "Dashboard", or None when there is none yet."""
    if not ES_MO.is_file():
        return None
    with ES_MO.open("rb") as fh:
        translated = gettext.GNUTranslations(fh).gettext("Dashboard")
    return translated if translated != "Dashboard" else None


def test_spanish_navigation_text(page, live_server, make_user, browser_login):
    spanish = _spanish_dashboard()
    if spanish is None:
        pytest.skip(f"no Spanish translation of 'Dashboard' in {ES_MO} (catalogue not compiled/translated yet)")
    browser_login(page, live_server, make_user("admin"))
    first_link = page.locator("#nav .nav-link").first
    english = first_link.inner_text().strip()
    _switch_language(page, "es")
    expect(first_link).to_have_text(spanish)
    assert english != first_link.inner_text().strip()


@pytest.mark.parametrize("browser_locale", ["es-PE"])
def test_browser_preference_picks_spanish(page, live_server):
    """With no choice made, the browser's Accept-Language decides."""
    page.goto(f"{live_server}/login")
    _assert_language(page, "es")


def test_clause_browser_tabs_and_clause_page(page, live_server, make_user, browser_login):
    browser_login(page, live_server, make_user("quality_officer"))
    page.get_by_test_id("nav-more").click()  # the header keeps the first areas; Clauses is under "More"
    with page.expect_navigation():
        page.locator("#nav a[href='/clauses/']").click()
    assert page.url == f"{live_server}/clauses/"

    tab_9001 = page.locator("#tab-iso9001_2015")
    tab_37001 = page.locator("#tab-iso37001_2016")
    expect(tab_9001).to_have_text("ISO 9001:2015")
    expect(tab_37001).to_have_text("ISO 37001:2016")
    expect(tab_9001).to_have_attribute("aria-selected", "true")
    expect(page.get_by_test_id("tree-iso9001_2015")).to_be_visible()
    expect(page.get_by_test_id("tree-iso37001_2016")).to_be_hidden()

    # The tree is indented: nested lists are padded (app.css is applied).
    nested = page.get_by_test_id("tree-iso9001_2015").locator("ul.clause-tree ul.clause-tree").first
    assert nested.evaluate("e => parseFloat(getComputedStyle(e).paddingLeft)") > 0

    # Bootstrap's tab JavaScript runs under the strict CSP: the vendored bundle loaded and works.
    tab_37001.click()
    expect(tab_37001).to_have_attribute("aria-selected", "true")
    expect(tab_9001).to_have_attribute("aria-selected", "false")
    tree = page.get_by_test_id("tree-iso37001_2016")
    expect(tree).to_be_visible()
    expect(page.get_by_test_id("tree-iso9001_2015")).to_be_hidden()
    page.wait_for_timeout(300)  # let the fade transition finish before the picture
    page.screenshot(path=str(SCREENSHOT), full_page=True)

    with page.expect_navigation():
        tree.locator("a[href='/clauses/iso37001_2016/8.7']").click()
    assert page.url == f"{live_server}/clauses/iso37001_2016/8.7"
    expect(page.locator("h1")).to_contain_text("ISO 37001:2016 8.7")
    expect(page.locator("h1")).to_contain_text("Gifts, hospitality")
    # A quality officer may mark applicability (but not correct titles).
    expect(page.locator("form[action$='/applicability']")).to_have_count(1)
    expect(page.locator("form[action$='/title']")).to_have_count(0)


def test_auditor_sees_no_edit_forms_and_is_refused(page, live_server, make_user, browser_login, console_errors):
    browser_login(page, live_server, make_user("auditor"))
    page.goto(f"{live_server}/clauses/iso37001_2016/8.7")
    expect(page.locator("h1")).to_contain_text("ISO 37001:2016 8.7")
    expect(page.locator("main form")).to_have_count(0)

    console_errors.allow(r"status of 403")  # the refused fetch below is logged by Chromium
    status = page.evaluate(
        """async () => {
            const body = new FormData();
            body.append("csrf_token", document.querySelector("input[name=csrf_token]").value);
            body.append("applicable", "no");
            body.append("reason", "forced by a test");
            const resp = await fetch("/clauses/iso37001_2016/8.7/applicability", {method: "POST", body});
            return resp.status;
        }"""
    )
    assert status == 403
    page.reload()
    expect(page.get_by_test_id("not-applicable")).to_have_count(0)


def test_strict_csp_blocks_inline_script_and_is_reported(page, live_server, console_errors):
    """The harness itself: an injected inline script is refused, and the console watcher notices."""
    resp = page.goto(f"{live_server}/login")
    assert "script-src 'self'" in resp.headers["content-security-policy"]
    page.evaluate(
        """() => {
            const s = document.createElement("script");
            s.textContent = "window.__inlineRan = true;";
            document.body.appendChild(s);
        }"""
    )
    page.wait_for_timeout(200)
    assert page.evaluate("() => window.__inlineRan === true") is False
    assert any("Refused to" in m or "CSP violation" in m for m in console_errors.messages), console_errors.messages
    console_errors.clear()  # expected here; any other test with such a message fails
