"""Pages bounded whatever the corpus holds: keyset pages, capped counts, no query with a parameter per row.

The big corpus (67,000 documents on one clause: more than PostgreSQL's 65,535 bound parameters, more than SQLite's
32,766) is written with one INSERT ... SELECT per table, not through the services: the pages under test only read.
Each statement the pages send is watched: none may carry more than a handful of parameters per page row.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, select
from support import bulk_documents

from auditdocs.db import write_transaction
from auditdocs.extensions import db
from auditdocs.models import Clause, Standard
from auditdocs.services import audit

BIG = 67_000
MAX_PARAMETERS = 200  # the most any one statement of these pages may bind (a page is 50 rows at most)


def _clause_id(app: Any, slug: str, number: str) -> int:
    with app.app_context():
        found = db.session.scalar(select(Clause.id).join(Standard).where(Standard.slug == slug,
                                                                         Clause.number == number))
        db.session.remove()
    assert found is not None
    return found


@contextmanager
def _largest_statement(app: Any) -> Iterator[list[int]]:
    """The number of parameters of every statement sent while the block runs."""
    sizes: list[int] = []

    def _seen(_conn: Any, _cursor: Any, _statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        sizes.append(len(parameters) if parameters else 0)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", _seen)
    try:
        yield sizes
    finally:
        event.remove(engine, "before_cursor_execute", _seen)


def test_a_clause_holding_more_documents_than_a_query_can_bind_still_answers(app, client, login_as, make_user):
    admin = login_as("admin")
    clause_75 = _clause_id(app, "iso9001_2015", "7.5")
    bulk_documents(app, admin.id, clause_75, BIG)
    with _largest_statement(app) as sizes:
        clause_page = client.get("/clauses/iso9001_2015/7.5")
        register = client.get(f"/documents/?clause={clause_75}")
        last = client.get(f"/documents/?clause={clause_75}&last=1")
        dashboard = client.get("/")
    assert [r.status_code for r in (clause_page, register, last, dashboard)] == [200, 200, 200, 200]
    assert sizes and max(sizes) <= MAX_PARAMETERS, max(sizes)

    page = clause_page.get_data(as_text=True)
    assert re.search(r'data-testid="clause-total">1,000\+<', page)  # counted to the cap, not to 67,000
    for kind in ("procedure", "record", "evidence"):
        section = page.split(f'data-testid="clause-kind-{kind}"')[1].split("</section>")[0]
        assert len(re.findall(r'href="/documents/\d+"', section)) == 10  # the ten newest of the kind...
        assert "100+" in section and f"kind={kind}" in section  # ...its count, capped, and the way to the rest
    assert 'data-testid="clause-gap"' not in page
    assert page.count("BIG-066999") == 1  # the newest evidence record is listed
    assert "More than 1,000 documents" in register.get_data(as_text=True)
    codes = re.findall(r">(BIG-\d{6})</a>", last.get_data(as_text=True))
    assert codes == [f"BIG-{n:06d}" for n in range(BIG - 24, BIG + 1)]


def test_the_auditor_sees_the_same_bounded_pages(app, client, make_user, login_as):
    owner = make_user("quality_officer")
    clause_75 = _clause_id(app, "iso9001_2015", "7.5")
    bulk_documents(app, owner.id, clause_75, 2_000)
    login_as("auditor")
    with _largest_statement(app) as sizes:
        responses = [client.get(url) for url in ("/", "/documents/", "/documents/?last=1", "/clauses/iso9001_2015/7.5",
                                                 f"/documents/?clause={clause_75}&sort=title")]
    assert [r.status_code for r in responses] == [200] * 5
    assert max(sizes) <= MAX_PARAMETERS
    assert "More than 1,000 documents" in responses[1].get_data(as_text=True)


def test_the_register_walks_forward_and_back_without_losing_a_row(app, client, login_as, make_user):
    owner = make_user("quality_officer")
    clause_75 = _clause_id(app, "iso9001_2015", "7.5")
    bulk_documents(app, owner.id, clause_75, 80)
    login_as("admin")
    seen, url, pages = [], "/documents/?sort=title", 0
    while url:
        page = client.get(url).get_data(as_text=True)
        rows = re.findall(r">(BIG-\d{6})</a>", page)
        assert 0 < len(rows) <= 25
        seen += rows
        pages += 1
        found = re.search(r'href="(/documents/\?[^"]*)" rel="next"', page)
        url = found.group(1).replace("&amp;", "&") if found else ""
    assert pages == 4 and len(seen) == len(set(seen)) == 80  # every row once, in four pages of at most 25
    assert seen == sorted(seen, key=lambda c: ("Registro masivo", int(c[4:])))  # title ties in id order
    back = re.findall(r">(BIG-\d{6})</a>", client.get("/documents/?sort=title&last=1").get_data(as_text=True))
    assert back == seen[-25:]


def test_the_audit_log_pages_by_sequence_both_ways(app, client, login_as):
    login_as("admin")
    with app.app_context(), write_transaction():
        for i in range(120):
            audit.record("test.page", "probe", f"P-{i:03d}", actor_label="pytest")
    with app.app_context():
        db.session.remove()

    def seqs(url: str) -> tuple[list[int], str]:
        page = client.get(url).get_data(as_text=True)
        return [int(s) for s in re.findall(r'<tr data-testid="event" data-seq="(\d+)"', page)], page

    first, page = seqs("/audit/?action=test.")
    assert len(first) == 50 and first == sorted(first, reverse=True)
    older_link = re.search(r'href="(/audit/\?[^"]*)" rel="next"', page).group(1).replace("&amp;", "&")
    assert "action=test." in older_link
    second, page = seqs(older_link)
    assert second[0] == first[-1] - 1 and len(second) == 50
    oldest, page = seqs("/audit/?action=test.&last=1")
    assert len(oldest) == 50 and 'rel="next"' not in page
    newer_link = re.search(r'href="(/audit/\?[^"]*)" rel="prev"', page).group(1).replace("&amp;", "&")
    back, _page = seqs(newer_link)
    assert back[-1] == oldest[0] + 1
    assert set(first) | set(second) | set(oldest) == set(range(min(oldest), max(first) + 1))
