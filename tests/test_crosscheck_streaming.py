"""The rows-vs-trail cross-check as a merge: one document in memory at a time, whatever the size of the register,
and still every row changed behind the application's back found, in code order."""

from __future__ import annotations

import tracemalloc
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import text

from auditdocs.db import write_transaction
from auditdocs.extensions import db
from auditdocs.models import User
from auditdocs.services import crosscheck
from auditdocs.services import documents as svc
from auditdocs.services.uploads import Checked, Incoming, ingest

# Letters of both cases, digits and every punctuation a code may hold: a locale's collation sorts these otherwise
# than the bytes do, and "PR-1" is a prefix of other codes (its versions' objects are "PR-1#N").
ODD_CODES = ("PR-1", "PR-10", "PR-1-2", "PR-1.2", "PR-1/2", "PR-1_2", "PR-1A", "pr-1b", "Ab", "aC", "a_3", "A-3",
             "A3", "Z9", "z-10", "0-first")


def shared_blob(app: Flask, tmp_path: Path) -> Checked:
    """One small PDF stored once; every version shares its bytes (as the scale benchmark builds its register)."""
    source = tmp_path / "shared.pdf"
    source.write_bytes(b"%PDF-1.4\n% shared by every version\n" + b"0" * 2000 + b"\n%%EOF\n")
    with app.app_context():
        stored = ingest(Incoming.from_path(source), lambda checked: checked)  # stores the bytes, writes no row
    return Checked(stored.display_name, stored.mime_type, stored.sha256, stored.size)


def grow(app: Flask, users: tuple[int, int], blob: Checked, codes: list[str], versions: int = 1) -> None:
    """Documents through the services in one transaction: each created, given versions, all approved but the last
    of several (the earlier ones superseded), a review on every third."""
    with app.app_context():
        with write_transaction():
            author, approver = (db.session.get_one(User, user_id) for user_id in users)
            for i, code in enumerate(codes):
                doc = svc.create_document(code=code, title=f"Streamed {code}", kind="procedure", owner=author,
                                          actor=author)
                for n in range(1, versions + 1):
                    version = svc.add_version(doc, blob, actor=author, revision_label=f"Rev. {n}")
                    if n < versions or versions == 1:
                        svc.approve(version, actor=approver)
                if i % 3 == 0:
                    svc.record_review(doc, actor=approver, note="Still valid")
        db.session.remove()


def cross_check(app: Flask) -> tuple[list[str], int]:
    """The cross-check's error lines and the peak of Python memory it allocated, run twice: the first run after
    writes may compile its statements again (the writes' own may have pushed them out of SQLAlchemy's cache), a
    constant cost that would blur what is measured."""
    with app.app_context():
        crosscheck.check()
        tracemalloc.start()
        try:
            result = crosscheck.check()
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        db.session.remove()
    return result.errors, peak


def staff(make_user: Any) -> tuple[int, int]:
    return make_user("quality_officer").id, make_user("quality_officer").id


def test_memory_does_not_grow_with_the_number_of_documents(app, make_user, tmp_path):
    users, blob = staff(make_user), shared_blob(app, tmp_path)
    grow(app, users, blob, [f"ST-{i:05d}" for i in range(300)])
    errors, small = cross_check(app)
    assert errors == []
    grow(app, users, blob, [f"ST-{i:05d}" for i in range(300, 1500)])
    errors, large = cross_check(app)
    assert errors == []
    # Memory, not time: holding every replayed document, five times the documents took five times the memory.
    assert large < 1.5 * small, (small, large)


def test_codes_merge_in_byte_order_and_rows_changed_by_hand_are_found_in_that_order(app, make_user, tmp_path):
    users, blob = staff(make_user), shared_blob(app, tmp_path)
    grow(app, users, blob, list(ODD_CODES), versions=3)
    grow(app, users, blob, ["PR-MANY"], versions=12)  # "PR-MANY#10" sorts before "PR-MANY#2": seq decides
    assert cross_check(app)[0] == []
    tampered = ["z-10", "PR-1", "A3", "PR-MANY"]
    with app.app_context(), db.engine.begin() as conn:  # the triggers allow status changes: the trail does not
        for code in tampered:
            conn.execute(text("UPDATE document_versions SET status = 'rejected' WHERE number = 2 AND document_id = "
                              "(SELECT id FROM documents WHERE code = :c)"), {"c": code})
    errors = cross_check(app)[0]
    assert [e.split(":")[0] for e in errors] == [f"{code} v2" for code in sorted(tampered)], errors
    assert all(": status is rejected in the database but " in e for e in errors), errors
