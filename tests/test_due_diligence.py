"""Due-diligence files through HTTP (ISO 37001 8.2): opened with errors at their fields (in Spanish too), decided
with everything a decision needs, reviewed again, linked to risks and clauses with evidence, the history, the
filters, the reviews past their date among the tasks, and who may write (compliance officers, administrators)."""

from __future__ import annotations

from datetime import timedelta
from io import BytesIO

import pytest
from ddg_support import DD, NEW_DD, dd_form, login, new_id, seed_risk, today
from records_support import clause_id
from support import pdf

from auditdocs.db import write_transaction
from auditdocs.extensions import db
from auditdocs.models import Attachment, DueDiligence, RecordRevision, User
from auditdocs.services import due_diligence, org


@pytest.fixture
def people(make_user):
    return {"carla": make_user("compliance_officer", name="Carla Compliance"),
            "quique": make_user("quality_officer", name="Quique Quality"),
            "ada": make_user("admin", name="Ada Admin"), "aurora": make_user("auditor", name="Aurora Auditor")}


def _page(dd_id):
    return f"{DD}{dd_id}"


def _open(client, **fields):
    return new_id(client.post_form(NEW_DD, dd_form(**fields), page=NEW_DD))


def _decided(app, people, **fields):
    day = today(app)
    values = {"result": "Sin observaciones en las listas consultadas", "decision": "proceed",
              "decided_on": day.isoformat(), "reviewer_id": str(people["carla"].id),
              "next_review": (day + timedelta(days=365)).isoformat()}
    values.update(fields)
    return dd_form(**values)


def test_errors_are_shown_at_their_fields_and_nothing_is_saved(app, client, people):
    login(client, people["carla"])
    assert client.get(NEW_DD).status_code == 200
    resp = client.post_form(NEW_DD, dd_form(subject_name="", checks_performed="", risk_level=""), page=NEW_DD)
    body = resp.get_data(as_text=True)
    assert resp.status_code == 400 and 'data-testid="error-summary"' in body
    assert "Name the subject of the due diligence." in body and "Describe the checks performed." in body
    resp = client.post_form(NEW_DD, dd_form(subject_type="personnel", category="personnel_position"), page=NEW_DD)
    assert resp.status_code == 400 and "Name the position the person holds or will hold." in resp.get_data(
        as_text=True)
    resp = client.post_form(NEW_DD, dd_form(decision="proceed_with_conditions"), page=NEW_DD)
    body = resp.get_data(as_text=True)
    assert resp.status_code == 400  # a decision needs its result, day, reviewer, conditions and next review
    for message in ("Record the result of the checks before deciding.", "Enter the day of the decision.",
                    "Say who reviewed the file and decided.", "State the conditions.",
                    "Enter the day of the next review."):
        assert message in body, message
    day = today(app)
    resp = client.post_form(NEW_DD, _decided(app, people, decided_on=(day + timedelta(days=3)).isoformat(),
                                             next_review=day.isoformat(), conditions="Auditoría anual"),
                            page=NEW_DD)
    body = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "A decision cannot be dated in the future." in body
    assert "The next review comes after the decision." in body
    assert "Conditions go with the decision to proceed with conditions only." in body
    with app.app_context():
        assert db.session.query(DueDiligence).count() == 0


def test_errors_read_in_spanish(app, client, people):
    login(client, people["carla"])
    client.post_form("/lang", {"lang": "es"}, page="/")
    resp = client.post_form(NEW_DD, dd_form(decision="proceed"), page=NEW_DD)
    body = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "Registre el resultado de las verificaciones antes de decidir." in body
    assert "Indique la fecha de la próxima revisión." in body


def test_open_decide_and_review_again_with_the_history(app, client, people):
    login(client, people["carla"])
    dd_id = _open(client)
    year = today(app).year
    page = client.get(_page(dd_id)).get_data(as_text=True)
    assert f"DD-{year}-0001" in page and "Not decided yet" in page
    edit = f"{_page(dd_id)}/edit"
    assert client.get(edit).status_code == 200
    resp = client.post_form(edit, _decided(app, people, decision="proceed_with_conditions",
                                           conditions="Cláusula anticorrupción en el contrato",
                                           note="Decisión del comité"), page=edit)
    assert resp.status_code == 302
    with app.app_context():
        row = db.session.get(DueDiligence, dd_id)
        assert (row.status, row.decision, row.revision) == ("decided", "proceed_with_conditions", 2)
    resp = client.post_form(edit, dd_form(note="Deshacer"), page=edit)  # a decided file stays decided
    assert resp.status_code == 400 and "A decided file stays decided" in resp.get_data(as_text=True)
    resp = client.post_form(edit, _decided(app, people, decision="proceed_with_conditions",
                                           conditions="Cláusula anticorrupción en el contrato"), page=edit)
    assert resp.status_code == 302  # the same values again: nothing to change, no revision
    history = client.get(f"{_page(dd_id)}/history").get_data(as_text=True)
    assert history.count('data-testid="revision"') == 2 and "Decisión del comité" in history
    assert ('<tr data-field="decision"><td>Decision</td><td><del>—</del></td>'
            '<td><ins>Proceed with conditions</ins></td></tr>') in history
    assert '<tr data-field="reviewer_id">' in history and "Carla Compliance" in history
    assert '<td><del>In progress</del></td><td><ins>Decided</ins></td>' in history
    state = client.get(f"{_page(dd_id)}/history?on={today(app).isoformat()}").get_data(as_text=True)
    assert 'data-testid="as-of"' in state and "Proceed with conditions" in state


def test_links_to_risks_and_clauses_and_evidence_files(app, client, people):
    risk = seed_risk(app, people["carla"].id)
    clause = clause_id(app, "iso37001_2016", "8.2")
    login(client, people["carla"])
    dd_id = _open(client, risk_ids=str(risk), clause_ids=str(clause),
                  evidence=(BytesIO(pdf("consulta-ruc")), "consulta-ruc.pdf"))
    page = client.get(_page(dd_id)).get_data(as_text=True)
    assert "BR-0001" in page and "ISO 37001:2016 8.2" in page and "consulta-ruc.pdf" in page
    resp = client.post(f"{_page(dd_id)}/files", data={"file-file": (BytesIO(pdf("ref")), "referencias.pdf"),
                                                      "csrf_token": client.csrf_token(_page(dd_id))})
    assert resp.status_code == 302
    with app.app_context():
        names = [a.original_filename for a in db.session.query(Attachment).filter_by(
            owner_type="due_diligence", owner_id=dd_id).order_by(Attachment.id)]
        assert names == ["consulta-ruc.pdf", "referencias.pdf"]
    resp = client.post_form(f"{_page(dd_id)}/files", {}, page=_page(dd_id))
    assert resp.status_code == 400 and "Choose a file to upload." in resp.get_data(as_text=True)


def test_the_register_filters(app, client, people):
    with app.app_context(), write_transaction():
        cusco = org.create_site(org.SiteData(code="UT-CUSCO", name_es="UT Cusco")).id
    login(client, people["carla"])
    _open(client, subject_name="Transportes Illimani SRL", site_id=str(cusco))
    _open(client, subject_type="personnel", subject_name="José Pérez", category="personnel_position",
          position="Jefe de logística", risk_level="high")
    new_id(client.post_form(NEW_DD, _decided(app, people, subject_name="Consultora Ñawi"), page=NEW_DD))

    def rows(query):
        return client.get(f"{DD}?{query}").get_data(as_text=True).count('data-testid="dd-row"')

    assert rows("") == 3
    assert rows(f"site={cusco}") == 1
    assert rows("category=personnel_position") == 1
    assert rows("state=pending") == 2 and rows("state=proceed") == 1 and rows("state=decided") == 1
    assert rows("q=jose+perez") == 1 and rows("q=logistica") == 1  # accents and case folded
    assert rows(f"year={today(app).year}") == 3 and rows("year=2001") == 0
    assert client.get(f"{DD}?state=maybe").status_code == 400


def test_a_review_past_its_date_is_a_task(app, client, people):
    login(client, people["carla"])
    dd_id = new_id(client.post_form(NEW_DD, _decided(app, people), page=NEW_DD))
    page = client.get("/tasks/").get_data(as_text=True)
    assert f"/risks/due-diligence/{dd_id}" not in page  # the review is a year away
    with app.app_context(), write_transaction():
        row = db.session.get(DueDiligence, dd_id)
        data = due_diligence.DdInput(
            subject_type=row.subject_type, subject_name=row.subject_name, category=row.category,
            risk_level=row.risk_level, checks_performed=row.checks_performed, result=row.result,
            decision=row.decision, decided_on=today(app) - timedelta(days=30), reviewer_id=row.reviewer_id,
            next_review=today(app) - timedelta(days=1))
        due_diligence.update_due_diligence(row, data, actor=db.session.get(User, people["carla"].id),
                                           today=today(app), note="Revisión vencida")
    assert f"/risks/due-diligence/{dd_id}" in client.get("/tasks/").get_data(as_text=True)
    assert 'data-testid="review-overdue"' in client.get(_page(dd_id)).get_data(as_text=True)
    login(client, people["quique"])  # quality officers do not keep due diligence: no such task
    assert f"/risks/due-diligence/{dd_id}" not in client.get("/tasks/").get_data(as_text=True)


def test_who_may_write(app, client, people):
    login(client, people["ada"])
    dd_id = _open(client)
    for role in ("quique", "aurora"):  # they read every file and change none
        login(client, people[role])
        for url in (DD, _page(dd_id), f"{_page(dd_id)}/history"):
            assert client.get(url).status_code == 200, url
        assert 'data-testid="edit-dd"' not in client.get(_page(dd_id)).get_data(as_text=True)
        assert client.get(NEW_DD).status_code == 403
        for url in (NEW_DD, f"{_page(dd_id)}/edit"):
            assert client.post_form(url, dd_form(), page=DD).status_code == 403
    with app.app_context():
        assert db.session.query(RecordRevision).filter_by(entity_type="due_diligence").count() == 1
    assert client.get(f"{DD}999999").status_code == 404
