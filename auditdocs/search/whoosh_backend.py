"""The Whoosh implementation of SearchBackend: one writer at a time, non-merging commits on the request path, a
searcher per thread kept open and refreshed, rebuilds into a new generation swapped in atomically, and every engine
failure reported as IndexUnavailable so search can answer 503 while the rest of the app works.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any

from whoosh import query
from whoosh.index import LockError

from .types import KINDS, MAX_SEGMENTS, Allow, IndexHealth, IndexUnavailable, SearchDoc, SearchQuery, SearchResults
from .whoosh_query import make_parser
from .whoosh_reader import KeyFinder, open_searcher, refreshed
from .whoosh_schema import SCHEMA_VERSION, build_schema, to_fields
from .whoosh_search import run
from .whoosh_store import (
    JOURNAL,
    REBUILD_LOCK,
    WRITE_LOCK,
    FileLock,
    Store,
    contained,
    doc_from_json,
    doc_to_json,
)

logger = logging.getLogger(__name__)

WRITER_ATTEMPTS = 3
WRITER_TIMEOUT = 1.0  # Whoosh's own lock; ours is held already, so this only waits out a foreign writer
REBUILD_SEGMENT_DOCS = 25_000  # one writer per this many documents when rebuilding (REBUILD_PROCS segments each)
REBUILD_LIMIT_MB = 96  # postings pooled in memory per writer process before spilling to disk
# Why two processes: text analysis is CPU-bound Python; a sub-writer per core, each committing its own segment
# (multisegment: no merging commit), roughly doubles the rebuild rate on two cores. 1 turns it off.
REBUILD_PROCS = max(1, min(2, os.cpu_count() or 1))
HEALTH_LOCK_WAIT = 0.5


def _rebuild_procs() -> int:
    """Sub-writers fork: only from a single-threaded process (the `reindex` command), never from the web server, where
    another thread may hold a lock the child would inherit held."""
    return REBUILD_PROCS if threading.active_count() == 1 else 1


class WhooshBackend:
    """SearchBackend on a directory of Whoosh index generations."""

    def __init__(self, root: Path, lock_timeout: float = 5.0) -> None:
        self.store = Store(Path(root), lock_timeout)
        self.parser = make_parser(build_schema())
        self._local = threading.local()
        self._searchers: list[Any] = []
        self._registry = threading.Lock()
        self._index: tuple[str, Any] | None = None
        self._keys = KeyFinder()

    # -- reading ----------------------------------------------------------------------------------------------

    def _searcher(self) -> Any:
        """This thread's searcher on the live generation, refreshed (reopened only when the generation changed)."""
        gen = self.store.current()
        held = getattr(self._local, "held", None)
        if held is not None and gen is not None and held[0] == gen:
            fresh = refreshed(held[2], held[1])
            if fresh is not held[1]:
                self._track(held[1], fresh)
                self._local.held = (gen, fresh, held[2])
            return fresh
        self._drop_thread_searcher()
        gen, ix = self.store.open(gen)
        searcher = open_searcher(ix)
        self._track(None, searcher)
        self._local.held = (gen, searcher, ix)
        return searcher

    def _track(self, old: Any, new: Any) -> None:
        with self._registry:
            if old is not None and old in self._searchers:
                self._searchers.remove(old)
            self._searchers.append(new)

    def _drop_thread_searcher(self) -> None:
        held = getattr(self._local, "held", None)
        self._local.held = None
        if held is not None:
            self._close(held[1])

    def _close(self, searcher: Any) -> None:
        with self._registry:
            if searcher in self._searchers:
                self._searchers.remove(searcher)
        try:
            searcher.close()
        except Exception:  # closing a searcher on damaged files must not hide the real error
            logger.debug("could not close a searcher", exc_info=True)

    def search(self, query_: SearchQuery, allow: Allow) -> SearchResults:
        if allow.allows_nothing:  # explicit: an empty scope must never become "no filter"
            return SearchResults.empty(query_)
        results, failure = contained(lambda: run(self._searcher(), self.parser, query_, allow))
        if results is None:
            self._drop_thread_searcher()
            self._unavailable_or_bug(failure)
        assert results is not None
        return results

    def _unavailable_or_bug(self, failure: str) -> None:
        """An engine failure on a damaged index is IndexUnavailable; on a healthy one it is a bug to surface."""
        health = self._health(check_lock=False)
        if health.status != "ok":
            raise IndexUnavailable(health.status, health.detail or failure)
        raise RuntimeError(f"search engine failure on a healthy index: {failure}")

    # -- writing ----------------------------------------------------------------------------------------------

    def _open_for_writing(self) -> Any:
        gen = self.store.current()
        if self._index is None or self._index[0] != gen:
            self._index = self.store.open(gen)
        return self._index[1]

    def _writer(self, ix: Any, **kwargs: Any) -> Any:
        """Whoosh's writer with a bounded wait and retries; never a buffered or asynchronous writer."""
        for attempt in range(WRITER_ATTEMPTS):
            try:
                return ix.writer(timeout=WRITER_TIMEOUT, **kwargs)
            except LockError:
                logger.warning("index writer busy (attempt %s of %s)", attempt + 1, WRITER_ATTEMPTS)
                time.sleep(0.05 * (attempt + 1))
        raise IndexUnavailable("locked", "Whoosh's writer lock was not released in time")

    def _apply(self, ix: Any, docs: Iterable[SearchDoc] = (), deletes: Iterable[str] = (), merge: bool = False) -> bool:
        batch = list({d.key: d for d in docs}.values())  # the last of a key wins, never two documents
        writer = self._writer(ix)
        try:
            # One lookup with kept segment readers instead of Whoosh's update_document (a reader on every segment)
            self._keys.delete(writer, "key", list(dict.fromkeys([*deletes, *(d.key for d in batch)])))
            for doc in batch:
                writer.add_document(**to_fields(doc))
        except BaseException:
            writer.cancel()
            raise
        writer.commit(merge=merge)
        return True

    def _write(self, docs: list[SearchDoc], deletes: list[str]) -> None:
        with self.store.write_lock():
            ix = self._open_for_writing()
            done, failure = contained(lambda: self._apply(ix, docs, deletes))
            if done is None:
                self._index = None
                self._keys.close()
                self._unavailable_or_bug(failure)
            self.store.journal([doc_to_json(d) for d in docs] + [{"delete": k} for k in deletes])

    def index_docs(self, docs: Iterable[SearchDoc]) -> int:
        batch = list(docs)
        if batch:
            self._write(batch, [])
        return len(batch)

    def delete(self, keys: Iterable[str]) -> int:
        batch = list(dict.fromkeys(keys))
        if batch:
            self._write([], batch)
        return len(batch)

    # -- rebuilding and merging -------------------------------------------------------------------------------

    def reindex(self, source: Iterable[SearchDoc], total: int | None = None,
                progress: Callable[[int], None] | None = None, batch: int = 500) -> int:
        self.store.root.mkdir(parents=True, exist_ok=True)
        rebuild = FileLock(self.store.root / REBUILD_LOCK)
        if not rebuild.try_acquire():
            raise IndexUnavailable("rebuilding", "another rebuild is running")
        gen = None
        try:
            (self.store.root / JOURNAL).write_text("", "utf-8")
            gen = self.store.new_generation()
            _, ix = self.store.open(gen.name)
            done = self._build(ix, iter(source), progress, batch)
            with self.store.write_lock():
                entries = self.store.read_journal()
                if entries:
                    self._apply(ix, deletes=[e["delete"] for e in entries if "delete" in e])
                    self._apply(ix, docs=[doc_from_json(e["doc"]) for e in entries if "doc" in e])
                self.store.point_to(gen)
                (self.store.root / JOURNAL).unlink(missing_ok=True)
                self._index = None
            ix.close()
            return done
        except BaseException:
            if gen is not None and self.store.current() != gen.name:
                shutil.rmtree(gen, ignore_errors=True)
            (self.store.root / JOURNAL).unlink(missing_ok=True)
            raise
        finally:
            rebuild.release()

    def _build(self, ix: Any, docs: Iterator[SearchDoc], progress: Callable[[int], None] | None, batch: int) -> int:
        """Documents in batches, one writer per REBUILD_SEGMENT_DOCS: memory stays bounded, segments few."""
        done = 0
        while True:
            procs = _rebuild_procs()
            writer = ix.writer(procs=procs, multisegment=True, limitmb=REBUILD_LIMIT_MB) \
                if procs > 1 else ix.writer(limitmb=REBUILD_LIMIT_MB)
            in_writer = 0
            try:
                while in_writer < REBUILD_SEGMENT_DOCS:
                    chunk = list(islice(docs, batch))
                    for doc in chunk:
                        writer.add_document(**to_fields(doc))
                    in_writer += len(chunk)
                    done += len(chunk)
                    if chunk and progress is not None:
                        progress(done)
                    if len(chunk) < batch:
                        break
            except BaseException:
                writer.cancel()
                raise
            writer.commit(merge=False)
            if in_writer < REBUILD_SEGMENT_DOCS:
                return done

    def merge_segments(self) -> int:
        with self.store.write_lock():
            ix = self._open_for_writing()
            if len(ix._segments()) > 1:
                self._apply(ix, merge=True)
            if len(ix._segments()) > MAX_SEGMENTS:
                writer = self._writer(ix)
                writer.commit(optimize=True)
            return len(ix._segments())

    # -- health and verification ------------------------------------------------------------------------------

    def health(self) -> IndexHealth:
        return self._health(check_lock=True)

    def _health(self, check_lock: bool) -> IndexHealth:
        """The index's state; the lock is not probed from inside a write (this process holds it then)."""
        store = self.store
        rebuilding = store.rebuilding()
        gen = store.current()
        base: dict[str, Any] = {"expected_schema_version": SCHEMA_VERSION, "path": str(store.root),
                                "rebuilding": rebuilding}
        if gen is None:
            return IndexHealth("rebuilding" if rebuilding else "absent", **base)
        base["schema_version"] = store.schema_version(gen)
        try:
            _, ix = store.open(gen)
        except IndexUnavailable as e:
            return IndexHealth(e.reason, detail=e.detail, **base)  # type: ignore[arg-type]
        counted, failure = contained(lambda: _count(ix))
        if counted is None:
            return IndexHealth("corrupt", detail=failure, **base)
        docs, segments = counted
        status = "ok"
        detail = ""
        lock = FileLock(store.root / WRITE_LOCK)
        if check_lock and not lock.acquire(HEALTH_LOCK_WAIT):
            status, detail = "locked", "a live process holds the index writer"
        elif check_lock:
            lock.release()
        return IndexHealth(status, docs=docs, segments=segments, detail=detail, **base)  # type: ignore[arg-type]

    def count_by_kind(self) -> dict[str, int]:
        searcher = self._searcher()
        return {kind: len(searcher.search(query.Term("kind", kind), limit=1)) for kind in KINDS}

    def keys(self) -> set[str]:
        searcher = self._searcher()
        return {fields["key"] for fields in searcher.reader().all_stored_fields()}

    def clear_stale_lock(self) -> bool:
        return self.store.clear_stale_locks()

    def close(self) -> None:
        with self._registry:
            searchers, self._searchers = self._searchers, []
        for searcher in searchers:
            try:
                searcher.close()
            except Exception:
                logger.debug("could not close a searcher", exc_info=True)
        self._local = threading.local()
        self._keys.close()
        if self._index is not None:
            self._index[1].close()
            self._index = None


def _count(ix: Any) -> tuple[int, int]:
    """Documents and segments, reading every segment's files (a damaged one fails here, not in a user's search)."""
    with ix.reader() as reader:
        docs = reader.doc_count()
        list(islice(reader.all_stored_fields(), 1))
    return docs, len(ix._segments())
