"""Controlled documents through the web: versions, approval with segregation of duties, review, clauses, auditors."""

from __future__ import annotations

import calendar
import hashlib
import html
import io
import json
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_date
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from support import create_document, new_document, pdf, seed_document, upload_version, write

from auditdocs.db import write_transaction
from auditdocs.extensions import db
from auditdocs.models import AuditEvent, Clause, Document, DocumentReview, DocumentVersion, Standard, User
from auditdocs.services import audit

DOC_URL = re.compile(r"^/documents/(\d+)$")
REGISTER_ROW = re.compile(r'<td class="text-nowrap"><a href="/documents/(\d+)">([^<]+)</a>')
LIMA = ZoneInfo("America/Lima")  # the fixture's organisation time zone


# -- helpers ----------------------------------------------------------------------------------------------


def today() -> date:
    return datetime.now(LIMA).date()


def plus_months(day: date, months: int) -> date:
    """Independent calendar arithmetic for the expected review dates."""
    year, month = divmod(day.month - 1 + months, 12)
    year, month = day.year + year, month + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def text_of(resp: Any) -> str:
    """The page as a person reads it: tags kept, entities decoded."""
    return html.unescape(resp.get_data(as_text=True))


def login(client: Any, user: Any) -> None:
    resp = client.post_form("/login", {"email": user.email, "password": user.password})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:300]


def client_for(app: Any, user: Any) -> Any:
    """A separate browser session for a second person."""
    other = app.test_client()
    login(other, user)
    return other


def approve(client: Any, doc_id: int, number: int, effective_date: str = "") -> Any:
    return client.post_form(f"/documents/{doc_id}/versions/{number}/approve",
                            {"effective_date": effective_date}, page="/")


def reject(client: Any, doc_id: int, number: int, reason: str | None) -> Any:
    data = {} if reason is None else {"reason": reason}
    return client.post_form(f"/documents/{doc_id}/versions/{number}/reject", data, page="/")


def read(app: Any, fn: Any) -> Any:
    with app.app_context():
        try:
            return fn()
        finally:
            db.session.remove()


def versions(app: Any, doc_id: int) -> list[dict[str, Any]]:
    def _q() -> list[dict[str, Any]]:
        rows = db.session.scalars(select(DocumentVersion).where(DocumentVersion.document_id == doc_id)
                                  .order_by(DocumentVersion.number)).all()
        return [{"number": v.number, "status": v.status, "sha256": v.sha256, "uploaded_by": v.uploaded_by_id,
                 "approved_by": v.approved_by_id, "effective_date": v.effective_date, "note": v.change_note,
                 "filename": v.original_filename, "mime": v.mime_type, "size": v.size,
                 "reason": v.rejected_reason} for v in rows]
    return read(app, _q)


def document(app: Any, doc_id: int) -> dict[str, Any]:
    def _q() -> dict[str, Any]:
        d = db.session.get(Document, doc_id)
        current = d.current_version.number if d.current_version else None
        return {"code": d.code, "status": d.status, "current": current, "next_review": d.next_review_date,
                "clauses": sorted(c.ref for c in d.clauses), "withdrawn_reason": d.withdrawn_reason}
    return read(app, _q)


def events(app: Any, action: str | None = None) -> list[dict[str, Any]]:
    def _q() -> list[dict[str, Any]]:
        stmt = select(AuditEvent).order_by(AuditEvent.seq)
        if action:
            stmt = stmt.where(AuditEvent.action == action)
        return [{"seq": e.seq, "action": e.action, "object_id": e.object_id, "actor_id": e.actor_id,
                 "old": json.loads(e.old_values) if e.old_values else None,
                 "new": json.loads(e.new_values) if e.new_values else None} for e in db.session.scalars(stmt)]
    return read(app, _q)


def chain_errors(app: Any) -> list[str]:
    return read(app, lambda: audit.verify_chain().errors)


def clause_id(app: Any, slug: str, number: str) -> int:
    return read(app, lambda: db.session.scalar(
        select(Clause.id).join(Standard).where(Standard.slug == slug, Clause.number == number)))


def snapshot(app: Any) -> dict[str, Any]:
    """Every evidential row, to prove that a request changed nothing."""
    def _q() -> dict[str, Any]:
        docs = [(d.id, d.code, d.title, d.status, d.current_version_id, d.next_review_date, d.confidentiality,
                 tuple(sorted(c.id for c in d.clauses)), tuple(sorted(u.id for u in d.shared_with)))
                for d in db.session.scalars(select(Document).order_by(Document.id))]
        vers = [(v.id, v.number, v.status, v.sha256, v.approved_by_id, v.rejected_reason, v.effective_date)
                for v in db.session.scalars(select(DocumentVersion).order_by(DocumentVersion.id))]
        reviews = db.session.scalar(select(func.count(DocumentReview.id)))
        users = [(u.id, u.role, u.active, u.session_version)
                 for u in db.session.scalars(select(User).order_by(User.id))]
        return {"docs": docs, "versions": vers, "reviews": reviews, "users": users}
    return read(app, _q)


def approved_document(app: Any, author_client: Any, approver_client: Any, owner_id: int, **kwargs: Any) -> int:
    doc_id = new_document(author_client, owner_id, **kwargs)
    assert approve(approver_client, doc_id, 1).status_code == 302
    return doc_id


def download(client: Any, doc_id: int, number: int) -> tuple[int, bytes, Any]:
    resp = client.get(f"/documents/{doc_id}/versions/{number}/download")
    try:
        return resp.status_code, resp.get_data(), resp.headers
    finally:
        resp.close()


# -- creation and approval ----------------------------------------------------------------------------------


def test_create_document_registers_version_1_as_draft(app, client, login_as):
    rosa = login_as("quality_officer", name="Rosa Quispe")
    content = pdf("first")
    resp = create_document(client, rosa.id, code="PR-QA-001", title="Control de documentos", content=content,
                           revision_label="Rev. 0", change_note="Primera emisión")
    assert resp.status_code == 302
    doc_id = int(DOC_URL.match(urlsplit(resp.headers["Location"]).path).group(1))

    assert document(app, doc_id)["status"] == "draft"
    assert document(app, doc_id)["current"] is None
    [v1] = versions(app, doc_id)
    assert v1["number"] == 1 and v1["status"] == "draft" and v1["uploaded_by"] == rosa.id
    assert v1["filename"] == "procedimiento.pdf" and v1["mime"] == "application/pdf"
    assert v1["size"] == len(content) and v1["note"] == "Primera emisión"
    assert v1["sha256"] == hashlib.sha256(content).hexdigest()

    actions = [(e["action"], e["object_id"]) for e in events(app) if e["action"].startswith(("document.", "version."))]
    assert actions == [("document.create", "PR-QA-001"), ("version.upload", "PR-QA-001#1")]
    upload = events(app, "version.upload")[0]
    assert upload["actor_id"] == rosa.id and upload["new"]["sha256"] == v1["sha256"]
    assert chain_errors(app) == []

    page = text_of(client.get(f"/documents/{doc_id}"))
    assert "Document PR-QA-001 registered; version 1 awaits approval." in page
    assert 'data-testid="version-status-1">Draft<' in page
    assert "No approved version is in force yet." in page


def test_uploader_cannot_approve_their_own_version(app, client, login_as):
    rosa = login_as("quality_officer")
    doc_id = new_document(client, rosa.id)
    page = text_of(client.get(f"/documents/{doc_id}"))
    assert 'data-testid="approve-1"' in page  # the form is there (hidden) but the button to open it is not
    assert 'data-testid="approve-open-1"' not in page

    resp = approve(client, doc_id, 1)
    assert resp.status_code == 403
    assert ("Segregation of duties: a version must be approved by someone other than the person who "
            "uploaded it.") in text_of(resp)
    assert versions(app, doc_id)[0]["status"] == "draft"
    assert document(app, doc_id)["status"] == "draft"
    assert events(app, "version.approve") == []


def test_another_quality_officer_approves_and_the_document_comes_into_force(app, client, login_as, make_user):
    rosa = login_as("quality_officer")
    doc_id = new_document(client, rosa.id)
    head = make_user("quality_officer", name="Jefa de Unidad")
    approver = client_for(app, head)

    page = text_of(approver.get(f"/documents/{doc_id}"))
    assert 'data-testid="approve-open-1"' in page
    resp = approve(approver, doc_id, 1)
    assert resp.status_code == 302 and urlsplit(resp.headers["Location"]).path == f"/documents/{doc_id}"

    [v1] = versions(app, doc_id)
    assert v1["status"] == "approved" and v1["approved_by"] == head.id and v1["effective_date"] == today()
    doc = document(app, doc_id)
    assert doc["status"] == "active" and doc["current"] == 1
    assert doc["next_review"] == plus_months(today(), 12)
    [ev] = events(app, "version.approve")
    assert ev["actor_id"] == head.id and ev["object_id"] == "PR-QA-001#1"
    assert ev["new"]["next_review_date"] == plus_months(today(), 12).isoformat()
    assert chain_errors(app) == []

    page = text_of(approver.get(f"/documents/{doc_id}"))
    assert "In force today: version v1" in page
    assert format_date(plus_months(today(), 12), "medium", locale="en") in page


def test_approving_twice_or_a_missing_version_is_refused(app, client, login_as, make_user):
    rosa = login_as("quality_officer")
    approver = client_for(app, make_user("quality_officer"))
    doc_id = approved_document(app, client, approver, rosa.id)
    resp = approve(approver, doc_id, 1)
    assert resp.status_code == 409
    assert "Only a draft can be approved; this version is approved." in text_of(resp)
    assert approve(approver, doc_id, 7).status_code == 404
    assert len(events(app, "version.approve")) == 1


def test_version_2_supersedes_version_1_which_stays_downloadable(app, client, login_as, make_user):
    rosa = login_as("quality_officer")
    approver = client_for(app, make_user("quality_officer"))
    v1_bytes, v2_bytes = pdf("version one"), pdf("version two")
    doc_id = approved_document(app, client, approver, rosa.id, content=v1_bytes)

    resp = upload_version(client, doc_id, v2_bytes, "procedimiento v2.pdf", change_note="Se añade el paso 4",
                          revision_label="Rev. 1")
    assert resp.status_code == 302
    assert "Version 2 uploaded; it awaits approval by someone else." in text_of(client.get(resp.headers["Location"]))
    assert [(v["number"], v["status"]) for v in versions(app, doc_id)] == [(1, "approved"), (2, "draft")]
    assert document(app, doc_id)["current"] == 1

    assert approve(approver, doc_id, 2).status_code == 302
    vs = versions(app, doc_id)
    assert [(v["number"], v["status"]) for v in vs] == [(1, "superseded"), (2, "approved")]
    assert vs[1]["note"] == "Se añade el paso 4"
    assert document(app, doc_id)["current"] == 2
    ev = events(app, "version.approve")[-1]
    assert ev["new"]["superseded"] == 1 and ev["old"]["current"] == 1

    status, body, _h = download(client, doc_id, 1)
    assert status == 200 and body == v1_bytes
    status, body, _h = download(client, doc_id, 2)
    assert status == 200 and body == v2_bytes

    page = text_of(client.get(f"/documents/{doc_id}"))
    assert "In force today: version Rev. 1" in page
    assert 'data-testid="version-status-1">Superseded<' in page
    assert "Se añade el paso 4" in page
    assert chain_errors(app) == []


def test_approval_with_a_future_effective_date_keeps_the_previous_version_in_force(app, client, login_as,
                                                                                  make_user):
    rosa = login_as("quality_officer")
    approver = client_for(app, make_user("quality_officer"))
    doc_id = approved_document(app, client, approver, rosa.id)
    assert upload_version(client, doc_id, pdf("next year")).status_code == 302
    future = today() + timedelta(days=30)

    assert approve(approver, doc_id, 2, future.isoformat()).status_code == 302
    v2 = versions(app, doc_id)[1]
    assert v2["status"] == "approved" and v2["effective_date"] == future
    assert document(app, doc_id)["next_review"] == plus_months(future, 12)

    page = text_of(client.get(f"/documents/{doc_id}"))
    assert "In force today: version v1" in page
    shown = format_date(future, 'medium', locale='en')
    assert (f"Version v2 is approved and takes effect on {shown}; until then version v1 stays in force."
            in page)
    assert 'data-testid="version-status-1">In force<' in page  # stored "superseded", shown from dates
    assert f'data-testid="version-status-2">Approved, effective from {shown}<' in page
    # The in-force link serves version 1's bytes, not the approved-but-future version 2.
    assert f'href="/documents/{doc_id}/versions/1/download">Download</a>' in page.split('data-testid="in-force"')[1]


def test_reject_needs_a_reason(app, client, login_as, make_user):
    rosa = login_as("quality_officer")
    doc_id = new_document(client, rosa.id)
    reviewer = make_user("quality_officer", name="Revisora")
    other = client_for(app, reviewer)

    for reason in (None, "", "no"):
        resp = reject(other, doc_id, 1, reason)
        assert resp.status_code == 400
        assert "Give a reason for the rejection (at least 5 characters)." in text_of(resp)
        assert versions(app, doc_id)[0]["status"] == "draft"
    assert events(app, "version.reject") == []

    resp = reject(other, doc_id, 1, "Falta la firma del responsable")
    assert resp.status_code == 302
    v1 = versions(app, doc_id)[0]
    assert v1["status"] == "rejected" and v1["reason"] == "Falta la firma del responsable"
    [ev] = events(app, "version.reject")
    assert ev["actor_id"] == reviewer.id and ev["new"] == {"status": "rejected",
                                                             "reason": "Falta la firma del responsable"}
    page = text_of(other.get(f"/documents/{doc_id}"))
    assert "Falta la firma del responsable" in page and 'data-testid="version-status-1">Rejected<' in page
    assert "Rejected by Revisora" in page
    # A rejected draft cannot be approved afterwards.
    assert approve(other, doc_id, 1).status_code == 409
    assert document(app, doc_id)["status"] == "draft"


def test_withdraw_makes_the_document_obsolete_keeps_every_version_and_refuses_uploads(app, client, login_as,
                                                                                      make_user):
    rosa = login_as("quality_officer")
    approver = client_for(app, make_user("quality_officer"))
    v1_bytes, v2_bytes, v3_bytes = pdf("w1"), pdf("w2"), pdf("w3")
    doc_id = approved_document(app, client, approver, rosa.id, content=v1_bytes)
    assert upload_version(client, doc_id, v2_bytes).status_code == 302
    assert approve(approver, doc_id, 2).status_code == 302
    assert upload_version(client, doc_id, v3_bytes).status_code == 302  # a draft pending when withdrawn

    resp = client.post_form(f"/documents/{doc_id}/withdraw", {"reason": "x"}, page="/")
    assert resp.status_code == 400 and "Give a reason for the withdrawal" in text_of(resp)
    assert document(app, doc_id)["status"] == "active"

    resp = client.post_form(f"/documents/{doc_id}/withdraw", {"reason": "Proceso eliminado del SGC"}, page="/")
    assert resp.status_code == 302
    doc = document(app, doc_id)
    assert doc["status"] == "obsolete" and doc["withdrawn_reason"] == "Proceso eliminado del SGC"
    assert [v["status"] for v in versions(app, doc_id)] == ["superseded", "obsolete", "rejected"]
    [ev] = events(app, "document.withdraw")
    assert ev["new"] == {"status": "obsolete", "reason": "Proceso eliminado del SGC",
                         "versions": {"2": "obsolete", "3": "rejected"}}
    assert ev["old"]["versions"] == {"2": "approved", "3": "draft"}

    for number, expected in ((1, v1_bytes), (2, v2_bytes), (3, v3_bytes)):
        status, body, _h = download(client, doc_id, number)
        assert status == 200 and body == expected

    page = text_of(client.get(f"/documents/{doc_id}"))
    assert "No version is in force: the document was withdrawn." in page
    assert "Proceso eliminado del SGC" in page
    assert 'data-testid="upload-version"' not in page

    objects = sorted(p.name for p in (app.config["DATA_DIR"] / "objects").rglob("*") if p.is_file())
    message = "The document PR-QA-001 was withdrawn; it takes no new versions."
    resp = upload_version(client, doc_id, pdf("after withdrawal"))
    assert resp.status_code == 409
    assert message in text_of(resp)
    resp = upload_version(client, doc_id, pdf("after withdrawal"), headers={"X-Requested-With": "XMLHttpRequest"})
    assert resp.status_code == 409 and resp.get_json() == {"ok": False, "error": message}
    assert len(versions(app, doc_id)) == 3
    assert sorted(p.name for p in (app.config["DATA_DIR"] / "objects").rglob("*") if p.is_file()) == objects
    # Withdrawing twice is refused; approving the rejected draft too.
    assert client.post_form(f"/documents/{doc_id}/withdraw", {"reason": "otra vez"}, page="/").status_code == 409
    assert approve(approver, doc_id, 3).status_code == 409
    assert chain_errors(app) == []


def test_a_document_withdrawn_this_evening_is_not_in_force_today(app, client, login_as, make_user):
    """Withdrawal times are stored in UTC; late in the evening in Lima it is already tomorrow in UTC."""
    rosa = login_as("quality_officer")
    approver = client_for(app, make_user("quality_officer"))
    doc_id = approved_document(app, client, approver, rosa.id)
    assert client.post_form(f"/documents/{doc_id}/withdraw", {"reason": "Retirado esta noche"},
                            page="/").status_code == 302
    tonight = datetime.combine(today(), datetime.min.time(), LIMA).replace(hour=23, minute=30).astimezone(UTC)
    assert tonight.date() > today()
    with app.app_context(), write_transaction():  # test setup: pin the withdrawal to 23:30 local time (in UTC)
        db.session.execute(update(Document).where(Document.id == doc_id).values(withdrawn_at=tonight))
    read(app, lambda: None)
    page = text_of(client.get(f"/documents/{doc_id}"))
    assert "No version is in force: the document was withdrawn." in page
    assert "In force today" not in page


def test_a_duplicate_code_is_refused_and_leaves_no_row_and_no_file(app, client, login_as):
    rosa = login_as("quality_officer")
    new_document(client, rosa.id, code="PR-QA-001")
    objects = app.config["OBJECTS_DIR"]
    before = sorted(p.name for p in objects.rglob("*") if p.is_file())
    for code in ("PR-QA-001", "pr-qa-001"):
        resp = create_document(client, rosa.id, code=code, content=pdf("another file"))
        assert resp.status_code == 409
        assert f"A document with the code {code} already exists." in text_of(resp)
    resp = create_document(client, rosa.id, code="no spaces allowed", content=pdf("another file"))
    assert resp.status_code == 400 and "The code “no spaces allowed” is not valid" in text_of(resp)
    assert sorted(p.name for p in objects.rglob("*") if p.is_file()) == before
    assert read(app, lambda: db.session.scalar(select(func.count(DocumentVersion.id)))) == 1
    assert [e["action"] for e in events(app) if e["action"].startswith("document.")] == ["document.create"]


# -- review dates --------------------------------------------------------------------------------------------


def set_next_review(app: Any, doc_id: int, when: date) -> None:
    """Test setup: pretend the review date passed (a direct update of the document row)."""
    with app.app_context(), write_transaction():
        db.session.execute(update(Document).where(Document.id == doc_id).values(next_review_date=when))
    read(app, lambda: None)


def test_periodic_review_moves_the_next_review_date_and_is_listed(app, client, login_as, make_user):
    rosa = login_as("quality_officer")
    approver = client_for(app, make_user("quality_officer"))
    doc_id = approved_document(app, client, approver, rosa.id, review_interval_months="6")
    past = today() - timedelta(days=3)
    set_next_review(app, doc_id, past)

    resp = client.post_form(f"/documents/{doc_id}/review", {"note": "Sigue vigente sin cambios"}, page="/")
    assert resp.status_code == 302
    expected = plus_months(today(), 6)
    assert document(app, doc_id)["next_review"] == expected
    [ev] = events(app, "document.review")
    assert ev["old"] == {"next_review_date": past.isoformat()}
    assert ev["new"] == {"next_review_date": expected.isoformat(), "note": "Sigue vigente sin cambios"}
    assert [(v["number"], v["status"]) for v in versions(app, doc_id)] == [(1, "approved")]  # no new version

    page = text_of(client.get(f"/documents/{doc_id}"))
    assert "Periodic reviews" in page and "Sigue vigente sin cambios" in page
    assert f"next review {format_date(expected, 'medium', locale='en')}" in page


def test_a_draft_only_document_cannot_be_reviewed(app, client, login_as):
    rosa = login_as("quality_officer")
    doc_id = new_document(client, rosa.id)
    resp = client.post_form(f"/documents/{doc_id}/review", {"note": ""}, page="/")
    assert resp.status_code == 409 and "Only a document in force can be reviewed." in text_of(resp)
    assert events(app, "document.review") == []


def test_overdue_review_is_flagged_on_the_dashboard_and_in_the_register(app, client, login_as, make_user):
    rosa = login_as("quality_officer")
    approver = client_for(app, make_user("quality_officer"))
    overdue_id = approved_document(app, client, approver, rosa.id, code="PR-QA-010", title="Vencido")
    current_id = approved_document(app, client, approver, rosa.id, code="PR-QA-011", title="Al día")
    new_document(client, rosa.id, code="PR-QA-012", title="Borrador")  # drafts have no review date
    assert 'data-testid="overdue-count">0<' in client.get("/").get_data(as_text=True)

    set_next_review(app, overdue_id, today() - timedelta(days=1))
    page = text_of(client.get("/"))
    assert 'data-testid="overdue-count">1<' in page
    assert "PR-QA-010" in page.split('data-testid="overdue-count"')[1].split("</ul>")[0]

    due = text_of(client.get("/documents/?due=1"))
    assert [code for _i, code in REGISTER_ROW.findall(due)] == ["PR-QA-010"]
    assert 'data-testid="review-overdue"' in due
    everything = text_of(client.get("/documents/"))
    assert [code for _i, code in REGISTER_ROW.findall(everything)] == ["PR-QA-010", "PR-QA-011", "PR-QA-012"]
    assert everything.count('data-testid="review-overdue"') == 1

    # Due today is not overdue; reviewing clears the flag.
    set_next_review(app, current_id, today())
    assert 'data-testid="overdue-count">1<' in client.get("/").get_data(as_text=True)
    assert client.post_form(f"/documents/{overdue_id}/review", {}, page="/").status_code == 302
    assert 'data-testid="overdue-count">0<' in client.get("/").get_data(as_text=True)
    assert REGISTER_ROW.findall(text_of(client.get("/documents/?due=1"))) == []


# -- clauses --------------------------------------------------------------------------------------------------


def test_clause_mapping_change_is_audited_with_old_and_new_refs(app, client, login_as):
    rosa = login_as("quality_officer")
    c43, c75 = clause_id(app, "iso9001_2015", "4.3"), clause_id(app, "iso9001_2015", "7.5.1")
    c87 = clause_id(app, "iso37001_2016", "8.7")
    doc_id = new_document(client, rosa.id, clauses=[str(c43)])
    assert document(app, doc_id)["clauses"] == ["ISO 9001:2015 4.3"]

    resp = client.post_form(f"/documents/{doc_id}/clauses", {"clauses": [str(c75), str(c87)]}, page="/")
    assert resp.status_code == 302
    assert document(app, doc_id)["clauses"] == ["ISO 37001:2016 8.7", "ISO 9001:2015 7.5.1"]
    [ev] = events(app, "document.clauses")
    assert ev["object_id"] == "PR-QA-001" and ev["actor_id"] == rosa.id
    assert ev["old"] == {"clauses": ["ISO 9001:2015 4.3"]}
    assert ev["new"] == {"clauses": ["ISO 37001:2016 8.7", "ISO 9001:2015 7.5.1"]}

    # Saving the same mapping again records nothing; an unknown clause is refused.
    assert client.post_form(f"/documents/{doc_id}/clauses", {"clauses": [str(c75), str(c87)]},
                            page="/").status_code == 302
    assert len(events(app, "document.clauses")) == 1
    resp = client.post_form(f"/documents/{doc_id}/clauses", {"clauses": ["999999"]}, page="/")
    assert resp.status_code == 400 and "Choose clauses from the list." in text_of(resp)
    assert document(app, doc_id)["clauses"] == ["ISO 37001:2016 8.7", "ISO 9001:2015 7.5.1"]

    page = text_of(client.get(f"/documents/{doc_id}"))
    mapped = page.split('data-testid="doc-clauses"')[1].split("</ul>")[0]
    assert "ISO 9001:2015 7.5.1" in mapped and "ISO 37001:2016 8.7" in mapped and "4.3" not in mapped


def test_bulk_mapping_from_the_register_adds_a_clause_to_ticked_documents(app, client, login_as):
    rosa = login_as("quality_officer")
    c87 = clause_id(app, "iso37001_2016", "8.7")
    c43 = clause_id(app, "iso9001_2015", "4.3")
    a = new_document(client, rosa.id, code="PR-A", clauses=[str(c43)])
    b = new_document(client, rosa.id, code="PR-B")
    c = new_document(client, rosa.id, code="PR-C")
    assert 'name="doc_ids"' in client.get("/documents/").get_data(as_text=True)

    resp = client.post_form("/documents/bulk-clauses", {"doc_ids": [str(a), str(b)], "clause": str(c87)},
                            page="/documents/")
    assert resp.status_code == 302
    assert "ISO 37001:2016 8.7 added to 2 documents." in text_of(client.get("/documents/"))
    assert document(app, a)["clauses"] == ["ISO 37001:2016 8.7", "ISO 9001:2015 4.3"]
    assert document(app, b)["clauses"] == ["ISO 37001:2016 8.7"]
    assert document(app, c)["clauses"] == []
    evs = events(app, "document.clauses")
    assert sorted((e["object_id"], tuple(e["old"]["clauses"]), tuple(e["new"]["clauses"])) for e in evs) == [
        ("PR-A", ("ISO 9001:2015 4.3",), ("ISO 37001:2016 8.7", "ISO 9001:2015 4.3")),
        ("PR-B", (), ("ISO 37001:2016 8.7",)),
    ]

    # Nothing ticked: a clear warning, nothing changes.
    resp = client.post_form("/documents/bulk-clauses", {"clause": str(c87)}, page="/documents/")
    assert resp.status_code == 302
    assert "Tick at least one document and choose a clause." in text_of(client.get("/documents/"))
    assert len(events(app, "document.clauses")) == 2


def gaps(client: Any) -> int:
    page = client.get("/").get_data(as_text=True)
    match = re.search(r'data-testid="gaps-iso9001_2015">([\d,.]+)<', page)
    assert match, "no gap count on the dashboard"
    return int(re.sub(r"\D", "", match.group(1)))


def test_clause_page_lists_the_document_and_the_gap_closes_once_it_is_in_force(app, client, login_as, make_user):
    rosa = login_as("quality_officer")
    approver = client_for(app, make_user("quality_officer"))
    c43 = clause_id(app, "iso9001_2015", "4.3")  # asks to maintain documented information (the QMS scope)
    before = gaps(client)
    assert before > 0
    clause_page = text_of(client.get("/clauses/iso9001_2015/4.3"))
    assert "No documents are mapped to this clause yet." in clause_page

    doc_id = new_document(client, rosa.id, code="MAN-SGC-001", title="Alcance del SGC", clauses=[str(c43)])
    listed = text_of(client.get("/clauses/iso9001_2015/4.3")).split('data-testid="clause-documents"')[1]
    assert f'href="/documents/{doc_id}">MAN-SGC-001</a> Alcance del SGC' in listed.split("</ul>")[0]
    assert gaps(client) == before  # a draft is not evidence yet

    assert approve(approver, doc_id, 1).status_code == 302
    assert gaps(client) == before - 1
    dashboard = text_of(client.get("/"))
    assert 'href="/clauses/iso9001_2015/4.3">ISO 9001:2015 4.3</a>' not in dashboard

    # Withdrawn documents are not evidence in force: the gap reopens.
    assert client.post_form(f"/documents/{doc_id}/withdraw", {"reason": "Reemplazado por el manual"},
                            page="/").status_code == 302
    assert gaps(client) == before


# -- register --------------------------------------------------------------------------------------------------


def seed_documents(app: Any, author_id: int, approver_id: int, specs: list[dict[str, Any]], tmp_path: Any) -> None:
    """The register's rows through the services, one document (and transaction) per spec."""
    for i, spec in enumerate(specs):
        seed_document(app, author_id, write(tmp_path / f"seed-{i}.pdf", pdf(f"seed {spec['code']}")),
                      code=spec["code"], title=spec["title"], kind=spec.get("kind", "procedure"),
                      owner_id=spec.get("owner"), clauses=spec.get("clauses", []), filename=f"{spec['code']}.pdf",
                      approver_id=approver_id if spec.get("approve") else None)


def pager_link(page: str, rel: str) -> str | None:
    """The query string of the register's first/prev/next/last link, None when the link is disabled."""
    match = re.search(rf'<a class="page-link" href="/documents/([^"]*)" rel="{rel}"', page)
    return html.unescape(match.group(1)) if match else None


def codes(client: Any, query: str = "") -> list[str]:
    resp = client.get(f"/documents/{query}")
    assert resp.status_code == 200
    return [code for _i, code in REGISTER_ROW.findall(resp.get_data(as_text=True))]


def test_register_filters_sorts_and_paginates(app, client, login_as, make_user, tmp_path):
    rosa = login_as("quality_officer", name="Rosa")
    luis = make_user("compliance_officer", name="Luis")
    head = make_user("quality_officer", name="Jefa")
    c87 = clause_id(app, "iso37001_2016", "8.7")
    specs = [{"code": f"PR-{i:03d}", "title": f"Procedimiento {chr(ord('z') - i % 26)} {i:03d}",
              "approve": i % 2 == 0} for i in range(30)]
    specs += [
        {"code": "POL-001", "title": "Política antisoborno", "kind": "policy", "owner": luis.id,
         "clauses": [c87], "approve": True},
        {"code": "FOR-001", "title": "Registro de regalos", "kind": "form", "owner": luis.id},
    ]
    seed_documents(app, rosa.id, head.id, specs, tmp_path)

    page1 = client.get("/documents/").get_data(as_text=True)
    assert "32 documents" in page1
    first = codes(client)
    second_link = pager_link(page1, "next")
    second = codes(client, second_link)
    assert len(first) == 25 and len(second) == 7
    assert first + second == sorted(s["code"] for s in specs)
    assert pager_link(page1, "prev") is None and pager_link(page1, "first") is None
    page2 = client.get("/documents/" + second_link).get_data(as_text=True)
    assert pager_link(page2, "next") is None and pager_link(page2, "last") is None
    assert codes(client, pager_link(page2, "prev")) == first
    everything = first + second
    assert codes(client, "?last=1") == everything[-25:]  # the last 25 rows: pages start at a row, not at 25 × k
    assert codes(client, f"?after={10**9}") == first  # an anchor that is not there (or not visible): from the start
    assert codes(client, f"?after={second_link.rpartition('=')[2]}") == second

    assert codes(client, "?kind=policy") == ["POL-001"]
    assert codes(client, "?kind=form") == ["FOR-001"]
    assert len(codes(client, "?status=active")) == 16  # 15 approved PR + the policy
    assert "FOR-001" in codes(client, "?status=draft") and "POL-001" not in codes(client, "?status=draft")
    assert codes(client, f"?clause={c87}") == ["POL-001"]
    assert codes(client, f"?owner={luis.id}") == ["FOR-001", "POL-001"]
    assert codes(client, "?q=regalos") == ["FOR-001"]
    assert codes(client, "?q=pol") == ["POL-001"]
    assert codes(client, "?q=PR-02") == [f"PR-{i:03d}" for i in range(20, 30)]
    assert codes(client, "?kind=policy&owner=" + str(rosa.id)) == []
    assert "15 documents" in client.get("/documents/?status=active&kind=procedure").get_data(as_text=True)
    # Filters survive the pagination links.
    procedures = client.get("/documents/?kind=procedure").get_data(as_text=True)
    assert "30 documents" in procedures
    link = pager_link(procedures, "next")
    assert "kind=procedure" in link
    assert codes(client, link) == [f"PR-{i:03d}" for i in range(25, 30)]

    by_title = codes(client, "?sort=title&kind=procedure")
    titles = {s["code"]: s["title"] for s in specs}
    assert [titles[c] for c in by_title] == sorted(titles[c] for c in titles if c.startswith("PR-"))[:25]
    newest = codes(client, "?sort=newest")
    assert newest[:2] == ["FOR-001", "POL-001"]
    policy_id = read(app, lambda: db.session.scalar(select(Document.id).where(Document.code == "POL-001")))
    set_next_review(app, policy_id, today() - timedelta(days=400))
    by_review = codes(client, "?sort=review&status=active")
    assert len(by_review) == 16 and by_review[0] == "POL-001"
    assert codes(client, "?due=1") == ["POL-001"]
    # Unknown values are ignored rather than failing.
    assert len(codes(client, "?kind=nonsense&sort=nonsense&page=abc")) == 25
    assert "2 documents" in client.get(f"/documents/?owner={luis.id}").get_data(as_text=True)


def test_register_query_is_not_a_pattern(app, client, login_as, make_user, tmp_path):
    rosa = login_as("quality_officer")
    seed_documents(app, rosa.id, rosa.id, [{"code": "PR-1", "title": "Cien por ciento"},
                                           {"code": "PR-2", "title": "Mitad 50% del total"}], tmp_path)
    assert codes(client, "?q=%25") == []  # a literal '%': no wildcard, no error
    assert codes(client, "?q=50%25") == ["PR-2"]
    assert codes(client, "?q=5_%25") == []
    assert codes(client, "?q=*") == [] and codes(client, "?q=ci*n") == []  # nor a GLOB pattern on SQLite
    assert codes(client, "?q=cien") == ["PR-1"] and codes(client, "?q=pr-") == ["PR-1", "PR-2"]


# -- downloads ---------------------------------------------------------------------------------------------------


def test_download_is_an_attachment_with_an_rfc6266_filename_the_stored_mime_type_and_nosniff(app, client,
                                                                                           login_as):
    rosa = login_as("quality_officer")
    content = pdf("informe")
    doc_id = new_document(client, rosa.id, filename="Informe de auditoría ñ.pdf", content=content)
    assert versions(app, doc_id)[0]["filename"] == "Informe de auditoría ñ.pdf"

    status, body, headers = download(client, doc_id, 1)
    assert status == 200 and body == content
    disposition = headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=UTF-8''{quote('Informe de auditoría ñ.pdf')}" in disposition
    assert "filename*=UTF-8''Informe%20de%20auditor%C3%ADa%20%C3%B1.pdf" in disposition
    assert headers["Content-Type"] == "application/pdf"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in headers["Content-Security-Policy"]
    assert headers["X-Content-SHA256"] == hashlib.sha256(content).hexdigest()

    doc2 = new_document(client, rosa.id, code="PR-TXT", filename="notas.txt", content=b"<script>alert(1)</script>\n")
    status, body, headers = download(client, doc2, 1)
    assert status == 200 and headers["Content-Type"].startswith("text/plain")
    assert headers["Content-Disposition"].startswith("attachment;") and 'filename="notas.txt"' in \
        headers["Content-Disposition"]
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_version_numbers_are_unique_per_document(app, client, login_as):
    rosa = login_as("quality_officer")
    doc_id = new_document(client, rosa.id)
    other = new_document(client, rosa.id, code="PR-QA-002")
    for i in range(3):
        assert upload_version(client, doc_id, pdf(f"n{i}")).status_code == 302
    assert [v["number"] for v in versions(app, doc_id)] == [1, 2, 3, 4]
    assert [v["number"] for v in versions(app, other)] == [1]  # numbering is per document

    with app.app_context():
        v = db.session.scalar(select(DocumentVersion).where(DocumentVersion.document_id == doc_id,
                                                            DocumentVersion.number == 4))
        dup = DocumentVersion(document_id=doc_id, number=4, original_filename="x.pdf", mime_type="application/pdf",
                              size=v.size, sha256=v.sha256, uploaded_by_id=rosa.id, status="draft")
        with pytest.raises(IntegrityError), write_transaction():
            db.session.add(dup)
        db.session.remove()
    assert [v["number"] for v in versions(app, doc_id)] == [1, 2, 3, 4]


# -- auditors ----------------------------------------------------------------------------------------------------


@pytest.fixture
def library(app, client, login_as, make_user):
    """An approved document with a pending draft, a draft-only document and a restricted approved document."""
    rosa = login_as("quality_officer", name="Rosa")
    approver = client_for(app, make_user("quality_officer", name="Jefa"))
    admin = client_for(app, make_user("admin"))  # a restricted document is approved by someone who may see it
    ids = {
        "approved": approved_document(app, client, approver, rosa.id, code="PR-OK", content=pdf("ok v1")),
        "draft_only": new_document(client, rosa.id, code="PR-DRAFT", content=pdf("draft")),
        "restricted": approved_document(app, client, admin, rosa.id, code="PR-SECRET", content=pdf("secret"),
                                        confidentiality="restricted"),
    }
    assert upload_version(client, ids["approved"], pdf("ok v2 draft")).status_code == 302
    return {"ids": ids, "rosa": rosa, "rosa_client": client}


def test_auditor_sees_only_documents_with_an_approved_version_and_never_drafts(app, library, make_user):
    ids = library["ids"]
    ana = client_for(app, make_user("auditor", name="Ana"))

    assert codes(ana) == ["PR-OK"]
    assert ana.get(f"/documents/{ids['draft_only']}").status_code == 404
    assert download(ana, ids["draft_only"], 1)[0] == 404

    page = text_of(ana.get(f"/documents/{ids['approved']}"))
    assert 'data-testid="download-1"' in page and 'data-testid="download-2"' not in page
    assert 'data-testid="approve' not in page and 'data-testid="upload-version"' not in page
    assert 'data-testid="withdraw"' not in page
    status, body, _h = download(ana, ids["approved"], 1)
    assert status == 200 and body == pdf("ok v1")
    assert download(ana, ids["approved"], 2)[0] == 404  # the draft version
    assert download(ana, ids["approved"], 3)[0] == 404  # no such version


def test_restricted_documents_are_hidden_from_auditors_unless_shared(app, library, make_user):
    ids, rosa_client = library["ids"], library["rosa_client"]
    ana_user = make_user("auditor", name="Ana")
    ana = client_for(app, ana_user)
    other = client_for(app, make_user("auditor", name="Otro auditor"))
    secret = ids["restricted"]

    assert ana.get(f"/documents/{secret}").status_code == 404
    assert download(ana, secret, 1)[0] == 404
    assert "PR-SECRET" not in codes(ana)
    luis = client_for(app, make_user("compliance_officer"))
    assert luis.get(f"/documents/{secret}").status_code == 404  # restricted: not only auditors

    edit = rosa_client.get(f"/documents/{secret}/edit")
    assert edit.status_code == 200
    resp = rosa_client.post_form(f"/documents/{secret}/edit", {
        "title": "Control de documentos", "kind": "procedure", "language": "es", "confidentiality": "restricted",
        "owner_id": str(library["rosa"].id), "review_interval_months": "12", "shared_with": [str(ana_user.id)],
    }, page=f"/documents/{secret}/edit")
    assert resp.status_code == 302
    [ev] = events(app, "document.update")
    assert ev["new"] == {"shared_with": [ana_user.email]}

    assert ana.get(f"/documents/{secret}").status_code == 200
    status, body, _h = download(ana, secret, 1)
    assert status == 200 and body == pdf("secret")
    assert "PR-SECRET" in codes(ana)
    assert other.get(f"/documents/{secret}").status_code == 404
    assert "PR-SECRET" not in codes(other)


def test_every_auditor_view_and_download_is_recorded_and_nothing_else_changes(app, library, make_user):
    ids = library["ids"]
    ana_user = make_user("auditor", name="Ana")
    ana = client_for(app, ana_user)
    before, seq = snapshot(app), events(app)[-1]["seq"]

    assert ana.get(f"/documents/{ids['approved']}").status_code == 200
    assert download(ana, ids["approved"], 1)[0] == 200
    assert ana.get("/documents/").status_code == 200
    assert ana.get("/").status_code == 200
    assert ana.get("/clauses/iso9001_2015/4.3").status_code == 200
    assert ana.get(f"/documents/{ids['draft_only']}").status_code == 404  # no access receipt: a probe record
    assert download(ana, ids["approved"], 2)[0] == 404

    new = [e for e in events(app) if e["seq"] > seq]
    assert [(e["action"], e["object_id"], e["actor_id"]) for e in new] == [
        ("document.view", "PR-OK", ana_user.id),
        ("version.download", "PR-OK#1", ana_user.id),
        ("access.not_found", str(ana_user.id), ana_user.id),  # both refusals: one event for the window
    ]
    assert new[2]["new"]["first"] == f"/documents/{ids['draft_only']}"
    v1 = versions(app, ids["approved"])[0]
    assert new[1]["new"] == {"sha256": v1["sha256"]}
    assert snapshot(app) == before
    assert chain_errors(app) == []

    # Staff views leave no access receipt (only auditors' do).
    library["rosa_client"].get(f"/documents/{ids['approved']}")
    assert [e for e in events(app) if e["seq"] > seq] == new


@pytest.mark.parametrize("action", ["approve", "reject", "withdraw", "review", "clauses", "upload"])
def test_a_forbidden_action_on_a_visible_document_is_403_and_changes_nothing(app, library, make_user, action):
    ids = library["ids"]
    ana = client_for(app, make_user("auditor"))
    doc_id = ids["approved"]
    token = ana.csrf_token("/")
    before, seq = snapshot(app), events(app)[-1]["seq"]
    posts = {
        "approve": (f"/documents/{doc_id}/versions/2/approve", {}),
        "reject": (f"/documents/{doc_id}/versions/2/reject", {"reason": "Rechazado por la auditora"}),
        "withdraw": (f"/documents/{doc_id}/withdraw", {"reason": "Retirado por la auditora"}),
        "review": (f"/documents/{doc_id}/review", {"note": "revisado"}),
        "clauses": (f"/documents/{doc_id}/clauses", {"clauses": [str(clause_id(app, "iso9001_2015", "4.3"))]}),
        "upload": (f"/documents/{doc_id}/versions", {"file": (io.BytesIO(pdf("auditor")), "a.pdf")}),
    }
    url, data = posts[action]
    resp = ana.post(url, data={**data, "csrf_token": token})
    assert resp.status_code == 403
    assert "Your role does not allow this action. Nothing was changed." in text_of(resp)
    assert snapshot(app) == before
    assert [e["action"] for e in events(app) if e["seq"] > seq] == ["access.forbidden"]  # who tried, once


def test_a_non_existent_document_or_version_is_404(app, client, login_as):
    rosa = login_as("quality_officer")
    doc_id = new_document(client, rosa.id)
    for url in ("/documents/999999", "/documents/999999/versions/1/download",
                f"/documents/{doc_id}/versions/9/download", "/documents/999999/edit"):
        resp = client.get(url)
        assert resp.status_code == 404, url
        assert "This page does not exist, or you do not have access to it." in text_of(resp)
        resp.close()
    assert approve(client, 999999, 1).status_code == 404
    assert client.post_form("/documents/999999/withdraw", {"reason": "no existe"}, page="/").status_code == 404
