"""Two people editing one nonconformity: the second save, built on an older revision, is refused with 409 and keeps
what its author typed; saving again after that is deliberate and goes through. Nothing is silently undone."""

from __future__ import annotations

import re

from support import browser, text_of, today_of

from auditdocs.extensions import db
from auditdocs.models import Nonconformity
from auditdocs.services import revisions

NEW = "/nonconformities/new"
SEEN = re.compile(r'name="seen_revision"[^>]*value="(\d+)"|value="(\d+)"[^>]*name="seen_revision"')


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
