"""Controlled documents in a real browser: register, upload with the progress bar, approve, supersede, audit.

The people: Rosa and Jorge are quality officers (each may approve, never their own upload); the auditor only
reads. Rosa works in Spanish, Jorge in English, each in a browser of their own (a separate context: own cookies).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select
from support import audit_events, docx, pdf, seed_document, version_from_file, write

from auditdocs.db import write_transaction
from auditdocs.extensions import db
from auditdocs.models import Document, User
from auditdocs.services.uploads import get_store

pytestmark = [pytest.mark.sqlite_only, pytest.mark.browser]

DOC_PAGE = re.compile(r"/documents/(\d+)$")
BIG = 4 * 1024 * 1024  # large enough for real upload progress events, small enough for a quick test
PURPOSE = "Propósito: asegurar que la información documentada esté controlada (ISO 9001 7.5)."

# Installed on the upload page before submitting: records in sessionStorage (it survives the JS redirect) what
# the progress area did, so the test asserts the final state without racing a fast local upload.
_PROGRESS_RECORDER = """
() => {
  const form = document.querySelector("form[data-upload-progress]");
  const box = form.querySelector("[data-progress]");
  const bar = form.querySelector("[data-progress-bar]");
  const text = form.querySelector("[data-progress-text]");
  const button = form.querySelector("button[type=submit]");
  const seen = {shown: false, maxPct: 0, checking: false, disabled: false};
  const save = () => sessionStorage.setItem("upload-seen", JSON.stringify(seen));
  new MutationObserver(() => {
    if (!box.classList.contains("d-none")) seen.shown = true;
    seen.maxPct = Math.max(seen.maxPct, Number(bar.parentElement.getAttribute("aria-valuenow") || 0));
    if (text.dataset.checking && text.textContent === text.dataset.checking) seen.checking = true;
    if (button.disabled) seen.disabled = true;
    save();
  }).observe(form, {subtree: true, attributes: true, childList: true, characterData: true});
  save();
}
"""

# The same strict-CSP reporter the conftest installs on its page, for the second person's browser.
_CSP_REPORTER = """
document.addEventListener("securitypolicyviolation", (e) => {
  console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || "inline"}`);
});
"""


# -- files ----------------------------------------------------------------------------------------------


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- what the store and the database hold -----------------------------------------------------------------


def document_count(app: Any) -> int:
    with app.app_context():
        n = db.session.scalar(select(func.count(Document.id)))
        db.session.remove()
    return int(n or 0)


def stored_objects(app: Any) -> list[str]:
    """Committed blobs plus anything left in the store's temp area."""
    with app.app_context():
        store = get_store()
        found = list(store.iter_hashes())
        if store.temp_dir.is_dir():
            found += [f"tmp/{p.name}" for p in store.temp_dir.iterdir()]
    return found


# -- browser helpers ----------------------------------------------------------------------------------


@pytest.fixture
def other_browser(browser: Any, console_errors: Any) -> Iterator[Callable[[str], Any]]:
    """Factory: a page in a browser context of its own (a second person at another desk), same error watch."""
    contexts: list[Any] = []

    def _open(locale: str = "en-US") -> Any:
        context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 900})
        context.set_default_timeout(10_000)
        context.add_init_script(_CSP_REPORTER)
        contexts.append(context)
        pg = context.new_page()
        pg.on("console", console_errors.on_console)
        pg.on("pageerror", console_errors.on_pageerror)
        return pg

    yield _open
    for context in contexts:
        context.close()


def switch_language(page: Any, code: str) -> None:
    with page.expect_navigation():
        page.get_by_test_id(f"lang-{code}").click()
    expect(page.locator("html")).to_have_attribute("lang", code)


def open_document(page: Any, live_server: str, doc_id: int) -> None:
    page.goto(f"{live_server}/documents/{doc_id}")
    expect(page.locator("h1")).to_be_visible()


def submit_upload(page: Any, button_testid: str, expect_path: str) -> Any:
    """Submit a data-upload-progress form; returns the response to its XHR post (JSON, not a page).

    A successful answer's body cannot be read once the page script has followed its redirect; a refusal's can.
    """
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith(expect_path)) as resp_info:
        page.get_by_test_id(button_testid).click()
    resp = resp_info.value
    assert resp.request.headers.get("x-requested-with") == "XMLHttpRequest", "the upload did not go through the XHR"
    assert resp.headers["content-type"].startswith("application/json")
    return resp


def progress_seen(page: Any) -> dict[str, Any]:
    raw = page.evaluate("() => sessionStorage.getItem('upload-seen')")
    assert raw, "the progress recorder was not installed"
    return json.loads(raw)


def download_sha(page: Any, testid: str) -> tuple[str, str]:
    """Click a Download link; returns (suggested file name, SHA-256 of the bytes received)."""
    with page.expect_download() as info:
        page.get_by_test_id(testid).click()
    download = info.value
    assert download.failure() is None
    return download.suggested_filename, hashlib.sha256(Path(download.path()).read_bytes()).hexdigest()


def tick_clauses(page: Any, query: str, refs: list[str]) -> None:
    """Find clauses with the picker's search box and tick them by clicking their labels, as a person would."""
    picker = page.get_by_test_id("clause-picker-clauses")
    picker.locator("[data-cp-search]").fill(query)
    for ref in refs:
        picker.locator(".cp-row", has=page.locator(f'input[data-ref="{ref}"]')).locator("label").click()
        expect(picker.locator(f'input[data-ref="{ref}"]')).to_be_checked()


# -- 1. Rosa registers a document in Spanish --------------------------------------------------------------


def test_rosa_registers_a_document_in_spanish(page, live_server, app, make_user, browser_login, tmp_path):
    rosa = make_user("quality_officer", name="Rosa Quispe")
    word = write(tmp_path / "Procedimiento de control de documentos.docx",
                 docx(PURPOSE, heading="Control de documentos"))

    browser_login(page, live_server, rosa)
    switch_language(page, "es")
    page.goto(f"{live_server}/documents/")
    expect(page.locator("h1")).to_have_text("Lista maestra de documentos")
    with page.expect_navigation():
        page.get_by_test_id("new-document").click()
    assert page.url == f"{live_server}/documents/new"
    expect(page.locator("h1")).to_have_text("Nuevo documento")

    page.fill("#code", "PR-QA-001")
    page.fill("#title", "Control de la información documentada")
    tick_clauses(page, "7.5", ["ISO 9001:2015 7.5", "ISO 37001:2016 7.5"])
    page.set_input_files("#file", str(word))
    page.fill("#change_note", "Primera emisión")
    page.evaluate(_PROGRESS_RECORDER)

    assert submit_upload(page, "create-document", "/documents/new").status == 200
    page.wait_for_url(DOC_PAGE)
    doc_id = int(DOC_PAGE.search(page.url).group(1))
    with app.app_context():
        doc = db.session.get(Document, doc_id)
        assert doc.code == "PR-QA-001"
        assert sorted(c.ref for c in doc.clauses) == ["ISO 37001:2016 7.5", "ISO 9001:2015 7.5"]
        assert [(v.number, v.status, v.sha256) for v in doc.versions] == [(1, "draft", sha256_of(word))]
        db.session.remove()
    seen = progress_seen(page)
    assert seen["shown"] and seen["disabled"], f"the progress area was not shown during the upload: {seen}"

    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_test_id("doc-code")).to_have_text("PR-QA-001")
    expect(page.locator("h1")).to_contain_text("Control de la información documentada")
    expect(page.locator("main .alert-success").first).to_contain_text(
        "Se registró el documento PR-QA-001; la versión 1 está pendiente de aprobación.")
    expect(page.get_by_test_id("version-status-1")).to_have_text("Borrador")
    expect(page.get_by_test_id("in-force")).to_contain_text("Aún no hay ninguna versión aprobada vigente.")
    versions = page.get_by_test_id("versions")
    expect(versions).to_contain_text("Procedimiento de control de documentos.docx")
    expect(versions).to_contain_text("Rosa Quispe")
    expect(versions).to_contain_text("Primera emisión")
    clauses = page.get_by_test_id("doc-clauses")
    expect(clauses).to_contain_text("ISO 9001:2015 7.5")
    expect(clauses).to_contain_text("ISO 37001:2016 7.5")
    # Segregation of duties: the uploader has no Approve button for her own draft.
    expect(page.get_by_test_id("approve-open-1")).to_have_count(0)

    # The stored bytes are exactly the Word file she chose.
    name, sha = download_sha(page, "download-1")
    assert name == word.name
    assert sha == sha256_of(word)

    # The register lists it as a draft.
    page.goto(f"{live_server}/documents/")
    row = page.get_by_test_id("register").locator("tbody tr", has_text="PR-QA-001")
    expect(row).to_contain_text("Borrador")
    expect(row).to_contain_text("ISO 9001:2015 7.5")


# -- 2. A refused upload stays on the form, in Spanish, and leaves nothing behind ------------------------


REFUSED = [
    pytest.param("instalador.exe", b"MZ\x90\x00" + b"\x00" * 200, "No se aceptan archivos de tipo “.exe”", id="exe"),
    pytest.param("informe.pdf", b"Esto no es un PDF, es texto.\n" * 20,
                 "El archivo “informe.pdf” no es un archivo PDF válido", id="text-as-pdf"),
]


@pytest.mark.parametrize(("filename", "content", "message"), REFUSED)
def test_refused_upload_shows_error_in_the_form(page, live_server, app, make_user, browser_login, console_errors,
                                                tmp_path, filename, content, message):
    rosa = make_user("quality_officer", name="Rosa Quispe")
    bad = tmp_path / filename
    bad.write_bytes(content)

    browser_login(page, live_server, rosa)
    switch_language(page, "es")
    page.goto(f"{live_server}/documents/new")
    page.fill("#code", "PR-QA-002")
    page.fill("#title", "Registro de visitas")
    page.set_input_files("#file", str(bad))
    page.evaluate(_PROGRESS_RECORDER)

    console_errors.allow(r"status of 400")  # Chromium logs the refused XHR post; the refusal is the point here
    resp = submit_upload(page, "create-document", "/documents/new")
    assert resp.status == 400
    assert resp.json()["ok"] is False

    error = page.locator("form[data-upload-progress] [data-upload-error]")
    expect(error).to_be_visible()
    expect(error).to_contain_text(message)
    assert page.url == f"{live_server}/documents/new", "a refused upload must stay on the form"
    expect(page.locator("form[data-upload-progress] [data-progress]")).to_be_hidden()
    expect(page.get_by_test_id("create-document")).to_be_enabled()
    assert progress_seen(page)["shown"], "the progress area should have been shown while sending"
    # What she typed is still there to correct.
    expect(page.locator("#code")).to_have_value("PR-QA-002")
    expect(page.locator("#title")).to_have_value("Registro de visitas")

    # Nothing was created: no row, no object, and the register is empty.
    assert document_count(app) == 0
    assert stored_objects(app) == []
    page.goto(f"{live_server}/documents/")
    expect(page.get_by_test_id("register")).to_contain_text("Ningún documento coincide con estos filtros.")


def test_fixing_the_file_in_the_same_form_after_a_refusal(page, live_server, app, make_user, browser_login,
                                                          console_errors, tmp_path):
    """After a refusal the very same form (its token, what was typed) goes through once the file is right."""
    rosa = make_user("quality_officer", name="Rosa Quispe")
    browser_login(page, live_server, rosa)
    switch_language(page, "es")
    page.goto(f"{live_server}/documents/new")
    page.fill("#code", "FO-QA-010")
    page.fill("#title", "Lista de asistencia")
    bad = tmp_path / "lista.exe"
    bad.write_bytes(b"MZ" + b"\x00" * 64)
    page.set_input_files("#file", str(bad))
    console_errors.allow(r"status of 400")
    assert submit_upload(page, "create-document", "/documents/new").status == 400
    error = page.locator("form[data-upload-progress] [data-upload-error]")
    expect(error).to_be_visible()

    page.set_input_files("#file", str(write(tmp_path / "lista.pdf", pdf("lista"))))
    assert submit_upload(page, "create-document", "/documents/new").status == 200
    page.wait_for_url(DOC_PAGE)
    expect(page.get_by_test_id("doc-code")).to_have_text("FO-QA-010")
    expect(page.get_by_test_id("version-status-1")).to_have_text("Borrador")


# -- 3. Jorge approves; Rosa cannot approve her own upload -----------------------------------------------


def test_another_officer_approves_and_the_uploader_cannot(page, live_server, app, make_user, browser_login,
                                                          other_browser, tmp_path):
    rosa = make_user("quality_officer", name="Rosa Quispe")
    jorge = make_user("quality_officer", name="Jorge Ramos")
    doc_id = seed_document(app, rosa.id, write(tmp_path / "politica.pdf", pdf("politica")), code="PO-QA-001",
                           title="Política de calidad")

    # Rosa (Spanish) sees her own draft without an Approve button; she may still reject (withdraw) it.
    browser_login(page, live_server, rosa)
    switch_language(page, "es")
    open_document(page, live_server, doc_id)
    expect(page.get_by_test_id("version-status-1")).to_have_text("Borrador")
    expect(page.get_by_test_id("approve-open-1")).to_have_count(0)
    expect(page.get_by_test_id("approve-1")).to_be_hidden()

    # Jorge (English, his own browser) approves it.
    jpage = other_browser("en-US")
    browser_login(jpage, live_server, jorge)
    open_document(jpage, live_server, doc_id)
    expect(jpage.locator("html")).to_have_attribute("lang", "en")
    expect(jpage.get_by_test_id("version-status-1")).to_have_text("Draft")
    expect(jpage.get_by_test_id("approve-1")).to_be_hidden()  # collapsed until he opens it
    jpage.get_by_test_id("approve-open-1").click()
    expect(jpage.get_by_test_id("approve-1")).to_be_visible()
    with jpage.expect_navigation():
        jpage.get_by_test_id("approve-1").click()
    assert jpage.url == f"{live_server}/documents/{doc_id}"
    expect(jpage.locator("main .alert-success").first).to_contain_text("Version v1 of PO-QA-001 approved.")
    expect(jpage.locator("h1").locator("xpath=..")).to_contain_text("In force")
    expect(jpage.get_by_test_id("version-status-1")).to_have_text("In force")
    expect(jpage.get_by_test_id("in-force")).to_contain_text("In force today: version v1")
    expect(jpage.get_by_test_id("versions")).to_contain_text("Approved by Jorge Ramos")
    expect(jpage.get_by_test_id("approve-open-1")).to_have_count(0)

    # Rosa's page, reloaded, shows the decision in Spanish.
    page.reload()
    expect(page.locator("h1").locator("xpath=..")).to_contain_text("Vigente")
    expect(page.get_by_test_id("version-status-1")).to_have_text("Vigente")
    expect(page.get_by_test_id("versions")).to_contain_text("Aprobada por Jorge Ramos")


# -- 4. A new version supersedes the old one, which stays downloadable -----------------------------------


def test_new_version_supersedes_and_old_one_stays_downloadable(page, live_server, app, make_user, browser_login,
                                                               other_browser, tmp_path):
    rosa = make_user("quality_officer", name="Rosa Quispe")
    jorge = make_user("quality_officer", name="Jorge Ramos")
    first = write(tmp_path / "PR-QA-003 Visitas v1.docx", docx(PURPOSE, heading="Visitas domiciliarias"))
    second = write(tmp_path / "PR-QA-003 Visitas v2.pdf", pdf("visitas v2", padding=BIG))
    doc_id = seed_document(app, rosa.id, first, code="PR-QA-003", title="Visitas domiciliarias",
                           approver_id=jorge.id)

    # Rosa uploads version 2 from the document page (XHR with the progress bar), in Spanish.
    browser_login(page, live_server, rosa)
    switch_language(page, "es")
    open_document(page, live_server, doc_id)
    expect(page.get_by_test_id("version-status-1")).to_have_text("Vigente")
    form = page.locator("form[data-upload-progress]")
    form.locator("#file").set_input_files(str(second))
    form.locator("#revision_label").fill("Rev. 2")
    form.locator("#change_note").fill("Se agrega la visita de seguimiento")
    page.evaluate(_PROGRESS_RECORDER)
    with page.expect_navigation():  # the page script follows the JSON answer back to the same page
        assert submit_upload(page, "upload-version", f"/documents/{doc_id}/versions").status == 200
    assert page.url == f"{live_server}/documents/{doc_id}"
    expect(page.locator("main .alert-success").first).to_contain_text(
        "Se subió la versión 2; está pendiente de aprobación por otra persona.")
    seen = progress_seen(page)
    assert seen["shown"] and seen["disabled"], seen
    assert seen["maxPct"] == 100, f"the progress bar never reached 100 %: {seen}"
    assert seen["checking"], f"the progress text never said the file was being checked: {seen}"
    expect(page.get_by_test_id("version-status-2")).to_have_text("Borrador")
    expect(page.get_by_test_id("version-status-1")).to_have_text("Vigente")
    expect(page.get_by_test_id("versions")).to_contain_text("Rev. 2")
    expect(page.get_by_test_id("approve-open-2")).to_have_count(0)
    expect(page.get_by_test_id("in-force")).to_contain_text("Vigente hoy: versión v1")

    # Jorge approves version 2.
    jpage = other_browser("en-US")
    browser_login(jpage, live_server, jorge)
    open_document(jpage, live_server, doc_id)
    jpage.get_by_test_id("approve-open-2").click()
    with jpage.expect_navigation():
        jpage.get_by_test_id("approve-2").click()
    expect(jpage.locator("main .alert-success").first).to_contain_text("Version Rev. 2 of PR-QA-003 approved.")
    expect(jpage.get_by_test_id("version-status-2")).to_have_text("In force")
    expect(jpage.get_by_test_id("version-status-1")).to_have_text("Superseded")
    expect(jpage.get_by_test_id("in-force")).to_contain_text("In force today: version Rev. 2")

    # The superseded version's bytes are still there, unchanged; so are the new one's.
    name, sha = download_sha(jpage, "download-1")
    assert (name, sha) == (first.name, sha256_of(first))
    name, sha = download_sha(jpage, "download-2")
    assert (name, sha) == (second.name, sha256_of(second))

    page.reload()
    expect(page.get_by_test_id("version-status-1")).to_have_text("Reemplazada")
    expect(page.get_by_test_id("version-status-2")).to_have_text("Vigente")
    name, sha = download_sha(page, "download-1")
    assert sha == sha256_of(first)


# -- 5. The auditor reads and downloads, nothing else -----------------------------------------------------


def test_auditor_reads_and_downloads_only(page, live_server, app, make_user, browser_login, tmp_path):
    rosa = make_user("quality_officer", name="Rosa Quispe")
    jorge = make_user("quality_officer", name="Jorge Ramos")
    auditor = make_user("auditor", name="Alicia Auditora")
    approved = write(tmp_path / "manual.pdf", pdf("manual v1"))
    doc_id = seed_document(app, rosa.id, approved, code="MA-QA-001", title="Manual de calidad",
                           approver_id=jorge.id)
    # A newer draft of the same document, and a document that only has a draft: neither is for the auditor.
    with app.app_context(), write_transaction():
        doc = db.session.get(Document, doc_id)
        rosa_row = db.session.get(User, rosa.id)
        version_from_file(doc, write(tmp_path / "manual-v2.pdf", pdf("manual v2")), actor=rosa_row)
    seed_document(app, rosa.id, write(tmp_path / "borrador.pdf", pdf("borrador")), code="PR-QA-099",
                  title="Solo borrador")

    browser_login(page, live_server, auditor)
    expect(page.get_by_test_id("read-only-note")).to_be_visible()
    page.goto(f"{live_server}/documents/")
    register = page.get_by_test_id("register")
    expect(register).to_contain_text("MA-QA-001")
    expect(register).not_to_contain_text("PR-QA-099")
    expect(page.get_by_test_id("new-document")).to_have_count(0)
    expect(page.locator("#bulk-form input[type=checkbox]")).to_have_count(0)

    with page.expect_navigation():
        register.get_by_role("link", name="MA-QA-001").click()
    assert page.url == f"{live_server}/documents/{doc_id}"
    expect(page.get_by_test_id("read-only-note")).to_be_visible()
    expect(page.get_by_test_id("read-only-note")).to_contain_text("read-only access")
    expect(page.get_by_test_id("version-status-1")).to_have_text("In force")
    expect(page.get_by_test_id("in-force")).to_contain_text("In force today: version v1")
    # Only approved versions are shown; no workflow control of any kind.
    expect(page.get_by_test_id("version-status-2")).to_have_count(0)
    expect(page.get_by_test_id("download-2")).to_have_count(0)
    for testid in ("approve-open-1", "approve-open-2", "reject-open-1", "reject-open-2", "upload-version",
                   "withdraw", "record-review"):
        expect(page.get_by_test_id(testid)).to_have_count(0)
    expect(page.locator("main form")).to_have_count(0)
    expect(page.get_by_role("link", name="Edit details")).to_have_count(0)

    name, sha = download_sha(page, "download-1")
    assert (name, sha) == (approved.name, sha256_of(approved))

    # The view and the download are in the audit trail, in the auditor's name.
    assert [e["actor_id"] for e in audit_events(app, "document.view")] == [auditor.id]
    assert [e["actor_id"] for e in audit_events(app, "version.download")] == [auditor.id]


# -- an oversize file, through the same progress-bar path ----------------------------------------------


@pytest.mark.parametrize("size", [pytest.param(1536 * 1024, id="over-limit"),
                                  pytest.param(BIG, id="over-request-limit")])
def test_oversize_upload_is_refused_in_spanish(page, live_server, app, make_user, browser_login, console_errors,
                                               tmp_path, size):
    """Over the file limit (streamed, stopped) and over the request limit (refused from Content-Length)."""
    app.config.update(MAX_UPLOAD_MB=1, MAX_UPLOAD_BYTES=1024 * 1024, MAX_CONTENT_LENGTH=2 * 1024 * 1024)
    rosa = make_user("quality_officer", name="Rosa Quispe")
    browser_login(page, live_server, rosa)
    switch_language(page, "es")
    page.goto(f"{live_server}/documents/new")
    page.fill("#code", "RE-QA-050")
    page.fill("#title", "Fotos de la auditoría")
    page.set_input_files("#file", str(write(tmp_path / "fotos.pdf", pdf("fotos", padding=size))))
    console_errors.allow(r"status of 413")
    resp = submit_upload(page, "create-document", "/documents/new")
    assert resp.status == 413
    error = page.locator("form[data-upload-progress] [data-upload-error]")
    expect(error).to_be_visible()
    expect(error).to_have_text("El archivo supera el límite de 1 MB. No se guardó nada.")
    expect(page.get_by_test_id("create-document")).to_be_enabled()
    assert document_count(app) == 0
    assert stored_objects(app) == []


# -- every field on the document page is labelled by its own label ----------------------------------------

_MISLABELLED = """
() => [...document.querySelectorAll("main label[for]")]
  .filter((l) => !l.control || l.control.closest("form") !== l.closest("form"))
  .map((l) => `${l.closest("form")?.getAttribute("action")}: label "${l.textContent.trim()}" -> #${l.htmlFor}`
              + ` in ${l.control?.closest("form")?.getAttribute("action")}`)
"""


def test_document_page_labels_point_to_their_own_fields(page, live_server, app, make_user, browser_login,
                                                        tmp_path):
    """With a draft open for approval, clicking "Effective date" or "Reason" must focus that form's field."""
    rosa = make_user("quality_officer", name="Rosa Quispe")
    jorge = make_user("quality_officer", name="Jorge Ramos")
    doc_id = seed_document(app, rosa.id, write(tmp_path / "a.pdf", pdf("a")), code="PR-QA-020")
    browser_login(page, live_server, jorge)
    open_document(page, live_server, doc_id)
    page.get_by_test_id("approve-open-1").click()
    expect(page.get_by_test_id("approve-1")).to_be_visible()
    mislabelled = page.evaluate(_MISLABELLED)
    assert mislabelled == [], "\n".join(mislabelled)

