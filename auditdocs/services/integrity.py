"""Integrity of the evidence: rehash the stored objects against their rows (every one, or in the quick mode those
new or changed since a day plus a sample, the rest by stat), cross-check the rows against the trail
(services.crosscheck), walk the audit chain, quarantine orphans. services.objectscan pairs objects and rows in one
sorted pass and services.rehash hashes on every core, so the object check's memory does not grow with the store.

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
from datetime import UTC, date, datetime
from datetime import time as day_start
from pathlib import Path

from flask import current_app
from sqlalchemy.exc import SQLAlchemyError

from ..db import write_transaction
from ..extensions import db
from ..models.blobrefs import registered
from ..search import maintenance as search_upkeep
from ..storage import BlobStore
from ..timeutil import org_tz
from . import audit, blobhealth, crosscheck, objectscan, revisions
from .objectscan import find_orphans
from .rehash import Advance, Problem, Scan, ScanOptions, ScanResult
from .uploads import get_store

# A progress reporter: called with a label and a total, it yields a function that advances by n items.
Progress = Callable[[str, int], AbstractContextManager[Callable[[int], None]]]
# The object scan's reporter: a label, the objects and their bytes; it advances by objects checked and bytes hashed.
ScanProgress = Callable[[str, int, int], AbstractContextManager[Advance]]
FULL_CHECK = ScanOptions()
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
    since: date | None = None  # the quick check's day; None: full check
    rehashed: int = 0
    sampled: int = 0
    stat_only: int = 0
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)
    altered: dict[str, str] = field(default_factory=dict)
    restored: set[str] = field(default_factory=set)  # marked as failing before, intact now

    def failed(self, strict: bool = False) -> bool:
        """True when the exit code must be 1."""
        return bool(self.errors or (strict and self.warnings))

    def mode(self) -> str:
        """Which check ran and how deep it went: rehashed objects against those whose size only was checked."""
        if self.since is None:
            return f"full check: {self.rehashed} rehashed"
        changed = self.rehashed - self.sampled
        return (f"quick check since {self.since.isoformat()}: {self.rehashed} rehashed ({changed} new or changed, "
                f"{self.sampled} sampled), {self.stat_only} only stat-checked")

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
            out.append(f"FAILED{reason}: {counts}; checked {what}; {self.mode()}")
        elif self.warnings:
            out.append(f"OK with {n_warn} warning{'s' * (n_warn != 1)}: {what}, {head}; {self.mode()}")
        else:
            out.append(f"OK: {what}, {head}; {self.mode()}")
        return out


def start_of_day(day: date) -> datetime:
    """The first moment of a calendar day where the organisation is, in UTC (what "since 1 June" means there)."""
    return datetime.combine(day, day_start.min, org_tz()).astimezone(UTC)


def _objects_only(progress: Progress) -> ScanProgress:
    """Drive a plain reporter (objects only) from the object scan."""

    @contextlib.contextmanager
    def adapted(label: str, objects: int, _bytes: int) -> Iterator[Advance]:
        with progress(label, objects) as advance:
            yield lambda n, _hashed: advance(n) if n else None

    return adapted


def _scan_objects(options: ScanOptions, progress: ScanProgress) -> ScanResult:
    """Walk the store and the referencing rows together, stat or rehash every referenced object."""
    failing = {failure.sha256 for failure in blobhealth.all_failing()}  # few rows: rehashed in either mode
    start = start_of_day(options.since) if options.since is not None else None
    label = "Checking objects" + (f" (new or changed since {options.since.isoformat()}, and a sample)"
                                  if options.since is not None else "")
    objects, total = objectscan.referenced_count()
    with progress(label, objects, total) as advance:
        return Scan(get_store(), options, start, failing, advance).run(objectscan.walk(start))


def _object_errors(problems: dict[str, Problem]) -> list[str]:
    """The error lines of the objects with problems, naming their rows as people know them, in the registry's
    order (document versions by code and number, then attachments...). Reads the rows once more, only when
    something is wrong, and keeps only the rows of the objects concerned."""
    if not problems:
        return []
    names: dict[str, list[tuple[str, int | None]]] = {}
    for ref in registered():
        for sha, size, label in ref.rows():
            if str(sha) in problems:
                names.setdefault(str(sha), []).append((label, size))
    refs = registered()
    for sha, problem in problems.items():  # rows that vanished since the scan: named by table and id
        if sha not in names:
            names[sha] = [(f"{refs[row.ref].table} row {row.row_id}", row.size) for row in problem.rows]
    return [line for sha, rows in names.items() for line in problems[sha].lines(sha, rows)]


def _record_health(report: VerifyReport) -> None:
    """Mark what verify found altered (the version pages show it) and clear what matches again after a restore.
    Best effort: a database that cannot be written (read-only, full) must not stop the rest of the checks."""
    try:
        with write_transaction():
            for sha, detail in report.altered.items():
                blobhealth.record_failure(sha, "verify", detail)
            for sha in sorted(report.restored):
                blobhealth.record_success(sha, "verify")
    except (SQLAlchemyError, OSError) as exc:
        report.warnings.append(f"could not record the objects' integrity marks in the database ({exc})")


def _cross_check(progress: Progress, unreferenced: list[str], report: VerifyReport) -> list[str]:
    """Replay the trail against the rows; return the unreferenced objects no upload event recorded either (orphans).
    The cross-check holds one document at a time and notes the version uploads among them as it reads them."""
    candidates = set(unreferenced)
    with progress("Cross-checking rows against the audit trail", crosscheck.count_events()) as advance:
        checked = crosscheck.check(advance, candidates)
    report.errors.extend(checked.errors)
    candidates -= checked.recorded
    candidates -= objectscan.recorded_uploads(candidates, skip=("version.upload",))
    return [sha for sha in unreferenced if sha in candidates]


def verify_store(checkpoint: tuple[int, str] | None = None, progress: Progress = no_progress,
                 options: ScanOptions = FULL_CHECK, scan_progress: ScanProgress | None = None) -> VerifyReport:
    """Rehash every referenced object (or, with options.since, the new and changed ones and a sample, the rest by
    stat), cross-check the rows against the trail, list orphans and temp files, walk the audit chain. Evidence is
    never changed; the only write marks altered objects as failing (and clears those that match again)."""
    store = get_store()
    report = VerifyReport(checkpoint=checkpoint, since=options.since)
    scan = _scan_objects(options, scan_progress or _objects_only(progress))
    report.objects, report.bytes, report.rehashed = scan.objects, scan.bytes, scan.rehashed
    report.sampled, report.stat_only = scan.sampled, scan.stat_only
    report.altered, report.restored = scan.altered, scan.restored
    report.errors.extend(_object_errors(scan.problems))
    _record_health(report)
    orphans = _cross_check(progress, scan.unreferenced, report)
    with progress("Checking records against their revisions", revisions.count_records()) as advance:
        report.errors.extend(revisions.verify_records(advance))
    for sha in orphans:
        report.orphans.append(sha)
        report.warnings.append(f"orphan object {sha} is referenced by nothing in the database "
                               "(`auditdocs gc` moves it to quarantine)")
    for temp in store.temp_files():
        state = "still being written" if temp.locked else "left by an interrupted upload (`auditdocs gc` removes it)"
        report.warnings.append(f"temporary upload file {temp.name} ({human_size(temp.size)}, "
                               f"{human_age(temp.age_seconds)} old) is {state}")
    report.warnings.extend(search_upkeep.index_problems())  # derived, rebuilt by `auditdocs reindex`: a warning
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
