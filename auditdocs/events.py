"""Change events: services announce what changed; subscribers hear of it once, in order, after the commit.

Why: the search index and notifications must follow the database, never run ahead of it. The audit trail stays
in the writing transaction (it is evidence); these events are for derived things that may lag and be rebuilt.

Mechanism (SQLAlchemy session events, no blinker): `announce()` keeps the change on the session, tagged with the
transaction it happened in; `after_commit` hands the batch to every subscriber of the app and forgets it; a
rollback forgets what was announced inside the transaction or savepoint it undoes. Subscribers receive plain
`Change` values while the session is between transactions, so one that needs rows opens an app context of its
own (a session of its own) or hands the ids to a worker. A subscriber that fails is logged and skipped: the
user's change is committed already and nothing undoes it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from .db import outside_writes
from .extensions import db

logger = logging.getLogger(__name__)
_PENDING = "auditdocs.changes"
_SUBSCRIBERS = "auditdocs.subscribers"


@dataclass(frozen=True)
class Change:
    """What changed: the kind of entity, its database id and the action ("create", "approve", ...)."""

    entity: str
    id: int
    action: str


Subscriber = Callable[[Sequence[Change]], None]


def announce(entity: str, entity_id: int, action: str) -> None:
    """Note a change in the current transaction; it reaches subscribers only if that transaction commits."""
    session = db.session()
    transaction = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(_PENDING, []).append((transaction, Change(entity, int(entity_id), action)))


def subscribe(app: Flask, subscriber: Subscriber) -> Callable[[], None]:
    """Call `subscriber` with each committed batch of changes; returns a function that unsubscribes it."""
    subscribers: list[Subscriber] = app.extensions.setdefault(_SUBSCRIBERS, [])
    subscribers.append(subscriber)
    return lambda: subscribers.remove(subscriber)


def _deliver(session: Session) -> None:
    """after_commit of the outermost transaction (a released savepoint commits nothing yet): every change, in
    announcement order, to each subscriber."""
    if session.in_nested_transaction():
        return
    pending = session.info.pop(_PENDING, None)
    if not pending or not has_app_context():
        return
    changes = tuple(change for _transaction, change in pending)
    with outside_writes():
        for subscriber in list(current_app.extensions.get(_SUBSCRIBERS, ())):
            try:
                subscriber(changes)
            except Exception:
                logger.exception("change subscriber %r failed on %d change(s); the committed change stands",
                                 subscriber, len(changes))


def _within(transaction: SessionTransaction | None, undone: SessionTransaction) -> bool:
    """True when `transaction` is the undone one or nested inside it (None: announced before the outermost
    transaction began, so it belongs to that one)."""
    if transaction is None:
        return undone.parent is None
    while transaction is not None:
        if transaction is undone:
            return True
        transaction = transaction.parent
    return False


def _forget(session: Session, previous_transaction: SessionTransaction) -> None:
    """after_soft_rollback: drop what the undone transaction (or savepoint) announced."""
    pending = session.info.get(_PENDING)
    if pending:
        pending[:] = [(t, c) for t, c in pending if not _within(t, previous_transaction)]


def _drop_leftovers(session: Session, transaction: SessionTransaction) -> None:
    """after_transaction_end of the outermost transaction: nothing announced outlives it (a close without commit)."""
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


def install() -> None:
    """Hook delivery into the session (once per process: there is one session factory)."""
    hooks: tuple[tuple[str, Callable[..., Any]], ...] = (("after_commit", _deliver),
                                                          ("after_soft_rollback", _forget),
                                                          ("after_transaction_end", _drop_leftovers))
    for name, hook in hooks:
        if not event.contains(db.session, name, hook):
            event.listen(db.session, name, hook)
