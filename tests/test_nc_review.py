"""Review of issue 11 through HTTP: what a nonconformity's pages must not show or refuse wrongly."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from records_support import DAY, add_action, on_nc, raise_nc
from sqlalchemy import event
from support import pdf, seed_document, write

from auditdocs.db import write_transaction
from auditdocs.extensions import db
from auditdocs.models import Nonconformity, User
from auditdocs.services import ServiceError, actions, nonconformities
from auditdocs.services.actions import ActionInput
from auditdocs.timeutil import local_today


def _login(client, user):
    client.post_form("/logout", page="/")
    resp = client.post_form("/login", {"email": user.email, "password": user.password})
    assert resp.status_code == 302


def _form(app, **fields):
    with app.app_context():
        today = local_today()
    data = {"title": "Registro de obsequios incompleto", "description": "Tres obsequios recibidos sin registrar.",
            "source": "internal_audit", "grade": "minor", "detected_on": today.isoformat(), "detected_by_id": "0",
            "detected_by_name": "Equipo auditor", "audit_id": "0", "site_id": "0", "process_id": "0",
            "root_cause_method": "", "ishikawa_category": ""}
    data.update(fields)
    return data


def _errors(resp):
    return re.findall(r"invalid-feedback[^<]*<[^<]*", resp.get_data(as_text=True))


@pytest.fixture
def people(make_user):
    return {"keeper": make_user("quality_officer", name="Quique Keeper"),
            "compliance": make_user("compliance_officer", name="Carla Compliance"),
            "auditor": make_user("auditor", name="Aurora Auditor")}


def test_a_restricted_document_linked_to_a_nonconformity_stays_hidden_and_linked(app, client, people, tmp_path):
    """Whoever may not see a restricted document reads neither its code nor its title on the nonconformity's
    pages, and editing the nonconformity neither fails on nor drops the link they cannot see."""
    seed_document(app, people["keeper"].id, write(tmp_path / "r.pdf", pdf("r")), code="PR-RES-009",
                  title="Investigación reservada de sobornos", confidentiality="restricted")
    _login(client, people["keeper"])
    resp = client.post_form("/nonconformities/new", _form(app, document_ids="PR-RES-009"), page="/nonconformities/new")
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    nc_id = int(resp.location.rstrip("/").rsplit("/", 1)[1])
    page = f"/nonconformities/{nc_id}"
    assert "Investigación reservada" in client.get(page).get_data(as_text=True)  # its keeper sees it

    for who in ("compliance", "auditor"):
        _login(client, people[who])
        for url in (page, f"{page}/history", f"{page}/history?on={_form(app)['detected_on']}"):
            body = client.get(url).get_data(as_text=True)
            assert "PR-RES-009" not in body and "Investigación reservada" not in body, (who, url)

    _login(client, people["compliance"])
    edit = f"{page}/edit"
    assert "PR-RES-009" not in client.get(edit).get_data(as_text=True)
    resp = client.post_form(edit, _form(app, root_cause="Sin responsable", note="Análisis", document_ids=""), page=edit)
    assert resp.status_code == 302, _errors(resp)
    with app.app_context():
        nc = db.session.get(Nonconformity, nc_id)
        assert [d.code for d in nc.documents] == ["PR-RES-009"] and nc.root_cause == "Sin responsable"


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_the_point_in_time_view_refuses_a_day_out_of_range_with_a_message(app, client, people, day):
    """A day the arithmetic cannot hold (or a typing mistake) answers 400 with a message, never a 500."""
    _login(client, people["keeper"])
    resp = client.post_form("/nonconformities/new", _form(app), page="/nonconformities/new")
    page = resp.location.rstrip("/")
    resp = client.get(f"{page}/history?on={day}")
    assert resp.status_code == 400
    assert "Enter a date between 1990 and 2100." in resp.get_data(as_text=True)


def _queries(app, client, url):
    """How many SQL statements answering the page took."""
    seen = []
    with app.app_context():
        engine = db.engine
    listener = lambda *_args: seen.append(1)  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return len(seen)


def test_the_dashboard_lists_take_as_many_queries_for_many_owners_as_for_few(app, client, people, make_user):
    """The action lists (due soon, overdue, mine, checks owed) load their owners in one go, not one per row."""
    _login(client, people["keeper"])
    with app.app_context():
        today = local_today()

    def more(count):
        for _n in range(count):
            nc_id = raise_nc(app, people["keeper"].id, today=today, detected_on=today)
            add_action(app, people["keeper"].id, nc_id, make_user("compliance_officer").id,
                       due=today + timedelta(days=3), today=today)

    more(2)
    few = _queries(app, client, "/nonconformities/dashboard")
    more(8)
    assert _queries(app, client, "/nonconformities/dashboard") == few


def test_an_action_raised_while_another_request_closes_the_nonconformity_is_refused(app, backend, people):
    """PostgreSQL reads committed rows statement by statement: a step must decide on the nonconformity as it is
    under its lock, not as it was read a moment before another request closed it (a closed NC with a live action)."""
    if backend == "sqlite":
        pytest.skip("SQLite writers hold the whole database from the start of the write: no interleaving to test")
    keeper, closer = people["keeper"].id, people["compliance"].id
    nc_id = raise_nc(app, keeper, grade="observation")
    with app.app_context(), write_transaction():  # this request read the NC open...
        nc = db.session.get(Nonconformity, nc_id)
        assert nc is not None and not nc.is_closed
        # ...while another one closes it on a no-action decision, and commits
        on_nc(app, closer, nc_id, nonconformities.close_nonconformity, today=DAY, note="No requiere acción",
              no_action=True)
        with pytest.raises(ServiceError) as refused:
            actions.add_action(nc, ActionInput("Capacitar", closer, DAY), actor=db.session.get(User, keeper),
                               today=DAY)
        assert refused.value.status == 409
    with app.app_context():
        nc = db.session.get(Nonconformity, nc_id)
        assert nc is not None and nc.is_closed and list(nc.actions) == []
