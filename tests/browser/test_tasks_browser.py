"""My tasks and accounts in a real browser, in Spanish: a quality officer finds the draft waiting for her approval and
approves it; a person whose password an administrator reset must choose their own before anything else."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from support import pdf, seed_document, write

pytestmark = [pytest.mark.sqlite_only, pytest.mark.browser]

NEW_PASSWORD = "mi-contraseña-nueva-2026"


@pytest.mark.parametrize("browser_locale", ["es-PE"])
def test_rosa_approves_what_waits_for_her_from_my_tasks(page, app, live_server, make_user, browser_login, tmp_path):
    rosa = make_user("quality_officer", name="Rosa Huamán")
    jorge = make_user("quality_officer", name="Jorge Quispe")
    seed_document(app, jorge.id, write(tmp_path / "p.pdf", pdf("p")), code="PR-QA-010", title="Compras")
    seed_document(app, rosa.id, write(tmp_path / "q.pdf", pdf("q")), code="PR-QA-011", title="Su propio borrador")
    browser_login(page, live_server, rosa)

    panel = page.get_by_test_id("my-tasks-panel")
    expect(panel).to_contain_text("Mis tareas")
    expect(panel.get_by_test_id("task-code")).to_have_text(["PR-QA-010 v1"])
    with page.expect_navigation():
        page.get_by_role("link", name="Mis tareas", exact=True).first.click()
    expect(page.locator("h1")).to_have_text("Mis tareas")
    task = page.get_by_test_id("task-approve")
    expect(task).to_have_count(1)  # her own draft waits for someone else
    expect(task).to_contain_text("Aprobar")
    expect(task).to_contain_text("en espera desde el")
    expect(page.get_by_test_id("task-total-approvals")).to_have_text("1")

    with page.expect_navigation():
        task.get_by_test_id("task-code").click()
    expect(page.get_by_test_id("doc-code")).to_have_text("PR-QA-010")
    page.get_by_test_id("approve-open-1").click()
    with page.expect_navigation():
        page.get_by_test_id("approve-1").click()
    page.goto(f"{live_server}/tasks/")
    expect(page.get_by_test_id("no-tasks")).to_contain_text("Nada pendiente")


@pytest.mark.parametrize("browser_locale", ["es-PE"])
def test_a_reset_password_must_be_replaced_before_anything_else(page, browser, live_server, make_user,
                                                                 browser_login):
    rosa = make_user("quality_officer", name="Rosa Huamán")
    ana = make_user("admin", name="Ana Torres")
    browser_login(page, live_server, ana)
    page.goto(f"{live_server}/admin/users/{rosa.id}")
    with page.expect_navigation():
        page.get_by_test_id("reset-password").click()
    expect(page.locator("h1")).to_have_text("Contraseña nueva para Rosa Huamán")
    password = page.get_by_test_id("new-password").inner_text().strip()
    assert len(password) == 19

    other = browser.new_context(locale="es-PE")  # Rosa, at her own desk
    try:
        desk = other.new_page()
        desk.goto(f"{live_server}/login")
        desk.fill("#email", rosa.email)
        desk.fill("#password", password)
        with desk.expect_navigation():
            desk.click("form:has(#password) button[type=submit]")
        expect(desk.locator("h1")).to_have_text("Cambiar mi contraseña")
        expect(desk.get_by_test_id("password-change-required")).to_contain_text("Un administrador restableció")

        desk.goto(f"{live_server}/documents/")  # nothing else is reachable
        expect(desk.locator("h1")).to_have_text("Cambiar mi contraseña")

        desk.fill("#current_password", password)
        desk.fill("#new_password", NEW_PASSWORD)
        desk.fill("#confirm", NEW_PASSWORD)
        with desk.expect_navigation():
            desk.get_by_test_id("change-password").click()
        assert desk.url == f"{live_server}/documents/"
        expect(desk.get_by_text("Su contraseña se cambió.")).to_be_visible()
    finally:
        other.close()
