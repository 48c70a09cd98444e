"""The pack job queue: ask for a pack, let one worker claim it, record its progress, its file or why it failed.

Why every step is a row change: the page, a reload, another web worker and `auditdocs worker` in another process
all read the same state. A claim is one conditional UPDATE (`... WHERE id = ? AND status = 'queued'`) whose row
count says who won, so two workers never build the same job on SQLite or PostgreSQL. Progress is written on a
connection of its own, in a short transaction, so it is visible while the build's long read is still open.

A running job whose heartbeat is older than the stale limit (its worker died: a restart, the OOM killer) is failed
with a sentence when the next worker looks for work, not re-queued: a pack that kills its worker would otherwise
kill every worker in turn. The person asks for it again. Built files are never overwritten or deleted.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import CursorResult, Select, select, update
from sqlalchemy.orm import Session

from ..db import set_write_mode, wants_immediate, write_transaction
from ..extensions import db
from ..models import PackJob, User
from ..packs.build import PackResult
from ..packs.spec import PackSpec
from ..timeutil import utcnow
from . import ServiceError, audit

STALE_MINUTES = 10.0  # a running job silent this long lost its worker (the worker beats every HEARTBEAT_SECONDS)
HEARTBEAT_SECONDS = 30.0
PROGRESS_INTERVAL = 0.5  # at most two progress writes a second per job
CLAIM_CANDIDATES = 5  # queued jobs tried per claim: another worker may take the first ones meanwhile
STALE_MESSAGE = _l("The build stopped because the process building it ended (a server restart, for instance). "
                   "Nothing was kept; please ask for the pack again.")


def packs_dir() -> Path:
    """Where built packs live: PACKS_DIR (by default packs/ in the data dir)."""
    return Path(current_app.config["PACKS_DIR"])


def queue(spec: PackSpec, user: User) -> PackJob:
    """Add a queued job in the caller's transaction, audited as "pack.queue"."""
    job = PackJob(spec=spec.to_json(), status="queued", created_by_id=user.id, created_at=utcnow())
    db.session.add(job)
    db.session.flush()
    audit.record("pack.queue", "pack_job", job.id, new={"spec": json.loads(job.spec)}, actor=user)
    return job


def visible_jobs(user: User, *, everyone: bool) -> Select[PackJob]:
    """Newest first: the person's own jobs, or everyone's for those who oversee them (admins)."""
    stmt = select(PackJob).order_by(PackJob.created_at.desc(), PackJob.id.desc())
    return stmt if everyone else stmt.where(PackJob.created_by_id == user.id)


def job_for(job_id: int, user: User, *, everyone: bool) -> PackJob:
    """The job if this person may see it; 404 otherwise, so another person's job is not even confirmed to exist."""
    job = db.session.get(PackJob, job_id)
    if job is None or (not everyone and job.created_by_id != user.id):
        raise ServiceError(_l("There is no pack %(id)s, or it is not yours to see.", id=job_id), 404)
    return job


@contextmanager
def _own_connection() -> Iterator[Session]:
    """A short write transaction on a connection of its own (BEGIN IMMEDIATE on SQLite), committed at once."""
    before = wants_immediate()
    set_write_mode(True)
    try:
        with Session(db.engine) as session, session.begin():
            yield session
    finally:
        set_write_mode(before)


def _stale() -> Select[PackJob]:
    cutoff = utcnow() - timedelta(minutes=float(current_app.config.get("PACK_STALE_MINUTES") or STALE_MINUTES))
    return select(PackJob).where(PackJob.status == "running", PackJob.heartbeat_at < cutoff).order_by(PackJob.id)


def fail_stale() -> int:
    """Fail running jobs whose worker stopped beating (read first: most polls find none and write nothing)."""
    if db.session.scalar(_stale().limit(1)) is None:
        db.session.commit()
        return 0
    with write_transaction():
        stale = list(db.session.scalars(_stale()))  # again under the write lock: another worker may have done it
        for job in stale:
            _mark_failed(job, str(STALE_MESSAGE), utcnow())
    return len(stale)


def claim_next(worker_name: str) -> PackJob | None:
    """Take the oldest queued job for this worker, or None; stale running jobs are failed first (see above)."""
    fail_stale()
    candidates = list(db.session.scalars(select(PackJob.id).where(PackJob.status == "queued")
                                         .order_by(PackJob.created_at, PackJob.id).limit(CLAIM_CANDIDATES)))
    db.session.commit()
    for job_id in candidates:
        if claim(job_id, worker_name):
            return db.session.get_one(PackJob, job_id)  # claimed just now; jobs are never deleted
    return None


def claim(job_id: int, worker_name: str) -> bool:
    """Move one queued job to running for this worker; False when another worker got it first."""
    now = utcnow()
    with write_transaction():
        result = db.session.execute(
            update(PackJob).where(PackJob.id == job_id, PackJob.status == "queued")
            .values(status="running", worker=worker_name[:120], started_at=now, heartbeat_at=now, stage="queued",
                    progress_done=0, progress_total=0)
            .execution_options(synchronize_session=False))
        won = cast("CursorResult[Any]", result).rowcount == 1
    db.session.expire_all()
    return won


def progress(job_id: int, done: int, total: int, stage: str) -> None:
    """Record how far a running job is, and that its worker is alive, where every reader sees it at once."""
    with _own_connection() as session:
        session.execute(update(PackJob).where(PackJob.id == job_id, PackJob.status == "running")
                        .values(progress_done=max(0, done), progress_total=max(0, total), stage=stage[:40],
                                heartbeat_at=utcnow()))


def beat(job_id: int) -> None:
    """Only the heartbeat: the worker is alive while a long step reports no progress."""
    with _own_connection() as session:
        session.execute(update(PackJob).where(PackJob.id == job_id, PackJob.status == "running")
                        .values(heartbeat_at=utcnow()))


@dataclass
class Throttled:
    """The builder's progress callback for one job: at most one write per `interval` seconds (the first at once)."""

    job_id: int
    interval: float = PROGRESS_INTERVAL
    _last: float | None = None

    def __call__(self, done: int, total: int, stage: str) -> None:
        now = time.monotonic()
        if self._last is not None and now - self._last < self.interval:
            return
        self._last = now
        progress(self.job_id, done, total, stage)


def finish(job: PackJob, result: PackResult, *, generated_at: datetime) -> PackJob:
    """Record the built file and its hashes (path relative to the packs dir) and audit "pack.build"."""
    job_id = job.id
    with write_transaction():
        job = db.session.get_one(PackJob, job_id)
        if job.status != "running":
            raise ServiceError(_l("The pack %(id)s is no longer being built.", id=job_id), 409)
        path = Path(result.path).resolve()
        try:
            relative = path.relative_to(packs_dir().resolve())
        except ValueError:
            relative = Path(path.name)
        job.status, job.finished_at, job.stage, job.error = "done", utcnow(), "done", None
        job.progress_done = job.progress_total = max(job.progress_total, 1)
        job.pack_id, job.generated_at = result.pack_id, generated_at
        job.file_name, job.file_path, job.file_size = result.file_name, relative.as_posix(), result.size
        job.file_sha256, job.docx_sha256, job.manifest_sha256 = (result.file_sha256, result.docx_sha256,
                                                                  result.manifest_sha256)
        job.evidence_files, job.evidence_bytes = result.evidence_files, result.evidence_bytes
        audit.record("pack.build", "pack_job", job.id, actor=job.created_by, new={
            "pack_id": result.pack_id, "file": result.file_name, "size": result.size,
            "sha256": result.file_sha256, "docx_sha256": result.docx_sha256,
            "manifest_sha256": result.manifest_sha256, "evidence_files": result.evidence_files,
            "generated_at": generated_at})
    return job


def _mark_failed(job: PackJob, message: str, now: datetime) -> None:
    job.status, job.error, job.finished_at = "failed", message[:2000], now
    audit.record("pack.fail", "pack_job", job.id, actor=job.created_by, new={"error": job.error})


def fail(job: PackJob, message: str) -> PackJob:
    """End the job as failed with a sentence for the person (never a traceback), audited as "pack.fail"."""
    job_id = job.id
    with write_transaction():
        job = db.session.get_one(PackJob, job_id)
        if job.status in ("queued", "running"):
            _mark_failed(job, message, utcnow())
    return job


def file_of(job: PackJob) -> Path | None:
    """The built file on disk, when the job is done and the file is still there."""
    if job.status != "done" or not job.file_path:
        return None
    root = packs_dir().resolve()
    path = (root / job.file_path).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        return None
    return path


def record_download(job: PackJob, user: User) -> None:
    """Audit "pack.download" in the caller's transaction: who took which file."""
    audit.record("pack.download", "pack_job", job.id, actor=user,
                 new={"pack_id": job.pack_id, "file": job.file_name, "sha256": job.file_sha256})
