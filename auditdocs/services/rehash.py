"""Re-hash the referenced objects on every core, a bounded number in flight; or, in the quick mode, only those
stored or changed since a day, plus a random sample, with every other object's presence and size checked by stat.

Why: a nightly check of a large store must finish in minutes and leave the server its memory. Hashing is the cost
(hashlib lets go of the GIL, so a few threads use every core), so the quick mode rehashes what a write could have
touched: an object whose file was written, renamed or had its times reset since the day (its mtime or ctime is
that recent) or that a row added since then names. Bytes that change without their file being written (bit rot,
a disk fault, a write to the raw device) keep their times: the sample and the full run, which stays the default,
are what find those.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from ..storage import HASH_CHUNK, BlobStore, hash_file
from .objectscan import Entry, RefRow

DEFAULT_SAMPLE = 100  # objects rehashed at random in the quick mode besides the new and changed ones
IN_FLIGHT_PER_WORKER = 2  # batches queued per hashing thread: enough to keep it busy, few enough to stay small
# Small objects are hashed by the thread that walks the store: hashing them is mostly Python work, which holds the
# GIL, so handing them to another thread only adds the hand-over. Larger ones go to the threads, in batches.
INLINE_BYTES = 64 * 1024
BATCH_OBJECTS = 64
BATCH_BYTES = 4_000_000

Advance = Callable[[int, int], None]  # objects checked, bytes rehashed


@dataclass(frozen=True)
class ScanOptions:
    """Full check (since None: rehash everything) or quick check (since a day, plus a sample); hashing threads."""

    since: date | None = None
    sample: int = DEFAULT_SAMPLE
    workers: int | None = None  # None: one per core

    def worker_count(self) -> int:
        """The threads that hash (at least one)."""
        return max(1, self.workers or os.cpu_count() or 1)


@dataclass
class Problem:
    """What is wrong with one object; its lines are written once the rows' names are known (only for problems)."""

    state: str  # invalid, missing, unreadable, altered; intact or unhashed when only a row's size is wrong
    size: int | None
    rows: tuple[RefRow, ...]
    detail: str = ""

    def lines(self, sha: str, rows: list[tuple[str, int | None]]) -> list[str]:
        """The error lines, each naming the rows (label, recorded size) that use the object."""
        names = ", ".join(name for name, _size in rows)
        if self.state == "invalid":
            return [f"{names}: the database holds an invalid sha256 {sha!r}"]
        if self.state == "missing":
            return [f"object {sha} is missing — used by {names}"]
        if self.state == "unreadable":
            return [f"object {sha} cannot be read ({self.detail}) — used by {names}"]
        out = [f"object {sha} does not match its hash (altered) — used by {names}"] if self.state == "altered" else []
        return out + [f"{name}: the database records {recorded} bytes but object {sha} holds {self.size}"
                      for name, recorded in rows if recorded is not None and recorded != self.size]


@dataclass
class ScanResult:
    """Counts for the summary, the problems, and what the integrity marks need (few entries, never every object)."""

    objects: int = 0  # referenced objects checked
    bytes: int = 0  # their size (as read, or as stat tells)
    rehashed: int = 0
    rehashed_bytes: int = 0
    sampled: int = 0  # of the rehashed, picked at random (quick mode)
    stat_only: int = 0  # present, size checked, not rehashed (quick mode)
    problems: dict[str, Problem] = field(default_factory=dict)
    altered: dict[str, str] = field(default_factory=dict)
    restored: set[str] = field(default_factory=set)  # marked as failing, and intact now
    unreferenced: list[str] = field(default_factory=list)  # stored, named by no row: orphans unless an event names them


def _mismatched(rows: tuple[RefRow, ...], size: int) -> bool:
    return any(row.size is not None and row.size != size for row in rows)


def _hash_batch(paths: list[Path]) -> list[tuple[str, int] | OSError]:
    """In a worker thread: each file's (sha256, size), or the error that stopped its reading."""
    buffer = bytearray(HASH_CHUNK)
    out: list[tuple[str, int] | OSError] = []
    for path in paths:
        try:
            out.append(hash_file(path, buffer))
        except OSError as exc:
            out.append(exc)
    return out


Batch = list[tuple[Entry, bool]]  # the objects of one task, each with whether it is in the sample


class Scan:
    """One pass over the walk: stat or hash each referenced object, hashing on a pool with a bounded queue."""

    def __init__(self, store: BlobStore, options: ScanOptions, start: datetime | None, failing: set[str],
                 advance: Advance) -> None:
        """`start` is the quick check's instant (None: full check); `failing` the objects marked as failing."""
        self.store, self.options, self.failing, self.advance = store, options, failing, advance
        self.start = start.timestamp() if start is not None else None
        self.result = ScanResult()
        self.limit = options.worker_count() * IN_FLIGHT_PER_WORKER
        self.pending: dict[Future[list[tuple[str, int] | OSError]], Batch] = {}
        self.batch: Batch = []
        self.batch_bytes = 0
        self.buffer = bytearray(HASH_CHUNK)  # for the objects hashed here
        self.reservoir: list[Entry] = []
        self.offered = 0

    def run(self, entries: Iterable[Entry]) -> ScanResult:
        """Check every entry; then hash the sample; wait for the last results."""
        with ThreadPoolExecutor(self.options.worker_count(), thread_name_prefix="verify-hash") as pool:
            for entry in entries:
                self._visit(pool, entry)
            for entry in self.reservoir:
                self._submit(pool, entry, sampled=True)
            self._flush(pool)
            self._settle(0)
        self.result.stat_only -= len(self.reservoir)
        return self.result

    def _problem(self, entry: Entry, state: str, size: int | None = None, detail: str = "") -> None:
        self.result.problems[entry.sha] = Problem(state, size, entry.rows, detail)

    def _visit(self, pool: ThreadPoolExecutor, entry: Entry) -> None:
        if not entry.rows:
            self.result.unreferenced.append(entry.sha)
            return
        self.result.objects += 1
        if self._needs_hash(entry):
            self._submit(pool, entry, sampled=False)
        else:
            self.advance(1, 0)

    def _needs_hash(self, entry: Entry) -> bool:
        """Check what can be checked without reading the object; True when it must be rehashed."""
        try:
            path = self.store.path_for(entry.sha)
        except ValueError:
            self._problem(entry, "invalid")
            return False
        if not entry.stored:
            self._problem(entry, "missing")
            return False
        if self.start is None or entry.sha in self.failing or any(row.fresh for row in entry.rows):
            return True
        return self._stat(entry, path)

    def _stat(self, entry: Entry, path: Path) -> bool:
        """Quick mode: check presence and size; True when the file was written since the start (hash it)."""
        try:
            info = path.stat()
        except FileNotFoundError:
            self._problem(entry, "missing")
            return False
        except OSError as exc:
            self._problem(entry, "unreadable", detail=str(exc.strerror))
            return False
        assert self.start is not None
        if max(info.st_mtime, info.st_ctime) >= self.start:
            return True
        self.result.bytes += info.st_size
        self.result.stat_only += 1
        if _mismatched(entry.rows, info.st_size):
            self._problem(entry, "unhashed", info.st_size)
        self._offer(entry)
        return False

    def _offer(self, entry: Entry) -> None:
        """Reservoir sampling: every object not rehashed has the same chance to be in the sample (N held at most)."""
        if self.options.sample <= 0:
            return
        self.offered += 1
        if len(self.reservoir) < self.options.sample:
            self.reservoir.append(entry)
        elif (slot := secrets.randbelow(self.offered)) < self.options.sample:
            self.reservoir[slot] = entry

    def _submit(self, pool: ThreadPoolExecutor, entry: Entry, *, sampled: bool) -> None:
        """Hash a small object now; add a larger one to the batch, handed over once it holds enough work."""
        expected = max((row.size if row.size is not None else BATCH_BYTES for row in entry.rows), default=BATCH_BYTES)
        if expected < INLINE_BYTES:
            outcome: tuple[str, int] | OSError
            try:
                outcome = hash_file(self.store.path_for(entry.sha), self.buffer)
            except OSError as exc:
                outcome = exc
            self._hashed(entry, outcome, sampled)
            return
        self.batch.append((entry, sampled))
        self.batch_bytes += expected
        if len(self.batch) >= BATCH_OBJECTS or self.batch_bytes >= BATCH_BYTES:
            self._flush(pool)

    def _flush(self, pool: ThreadPoolExecutor) -> None:
        if not self.batch:
            return
        self._settle(self.limit - 1)
        paths = [self.store.path_for(entry.sha) for entry, _sampled in self.batch]
        self.pending[pool.submit(_hash_batch, paths)] = self.batch
        self.batch, self.batch_bytes = [], 0

    def _settle(self, keep: int) -> None:
        """Take in finished batches until at most `keep` are in flight (0: all of them)."""
        while len(self.pending) > keep:
            done, _running = wait(self.pending, return_when=FIRST_COMPLETED)
            for future in done:
                batch = self.pending.pop(future)
                for (entry, sampled), outcome in zip(batch, future.result(), strict=True):
                    self._hashed(entry, outcome, sampled)

    def _hashed(self, entry: Entry, outcome: tuple[str, int] | OSError, sampled: bool) -> None:
        result = self.result
        if isinstance(outcome, OSError):
            if isinstance(outcome, FileNotFoundError):
                self._problem(entry, "missing")
            else:
                self._problem(entry, "unreadable", detail=str(outcome.strerror))
            self.advance(0 if sampled else 1, 0)
            return
        digest, size = outcome
        result.rehashed += 1
        result.rehashed_bytes += size
        result.sampled += sampled
        if not sampled:
            result.bytes += size  # a sampled object's size was counted when it was stat-checked
        if digest != entry.sha:
            result.altered[entry.sha] = "content does not match its hash"
            self._problem(entry, "altered", size)
        else:
            if entry.sha in self.failing:
                result.restored.add(entry.sha)
            if _mismatched(entry.rows, size) and entry.sha not in result.problems:
                self._problem(entry, "intact", size)  # the row's fault, not the object's
        self.advance(0 if sampled else 1, size)
