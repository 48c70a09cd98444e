"""The document page in Spanish after a future-dated approval: the version in force and the one waiting, side by side.

Jorge approves version 2 of a procedure for a later date in his browser (Spanish): version 1 stays "Vigente" and
version 2 reads "Entra en vigencia el …", with the page's in-force box saying the same.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from support import pdf, seed_document, version_from_file, write

from auditdocs.db import write_transaction
from auditdocs.extensions import db
from auditdocs.models import Document, User
from auditdocs.timeutil import local_today

pytestmark = [pytest.mark.sqlite_only, pytest.mark.browser]


@pytest.fixture
def browser_locale() -> str:
    return "es-PE"


def shown_es(app: Any, day: date) -> str:
    """The date as the app's one date filter writes it for a Spanish reader."""
    with app.test_request_context(headers={"Accept-Language": "es"}):
        return str(app.jinja_env.filters["d"](day))


def test_a_future_dated_approval_shows_both_states_in_spanish(page, live_server, app, make_user, browser_login,
                                                              tmp_path: Path):
    rosa = make_user("quality_officer", name="Rosa Huamán")
    jorge = make_user("quality_officer", name="Jorge Quispe")
    doc_id = seed_document(app, rosa.id, write(tmp_path / "v1.pdf", pdf("visitas v1")), code="PR-QA-005",
                           title="Visitas domiciliarias", approver_id=jorge.id)
    with app.app_context(), write_transaction():
        version_from_file(db.session.get(Document, doc_id), write(tmp_path / "v2.pdf", pdf("visitas v2")),
                          actor=db.session.get(User, rosa.id))
    with app.app_context():
        day = local_today() + timedelta(days=45)

    browser_login(page, live_server, jorge)
    page.goto(f"{live_server}/documents/{doc_id}")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    page.get_by_test_id("approve-open-2").click()
    expect(page.locator("#approve-2").get_by_text("Déjela vacía para usar la fecha de hoy.")).to_be_visible()
    page.fill("#approve-2-effective_date", day.isoformat())
    with page.expect_navigation():
        page.get_by_test_id("approve-2").click()

    when = shown_es(app, day)
    expect(page.locator("main .alert-success").first).to_contain_text(
        f"Se aprobó la versión v2 de PR-QA-005; entra en vigencia el {when}.")
    expect(page.get_by_test_id("doc-status")).to_have_text("Vigente")
    expect(page.get_by_test_id("version-status-1")).to_have_text("Vigente")
    expect(page.get_by_test_id("version-status-2")).to_have_text(f"Entra en vigencia el {when}")
    in_force = page.get_by_test_id("in-force")
    expect(in_force).to_contain_text("Vigente hoy: versión v1")
    expect(in_force).to_contain_text(
        f"La versión v2 está aprobada y entra en vigencia el {when}; hasta entonces sigue vigente la versión v1.")
    expect(in_force).not_to_contain_text("Aún no hay ninguna versión aprobada vigente")

    # The register says the same in its status and version columns.
    page.goto(f"{live_server}/documents/")
    row = page.get_by_test_id("register").locator("tr", has_text="PR-QA-005")
    expect(row.get_by_test_id("doc-status")).to_have_text("Vigente")
    expect(row).to_contain_text(f"v1 (v2 desde el {when})")
