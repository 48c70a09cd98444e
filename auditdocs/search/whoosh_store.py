"""Where the Whoosh index lives on disk: generations behind a pointer file, the schema version beside each, and the
file locks that keep one writer at a time across threads and processes.

Layout under INDEX_DIR: CURRENT (the live generation's name), gen-*/ (a Whoosh index + SCHEMA.json), write.lock
(held by whoever writes), rebuild.lock (held while a reindex builds), journal.jsonl (writes made during a rebuild).
Why OS file locks (flock): they die with their process, so a crashed writer never leaves the index locked.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import gc
import json
import os
import shutil
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from whoosh import index as whoosh_index

from .types import IndexUnavailable, SearchDoc
from .whoosh_schema import SCHEMA_VERSION, build_schema

T = TypeVar("T")
POINTER = "CURRENT"
SCHEMA_FILE = "SCHEMA.json"
WRITE_LOCK = "write.lock"
REBUILD_LOCK = "rebuild.lock"
JOURNAL = "journal.jsonl"
WHOOSH_LOCK = "MAIN_WRITELOCK"


def contained(action: Callable[[], T]) -> tuple[T | None, str]:
    """(result, "") or (None, what failed). Whoosh leaves files open when damaged files make it fail; they are
    closed here, quietly, with the exception that held them (a corrupt index is reported, not a warning storm)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            return action(), ""
        except Exception as e:  # damaged files raise anything from EOFError to unpickling errors
            detail = f"{type(e).__name__}: {e}"
        gc.collect()
    return None, detail


class FileLock:
    """An exclusive flock on a file, taken with a bounded wait."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None

    def try_acquire(self) -> bool:
        fd = os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            os.close(fd)
            if e.errno in (errno.EAGAIN, errno.EACCES):
                return False
            raise
        self.fd = fd
        return True

    def acquire(self, timeout: float, delay: float = 0.02) -> bool:
        until = time.monotonic() + timeout
        while not self.try_acquire():
            if time.monotonic() >= until:
                return False
            time.sleep(delay)
        return True

    def release(self) -> None:
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None


def is_held(path: Path) -> bool:
    """Someone alive holds this lock (a leftover file from a dead process is not held)."""
    if not path.exists():
        return False
    probe = FileLock(path)
    if probe.try_acquire():
        probe.release()
        return False
    return True


class Store:
    """The index directory: which generation is live, opening it safely, and the write lock."""

    def __init__(self, root: Path, lock_timeout: float = 5.0) -> None:
        self.root = root
        self.lock_timeout = lock_timeout
        self._thread_lock = threading.Lock()

    # -- generations --------------------------------------------------------------------------------------

    def current(self) -> str | None:
        """The live generation's directory name, or None when no index was ever built."""
        try:
            name = (self.root / POINTER).read_text("utf-8").strip()
        except FileNotFoundError:
            return None
        return name or None

    def new_generation(self) -> Path:
        """An empty directory for a rebuild, with the schema version written first."""
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.root / f"gen-{time.time_ns()}-{os.getpid()}"
        path.mkdir()
        (path / SCHEMA_FILE).write_text(json.dumps({"schema_version": SCHEMA_VERSION}), "utf-8")
        whoosh_index.create_in(str(path), build_schema())
        return path

    def point_to(self, gen: Path) -> None:
        """Atomically make `gen` the live generation; keep the one it replaces (another process may still read it)
        and remove every other generation (older ones, or half-built ones a crashed rebuild left)."""
        previous = self.current()
        tmp = self.root / f"{POINTER}.tmp"
        tmp.write_text(gen.name, "utf-8")
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, self.root / POINTER)
        keep = {gen.name, previous}
        for old in self.root.glob("gen-*"):
            if old.is_dir() and old.name not in keep:
                shutil.rmtree(old, ignore_errors=True)

    def schema_version(self, gen: str) -> int | None:
        try:
            data = json.loads((self.root / gen / SCHEMA_FILE).read_text("utf-8"))
            return int(data["schema_version"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def open(self, gen: str | None = None) -> tuple[str, Any]:
        """The live generation's name and Whoosh index, or IndexUnavailable saying why it cannot be used."""
        gen = gen or self.current()
        if gen is None:
            raise IndexUnavailable("rebuilding" if self.rebuilding() else "absent", str(self.root))
        path = self.root / gen
        if not path.is_dir():
            raise IndexUnavailable("corrupt", f"{POINTER} names {gen}, which does not exist")
        version = self.schema_version(gen)
        if version != SCHEMA_VERSION:
            raise IndexUnavailable("schema", f"index schema {version}, this code needs {SCHEMA_VERSION}")
        ix, failure = contained(lambda: whoosh_index.open_dir(str(path)))
        if ix is None:
            raise IndexUnavailable("corrupt", failure)
        return gen, ix

    # -- locks ----------------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def write_lock(self, timeout: float | None = None) -> Iterator[None]:
        """One writer at a time in this process (thread lock) and across processes (flock), with a bounded wait."""
        wait = self.lock_timeout if timeout is None else timeout
        self.root.mkdir(parents=True, exist_ok=True)
        if not self._thread_lock.acquire(timeout=wait):
            raise IndexUnavailable("locked", "another thread kept the index writer")
        lock = FileLock(self.root / WRITE_LOCK)
        try:
            if not lock.acquire(wait):
                raise IndexUnavailable("locked", "another process kept the index writer")
            try:
                yield
            finally:
                lock.release()
        finally:
            self._thread_lock.release()

    def rebuilding(self) -> bool:
        return is_held(self.root / REBUILD_LOCK)

    def locked(self) -> bool:
        return is_held(self.root / WRITE_LOCK)

    def clear_stale_locks(self) -> bool:
        """Remove lock files nobody alive holds (harmless with flock, but tidy and reassuring)."""
        removed = False
        candidates = [self.root / WRITE_LOCK, self.root / REBUILD_LOCK]
        gen = self.current()
        if gen:
            candidates.append(self.root / gen / f"{WHOOSH_LOCK}")
        for path in candidates:
            if path.exists() and not is_held(path):
                path.unlink(missing_ok=True)
                removed = True
        return removed

    # -- the journal of writes made while a rebuild runs ------------------------------------------------------

    def journal(self, entries: list[dict[str, Any]]) -> None:
        """Append writes for the running rebuild to replay; a journal left by a dead rebuild is removed."""
        path = self.root / JOURNAL
        if not self.rebuilding():
            path.unlink(missing_ok=True)
            return
        with open(path, "a", encoding="utf-8") as f:
            for entry in entries:
                f.write(json.dumps(entry) + "\n")

    def read_journal(self) -> list[dict[str, Any]]:
        try:
            lines = (self.root / JOURNAL).read_text("utf-8").splitlines()
        except FileNotFoundError:
            return []
        return [json.loads(line) for line in lines if line.strip()]


def doc_to_json(doc: SearchDoc) -> dict[str, Any]:
    data = asdict(doc)
    data["day"] = doc.day.isoformat() if doc.day else None
    return {"doc": data}


def doc_from_json(data: dict[str, Any]) -> SearchDoc:
    values = dict(data)
    for name in ("codes", "clauses", "standards", "groups"):
        values[name] = tuple(values.get(name) or ())
    values["day"] = date.fromisoformat(values["day"]) if values.get("day") else None
    return SearchDoc(**values)
