"""Corrective actions through the services: the workflow to verified closure, segregation of duties on the
effectiveness check, not effective reopening the nonconformity, cancelling with a reason, and the tasks they make."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from records_support import DAY, act, add_action, as_user, implemented, on_nc, raise_nc, state
from support import pdf, write

from auditdocs.extensions import db
from auditdocs.models import CorrectiveAction, Nonconformity, User
from auditdocs.policy import AccessScope
from auditdocs.services import Forbidden, ServiceError, actions, revisions, tasks
from auditdocs.services.actions import ActionInput
from auditdocs.services.attachments import attach, attachments_of
from auditdocs.services.nc_offers import ActionOffers, NcOffers, nc_offers
from auditdocs.services.nonconformities import close_nonconformity
from auditdocs.services.programme import InvalidInput
from auditdocs.services.uploads import Incoming, ingest

LATER = DAY + timedelta(days=20)


@pytest.fixture
def people(make_user):
    """A quality officer who records and checks, a compliance officer who owns actions, an admin, an auditor."""
    return {"quality": make_user("quality_officer").id, "owner": make_user("compliance_officer").id,
            "compliance": make_user("compliance_officer").id, "admin": make_user("admin").id,
            "auditor": make_user("auditor").id}


def _checked(app, people, action_id, effective=True, checker="quality"):
    act(app, people[checker], action_id, actions.record_check, today=LATER, effective=effective,
        evidence="Muestreo de 20 registros: todos completos" if effective else "Dos registros aún incompletos")


def test_an_action_runs_to_verified_closure(app, people):
    nc = raise_nc(app, people["quality"])
    assert state(app, nc) == ("open", False, [])
    action = add_action(app, people["quality"], nc, people["owner"])
    assert state(app, nc) == ("in_progress", False, ["planned"])
    act(app, people["owner"], action, actions.start_action, today=DAY)
    act(app, people["owner"], action, actions.implement_action, today=DAY + timedelta(days=5),
        evidence="Capacitación dictada el 7 de marzo")
    act(app, people["quality"], action, actions.schedule_check, due=LATER, checker_id=None)
    assert state(app, nc) == ("in_progress", False, ["implemented"])
    _checked(app, people, action)
    assert state(app, nc) == ("open", False, ["effective"])
    on_nc(app, people["compliance"], nc, close_nonconformity, today=LATER, note="Eficaz")
    assert state(app, nc)[0] == "closed"
    with app.app_context():
        item = db.session.get(CorrectiveAction, action)
        assert (item.started_on, item.implemented_on, item.check_due, item.checked_on) == (
            DAY, DAY + timedelta(days=5), LATER, LATER)
        assert item.checked_by_id == people["quality"] and item.code == "NC-2026-0001 / A1"
        steps = [revisions.fields_of(r)["status"] for r in revisions.history("corrective_action", action)]
        assert steps == ["planned", "in_progress", "implemented", "implemented", "effective"]
        nc_row = db.session.get(Nonconformity, nc)
        assert (nc_row.closed_on, nc_row.closed_by_id) == (LATER, people["compliance"])


@pytest.mark.parametrize("reached", ["planned", "in_progress", "implemented"])
def test_close_is_blocked_while_an_action_is_open(app, people, reached):
    nc = raise_nc(app, people["quality"])
    done, pending = add_action(app, people["quality"], nc, people["owner"]), \
        add_action(app, people["quality"], nc, people["owner"])
    implemented(app, people["owner"], done)
    _checked(app, people, done)
    if reached != "planned":
        act(app, people["owner"], pending, actions.start_action, today=DAY)
    if reached == "implemented":
        act(app, people["owner"], pending, actions.implement_action, today=DAY, evidence="Hecho")
    with pytest.raises(ServiceError) as refused:
        on_nc(app, people["compliance"], nc, close_nonconformity, today=LATER, note=None)
    assert refused.value.status == 409
    assert "A2" in str(refused.value.message)
    assert state(app, nc)[0] == "in_progress"


def test_close_needs_at_least_one_effective_action(app, people):
    nc = raise_nc(app, people["quality"])
    action = add_action(app, people["quality"], nc, people["owner"])
    act(app, people["compliance"], action, actions.cancel_action, reason="Duplicada con la acción de la NC-2026-0002")
    assert state(app, nc) == ("open", False, ["cancelled"])
    with pytest.raises(ServiceError) as refused:
        on_nc(app, people["quality"], nc, close_nonconformity, today=LATER, note=None)
    assert refused.value.status == 409


def test_the_owner_never_checks_their_own_action(app, people, make_user):
    nc = raise_nc(app, people["quality"])
    own = add_action(app, people["quality"], nc, people["quality"])  # the quality officer owns this one
    implemented(app, people["quality"], own)
    with pytest.raises(Forbidden, match="Segregation of duties"):
        _checked(app, people, own, checker="quality")
    with pytest.raises(InvalidInput) as invalid:  # nor may they be named its checker
        act(app, people["compliance"], own, actions.schedule_check, due=LATER, checker_id=people["quality"])
    assert set(invalid.value.errors) == {"checker_id"}
    named = make_user("quality_officer").id
    act(app, people["compliance"], own, actions.schedule_check, due=LATER, checker_id=named)
    with pytest.raises(Forbidden, match="assigned to someone else"):
        _checked(app, people, own, checker="compliance")
    with pytest.raises(Forbidden):  # an auditor reads, never writes
        _checked(app, people, own, checker="auditor")
    act(app, named, own, actions.record_check, today=LATER, effective=True, evidence="Verificado en campo")
    assert state(app, nc)[2] == ["effective"]


def test_not_effective_reopens_until_a_new_action_is_raised(app, people):
    nc = raise_nc(app, people["quality"], grade="major")
    first = add_action(app, people["quality"], nc, people["owner"])
    implemented(app, people["owner"], first)
    _checked(app, people, first, effective=False)
    assert state(app, nc) == ("open", True, ["not_effective"])
    with pytest.raises(ServiceError, match="raise a new action") as refused:
        on_nc(app, people["compliance"], nc, close_nonconformity, today=LATER, note=None)
    assert refused.value.status == 409
    with pytest.raises(ServiceError) as final:  # both results are final
        _checked(app, people, first, effective=True)
    assert final.value.status == 409
    second = add_action(app, people["quality"], nc, people["owner"], today=LATER, due=LATER + timedelta(days=30))
    assert state(app, nc) == ("in_progress", False, ["not_effective", "planned"])
    implemented(app, people["owner"], second, today=LATER)
    _checked(app, people, second)
    on_nc(app, people["compliance"], nc, close_nonconformity, today=LATER, note="Segunda acción eficaz")
    assert state(app, nc) == ("closed", False, ["not_effective", "effective"])


def test_a_cancelled_replacement_does_not_answer_a_failed_action(app, people):
    nc = raise_nc(app, people["quality"])
    done = add_action(app, people["quality"], nc, people["owner"])
    implemented(app, people["owner"], done)
    _checked(app, people, done)
    failed = add_action(app, people["quality"], nc, people["owner"])
    implemented(app, people["owner"], failed)
    _checked(app, people, failed, effective=False)
    replacement = add_action(app, people["quality"], nc, people["owner"])
    assert state(app, nc) == ("in_progress", False, ["effective", "not_effective", "planned"])
    act(app, people["quality"], replacement, actions.cancel_action, reason="Se replanteará")
    assert state(app, nc) == ("open", True, ["effective", "not_effective", "cancelled"])
    with pytest.raises(ServiceError, match="raise a new action"):
        on_nc(app, people["compliance"], nc, close_nonconformity, today=LATER, note=None)


def test_cancel_needs_a_reason_and_compliance_or_quality_staff(app, people):
    nc = raise_nc(app, people["quality"])
    action = add_action(app, people["quality"], nc, people["owner"])
    for role in ("admin", "auditor"):
        with pytest.raises(Forbidden):
            act(app, people[role], action, actions.cancel_action, reason="No aplica")
    with pytest.raises(InvalidInput) as invalid:
        act(app, people["quality"], action, actions.cancel_action, reason="   ")
    assert set(invalid.value.errors) == {"cancel_reason"}
    assert state(app, nc)[2] == ["planned"]
    act(app, people["quality"], action, actions.cancel_action, reason="Sustituida por una acción más amplia")
    with app.app_context():
        latest = revisions.latest("corrective_action", action)
        assert latest is not None and latest.change_note == "Sustituida por una acción más amplia"
        assert latest.author_id == people["quality"]
    with pytest.raises(ServiceError) as again:
        act(app, people["quality"], action, actions.cancel_action, reason="Otra vez")
    assert again.value.status == 409


def test_steps_out_of_order_are_refused_and_leave_nothing(app, people):
    nc = raise_nc(app, people["quality"])
    action = add_action(app, people["quality"], nc, people["owner"])
    with app.app_context():
        before = len(revisions.history("corrective_action", action))
    for step, kwargs in ((actions.schedule_check, {"due": LATER, "checker_id": None}),
                         (actions.record_check, {"today": LATER, "effective": True, "evidence": "x"})):
        with pytest.raises(ServiceError) as refused:
            act(app, people["quality"], action, step, **kwargs)
        assert refused.value.status == 409
    with pytest.raises(InvalidInput) as invalid:
        act(app, people["owner"], action, actions.implement_action, today=DAY, evidence="")
    assert set(invalid.value.errors) == {"completion_note"}
    act(app, people["owner"], action, actions.start_action, today=DAY)
    with pytest.raises(ServiceError):
        act(app, people["owner"], action, actions.start_action, today=DAY)
    with app.app_context():
        assert len(revisions.history("corrective_action", action)) == before + 1


def test_an_action_needs_a_staff_owner_and_a_due_date_not_past(app, people):
    nc = raise_nc(app, people["quality"])
    with pytest.raises(InvalidInput) as invalid:
        add_action(app, people["quality"], nc, people["auditor"], due=DAY - timedelta(days=1))
    assert set(invalid.value.errors) == {"owner_id", "due_date"}
    with pytest.raises(Forbidden):
        add_action(app, people["auditor"], nc, people["owner"])
    assert state(app, nc) == ("open", False, [])


def test_the_owner_updates_their_action_an_auditor_cannot(app, people):
    nc = raise_nc(app, people["quality"])
    action = add_action(app, people["quality"], nc, people["owner"])
    change = ActionInput("Capacitar y supervisar", people["owner"], date(2026, 5, 15))
    assert as_user(app, people["owner"], lambda actor: actions.update_action(
        db.session.get(CorrectiveAction, action), change, actor=actor, today=DAY)) is True
    with pytest.raises(Forbidden):
        as_user(app, people["auditor"], lambda actor: actions.update_action(
            db.session.get(CorrectiveAction, action), change, actor=actor, today=DAY))


def _attach(app, user_id: int, action_id: int, path: Path) -> None:
    with app.app_context():
        ingest(Incoming.from_path(path, "Asistencia.pdf"), lambda checked: attach(
            db.session.get(CorrectiveAction, action_id), checked, actor=db.session.get(User, user_id)))


def test_evidence_is_attached_to_an_action_with_the_upload_checks(app, people, tmp_path: Path):
    nc = raise_nc(app, people["quality"])
    action = add_action(app, people["quality"], nc, people["owner"])
    _attach(app, people["owner"], action, write(tmp_path / "asistencia.pdf", pdf("asistencia")))
    with app.app_context():
        found = attachments_of(db.session.get(CorrectiveAction, action))
        assert [(a.owner_type, a.original_filename) for a in found] == [("corrective_action", "Asistencia.pdf")]
    with pytest.raises(Forbidden):
        _attach(app, people["auditor"], action, tmp_path / "asistencia.pdf")
    with pytest.raises(ServiceError):  # the same upload validation as documents: a disguised program is refused
        _attach(app, people["owner"], action, write(tmp_path / "acta.pdf", b"MZ\x90\x00"))
    with app.app_context():
        assert len(attachments_of(db.session.get(CorrectiveAction, action))) == 1


def _listed(app, user_id: int, kind: str) -> list[str]:
    with app.app_context():
        return [t.code for t in tasks.my_tasks(AccessScope.of(db.session.get(User, user_id)), DAY).tasks
                if t.kind == kind]


def test_my_actions_and_the_checks_i_owe_are_tasks(app, people):
    nc = raise_nc(app, people["quality"])
    add_action(app, people["quality"], nc, people["owner"], due=DAY + timedelta(days=3))
    waiting = add_action(app, people["quality"], nc, people["owner"])
    implemented(app, people["owner"], waiting)
    assert _listed(app, people["owner"], "action") == ["NC-2026-0001 / A1"]
    assert _listed(app, people["owner"], "effectiveness") == []  # never their own check
    assert _listed(app, people["quality"], "effectiveness") == ["NC-2026-0001 / A2"]
    assert _listed(app, people["auditor"], "effectiveness") == []
    act(app, people["quality"], waiting, actions.schedule_check, due=LATER, checker_id=people["compliance"])
    assert _listed(app, people["quality"], "effectiveness") == []
    assert _listed(app, people["compliance"], "effectiveness") == ["NC-2026-0001 / A2"]
    with app.app_context():
        task = tasks.my_tasks(AccessScope.of(db.session.get(User, people["compliance"])), DAY).tasks[0]
        assert (task.endpoint, task.params["nc_id"], task.due) == ("nonconformities.detail", nc, LATER)


def _offers(app, user_id: int, nc_id: int) -> NcOffers:
    with app.app_context():
        return nc_offers(AccessScope.of(db.session.get(User, user_id)), db.session.get(Nonconformity, nc_id))


def test_the_page_offers_only_what_the_services_accept(app, people):
    nc = raise_nc(app, people["quality"])
    action = add_action(app, people["quality"], nc, people["owner"])
    assert _offers(app, people["auditor"], nc) == NcOffers(actions={action: ActionOffers()})
    owner = _offers(app, people["owner"], nc)
    assert (owner.edit, owner.close, owner.reopen) == (True, False, False)
    assert owner.actions[action] == ActionOffers(edit=True, start=True, implement=True, cancel=True)
    implemented(app, people["owner"], action)
    assert _offers(app, people["owner"], nc).actions[action] == ActionOffers(schedule_check=True, cancel=True)
    assert _offers(app, people["quality"], nc).actions[action].record_check is True
    assert _offers(app, people["admin"], nc).actions[action] == ActionOffers(schedule_check=True, record_check=True)
    _checked(app, people, action)
    quality = _offers(app, people["quality"], nc)
    assert (quality.close, quality.close_without_action, _offers(app, people["admin"], nc).close) == (
        True, False, False)
    on_nc(app, people["quality"], nc, close_nonconformity, today=LATER, note=None)
    closed = _offers(app, people["quality"], nc)
    assert (closed.edit, closed.add_action, closed.close, closed.reopen) == (False, False, False, True)
    assert closed.actions[action] == ActionOffers()
