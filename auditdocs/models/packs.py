"""Word-pack jobs: what was asked for, how far the build is, and what it produced (issue 14).

Why a row and not a thread's memory: a reload, another server worker or `auditdocs worker` in another process must
all see the same progress, and the list of past packs (who, when, hashes) outlives every process.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model, one_of
from ..timeutil import utcnow
from .users import User

JOB_STATUSES = ("queued", "running", "done", "failed")


class PackJob(Model):
    """One pack asked for: its inputs (canonical JSON of the PackSpec), its progress, then its file and hashes."""

    __tablename__ = "pack_jobs"
    __table_args__ = (one_of("status", JOB_STATUSES),
                      # The queue, oldest first: what a worker claims next.
                      Index("ix_pack_jobs_status_created_at", "status", "created_at", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    spec: Mapped[str] = mapped_column(Text)  # canonical JSON of packs.spec.PackSpec
    status: Mapped[str] = mapped_column(String(10), default="queued")
    progress_done: Mapped[int] = mapped_column(Integer, default=0)
    progress_total: Mapped[int] = mapped_column(Integer, default=0)
    stage: Mapped[str | None] = mapped_column(String(40))  # what the builder is doing: "loading", "clauses", ...
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # a stalled worker is noticed
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    worker: Mapped[str | None] = mapped_column(String(120))  # host:pid of the process building it
    error: Mapped[str | None] = mapped_column(Text)  # a sentence for the person, never a traceback
    pack_id: Mapped[str | None] = mapped_column(String(40), index=True)
    generated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    file_name: Mapped[str | None] = mapped_column(String(200))  # the download's name
    file_path: Mapped[str | None] = mapped_column(String(300))  # relative to the data dir's packs/
    file_size: Mapped[int | None] = mapped_column(BigInteger)
    file_sha256: Mapped[str | None] = mapped_column(String(64))  # of the download (.docx or .zip)
    docx_sha256: Mapped[str | None] = mapped_column(String(64))
    manifest_sha256: Mapped[str | None] = mapped_column(String(64))  # of evidence-manifest.csv: printed on the cover
    evidence_files: Mapped[int | None] = mapped_column(Integer)
    evidence_bytes: Mapped[int | None] = mapped_column(BigInteger)

    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
