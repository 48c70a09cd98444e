"""The index follows the database: committed changes re-index what they touch, synchronously after the commit.

Why after the commit and never before: a rolled-back change must not be findable. Why synchronously: a document
approved a moment ago must be found by the next search (one document's update costs a few milliseconds: the
backend commits without merging). A failure (index locked, absent, corrupt) never fails the user's request: it is
logged, the keys are kept for the maintenance loop to retry, and the lag shows on /healthz and in `verify`.
AUDITDOCS_SEARCH_INDEXING=off leaves the index to `auditdocs reindex` (bulk loads, or a deployment that
rebuilds nightly).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from flask import Flask, current_app
from sqlalchemy import select

from ..events import Change, subscribe
from ..extensions import db
from ..models import Attachment, CorrectiveAction, DocumentVersion
from . import backend, sources
from .types import IndexUnavailable

logger = logging.getLogger(__name__)
LAG_KEY = "auditdocs.search.lag"
MODES = ("sync", "off")
RECORDS = ("nonconformity", "corrective_action", "bribery_risk", "due_diligence", "gift", "attachment")
INDEXED = frozenset({"document", "document_version", *RECORDS})
AUTO_BUILD_MAX = 2_000  # a missing index this small is built right after a change; a larger one off the request path
MAX_RETRY = 50_000  # beyond this many keys waiting, only a reindex catches up (the lag says so)


@dataclass
class Lag:
    """How far this process's index writes trail its changes (read by /healthz; retried by the maintenance loop)."""

    last_change: float | None = None
    last_write: float | None = None
    failing_since: float | None = None
    retry: set[str] = field(default_factory=set)
    overflow: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def heard(self) -> None:
        with self.lock:
            self.last_change = time.time()

    def wrote(self, keys: Iterable[str]) -> None:
        with self.lock:
            self.last_write = time.time()
            self.failing_since = None
            self.retry.difference_update(keys)

    def failed(self, keys: Iterable[str]) -> None:
        with self.lock:
            self.failing_since = self.failing_since or time.time()
            self.retry.update(keys)
            if len(self.retry) > MAX_RETRY:
                self.retry.clear()
                self.overflow = True

    def rebuilt(self) -> None:
        """A full reindex caught up with everything committed before it started."""
        with self.lock:
            self.retry.clear()
            self.overflow = False
            self.failing_since = None
            self.last_write = time.time()

    def waiting(self) -> set[str]:
        with self.lock:
            return set(self.retry)

    def seconds(self) -> float:
        """Seconds since the oldest change not yet written (0 when the index has caught up)."""
        with self.lock:
            if self.failing_since is None and not self.retry and not self.overflow:
                return 0.0
            return round(time.time() - (self.failing_since or self.last_change or time.time()), 1)


def lag_of(app: Flask) -> Lag:
    found = app.extensions.get(LAG_KEY)
    if not isinstance(found, Lag):
        found = app.extensions.setdefault(LAG_KEY, Lag())
    return found


def keys_for(changes: Sequence[Change]) -> set[str]:
    """The search keys a batch of changes touches (a document's change re-indexes all its versions: their
    metadata, in-force state and restriction come from it; a nonconformity's, its actions too)."""
    ids: dict[str, set[int]] = {}
    for change in changes:
        ids.setdefault(change.entity, set()).add(change.id)
    keys = {f"{kind}:{i}" for kind in RECORDS for i in ids.get(kind, ())}
    texts = {c.id for c in changes if c.entity == "document_version" and c.action == "text"}
    keys |= {f"version:{i}" for i in texts}
    documents = set(ids.get("document", ()))
    if versions := ids.get("document_version", set()) - texts:
        documents |= set(db.session.scalars(select(DocumentVersion.document_id)
                                            .where(DocumentVersion.id.in_(versions))))
    if documents:
        keys |= {f"version:{i}" for i in db.session.scalars(select(DocumentVersion.id)
                                                             .where(DocumentVersion.document_id.in_(documents)))}
    if ncs := ids.get("nonconformity"):
        keys |= {f"corrective_action:{i}" for i in db.session.scalars(
            select(CorrectiveAction.id).where(CorrectiveAction.nonconformity_id.in_(ncs)))}
    if risks := ids.get("bribery_risk"):  # an approval changes who may read a risk's evidence
        keys |= {f"attachment:{i}" for i in db.session.scalars(select(Attachment.id).where(
            Attachment.owner_type == "bribery_risk", Attachment.owner_id.in_(risks)))}
    return keys


def apply(keys: Iterable[str]) -> int:
    """Re-index these keys from the database (deleting those whose rows are gone); IndexUnavailable propagates."""
    docs, gone = sources.docs_for(keys)
    db.session.rollback()  # end the read before waiting for the index's write lock
    written = backend().index_docs(docs) if docs else 0
    if gone:
        backend().delete(gone)
    return written


def db_total() -> int:
    """How many search documents the database holds (the rebuild's progress bar)."""
    return sum(sources.db_counts().values())


def rebuild(progress: Callable[[int], None] | None = None) -> int:
    """Rebuild the whole index from the database in batches, swapped in atomically; returns the documents indexed."""
    done = backend().reindex(sources.all_docs(), total=db_total(), progress=progress)
    lag_of(current_app._get_current_object()).rebuilt()  # type: ignore[attr-defined]
    return done


def mode_of(app: Flask) -> str:
    mode = str(app.config.get("SEARCH_INDEXING") or "sync").lower()
    if mode not in MODES:
        raise ValueError(f"AUDITDOCS_SEARCH_INDEXING must be sync or off, not {mode!r}")
    return mode


def subscriber(app: Flask) -> Callable[[Sequence[Change]], None]:
    """The change subscriber of one app: re-index in an app context (a session) of its own."""
    lag = lag_of(app)

    def on_changes(changes: Sequence[Change]) -> None:
        relevant = [c for c in changes if c.entity in INDEXED]
        if not relevant:
            return
        lag.heard()
        keys: set[str] = lag.waiting()
        with app.app_context():
            try:
                keys |= keys_for(relevant)
                _apply_or_build(keys)
                lag.wrote(keys)
            except IndexUnavailable as exc:
                lag.failed(keys)
                logger.warning("search index not updated (%s: %s); %d key(s) wait for a retry", exc.reason,
                               exc.detail, len(keys))
            except Exception:
                lag.failed(keys)
                logger.exception("search index not updated; %d key(s) wait for a retry", len(keys))
            finally:
                db.session.remove()

    return on_changes


def _apply_or_build(keys: set[str]) -> None:
    """Apply the keys; a missing index (a fresh install) is built from the database first when that is quick,
    else left to the maintenance thread or `auditdocs reindex`."""
    try:
        apply(keys)
    except IndexUnavailable as exc:
        if exc.reason != "absent" or db_total() > AUTO_BUILD_MAX:
            raise
        db.session.rollback()
        rebuild()


def retry_waiting() -> int:
    """Write the keys a failed update left behind (the maintenance loop); IndexUnavailable propagates."""
    lag = lag_of(current_app._get_current_object())  # type: ignore[attr-defined]
    keys = lag.waiting()
    if not keys:
        return 0
    apply(keys)
    lag.wrote(keys)
    return len(keys)


def init_app(app: Flask) -> None:
    """Subscribe to change events unless indexing is off (checked now: a bad value fails at start)."""
    if mode_of(app) == "sync":
        subscribe(app, subscriber(app))
