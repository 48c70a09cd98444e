"""benchmarks/records_bench.py: its bulk register is one the app can go on from, and the script runs end to end."""

from __future__ import annotations

import importlib.util
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path
from types import ModuleType

import pytest
from sqlalchemy import func, select

from auditdocs.db import write_transaction
from auditdocs.extensions import db
from auditdocs.models import CorrectiveAction, Nonconformity, RecordCounter, User, nonconformity_clauses
from auditdocs.models.records import ACTION_STATUSES, NC_GRADES, NC_STATUSES
from auditdocs.services import nonconformities as ncs
from auditdocs.timeutil import local_today

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "records_bench.py"


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("records_bench", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["records_bench"] = module
    spec.loader.exec_module(module)
    return module


bench = _bench()


def test_the_bulk_register_has_every_state_and_the_app_numbers_on_from_it(app):
    target = bench.Bench(app, "test")
    bench.accounts_and_org(target)
    written = bench.build_records(app, 400, 1200, seed=3)
    assert written["ncs"] == 400 and written["actions"] == 1200
    with app.app_context():
        today = local_today()
        assert db.session.scalar(select(func.count(Nonconformity.id))) == 400
        assert db.session.scalar(select(func.count(CorrectiveAction.id))) == 1200
        assert db.session.scalar(select(func.count()).select_from(nonconformity_clauses)) == written["clause_links"]
        assert set(db.session.scalars(select(Nonconformity.status).distinct())) == set(NC_STATUSES)
        assert set(db.session.scalars(select(Nonconformity.grade).distinct())) == set(NC_GRADES)
        assert set(db.session.scalars(select(CorrectiveAction.status).distinct())) == set(ACTION_STATUSES)
        live = db.session.scalars(select(CorrectiveAction.due_date).where(
            CorrectiveAction.status.in_(("planned", "in_progress")))).all()
        assert any(d < today for d in live) and any(today <= d <= today + timedelta(days=14) for d in live)
        per_year = Counter(db.session.scalars(select(Nonconformity.year)))
        for year, n in per_year.items():
            numbers = sorted(db.session.scalars(select(Nonconformity.number).where(Nonconformity.year == year)))
            assert numbers == list(range(1, n + 1))
            assert db.session.scalar(select(RecordCounter.last).where(
                RecordCounter.kind == "nonconformity", RecordCounter.year == year)) == n
        biggest = db.session.scalar(select(func.max(Nonconformity.id)))
        db.session.remove()

    with app.app_context(), write_transaction():  # the next one raised in the app takes the next number and id
        officer = db.session.scalar(select(User).where(User.email == "quality@bench.example"))
        nc = ncs.create_nonconformity(ncs.NcInput(
            title="Después de la carga", description="Hallazgo nuevo.", source="other", grade="minor",
            detected_on=today, detected_by_name="Prueba"), actor=officer, today=today)
        assert nc.id > biggest and nc.number == per_year.get(today.year, 0) + 1


@pytest.mark.sqlite_only
def test_the_script_runs_end_to_end_on_a_tiny_register(capsys):
    report = bench.main(["--ncs", "50", "--actions", "150", "--requests", "2", "--warmup", "1"])
    part = report["sqlite"]
    assert part["written"]["ncs"] == 50 and part["written"]["actions"] == 150
    timed = {page for page, _role in part["timings"]}
    assert len(timed) + len(part["notes"]) == 3, "every page is timed, or skipped with a note"
    for timing in part["timings"].values():
        assert timing.statements > 0 and timing.app_p95 >= timing.app_p50 > 0
    out = capsys.readouterr().out
    assert "| backend | page | role |" in out and "50 nonconformities" in out
