"""The one interface every search engine implements; the app, the CLI and the tests only talk to this.

Why a Protocol: Whoosh is the embedded default; PostgreSQL full-text search may replace it for large deployments
and must pass the same relevance and permission tests, so no engine type crosses this boundary.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol

from .types import Allow, IndexHealth, SearchDoc, SearchQuery, SearchResults

Progress = Callable[[int], None]


class SearchBackend(Protocol):
    """Index, delete, search with a permission scope, rebuild, merge, report health."""

    def index_docs(self, docs: Iterable[SearchDoc]) -> int:
        """Add or replace (by key) these documents in one commit that does not merge segments; returns how many.
        Waits a bounded time for the write lock; raises IndexUnavailable when it cannot be had or the index is
        unusable."""
        ...

    def delete(self, keys: Iterable[str]) -> int:
        """Remove these keys (unknown keys are ignored) in one non-merging commit; returns how many were asked."""
        ...

    def search(self, query: SearchQuery, allow: Allow) -> SearchResults:
        """Hits, total, facets and suggestions, all limited to what `allow` permits. Malformed text is repaired and
        explained in `notice`; only IndexUnavailable (503) or QueryRefused (400, bad parameters) is raised."""
        ...

    def reindex(self, source: Iterable[SearchDoc], total: int | None = None, progress: Progress | None = None,
                batch: int = 500) -> int:
        """Rebuild from scratch into a new location in batches (bounded memory), then swap it in atomically;
        searches keep answering from the old index until the swap. Returns the number of documents indexed."""
        ...

    def merge_segments(self) -> int:
        """Merge small segments (off the request path); returns the segment count afterwards."""
        ...

    def health(self) -> IndexHealth:
        """ok / absent / corrupt / locked (by a dead process or a writer that never lets go) / schema / rebuilding;
        never raises."""
        ...

    def count_by_kind(self) -> dict[str, int]:
        """Indexed documents per kind, for `auditdocs verify` against the database."""
        ...

    def keys(self) -> set[str]:
        """Every indexed key (verification and tests: reindex equals incremental indexing)."""
        ...

    def clear_stale_lock(self) -> bool:
        """Remove a write lock whose holder is gone (no live process holds it); True when one was removed."""
        ...

    def close(self) -> None:
        """Close searchers and files (tests, shutdown, before a restore replaces the directory)."""
        ...
