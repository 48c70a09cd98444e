"""Integrity of the evidence: re-hash every stored object against its rows, walk the audit chain, cross-check the
rows against the trail (services.crosscheck), quarantine orphans.

Why: ISO 9001/37001 7.5.3 asks that documented information is protected from loss of integrity; `auditdocs verify`
proves it, `auditdocs gc` tidies what a crash left behind without ever deleting evidence.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from flask import current_app
from sqlalchemy.exc import SQLAlchemyError

from ..db import write_transaction
from ..extensions import db
from ..models.blobrefs import registered
from ..storage import BlobStore, hash_file
from . import audit, blobhealth, crosscheck, revisions
from .uploads import get_store

# A progress reporter: called with a label and a total, it yields a function that advances by n items.
Progress = Callable[[str, int], AbstractContextManager[Callable[[int], None]]]
CHECKPOINT_RE = re.compile(r"(\d+):([0-9a-fA-F]{64})")
GC_MIN_AGE_MINUTES = 60  # an upload stores its blob a moment before its row commits: leave young orphans alone


@contextlib.contextmanager
def no_progress(_label: str, _total: int) -> Iterator[Callable[[int], None]]:
    """Progress reporter that reports nothing (services called outside the CLI)."""
    yield lambda _n: None


def parse_checkpoint(value: str) -> tuple[int, str]:
    """Parse SEQ:HASH as printed by `auditdocs checkpoint`; ValueError with a helpful message otherwise."""
    match = CHECKPOINT_RE.fullmatch((value or "").strip())
    if not match or int(match.group(1)) < 1:
        raise ValueError("expected SEQ:HASH as printed by `auditdocs checkpoint` (a number, a colon, 64 hex digits)")
    return int(match.group(1)), match.group(2).lower()


def human_age(seconds: float) -> str:
    """An age for people: minutes under two hours, hours under two days, then days."""
    minutes = seconds / 60
    if minutes < 120:
        return f"{int(minutes)} min"
    if minutes < 48 * 60:
        return f"{int(minutes // 60)} h"
    return f"{int(minutes // 1440)} days"


def human_size(n: int) -> str:
    """Bytes for people (decimal units, as disks are sold)."""
    size = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{int(size)} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{n} B"  # pragma: no cover


@dataclass
class VerifyReport:
    """What verify found: errors fail the run, warnings (orphans) only with --strict."""

    objects: int = 0
    bytes: int = 0
    events: int = 0
    head: tuple[int, str] = (0, audit.GENESIS)
    checkpoint: tuple[int, str] | None = None
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)
    altered: dict[str, str] = field(default_factory=dict)
    intact: set[str] = field(default_factory=set)

    def failed(self, strict: bool = False) -> bool:
        """True when the exit code must be 1."""
        return bool(self.errors or (strict and self.warnings))

    def lines(self, strict: bool = False) -> list[str]:
        """Every problem on its own line, then a one-line summary."""
        out = [f"ERROR: {e}" for e in self.errors] + [f"WARNING: {w}" for w in self.warnings]
        what = f"{self.objects} objects ({human_size(self.bytes)}), {self.events} audit events"
        head = f"chain head {self.head[0]}:{self.head[1][:16]}…"
        if self.checkpoint and not self.errors:
            head += f", passes checkpoint {self.checkpoint[0]}"
        n_err, n_warn = len(self.errors), len(self.warnings)
        counts = f"{n_err} error{'s' * (n_err != 1)}, {n_warn} warning{'s' * (n_warn != 1)}"
        if self.failed(strict):
            reason = " (--strict: warnings count as errors)" if strict and not self.errors else ""
            out.append(f"FAILED{reason}: {counts}; checked {what}")
        elif self.warnings:
            out.append(f"OK with {n_warn} warning{'s' * (n_warn != 1)}: {what}, {head}")
        else:
            out.append(f"OK: {what}, {head}")
        return out


def referenced_objects() -> dict[str, list[tuple[str, int | None]]]:
    """Every sha256 the database references (every registered blob column), with the (label, recorded size) of
    each row using it."""
    refs: dict[str, list[tuple[str, int | None]]] = {}
    for ref in registered():
        for sha, size, label in ref.rows():
            refs.setdefault(sha, []).append((label, size))
    return refs


def find_orphans(referenced: set[str] | None = None) -> list[str]:
    """Stored objects that no row references and no upload event recorded (left by a crash between storing and
    committing). An object whose upload event survives its deleted row is evidence, not an orphan."""
    if referenced is None:
        referenced = set(referenced_objects()) | crosscheck.uploaded_hashes()
    return [sha for sha in get_store().iter_hashes() if sha not in referenced]


def _check_object(store: BlobStore, sha: str, rows: list[tuple[str, int | None]], report: VerifyReport) -> None:
    """Re-hash one object and compare it with every row that references it."""
    names = ", ".join(name for name, _size in rows)
    try:
        path = store.path_for(sha)
    except ValueError:
        report.errors.append(f"{names}: the database holds an invalid sha256 {sha!r}")
        return
    try:
        actual, size = hash_file(path)
    except FileNotFoundError:
        report.errors.append(f"object {sha} is missing — used by {names}")
        return
    except OSError as exc:
        report.errors.append(f"object {sha} cannot be read ({exc.strerror}) — used by {names}")
        return
    report.bytes += size
    if actual != sha:
        report.errors.append(f"object {sha} does not match its hash (altered) — used by {names}")
        report.altered[sha] = "content does not match its hash"
    else:
        report.intact.add(sha)  # a row recording another size is the row's fault, reported below, not the object's
    for name, recorded in rows:
        if recorded is not None and recorded != size:
            report.errors.append(f"{name}: the database records {recorded} bytes but object {sha} holds {size}")


def _record_health(report: VerifyReport) -> None:
    """Mark what verify found altered (the version pages show it) and clear what matches again after a restore.
    Best effort: a database that cannot be written (read-only, full) must not stop the rest of the checks."""
    try:
        with write_transaction():
            for sha, detail in report.altered.items():
                blobhealth.record_failure(sha, "verify", detail)
            for failure in blobhealth.all_failing():  # few rows: no parameter per stored object
                if failure.sha256 in report.intact:
                    blobhealth.record_success(failure.sha256, "verify")
    except (SQLAlchemyError, OSError) as exc:
        report.warnings.append(f"could not record the objects' integrity marks in the database ({exc})")


def verify_store(checkpoint: tuple[int, str] | None = None, progress: Progress = no_progress) -> VerifyReport:
    """Re-hash every referenced object, list orphans and temp files, walk the audit chain. Evidence is never
    changed; the only write marks altered objects as failing (and clears those that match again)."""
    store = get_store()
    report = VerifyReport(checkpoint=checkpoint)
    refs = referenced_objects()
    report.objects = len(refs)
    with progress("Checking objects", len(refs)) as advance:
        for sha, rows in refs.items():
            _check_object(store, sha, rows, report)
            advance(1)
    _record_health(report)
    with progress("Cross-checking rows against the audit trail", crosscheck.count_events()) as advance:
        trail, mismatches = crosscheck.check(advance)
    report.errors.extend(mismatches)
    with progress("Checking records against their revisions", revisions.count_records()) as advance:
        report.errors.extend(revisions.verify_records(advance))
    for sha in find_orphans(set(refs) | trail.uploaded_hashes() | crosscheck.uploaded_hashes(skip=("version.upload",))):
        report.orphans.append(sha)
        report.warnings.append(f"orphan object {sha} is referenced by nothing in the database "
                               "(`auditdocs gc` moves it to quarantine)")
    for temp in store.temp_files():
        state = "still being written" if temp.locked else "left by an interrupted upload (`auditdocs gc` removes it)"
        report.warnings.append(f"temporary upload file {temp.name} ({human_size(temp.size)}, "
                               f"{human_age(temp.age_seconds)} old) is {state}")
    with progress("Checking audit chain", audit.count_events()) as advance:
        chain = audit.verify_chain(checkpoint, advance)
    report.events = chain.events
    report.head = (chain.head_seq, chain.head_hash)
    report.errors.extend(chain.errors)
    return report


@dataclass
class GcResult:
    """What gc moved, what it left for later and how many temp files it swept."""

    folder: Path
    min_age_minutes: float = GC_MIN_AGE_MINUTES
    moved: list[tuple[str, int]] = field(default_factory=list)
    too_young: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # planned, but reused or referenced again before the move
    temp_removed: int = 0

    def cutoff(self) -> float:
        """Objects modified after this time are too young to move (taken afresh: a prompt may have waited)."""
        return time.time() - self.min_age_minutes * 60


def plan_gc(min_age_minutes: float = GC_MIN_AGE_MINUTES) -> GcResult:
    """Find orphans old enough to move (a young one may be an upload whose row is about to commit)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    result = GcResult(folder=Path(current_app.config["DATA_DIR"]) / "quarantine" / stamp,
                      min_age_minutes=min_age_minutes)
    store, cutoff = get_store(), result.cutoff()
    for sha in find_orphans():
        try:
            info = store.path_for(sha).stat()
        except FileNotFoundError:
            continue
        if info.st_mtime > cutoff:
            result.too_young.append(sha)
        else:
            result.moved.append((sha, info.st_size))
    return result


def _still_orphan(store: BlobStore, sha: str, cutoff: float) -> bool:
    """Right before a move: still old (an upload reusing the bytes refreshes their mtime) and still unreferenced."""
    try:
        if store.path_for(sha).stat().st_mtime > cutoff:
            return False
    except FileNotFoundError:
        return False
    return not any(db.session.execute(ref.referencing(sha)).first() for ref in registered())


def _quarantine_orphan(store: BlobStore, sha: str, plan: GcResult) -> bool:
    """Move one orphan if it still is one; put it back if an upload touched it while it was being moved."""
    if not _still_orphan(store, sha, plan.cutoff()):
        return False
    try:
        target = store.quarantine(sha, plan.folder)
    except FileNotFoundError:
        return False
    if target.stat().st_mtime > plan.cutoff():  # touched between the check and the rename: it is in use again
        os.replace(target, store.path_for(sha))  # same name, same bytes: safe even over a copy stored meanwhile
        return False
    return True


def run_gc(plan: GcResult) -> GcResult:
    """Move the planned orphans to quarantine, sweep stale temp files and record one audit event; caller commits."""
    store = get_store()
    still_orphans = set(find_orphans())  # re-read: a row may have been committed since the plan
    moved: list[tuple[str, int]] = []
    for sha, size in plan.moved:
        if sha in still_orphans and _quarantine_orphan(store, sha, plan):
            moved.append((sha, size))
        else:
            plan.kept.append(sha)
    plan.moved = moved
    plan.temp_removed = store.sweep_temp()
    if moved:
        folder = plan.folder.relative_to(Path(current_app.config["DATA_DIR"]))
        audit.record("store.gc", "store", None, actor_label="cli",
                     new={"quarantined": [sha for sha, _ in moved], "folder": str(folder),
                          "bytes": sum(size for _, size in moved), "temp_files_removed": plan.temp_removed})
    return plan
