"""Fast facets and the hidden-document mask, cached per segment reader / per searcher.

Why: Whoosh's `groupedby` reads every facet column value of every match through Python calls (~660 ms for 38,000
hits at 50,000 documents), and one `Not(Or(...))` term per hidden document inside the query makes every match pay
for the whole list. Column values of a segment never change (deletions only hide documents), so they are read once
per segment reader; the hidden docnums are computed once per searcher (a new generation is a new searcher).
"""

from __future__ import annotations

import threading
import weakref
from collections import Counter
from collections.abc import Iterable
from itertools import chain
from typing import Any

from whoosh import collectors, query

from .types import FACETS, MAX_FACET_VALUES
from .whoosh_schema import FACET_COLUMNS, fold

MAX_MASKS_PER_SEARCHER = 32

_lock = threading.Lock()
_segments: weakref.WeakKeyDictionary[Any, dict[str, list[Any]]] = weakref.WeakKeyDictionary()
_tables: weakref.WeakKeyDictionary[Any, dict[str, list[Any]]] = weakref.WeakKeyDictionary()
_masks: weakref.WeakKeyDictionary[Any, dict[frozenset[str], set[int]]] = weakref.WeakKeyDictionary()


def _decode(value: Any, names: dict[bytes, str]) -> str:
    if not value:
        return ""
    name = names.get(value)
    if name is None:
        name = names[value] = value.decode("utf-8") if isinstance(value, bytes) else str(value)
    return name


def _read_segment(leaf: Any) -> dict[str, list[Any]]:
    """Every facet value of every document in one segment, indexed by the segment's docnum."""
    out: dict[str, list[Any]] = {}
    size = leaf.doc_count_all()
    for facet in FACETS:
        column, multi = FACET_COLUMNS[facet]
        names: dict[bytes, str] = {}
        if not leaf.has_column(column):
            out[facet] = [() if multi else ""] * size
            continue
        values = list(leaf.column_reader(column))
        if multi:
            out[facet] = [tuple(n for n in (_decode(v, names) for v in (vs or ())) if n) for vs in values]
        else:
            out[facet] = [_decode(v, names) for v in values]
    return out


def _segment(leaf: Any) -> dict[str, list[Any]]:
    with _lock:
        found = _segments.get(leaf)
    if found is None:
        found = _read_segment(leaf)
        with _lock:
            _segments[leaf] = found
    return found


def _table(searcher: Any) -> dict[str, list[Any]]:
    """Per facet, the value(s) of every document of the searcher, indexed by the global docnum."""
    with _lock:
        found = _tables.get(searcher)
    if found is not None:
        return found
    table: dict[str, list[Any]] = {facet: [] for facet in FACETS}
    for leaf, offset in searcher.reader().leaf_readers():
        part = _segment(leaf)
        for facet in FACETS:
            column = table[facet]
            if len(column) < offset:  # never expected: keep docnums aligned anyway
                column.extend([() if FACET_COLUMNS[facet][1] else ""] * (offset - len(column)))
            column.extend(part[facet])
    with _lock:
        _tables[searcher] = table
    return table


def facet_counts(searcher: Any, docnums: Iterable[int]) -> dict[str, tuple[tuple[str, int], ...]]:
    """Facet counts over exactly these (permitted) docnums, ordered by count desc then value, capped."""
    docs = docnums if isinstance(docnums, list) else list(docnums)
    table = _table(searcher)
    out: dict[str, tuple[tuple[str, int], ...]] = {}
    for facet in FACETS:
        values = table[facet]
        if FACET_COLUMNS[facet][1]:
            counts = Counter(chain.from_iterable(map(values.__getitem__, docs)))
        else:
            counts = Counter(map(values.__getitem__, docs))
            counts.pop("", None)
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        out[facet] = tuple(ranked[:MAX_FACET_VALUES])
    return out


def hidden_docnums(searcher: Any, hidden: frozenset[str]) -> set[int]:
    """The docnums whose key or group is in `hidden` (callers must not mutate the set)."""
    if not hidden:
        return set()
    with _lock:
        per_searcher = _masks.get(searcher)
        found = per_searcher.get(hidden) if per_searcher is not None else None
    if found is not None:
        return found
    terms = query.Or([query.Term("guard", fold(h)) for h in sorted(hidden)])
    found = set(searcher.docs_for_query(terms))
    with _lock:
        per_searcher = _masks.setdefault(searcher, {})
        if len(per_searcher) >= MAX_MASKS_PER_SEARCHER:
            per_searcher.pop(next(iter(per_searcher)))
        per_searcher[hidden] = found
    return found


class MaskedCollector(collectors.FilterCollector):
    """Skips the masked docnums and, when asked, records every docnum it passes on (for the facet counts)."""

    def __init__(self, child: Any, mask: set[int], record: bool) -> None:
        super().__init__(child, restrict=mask or None)
        self.record = record
        self.matched: list[int] = []

    def collect_matches(self) -> None:
        """Like FilterCollector's, plus the recording."""
        if not self.record:
            super().collect_matches()
            return
        child = self.child
        mask = self._restrict
        offset = self.offset
        matched = self.matched
        skipped = 0
        for sub_docnum in child.matches():
            docnum = offset + sub_docnum
            if mask is not None and docnum in mask:
                skipped += 1
                continue
            matched.append(docnum)
            child.collect(sub_docnum)
        self.filtered_count += skipped
