"""The new pages of the hardening work in a real browser, in Spanish: "Mis sesiones" (see and end one's other
sessions) and a version whose stored copy failed its integrity check."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from playwright.sync_api import expect
from support import pdf, seed_document, write

from auditdocs.services.uploads import get_store

pytestmark = [pytest.mark.sqlite_only, pytest.mark.browser]


@pytest.mark.parametrize("browser_locale", ["es-PE"])
def test_rosa_ends_a_session_she_does_not_recognise(page, browser, live_server, make_user, browser_login):
    rosa = make_user("quality_officer", name="Rosa Huamán")
    other = browser.new_context(locale="es-PE")  # the same account, signed in on another computer
    try:
        elsewhere = other.new_page()
        browser_login(elsewhere, live_server, rosa)
        browser_login(page, live_server, rosa)

        with page.expect_navigation():
            page.get_by_test_id("whoami").click()
        expect(page.locator("h1")).to_have_text("Mis sesiones")
        rows = page.locator("[data-testid=sessions] tbody tr")
        expect(rows).to_have_count(2)
        expect(page.get_by_text("Este navegador")).to_be_visible()

        with page.expect_navigation():
            page.locator("[data-testid^=end-session-]").click()
        expect(page.get_by_text("Se cerró la sesión.")).to_be_visible()
        expect(page.get_by_text("Cerrada por usted o por un administrador")).to_be_visible()

        elsewhere.goto(f"{live_server}/documents/")  # the other computer is sent to the login page, and told why
        assert elsewhere.url.startswith(f"{live_server}/login")
        expect(elsewhere.get_by_text("Esta sesión se cerró desde otra de sus sesiones.")).to_be_visible()
    finally:
        other.close()


@pytest.mark.parametrize("browser_locale", ["es-PE"])
def test_a_version_failing_its_integrity_check_is_marked_and_not_offered(page, app, live_server, server_errors,
                                                                        console_errors, make_user, browser_login,
                                                                        tmp_path):
    rosa, jorge = make_user("quality_officer"), make_user("quality_officer")
    content = pdf("acta firmada")
    doc_id = seed_document(app, rosa.id, write(tmp_path / "acta.pdf", content), code="RG-QA-040",
                           approver_id=jorge.id)
    with app.app_context():
        stored = get_store().path_for(hashlib.sha256(content).hexdigest())
    stored.chmod(0o644)
    stored.write_bytes(content.replace(b"firmada", b"cambiad"))  # same length, other bytes
    browser_login(page, live_server, rosa)
    server_errors.expect(r"/download -> 500")  # the refusal of the damaged file is the point of this test
    console_errors.allow(r"status of 500 .*/download")

    response: Any = page.goto(f"{live_server}/documents/{doc_id}/versions/1/download")
    assert response.status == 500
    expect(page.get_by_test_id("error-page")).to_contain_text("no superó la verificación de integridad")
    page.goto(f"{live_server}/documents/{doc_id}")
    expect(page.get_by_test_id("integrity-failed-1")).to_have_text("Falló la verificación de integridad")
    expect(page.get_by_test_id("download-1")).to_have_count(0)
    expect(page.get_by_test_id("in-force")).to_contain_text("no superó la verificación de integridad")
