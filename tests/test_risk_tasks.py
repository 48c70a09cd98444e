"""The task source "risks I own whose review date has passed": mine only, past only, not retired, linked to the
risk's page; registered for people who can reassess, never for auditors."""

from __future__ import annotations

from datetime import date, timedelta

from records_support import as_user
from risks_support import approve, new_exercise, new_risk

from auditdocs.extensions import db
from auditdocs.models import BriberyRisk, User
from auditdocs.policy import scope_of
from auditdocs.services import risk_tasks, risks, tasks
from auditdocs.timeutil import local_today


def _tasks(app, user_id: int, today: date, limit: int = 50) -> tasks.TaskBatch:
    with app.app_context():
        batch = risk_tasks.my_reviews(scope_of(db.session.get(User, user_id)), today, limit)
        db.session.remove()
    return batch


def test_my_risks_past_their_review_date_are_my_tasks(app, make_user):
    rosa = make_user("quality_officer", name="Rosa Huamán")
    luis = make_user("compliance_officer", name="Luis Mendoza")
    today = date(2026, 6, 1)
    ex = new_exercise(app, luis.id)
    late = new_risk(app, luis.id, ex, title="Cobro a postulantes", owner_id=rosa.id,
                    next_review=today - timedelta(days=40))
    later = new_risk(app, luis.id, ex, title="Regalos de proveedores", owner_id=rosa.id,
                     next_review=today - timedelta(days=3))
    new_risk(app, luis.id, ex, title="Revisión de hoy", owner_id=rosa.id, next_review=today)  # not passed yet
    new_risk(app, luis.id, ex, title="Sin fecha", owner_id=rosa.id)
    new_risk(app, luis.id, ex, title="De otro", owner_id=luis.id, next_review=today - timedelta(days=90))
    gone = new_risk(app, luis.id, ex, title="Retirado", owner_id=rosa.id, next_review=today - timedelta(days=60))
    as_user(app, luis.id, lambda actor: risks.retire_risk(db.session.get(BriberyRisk, gone), actor=actor,
                                                          reason="Ya no aplica"))

    batch = _tasks(app, rosa.id, today)
    assert [t.title for t in batch.tasks] == ["Cobro a postulantes", "Regalos de proveedores"]  # oldest first
    first = batch.tasks[0]
    assert (first.code, first.endpoint, first.params, first.due) == (
        "BR-0001", "risks.detail", {"risk_id": late}, today - timedelta(days=40))
    assert first.overdue(today) and (batch.total.value, batch.total.capped) == (2, False)
    assert [t.params["risk_id"] for t in _tasks(app, rosa.id, today, limit=1).tasks] == [late]
    assert later in [t.params["risk_id"] for t in batch.tasks]
    assert [t.title for t in _tasks(app, luis.id, today).tasks] == ["De otro"]


def test_the_source_is_offered_to_assessors_not_to_auditors(app, make_user):
    luis = make_user("compliance_officer")
    ana = make_user("auditor")
    with app.app_context():
        assert "risk_reviews" in {s.name for s in tasks.sources_for(scope_of(db.session.get(User, luis.id)))}
        assert "risk_reviews" not in {s.name for s in tasks.sources_for(scope_of(db.session.get(User, ana.id)))}
        db.session.remove()


def test_an_auditor_owner_gets_nothing_unapproved(app, make_user):
    """Even called directly, an approved-only scope lists only risks it may see."""
    luis, carmen, ana = make_user("compliance_officer"), make_user("admin"), make_user("auditor")
    today = date(2026, 6, 1)
    ex = new_exercise(app, luis.id)
    seen = new_risk(app, luis.id, ex, title="Aprobado", owner_id=ana.id, next_review=today - timedelta(days=5))
    new_risk(app, luis.id, ex, title="Pendiente", owner_id=ana.id, next_review=today - timedelta(days=5))
    approve(app, carmen.id, seen)
    assert [t.title for t in _tasks(app, ana.id, today).tasks] == ["Aprobado"]


def test_the_tasks_page_links_to_the_risk_when_its_page_exists(app, client, login_as, make_user):
    rosa = login_as("quality_officer")
    luis = make_user("compliance_officer")
    ex = new_exercise(app, luis.id)
    with app.app_context():
        today = local_today()
    risk_id = new_risk(app, luis.id, ex, title="Cobro a postulantes", owner_id=rosa.id,
                       next_review=today - timedelta(days=4))
    page = client.get("/tasks/").get_data(as_text=True)
    assert "BR-0001" in page and f"/risks/{risk_id}" in page
