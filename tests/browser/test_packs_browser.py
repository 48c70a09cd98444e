"""Word packs in a real browser, in Spanish: Rosa, quality officer, asks for an ISO 9001 pack; the job page shows it
queued, then, without a reload, its progress bar reaches 100 % and the download link appears as the background
worker builds it; the file she downloads is a .docx that python-docx opens; the list shows it with its hashes."""

from __future__ import annotations

import hashlib
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from docx import Document as WordDocument
from playwright.sync_api import expect
from sqlalchemy import select

from auditdocs.extensions import db
from auditdocs.models import PackJob
from auditdocs.packs import worker

pytestmark = [pytest.mark.sqlite_only, pytest.mark.browser]
BUILD_TIMEOUT_MS = 60_000


def submit(page: Any, test_id: str) -> None:
    with page.expect_navigation():
        page.get_by_test_id(test_id).click()


@pytest.mark.parametrize("browser_locale", ["es-PE"])
def test_a_pack_is_queued_watched_and_downloaded(app, page, live_server, make_user, browser_login, tmp_path):
    rosa = make_user("quality_officer", name="Rosa Quispe")
    browser_login(page, live_server, rosa)
    page.goto(f"{live_server}/packs")
    expect(page.locator("h1")).to_have_text("Paquetes Word")
    expect(page.get_by_test_id("no-packs")).to_be_visible()
    expect(page.locator("#lang")).to_have_value("es")  # the page's language by default

    page.get_by_label("ISO 9001:2015", exact=False).check()
    page.fill("#clauses", "4.4, 8.5")
    page.fill("#date_from", "2026-01-01")
    page.fill("#date_to", "2026-06-30")
    submit(page, "queue-pack")
    expect(page.locator(".alert-success.alert-dismissible")).to_contain_text("en cola: esta página muestra su avance")
    expect(page.get_by_test_id("pack-state")).to_have_text(
        "En cola: el paquete se generará en cuanto haya un proceso libre.")
    expect(page.get_by_test_id("pack-progress")).to_have_attribute("value", "0")
    expect(page.get_by_test_id("pack-refresh")).to_be_visible()
    page.evaluate("window.__samePage = true")  # a reload would lose it: the page must update by itself

    # The worker starts only now, so the page is seen to change through its polling, not through a reload.
    pack_worker = worker.Worker(app)
    app.extensions[worker.KEY] = pack_worker
    pack_worker.ensure_started()
    try:
        expect(page.locator("[data-pack-job]")).to_have_attribute("data-state", re.compile("^(done|failed)$"),
                                                                   timeout=BUILD_TIMEOUT_MS)
    finally:
        pack_worker.stop()
    state = page.get_by_test_id("pack-state").inner_text()
    assert page.locator("[data-pack-job]").get_attribute("data-state") == "done", state
    expect(page.get_by_test_id("pack-download")).to_be_visible()
    expect(page.get_by_test_id("pack-progress")).to_have_attribute("value", "100")
    expect(page.get_by_test_id("pack-percent")).to_have_text("100 %")
    expect(page.get_by_test_id("pack-state")).to_have_text("Listo: el paquete ya se puede descargar.")
    expect(page.get_by_test_id("pack-refresh")).to_be_hidden()
    assert page.evaluate("window.__samePage === true")

    with page.expect_download() as info:
        page.get_by_test_id("pack-download").click()
    download = info.value
    assert download.suggested_filename.endswith(".docx")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    word = WordDocument(str(saved))
    assert word.paragraphs, "the downloaded pack has no text"

    with app.app_context():
        job = db.session.scalars(select(PackJob)).one()
        assert job.status == "done"
        assert hashlib.sha256(Path(saved).read_bytes()).hexdigest() == job.file_sha256
        pack_id, sha = job.pack_id, job.file_sha256
        db.session.remove()
    assert pack_id
    printed = [p.text for s in word.sections for p in s.header.paragraphs] + [p.text for p in word.paragraphs]
    assert any(pack_id in text for text in printed), "the pack identifier is printed in the pack"

    # A reload shows the same state from the row; the list names it with its fingerprint.
    page.reload()
    expect(page.get_by_test_id("pack-state")).to_have_text("Listo: el paquete ya se puede descargar.")
    expect(page.get_by_test_id("pack-file-sha")).to_have_text(sha)
    page.goto(f"{live_server}/packs")
    row = page.locator("[data-testid^=pack-row-]")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(pack_id)
    expect(row).to_contain_text(sha[:12])
    expect(row.get_by_role("link", name="Descargar")).to_be_visible()

    # A bundle of the other standard: the list itself moves its row on to the download link.
    page.get_by_label("ISO 37001:2016", exact=False).check()
    page.get_by_label("Paquete de evidencias", exact=False).check()
    submit(page, "queue-pack")
    expect(page.get_by_test_id("pack-state")).to_contain_text("En cola")
    page.goto(f"{live_server}/packs")
    rows = page.locator("[data-testid^=pack-row-]")
    expect(rows).to_have_count(2)
    newest = rows.first
    expect(newest.locator("[data-pack-row-label]")).to_have_text("En cola")
    page.evaluate("window.__samePage = true")
    pack_worker = worker.Worker(app)
    app.extensions[worker.KEY] = pack_worker
    pack_worker.ensure_started()
    try:
        expect(newest.locator("[data-pack-row]")).to_have_attribute("data-state", re.compile("^(done|failed)$"),
                                                                    timeout=BUILD_TIMEOUT_MS)
    finally:
        pack_worker.stop()
    assert newest.locator("[data-pack-row]").get_attribute("data-state") == "done"
    assert page.evaluate("window.__samePage === true")
    with page.expect_download() as info:
        newest.get_by_role("link", name="Descargar").click()
    bundle = info.value
    assert bundle.suggested_filename.endswith(".zip")
    zipped = tmp_path / bundle.suggested_filename
    bundle.save_as(zipped)
    with zipfile.ZipFile(zipped) as archive:
        assert archive.testzip() is None
        assert any(name.endswith(".docx") for name in archive.namelist())
