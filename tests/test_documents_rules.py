"""Rules found by review: who edits details, forward-only effective dates, in-force choice, counts, coverage."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select, update
from support import approve, browser, new_document, pdf, text_of, today_of, upload_version

from auditdocs.db import write_transaction
from auditdocs.extensions import db
from auditdocs.models import Clause, Document, DocumentVersion, Standard
from auditdocs.services.lifecycle import in_force
from auditdocs.timeutil import local_today


def doc_row(app: Any, doc_id: int) -> Document:
    with app.app_context():
        doc = db.session.get(Document, doc_id)
        db.session.expunge(doc)
        return doc


def test_only_owner_admin_or_quality_officer_edit_details_and_access(app, make_user):
    rosa, jefe = make_user("quality_officer"), make_user("quality_officer")
    luis, admin = make_user("compliance_officer"), make_user("admin")
    doc_id = new_document(browser(app, rosa), rosa.id, code="PR-QA-100", title="Documento PR-QA-100")

    stranger = browser(app, luis)  # may upload, but neither owns nor approves
    assert stranger.get(f"/documents/{doc_id}/edit").status_code == 403
    resp = stranger.post_form(f"/documents/{doc_id}/edit", {"title": "Mío", "kind": "procedure", "language": "es",
                                                            "confidentiality": "restricted", "owner_id": luis.id,
                                                            "review_interval_months": 12}, page="/")
    assert resp.status_code == 403
    row = doc_row(app, doc_id)
    assert (row.owner_id, row.confidentiality, row.title) == (rosa.id, "normal", "Documento PR-QA-100")

    # Another quality officer edits the title but cannot take the document or hide it.
    colleague = browser(app, jefe)
    page = text_of(colleague.get(f"/documents/{doc_id}/edit"))
    assert 'name="confidentiality"' not in page and 'name="owner_id"' not in page
    resp = colleague.post_form(f"/documents/{doc_id}/edit", {
        "title": "Control de registros", "kind": "procedure", "language": "es", "review_interval_months": 12,
        "confidentiality": "restricted", "owner_id": jefe.id}, page="/")
    assert resp.status_code == 302
    row = doc_row(app, doc_id)
    assert (row.title, row.owner_id, row.confidentiality) == ("Control de registros", rosa.id, "normal")

    # The admin may restrict it and share it.
    boss = browser(app, admin)
    resp = boss.post_form(f"/documents/{doc_id}/edit", {
        "title": "Control de registros", "kind": "procedure", "language": "es", "review_interval_months": 12,
        "confidentiality": "restricted", "owner_id": rosa.id, "shared_with": [jefe.id]}, page="/")
    assert resp.status_code == 302
    assert doc_row(app, doc_id).confidentiality == "restricted"
    assert browser(app, luis).get(f"/documents/{doc_id}").status_code == 404
    assert colleague.get(f"/documents/{doc_id}").status_code == 200


def test_effective_dates_only_move_forward_and_in_force_follows_the_number(app, make_user):
    rosa, jefe = make_user("quality_officer"), make_user("quality_officer")
    author, approver = browser(app, rosa), browser(app, jefe)
    doc_id = new_document(author, rosa.id, code="PR-QA-200")
    today = today_of(app)
    assert approve(approver, doc_id, 1, today - timedelta(days=10)).status_code == 302
    assert upload_version(author, doc_id, pdf("v2")).status_code == 302
    resp = approve(approver, doc_id, 2, today - timedelta(days=400))
    assert resp.status_code == 400
    assert "cannot be earlier than that of version v1" in text_of(resp)
    assert approve(approver, doc_id, 2, date(9999, 12, 31)).status_code == 400  # typing mistake, not a 500
    assert approve(approver, doc_id, 2, today + timedelta(days=30)).status_code == 302
    with app.app_context():
        doc = db.session.get(Document, doc_id)
        assert in_force(doc, today).number == 1
        assert in_force(doc, today + timedelta(days=30)).number == 2
        assert in_force(doc, today + timedelta(days=3000)).number == 2


def test_dashboard_counts_are_not_capped_by_the_list(app, make_user, login_as):
    rosa = login_as("quality_officer")
    jefe = make_user("quality_officer")
    author, approver = app.test_client(), browser(app, jefe)
    assert author.post_form("/login", {"email": rosa.email, "password": rosa.password}).status_code == 302
    ids = [new_document(author, rosa.id, code=f"PR-OV-{n:03d}") for n in range(23)]
    for doc_id in ids:
        assert approve(approver, doc_id, 1).status_code == 302
    with app.app_context(), write_transaction():
        db.session.execute(update(Document).values(next_review_date=local_today() - timedelta(days=1)))
    page = text_of(approver.get("/"))
    assert re.search(r'data-testid="overdue-count">23<', page)
    for doc_id in ids[:21]:
        assert upload_version(author, doc_id, pdf(f"draft-{doc_id}")).status_code == 302
    assert re.search(r'data-testid="pending-count">21<', text_of(approver.get("/")))


def test_changing_the_review_interval_moves_the_next_review(app, make_user):
    rosa, jefe = make_user("quality_officer"), make_user("quality_officer")
    author, approver = browser(app, rosa), browser(app, jefe)
    doc_id = new_document(author, rosa.id, code="PR-QA-300")
    effective = today_of(app) - timedelta(days=40)
    assert approve(approver, doc_id, 1, effective).status_code == 302
    resp = author.post_form(f"/documents/{doc_id}/edit", {
        "title": "Documento PR-QA-300", "kind": "procedure", "language": "es", "review_interval_months": 1,
        "confidentiality": "normal", "owner_id": rosa.id}, page="/")
    assert resp.status_code == 302
    nxt = doc_row(app, doc_id).next_review_date
    assert nxt is not None and nxt < today_of(app)  # 40 days ago + 1 month: already overdue
    assert "Review overdue" in text_of(author.get(f"/documents/{doc_id}"))


def test_a_future_dated_approval_does_not_cover_a_clause_yet(app, make_user):
    rosa, jefe = make_user("quality_officer"), make_user("quality_officer")
    author, approver = browser(app, rosa), browser(app, jefe)
    with app.app_context():
        clause_id = db.session.scalar(select(Clause.id).join(Standard).where(
            Standard.slug == "iso9001_2015", Clause.number == "7.1.5.2"))
    doc_id = new_document(author, rosa.id, code="PR-CAL-900", clauses=[str(clause_id)])
    assert approve(approver, doc_id, 1, today_of(app) + timedelta(days=5)).status_code == 302
    page = text_of(author.get("/clauses/iso9001_2015/7.1.5.2"))
    assert 'data-testid="clause-gap"' in page and "Approved, effective from" in page
    with app.app_context(), write_transaction():
        db.session.execute(update(DocumentVersion).where(DocumentVersion.document_id == doc_id)
                           .values(effective_date=local_today()))
    page = text_of(author.get("/clauses/iso9001_2015/7.1.5.2"))
    assert 'data-testid="clause-gap"' not in page and "In force" in page
