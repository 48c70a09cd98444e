"""Bribery-risk pages through HTTP: the register and its filters, assessing with errors at their fields, approval by
someone else (the assessor gets the friendly 403), retirement, history, exercises and the register as it stood at
one, the matrix page and its versions, heat-map cells that count what the database holds and link to their risks,
and the review flags on the dashboard; in Spanish and English."""

from __future__ import annotations

import re
from datetime import timedelta

import docx
import pytest
from records_support import add_action, raise_nc
from risks_web_support import approve, make_exercise, make_risk, reassess
from sqlalchemy import text
from support import pdf, seed_document, write

from auditdocs.db import write_transaction
from auditdocs.extensions import db
from auditdocs.models import BriberyRisk, CorrectiveAction, Document, RiskMatrix, User
from auditdocs.packs.heatmap import add_heatmap_table
from auditdocs.policy import AccessScope
from auditdocs.services import org, risk_heatmap, risk_matrix, risk_register
from auditdocs.timeutil import local_today

ES = {"Accept-Language": "es"}
EN = {"Accept-Language": "en"}
CELL = re.compile(r'<a href="([^"]+)" aria-label="[^"]*" class="heatmap-cell" data-testid="hm-cell" '
                  r'data-likelihood="(\d+)" data-impact="(\d+)" data-count="(\d+)"')


def _login(client, user):
    client.post_form("/logout", page="/")
    assert client.post_form("/login", {"email": user.email, "password": user.password}).status_code == 302


def _form(**fields):
    data = {"exercise_id": "", "title": "Pagos a inspectores municipales", "process_id": "0", "activity": "Licencias",
            "site_id": "0", "associate_category": "public_official", "associate_detail": "Inspector",
            "scenario": "Un inspector pide un pago para no observar la obra.", "inherent_likelihood": "4",
            "inherent_impact": "5", "control_document_ids": "", "controls_description": "Doble firma",
            "control_effectiveness": "partially_effective", "residual_likelihood": "2", "residual_impact": "4",
            "treatment": "Rotación de inspectores", "treatment_action_ids": "", "owner_id": "0", "next_review": "",
            "note": ""}
    data.update(fields)
    return data


@pytest.fixture
def people(make_user):
    return {"officer": make_user("compliance_officer"), "other": make_user("compliance_officer"),
            "qo": make_user("quality_officer"), "admin": make_user("admin"), "auditor": make_user("auditor")}


def test_assess_with_errors_then_approval_by_someone_else(app, client, people):
    exercise = make_exercise(app, people["officer"].id)
    _login(client, people["officer"])
    page = client.get(f"/risks/new?exercise={exercise}", headers=ES)
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "Evaluar un nuevo riesgo" in body and "Casi segura" in body  # the exercise's matrix names its levels

    bad = client.post_form("/risks/new", _form(exercise_id=str(exercise), title="", residual_impact="9"),
                           page="/risks/new", headers=EN)
    assert bad.status_code == 400
    text_ = bad.get_data(as_text=True)
    assert 'data-testid="error-summary"' in text_ and "Give the risk a title." in text_
    with app.app_context():
        assert db.session.query(BriberyRisk).count() == 0

    unknown = client.post_form("/risks/new", _form(exercise_id=str(exercise), control_document_ids="PO-XX-999"),
                               page="/risks/new", headers=EN)
    assert unknown.status_code == 400 and "PO-XX-999" in unknown.get_data(as_text=True)

    ok = client.post_form("/risks/new", _form(exercise_id=str(exercise)), page="/risks/new", headers=EN)
    assert ok.status_code == 302
    risk_id = int(ok.location.rstrip("/").split("/")[-1])
    with app.app_context():
        risk = db.session.get(BriberyRisk, risk_id)
        assert (risk.reference, risk.status, risk.inherent_score, risk.inherent_rating) == (
            "BR-0001", "pending_approval", 20, "critical")
        assert (risk.residual_score, risk.residual_rating) == (8, "medium")
        assert risk.assessed_by_id == people["officer"].id

    detail = client.get(f"/risks/{risk_id}", headers=ES).get_data(as_text=True)
    assert "Pendiente de aprobación" in detail and "Crítico" in detail and 'data-testid="approve-block"' in detail
    refused = client.post_form(f"/risks/{risk_id}/approve", {"approve-note": ""}, page=f"/risks/{risk_id}",
                               headers=EN)
    assert refused.status_code == 403
    body = refused.get_data(as_text=True)
    assert 'data-testid="error-page"' in body and "Segregation of duties" in body
    with app.app_context():
        assert db.session.get(BriberyRisk, risk_id).status == "pending_approval"

    _login(client, people["other"])
    assert 'data-testid="approve-form"' in client.get(f"/risks/{risk_id}").get_data(as_text=True)
    done = client.post_form(f"/risks/{risk_id}/approve", {"approve-note": "Revisado"}, page=f"/risks/{risk_id}")
    assert done.status_code == 302
    with app.app_context():
        risk = db.session.get(BriberyRisk, risk_id)
        assert (risk.status, risk.approved_by_id, risk.approved_revision) == ("approved", people["other"].id, 2)
    again = client.post_form(f"/risks/{risk_id}/approve", {"approve-note": ""}, page=f"/risks/{risk_id}")
    assert again.status_code == 409


def test_a_quality_officer_assesses_but_never_approves(app, client, people):
    exercise = make_exercise(app, people["officer"].id)
    risk_id = make_risk(app, people["officer"].id, exercise)
    _login(client, people["qo"])
    page = client.get(f"/risks/{risk_id}").get_data(as_text=True)
    assert 'data-testid="approve-form"' not in page and 'data-testid="reassess"' in page
    resp = client.post_form(f"/risks/{risk_id}/approve", {"approve-note": ""}, page=f"/risks/{risk_id}")
    assert resp.status_code == 403 and 'data-testid="error-page"' in resp.get_data(as_text=True)


def test_reassess_keeps_the_approved_state_for_auditors_and_the_history_shows_the_diff(app, client, people):
    exercise = make_exercise(app, people["officer"].id)
    risk_id = make_risk(app, people["officer"].id, exercise, title="Regalos de proveedores")
    hidden = make_risk(app, people["officer"].id, exercise, title="Nunca aprobado")
    approve(app, people["other"].id, risk_id)
    _login(client, people["qo"])
    form = client.get(f"/risks/{risk_id}/assess", headers=EN)
    assert form.status_code == 200 and "Regalos de proveedores" in form.get_data(as_text=True)
    resp = client.post_form(f"/risks/{risk_id}/assess", _form(exercise_id=str(exercise), title="Regalos de proveedores",
                                                              residual_likelihood="5", residual_impact="5",
                                                              note="Nuevo hallazgo"),
                            page=f"/risks/{risk_id}/assess")
    assert resp.status_code == 302

    history = client.get(f"/risks/{risk_id}/history", headers=ES).get_data(as_text=True)
    assert history.count('data-testid="revision"') == 3 and "Nuevo hallazgo" in history
    assert re.search(r'data-field="residual_rating"><td>[^<]+</td><td><del>Medio</del></td><td><ins>Crítico</ins>',
                     history)

    _login(client, people["auditor"])
    seen = client.get(f"/risks/{risk_id}", headers=EN).get_data(as_text=True)
    residual = seen.split('data-testid="risk-residual"')[1][:400]
    assert 'data-testid="approved-state"' in seen and "Critical" not in residual
    assert client.get(f"/risks/{hidden}").status_code == 404
    assert client.get(f"/risks/{risk_id}/history").get_data(as_text=True).count('data-testid="revision"') == 2
    register = client.get("/risks/", headers=EN).get_data(as_text=True)
    assert "Regalos de proveedores" in register and "Nunca aprobado" not in register
    assert 'data-testid="new-risk"' not in register


def test_register_filters_and_counts(app, client, people):
    exercise = make_exercise(app, people["officer"].id)
    make_risk(app, people["officer"].id, exercise, title="Comisiones a agentes",
              associate_category="agent_intermediary", residual_likelihood=5, residual_impact=5)
    make_risk(app, people["officer"].id, exercise, title="Donaciones a fundaciones", associate_category="donor",
              residual_likelihood=1, residual_impact=1)
    _login(client, people["qo"])
    everything = client.get("/risks/", headers=ES).get_data(as_text=True)
    assert everything.count('data-testid="risk-row"') == 2 and "2 riesgos" in everything
    assert client.get("/risks/?category=donor").get_data(as_text=True).count('data-testid="risk-row"') == 1
    only = client.get("/risks/?rating=critical").get_data(as_text=True)
    assert only.count('data-testid="risk-row"') == 1 and "Comisiones a agentes" in only
    assert "Donaciones" in client.get("/risks/?q=donacion").get_data(as_text=True)
    assert client.get("/risks/?status=approved").get_data(as_text=True).count('data-testid="risk-row"') == 0
    assert client.get("/risks/?site=999999&process=abc", headers=EN).status_code == 200


def test_heat_map_cells_count_what_the_database_holds_and_link_to_their_risks(app, client, people):
    exercise = make_exercise(app, people["officer"].id)
    spots = [(5, 5, 1, 2), (5, 5, 2, 2), (3, 4, 2, 2), (1, 2, 1, 1), (4, 1, 3, 3)]
    for n, (il, ii, rl, ri) in enumerate(spots):
        make_risk(app, people["officer"].id, exercise, title=f"Riesgo {n}", inherent_likelihood=il, inherent_impact=ii,
                  residual_likelihood=rl, residual_impact=ri)
    _login(client, people["officer"])
    for lang in (ES, EN):
        page = client.get("/risks/heatmap", headers=lang)
        assert page.status_code == 200
    body = page.get_data(as_text=True)
    for which in ("inherent", "residual"):
        section = body.split(f'data-testid="heatmap-{which}"')[1].split("</svg>")[0]
        cells = {(int(m[2]), int(m[3])): (int(m[4]), m[1]) for m in CELL.finditer(section)}
        assert len(cells) == 25
        with app.app_context():
            rows = db.session.execute(text(
                f"SELECT {which}_likelihood, {which}_impact, COUNT(*) FROM bribery_risks "  # noqa: S608
                f"WHERE status <> 'retired' GROUP BY {which}_likelihood, {which}_impact")).all()
        expected = {(r[0], r[1]): r[2] for r in rows}
        assert {k: v[0] for k, v in cells.items() if v[0]} == expected
        _cell, (count, href) = max(cells.items(), key=lambda kv: kv[1][0])
        listed = client.get(href.replace("&amp;", "&")).get_data(as_text=True)
        assert listed.count('data-testid="risk-row"') == count
    assert 'data-testid="risk-trend-table"' in body


def test_heat_map_filters_by_site_and_exercise(app, client, people):
    exercise = make_exercise(app, people["officer"].id)
    with app.app_context(), write_transaction():
        site_id = org.create_site(org.SiteData(code="SEDE", name_es="Sede Central", region="Lima")).id
    make_risk(app, people["officer"].id, exercise, site_id=site_id)
    make_risk(app, people["officer"].id, exercise)
    _login(client, people["officer"])
    body = client.get(f"/risks/heatmap?site={site_id}").get_data(as_text=True)
    assert sum(int(m[4]) for m in CELL.finditer(body.split('data-testid="heatmap-residual"')[1])) == 1
    at = client.get(f"/risks/heatmap?exercise={exercise}").get_data(as_text=True)  # nothing approved in it yet
    assert sum(int(m[4]) for m in CELL.finditer(at)) == 0


def test_review_flags_on_the_dashboard_and_the_register(app, client, people, tmp_path):

    today = _today(app)
    exercise = make_exercise(app, people["officer"].id)
    doc_id = seed_document(app, people["admin"].id, write(tmp_path / "p.pdf", pdf("politica")), code="PO-AB-001",
                           approver_id=people["qo"].id)
    nc_id = raise_nc(app, people["qo"].id, today=today)
    action_id = add_action(app, people["qo"].id, nc_id, people["qo"].id, due=today + timedelta(days=1), today=today)
    late = make_risk(app, people["officer"].id, exercise, title="Revisión atrasada",
                     next_review=today - timedelta(days=3))
    linked = make_risk(app, people["officer"].id, exercise, title="Con control y acción", control_document_ids=[doc_id],
                       treatment_action_ids=[action_id], next_review=today + timedelta(days=90))
    _login(client, people["qo"])
    board = client.get("/", headers=ES).get_data(as_text=True)
    panel = board.split('data-testid="risk-review-panel"')[1].split("</div></div>")[0]
    assert "Revisión de riesgos" in panel and "Revisión atrasada" in panel and "Con control y acción" not in panel
    assert 'data-kind="review_overdue"' in panel

    with app.app_context(), write_transaction():
        db.session.get(Document, doc_id).status = "obsolete"
        db.session.get(CorrectiveAction, action_id).due_date = today - timedelta(days=1)
    board = client.get("/", headers=EN).get_data(as_text=True)
    panel = board.split('data-testid="risk-review-panel"')[1].split("</div></div>")[0]
    assert 'data-kind="control_withdrawn"' in panel and 'data-kind="treatment_overdue"' in panel
    assert "PO-AB-001 is withdrawn" in panel
    detail = client.get(f"/risks/{linked}", headers=EN).get_data(as_text=True)
    assert 'data-testid="control-withdrawn"' in detail and 'data-testid="action-overdue"' in detail
    register = client.get("/risks/").get_data(as_text=True)
    assert register.count('data-testid="risk-flag"') == 3 and f'/risks/{late}"' in register
    _login(client, people["auditor"])
    assert 'data-testid="risk-review-panel"' not in client.get("/").get_data(as_text=True)


def _today(app):
    with app.app_context():
        return local_today()


def test_exercises_plan_edit_close_and_the_register_as_it_stood(app, client, people):
    _login(client, people["officer"])
    assert client.get("/risks/exercises", headers=ES).status_code == 200
    bad = client.post_form("/risks/exercises/new", {"name": "", "year": "1500"}, page="/risks/exercises/new")
    assert bad.status_code == 400 and 'data-testid="error-summary"' in bad.get_data(as_text=True)
    resp = client.post_form("/risks/exercises/new", {"name": "Evaluación anual 2025", "year": "2025",
                                                     "scope": "Toda la organización", "starts_on": "2025-03-01",
                                                     "ends_on": "2025-04-30"}, page="/risks/exercises/new")
    assert resp.status_code == 302
    first = int(resp.location.rstrip("/").split("/")[-1])
    edited = client.post_form(f"/risks/exercises/{first}/edit",
                              {"name": "Evaluación anual 2025 (revisada)", "year": "2025", "ends_on": "2025-01-01",
                               "starts_on": "2025-03-01"}, page=f"/risks/exercises/{first}/edit")
    assert edited.status_code == 400  # the end before the start, said at its field
    assert client.post_form(f"/risks/exercises/{first}/edit", {"name": "Evaluación anual 2025 (revisada)",
                                                               "year": "2025"},
                            page=f"/risks/exercises/{first}/edit").status_code == 302

    kept = make_risk(app, people["officer"].id, first, title="Riesgo que sigue", residual_likelihood=2,
                     residual_impact=2)
    gone = make_risk(app, people["officer"].id, first, title="Riesgo que se retira")
    for rid in (kept, gone):
        approve(app, people["other"].id, rid)
    close = client.post_form(f"/risks/exercises/{first}/close", {}, page=f"/risks/exercises/{first}")
    assert close.status_code == 302
    assert client.post_form(f"/risks/exercises/{first}/close", {}, page=f"/risks/exercises/{first}"
                            ).status_code == 302  # already closed: said on the page, nothing changes
    second = make_exercise(app, people["officer"].id, name="Evaluación anual 2026", year=2026)
    reassess(app, people["officer"].id, kept, second, title="Riesgo que sigue", residual_likelihood=5,
             residual_impact=5)
    approve(app, people["other"].id, kept)
    added = make_risk(app, people["officer"].id, second, title="Riesgo nuevo")
    approve(app, people["other"].id, added)
    client.post_form(f"/risks/{gone}/retire", {"retire-reason": "El proceso dejó de existir"}, page=f"/risks/{gone}")

    page = client.get(f"/risks/exercises/{first}", headers=ES).get_data(as_text=True)
    assert 'data-testid="exercise-status">Concluido' in page
    assert page.count('data-testid="exercise-risk"') == 2
    added_part = page.split('data-testid="changes-added"')[1].split("</ul>")[0]
    removed_part = page.split('data-testid="changes-removed"')[1].split("</ul>")[0]
    rated_part = page.split('data-testid="changes-rating"')[1].split("</ul>")[0]
    assert "Riesgo nuevo" in added_part and "Riesgo que se retira" in removed_part
    assert "Bajo" in rated_part and "Crítico" in rated_part and "2026" in page
    trend = client.get("/risks/heatmap").get_data(as_text=True).split('data-testid="risk-trend-table"')[1]
    assert '<th scope="row">RA-2025-01</th><td>0</td><td>0</td>' in trend  # high, critical residual risks
    assert '<th scope="row">RA-2026-01</th><td>0</td><td>1</td>' in trend
    at_first = client.get(f"/risks/?exercise={first}").get_data(as_text=True)
    assert at_first.count('data-testid="risk-row"') == 2 and "Riesgo nuevo" not in at_first
    assert client.get(f"/risks/exercises/{first}/edit").status_code == 200


def test_matrix_versions_admin_only_and_old_exercises_keep_theirs(app, client, people):
    old = make_exercise(app, people["officer"].id, name="Ejercicio 2025", year=2025)
    old_risk = make_risk(app, people["officer"].id, old, residual_likelihood=3, residual_impact=3)  # 9: medium
    _login(client, people["qo"])
    page = client.get("/risks/matrix", headers=ES).get_data(as_text=True)
    assert "Versión 1" in page and 'data-testid="matrix-form"' not in page
    assert client.post_form("/risks/matrix", {"note": "x"}, page="/risks/matrix").status_code == 403

    _login(client, people["admin"])
    form_page = client.get("/risks/matrix", headers=EN).get_data(as_text=True)
    assert 'data-testid="matrix-form"' in form_page and 'value="#2e7d32"' in form_page
    fields = dict(re.findall(r'name="([a-z_]+)"[^>]*value="([^"]*)"', form_page))
    fields.update(dict(re.findall(r'name="([a-z_]+)"[^>]*>\n?([^<]*)</textarea>', form_page)))
    fields.pop("csrf_token", None)
    bad = client.post_form("/risks/matrix", {**fields, "colour_high": "orange", "note": "Umbrales más estrictos"},
                           page="/risks/matrix")
    assert bad.status_code == 400
    saved = client.post_form("/risks/matrix", {**fields, "medium": "3", "high": "6", "critical": "12",
                                               "label_high_es": "Alto!", "note": "Umbrales más estrictos"},
                             page="/risks/matrix")
    assert saved.status_code == 302, saved.get_data(as_text=True)[:3000]
    with app.app_context():
        assert db.session.query(RiskMatrix).count() == 2
    assert "Versión 2" in client.get("/risks/matrix", headers=ES).get_data(as_text=True)
    assert "Umbrales" in client.get("/risks/matrix?version=1", headers=ES).get_data(as_text=True)

    new = make_exercise(app, people["officer"].id, name="Ejercicio 2026", year=2026)
    new_risk = make_risk(app, people["officer"].id, new, residual_likelihood=3, residual_impact=3)
    with app.app_context():
        assert db.session.get(BriberyRisk, old_risk).residual_rating == "medium"
        assert db.session.get(BriberyRisk, new_risk).residual_rating == "high"
    assert "Alto!" in client.get(f"/risks/{new_risk}", headers=ES).get_data(as_text=True)
    assert "Alto!" not in client.get(f"/risks/{old_risk}", headers=ES).get_data(as_text=True)


def test_the_word_heat_map_of_the_register_counts_its_risks_in_the_matrix_words(app, people):
    exercise = make_exercise(app, people["officer"].id)
    for likelihood in (5, 5, 1):
        make_risk(app, people["officer"].id, exercise, residual_likelihood=likelihood, residual_impact=4)
    with app.app_context():
        scope = AccessScope.of(db.session.get(User, people["qo"].id))
        heat = risk_heatmap.grid(risk_register.entries(scope), risk_matrix.current_matrix(), "residual")
        document = docx.Document()
        table = add_heatmap_table(document, heat, "es")  # the words of the heat map's own matrix
    rows = list(table.rows)
    assert list(rows[1].cells)[4].text == "2\nCrítico"  # likelihood 5 (top row), impact 4
    assert list(rows[5].cells)[4].text == "1\nBajo"  # likelihood 1, impact 4
    assert sum(int(c.text.split("\n")[0]) for r in rows[1:] for c in list(r.cells)[1:]) == 3
