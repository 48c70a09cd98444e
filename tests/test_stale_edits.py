"""Two people editing one nonconformity or one bribery risk: the second save, built on an older revision, is refused
with 409 and keeps what its author typed; saving again after that is deliberate and goes through. Nothing is
silently undone, and nobody approves a risk assessment they did not read."""

from __future__ import annotations

import re

from risks_web_support import make_exercise, make_risk
from support import browser, text_of, today_of

from auditdocs.extensions import db
from auditdocs.models import BriberyRisk, Nonconformity
from auditdocs.services import revisions

NEW = "/nonconformities/new"
SEEN = re.compile(r'name="(?:\w+-)?seen_revision"[^>]*value="(\d+)"'
                  r'|value="(\d+)"[^>]*name="(?:\w+-)?seen_revision"')


def _fields(app, **changes):
    data = {"title": "Registro de obsequios incompleto", "description": "Tres obsequios sin registrar.",
            "source": "internal_audit", "grade": "minor", "detected_on": today_of(app).isoformat(),
            "detected_by_id": "0", "detected_by_name": "Equipo auditor", "audit_id": "0", "site_id": "0",
            "process_id": "0", "root_cause_method": "", "ishikawa_category": ""}
    data.update(changes)
    return data


def _seen(page: str) -> str:
    found = SEEN.search(page)
    assert found, "the edit form carries the revision it was built from"
    return found[1] or found[2]


def test_a_save_built_on_an_older_revision_is_refused_and_keeps_the_typed_text(app, make_user):
    ana, luis = browser(app, make_user("quality_officer")), browser(app, make_user("compliance_officer"))
    created = ana.post_form(NEW, _fields(app), page=NEW)
    assert created.status_code == 302
    edit = created.location.rstrip("/") + "/edit"
    ana_rev, luis_rev = _seen(text_of(ana.get(edit))), _seen(text_of(luis.get(edit)))
    assert ana_rev == luis_rev == "1"

    first = ana.post_form(edit, _fields(app, root_cause="Falta de capacitación", seen_revision=ana_rev), page=edit)
    assert first.status_code == 302

    # Luis's browser sends every field of the form he opened at revision 1, the empty root cause included.
    late = luis.post_form(edit, _fields(app, analysis="Análisis de Luis", root_cause="", seen_revision=luis_rev),
                          page=edit)
    page = text_of(late)
    assert late.status_code == 409
    assert "Someone else saved this record while you were editing it" in page
    assert "Análisis de Luis" in page, "the refused author's text stays in the form"
    assert _seen(page) == "2", "the form now carries the revision it was compared with"
    with app.app_context():
        nc = db.session.scalar(db.select(Nonconformity))
        assert (nc.revision, nc.root_cause, nc.analysis) == (2, "Falta de capacitación", None)
        assert len(revisions.history("nonconformity", nc.id)) == 2

    again = luis.post_form(edit, _fields(app, analysis="Análisis de Luis", root_cause="", seen_revision=_seen(page)),
                           page=edit)
    assert again.status_code == 302
    with app.app_context():
        nc = db.session.scalar(db.select(Nonconformity))
        assert (nc.revision, nc.analysis) == (3, "Análisis de Luis")
        assert not nc.root_cause, "Luis's deliberate second save carries his form as he sent it"
        ana_save, luis_save = revisions.history("nonconformity", nc.id)[1:]
        assert ana_save.author_id != luis_save.author_id


def test_the_refusal_is_in_spanish_for_a_spanish_reader(app, make_user):
    ana, luis = browser(app, make_user("quality_officer")), browser(app, make_user("compliance_officer"))
    created = ana.post_form(NEW, _fields(app), page=NEW)
    edit = created.location.rstrip("/") + "/edit"
    assert luis.post_form("/lang", {"lang": "es"}, page="/").status_code == 302
    assert ana.post_form(edit, _fields(app, root_cause="Causa", seen_revision="1"), page=edit).status_code == 302
    late = luis.post_form(edit, _fields(app, analysis="Otro", seen_revision="1"), page=edit)
    assert late.status_code == 409
    assert "Otra persona guardó este registro mientras usted lo editaba" in text_of(late)


def _risk_form(page: str, **changes):
    """What the reassessment form sends: its own values as the page holds them, with changes."""
    chosen = re.search(r'name="exercise_id".*?<option[^>]*value="(\d+)"', page, re.S)
    assert chosen, "the form offers the open exercise"
    data = {"exercise_id": chosen[1],
            "title": "Soborno para agilizar licencias", "process_id": "0", "activity": "", "site_id": "0",
            "associate_category": "public_official", "associate_detail": "",
            "scenario": "Un gestor ofrece un pago para acelerar un trámite.", "inherent_likelihood": "4",
            "inherent_impact": "4", "control_document_ids": "", "controls_description": "",
            "control_effectiveness": "not_assessed", "residual_likelihood": "2", "residual_impact": "3",
            "treatment": "", "treatment_action_ids": "", "owner_id": "0", "next_review": "", "note": "",
            "seen_revision": _seen(page)}
    data.update(changes)
    return data


def test_an_approval_is_of_the_revision_the_approver_read(app, make_user):
    officer, other, head = (make_user("compliance_officer"), make_user("quality_officer"),
                            make_user("compliance_officer"))
    exercise = make_exercise(app, officer.id)
    risk_id = make_risk(app, officer.id, exercise)
    page_url = f"/risks/{risk_id}"
    approver = browser(app, head)
    read = text_of(approver.get(page_url))
    assert _seen(read) == "1"

    assessor = browser(app, other)
    form_page = text_of(assessor.get(f"{page_url}/assess"))
    changed = assessor.post_form(f"{page_url}/assess", _risk_form(form_page, residual_likelihood="5",
                                                                  residual_impact="5"), page=f"{page_url}/assess")
    assert changed.status_code == 302

    late = approver.post_form(f"{page_url}/approve", {"approve-note": "Conforme",
                                                      "approve-seen_revision": _seen(read)}, page=page_url)
    assert late.status_code == 409
    assert "Someone else saved this record while you were editing it" in text_of(late)
    with app.app_context():
        risk = db.session.get(BriberyRisk, risk_id)
        assert (risk.status, risk.residual_rating, risk.approved_revision) == ("pending_approval", "critical", None)

    reread = text_of(approver.get(page_url))
    ok = approver.post_form(f"{page_url}/approve", {"approve-note": "Conforme",
                                                    "approve-seen_revision": _seen(reread)}, page=page_url)
    assert ok.status_code == 302
    with app.app_context():
        risk = db.session.get(BriberyRisk, risk_id)
        assert (risk.status, risk.residual_rating, risk.approved_revision) == ("approved", "critical", 3)


def test_a_reassessment_built_on_an_older_revision_is_refused_and_keeps_the_typed_text(app, make_user):
    first, second = make_user("compliance_officer"), make_user("quality_officer")
    risk_id = make_risk(app, first.id, make_exercise(app, first.id))
    url = f"/risks/{risk_id}/assess"
    a, b = browser(app, first), browser(app, second)
    page_a, page_b = text_of(a.get(url)), text_of(b.get(url))
    assert a.post_form(url, _risk_form(page_a, treatment="Rotación de inspectores"), page=url).status_code == 302
    late = b.post_form(url, _risk_form(page_b, treatment="Doble firma en actas"), page=url)
    assert late.status_code == 409
    body = text_of(late)
    assert "Doble firma en actas" in body and _seen(body) == "2"
    with app.app_context():
        assert db.session.get(BriberyRisk, risk_id).treatment == "Rotación de inspectores"
    again = b.post_form(url, _risk_form(body, treatment="Doble firma en actas"), page=url)
    assert again.status_code == 302
    with app.app_context():
        assert db.session.get(BriberyRisk, risk_id).treatment == "Doble firma en actas"
