"""Nonconformity pages through HTTP: raise and edit with errors at their fields, the whole corrective-action
workflow to verified closure, the refusals (409 state, 403 role and segregation of duties), the auditor who reads
everything and changes nothing, the history with its diffs and the point-in-time view, raising from an audit."""

from __future__ import annotations

import re
from datetime import timedelta
from io import BytesIO

import pytest
from records_support import clause_id
from support import pdf, seed_document, write

from auditdocs.db import write_transaction
from auditdocs.extensions import db
from auditdocs.models import Attachment, Nonconformity, User
from auditdocs.services import programme
from auditdocs.timeutil import local_today

NEW = "/nonconformities/new"


def _login(client, user):
    client.post_form("/logout", page="/")
    resp = client.post_form("/login", {"email": user.email, "password": user.password})
    assert resp.status_code == 302


def _today(app):
    with app.app_context():
        return local_today()


def _form(app, **fields):
    today = _today(app)
    data = {"title": "Registro de obsequios incompleto", "description": "Tres obsequios recibidos sin registrar.",
            "source": "internal_audit", "grade": "minor", "detected_on": today.isoformat(), "detected_by_id": "0",
            "detected_by_name": "Equipo auditor", "audit_id": "0", "site_id": "0", "process_id": "0",
            "root_cause_method": "", "ishikawa_category": ""}
    data.update(fields)
    return data


def _raise(client, app, **fields):
    resp = client.post_form(NEW, _form(app, **fields), page=NEW)
    assert resp.status_code == 302, resp.get_data(as_text=True)[:3000]
    return int(resp.location.rstrip("/").rsplit("/", 1)[1])


def _page(nc_id):
    return f"/nonconformities/{nc_id}"


def _action_id(app, nc_id, number):
    with app.app_context():
        return next(a.id for a in db.session.get(Nonconformity, nc_id).actions if a.number == number)


def _add_action(client, app, nc_id, owner_id, days=10, text="Capacitar al personal en el registro"):
    due = (_today(app) + timedelta(days=days)).isoformat()
    resp = client.post_form(f"{_page(nc_id)}/actions", {"new-description": text, "new-owner_id": str(owner_id),
                                                          "new-due_date": due}, page=_page(nc_id))
    assert resp.status_code == 302, resp.get_data(as_text=True)[:3000]
    return int(resp.location.rsplit("action-", 1)[1])


def _step(client, nc_id, action_id, step, prefix, **fields):
    data = {f"a{action_id}{prefix}-{k}": v for k, v in fields.items()}
    return client.post_form(f"{_page(nc_id)}/actions/{action_id}/{step}", data, page=_page(nc_id))


def _status(app, nc_id):
    with app.app_context():
        nc = db.session.get(Nonconformity, nc_id)
        return nc.status, nc.action_required, [a.status for a in nc.actions]


@pytest.fixture
def people(make_user):
    return {"compliance": make_user("compliance_officer", name="Carla Compliance"),
            "owner": make_user("compliance_officer", name="Oscar Owner"),
            "quality": make_user("quality_officer", name="Quique Quality"),
            "admin": make_user("admin", name="Ada Admin"), "auditor": make_user("auditor", name="Aurora Auditor")}


def test_raise_with_errors_at_their_fields_then_edit(app, client, people, tmp_path):
    seed_document(app, people["quality"].id, write(tmp_path / "registro.pdf", pdf("reg")), code="PR-AB-004",
                  title="Registro de obsequios")
    _login(client, people["compliance"])
    assert client.get(NEW).status_code == 200
    resp = client.post_form(NEW, _form(app, title="", description="", detected_by_name=""), page=NEW)
    body = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert 'data-testid="error-summary"' in body and 'aria-invalid="true"' in body
    assert "Give the nonconformity a title." in body
    resp = client.post_form(NEW, _form(app, detected_by_name=""), page=NEW)  # the service's rule, at its field
    assert resp.status_code == 400 and "Say who detected it." in resp.get_data(as_text=True)
    resp = client.post_form(NEW, _form(app, document_ids="NO-SUCH-DOC"), page=NEW)
    assert resp.status_code == 400 and "NO-SUCH-DOC" in resp.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(Nonconformity).count() == 0  # nothing half-written

    clause = clause_id(app, "iso37001_2016", "8.7")
    pdf_bytes = pdf("acta")
    nc_id = _raise(client, app, clause_ids=str(clause), root_cause_method="ishikawa",
                   ishikawa_category="methods", evidence=(BytesIO(pdf_bytes), "acta.pdf"))
    page = client.get(_page(nc_id)).get_data(as_text=True)
    year = _today(app).year
    assert f"NC-{year}-0001" in page and "8.7" in page and "acta.pdf" in page
    with app.app_context():
        row = db.session.query(Attachment).filter_by(owner_type="nonconformity", owner_id=nc_id).one()
    with client.get(f"{_page(nc_id)}/files/{row.id}") as download:
        assert download.status_code == 200 and "attachment" in download.headers["Content-Disposition"]
        assert download.get_data() == pdf_bytes

    edit = f"{_page(nc_id)}/edit"
    assert client.get(edit).status_code == 200
    resp = client.post_form(edit, _form(app, clause_ids=str(clause), root_cause="Procedimiento sin responsable",
                                        ishikawa_category="people", note="Análisis completado"), page=edit)
    assert resp.status_code == 400  # an Ishikawa category without the Ishikawa method
    assert "An Ishikawa category goes with the Ishikawa method only." in resp.get_data(as_text=True)
    resp = client.post_form(edit, _form(app, clause_ids=str(clause), root_cause="Procedimiento sin responsable",
                                        document_ids="PR-AB-004", note="Análisis completado"), page=edit)
    assert resp.status_code == 302
    page = client.get(_page(nc_id)).get_data(as_text=True)
    assert "Procedimiento sin responsable" in page and "PR-AB-004" in page
    assert 'value="PR-AB-004"' in client.get(edit).get_data(as_text=True)


def test_the_whole_workflow_to_verified_closure(app, client, people):
    _login(client, people["compliance"])
    nc_id = _raise(client, app)
    action = _add_action(client, app, nc_id, people["owner"].id)
    assert _status(app, nc_id) == ("in_progress", False, ["planned"])
    page = client.get(_page(nc_id)).get_data(as_text=True)
    assert f'id="action-{action}"' in page

    blocked = client.post_form(f"{_page(nc_id)}/close", {"close-closure_note": "Cerrar"}, page=_page(nc_id))
    assert blocked.status_code == 409
    assert "Action A1 is still open" in blocked.get_data(as_text=True)

    _login(client, people["owner"])  # My tasks points at the action on the page
    assert f'href="/nonconformities/{nc_id}#action-{action}"' in client.get("/tasks/").get_data(as_text=True)
    assert _step(client, nc_id, action, "start", "start").status_code == 302
    resp = _step(client, nc_id, action, "implement", "impl", completion_note="")
    assert resp.status_code == 400 and "Describe what was done" in resp.get_data(as_text=True)
    resp = _step(client, nc_id, action, "implement", "impl", completion_note="Capacitación dictada",
                 evidence=(BytesIO(pdf("asistencia")), "asistencia.pdf"))
    assert resp.status_code == 302
    assert _status(app, nc_id) == ("in_progress", False, ["implemented"])
    assert "asistencia.pdf" in client.get(_page(nc_id)).get_data(as_text=True)

    _login(client, people["compliance"])
    today = _today(app).isoformat()
    resp = _step(client, nc_id, action, "schedule", "sched", check_due=today, checker_id=str(people["owner"].id))
    assert resp.status_code == 400  # the owner is not even offered as checker
    resp = _step(client, nc_id, action, "schedule", "sched", check_due=today, checker_id=str(people["quality"].id))
    assert resp.status_code == 302

    _login(client, people["owner"])  # segregation of duties: the owner never checks their own action
    page = client.get(_page(nc_id)).get_data(as_text=True)
    assert 'data-testid="check-open-1"' not in page
    resp = _step(client, nc_id, action, "check", "check", result="effective", check_evidence="Yo mismo")
    assert resp.status_code == 403
    assert "Segregation of duties" in resp.get_data(as_text=True)

    _login(client, people["quality"])
    assert 'data-testid="check-open-1"' in client.get(_page(nc_id)).get_data(as_text=True)
    resp = _step(client, nc_id, action, "check", "check", result="effective", check_evidence="Muestreo de 20")
    assert resp.status_code == 302
    assert _status(app, nc_id) == ("open", False, ["effective"])

    _login(client, people["admin"])  # closing is for compliance and quality officers only
    assert client.post_form(f"{_page(nc_id)}/close", {"close-closure_note": "x"}, page=_page(nc_id)).status_code == 403
    _login(client, people["compliance"])
    resp = client.post_form(f"{_page(nc_id)}/close", {"close-closure_note": "Acción eficaz"}, page=_page(nc_id))
    assert resp.status_code == 302
    assert _status(app, nc_id)[0] == "closed"
    page = client.get(_page(nc_id)).get_data(as_text=True)
    assert 'data-testid="closed-note"' in page and 'data-testid="reopen-form"' in page
    assert 'data-testid="edit-nc"' not in page and 'data-testid="add-action-open"' not in page
    resp = client.post_form(f"{_page(nc_id)}/actions", {"new-description": "x", "new-owner_id": "1",
                                                          "new-due_date": today}, page=_page(nc_id))
    assert resp.status_code == 409


def test_not_effective_reopens_until_a_new_action(app, client, people):
    _login(client, people["compliance"])
    nc_id = _raise(client, app)
    action = _add_action(client, app, nc_id, people["owner"].id)
    _step(client, nc_id, action, "implement", "impl", completion_note="Hecho")
    _login(client, people["quality"])
    resp = _step(client, nc_id, action, "check", "check", result="not_effective", check_evidence="Dos incompletos")
    assert resp.status_code == 302
    assert _status(app, nc_id) == ("open", True, ["not_effective"])
    page = client.get(_page(nc_id)).get_data(as_text=True)
    assert 'data-testid="action-required"' in page
    resp = client.post_form(f"{_page(nc_id)}/close", {"close-closure_note": "x"}, page=_page(nc_id))
    assert resp.status_code == 409 and "raise a new action first" in resp.get_data(as_text=True)
    _add_action(client, app, nc_id, people["owner"].id, text="Segunda acción")
    assert _status(app, nc_id) == ("in_progress", False, ["not_effective", "planned"])


def test_cancel_needs_a_reason_and_the_right_role(app, client, people):
    _login(client, people["admin"])
    nc_id = _raise(client, app)
    action = _add_action(client, app, nc_id, people["owner"].id)
    assert _step(client, nc_id, action, "cancel", "cancel", cancel_reason="No").status_code == 403
    _login(client, people["quality"])
    resp = _step(client, nc_id, action, "cancel", "cancel", cancel_reason="")
    assert resp.status_code == 400 and "Say why the action is cancelled." in resp.get_data(as_text=True)
    resp = _step(client, nc_id, action, "cancel", "cancel", cancel_reason="Duplicada con la acción de TI")
    assert resp.status_code == 302
    assert _status(app, nc_id) == ("open", False, ["cancelled"])
    assert "Duplicada con la acción de TI" in client.get(_page(nc_id)).get_data(as_text=True)
    assert _step(client, nc_id, action, "cancel", "cancel", cancel_reason="Otra vez").status_code == 409


def test_an_observation_closes_on_a_no_action_decision_and_reopens(app, client, people):
    _login(client, people["compliance"])
    nc_id = _raise(client, app, grade="observation")
    page = client.get(_page(nc_id)).get_data(as_text=True)
    assert 'id="close-no_action"' in page
    close = f"{_page(nc_id)}/close"
    resp = client.post_form(close, {"close-no_action": "y", "close-closure_note": ""}, page=_page(nc_id))
    assert resp.status_code == 400 and "Record the decision that no action is needed" in resp.get_data(as_text=True)
    resp = client.post_form(close, {"close-no_action": "y", "close-closure_note": "Riesgo aceptado por la gerencia"},
                            page=_page(nc_id))
    assert resp.status_code == 302
    with app.app_context():
        nc = db.session.get(Nonconformity, nc_id)
        assert (nc.status, nc.no_action_decision) == ("closed", True)
    page = client.get(_page(nc_id)).get_data(as_text=True)
    assert 'data-testid="add-file-form"' not in page, "a closed nonconformity offers no file upload"
    late = client.post_form(f"{_page(nc_id)}/files", {"file-file": (BytesIO(pdf("tarde")), "tarde.pdf")},
                            page=_page(nc_id))
    assert late.status_code == 409 and "This nonconformity is closed: reopen it first." in late.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(Attachment).filter_by(owner_id=nc_id).count() == 0
    reopen = f"{_page(nc_id)}/reopen"
    assert client.post_form(reopen, {"reopen-reason": ""}, page=_page(nc_id)).status_code == 400
    assert client.post_form(reopen, {"reopen-reason": "Se repitió el hallazgo"}, page=_page(nc_id)).status_code == 302
    assert _status(app, nc_id)[0] == "open"
    assert "Se repitió el hallazgo" in client.get(_page(nc_id)).get_data(as_text=True)


def test_the_auditor_reads_everything_and_changes_nothing(app, client, people):
    _login(client, people["compliance"])
    nc_id = _raise(client, app, evidence=(BytesIO(pdf("x")), "x.pdf"))
    action = _add_action(client, app, nc_id, people["owner"].id)
    _login(client, people["auditor"])
    for url in ("/nonconformities/", _page(nc_id), f"{_page(nc_id)}/history"):
        assert client.get(url).status_code == 200, url
    page = client.get(_page(nc_id)).get_data(as_text=True)
    for testid in ("edit-nc", "add-action-open", "add-file-form", "start-1", "implement-open-1", "cancel-open-1",
                   "close-form", "new-nc"):
        assert f'data-testid="{testid}"' not in page, testid
    assert 'data-testid="new-nc"' not in client.get("/nonconformities/").get_data(as_text=True)
    assert client.get(NEW).status_code == 403
    token = client.csrf_token("/")
    posts = [NEW, f"{_page(nc_id)}/edit", f"{_page(nc_id)}/close", f"{_page(nc_id)}/reopen", f"{_page(nc_id)}/files",
             f"{_page(nc_id)}/actions"] + [f"{_page(nc_id)}/actions/{action}/{s}" for s in
                                           ("edit", "start", "implement", "schedule", "check", "cancel")]
    for url in posts:
        assert client.post(url, data={"csrf_token": token}).status_code == 403, url
    assert _status(app, nc_id) == ("in_progress", False, ["planned"])


def test_unknown_ids_are_404(app, client, people):
    _login(client, people["compliance"])
    first, second = _raise(client, app), _raise(client, app, title="Otra")
    action = _add_action(client, app, first, people["owner"].id)
    for url in ("/nonconformities/999999", "/nonconformities/999999/history", "/nonconformities/999999/edit",
                f"{_page(second)}/actions/{action}/edit", f"{_page(first)}/files/999999"):
        assert client.get(url).status_code == 404, url
    assert _step(client, second, action, "start", "start").status_code == 404  # an action of another NC
    assert client.get("/nonconformities/?grade=terrible").status_code == 400


def test_history_shows_each_change_and_the_state_on_a_day(app, client, people):
    _login(client, people["compliance"])
    nc_id = _raise(client, app, site_id="0")
    edit = f"{_page(nc_id)}/edit"
    client.post_form(edit, _form(app, title="Registro de obsequios incompleto en Lima", grade="major",
                                 note="Se amplió el alcance"), page=edit)
    _add_action(client, app, nc_id, people["owner"].id)
    page = client.get(f"{_page(nc_id)}/history").get_data(as_text=True)
    assert page.count('data-testid="revision"') >= 4  # raised, edited, action raised, NC in progress
    assert "Se amplió el alcance" in page
    assert re.search(r"<del>Minor nonconformity</del>.*?<ins>Major nonconformity</ins>", page, re.S)
    assert "Oscar Owner" in page  # the action's owner as a name, never an id
    assert "Carla Compliance" in page

    today = _today(app)
    state = client.get(f"{_page(nc_id)}/history?on={today.isoformat()}").get_data(as_text=True)
    assert 'data-testid="as-of"' in state and "Major nonconformity" in state and "/ A1" in state
    before = client.get(f"{_page(nc_id)}/history?on={(today - timedelta(days=1)).isoformat()}")
    assert before.status_code == 200 and 'data-testid="as-of-none"' in before.get_data(as_text=True)
    assert client.get(f"{_page(nc_id)}/history?on=yesterday").status_code == 400


def test_raise_from_an_audit_of_the_programme(app, client, people):
    today = _today(app)
    with app.app_context(), write_transaction():
        audit_id = programme.create_audit(programme.AuditInput(
            audit_type="internal", planned_start=today, auditing_body="Equipo de auditoría interna"),
            actor=db.session.get(User, people["quality"].id), today=today).id
    _login(client, people["auditor"])
    assert 'data-testid="raise-nc"' not in client.get(f"/audits/{audit_id}").get_data(as_text=True)
    _login(client, people["compliance"])
    page = client.get(f"/audits/{audit_id}").get_data(as_text=True)
    assert f'href="/nonconformities/new?audit={audit_id}"' in page
    form = client.get(f"{NEW}?audit={audit_id}").get_data(as_text=True)
    assert re.search(rf'<option selected value="{audit_id}">|<option value="{audit_id}" selected>', form)
    assert re.search(r'<option selected value="internal_audit">|<option value="internal_audit" selected>', form)
    assert client.get(f"{NEW}?audit=99999999999999999").status_code == 200  # a forged id preselects nothing
    nc_id = _raise(client, app, audit_id=str(audit_id))
    assert f'href="/audits/{audit_id}"' in client.get(_page(nc_id)).get_data(as_text=True)


def test_the_register_filters_sorts_and_pages(app, client, people):
    _login(client, people["compliance"])
    for n in range(27):
        _raise(client, app, title=f"Hallazgo {n:02d}", grade="major" if n % 3 == 0 else "minor")
    listing = client.get("/nonconformities/").get_data(as_text=True)
    assert "27 nonconformities" in listing and listing.count('data-testid="nc-row"') == 25
    assert 'data-testid="page-next"' in listing
    majors = client.get("/nonconformities/?grade=major").get_data(as_text=True)
    assert "9 nonconformities" in majors
    found = client.get("/nonconformities/?q=hallazgo+05").get_data(as_text=True)
    assert "1 nonconformity" in found and "Hallazgo 05" in found
    for sort in ("detected", "reference", "grade", "due"):
        resp = client.get(f"/nonconformities/?sort={sort}&status=not_closed")
        assert resp.status_code == 200
    nxt = re.search(r'href="([^"]+)" rel="next"', listing)
    assert nxt is not None
    second = client.get(nxt.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert second.count('data-testid="nc-row"') == 2


@pytest.mark.parametrize(("role", "raises", "closes"), [
    ("admin", True, False), ("quality_officer", True, True), ("compliance_officer", True, True),
    ("auditor", False, False)])
def test_who_may_raise_and_close(app, client, make_user, role, raises, closes):
    recorder = make_user("compliance_officer")
    _login(client, recorder)
    nc_id = _raise(client, app, grade="observation")
    _login(client, make_user(role))
    assert client.get(NEW).status_code == (200 if raises else 403)
    page = client.get(_page(nc_id)).get_data(as_text=True)
    assert ('data-testid="edit-nc"' in page) is raises
    assert ('data-testid="close-form"' in page) is closes
    resp = client.post_form(f"{_page(nc_id)}/close", {"close-no_action": "y", "close-closure_note": "Aceptado"},
                            page=_page(nc_id))
    assert resp.status_code == (302 if closes else 403)
