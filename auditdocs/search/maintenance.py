"""Keeping the index whole off the request path: rebuilds, merges, retries, the day's in-force changes, and what
/healthz and `auditdocs verify` say about it.

Why a thread: merging segments costs a merging commit (≈200 ms) that no request should wait for, a version
approved ahead of its effective date comes into force at midnight without any change event, and an update that
failed while the index was locked must be retried. One small thread per web process, woken every POLL seconds;
AUDITDOCS_SEARCH_MAINTENANCE=off leaves it all to `auditdocs reindex` (tests call `maintain` directly).
"""

from __future__ import annotations

import logging
import threading
from datetime import date, timedelta
from typing import Any

from flask import Flask, current_app
from sqlalchemy import select

from ..extensions import db
from ..models import DocumentVersion
from ..timeutil import local_today
from . import backend, sources
from . import index_state as backend_state
from .indexing import apply, db_total, lag_of, rebuild, retry_waiting
from .types import MAX_SEGMENTS, IndexUnavailable

logger = logging.getLogger(__name__)
KEY = "auditdocs.search.maintainer"
POLL = 60.0


def coming_into_force(since: date, today: date) -> set[str]:
    """Versions of documents where a version's effective day fell in (since, today]: their in-force flags moved."""
    documents = select(DocumentVersion.document_id).where(DocumentVersion.effective_date > since,
                                                          DocumentVersion.effective_date <= today)
    return {f"version:{i}" for i in db.session.scalars(
        select(DocumentVersion.id).where(DocumentVersion.document_id.in_(documents)))}


class Maintainer:
    """Per app: rebuild an unusable index, retry failed updates, follow the calendar, merge segments."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.day: date | None = None
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self.poll = float(app.config.get("SEARCH_MAINTENANCE_SECONDS") or POLL)

    def ensure_started(self) -> None:
        if self.thread is not None or self.stopping.is_set():
            return
        with self._start_lock:
            if self.thread is None:
                self.thread = threading.Thread(target=self._loop, name="auditdocs-search", daemon=True)
                self.thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self.stopping.set()
        if self.thread is not None:
            self.thread.join(timeout)

    def _loop(self) -> None:
        while not self.stopping.is_set():
            self.run_once()
            self.stopping.wait(self.poll)

    def run_once(self) -> list[str]:
        """One round; returns what it did (logged, and read by tests). Never raises."""
        done: list[str] = []
        try:
            with self.app.app_context():
                try:
                    done = self._round()
                finally:
                    db.session.remove()
        except IndexUnavailable as exc:
            logger.warning("search maintenance postponed (%s: %s)", exc.reason, exc.detail)
        except Exception:
            logger.exception("search maintenance failed; tried again in %.0f s", self.poll)
        return done

    def _round(self) -> list[str]:
        done: list[str] = []
        health = backend().health()
        if health.needs_rebuild and not health.rebuilding:
            done.append(f"rebuilt {rebuild()} ({health.status})")
            self.day = local_today()
            return done
        if health.status == "locked":
            backend().clear_stale_lock()
        if retried := retry_waiting():
            done.append(f"retried {retried}")
        today = local_today()
        if self.day != today:
            moved = coming_into_force(self.day or today - timedelta(days=1), today)
            if moved:
                apply(moved)
                done.append(f"in force {len(moved)}")
            self.day = today
        if backend().health().segments > MAX_SEGMENTS:
            done.append(f"merged to {backend().merge_segments()}")
        return done


def init_app(app: Flask) -> None:
    """Start the maintenance thread with the first request (never in a CLI command), unless it is off."""
    mode = str(app.config.get("SEARCH_MAINTENANCE") or "thread").lower()
    if mode not in ("thread", "off"):
        raise ValueError(f"AUDITDOCS_SEARCH_MAINTENANCE must be thread or off, not {mode!r}")
    maintainer = Maintainer(app)
    app.extensions[KEY] = maintainer
    if mode == "thread":
        app.before_request(maintainer.ensure_started)


def maintainer_of(app: Flask) -> Maintainer:
    found = app.extensions.get(KEY)
    if not isinstance(found, Maintainer):
        found = app.extensions.setdefault(KEY, Maintainer(app))
    return found


def index_state() -> dict[str, Any]:
    """/healthz: the backend's health plus the lag (seconds behind, keys waiting, documents the index lacks)."""
    state = backend_state()
    lag = lag_of(current_app._get_current_object())  # type: ignore[attr-defined]
    state["lag_seconds"] = lag.seconds()
    state["pending_changes"] = len(lag.waiting())
    try:
        in_db = sum(sources.db_counts().values())
        state["database_docs"] = in_db
        state["missing"] = max(0, in_db - int(str(state.get("docs") or 0))) if state.get("status") == "ok" else in_db
    except Exception as exc:  # pragma: no cover - /healthz reports the database separately
        db.session.rollback()
        state["missing"] = None
        state["detail"] = f"{state.get('detail') or ''} counts: {exc.__class__.__name__}".strip()
    state["lagging"] = bool(state["lag_seconds"] or state["pending_changes"] or state["missing"])
    return state


def index_problems() -> list[str]:
    """`auditdocs verify`: the index against the database, kind by kind (empty when they agree)."""
    health = backend().health()
    if health.status == "absent" and db_total() == 0:
        return []  # nothing to search yet: the first change builds it
    if not health.ok:
        return [f"search index is {health.status}{': ' + health.detail if health.detail else ''} "
                "(`auditdocs reindex` rebuilds it)"]
    indexed, expected = backend().count_by_kind(), sources.db_counts()
    problems = [f"search index holds {indexed.get(kind, 0)} {kind} document(s), the database {count} "
                "(`auditdocs reindex` rebuilds it)"
                for kind, count in expected.items() if indexed.get(kind, 0) != count]
    if problems:
        db_keys = {f"{kind}:{i}" for kind in expected for i in db.session.scalars(sources.ids_of(kind))}
        missing = sorted(db_keys - backend().keys())
        if missing:
            shown = ", ".join(missing[:10]) + (" …" if len(missing) > 10 else "")
            problems.append(f"not in the search index: {shown}")
    return problems
