"""The demo's year of nonconformities: every state, real history dated over the year, a clean verify, no gaps."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from auditdocs.extensions import db
from auditdocs.models import Attachment, AuditEvent, CorrectiveAction, Nonconformity, RecordRevision
from auditdocs.models.records import ACTION_STATUSES, NC_GRADES, NC_SOURCES, NC_STATUSES
from auditdocs.services import revisions
from auditdocs.timeutil import as_utc, local_today, utcnow


def _state(app):  # type: ignore[no-untyped-def]
    with app.app_context():
        ncs = db.session.scalars(select(Nonconformity).order_by(Nonconformity.id)).all()
        actions = db.session.scalars(select(CorrectiveAction)).all()
        out = {
            "ncs": [(n.reference, n.status, n.grade, n.source, n.action_required, n.no_action_decision,
                     n.reopen_reason is not None, n.audit_id is not None, n.site_id, n.detected_on, n.clause_ids,
                     n.document_ids, n.closed_on, as_utc(n.created_at)) for n in ncs],
            "actions": sorted((a.code, a.status, a.owner_id, a.checked_by_id, a.due_date, a.check_due)
                              for a in actions),
            "revisions": db.session.scalar(select(func.count(RecordRevision.id))),
            "attachments": db.session.scalar(select(func.count(Attachment.id)).where(
                Attachment.owner_type.in_(("nonconformity", "corrective_action")))),
        }
        db.session.remove()
    return out


def test_the_demo_tells_a_year_of_nonconformities_in_every_state(app, runner):
    result = runner.invoke(args=["demo-data"])
    assert result.exit_code == 0, result.output
    first = _state(app)
    ncs, actions = first["ncs"], first["actions"]
    assert {n[1] for n in ncs} == set(NC_STATUSES)
    assert {a[1] for a in actions} == set(ACTION_STATUSES)
    assert {n[2] for n in ncs} == set(NC_GRADES)
    assert {n[3] for n in ncs} == set(NC_SOURCES)
    assert any(n[4] for n in ncs), "a check found an action not effective and no new action is raised yet"
    assert any(n[5] and n[1] == "closed" for n in ncs), "an observation closed on a no-action decision"
    assert any(n[6] and n[1] != "closed" for n in ncs), "a closed one reopened with a reason"
    assert any(n[7] and n[3] == "internal_audit" for n in ncs) and any(n[7] and n[3] == "external_audit"
                                                                        for n in ncs)
    assert len({n[8] for n in ncs}) >= 15, "spread over the regional units"
    assert first["attachments"] >= 5

    with app.app_context():
        today = local_today()
        assert min(n[9] for n in ncs) >= today - timedelta(days=366) and max(n[9] for n in ncs) <= today
        overdue = [a for a in actions if a[1] in ("planned", "in_progress") and a[4] < today]
        soon = [a for a in actions if a[1] in ("planned", "in_progress") and today <= a[4] <= today
                + timedelta(days=14)]
        assert len(overdue) >= 3 and len(soon) >= 3
        waiting = [a for a in actions if a[1] == "implemented" and a[5] is not None and a[5] >= today]
        assert waiting, "an implemented action waiting for its scheduled effectiveness check"
        for code, status, owner, checker, _due, _check in actions:
            if status in ("effective", "not_effective"):
                assert checker is not None and checker != owner, code  # segregation of duties
        # references: per year, 1..n without a gap, in the order they were recorded
        by_year: dict[int, list[tuple[int, object]]] = defaultdict(list)
        for n in ncs:
            _prefix, year, number = n[0].split("-")
            by_year[int(year)].append((int(number), n[13]))
        for year, numbers in by_year.items():
            assert sorted(num for num, _d in numbers) == list(range(1, len(numbers) + 1)), year
            assert [d for _n, d in sorted(numbers)] == sorted(d for _n, d in numbers), "numbered as recorded"
        # the history happened over the year: revisions and their audit events carry the day of each step
        oldest = db.session.scalar(select(func.min(RecordRevision.created_at)))
        newest = db.session.scalar(select(func.max(RecordRevision.created_at)))
        assert as_utc(oldest) < utcnow() - timedelta(days=300) and as_utc(newest) <= utcnow()
        assert abs(utcnow() - datetime.now(UTC)) < timedelta(minutes=1), "the clock is back to now after the demo"
        reopened = db.session.scalar(select(Nonconformity).where(Nonconformity.reopen_reason.is_not(None)))
        assert reopened is not None
        steps = [revisions.fields_of(r)["status"] for r in revisions.history("nonconformity", reopened.id)]
        assert "closed" in steps and steps[-1] != "closed"
        closed_on = next(r for r in revisions.history("nonconformity", reopened.id)
                         if revisions.fields_of(r)["status"] == "closed")
        was = revisions.as_of("nonconformity", reopened.id, as_utc(closed_on.created_at) + timedelta(days=1))
        assert was is not None and revisions.fields_of(was)["status"] == "closed", "point in time: it was closed"
        events = db.session.scalar(select(func.count(AuditEvent.seq)).where(
            AuditEvent.action == "record.revise", AuditEvent.object_type == "nonconformity"))
        assert events == db.session.scalar(select(func.count(RecordRevision.id)).where(
            RecordRevision.entity_type == "nonconformity"))
        db.session.remove()

    verify = runner.invoke(args=["verify", "--strict"])
    assert verify.exit_code == 0, verify.output

    assert runner.invoke(args=["demo-data", "--if-empty"]).exit_code == 0
    assert runner.invoke(args=["demo-data", "--force"]).exit_code == 0
    assert _state(app) == first, "running the demo again adds nothing"
