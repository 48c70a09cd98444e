"""Large registers in a real browser, in Spanish: a clause page that counts instead of listing everything, and the
register's first / previous / next / last pages."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select
from support import bulk_documents

from auditdocs.extensions import db
from auditdocs.models import Clause, Standard

pytestmark = [pytest.mark.sqlite_only, pytest.mark.browser]


@pytest.mark.parametrize("browser_locale", ["es-PE"])
def test_rosa_reaches_every_document_of_a_crowded_clause(page, app, live_server, make_user, browser_login):
    rosa = make_user("quality_officer", name="Rosa Huamán")
    with app.app_context():
        clause_id = db.session.scalar(select(Clause.id).join(Standard).where(
            Standard.slug == "iso9001_2015", Clause.number == "7.5"))
        db.session.remove()
    bulk_documents(app, rosa.id, clause_id, 1_500)
    browser_login(page, live_server, rosa)

    page.goto(f"{live_server}/clauses/iso9001_2015/7.5")
    expect(page.get_by_role("heading", name="Documentos vinculados a esta cláusula")).to_be_visible()
    expect(page.get_by_test_id("clause-total")).to_have_text(re.compile(r"^1\.?000\+$"))
    procedures = page.get_by_test_id("clause-kind-procedure")
    expect(procedures.get_by_test_id("clause-kind-count")).to_have_text("100+")
    expect(procedures.locator("li")).to_have_count(10)
    expect(procedures.get_by_text("BIG-001500")).to_be_visible()  # the newest procedure comes first in the list
    with page.expect_navigation():
        procedures.get_by_role("link", name="Verlos todos en el registro (más de 100)").click()

    expect(page.get_by_test_id("register-count")).to_have_text("500 documentos")
    rows = page.locator("[data-testid=register] tbody tr")
    expect(rows).to_have_count(25)
    expect(rows.first).to_contain_text("BIG-000003")
    expect(page.locator("span.page-link", has_text="‹ Anterior")).to_be_visible()  # no page before the first
    with page.expect_navigation():
        page.get_by_role("link", name="Siguiente ›").click()
    expect(rows.first).to_contain_text("BIG-000078")
    with page.expect_navigation():
        page.get_by_role("link", name="Última »").click()
    expect(rows.last).to_contain_text("BIG-001500")
    expect(page.locator("span.page-link", has_text="Siguiente ›")).to_be_visible()  # nothing after the last
    with page.expect_navigation():
        page.get_by_role("link", name="‹ Anterior").click()
    expect(rows.last).to_contain_text("BIG-001425")
    assert "kind=procedure" in page.url and f"clause={clause_id}" in page.url  # the filters travel with the pages
    with page.expect_navigation():
        page.get_by_role("link", name="« Primera").click()
    expect(rows.first).to_contain_text("BIG-000003")
