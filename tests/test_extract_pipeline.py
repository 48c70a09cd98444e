"""Extraction off the request path: an upload leaves its text pending; `auditdocs index --pending` and the
background worker read it once per blob and announce it for every version and attachment citing those bytes;
the document page says, in Spanish, when text is not searchable yet or why it could not be read."""

from __future__ import annotations

from pathlib import Path

from extract_support import docx_with, encrypted_pdf, pdf_with, reading, wait_for_text
from records_support import raise_nc
from sqlalchemy import select
from support import new_document, text_of, twin_app, upload_version, write

from auditdocs import events, extract
from auditdocs.extensions import db
from auditdocs.models import DocumentVersion, Nonconformity, User
from auditdocs.services.attachments import attach
from auditdocs.services.uploads import Incoming, ingest


def _version_sha(app, doc_id: int, number: int = 1) -> str:
    with app.app_context():
        sha = db.session.scalar(select(DocumentVersion.sha256).where(DocumentVersion.document_id == doc_id,
                                                                    DocumentVersion.number == number))
        db.session.remove()
    assert sha
    return str(sha)


def _attach(app, user_id: int, nc_id: int, path: Path) -> int:
    with app.app_context():
        attachment = ingest(Incoming.from_path(path, path.name), lambda checked: attach(
            db.session.get(Nonconformity, nc_id), checked, actor=db.session.get(User, user_id)))
        attachment_id = attachment.id
        db.session.remove()
    return int(attachment_id)


def test_an_upload_leaves_the_text_pending_and_index_pending_reads_it_once(app, client, login_as, runner):
    user = login_as("quality_officer")
    doc_id = new_document(client, user.id, content=docx_with(["Control de registros"], header="PR-QA-001"),
                          filename="control.docx")
    sha = _version_sha(app, doc_id)
    assert reading(app, sha) is None  # the upload did not read the file
    with app.app_context():
        assert [p.sha256 for p in extract.pending(10)] == [sha] and extract.pending_count() == 1

    first = runner.invoke(args=["index", "--pending"])
    assert first.exit_code == 0, first.output
    assert "Read 1 file(s): ok 1." in first.stdout
    assert "Reading text" in first.stderr  # the progress bar, on stderr
    status, text, error = reading(app, sha) or ("", None, None)
    assert (status, error) == ("ok", None) and "Control de registros" in (text or "") and "PR-QA-001" in (text or "")

    again = runner.invoke(args=["index", "--pending"])
    assert again.exit_code == 0 and "Nothing to read" in again.stdout
    with app.app_context():
        found = extract.text_of(sha)
        assert found is not None and found.chars == len(found.text or "") and not found.truncated
        assert extract.text_state(found.status) == "ok" and extract.pending_count() == 0


def test_index_needs_to_be_told_what(runner):
    result = runner.invoke(args=["index"])
    assert result.exit_code == 2 and "--pending" in result.output


def test_one_reading_per_blob_announced_for_every_version_and_attachment(app, client, login_as, tmp_path):
    user = login_as("quality_officer")
    same = pdf_with("Plan de auditoría 2026")
    first = new_document(client, user.id, code="PL-AU-001", content=same, filename="plan.pdf")
    second = new_document(client, user.id, code="PL-AU-002", content=same, filename="copia.pdf")
    nc_id = raise_nc(app, user.id)
    attachment_id = _attach(app, user.id, nc_id, write(tmp_path / "plan.pdf", same))
    heard: list[events.Change] = []
    events.subscribe(app, heard.extend)
    with app.app_context():
        assert extract.pending_count() == 1
        progressed: list[int] = []
        summary = extract.run_pending(progress=progressed.append)
        assert summary.counts == {"ok": 1} and progressed == [1]
        versions = set(db.session.scalars(select(DocumentVersion.id).where(
            DocumentVersion.document_id.in_([first, second]))))
    assert sorted((c.entity, c.id) for c in heard if c.action == "text") == sorted(
        [("attachment", attachment_id)] + [("document_version", v) for v in versions])


def test_limit_and_progress_and_newest_first(app, client, login_as):
    user = login_as("quality_officer")
    docs = [new_document(client, user.id, code=f"RG-{n}", content=pdf_with(f"Registro {n}"), filename=f"r{n}.pdf")
            for n in range(3)]
    newest = _version_sha(app, docs[-1])
    with app.app_context():
        assert extract.pending(1)[0].sha256 == newest
        ticks: list[int] = []
        assert extract.run_pending(2, ticks.append).total == 2 and ticks == [1, 1]
        assert extract.pending_count() == 1
    assert reading(app, newest) is not None


def test_a_reextraction_replaces_the_reading(app, client, login_as):
    user = login_as("quality_officer")
    sha = _version_sha(app, new_document(client, user.id, content=pdf_with("Texto"), filename="t.pdf"))
    with app.app_context():
        extract.store(sha, extract.Outcome("timeout", error="timeout"))
        extract.store(sha, extract.Outcome("ok", "Texto leído"))
        assert extract.texts_of([sha])[sha].text == "Texto leído"
    assert reading(app, sha) == ("ok", "Texto leído", None)


def test_the_background_worker_reads_a_new_upload(app, login_as):
    live = twin_app(app, EXTRACT_WORKER="thread", EXTRACT_POLL_SECONDS=3600)  # woken by the upload, not a poll
    worker = extract.worker_of(live)
    assert worker is not None
    try:
        client = live.test_client()
        user = login_as("quality_officer")  # on the fixture's client; log this one in too
        client.post_form("/login", {"email": user.email, "password": user.password})
        doc_id = new_document(client, user.id, content=pdf_with("Informe de revisión por la dirección"),
                              filename="informe.pdf")
        found = wait_for_text(live, _version_sha(live, doc_id))
    finally:
        worker.stop()
        with live.app_context():
            db.session.remove()
            db.engine.dispose()
    assert found is not None and found[0] == "ok" and "revisión por la dirección" in (found[1] or "")


def test_the_document_page_says_in_spanish_when_text_is_pending_or_unreadable(app, client, login_as):
    user = login_as("quality_officer")
    doc_id = new_document(client, user.id, content=encrypted_pdf("Secreto"), filename="cifrado.pdf")
    spanish = {"Accept-Language": "es"}
    page = text_of(client.get(f"/documents/{doc_id}", headers=spanish))
    assert "Su texto aún no se puede buscar: se está leyendo." in page
    with app.app_context():
        assert extract.run_pending().counts == {"unreadable": 1}
    page = text_of(client.get(f"/documents/{doc_id}", headers=spanish))
    assert "Su texto no se pudo leer (el archivo está protegido con contraseña)" in page
    assert "aún no se puede buscar" not in page
    assert upload_version(client, doc_id, pdf_with("Versión legible"), "v2.pdf").status_code == 302
    with app.app_context():
        extract.run_pending()
    page = client.get(f"/documents/{doc_id}", headers=spanish).get_data(as_text=True)
    assert 'data-testid="text-unreadable-1"' in page and 'data-testid="text-' not in page.replace(
        'data-testid="text-unreadable-1"', "")
