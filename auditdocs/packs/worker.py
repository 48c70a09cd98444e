"""The pack builder in the background: a thread in each web process by default, or `auditdocs worker` on its own.

Why a polling thread and not a task queue: the job table is the queue (services.pack_jobs), claims are atomic, so
any number of web processes and `auditdocs worker` processes can share it with nothing else to run. The thread
starts with the first request (never in a CLI command, and after a pre-forking server has forked), builds what is
queued, then sleeps until a job is queued in this process or POLL seconds pass (jobs queued elsewhere). Set
AUDITDOCS_PACK_WORKER=off to leave building to `auditdocs worker` processes.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime

from flask import Flask, current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from ..extensions import db
from ..models import PackJob
from ..policy import AccessScope
from ..services import ServiceError, pack_jobs
from ..timeutil import utcnow
from .build import PackResult, build_pack, generated_by_of
from .spec import PackSpec

logger = logging.getLogger(__name__)
KEY = "auditdocs.pack_worker"
POLL = 5.0


def worker_name() -> str:
    """host:pid:thread, so the job row says which process built it."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.current_thread().name}"[:120]


def job_dir(job: PackJob) -> str:
    """One directory per job under the packs dir: a build never replaces another job's file."""
    return f"job-{job.id}"


@contextmanager
def _heartbeat(app: Flask, job_id: int, every: float) -> Iterator[None]:
    """Beat for the job while a long step reports no progress, so no other worker takes it for dead."""
    done = threading.Event()

    def _beat() -> None:
        while not done.wait(every):
            try:
                with app.app_context():
                    pack_jobs.beat(job_id)
            except Exception:
                logger.exception("pack job %s: the heartbeat could not be written", job_id)

    thread = threading.Thread(target=_beat, name=f"auditdocs-pack-beat-{job_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


def _failure(spec: PackSpec | None, exc: BaseException, job_id: int) -> str:
    """The sentence the person reads, in the pack's language; the details go to the server log only."""
    with force_locale(spec.lang if spec else current_app.config.get("DEFAULT_LANGUAGE", "es")):
        if isinstance(exc, ServiceError):
            return str(exc.message)
        return str(_("The pack could not be built because of an unexpected error. The administrator can find "
                     "the details in the server log (pack job %(id)s).", id=job_id))


def run_job(job: PackJob, *, heartbeat_every: float = pack_jobs.HEARTBEAT_SECONDS) -> PackJob:
    """Build one claimed job as the person who asked for it sees the data; record the file or why it failed."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    job_id = job.id
    spec: PackSpec | None = None
    try:
        spec = PackSpec.from_json(job.spec)
        user = job.created_by
        if not user.is_active:
            with force_locale(spec.lang):
                raise ServiceError(_("The account that asked for this pack is no longer active."))
        generated_at: datetime = utcnow().replace(microsecond=0)
        out_dir = pack_jobs.packs_dir() / job_dir(job)
        if out_dir.exists() and any(not p.name.startswith(".") for p in out_dir.iterdir()):
            raise RuntimeError(f"{out_dir} already holds a pack: refusing to overwrite it")
        with _heartbeat(app, job_id, heartbeat_every):
            result: PackResult = build_pack(spec, AccessScope.of(user), generated_by=generated_by_of(user),
                                            generated_at=generated_at, out_dir=out_dir,
                                            progress=pack_jobs.Throttled(job_id))
        db.session.rollback()  # end the build's long read before writing
        return pack_jobs.finish(job, result, generated_at=generated_at)
    except Exception as exc:
        if not isinstance(exc, ServiceError):
            logger.exception("pack job %s failed", job_id)
        db.session.rollback()
        return pack_jobs.fail(db.session.get_one(PackJob, job_id), _failure(spec, exc, job_id))


def run_once(app: Flask, name: str | None = None) -> PackJob | None:
    """Claim and build one queued job; the job as it ended, or None when nothing was queued."""
    with app.app_context():
        try:
            job = pack_jobs.claim_next(name or worker_name())
            if job is None:
                return None
            job = run_job(job)
            db.session.refresh(job)
            db.session.expunge(job)
            return job
        finally:
            db.session.remove()


def drain(app: Flask, should_stop: Callable[[], bool] = lambda: False,
          on_job: Callable[[PackJob], None] | None = None) -> int:
    """Build queued jobs until none is left (or asked to stop); how many were built or failed."""
    count = 0
    while not should_stop():
        job = run_once(app)
        if job is None:
            break
        count += 1
        if on_job is not None:
            on_job(job)
    return count


class Worker:
    """One thread per app: wakes when a job is queued here (or every POLL seconds), builds, stops on stop()."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self.poll = float(app.config.get("PACK_POLL_SECONDS") or POLL)

    def ensure_started(self) -> None:
        """Start the thread once (called before each request: a cheap check after the first)."""
        if self.thread is not None or self.stopping.is_set():
            return
        with self._start_lock:
            if self.thread is None:
                self.thread = threading.Thread(target=self._loop, name="auditdocs-packs", daemon=True)
                self.thread.start()

    def stop(self, timeout: float = 60.0) -> None:
        """Ask the thread to end after the pack in hand; wait for it."""
        self.stopping.set()
        self.wake.set()
        if self.thread is not None:
            self.thread.join(timeout)

    def _loop(self) -> None:
        while not self.stopping.is_set():
            self.wake.clear()
            try:
                drain(self.app, self.stopping.is_set)
            except Exception:
                logger.exception("pack worker: the queue could not be read; trying again in %.0f s", self.poll)
            self.wake.wait(self.poll)


def init_app(app: Flask) -> None:
    """Start the thread with the first request, unless AUDITDOCS_PACK_WORKER=off."""
    mode = str(app.config.get("PACK_WORKER") or "thread").lower()
    if mode == "off":
        return
    if mode != "thread":
        raise ValueError(f"AUDITDOCS_PACK_WORKER must be thread or off, not {mode!r}")
    worker = Worker(app)
    app.extensions[KEY] = worker
    app.before_request(worker.ensure_started)


def worker_of(app: Flask) -> Worker | None:
    """The app's worker (None when it is off), e.g. to wake or stop it."""
    found = app.extensions.get(KEY)
    return found if isinstance(found, Worker) else None


def notify(app: Flask) -> None:
    """A job was queued in this process: build it now rather than at the next poll."""
    worker = worker_of(app)
    if worker is not None:
        worker.wake.set()
