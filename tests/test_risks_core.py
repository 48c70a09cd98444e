"""Bribery risks through the services: scoring and rating with the default and a custom matrix (an old exercise
keeps its matrix), validation, segregation of duties on approval, what auditors see, revisions and the register at
a past exercise, exercises, verify with risks present, and the database refusing to delete or rewrite."""

from __future__ import annotations

from datetime import timedelta

import pytest
from records_support import as_user
from risks_support import DAY, approve, matrix_4x4, new_exercise, new_risk, reassess, save_matrix
from sqlalchemy import func, select, text

from auditdocs.extensions import db
from auditdocs.models import BriberyRisk, RiskExercise, RiskMatrix, User
from auditdocs.policy import AccessScope
from auditdocs.services import Forbidden, ServiceError, revisions, risk_matrix, risks
from auditdocs.services.programme import InvalidInput
from auditdocs.services.risk_register import changes_between, entries


@pytest.fixture
def people(make_user):
    return {"quality": make_user("quality_officer").id, "compliance": make_user("compliance_officer").id,
            "compliance2": make_user("compliance_officer").id, "admin": make_user("admin").id,
            "auditor": make_user("auditor").id}


def _scope(app, user_id: int) -> AccessScope:
    return AccessScope.of(db.session.get(User, user_id))


def _risk(app, risk_id: int) -> tuple[int, str, int, str, int, str]:
    with app.app_context():
        r = db.session.get(BriberyRisk, risk_id)
        assert r is not None
        return r.inherent_score, r.inherent_rating, r.residual_score, r.residual_rating, r.matrix_id, r.status


def test_the_default_matrix_is_version_1_and_rates_by_its_thresholds(app, people):
    ex = new_exercise(app, people["quality"])
    high = new_risk(app, people["quality"], ex)  # 4x4 = 16, residual 2x3 = 6
    critical = new_risk(app, people["quality"], ex, inherent_likelihood=5, inherent_impact=4, residual_likelihood=1,
                        residual_impact=4)
    with app.app_context():
        matrix = db.session.scalar(select(RiskMatrix))
        assert (matrix.version, matrix.likelihood_levels, matrix.impact_levels) == (1, 5, 5)
        assert db.session.get(RiskExercise, ex).matrix_id == matrix.id
        ratings = {s: risk_matrix.rating_of(matrix, s) for s in (1, 4, 5, 9, 10, 16, 17, 25)}
        assert ratings == {1: "low", 4: "low", 5: "medium", 9: "medium", 10: "high", 16: "high", 17: "critical",
                           25: "critical"}
        assert risk_matrix.label(matrix, "critical", "es") == "Crítico"
        matrix_id = matrix.id
    assert _risk(app, high) == (16, "high", 6, "medium", matrix_id, "pending_approval")
    assert _risk(app, critical) == (20, "critical", 4, "low", matrix_id, "pending_approval")
    with app.app_context():
        assert [r.reference for r in db.session.scalars(select(BriberyRisk).order_by(BriberyRisk.id))] == [
            "BR-0001", "BR-0002"]


def test_a_custom_matrix_rates_new_exercises_and_an_old_exercise_keeps_its_matrix(app, people):
    old_ex = new_exercise(app, people["quality"])
    old = new_risk(app, people["quality"], old_ex, inherent_likelihood=2, inherent_impact=4)  # 8: medium on 5x5
    approve(app, people["compliance"], old)
    custom = save_matrix(app, people["admin"], matrix_4x4())
    new_ex = new_exercise(app, people["quality"], name="Evaluación 2027", year=2027)
    with app.app_context():
        assert db.session.get(RiskExercise, new_ex).matrix_id == custom
        assert db.session.get(RiskExercise, old_ex).matrix_id != custom
        assert db.session.scalar(select(func.count()).select_from(RiskMatrix)) == 2
    fresh = new_risk(app, people["quality"], new_ex, inherent_likelihood=2, inherent_impact=4, residual_likelihood=1,
                     residual_impact=3)
    assert _risk(app, fresh)[:4] == (8, "high", 3, "medium")  # 4x4: high from 7, medium from 3
    # Level 5 does not exist on the 4x4 matrix, but still does in the old exercise.
    with pytest.raises(InvalidInput) as bad:
        new_risk(app, people["quality"], new_ex, inherent_likelihood=5)
    assert set(bad.value.errors) == {"inherent_likelihood"}
    same = new_risk(app, people["quality"], old_ex, inherent_likelihood=2, inherent_impact=4)
    assert _risk(app, same)[:2] == (8, "medium")
    # Reassessed in the new exercise: the new revision is scored on 4x4, the approved one keeps its 5x5 rating.
    reassess(app, people["quality"], old, new_ex, inherent_likelihood=2, inherent_impact=4)
    assert _risk(app, old)[:2] == (8, "high")
    with app.app_context():
        first, _approved, latest = revisions.history("bribery_risk", old)
        assert [revisions.fields_of(r)["inherent_rating"] for r in (first, latest)] == ["medium", "high"]
        assert revisions.fields_of(latest)["matrix_id"] == custom
    with app.app_context():  # auditors keep seeing the approved 5x5 state while the reassessment waits
        assert [e.inherent_rating for e in entries(_scope(app, people["auditor"]))] == ["medium"]


def test_only_administrators_change_the_matrix_and_bad_matrices_are_refused(app, people):
    with pytest.raises(Forbidden):
        save_matrix(app, people["compliance"], matrix_4x4())
    with pytest.raises(InvalidInput) as bad:
        save_matrix(app, people["admin"], matrix_4x4(
            likelihood_levels=11, thresholds={"medium": 6, "high": 6, "critical": 40},
            labels={"low": {"es": "Bajo"}}, colours={"low": "red"}))
    assert set(bad.value.errors) == {"likelihood_levels", "thresholds", "labels", "colours", "likelihood_labels"}
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(RiskMatrix)) == 0


def test_bad_values_are_reported_per_field_and_nothing_is_written(app, people):
    ex = new_exercise(app, people["quality"])
    with pytest.raises(InvalidInput) as bad:
        new_risk(app, people["quality"], ex, title=" ", scenario="", associate_category="friend",
                 residual_impact=0, control_effectiveness="great", site_id=999999, treatment_action_ids=[999999])
    assert set(bad.value.errors) == {"title", "scenario", "associate_category", "residual_impact",
                                     "control_effectiveness", "site_id", "treatment_action_ids"}
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(BriberyRisk)) == 0


def test_segregation_of_duties_on_approval(app, people):
    ex = new_exercise(app, people["compliance"])
    risk = new_risk(app, people["compliance"], ex)
    with pytest.raises(Forbidden) as own:
        approve(app, people["compliance"], risk)
    assert own.value.status == 403 and "Segregation of duties" in str(own.value.message)
    with pytest.raises(Forbidden):  # quality officers assess but do not approve
        approve(app, people["quality"], risk)
    approve(app, people["compliance2"], risk, note="Revisado con la gerencia")
    with app.app_context():
        row = db.session.get(BriberyRisk, risk)
        assert (row.status, row.approved_by_id, row.approved_on, row.approved_revision, row.revision) == (
            "approved", people["compliance2"], DAY, 2, 2)
        assert revisions.latest("bribery_risk", risk).change_note == "Revisado con la gerencia"
    with pytest.raises(ServiceError) as twice:
        approve(app, people["admin"], risk)
    assert twice.value.status == 409
    # The approver reassesses: now the original assessor may approve, the approver may not.
    reassess(app, people["compliance2"], risk, ex, residual_likelihood=1)
    with pytest.raises(Forbidden):
        approve(app, people["compliance2"], risk)
    approve(app, people["compliance"], risk)


def test_auditors_read_approved_risks_only_and_never_write(app, people):
    ex = new_exercise(app, people["quality"])
    risk = new_risk(app, people["quality"], ex)
    with app.app_context():
        auditor = _scope(app, people["auditor"])
        with pytest.raises(ServiceError) as hidden:
            risks.get_risk(auditor, risk)
        assert hidden.value.status == 404
        assert risks.get_risk(_scope(app, people["quality"]), risk).id == risk
    with pytest.raises(Forbidden):
        new_risk(app, people["auditor"], ex)
    with pytest.raises(Forbidden):
        new_exercise(app, people["auditor"])
    with pytest.raises(Forbidden):
        approve(app, people["auditor"], risk)
    approve(app, people["compliance"], risk)
    with app.app_context():
        assert risks.get_risk(_scope(app, people["auditor"]), risk).id == risk


def test_exercises_are_numbered_and_a_closed_one_takes_no_assessment(app, people):
    first = new_exercise(app, people["quality"])
    second = new_exercise(app, people["quality"], name="Evaluación extraordinaria", starts_on=DAY,
                          ends_on=DAY + timedelta(days=30))
    named = new_exercise(app, people["quality"], name="Ciclo 2026-B", reference="EV-ANTISOBORNO-B")
    with pytest.raises(InvalidInput) as dup:
        new_exercise(app, people["quality"], reference="EV-ANTISOBORNO-B", starts_on=DAY,
                     ends_on=DAY - timedelta(days=1))
    assert set(dup.value.errors) == {"reference", "ends_on"}
    with app.app_context():
        assert [db.session.get(RiskExercise, i).reference for i in (first, second, named)] == [
            "RA-2026-01", "RA-2026-02", "EV-ANTISOBORNO-B"]
    risk = new_risk(app, people["quality"], first)
    with app.app_context():
        assert db.session.get(RiskExercise, first).status == "in_progress"  # the first assessment started it
    as_user(app, people["quality"], lambda actor: risks.close_exercise(
        db.session.get(RiskExercise, first), actor=actor, note="Informe aprobado"))
    for step in (lambda: new_risk(app, people["quality"], first),
                 lambda: reassess(app, people["quality"], risk, first)):
        with pytest.raises(ServiceError) as closed:
            step()
        assert closed.value.status == 409
    with app.app_context():
        assert [revisions.fields_of(r)["status"] for r in revisions.history("risk_exercise", first)] == [
            "planned", "in_progress", "closed"]


def test_retiring_needs_a_reason_and_keeps_the_history(app, people):
    ex = new_exercise(app, people["quality"])
    risk = new_risk(app, people["quality"], ex)
    approve(app, people["compliance"], risk)
    retire = lambda reason: as_user(app, people["quality"], lambda actor: risks.retire_risk(  # noqa: E731
        db.session.get(BriberyRisk, risk), actor=actor, reason=reason))
    with pytest.raises(InvalidInput):
        retire("  ")
    retire("El proceso de licencias se tercerizó")
    with pytest.raises(ServiceError) as again:
        retire("otra vez")
    assert again.value.status == 409
    with pytest.raises(ServiceError):
        reassess(app, people["quality"], risk, ex)
    with app.app_context():
        assert [revisions.fields_of(r)["status"] for r in revisions.history("bribery_risk", risk)] == [
            "pending_approval", "approved", "retired"]
        assert entries(_scope(app, people["quality"])) == []


def test_verify_is_clean_with_risks_and_finds_a_row_changed_by_hand(app, people, runner):
    ex = new_exercise(app, people["quality"])
    risk = new_risk(app, people["quality"], ex)
    approve(app, people["compliance"], risk)
    result = runner.invoke(args=["verify"])
    assert result.exit_code == 0, result.output
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(text("UPDATE bribery_risks SET residual_rating = 'low' WHERE id = :id"), {"id": risk})
    result = runner.invoke(args=["verify"])
    assert result.exit_code == 1
    assert f"bribery_risk {risk}: residual_rating is 'low' in the row but 'medium' in revision 2" in result.output


@pytest.mark.parametrize("table", ["bribery_risks", "risk_exercises", "risk_matrices"])
def test_the_database_refuses_deleting_risks_and_rewriting_the_matrix(app, people, table):
    ex = new_exercise(app, people["quality"])
    new_risk(app, people["quality"], ex)
    with app.app_context(), pytest.raises(Exception, match=r"kept for ever|append-only"), db.engine.begin() as conn:
        conn.execute(text(f"DELETE FROM {table}"))  # noqa: S608 - a name from the parameter list
    with app.app_context(), pytest.raises(Exception, match="append-only"), db.engine.begin() as conn:
        conn.execute(text("UPDATE risk_matrices SET thresholds = '{}'"))
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(BriberyRisk)) == 1


def test_the_matrix_change_is_in_the_audit_trail(app, people):
    save_matrix(app, people["admin"], matrix_4x4())
    with app.app_context():
        assert risk_matrix.current_matrix().version == 1  # type: ignore[union-attr]
    save_matrix(app, people["admin"], matrix_4x4(thresholds={"medium": 4, "high": 8, "critical": 13}))
    with app.app_context():
        current = risk_matrix.current_matrix()
        assert current is not None and (current.version, current.threshold_map()) == (
            2, {"medium": 4, "high": 8, "critical": 13})
        actions = db.session.execute(text("SELECT action, object_id FROM audit_events "
                                          "WHERE action = 'risk_matrix.save' ORDER BY seq")).all()
        assert [tuple(a) for a in actions] == [("risk_matrix.save", "v1"), ("risk_matrix.save", "v2")]


def test_register_at_a_past_exercise_and_what_changed_since(app, people):
    q, c = people["quality"], people["compliance"]
    ex1 = new_exercise(app, q)
    a = new_risk(app, q, ex1, title="A")
    b = new_risk(app, q, ex1, title="B")
    gone = new_risk(app, q, ex1, title="C")
    for risk in (a, b, gone):
        approve(app, c, risk)
    ex2 = new_exercise(app, q, name="Evaluación 2027", year=2027)
    reassess(app, q, a, ex2, title="A", residual_likelihood=4, residual_impact=4)  # medium -> high
    approve(app, c, a)
    reassess(app, q, b, ex2, title="B", residual_likelihood=5, residual_impact=5)  # pending, never approved
    as_user(app, q, lambda actor: risks.retire_risk(db.session.get(BriberyRisk, gone), actor=actor, reason="Ya no"))
    d = new_risk(app, q, ex2, title="D")
    approve(app, c, d)
    with app.app_context():
        staff, auditor = _scope(app, q), _scope(app, people["auditor"])
        at1 = {e.title: e.residual_rating for e in entries(auditor, ex1)}
        assert at1 == {"A": "medium", "B": "medium", "C": "medium"}
        assert {e.title: e.residual_rating for e in entries(staff, ex2)} == {"A": "high", "D": "medium"}
        assert {e.title: e.residual_rating for e in entries(staff)} == {"A": "high", "B": "critical", "D": "medium"}
        assert {e.title: e.residual_rating for e in entries(auditor)} == {"A": "high", "B": "medium", "D": "medium"}
        between = changes_between(auditor, ex1, ex2)
        assert ([e.title for e in between.added], sorted(e.title for e in between.removed)) == (["D"], ["B", "C"])
        assert [(ch.before.residual_rating, ch.after.residual_rating) for ch in between.changed] == [("medium", "high")]
        since = changes_between(auditor, ex1)
        assert ([e.title for e in since.added], [e.title for e in since.removed]) == (["D"], ["C"])
        assert [ch.after.title for ch in since.changed] == ["A"]
        statuses = [revisions.fields_of(r)["status"] for r in revisions.history("bribery_risk", a)]
        assert statuses == ["pending_approval", "approved", "pending_approval", "approved"]
