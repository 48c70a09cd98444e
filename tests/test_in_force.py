"""In force on a day (ISO 7.5.3): every page tells the same story across effective dates, with the clock moved on."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

import pytest
from sqlalchemy import select
from support import approve, browser, new_document, pdf, text_of, today_of, upload_version

from auditdocs import timeutil
from auditdocs.extensions import db
from auditdocs.models import Clause, Document, Standard
from auditdocs.services.lifecycle import (
    document_state,
    has_version_in_force,
    in_force,
    in_force_document_ids,
    version_state,
)

CLAUSE = "7.1.5.2"  # asks for documented information; a mapped document in force closes the gap


class _Clock:
    """Moves the application's clock (timeutil, which every "now" and "today" goes through) forward by whole days."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        clock = self

        class Shifted(datetime):
            @classmethod
            def now(cls, tz: tzinfo | None = None) -> Any:
                return datetime.now(tz) + clock.offset

        self.offset = timedelta(0)
        monkeypatch.setattr(timeutil, "datetime", Shifted)

    def forward(self, days: int) -> None:
        self.offset += timedelta(days=days)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Clock]:
    yield _Clock(monkeypatch)


def shown(app: Any, day: date, lang: str = "en") -> str:
    """The date as the app's one date filter writes it for a reader of the language."""
    with app.test_request_context(headers={"Accept-Language": lang}):
        return str(app.jinja_env.filters["d"](day))


def badge(page: str, testid: str) -> str:
    match = re.search(rf'data-testid="{re.escape(testid)}">([^<]*)<', page)
    assert match, f"no {testid} badge"
    return match.group(1).strip()


def clause_id(app: Any) -> int:
    with app.app_context():
        found = db.session.scalar(select(Clause.id).join(Standard).where(
            Standard.slug == "iso9001_2015", Clause.number == CLAUSE))
        assert found is not None
        return found


def register_row(page: str, code: str) -> str:
    rows = [row for row in page.split("<tr") if f">{code}</a>" in row]
    assert len(rows) == 1, f"{code} not listed once in the register"
    return rows[0]


def in_register(c: Any, code: str, status: str) -> bool:
    return f">{code}</a>" in text_of(c.get(f"/documents/?status={status}"))


def gap_listed(c: Any) -> bool:
    return f">ISO 9001:2015 {CLAUSE}</a>" in text_of(c.get("/"))


@pytest.fixture
def people(app: Any, make_user: Callable[..., Any]) -> tuple[Any, Any]:
    return make_user("quality_officer", name="Rosa Huamán"), make_user("quality_officer", name="Jorge Quispe")


def test_a_future_dated_version_waits_while_the_previous_stays_in_force_then_takes_over(app, people, clock):
    rosa, jorge = people
    author, approver = browser(app, rosa), browser(app, jorge)
    doc_id = new_document(author, rosa.id, code="PR-QA-710", clauses=[str(clause_id(app))])
    today = today_of(app)
    assert approve(approver, doc_id, 1).status_code == 302  # empty date: today
    assert upload_version(author, doc_id, pdf("v2")).status_code == 302
    day = today + timedelta(days=30)
    resp = approve(approver, doc_id, 2, day)
    assert resp.status_code == 302
    flashed = text_of(approver.get("/documents/"))
    assert f"Version v2 of PR-QA-710 approved; it takes effect on {shown(app, day)}." in flashed

    page = text_of(author.get(f"/documents/{doc_id}"))
    assert badge(page, "doc-status") == "In force"
    assert badge(page, "version-status-1") == "In force"
    assert badge(page, "version-status-2") == f"Approved, effective from {shown(app, day)}"
    assert "No approved version is in force yet" not in page
    block = page.split('data-testid="in-force"')[1].split("</div>\n")[0]
    assert f"In force today: version v1 (effective {shown(app, today)})." in block
    assert (f"Version v2 is approved and takes effect on {shown(app, day)}; until then version v1 stays in force."
            in block)
    row = register_row(text_of(author.get("/documents/")), "PR-QA-710")
    assert badge(row, "doc-status") == "In force"
    assert f'v1 <span class="small text-muted">(v2 from {shown(app, day)})' in row
    assert in_register(author, "PR-QA-710", "active") and not in_register(author, "PR-QA-710", "approved_future")
    clause_page = text_of(author.get(f"/clauses/iso9001_2015/{CLAUSE}"))
    assert badge(clause_page, f"clause-doc-status-{doc_id}") == "In force"
    assert 'data-testid="clause-gap"' not in clause_page and not gap_listed(author)

    clock.forward(29)  # the day before: nothing changes yet
    author = browser(app, rosa)
    page = text_of(author.get(f"/documents/{doc_id}"))
    assert badge(page, "version-status-1") == "In force"
    assert badge(page, "version-status-2") == f"Approved, effective from {shown(app, day)}"

    clock.forward(1)  # the effective day: v2 is in force and v1 superseded, without any job having run
    author = browser(app, rosa)
    page = text_of(author.get(f"/documents/{doc_id}"))
    assert badge(page, "doc-status") == "In force"
    assert badge(page, "version-status-2") == "In force"
    assert badge(page, "version-status-1") == "Superseded"
    assert f'title="Superseded since {shown(app, day)}"' in page
    assert f"In force today: version v2 (effective {shown(app, day)})." in page and 'data-testid="upcoming"' not in page
    row = register_row(text_of(author.get("/documents/")), "PR-QA-710")
    assert badge(row, "doc-status") == "In force" and "<td>v2</td>" in row
    clause_page = text_of(author.get(f"/clauses/iso9001_2015/{CLAUSE}"))
    assert badge(clause_page, f"clause-doc-status-{doc_id}") == "In force"
    assert f'href="/documents/{doc_id}/versions/2/download">Download</a>' in page.split('data-testid="in-force"')[1]


def test_a_first_version_approved_for_a_later_day_is_not_in_force_anywhere_until_then(app, people, clock):
    rosa, jorge = people
    author, approver = browser(app, rosa), browser(app, jorge)
    doc_id = new_document(author, rosa.id, code="PR-QA-720", clauses=[str(clause_id(app))])
    day = today_of(app) + timedelta(days=10)
    assert approve(approver, doc_id, 1, day).status_code == 302

    page = text_of(author.get(f"/documents/{doc_id}"))
    waiting = f"Approved, effective from {shown(app, day)}"
    assert badge(page, "doc-status") == waiting and badge(page, "version-status-1") == waiting
    assert ">In force<" not in page and "In force today" not in page
    assert f"No version is in force yet: version v1 is approved and takes effect on {shown(app, day)}." in page
    assert "No approved version is in force yet" not in page  # no longer beside a green badge
    row = register_row(text_of(author.get("/documents/")), "PR-QA-720")
    assert badge(row, "doc-status") == waiting
    assert in_register(author, "PR-QA-720", "approved_future") and not in_register(author, "PR-QA-720", "active")
    clause_page = text_of(author.get(f"/clauses/iso9001_2015/{CLAUSE}"))
    assert badge(clause_page, f"clause-doc-status-{doc_id}") == waiting
    assert 'data-testid="clause-gap"' in clause_page and gap_listed(author)

    clock.forward(10)
    author = browser(app, rosa)
    page = text_of(author.get(f"/documents/{doc_id}"))
    assert badge(page, "doc-status") == "In force" and badge(page, "version-status-1") == "In force"
    assert in_register(author, "PR-QA-720", "active") and not in_register(author, "PR-QA-720", "approved_future")
    clause_page = text_of(author.get(f"/clauses/iso9001_2015/{CLAUSE}"))
    assert badge(clause_page, f"clause-doc-status-{doc_id}") == "In force"
    assert 'data-testid="clause-gap"' not in clause_page and not gap_listed(author)


def test_nothing_of_a_withdrawn_document_is_in_force_from_the_withdrawal_day(app, people, clock):
    rosa, jorge = people
    author, approver = browser(app, rosa), browser(app, jorge)
    doc_id = new_document(author, rosa.id, code="PR-QA-730", clauses=[str(clause_id(app))])
    today = today_of(app)
    assert approve(approver, doc_id, 1, today - timedelta(days=20)).status_code == 302
    assert upload_version(author, doc_id, pdf("v2")).status_code == 302
    assert approve(approver, doc_id, 2, today - timedelta(days=10)).status_code == 302
    assert upload_version(author, doc_id, pdf("v3")).status_code == 302
    assert approve(approver, doc_id, 3, today + timedelta(days=5)).status_code == 302
    resp = approver.post_form(f"/documents/{doc_id}/withdraw", {"reason": "Reemplazado por el manual"}, page="/")
    assert resp.status_code == 302

    page = text_of(author.get(f"/documents/{doc_id}"))
    assert badge(page, "doc-status") == "Withdrawn"
    assert badge(page, "version-status-1") == "Superseded"  # replaced before the withdrawal
    assert badge(page, "version-status-2") == "Withdrawn"  # in force until the withdrawal
    assert badge(page, "version-status-3") == "Withdrawn"  # never took effect
    assert "No version is in force: the document was withdrawn." in page and ">In force<" not in page
    assert in_register(author, "PR-QA-730", "obsolete") and not in_register(author, "PR-QA-730", "active")
    clause_page = text_of(author.get(f"/clauses/iso9001_2015/{CLAUSE}"))
    assert badge(clause_page, f"clause-doc-status-{doc_id}") == "Withdrawn"
    assert 'data-testid="clause-gap"' in clause_page and gap_listed(author)

    clock.forward(5)  # v3's effective day passes: a withdrawn document takes nothing back into force
    author = browser(app, rosa)
    page = text_of(author.get(f"/documents/{doc_id}"))
    assert badge(page, "version-status-3") == "Withdrawn" and ">In force<" not in page

    with app.app_context():  # a past day (an audit period) still sees what was in force then
        doc = db.session.get(Document, doc_id)
        yesterday = today - timedelta(days=1)
        assert in_force(doc, yesterday).number == 2
        assert document_state(doc, yesterday).key == "in_force"
        assert version_state(doc.versions[0], doc, yesterday).key == "approved_future"  # v3, newest first
        assert doc_id in set(db.session.scalars(in_force_document_ids(yesterday)))
        assert doc_id not in set(db.session.scalars(in_force_document_ids(today)))


def test_the_row_rule_and_the_sql_rule_agree_on_every_day(app, people):
    """The pages use document_state (Python); gap counts and filters use the SQL probes: same answer every day."""
    rosa, jorge = people
    author, approver = browser(app, rosa), browser(app, jorge)
    today = today_of(app)
    plans: dict[str, list[int]] = {"PR-QA-741": [], "PR-QA-742": [5], "PR-QA-743": [-8, 3], "PR-QA-744": [-8, -2],
                                   "PR-QA-745": [-8, 4, 9]}
    ids = {}
    for code, offsets in plans.items():
        ids[code] = doc_id = new_document(author, rosa.id, code=code)
        for n, offset in enumerate(offsets, start=1):
            if n > 1:
                assert upload_version(author, doc_id, pdf(f"{code}-{n}")).status_code == 302
            assert approve(approver, doc_id, n, today + timedelta(days=offset)).status_code == 302
    assert approver.post_form(f"/documents/{ids['PR-QA-744']}/withdraw", {"reason": "Ya no aplica"},
                              page="/").status_code == 302
    with app.app_context():
        docs = db.session.scalars(select(Document).where(Document.id.in_(ids.values()))).all()
        for offset in range(-10, 12):
            day = today + timedelta(days=offset)
            by_row = {d.id for d in docs if in_force(d, day) is not None}
            assert by_row == {d.id for d in docs if document_state(d, day).key == "in_force"}
            listed = set(db.session.scalars(in_force_document_ids(day))) & set(ids.values())
            probed = set(db.session.scalars(select(Document.id).where(has_version_in_force(day),
                                                                      Document.id.in_(ids.values()))))
            assert by_row == listed == probed, day
            for d in docs:  # at most one version of a document is in force, and it is the one in_force names
                shown = [v for v in d.versions if version_state(v, d, day).key == "in_force"]
                assert shown == ([in_force(d, day)] if in_force(d, day) else [])


def test_the_approval_form_says_an_empty_date_means_today(app, people):
    rosa, jorge = people
    author, approver = browser(app, rosa), browser(app, jorge)
    doc_id = new_document(author, rosa.id, code="PR-QA-750", effective_date=(today_of(app) + timedelta(days=3))
                          .isoformat())
    page = text_of(approver.get(f"/documents/{doc_id}"))
    assert "Leave it empty for today." in page
    assert approve(approver, doc_id, 1).status_code == 302  # cleared: today, not the date proposed at upload
    with app.app_context():
        assert db.session.get(Document, doc_id).versions[0].effective_date == timeutil.local_today()


def test_refusals_write_dates_as_the_pages_do(app, people):
    rosa, jorge = people
    author, approver = browser(app, rosa), browser(app, jorge)
    doc_id = new_document(author, rosa.id, code="PR-QA-760")
    first = today_of(app) - timedelta(days=3)
    assert approve(approver, doc_id, 1, first).status_code == 302
    assert upload_version(author, doc_id, pdf("v2")).status_code == 302
    resp = approve(approver, doc_id, 2, first - timedelta(days=30))
    assert resp.status_code == 400
    assert f"version v1 ({shown(app, first)})" in text_of(resp) and f"({first.isoformat()})" not in text_of(resp)
    assert approver.post_form("/lang", {"lang": "es"}, page="/").status_code == 302
    resp = approve(approver, doc_id, 2, date(2200, 1, 1))
    assert resp.status_code == 400
    page = text_of(resp)
    assert shown(app, date(1990, 1, 1), "es") in page and shown(app, date(2100, 12, 31), "es") in page
    assert "2100-12-31" not in page
