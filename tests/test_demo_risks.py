"""The demo's bribery-risk assessments, due-diligence files and gifts: believable, complete, clean under verify."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from auditdocs.extensions import db
from auditdocs.models import BriberyRisk, DueDiligence, Gift, RiskExercise, User
from auditdocs.models.risks import DD_DECISIONS, GIFT_DECISIONS, HIGH_RATINGS
from auditdocs.policy import scope_of
from auditdocs.services import revisions, risk_heatmap, risk_matrix, risk_register, risk_tasks, risks
from auditdocs.timeutil import as_utc, local_today, utcnow


def _snapshot(app):  # type: ignore[no-untyped-def]
    with app.app_context():
        out = (
            sorted((r.reference, r.status, r.revision) for r in db.session.scalars(select(BriberyRisk))),
            sorted((d.reference, d.decision) for d in db.session.scalars(select(DueDiligence))),
            sorted((g.reference, g.status) for g in db.session.scalars(select(Gift))),
        )
        db.session.remove()
    return out


def test_the_demo_assesses_two_years_of_bribery_risks_and_keeps_due_diligence_and_gifts(app, runner):
    result = runner.invoke(args=["demo-data"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        today = local_today()
        last, this = sorted(risks.exercises(), key=lambda e: e.year)
        assert (last.status, this.status) == ("closed", "in_progress")
        assert last.name.startswith("Evaluación anual de riesgos de soborno") and this.year == last.year + 1
        rows = list(db.session.scalars(select(BriberyRisk)))
        assert 28 <= len(rows) <= 32
        assert len({r.site_id for r in rows}) >= 15 and len({r.process_id for r in rows}) >= 12
        assert sorted(r.status for r in rows).count("retired") == 1
        assert [r.status for r in rows].count("pending_approval") == 1
        admin = db.session.scalar(select(User).where(User.role == "admin"))
        auditor = db.session.scalar(select(User).where(User.role == "auditor"))
        for risk in rows:
            for rev in revisions.history("bribery_risk", risk.id):
                fields = revisions.fields_of(rev)
                if fields["status"] == "approved":
                    assert fields["approved_by_id"] != fields["assessed_by_id"], risk.reference  # SoD
        assert any(r.controls for r in rows) and any(r.treatments for r in rows)
        staff, outside = scope_of(admin), scope_of(auditor)
        now = risk_register.entries(staff)
        assert sum(e.residual_rating in HIGH_RATINGS for e in now) >= 4
        assert any(e.residual_rating == "critical" for e in now)
        assert sum(e.next_review is not None and e.next_review < today for e in now) >= 3
        matrix = risk_matrix.current_matrix()
        assert matrix is not None
        for which in ("inherent", "residual"):
            grid = risk_heatmap.grid(now, matrix, which)
            assert grid.total == len(now) and sum(1 for row in grid.rows() for c in row if c.count) >= 6
        at_last = risk_register.entries(outside, exercise_id=last.id)
        assert len(at_last) == 24 and risk_heatmap.grid(at_last, risk_matrix.matrix_of(last.matrix_id)).total == 24
        changes = risk_register.changes_between(staff, last.id)
        assert len(changes.changed) >= 2 and changes.added and changes.removed
        assert {c.before.residual_rating for c in changes.changed} != {c.after.residual_rating
                                                                         for c in changes.changed}
        officer = db.session.scalar(select(User).where(User.role == "compliance_officer"))
        assert risk_tasks.my_reviews(scope_of(officer), today, 10).tasks, "the officer owns a risk past its review"
        assert len(risk_register.entries(outside)) == len(now)  # the pending one shows its approved state
        oldest = min(as_utc(r.created_at) for r in db.session.scalars(select(RiskExercise)))
        assert oldest < utcnow() - timedelta(days=360), "the history is dated over two exercises"

        files = list(db.session.scalars(select(DueDiligence)))
        assert {f.decision for f in files} == {*DD_DECISIONS, None}
        assert {f.subject_type for f in files} == {"business_associate", "personnel"}
        entries = list(db.session.scalars(select(Gift)))
        assert {g.decision for g in entries} == set(GIFT_DECISIONS)
        assert {g.direction for g in entries} == {"given", "received"} and {g.currency for g in entries} == {
            "PEN", "USD"}
        assert {g.status for g in entries} == {"recorded", "pending_approval", "approved", "rejected"}
        for gift in entries:
            if gift.status in ("approved", "rejected"):
                assert gift.approver_id != gift.created_by_id
        db.session.remove()

    first = _snapshot(app)
    verify = runner.invoke(args=["verify", "--strict"])
    assert verify.exit_code == 0, verify.output
    assert runner.invoke(args=["demo-data", "--force"]).exit_code == 0
    assert _snapshot(app) == first, "running the demo again adds nothing"
