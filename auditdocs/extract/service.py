"""Text extraction of stored files, off the request path: what is pending, reading it safely, storing the result.

Why here and not in the upload: reading a 300-page PDF takes seconds and a hostile file may take for ever; an
upload answers as fast as without search. A blob is read once per SHA-256 (identical bytes share one row), in the
reader child (runner.py) within a time budget, after the upload's own container checks (bombs, disguises) have
passed again. Storing the text announces a change for every version and attachment citing those bytes, inside
the same transaction, so the search index follows the database.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import ColumnElement, Subquery, exists, func, select, union_all
from sqlalchemy.exc import IntegrityError

from ..db import end_read, write_transaction
from ..events import announce
from ..extensions import db
from ..filecheck import MIME_TYPES, UploadRejected
from ..filecheck.content import MAX_ZIP_ENTRIES, MAX_ZIP_UNCOMPRESSED
from ..filecheck.office import check_container
from ..models import Attachment, BlobText, DocumentVersion
from ..services.uploads import get_store
from ..timeutil import utcnow
from .runner import Outcome, Reader

logger = logging.getLogger(__name__)
MAX_CHARS = 1_000_000
MAX_XML_BYTES = 256 * 1024 * 1024  # one XML part read at most (the zip check already bounds the whole package)
TIME_LIMIT = 60.0
BATCH = 50
_KIND_BY_EXT = {"pdf": "pdf", "docx": "docx", "docm": "docx", "xlsx": "xlsx", "xlsm": "xlsx", "pptx": "pptx",
                "pptm": "pptx", "odt": "odf", "ods": "odf", "odp": "odf", "txt": "text", "csv": "text", "md": "text"}
_EXT_BY_MIME = {mime: ext for ext, mime in MIME_TYPES.items() if ext in _KIND_BY_EXT}
ZIP_KINDS = frozenset({"docx", "xlsx", "pptx", "odf"})
Progress = Callable[[int], None]


@dataclass(frozen=True)
class ExtractedText:
    """The stored reading of one blob (text is None unless status is "ok")."""

    sha256: str
    status: str
    text: str | None
    chars: int
    truncated: bool
    error: str | None
    extracted_at: datetime


@dataclass(frozen=True)
class Pending:
    """A blob cited by a version or an attachment that has no reading yet, and the type it was uploaded as."""

    sha256: str
    mime_type: str


def _value(row: BlobText) -> ExtractedText:
    return ExtractedText(row.sha256, row.status, row.text, row.chars, row.truncated, row.error, row.extracted_at)


def text_of(sha256: str) -> ExtractedText | None:
    """The reading of these bytes; None while they are pending."""
    row = db.session.get(BlobText, sha256)
    return None if row is None else _value(row)


def texts_of(hashes: Iterable[str]) -> dict[str, ExtractedText]:
    """Readings of many blobs at once (the reindex reads them in batches)."""
    wanted = sorted(set(hashes))
    out: dict[str, ExtractedText] = {}
    for start in range(0, len(wanted), 500):
        for row in db.session.scalars(select(BlobText).where(BlobText.sha256.in_(wanted[start:start + 500]))):
            out[row.sha256] = _value(row)
    return out


def statuses(hashes: Iterable[str]) -> dict[str, tuple[str, str | None]]:
    """(status, error) of each blob that has been read, without loading any text (for pages)."""
    wanted = sorted(set(hashes))
    if not wanted:
        return {}
    rows = db.session.execute(select(BlobText.sha256, BlobText.status, BlobText.error)
                              .where(BlobText.sha256.in_(wanted))).all()
    return {sha: (status, error) for sha, status, error in rows}


def text_state(status: str | None) -> str:
    """The search document's text_state: "ok", "pending" (not read yet), "unreadable" or "none" (a type whose
    text is not read: found by its metadata only)."""
    if status is None:
        return "pending"
    if status == "ok":
        return "ok"
    return "none" if status == "unsupported" else "unreadable"


def _cited() -> tuple[Subquery, ColumnElement[bool]]:
    """Every (sha256, mime_type, uploaded_at) of versions and attachments, as one subquery."""
    both = union_all(
        select(DocumentVersion.sha256.label("sha256"), DocumentVersion.mime_type.label("mime_type"),
               DocumentVersion.uploaded_at.label("uploaded_at")),
        select(Attachment.sha256, Attachment.mime_type, Attachment.uploaded_at)).subquery()
    unread = ~exists().where(BlobText.sha256 == both.c.sha256)
    return both, unread


def pending(limit: int = BATCH) -> list[Pending]:
    """Blobs of versions and attachments without a reading, most recently uploaded first (a new upload becomes
    searchable soon even behind a backlog)."""
    both, unread = _cited()
    rows = db.session.execute(
        select(both.c.sha256, func.min(both.c.mime_type)).where(unread)
        .group_by(both.c.sha256).order_by(func.max(both.c.uploaded_at).desc(), both.c.sha256)
        .limit(limit)).all()
    return [Pending(sha, mime) for sha, mime in rows]


def pending_count() -> int:
    """How many blobs wait for a reading (the progress bar's length)."""
    both, unread = _cited()
    return int(db.session.scalar(select(func.count(func.distinct(both.c.sha256))).where(unread)) or 0)


def _setting(name: str, default: float) -> float:
    return float(current_app.config.get(name) or default)


def reader() -> Reader:
    """A reader child with this app's time limit (and command, when a deployment wraps it, e.g. in `nice`)."""
    return Reader(current_app.config.get("EXTRACT_READER_COMMAND"), _setting("EXTRACT_TIME_LIMIT", TIME_LIMIT))


def read_blob(item: Pending, child: Reader) -> Outcome:
    """Read one blob: unsupported types and missing objects say so; containers pass the upload's checks first."""
    ext = _EXT_BY_MIME.get(item.mime_type)
    kind = _KIND_BY_EXT.get(ext or "")
    if ext is None or kind is None:
        return Outcome("unsupported")
    path = get_store().path_for(item.sha256)
    if not path.is_file():
        return Outcome("unreadable", error="missing")
    if kind in ZIP_KINDS:
        try:
            check_container(path, item.sha256, ext, MAX_ZIP_ENTRIES, MAX_ZIP_UNCOMPRESSED)
        except UploadRejected as refusal:
            if refusal.code == "zip_bomb":
                return Outcome("too_large", error="zip_bomb")
            return Outcome("unreadable", error=f"refused: {refusal.code}")
        except OSError as exc:
            return Outcome("unreadable", error=f"broken: {exc}"[:300])
    outcome = child.read(path, kind, int(_setting("EXTRACT_MAX_CHARS", MAX_CHARS)),
                         int(_setting("EXTRACT_MAX_XML_BYTES", MAX_XML_BYTES)))
    # PostgreSQL text holds no NUL, and UTF-8 no lone surrogate (a PDF's text layer may have either).
    clean = outcome.text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
    return Outcome(outcome.status, clean, outcome.truncated, outcome.error)


def store(sha256: str, outcome: Outcome) -> None:
    """Keep the reading (replacing an earlier one) and announce it for every version and attachment citing it."""
    with write_transaction():
        row = db.session.get(BlobText, sha256) or BlobText(sha256=sha256)
        row.status, row.truncated = outcome.status, outcome.truncated
        row.text = outcome.text if outcome.status == "ok" else None
        row.chars = len(row.text or "")
        row.error = str(outcome.error)[:300] if outcome.error else None
        row.extracted_at = utcnow()
        db.session.add(row)
        db.session.flush()
        for version_id in db.session.scalars(select(DocumentVersion.id).where(DocumentVersion.sha256 == sha256)):
            announce("document_version", version_id, "text")
        for attachment_id in db.session.scalars(select(Attachment.id).where(Attachment.sha256 == sha256)):
            announce("attachment", attachment_id, "text")


@dataclass
class RunSummary:
    """What a run did: readings stored by status."""

    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def run_pending(limit: int | None = None, progress: Progress | None = None,
                should_stop: Callable[[], bool] | None = None) -> RunSummary:
    """Read and store pending blobs (all of them, or `limit`), newest first; no transaction stays open while a
    file is read. Another process storing the same blob meanwhile is fine: the first reading stands."""
    summary = RunSummary({})
    seen: set[str] = set()
    with reader() as child:
        while limit is None or len(seen) < limit:
            want = BATCH if limit is None else min(BATCH, limit - len(seen))
            batch = [item for item in pending(want) if item.sha256 not in seen]
            end_read()
            if not batch:
                break  # nothing left (or only blobs this run already stored, should another writer undo them)
            for item in batch:
                if should_stop is not None and should_stop():
                    return summary
                seen.add(item.sha256)
                outcome = read_blob(item, child)
                try:
                    store(item.sha256, outcome)
                except IntegrityError:
                    logger.info("the text of %s was stored by another process meanwhile", item.sha256)
                    continue
                summary.counts[outcome.status] = summary.counts.get(outcome.status, 0) + 1
                if progress is not None:
                    progress(1)
    return summary

