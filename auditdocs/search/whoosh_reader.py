"""A searcher brought up to date after a commit, reusing the segment readers that did not change.

Why not Whoosh's own Searcher.refresh(): in whoosh-reloaded 2.7.5 it reuses a segment's reader when the segment id
is unchanged even if documents were deleted in it since (a deleted or replaced document keeps being found), and it
keeps readers of segments a merge removed. Here a reader is reused only when its segment's id and deletion count
are both unchanged (deletions only grow, so the same count means the same deleted documents).
"""

from __future__ import annotations

import time
from typing import Any

from whoosh.reading import EmptyReader, MultiReader, SegmentReader
from whoosh.searching import Searcher

RETRIES = 10


def _leaves(searcher: Any) -> list[Any]:
    return [reader for reader, _ in searcher.reader().leaf_readers()]


def open_searcher(ix: Any) -> Any:
    """A new searcher on the index's latest generation."""
    return refreshed(ix, None)


def refreshed(ix: Any, old: Any | None) -> Any:
    """`old` when it is current; else a new searcher sharing the unchanged segment readers (the rest are closed).
    A writer may delete the files of the generation being opened: then the latest one is read again."""
    for attempt in range(RETRIES):
        try:
            return _refreshed(ix, old)
        except FileNotFoundError:
            if attempt == RETRIES - 1:
                raise
            time.sleep(0.02 * (attempt + 1))
    raise AssertionError("unreachable")


def _refreshed(ix: Any, old: Any | None) -> Any:
    toc = ix._read_toc()
    if old is not None and old.reader().generation() == toc.generation:
        return old
    reusable: dict[str, tuple[Any, int]] = {}
    if old is not None:
        for leaf in _leaves(old):
            segment = leaf.segment()
            if segment is not None:
                reusable[segment.segment_id()] = (leaf, segment.deleted_count())
    readers = []
    opened = []
    reused: set[str] = set()
    try:
        for segment in toc.segments:
            found = reusable.get(segment.segment_id())
            if found is not None and found[1] == segment.deleted_count():
                readers.append(found[0])
                reused.add(segment.segment_id())
            else:
                opened.append(SegmentReader(ix.storage, ix.schema, segment, generation=toc.generation))
                readers.append(opened[-1])
    except BaseException:
        for fresh in opened:
            fresh.close()
        raise
    for segment_id in reused:
        del reusable[segment_id]
    if not readers:
        reader: Any = EmptyReader(ix.schema)
    elif len(readers) == 1:
        reader = readers[0]
    else:
        reader = MultiReader(readers, generation=toc.generation)
    for leaf, _ in reusable.values():
        leaf.close()
    if old is not None:
        old.is_closed = True
    return Searcher(reader, fromindex=ix)


class KeyFinder:
    """Segment readers kept open between writes to find the documents a unique key names, so an update does not
    open a reader on every segment (Whoosh's update_document does, ≈ O(segments) per write). Why safe: a segment's
    files never change once written (only its deletion set does, and that is read from the writer's own segments);
    readers of segments that are gone are closed. Used only under the write lock."""

    def __init__(self) -> None:
        self._readers: dict[tuple[str, str], Any] = {}

    def delete(self, writer: Any, fieldname: str, keys: list[str]) -> int:
        """Mark every live document holding one of `keys` in `fieldname` deleted in `writer`; returns how many."""
        folder = str(getattr(writer.storage, "folder", id(writer.storage)))
        wanted: set[tuple[str, str]] = set()
        count = 0
        for segment in writer.segments:
            ident = (folder, segment.segment_id())
            wanted.add(ident)
            reader = self._readers.get(ident)
            if reader is None:
                reader = self._readers[ident] = SegmentReader(writer.storage, writer.schema, segment)
            for key in keys:
                if (fieldname, key) not in reader:
                    continue
                for docnum in reader.postings(fieldname, key).all_ids():
                    if not segment.is_deleted(docnum):
                        segment.delete_document(docnum)
                        count += 1
        for ident in [i for i in self._readers if i not in wanted]:
            self._readers.pop(ident).close()
        return count

    def close(self) -> None:
        for reader in self._readers.values():
            reader.close()
        self._readers.clear()
