"""My tasks: drafts I may approve (not my own), reviews I owe (due within 30 days or overdue), most urgent first;
the page, the dashboard panel and the menu agree, per role; later areas add their own kind of task."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from babel.dates import format_date
from support import PASSWORD, pdf, seed_document, write

from auditdocs.db import write_transaction
from auditdocs.extensions import db
from auditdocs.models import Document, User
from auditdocs.services import documents as svc
from auditdocs.services import tasks
from auditdocs.services.counts import Count
from auditdocs.timeutil import local_today


def _login(client: Any, user: Any) -> None:
    assert client.post_form("/login", {"email": user.email, "password": PASSWORD}).status_code == 302


def _due_in(app: Any, doc_id: int, days: int) -> date:
    """Move a document's next review date (as if it had been approved long ago)."""
    with app.app_context(), write_transaction():
        doc = db.session.get_one(Document, doc_id)
        doc.next_review_date = local_today() + timedelta(days=days)
        day = doc.next_review_date
    return day


def _codes(html: str, testid: str = "tasks") -> list[str]:
    """The task codes of a list, in order."""
    block = html.split(f'data-testid="{testid}"', 1)[1].split("</ul>", 1)[0]
    return re.findall(r'data-testid="task-code">([^<]+)</a>', block)


def test_an_approver_sees_the_drafts_of_others_but_not_their_own(app, client, make_user, tmp_path):
    rosa, jorge, luis = make_user("quality_officer"), make_user("quality_officer"), make_user("compliance_officer")
    seed_document(app, rosa.id, write(tmp_path / "a.pdf", pdf("a")), code="PR-QA-001")  # Rosa's own draft
    seed_document(app, jorge.id, write(tmp_path / "b.pdf", pdf("b")), code="PR-QA-002")
    seed_document(app, luis.id, write(tmp_path / "c.pdf", pdf("c")), code="PR-CO-003")
    seed_document(app, jorge.id, write(tmp_path / "d.pdf", pdf("d")), code="PR-QA-004", approver_id=rosa.id)

    _login(client, rosa)
    html = client.get("/tasks/").get_data(as_text=True)
    assert _codes(html) == ["PR-QA-002 v1", "PR-CO-003 v1"]  # the longest waiting first; approved ones are done
    assert 'data-testid="task-total-approvals">2<' in html
    assert 'href="/documents/' in html


def test_a_compliance_officer_has_reviews_but_no_approvals(app, client, make_user, tmp_path):
    luis, rosa = make_user("compliance_officer"), make_user("quality_officer")
    doc_id = seed_document(app, luis.id, write(tmp_path / "a.pdf", pdf("a")), code="PR-CO-001", approver_id=rosa.id)
    seed_document(app, rosa.id, write(tmp_path / "b.pdf", pdf("b")), code="PR-QA-002")  # a draft he may not approve
    due = _due_in(app, doc_id, 10)
    _login(client, luis)
    html = client.get("/tasks/").get_data(as_text=True)
    assert _codes(html) == ["PR-CO-001"]
    assert "task-total-approvals" not in html
    assert f"due {format_date(due, 'medium', locale='en')}" in html


def test_reviews_i_owe_are_mine_due_within_30_days_or_overdue_and_in_force(app, client, make_user, tmp_path):
    rosa, jorge = make_user("quality_officer"), make_user("quality_officer")

    def approved(code: str, owner: Any = rosa) -> int:
        return seed_document(app, owner.id, write(tmp_path / f"{code}.pdf", pdf(code)), code=code,
                             approver_id=jorge.id if owner is rosa else rosa.id)

    overdue, soon, later, others = approved("PR-1"), approved("PR-2"), approved("PR-3"), approved("PR-4", jorge)
    withdrawn = approved("PR-5")
    late = _due_in(app, overdue, -3)
    _due_in(app, soon, 29)
    _due_in(app, later, 31)
    _due_in(app, others, -1)
    _due_in(app, withdrawn, -10)
    with app.app_context(), write_transaction():
        svc.withdraw(db.session.get_one(Document, withdrawn), actor=db.session.get_one(User, jorge.id),
                     reason="Replaced by PR-1")

    _login(client, rosa)
    html = client.get("/tasks/").get_data(as_text=True)
    assert _codes(html) == ["PR-1", "PR-2"]
    assert f"overdue since {format_date(late, 'medium', locale='en')}" in html


def test_tasks_are_sorted_by_urgency_across_kinds(app, client, make_user, tmp_path):
    rosa, jorge = make_user("quality_officer"), make_user("quality_officer")
    review = seed_document(app, rosa.id, write(tmp_path / "a.pdf", pdf("a")), code="PR-REV", approver_id=jorge.id)
    _due_in(app, review, 5)
    seed_document(app, jorge.id, write(tmp_path / "b.pdf", pdf("b")), code="PR-WAIT")  # no date: last
    urgent = seed_document(app, jorge.id, write(tmp_path / "c.pdf", pdf("c")), code="PR-URG")
    with app.app_context(), write_transaction():
        db.session.get_one(Document, urgent).versions[0].effective_date = local_today() + timedelta(days=1)
    _login(client, rosa)
    assert _codes(client.get("/tasks/").get_data(as_text=True)) == ["PR-URG v1", "PR-REV", "PR-WAIT v1"]


def test_the_dashboard_panel_lists_the_most_urgent_and_links_to_all(app, client, make_user, tmp_path):
    rosa, jorge = make_user("quality_officer"), make_user("quality_officer")
    for n in range(7):
        seed_document(app, jorge.id, write(tmp_path / f"{n}.pdf", pdf(str(n))), code=f"PR-{n}")
    _login(client, rosa)
    html = client.get("/").get_data(as_text=True)
    assert 'data-testid="my-tasks-panel"' in html
    assert 'data-testid="my-tasks-count">7<' in html
    assert _codes(html, "dashboard-tasks") == [f"PR-{n} v1" for n in range(5)]
    assert 'href="/tasks/"' in html
    assert len(_codes(client.get("/tasks/").get_data(as_text=True))) == 7


def test_nothing_to_do_says_so(app, client, login_as):
    login_as("quality_officer")
    html = client.get("/tasks/").get_data(as_text=True)
    assert 'data-testid="no-tasks"' in html and "Nothing to do" in html
    assert 'data-testid="no-tasks"' in client.get("/").get_data(as_text=True)


def test_an_external_auditor_has_no_tasks_page_panel_or_menu_entry(app, client, login_as):
    login_as("auditor")
    assert client.get("/tasks/").status_code == 403
    html = client.get("/").get_data(as_text=True)
    assert "my-tasks-panel" not in html and 'href="/tasks/"' not in html


def test_every_other_role_has_the_menu_entry(app, client, login_as):
    for role in ("admin", "quality_officer", "compliance_officer"):
        login_as(role)
        assert 'href="/tasks/">My tasks</a>' in " ".join(client.get("/").get_data(as_text=True).split())
        client.post_form("/logout", page="/")


def test_a_later_area_adds_its_own_kind_of_task(app, client, login_as):
    def corrective_actions(scope: Any, today: date, limit: int) -> tasks.TaskBatch:
        task = tasks.Task("action", "Close", "CA-2026-001", "Calibrate the scales", "main.dashboard",
                          due=today - timedelta(days=1))
        return tasks.TaskBatch([task], Count(1, False))

    tasks.register_task_source("actions", "My corrective actions", corrective_actions, capability="manage_programme")
    try:
        login_as("compliance_officer")
        html = client.get("/tasks/").get_data(as_text=True)
        assert _codes(html) == ["CA-2026-001"]
        assert "My corrective actions" in html and "overdue since" in html
    finally:
        del tasks._SOURCES["actions"]
