"""An external auditor searches in Spanish, typing without accents, narrows by a facet and opens the approved version.

A procedure on home visits is in force at version 1 while version 2 waits as a draft; a form says the same. Their
text is read and indexed by the app's own pipeline. The auditor finds both by "evaluacion socioeconomica" (the text
says "evaluación socioeconómica"), keeps the procedure with the type facet and lands on the preview of version 1,
never on the draft.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect
from search_web_support import text_file
from support import seed_document, version_from_file

from auditdocs.db import write_transaction
from auditdocs.extensions import db
from auditdocs.models import Document, User

pytestmark = [pytest.mark.sqlite_only, pytest.mark.browser]

TEXT = ("Procedimiento de visitas domiciliarias: la trabajadora social realiza la visita y registra la evaluación "
        "socioeconómica de la familia en la ficha.")
DRAFT = TEXT + " Borrador: la evaluación socioeconómica se hará en línea."


@pytest.fixture
def browser_locale() -> str:
    return "es-PE"


def test_an_auditor_searches_in_spanish_and_opens_the_approved_version(page, live_server, app, make_user, runner,
                                                                       browser_login, tmp_path: Path):
    rosa = make_user("quality_officer", name="Rosa Huamán")
    jorge = make_user("quality_officer", name="Jorge Quispe")
    auditor = make_user("auditor", name="Lucía Auditora")
    # Registered and approved through the services: the change events index them, `auditdocs index --pending`
    # reads their text and indexes it (the app's own pipeline, no hand-made index entries).
    procedure = seed_document(app, rosa.id, text_file(tmp_path, "v1.txt", TEXT), code="PR-OP-001",
                              title="Visitas domiciliarias", approver_id=jorge.id)
    seed_document(app, rosa.id, text_file(tmp_path, "ficha.txt", TEXT), code="FO-OP-002",
                  title="Ficha de visita domiciliaria", kind="form", approver_id=jorge.id)
    with app.app_context(), write_transaction():
        version_from_file(db.session.get(Document, procedure), text_file(tmp_path, "v2.txt", DRAFT),
                          actor=db.session.get(User, rosa.id))
    assert runner.invoke(args=["index", "--pending"]).exit_code == 0

    browser_login(page, live_server, auditor)
    page.get_by_role("link", name="Buscar").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Buscar")
    expect(page.get_by_test_id("search-all")).to_have_count(0)  # no drafts to include for an auditor
    page.get_by_label("Buscar", exact=True).fill("evaluacion socioeconomica")  # the text has the accents
    with page.expect_navigation():
        page.get_by_test_id("search-submit").click()

    expect(page.get_by_test_id("search-count")).to_have_text("2 resultados")
    hits = page.get_by_test_id("hit")
    expect(hits).to_have_count(2)
    expect(hits.first.locator("mark").first).to_be_visible()
    expect(page.get_by_test_id("search-hits")).not_to_contain_text("Borrador")

    kinds = page.get_by_test_id("facet-type")
    expect(kinds).to_contain_text("Procedimiento")
    with page.expect_navigation():
        kinds.get_by_role("link", name="Procedimiento").click()
    expect(page.get_by_test_id("search-count")).to_have_text("1 resultado")
    expect(page.get_by_test_id("filter-on-type")).to_contain_text("Tipo: Procedimiento")

    with page.expect_navigation():
        page.get_by_test_id("hit-link").click()
    assert page.url.endswith(f"/documents/{procedure}/versions/1/preview")
    expect(page.get_by_test_id("preview-version")).to_have_text("Versión v1")
