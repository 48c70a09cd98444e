"""The background reader: a thread in each web process that extracts pending text when an upload commits.

Why a thread woken by change events: the upload answers at once, and its text is read a moment later without a
separate service to run. It starts with the first request (never in a CLI command, and after a pre-forking server
has forked), drains whatever is pending, then sleeps until a version or an attachment is added in this process, or
POLL seconds pass (uploads in other processes, `auditdocs import`). A lock file in the data dir lets one process
read at a time, so several web workers never read the same backlog twice. Set AUDITDOCS_EXTRACT_WORKER=off to
leave extraction to `auditdocs index --pending` (e.g. from cron).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

from flask import Flask

from .. import events
from ..extensions import db
from .service import run_pending

logger = logging.getLogger(__name__)
KEY = "auditdocs.extract_worker"
POLL = 60.0
LOCK_RETRY = 0.5
TRIGGERS = frozenset({("document_version", "upload"), ("attachment", "add")})


class Worker:
    """One thread per app: wakes on new uploads, reads what is pending, stops on stop()."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self.poll = float(app.config.get("EXTRACT_POLL_SECONDS") or POLL)

    def ensure_started(self) -> None:
        """Start the thread once (called before each request: a cheap check after the first)."""
        if self.thread is not None or self.stopping.is_set():
            return
        with self._start_lock:
            if self.thread is None:
                self.thread = threading.Thread(target=self._loop, name="auditdocs-extract", daemon=True)
                self.thread.start()

    def on_changes(self, changes: Sequence[events.Change]) -> None:
        """Change subscriber: a new version or attachment wakes the thread."""
        if any((change.entity, change.action) in TRIGGERS for change in changes):
            self.wake.set()

    def stop(self, timeout: float = 30.0) -> None:
        """Ask the thread to finish the file in hand and end; wait for it."""
        self.stopping.set()
        self.wake.set()
        if self.thread is not None:
            self.thread.join(timeout)

    def _loop(self) -> None:
        while not self.stopping.is_set():
            self.wake.clear()
            self._drain()
            self.wake.wait(self.poll)

    @contextlib.contextmanager
    def _turn(self) -> Iterator[bool]:
        """Hold the data dir's extraction lock (waiting while another process reads); False when stopping."""
        path = Path(self.app.config["DATA_DIR"]) / "extract.lock"
        with path.open("a") as handle:
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if self.stopping.wait(LOCK_RETRY):
                        yield False
                        return
            try:
                yield True
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _drain(self) -> None:
        """Read everything pending; an error is logged and retried at the next wake, never raised."""
        try:
            with self._turn() as mine:
                if not mine:
                    return
                with self.app.app_context():
                    try:
                        summary = run_pending(should_stop=self.stopping.is_set)
                    finally:
                        db.session.remove()
                if summary.total:
                    logger.info("text extraction: %s", summary.counts)
        except Exception:
            logger.exception("text extraction failed; it is tried again at the next upload or in %.0f s", self.poll)


def init_app(app: Flask) -> None:
    """Subscribe to change events and start the thread with the first request, when the worker is on."""
    mode = str(app.config.get("EXTRACT_WORKER") or "thread").lower()
    if mode == "off":
        return
    if mode != "thread":
        raise ValueError(f"AUDITDOCS_EXTRACT_WORKER must be thread or off, not {mode!r}")
    worker = Worker(app)
    app.extensions[KEY] = worker
    events.subscribe(app, worker.on_changes)
    app.before_request(worker.ensure_started)


def worker_of(app: Flask) -> Worker | None:
    """The app's worker (None when it is off), e.g. to stop it."""
    found = app.extensions.get(KEY)
    return found if isinstance(found, Worker) else None
