"""Change events: announced by services, delivered once and in order after a commit, never after a rollback; a
failing subscriber never undoes or breaks the user's request. Also the guard against writes outside
write_transaction()."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from support import create_document

from auditdocs.db import write_transaction
from auditdocs.events import Change, announce, subscribe
from auditdocs.extensions import db
from auditdocs.models import Document, DocumentVersion, User


class Recorder:
    """A subscriber that keeps every batch it receives."""

    def __init__(self) -> None:
        self.batches: list[tuple[Change, ...]] = []

    def __call__(self, changes: Sequence[Change]) -> None:
        self.batches.append(tuple(changes))

    @property
    def changes(self) -> list[Change]:
        return [c for batch in self.batches for c in batch]


@pytest.fixture
def recorder(app: Flask) -> Recorder:
    rec = Recorder()
    subscribe(app, rec)
    return rec


def _ids(app: Flask, code: str) -> tuple[int, int]:
    with app.app_context():
        doc_id = db.session.scalar(select(Document.id).where(Document.code == code))
        version_id = db.session.scalar(select(DocumentVersion.id).where(DocumentVersion.document_id == doc_id))
        db.session.remove()
    assert doc_id is not None and version_id is not None
    return doc_id, version_id


def _create(client: Any, owner_id: int, code: str) -> Any:
    return create_document(client, owner_id, code=code)


def test_a_committed_upload_is_delivered_once_in_order(app, client, login_as, recorder):
    rosa = login_as("quality_officer")
    assert recorder.batches == [(Change("user", rosa.id, "create"),)]
    recorder.batches.clear()
    assert _create(client, rosa.id, "PR-EV-001").status_code == 302
    doc_id, version_id = _ids(app, "PR-EV-001")
    assert recorder.batches == [(Change("document", doc_id, "create"), Change("document_version", version_id,
                                                                              "upload"))]


def test_each_commit_is_its_own_batch(app, client, login_as, make_user, recorder):
    rosa = login_as("quality_officer")
    assert _create(client, rosa.id, "PR-EV-002").status_code == 302
    doc_id, version_id = _ids(app, "PR-EV-002")
    approver = make_user("quality_officer")
    recorder.batches.clear()
    client.post_form("/logout", page="/")
    client.post_form("/login", {"email": approver.email, "password": approver.password})
    assert client.post_form(f"/documents/{doc_id}/versions/1/approve", {}, page=f"/documents/{doc_id}").status_code \
        == 302
    assert recorder.batches == [(Change("document_version", version_id, "approve"),)]


def test_a_refused_request_delivers_nothing(app, client, login_as, recorder):
    rosa = login_as("quality_officer")
    assert _create(client, rosa.id, "PR-EV-003").status_code == 302
    recorder.batches.clear()
    assert _create(client, rosa.id, "PR-EV-003").status_code == 409  # duplicate code: rolled back
    assert recorder.batches == []
    with app.app_context():
        assert db.session.scalar(select(func.count(Document.id))) == 1


def test_rollback_delivers_nothing_and_a_savepoint_rollback_only_its_own(app, make_user, recorder):
    user = make_user("quality_officer")
    recorder.batches.clear()
    with app.app_context(), pytest.raises(RuntimeError), write_transaction():
        announce("user", user.id, "touched")
        raise RuntimeError("the write fails")
    assert recorder.batches == []

    with app.app_context(), write_transaction():
        announce("user", user.id, "kept-before")
        savepoint = db.session.begin_nested()
        announce("user", user.id, "undone")
        savepoint.rollback()
        announce("user", user.id, "kept-after")
    assert recorder.batches == [(Change("user", user.id, "kept-before"), Change("user", user.id, "kept-after"))]


def test_a_failing_subscriber_never_breaks_the_request(app, client, login_as, recorder, caplog):
    def broken(_changes: Sequence[Change]) -> None:
        raise OSError("index disk full")

    subscribe(app, broken)
    late = Recorder()
    subscribe(app, late)  # subscribed after the broken one: still served
    rosa = login_as("quality_officer")
    recorder.batches.clear()
    late.batches.clear()
    with caplog.at_level(logging.ERROR, logger="auditdocs.events"):
        resp = _create(client, rosa.id, "PR-EV-004")
    assert resp.status_code == 302
    doc_id, _version_id = _ids(app, "PR-EV-004")
    assert client.get(f"/documents/{doc_id}").status_code == 200  # the change stands
    assert late.changes[0] == Change("document", doc_id, "create") and recorder.changes == late.changes
    assert any("change subscriber" in r.getMessage() and r.exc_info for r in caplog.records)


def test_a_subscriber_reads_rows_in_a_session_of_its_own(app, client, login_as):
    seen: list[str] = []

    def reader(changes: Sequence[Change]) -> None:
        with app.app_context():  # the writing session is between transactions: use another
            for change in changes:
                if change.entity == "document":
                    seen.append(db.session.get(Document, change.id).code)
            db.session.remove()

    subscribe(app, reader)
    rosa = login_as("quality_officer")
    assert _create(client, rosa.id, "PR-EV-005").status_code == 302
    assert seen == ["PR-EV-005"]


def test_unsubscribe(app, make_user):
    rec = Recorder()
    stop = subscribe(app, rec)
    user = make_user("quality_officer")  # its creation is delivered
    stop()
    make_user("quality_officer")
    assert rec.changes == [Change("user", user.id, "create")]


@pytest.fixture
def stray_routes(app: Flask) -> Flask:
    """Two routes that rename the logged-in user: one outside write_transaction(), one inside."""
    from auditdocs.web.security import actor

    def outside() -> str:
        actor().name = "Renamed outside"
        db.session.flush()
        return "written"

    def inside() -> str:
        with write_transaction():
            actor().name = "Renamed inside"
        return "written"

    app.add_url_rule("/_test/stray", "stray", outside, methods=["POST"])
    app.add_url_rule("/_test/proper", "proper", inside, methods=["POST"])
    return app


def test_a_write_outside_write_transaction_fails_loudly_and_changes_nothing(stray_routes, client, login_as, caplog):
    user = login_as("quality_officer")
    with caplog.at_level(logging.ERROR):
        assert client.post_form("/_test/stray", {}, page="/").status_code == 500
    assert any("outside write_transaction" in str(r.exc_info[1]) for r in caplog.records if r.exc_info)
    with stray_routes.app_context():
        assert db.session.get(User, user.id).name != "Renamed outside"
    assert client.post_form("/_test/proper", {}, page="/").status_code == 200
    with stray_routes.app_context():
        assert db.session.get(User, user.id).name == "Renamed inside"


def test_a_released_savepoint_delivers_nothing_until_the_outer_commit(app, make_user, recorder):
    user = make_user("quality_officer")
    recorder.batches.clear()
    with app.app_context(), pytest.raises(RuntimeError), write_transaction():
        announce("user", user.id, "outer")
        with write_transaction():  # a savepoint, released here
            announce("user", user.id, "inner")
        assert recorder.batches == []
        raise RuntimeError("the outer write fails after the savepoint was released")
    assert recorder.batches == []


def test_an_inner_block_that_fails_undoes_only_its_own_changes(app, make_user, recorder):
    user = make_user("quality_officer")
    recorder.batches.clear()
    with app.app_context(), write_transaction():
        db.session.get(User, user.id).name = "Kept"
        announce("user", user.id, "kept")
        with pytest.raises(RuntimeError), write_transaction():
            db.session.get(User, user.id).language = "en"
            announce("user", user.id, "undone")
            raise RuntimeError("the inner step fails; the outer block goes on")
    with app.app_context():
        row = db.session.get(User, user.id)
        assert (row.name, row.language) == ("Kept", None)
    assert recorder.batches == [(Change("user", user.id, "kept"),)]


def test_a_subscriber_may_write_in_a_transaction_of_its_own(app, make_user):
    def renamer(changes: Sequence[Change]) -> None:
        with app.app_context():
            with write_transaction():
                for change in changes:
                    db.session.get(User, change.id).name = "Renamed by a subscriber"
            db.session.remove()

    subscribe(app, renamer)
    user = make_user("quality_officer")
    with app.app_context():
        assert db.session.get(User, user.id).name == "Renamed by a subscriber"
