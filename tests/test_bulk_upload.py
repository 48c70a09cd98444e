"""Bulk upload on the web: a mixed batch of good and hostile files, through the script's one-file JSON endpoint and
through the plain form, each file with the right outcome and nothing half-written for the refused ones."""

from __future__ import annotations

import hashlib
import html
import io
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from support import docx, pdf, seed_document, twin_app, write, write_lock_held
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from auditdocs.db import write_transaction
from auditdocs.extensions import db
from auditdocs.models import AuditEvent, Document, DocumentVersion, User
from auditdocs.services import documents as svc
from auditdocs.services.import_plan import derived_code
from auditdocs.services.uploads import get_store

PAGE, ONE = "/documents/bulk-upload", "/documents/bulk-upload/file"
EXISTING = pdf("PR-QA-001 first version")
LONG = "Registro de asistencia a la capacitación " * 12  # ~490 characters before the extension
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200 + b"This program cannot be run in DOS mode"


def batch() -> list[tuple[str, bytes]]:
    """Good files, a duplicate, a new version, disguised and empty files, hostile names (in the order sent)."""
    visitas = pdf("visitas v4")
    return [
        ("PR-SAF-003 Visitas domiciliarias v4.pdf", visitas),
        ("Informe de gestión anual.docx", docx("Informe de gestión", "Informe anual")),
        ("PR-QA-001 Control de documentos v2.pdf", pdf("PR-QA-001 v2")),
        ("copia de respaldo.pdf", EXISTING),  # the bytes of PR-QA-001 v1
        ("Visitas, copia idéntica.pdf", visitas),  # same bytes as the first file of this batch
        ("factura.pdf", EXE),  # an executable named .pdf
        ("programa.exe", EXE),
        ("vacío.pdf", b""),
        ("../../x.pdf", pdf("traversal")),
        ("acta\x07 de reunión\u202e.pdf", pdf("control characters")),
        (LONG + ".pdf", pdf("long name")),
        ("sin extensión", pdf("no extension")),
        ("\x01\x02.pdf", pdf("nothing usable in the name")),
        ("PR-RES-001 Reservado v2.pdf", pdf("restricted v2")),
    ]


BATCH = batch()  # built once: a Word file's bytes change with the clock
# file sent -> (outcome, code, words the detail must contain)
EXPECTED: dict[str, tuple[str, str | None, str]] = {
    "PR-SAF-003 Visitas domiciliarias v4.pdf": ("created", "PR-SAF-003", "PR-SAF-003"),
    "Informe de gestión anual.docx": ("created", derived_code("", "Informe de gestión anual"), "created"),
    "PR-QA-001 Control de documentos v2.pdf": ("version", "PR-QA-001", "New version v2 of PR-QA-001"),
    "copia de respaldo.pdf": ("duplicate", "PR-QA-001", "Same content as PR-QA-001 v1"),
    "Visitas, copia idéntica.pdf": ("duplicate", "PR-SAF-003", "Same content as PR-SAF-003 v4"),
    "factura.pdf": ("refused", None, "not a valid PDF"),
    "programa.exe": ("refused", None, "are not accepted"),
    "vacío.pdf": ("refused", None, "is empty"),
    "../../x.pdf": ("created", derived_code("", "x"), "created"),
    "acta\x07 de reunión\u202e.pdf": ("created", derived_code("", "acta de reunión"), "created"),
    LONG + ".pdf": ("created", None, "created"),
    "sin extensión": ("refused", None, "has no file extension"),
    "\x01\x02.pdf": ("refused", None, "The file “.pdf” has no file extension"),
    "PR-RES-001 Reservado v2.pdf": ("refused", "PR-RES-001", "You may not upload versions of this document"),
}
ACCEPTED = [name for name, (outcome, _c, _d) in EXPECTED.items() if outcome in ("created", "version")]


@pytest.fixture
def officer(app: Any, login_as: Any, make_user: Any, tmp_path: Path) -> Any:
    """A quality officer, PR-QA-001 (hers, v1 stored) and PR-RES-001 (restricted, someone else's)."""
    me = login_as("quality_officer", name="Rosa Huamán")
    other = make_user("quality_officer")
    seed_document(app, me.id, write(tmp_path / "v1.pdf", EXISTING), code="PR-QA-001")
    seed_document(app, other.id, write(tmp_path / "res.pdf", pdf("restricted v1")), code="PR-RES-001",
                  confidentiality="restricted")
    return me


def _counts(app: Any) -> dict[str, Any]:
    with app.app_context():
        store = get_store()
        events = dict(db.session.execute(select(AuditEvent.action, func.count()).group_by(AuditEvent.action)).all())
        out = {"documents": db.session.scalar(select(func.count(Document.id))),
               "created_events": events.get("document.create", 0), "upload_events": events.get("version.upload", 0),
               "versions": db.session.scalar(select(func.count(DocumentVersion.id))),
               "objects": set(store.iter_hashes()),
               "temp": sorted(p.name for p in store.temp_dir.iterdir()) if store.temp_dir.is_dir() else []}
        db.session.remove()
    return out


def _token(client: Any) -> str:
    return client.csrf_token(PAGE)


def _send_one(client: Any, token: str, name: str, content: bytes, **fields: str) -> Any:
    """What the page's script sends: one file, the token in a header, JSON wanted."""
    data = MultiDict([("kind", fields.get("kind", "")), ("language", fields.get("language", "")),
                      ("files", FileStorage(io.BytesIO(content), filename=name,
                                            content_type="application/octet-stream"))])
    boundary, body = encode_multipart(data)
    return client.post(ONE, input_stream=io.BytesIO(body), content_type=f'multipart/form-data; boundary="{boundary}"',
                       headers={"X-CSRFToken": token, "X-Requested-With": "XMLHttpRequest",
                                "Accept": "application/json"})


def _send_form(client: Any, token: str, files: list[tuple[str, bytes]], **fields: str) -> Any:
    """What the plain form sends without JavaScript: every file in one body."""
    data = MultiDict([("csrf_token", token), ("kind", fields.get("kind", "")),
                      ("language", fields.get("language", ""))])
    for name, content in files:
        data.add("files", FileStorage(io.BytesIO(content), filename=name, content_type="application/octet-stream"))
    boundary, body = encode_multipart(data)
    return client.post(PAGE, input_stream=io.BytesIO(body), content_type=f'multipart/form-data; boundary="{boundary}"')


ROW = re.compile(r'<tr data-outcome="(\w+)">\s*<td[^>]*>(.*?)</td>.*?<td class="text-break">(.*?)</td>\s*'
                 r'<td class="small">(.*?)</td>', re.S)


def _rows(body: str) -> list[dict[str, str]]:
    """The result table of the page: outcome, file, code, detail."""
    return [{"outcome": o, "file": html.unescape(f), "code": html.unescape(re.sub(r"<[^>]+>", "", c)).strip(" —"),
             "message": html.unescape(m)} for o, f, c, m in ROW.findall(body)]


def _shown(name: str) -> str:
    """The name as the result shows it: the last path part, control and format characters dropped, 255 at most (a
    name with nothing usable left: as sent, its control characters written out)."""
    if name == "\x01\x02.pdf":
        return "\\x01\\x02.pdf"
    cleaned = "".join(ch for ch in name.rsplit("/", 1)[-1] if ch not in "\x07\u202e")
    return cleaned if len(cleaned) <= 255 else cleaned[:251].rstrip() + ".pdf"


def _check_outcomes(results: list[dict[str, str]]) -> None:
    assert len(results) == len(EXPECTED)
    by_file = {r["file"]: r for r in results}
    for sent, (outcome, code, words) in EXPECTED.items():
        got = by_file[_shown(sent)]
        assert got["outcome"] == outcome, (sent, got)
        assert words in got["message"], (sent, got)
        if code:
            assert got["code"] == code, (sent, got)


def _check_store(app: Any, before: dict[str, Any]) -> None:
    """Exactly the accepted files' bytes were added: a row each, an object each, no temp file, no half-written row."""
    after = _counts(app)
    contents = dict(BATCH)
    accepted = {hashlib.sha256(contents[n]).hexdigest() for n in ACCEPTED}
    assert after["objects"] - before["objects"] == accepted
    assert after["versions"] - before["versions"] == len(ACCEPTED)
    assert after["documents"] - before["documents"] == len(ACCEPTED) - 1  # one of them is a new version
    assert after["temp"] == []
    assert after["upload_events"] - before["upload_events"] == len(ACCEPTED)
    assert after["created_events"] - before["created_events"] == len(ACCEPTED) - 1
    with app.app_context():
        stored = set(db.session.scalars(select(DocumentVersion.sha256)))
        assert stored == after["objects"], "every object has its row and every row its object"
        names = set(db.session.scalars(select(DocumentVersion.original_filename)))
        db.session.remove()
    assert "x.pdf" in names and "acta de reunión.pdf" in names
    assert max(len(n) for n in names) <= 255


def _check_documents(app: Any, officer: Any) -> None:
    with app.app_context():
        saf = db.session.scalar(select(Document).where(Document.code == "PR-SAF-003"))
        assert (saf.title, saf.kind, saf.language, saf.owner_id, saf.status) == (
            "Visitas domiciliarias", "procedure", "es", officer.id, "draft")
        assert [(v.number, v.revision_label, v.status) for v in saf.versions] == [(1, "v4", "draft")]
        qa = db.session.scalar(select(Document).where(Document.code == "PR-QA-001"))
        assert sorted((v.number, v.revision_label, v.status) for v in qa.versions) == [
            (1, None, "draft"), (2, "v2", "draft")]
        informe = db.session.scalar(select(Document).where(Document.title == "Informe de gestión anual"))
        assert informe.kind == "evidence"
        restricted = db.session.scalar(select(Document).where(Document.code == "PR-RES-001"))
        assert len(restricted.versions) == 1
        db.session.remove()


def test_a_mixed_batch_one_file_per_request(app, client, officer):
    token = _token(client)
    before = _counts(app)
    results, statuses = [], {}
    for name, content in BATCH:
        resp = _send_one(client, token, name, content)
        data = resp.get_json()
        assert set(data) >= {"file", "outcome", "code", "title", "document_url", "message"}
        statuses[data["file"]] = resp.status_code
        results.append(data)
        if data["document_url"]:
            assert client.get(data["document_url"]).status_code == 200
    _check_outcomes(results)
    assert statuses[_shown("PR-SAF-003 Visitas domiciliarias v4.pdf")] == 201
    assert statuses["copia de respaldo.pdf"] == 200
    assert statuses["factura.pdf"] == 400
    assert statuses["PR-RES-001 Reservado v2.pdf"] == 403
    _check_store(app, before)
    _check_documents(app, officer)


def test_a_mixed_batch_through_the_plain_form(app, client, officer):
    before = _counts(app)
    resp = _send_form(client, _token(client), BATCH)
    assert resp.status_code == 200
    body = resp.get_data(as_text=True)
    _check_outcomes(_rows(body))
    summary = re.search(r'data-testid="bulk-summary".*?</p>', body, re.S).group(0)
    assert re.findall(r'data-count="(\w+)">(\d+)<', summary) == [
        ("created", "5"), ("version", "1"), ("duplicate", "2"), ("refused", "6")]
    _check_store(app, before)
    _check_documents(app, officer)


def test_the_results_speak_spanish(app, client, officer):
    client.post_form("/lang", {"lang": "es"}, page="/")
    token = _token(client)
    created = _send_one(client, token, "PR-SAF-003 Visitas v4.pdf", pdf("es")).get_json()
    assert created["outcome_label"] == "Creado"
    assert "PR-SAF-003" in created["message"] and "aprobación" in created["message"]
    empty = _send_one(client, token, "vacío.pdf", b"").get_json()
    assert (empty["outcome_label"], empty["message"]) == ("Rechazado", "El archivo “vacío.pdf” está vacío.")
    page = _send_form(client, token, [("copia.pdf", EXISTING)]).get_data(as_text=True)
    assert "Duplicado" in page and "Mismo contenido que PR-QA-001 v1" in page


def test_kind_and_language_chosen_for_the_batch(app, client, officer):
    resp = _send_form(client, _token(client), [("PR-ADM-007 Staff training plan.pdf", pdf("kind"))],
                      kind="record", language="en")
    assert [r["outcome"] for r in _rows(resp.get_data(as_text=True))] == ["created"]
    with app.app_context():
        doc = db.session.scalar(select(Document).where(Document.code == "PR-ADM-007"))
        assert (doc.kind, doc.language, doc.title) == ("record", "en", "Staff training plan")
        db.session.remove()


def test_a_file_over_the_limit_is_refused_alone(app, officer, client):
    small = twin_app(app, MAX_UPLOAD_MB=1)
    other = small.test_client()
    other.post_form("/login", {"email": officer.email, "password": officer.password})
    before = _counts(app)
    resp = _send_form(other, other.csrf_token(PAGE), [
        ("PR-BIG-001 Grande.pdf", pdf("big", padding=1024 * 1024 + 10)), ("PR-OK-001 Pequeño.pdf", pdf("small"))])
    assert resp.status_code == 200
    rows = _rows(resp.get_data(as_text=True))
    assert [(r["file"], r["outcome"]) for r in rows] == [("PR-BIG-001 Grande.pdf", "refused"),
                                                          ("PR-OK-001 Pequeño.pdf", "created")]
    assert "larger than the limit of 1 MB" in rows[0]["message"]
    one = _send_one(other, other.csrf_token(PAGE), "PR-BIG-002 Grande.pdf", pdf("big2", padding=1024 * 1024 + 10))
    assert (one.status_code, one.get_json()["outcome"]) == (413, "refused")
    after = _counts(app)
    assert after["documents"] == before["documents"] + 1 and after["temp"] == []
    with small.app_context():
        db.session.remove()
        db.engine.dispose()


def test_the_same_content_in_a_document_one_cannot_open_is_not_named(app, client, officer, tmp_path, make_user):
    other = make_user("quality_officer")
    secret = pdf("secret")
    seed_document(app, other.id, write(tmp_path / "s.pdf", secret), code="PR-SEC-009", confidentiality="restricted")
    data = _send_one(client, _token(client), "copia.pdf", secret).get_json()
    assert data["outcome"] == "duplicate" and "PR-SEC-009" not in str(data) and data["document_url"] is None


def test_nothing_chosen_and_several_files_to_the_one_file_endpoint(app, client, officer):
    token = _token(client)
    resp = _send_form(client, token, [("", b"")])
    assert resp.status_code == 400 and "Choose at least one file." in resp.get_data(as_text=True)
    data = MultiDict([("files", FileStorage(io.BytesIO(pdf(n)), filename=f"{n}.pdf")) for n in ("a", "b")])
    boundary, body = encode_multipart(data)
    two = client.post(ONE, input_stream=io.BytesIO(body), content_type=f'multipart/form-data; boundary="{boundary}"',
                      headers={"X-CSRFToken": token, "X-Requested-With": "XMLHttpRequest"})
    assert two.status_code == 400 and two.get_json()["outcome"] == "refused"
    no_token = _send_one(client, "not-the-token", "PR-X-001 a.pdf", pdf("x"))
    assert no_token.status_code == 400
    assert _counts(app)["documents"] == 2


def test_the_register_offers_it_to_those_who_may_register(client, login_as):
    login_as("compliance_officer")
    body = client.get("/documents/").get_data(as_text=True)
    assert 'data-testid="bulk-upload"' in body and PAGE in body
    page = client.get(PAGE).get_data(as_text=True)
    assert "bulk-upload.js" in page and 'multiple' in page and 'name="csrf_token"' in page


def test_an_auditor_is_refused(app, client, login_as, make_user, tmp_path):
    qo = make_user("quality_officer")
    seed_document(app, qo.id, write(tmp_path / "a.pdf", pdf("a")), code="PR-QA-001", approver_id=make_user("admin").id)
    login_as("auditor")
    assert 'data-testid="bulk-upload"' not in client.get("/documents/").get_data(as_text=True)
    assert client.get(PAGE).status_code == 403
    token = client.csrf_token("/")
    before = _counts(app)
    json_resp = _send_one(client, token, "PR-QA-001 v2.pdf", pdf("auditor"))
    form_resp = _send_form(client, token, [("PR-NEW-001 Nuevo.pdf", pdf("auditor 2"))])
    assert (json_resp.status_code, form_resp.status_code) == (403, 403)
    assert _counts(app) == before


def test_a_busy_database_stops_the_plain_form_batch_and_says_which_files_were_not_saved(app, officer):
    quick = twin_app(app, DB_LOCK_TIMEOUT_MS=200)
    other = quick.test_client()
    other.post_form("/login", {"email": officer.email, "password": officer.password})
    token = other.csrf_token(PAGE)
    files = [("PR-ONE-001 Uno.pdf", pdf("one")), ("PR-TWO-001 Dos.pdf", pdf("two"))]
    before = _counts(app)
    with write_lock_held(app):
        resp = _send_form(other, token, files)
    assert resp.status_code == 200
    rows = _rows(resp.get_data(as_text=True))
    assert [(r["file"], r["outcome"]) for r in rows] == [(n, "refused") for n, _c in files]
    assert all("busy with another change, so nothing was saved" in r["message"] for r in rows)
    assert _counts(app) == before
    again = _rows(_send_form(other, token, files).get_data(as_text=True))
    assert [r["outcome"] for r in again] == ["created", "created"]
    with quick.app_context():
        db.session.remove()
        db.engine.dispose()


def test_a_withdrawn_document_takes_no_version(app, client, officer, make_user, tmp_path):
    approver = make_user("admin")
    doc_id = seed_document(app, officer.id, write(tmp_path / "o.pdf", pdf("obsolete v1")), code="PR-OBS-001",
                           approver_id=approver.id)
    with app.app_context(), write_transaction():
        svc.withdraw(db.session.get(Document, doc_id), actor=db.session.get(User, approver.id),
                     reason="Replaced by the new procedure.")
    before = _counts(app)
    resp = _send_one(client, _token(client), "PR-OBS-001 Obsoleto v2.pdf", pdf("obsolete v2"))
    assert resp.status_code == 409
    assert resp.get_json()["message"] == "The document PR-OBS-001 was withdrawn; it takes no new versions."
    assert _counts(app) == before
