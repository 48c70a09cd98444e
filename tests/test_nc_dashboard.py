"""The compliance dashboard: open nonconformities counted by grade, clause, site (with the sites under it) and
process, the overdue and soon-due actions, mine and the checks I owe (also on My tasks), the days from detection
to closure (average and 90th percentile, the same on SQLite and PostgreSQL), the ageing buckets, the site filter,
read-only for auditors, and the main dashboard's panel for those who record nonconformities."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from records_support import add_action, clause_id, implemented, on_nc, raise_nc
from sqlalchemy import event

from auditdocs.extensions import db
from auditdocs.models import CorrectiveAction, User
from auditdocs.policy import AccessScope
from auditdocs.services import nc_stats, org
from auditdocs.services import nonconformities as svc
from auditdocs.timeutil import local_today


@pytest.fixture(autouse=True)
def _detail_page(app) -> None:
    """Tasks link to a nonconformity's page; on a branch without the register's pages yet, a stand-in answers."""
    if "nonconformities.detail" not in app.view_functions:
        app.add_url_rule("/nonconformities/<int:nc_id>", "nonconformities.detail", lambda nc_id: str(nc_id))


@pytest.fixture
def today(app) -> date:
    with app.app_context():
        return local_today()


@pytest.fixture
def people(make_user):
    return {"quality": make_user("quality_officer"), "compliance": make_user("compliance_officer"),
            "admin": make_user("admin"), "auditor": make_user("auditor")}


def _close_without_action(app, closer: int, nc_id: int, day: date) -> None:
    on_nc(app, closer, nc_id, svc.close_nonconformity, today=day, note="No requiere acción.", no_action=True)


@pytest.fixture
def seeded(app, people, today) -> dict[str, Any]:
    """Sites (head office, Cusco with an office under it, Puno), two processes, two clauses of each standard, five
    open nonconformities of every age and one closed, and actions overdue, due soon, later and implemented."""
    with app.app_context():
        from_admin = db.session.get(User, people["admin"].id)
        head = org.create_site(org.SiteData(code="SEDE", name_es="Sede Central", region="Lima"), from_admin)
        cusco = org.create_site(org.SiteData(code="UT-CUSCO", name_es="UT Cusco", region="Cusco", parent_id=head.id),
                                from_admin)
        office = org.create_site(org.SiteData(code="OE-QUILLA", name_es="OE Quillabamba", region="Cusco",
                                              parent_id=cusco.id), from_admin)
        puno = org.create_site(org.SiteData(code="UT-PUNO", name_es="UT Puno", region="Puno", parent_id=head.id),
                               from_admin)
        visits = org.create_process(org.ProcessData(code="PO-01", name_es="Visitas domiciliarias"), from_admin)
        payments = org.create_process(org.ProcessData(code="PO-02", name_es="Pagos"), from_admin)
        ids: dict[str, Any] = {"head": head.id, "cusco": cusco.id, "office": office.id, "puno": puno.id,
                               "visits": visits.id, "payments": payments.id}
        db.session.commit()
    q, c = people["quality"].id, people["compliance"].id
    ids["q9001"] = clause_id(app, "iso9001_2015", "10.2")
    ids["q37001"] = clause_id(app, "iso37001_2016", "10.1")

    def nc(days_ago: int, **fields: Any) -> int:
        return raise_nc(app, q, today=today, detected_on=today - timedelta(days=days_ago), **fields)

    ids["a"] = nc(10, grade="major", site_id=ids["office"], process_id=ids["visits"],
                  clause_ids=[ids["q9001"], ids["q37001"]], title="Obsequio sin registrar")
    ids["b"] = nc(45, grade="major", site_id=ids["cusco"], process_id=ids["visits"], clause_ids=[ids["q9001"]],
                  title="Padrón desactualizado")
    ids["c"] = nc(100, grade="minor", site_id=ids["puno"], process_id=ids["payments"], clause_ids=[ids["q37001"]],
                  title="Pago sin conformidad")
    ids["d"] = nc(200, grade="observation", title="Señalética mejorable")
    ids["e"] = nc(70, grade="minor", site_id=ids["head"], process_id=ids["visits"], title="Acta sin firma")
    ids["f"] = nc(5, grade="observation", site_id=ids["puno"], title="Ya atendida")
    _close_without_action(app, q, ids["f"], today)
    # b: an action raised a month ago, five days overdue; a: due in a week; e: due in a month; c: implemented.
    ids["late"] = add_action(app, q, ids["b"], c, due=today - timedelta(days=5), today=today - timedelta(days=30),
                             description="Actualizar el padrón")
    ids["soon"] = add_action(app, q, ids["a"], q, due=today + timedelta(days=7), today=today)
    ids["later"] = add_action(app, q, ids["e"], q, due=today + timedelta(days=30), today=today)
    ids["done"] = add_action(app, q, ids["c"], q, due=today + timedelta(days=3), today=today)
    implemented(app, q, ids["done"], today=today)
    return ids


def _scope(app, user_id: int) -> AccessScope:
    return AccessScope.of(db.session.get(User, user_id))


def test_open_counts_by_grade_clause_site_and_process(app, people, seeded):
    with app.app_context():
        scope = _scope(app, people["compliance"].id)
        assert nc_stats.open_by_grade(scope) == {"major": 2, "minor": 2, "observation": 1,
                                                 "improvement_opportunity": 0}
        clauses = {c.id: c.count for c in nc_stats.open_by_clause(scope)}
        assert clauses == {seeded["q9001"]: 2, seeded["q37001"]: 2}  # both standards
        sites, no_site = nc_stats.open_by_site(scope)
        totals = {s.code: (s.count, s.total, s.region) for s in sites}
        assert totals == {"SEDE": (1, 4, "Lima"), "UT-CUSCO": (1, 2, "Cusco"), "OE-QUILLA": (1, 1, "Cusco"),
                          "UT-PUNO": (1, 1, "Puno")}  # the closed one in Puno does not count
        assert [s.code for s in sites] == ["SEDE", "UT-CUSCO", "OE-QUILLA", "UT-PUNO"]  # tree order
        assert no_site == 1
        processes, no_process = nc_stats.open_by_process(scope)
        assert [(p.code, p.count) for p in processes] == [("PO-01", 3), ("PO-02", 1)]
        assert no_process == 1


def test_ageing_buckets_by_grade(app, people, seeded, today):
    with app.app_context():
        rows = nc_stats.ageing(_scope(app, people["quality"].id), today)
    assert [{g: n for g, n in row.items() if n} for row in rows] == [
        {"major": 1}, {"major": 1}, {"minor": 1}, {"minor": 1}, {"observation": 1}]


def test_bucket_edges(app, people, today):
    q = people["quality"].id
    for days in (30, 31, 60, 61, 90, 91, 180, 181):
        raise_nc(app, q, today=today, detected_on=today - timedelta(days=days))
    with app.app_context():
        rows = nc_stats.ageing(_scope(app, q), today)
    assert [row["minor"] for row in rows] == [1, 2, 2, 2, 1]


def test_site_filter_takes_the_subtree(app, people, seeded):
    with app.app_context():
        scope = _scope(app, people["quality"].id)
        ids = nc_stats.site_filter_ids(seeded["cusco"])
        assert nc_stats.open_by_grade(scope, ids)["major"] == 2
        assert nc_stats.open_by_grade(scope, ids)["minor"] == 0
        sites, no_site = nc_stats.open_by_site(scope, ids)
        assert {s.code: s.total for s in sites} == {"SEDE": 2, "UT-CUSCO": 2, "OE-QUILLA": 1}
        assert no_site == 0
        assert [a.id for a in nc_stats.action_lists(scope, local_today(), ids)["overdue"].rows] == [seeded["late"]]
        assert nc_stats.action_lists(scope, local_today(), nc_stats.site_filter_ids(seeded["puno"]))[
            "overdue"].rows == []


def test_overdue_due_soon_mine_and_checks(app, people, seeded, today):
    with app.app_context():
        lists = nc_stats.action_lists(_scope(app, people["compliance"].id), today)
        assert [a.id for a in lists["overdue"].rows] == [seeded["late"]]
        assert [a.id for a in lists["due"].rows] == [seeded["soon"]]  # due in 7 days; the one in 30 is not
        assert lists["overdue"].count.value == 1 and lists["due"].count.value == 1
        assert [a.id for a in lists["mine"].rows] == [seeded["late"]]
        assert [a.id for a in lists["checks"].rows] == [seeded["done"]]  # implemented by someone else
        mine = nc_stats.action_lists(_scope(app, people["quality"].id), today)
        assert [a.id for a in mine["mine"].rows] == [seeded["soon"], seeded["later"]]
        assert mine["checks"].rows == []  # the owner never checks their own action


# Durations in days (detection to closure) with the average and percentile_cont(0.9) worked out by hand:
# h = 0.9 (n - 1) on the sorted list, interpolated between ranks floor(h) and floor(h) + 1.
CLOSURES = [
    ([2, 4, 6, 8, 10, 30], 10.0, 20.0),  # h = 4.5: 10 + (30 - 10) * 0.5
    ([0, 10, 20, 30], 15.0, 27.0),  # h = 2.7: 20 + (30 - 20) * 0.7
    ([7], 7.0, 7.0),  # one closure: the percentile is that one
    ([2, 1], 1.5, 1.9),  # h = 0.9: 1 + (2 - 1) * 0.9, not a whole day
    ([12, 0, 5, 40, 33, 8, 21, 2], 15.1, 35.1),  # h = 6.3: 33 + (40 - 33) * 0.3 = 35.1; average 121 / 8 = 15.125
    ([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5], 4.0, 6.0),  # h = 9 exactly: the 10th smallest
]


@pytest.mark.parametrize(("durations", "average", "p90"), CLOSURES)
def test_days_to_closure_average_and_90th_percentile(app, people, today, durations, average, p90):
    q = people["quality"].id
    for days in durations:
        nc_id = raise_nc(app, q, grade="observation", today=today, detected_on=today - timedelta(days=days))
        _close_without_action(app, q, nc_id, today)
    raise_nc(app, q, grade="observation", today=today)  # still open: not counted
    with app.app_context():
        times = nc_stats.closure_times(_scope(app, q))
    assert (times.closed, times.average, times.p90) == (len(durations), average, p90)


def test_days_to_closure_when_nothing_is_closed(app, people, today):
    raise_nc(app, people["quality"].id, today=today)
    with app.app_context():
        assert nc_stats.closure_times(_scope(app, people["quality"].id)) == nc_stats.ClosureTimes(0, None, None)


def test_days_to_closure_uses_the_latest_closure(app, people, today):
    q = people["quality"].id
    nc_id = raise_nc(app, q, grade="observation", today=today, detected_on=today - timedelta(days=20))
    _close_without_action(app, q, nc_id, today - timedelta(days=10))
    on_nc(app, q, nc_id, svc.reopen_nonconformity, reason="La señalética volvió a fallar.")
    with app.app_context():
        assert nc_stats.closure_times(_scope(app, q)).closed == 0  # reopened: open again
    _close_without_action(app, q, nc_id, today)
    with app.app_context():
        assert nc_stats.closure_times(_scope(app, q)) == nc_stats.ClosureTimes(1, 20.0, 20.0)


def _login(client, user) -> None:
    resp = client.post_form("/login", {"email": user.email, "password": user.password})
    assert resp.status_code == 302


def _testid(body: str, testid: str) -> str:
    found = re.search(rf'data-testid="{re.escape(testid)}"[^>]*>([^<]*)<', body)
    assert found, testid
    return found.group(1).strip()


def _href(body: str, testid: str) -> str:
    found = re.search(rf'<a [^>]*href="([^"]*)"[^>]*data-testid="{re.escape(testid)}"', body)
    assert found, testid
    return found.group(1).replace("&amp;", "&")


def test_page_shows_the_counts_with_links_to_the_register(app, client, people, seeded):
    _login(client, people["compliance"])
    resp = client.get("/nonconformities/dashboard")
    assert resp.status_code == 200
    body = resp.get_data(as_text=True)
    assert _testid(body, "nc-grade-major") == "2"
    assert _testid(body, "nc-open-total") == "5"
    assert _href(body, "nc-grade-major") == "/nonconformities/?status=not_closed&grade=major"
    assert _href(body, f"nc-clause-{seeded['q37001']}") == (
        f"/nonconformities/?status=not_closed&clause={seeded['q37001']}")
    assert _testid(body, f"nc-site-{seeded['head']}") == "4"
    assert _href(body, f"nc-site-{seeded['cusco']}") == f"/nonconformities/?status=not_closed&site={seeded['cusco']}"
    assert _href(body, f"nc-process-{seeded['visits']}") == (
        f"/nonconformities/?status=not_closed&process={seeded['visits']}")
    assert _href(body, "nc-actions-overdue-count") == "/nonconformities/?status=not_closed&overdue=1"
    assert _testid(body, "nc-actions-overdue-count") == "1"
    assert _testid(body, "nc-actions-due-count") == "1"
    assert _testid(body, "nc-mine-count") == "1" and _testid(body, "nc-checks-count") == "1"
    assert 'role="img"' in body and "<title id=\"nc-ageing-title\">" in body
    assert "style=" not in body.split('<main', 1)[-1]  # CSP: no inline style in the page body
    assert _testid(body, "nc-closed-count") == "1"


def test_site_filter_on_the_page_and_links_keep_it(app, client, people, seeded):
    _login(client, people["quality"])
    body = client.get(f"/nonconformities/dashboard?site={seeded['cusco']}").get_data(as_text=True)
    assert _testid(body, "nc-grade-major") == "2" and _testid(body, "nc-grade-minor") == "0"
    assert _href(body, "nc-grade-major") == f"/nonconformities/?status=not_closed&grade=major&site={seeded['cusco']}"
    for bad in ("999999", "abc", "-1"):
        resp = client.get(f"/nonconformities/dashboard?site={bad}")
        assert resp.status_code == 400
        assert "There is no such site" in resp.get_data(as_text=True)


def test_auditor_reads_the_dashboard_without_any_form_or_own_lists(app, client, people, seeded):
    _login(client, people["auditor"])
    resp = client.get("/nonconformities/dashboard")
    assert resp.status_code == 200
    body = resp.get_data(as_text=True)
    assert _testid(body, "nc-grade-major") == "2"
    assert 'method="post"' not in body.split("<main", 1)[-1].lower()
    assert "nc-mine-count" not in body and "nc-checks-count" not in body


@pytest.mark.parametrize(("role", "panel"), [
    ("admin", True), ("quality_officer", True), ("compliance_officer", True), ("auditor", False)])
def test_main_dashboard_panel_only_for_those_who_record(app, client, people, seeded, role, panel):
    user = {"admin": people["admin"], "quality_officer": people["quality"],
            "compliance_officer": people["compliance"], "auditor": people["auditor"]}[role]
    _login(client, user)
    body = client.get("/").get_data(as_text=True)
    assert ('data-testid="nc-panel"' in body) is panel
    if panel:
        assert _testid(body, "nc-panel-major") == "2"
        assert _testid(body, "nc-panel-overdue") == "1"
        assert "/nonconformities/dashboard" in body


@pytest.mark.parametrize("role", ["admin", "quality_officer", "compliance_officer", "auditor"])
def test_every_role_that_reads_nonconformities_opens_the_dashboard(app, client, login_as, role):
    login_as(role)
    body = client.get("/nonconformities/dashboard").get_data(as_text=True)
    assert 'data-testid="nc-closure-none"' in body and 'data-testid="nc-grade-major">0<' in body


def test_my_tasks_lists_my_actions_and_the_checks_i_owe(app, client, people, seeded):
    _login(client, people["compliance"])
    body = client.get("/tasks/").get_data(as_text=True)
    with app.app_context():
        late = db.session.get(CorrectiveAction, seeded["late"])
        done = db.session.get(CorrectiveAction, seeded["done"])
        late_code, done_code = late.code, done.code
        nc_ids = (late.nonconformity_id, done.nonconformity_id)
    assert 'data-testid="task-action"' in body and late_code in body
    assert 'data-testid="task-effectiveness"' in body and done_code in body
    assert f"/nonconformities/{nc_ids[0]}#action-{seeded['late']}" in body
    assert f"/nonconformities/{nc_ids[1]}#action-{seeded['done']}" in body
    assert _testid(body, "task-total-nc_actions") == "1"
    assert _testid(body, "task-total-nc_checks") == "1"


def test_counts_are_grouped_in_the_database(app, people, seeded):
    """Each figure is one grouped query, whatever the number of nonconformities."""
    statements: list[str] = []
    with app.app_context():
        engine = db.engine

        def count(_conn, _cursor, statement, *_args):  # type: ignore[no-untyped-def]
            statements.append(statement)

        event.listen(engine, "before_cursor_execute", count)
        try:
            scope = _scope(app, people["quality"].id)
            nc_stats.open_by_grade(scope)
            nc_stats.open_by_clause(scope)
            nc_stats.ageing(scope, local_today())
        finally:
            event.remove(engine, "before_cursor_execute", count)
    grouped = [s for s in statements if "GROUP BY" in s]
    assert len(grouped) == 3
