"""Heat maps counted against the database, the trend across exercises, review flags and the site counter of high
and critical residual risks."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from typing import Any

import pytest
from records_support import add_action, as_user, raise_nc
from risks_support import DAY, approve, matrix_4x4, new_exercise, new_risk, reassess, save_matrix
from sqlalchemy import text
from support import seed_document, write

from auditdocs.db import write_transaction
from auditdocs.extensions import db
from auditdocs.models import BriberyRisk, Document, User
from auditdocs.policy import AccessScope
from auditdocs.services import documents, org, risk_flags, risk_heatmap, risk_matrix, risks, site_signals
from auditdocs.services.risk_register import entries

# (inherent likelihood, inherent impact, residual likelihood, residual impact, site key)
LEVELS = [(5, 5, 4, 4, "cusco"), (5, 5, 3, 4, "cusco"), (4, 4, 2, 2, "puno"), (4, 4, 2, 2, "puno"),
          (1, 2, 1, 1, "cusco"), (3, 5, 3, 5, None), (2, 3, 1, 3, "puno"), (5, 4, 5, 4, "cusco")]


@pytest.fixture
def people(make_user):
    return {"quality": make_user("quality_officer").id, "compliance": make_user("compliance_officer").id,
            "admin": make_user("admin").id, "auditor": make_user("auditor").id}


@pytest.fixture
def register(app, people) -> dict[str, Any]:
    """Two sites and eight approved risks in one exercise, plus one retired and one waiting for approval."""
    with app.app_context(), write_transaction():
        head = org.create_site(org.SiteData(code="SEDE", name_es="Sede Central"))
        cusco = org.create_site(org.SiteData(code="UT-CUSCO", name_es="UT Cusco", parent_id=head.id))
        puno = org.create_site(org.SiteData(code="UT-PUNO", name_es="UT Puno", parent_id=head.id))
        sites = {"cusco": cusco.id, "puno": puno.id, None: None}
    q, c = people["quality"], people["compliance"]
    ex = new_exercise(app, q)
    ids = []
    for n, (il, ii, rl, ri, site) in enumerate(LEVELS):
        risk = new_risk(app, q, ex, title=f"Riesgo {n}", inherent_likelihood=il, inherent_impact=ii,
                        residual_likelihood=rl, residual_impact=ri, site_id=sites[site])
        approve(app, c, risk)
        ids.append(risk)
    retired = new_risk(app, q, ex, title="Retirado", inherent_likelihood=5, inherent_impact=5, residual_likelihood=5,
                       residual_impact=5, site_id=sites["cusco"])
    approve(app, c, retired)
    as_user(app, q, lambda actor: risks.retire_risk(db.session.get(BriberyRisk, retired), actor=actor,
                                                    reason="Proceso cerrado"))
    pending = new_risk(app, q, ex, title="Pendiente", inherent_likelihood=5, inherent_impact=5,
                       residual_likelihood=5, residual_impact=5, site_id=sites["puno"])
    return {"exercise": ex, "risks": ids, "retired": retired, "pending": pending, **{f"site_{k}": v
                                                                                   for k, v in sites.items() if k}}


def _sql_cells(app, which: str, site_id: int | None = None) -> Counter[tuple[int, int]]:
    """Risks per cell, counted by the database on its own (current rows, not retired)."""
    sql = (f"SELECT {which}_likelihood, {which}_impact, count(*) FROM bribery_risks "  # noqa: S608 - fixed names
           "WHERE status <> 'retired'" + (" AND site_id = :site" if site_id else "") +
           f" GROUP BY {which}_likelihood, {which}_impact")
    with app.app_context():
        rows = db.session.execute(text(sql), {"site": site_id}).all()
    return Counter({(lk, im): n for lk, im, n in rows})


@pytest.mark.parametrize("which", ["inherent", "residual"])
def test_heat_map_cells_count_what_the_database_counts(app, people, register, which):
    for site_id in (None, register["site_cusco"], register["site_puno"]):
        with app.app_context():
            scope = AccessScope.of(db.session.get(User, people["quality"]))
            matrix = risk_matrix.current_matrix()
            assert matrix is not None
            heat = risk_heatmap.grid(entries(scope, site_id=site_id), matrix, which)
            found = Counter({(c.likelihood, c.impact): c.count for row in heat.rows() for c in row if c.count})
            ids_in_cells = {i for row in heat.rows() for c in row for i in c.risk_ids}
            cell = heat.cell(5, 5)
            assert (cell.score, cell.rating) == (25, "critical")
            assert heat.cell(1, 1).rating == "low" and len(heat.rows()) == 5 and heat.rows()[0][0].likelihood == 5
        assert found == _sql_cells(app, which, site_id)
        assert register["retired"] not in ids_in_cells
        assert heat.total == sum(found.values())


def test_auditors_map_shows_approved_states_only(app, people, register):
    with app.app_context():
        auditor = AccessScope.of(db.session.get(User, people["auditor"]))
        matrix = risk_matrix.current_matrix()
        assert matrix is not None
        heat = risk_heatmap.grid(entries(auditor), matrix, "residual")
    assert heat.total == len(LEVELS) and register["pending"] not in {i for r in heat.rows() for c in r
                                                                    for i in c.risk_ids}
    counted = Counter((rl, ri) for _il, _ii, rl, ri, _s in LEVELS)
    assert {(c.likelihood, c.impact): c.count for r in heat.rows() for c in r if c.count} == dict(counted)


def test_a_smaller_matrix_leaves_larger_levels_outside_the_grid(app, people, register):
    custom = save_matrix(app, people["admin"], matrix_4x4())
    with app.app_context():
        scope = AccessScope.of(db.session.get(User, people["quality"]))
        heat = risk_heatmap.grid(entries(scope, register["exercise"]), risk_matrix.matrix_of(custom), "inherent")
    assert (heat.likelihood_levels, heat.impact_levels) == (4, 4)
    assert len(heat.outside) == sum(1 for il, ii, *_ in LEVELS if il > 4 or ii > 4) + 1  # + the retired 5x5
    with app.app_context(), pytest.raises(ValueError, match="which must be one of"):
        risk_heatmap.grid([], risk_matrix.matrix_of(custom), "gross")


def test_trend_counts_high_and_critical_residual_risks_per_exercise(app, people, register):
    q, c = people["quality"], people["compliance"]
    later = new_exercise(app, q, name="Evaluación 2027", year=2027)
    first = register["risks"][0]  # residual 4x4 = 16 high
    reassess(app, q, first, later, residual_likelihood=5, residual_impact=4)  # 20: critical
    approve(app, c, first)
    reassess(app, q, register["risks"][2], later, residual_likelihood=1, residual_impact=1)  # pending: not counted
    with app.app_context():
        points = risk_heatmap.trend(AccessScope.of(db.session.get(User, people["auditor"])))
    residual = Counter(rl * ri for _il, _ii, rl, ri, _s in LEVELS)
    high = sum(n for score, n in residual.items() if 10 <= score <= 16)
    critical = sum(n for score, n in residual.items() if score >= 17) + 1  # the retired one stood approved at 25
    assert [(p.exercise_id, p.high, p.critical, p.total) for p in points] == [
        (register["exercise"], high, critical, len(LEVELS) + 1), (later, 0, 1, 1)]


def test_high_residual_risks_are_a_site_signal(app, people, register):
    with app.app_context():
        assert site_signals.tracked(site_signals.HIGH_RESIDUAL_RISKS)
        found = site_signals.signals([register["site_cusco"], register["site_puno"]], DAY)
        counts = {k: v.high_residual_risks for k, v in found.items()}
    # Cusco: 16 high, 12 high, 20 critical (the retired one is not counted); Puno: none (the pending one waits).
    assert counts == {register["site_cusco"]: 3, register["site_puno"]: 0}
    # A reassessment waiting for approval does not change the approved state that is counted.
    reassess(app, people["quality"], register["risks"][0], register["exercise"], residual_likelihood=1,
             residual_impact=1, site_id=register["site_cusco"])
    with app.app_context():
        assert site_signals.signals([register["site_cusco"]], DAY)[register["site_cusco"]].high_residual_risks == 3
    approve(app, people["compliance"], register["risks"][0])
    with app.app_context():
        assert site_signals.signals([register["site_cusco"]], DAY)[register["site_cusco"]].high_residual_risks == 2


def test_review_flags(app, people, make_user, tmp_path):
    q, c = people["quality"], people["compliance"]
    doc = seed_document(app, q, write(tmp_path / "PO-AB-001.txt", b"Politica antisoborno\n"), code="PO-AB-001",
                        title="Política antisoborno", approver_id=make_user("quality_officer").id)
    nc = raise_nc(app, q)
    action = add_action(app, q, nc, c, due=DAY + timedelta(days=10))
    ex = new_exercise(app, q)
    late = new_risk(app, q, ex, title="Revisión vencida", next_review=DAY - timedelta(days=1))
    fine = new_risk(app, q, ex, title="Al día", next_review=DAY + timedelta(days=90), control_document_ids=[doc],
                    treatment_action_ids=[action])
    retired = new_risk(app, q, ex, title="Retirado", next_review=DAY - timedelta(days=30))
    as_user(app, q, lambda actor: risks.retire_risk(db.session.get(BriberyRisk, retired), actor=actor, reason="No"))

    def kinds(user_id: int, today: date) -> set[tuple[str, int]]:
        with app.app_context():
            scope = AccessScope.of(db.session.get(User, user_id))
            return {(f.kind, f.risk_id) for f in risk_flags.flags(scope, today)}

    assert kinds(q, DAY) == {("review_overdue", late)}
    later = DAY + timedelta(days=11)  # the action is now overdue
    assert kinds(q, later) == {("review_overdue", late), ("treatment_overdue", fine)}
    with app.app_context(), write_transaction():
        documents.withdraw(db.session.get(Document, doc), actor=db.session.get(User, q), reason="Sustituida")
    assert kinds(q, later) == {("review_overdue", late), ("treatment_overdue", fine), ("control_withdrawn", fine)}
    with app.app_context():
        scope = AccessScope.of(db.session.get(User, q))
        flag = next(f for f in risk_flags.flags(scope, later) if f.kind == "control_withdrawn")
        assert (flag.detail, flag.object_id) == ("PO-AB-001", doc)
        assert risk_flags.counts(scope, later) == {"review_overdue": 1, "control_withdrawn": 1,
                                                   "treatment_overdue": 1}
    assert kinds(people["auditor"], later) == set()  # nothing approved yet
    approve(app, c, fine)
    assert kinds(people["auditor"], later) == {("treatment_overdue", fine), ("control_withdrawn", fine)}


def test_the_site_page_shows_the_high_residual_count(app, client, login_as, register):
    login_as("auditor")
    html = client.get(f"/org/sites/{register['site_cusco']}").get_data(as_text=True)
    assert 'data-testid="high-risks">3<' in html
    html = client.get(f"/org/sites/{register['site_puno']}").get_data(as_text=True)
    assert 'data-testid="high-risks">0<' in html
