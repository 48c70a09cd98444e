"""Cross-check the document and version rows against the audit trail that recorded them.

Why: the audit trail is hash-chained, so `verify` proves it unchanged; the rows are protected only by triggers,
which a DBA can bypass. Every workflow step in services.documents writes its event in the same transaction as
its rows, so replaying the events (in sequence order) says what the rows must hold:

- `document.create` (object: the code) -> a Document row with that code; status "draft", no current version.
- `version.upload` (new: document, number, label, filename, sha256, size, mime, effective_date; actor: the
  uploader) -> a DocumentVersion row with exactly those values, status "draft".
- `version.approve` (object "CODE#N"; new: effective_date, superseded) -> N "approved", approved by the event's
  actor, effective from the event's date; the version named in "superseded" (the previous current one) becomes
  "superseded" if the replay has it "approved" — the event names it either way, the service supersedes only an
  approved one. The document becomes "active" with N as its current version.
- `version.reject` (object "CODE#N") -> N "rejected".
- `document.withdraw` -> document "obsolete"; its versions as listed in new["versions"] when the event has that
  list, else by the service's rule applied to the replayed statuses: approved -> obsolete, draft -> rejected.
- `document.review` -> one DocumentReview row per event (compared per document: the next review dates).
- `document.update` and `document.clauses` change neither versions nor statuses and are not replayed: titles,
  owners, sharing, clause mappings and review dates of documents are not checked here. Neither are the times
  of rows (written a moment apart from their event's time), reasons, notes nor superseded/rejected timestamps.

An event changes only the document its object names (the code, or the code before "#N"; codes hold no "#"), so
the check is a merge: the database sorts the events by (code, seq) and the document, version and review rows by
code, and each document is replayed, compared and let go before the next. Memory holds one document at a time,
however long the register and its trail. Any difference is an error naming the document code and version, in
code order. Versions created by `auditdocs import` and the demo data go through the same services, so the same
events describe them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from itertools import groupby
from typing import Any

from sqlalchemy import ColumnElement, String, case, exists, func, literal, select

from ..extensions import db
from ..models import Attachment, AuditEvent, Document, DocumentReview, DocumentVersion
from ..models.blobrefs import registered

ACTIONS = ("document.create", "version.upload", "version.approve", "version.reject", "document.withdraw",
           "document.review")
BATCH = 2000
STREAM_BATCH = 250  # rows fetched at a time from each sorted stream (a server-side cursor on PostgreSQL): 4 in flight
# Row column -> key of the version.upload event's new values.
UPLOAD_FIELDS = (("sha256", "sha256"), ("size", "size"), ("original_filename", "filename"),
                 ("mime_type", "mime"), ("revision_label", "label"))
VERSION_COLUMNS = (DocumentVersion.id, DocumentVersion.document_id, DocumentVersion.number, DocumentVersion.sha256,
                   DocumentVersion.size, DocumentVersion.original_filename, DocumentVersion.mime_type,
                   DocumentVersion.revision_label, DocumentVersion.uploaded_by_id, DocumentVersion.status,
                   DocumentVersion.approved_by_id, DocumentVersion.effective_date)


@dataclass(slots=True)
class _Version:
    seq: int  # its version.upload event
    upload: dict[str, Any]
    uploader: int | None
    effective: str | None
    status: str = "draft"
    status_seq: int = 0  # the event that set the status
    approver: int | None = None


@dataclass(slots=True)
class _Document:
    seq: int  # its document.create event
    status: str = "draft"
    status_seq: int = 0
    current: int | None = None
    versions: dict[int, _Version] = field(default_factory=dict)
    reviews: list[str | None] = field(default_factory=list)


@dataclass
class CrossCheck:
    """What the cross-check found: every error line, and which of the objects asked about an upload event names."""

    errors: list[str] = field(default_factory=list)
    recorded: set[str] = field(default_factory=set)


def count_events() -> int:
    """Number of events the replay reads (for the progress bar)."""
    return db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action.in_(ACTIONS))) or 0


def _events(actions: tuple[str, ...] = ACTIONS) -> Iterator[Any]:
    """The relevant events in sequence order, a batch at a time (plain rows, no ORM objects)."""
    last = 0
    while True:
        rows = db.session.execute(
            select(AuditEvent.seq, AuditEvent.action, AuditEvent.object_id, AuditEvent.actor_id,
                   AuditEvent.new_values)
            .where(AuditEvent.action.in_(actions), AuditEvent.seq > last).order_by(AuditEvent.seq).limit(BATCH)
        ).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].seq


def uploaded_hashes(skip: tuple[str, ...] = ()) -> set[str]:
    """The sha256 recorded by every upload event of every registered blob column (without replaying the rest):
    evidence even when its row is gone, so gc must leave it."""
    actions = tuple(ref.upload_action for ref in registered() if ref.upload_action and ref.upload_action not in skip)
    hashes = set()
    for ev in _events(actions):
        try:
            hashes.add(str(json.loads(ev.new_values or "{}").get("sha256")))
        except (ValueError, AttributeError):
            continue
    return hashes


# -- the sorted streams -----------------------------------------------------------------------------------------


def _byte_order(col: Any) -> Any:
    """Order as Python compares str (code points, the bytes of UTF-8), not by the database's locale: the merge
    compares the codes of several streams in Python."""
    return col.collate("C") if db.engine.dialect.name == "postgresql" else col


def _event_code() -> ColumnElement[str]:
    """The code an event's object names: all of "CODE", the part before "#" of "CODE#N" ("" for none)."""
    object_id = AuditEvent.object_id
    if db.engine.dialect.name == "postgresql":
        code: ColumnElement[Any] = func.split_part(object_id, "#", 1, type_=String)
    else:
        mark = func.instr(object_id, "#")
        code = case((mark > 0, func.substr(object_id, 1, mark - 1)), else_=object_id)
    return func.coalesce(code, literal(""), type_=String)


def _stream(stack: ExitStack, stmt: Any) -> Iterator[Any]:
    """A sorted query's rows, streamed a batch at a time as plain rows (Core: no ORM copy of each batch); closed
    with the stack."""
    result = db.session.connection().execute(stmt, execution_options={"yield_per": STREAM_BATCH})
    stack.callback(result.close)
    return iter(result)


class _Groups:
    """One stream sorted by code, handed over one code's rows at a time as the merge reaches that code."""

    def __init__(self, name: str, rows: Iterator[Any]) -> None:
        self._name = name
        self._groups = groupby(rows, key=lambda row: row.code)
        self._rows: Iterator[Any] = iter(())
        self.head: str | None = None  # the next code; None once the stream is done
        self._next()

    def _next(self) -> None:
        previous = self.head
        group = next(self._groups, None)
        self.head, self._rows = group if group is not None else (None, iter(()))
        if self.head is not None and previous is not None and self.head <= previous:
            raise RuntimeError(f"{self._name} came out of code order ({self.head!r} after {previous!r})")

    def take(self, code: str) -> list[Any]:
        """The rows of this code (none if the stream has none), moving on past them."""
        if self.head is None or self.head > code:
            return []
        if self.head < code:
            raise RuntimeError(f"{self._name} came out of code order ({self.head!r} before {code!r})")
        rows = list(self._rows)
        self._next()
        return rows


def _streams(stack: ExitStack) -> tuple[_Groups, ...]:
    """The events, document rows, version rows and review rows, each sorted by code (events then by seq)."""
    code = _event_code()
    events = (select(code.label("code"), AuditEvent.seq, AuditEvent.action, AuditEvent.object_id,
                     AuditEvent.actor_id, AuditEvent.new_values)
              .where(AuditEvent.action.in_(ACTIONS)).order_by(_byte_order(code), AuditEvent.seq))
    documents = (select(Document.code, Document.id, Document.status, Document.current_version_id)
                 .order_by(_byte_order(Document.code)))
    versions = (select(Document.code, *VERSION_COLUMNS).join(Document, Document.id == DocumentVersion.document_id)
                .order_by(_byte_order(Document.code), DocumentVersion.number, DocumentVersion.id))
    reviews = (select(Document.code, DocumentReview.next_review_date)
               .join(Document, Document.id == DocumentReview.document_id)
               .order_by(_byte_order(Document.code), DocumentReview.id))
    return (_Groups("audit events", _stream(stack, events)), _Groups("document rows", _stream(stack, documents)),
            _Groups("version rows", _stream(stack, versions)), _Groups("review rows", _stream(stack, reviews)))


# -- one document's replay --------------------------------------------------------------------------------------


def _compared(new: dict[str, Any]) -> dict[str, Any]:
    """The upload event's values the rows are compared with, and nothing else."""
    return {key: new.get(key) for _column, key in UPLOAD_FIELDS}


def _split(object_id: str | None) -> tuple[str, int | None]:
    code, _sep, number = (object_id or "").rpartition("#")
    return code, int(number) if number.isdigit() else None


def _replay(code: str, events: list[Any], advance: Callable[[int], None] | None, errors: list[str],
            candidates: Collection[str], recorded: set[str]) -> _Document | None:
    """Replay one document's events (in sequence order) into the state its rows must be in."""
    doc: _Document | None = None
    for ev in events:
        if advance:
            advance(1)
        try:
            new = json.loads(ev.new_values) if ev.new_values else {}
            if not isinstance(new, dict):
                raise ValueError
        except ValueError:
            errors.append(f"audit event {ev.seq} ({ev.action}): its values are not readable JSON")
            continue
        if ev.action == "version.upload" and candidates and str(new.get("sha256")) in candidates:
            recorded.add(str(new.get("sha256")))
        doc = _apply(code, doc, ev, new, errors)
    return doc


def _apply(code: str, doc: _Document | None, ev: Any, new: dict[str, Any], errors: list[str]) -> _Document | None:
    """One event's effect on its document's replayed state (None: not created yet); returns the state."""
    where = f"audit event {ev.seq} ({ev.action})"
    if ev.action == "document.create":
        if doc is not None:
            errors.append(f"document {code}: created twice in the audit trail (events {doc.seq} and {ev.seq})")
            return doc
        return _Document(seq=ev.seq, status_seq=ev.seq)
    number = new.get("number") if ev.action == "version.upload" else _split(ev.object_id)[1]
    if ev.action == "version.upload" and str(new.get("document")) != code:
        errors.append(f"{where}: names document {new.get('document')}, but its object is {ev.object_id}")
        return doc
    if doc is None:
        errors.append(f"{where}: names document {code}, which no document.create event created")
        return doc
    if ev.action == "version.upload":
        if not isinstance(number, int) or number in doc.versions:
            errors.append(f"{where}: {code} v{number} is not a new version number")
            return doc
        doc.versions[number] = _Version(seq=ev.seq, upload=_compared(new), uploader=ev.actor_id,
                                        effective=new.get("effective_date"), status_seq=ev.seq)
    elif ev.action == "document.review":
        doc.reviews.append(new.get("next_review_date"))
    elif ev.action == "document.withdraw":
        _withdraw(doc, ev.seq, new.get("versions"))
    elif (version := doc.versions.get(number) if number is not None else None) is None:
        errors.append(f"{where}: names {code} v{number}, which no version.upload event created")
    elif ev.action == "version.reject":
        version.status, version.status_seq = "rejected", ev.seq
    else:
        version.status, version.status_seq = "approved", ev.seq
        version.approver, version.effective = ev.actor_id, new.get("effective_date")
        superseded = new.get("superseded")
        previous = doc.versions.get(superseded) if isinstance(superseded, int) else None
        if previous is not None and previous is not version and previous.status == "approved":
            previous.status, previous.status_seq = "superseded", ev.seq
        doc.status, doc.status_seq, doc.current = "active", ev.seq, number
    return doc


def _withdraw(doc: _Document, seq: int, listed: Any) -> None:
    """document.withdraw: the document obsolete, its versions as the event lists them or by the service's rule."""
    doc.status, doc.status_seq = "obsolete", seq
    for n, version in doc.versions.items():
        if isinstance(listed, dict):
            status = listed.get(str(n), version.status)
        else:
            status = {"approved": "obsolete", "draft": "rejected"}.get(version.status, version.status)
        if status != version.status:
            version.status, version.status_seq = status, seq


# -- one document's rows against its replay ---------------------------------------------------------------------


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _v(version: tuple[str, int] | None) -> str:
    return f"{version[0]} v{version[1]}" if version is not None else "none"


def _version_named(version_id: int | None, own: list[Any], code: str) -> tuple[str, int] | None:
    """A current_version_id as (code, number): one of the document's own rows, else looked up (only when it points
    elsewhere, which is an error anyway)."""
    if version_id is None:
        return None
    for row in own:
        if row.id == version_id:
            return code, row.number
    found = db.session.execute(
        select(Document.code, DocumentVersion.document_id, DocumentVersion.number)
        .outerjoin(Document, Document.id == DocumentVersion.document_id).where(DocumentVersion.id == version_id)
    ).first()
    return None if found is None else (found.code or f"document id {found.document_id}", found.number)


def _compare(code: str, row: Any, replayed: _Document | None, versions: list[Any], reviews: list[Any]) -> list[str]:
    """One document's rows against its replayed events: its own row, its versions, its current one, its reviews."""
    errors: list[str] = []
    if row is not None and replayed is None:
        errors.append(f"document {code}: no document.create event in the audit trail (row added by hand)")
    elif row is not None and replayed is not None and row.status != replayed.status:
        errors.append(f"document {code}: status is {row.status} in the database but {replayed.status} "
                      f"in the audit trail (event {replayed.status_seq})")
    seen: set[int] = set()
    for version in versions:
        seen.add(version.number)
        expected = replayed.versions.get(version.number) if replayed else None
        if expected is None:
            errors.append(f"{code} v{version.number}: no version.upload event in the audit trail (row added by hand)")
        else:
            errors.extend(_compare_version(f"{code} v{version.number}", version, expected))
    if replayed is not None:
        if row is None:
            errors.append(f"document {code}: document row deleted (created in audit event {replayed.seq})")
        elif (found := _version_named(row.current_version_id, versions, code)) != (
                wanted := None if replayed.current is None else (code, replayed.current)):
            errors.append(f"document {code}: current version is {_v(found)} in the database but {_v(wanted)} "
                          "in the audit trail")
        errors.extend(f"{code} v{number}: version row deleted (uploaded in audit event {version.seq}: "
                      f"sha256 {version.upload.get('sha256')}, {version.upload.get('size')} bytes)"
                      for number, version in replayed.versions.items() if number not in seen)
    errors.extend(_compare_reviews(code, [_iso(r.next_review_date) for r in reviews],
                                   replayed.reviews if replayed else []))
    return errors


def _compare_version(name: str, row: Any, expected: _Version) -> list[str]:
    """A version row against its upload event and the replayed status."""
    out = []
    for column, key in UPLOAD_FIELDS:
        if getattr(row, column) != expected.upload.get(key):
            out.append(f"{name}: {column} is {getattr(row, column)!r} in the database but "
                       f"{expected.upload.get(key)!r} in its upload event ({expected.seq})")
    if row.uploaded_by_id != expected.uploader:
        out.append(f"{name}: uploaded_by_id is {row.uploaded_by_id} in the database but {expected.uploader} "
                   f"in its upload event ({expected.seq})")
    if row.status != expected.status:
        out.append(f"{name}: status is {row.status} in the database but {expected.status} in the audit trail "
                   f"(event {expected.status_seq})")
    if row.approved_by_id != expected.approver:
        out.append(f"{name}: approved_by_id is {row.approved_by_id} in the database but {expected.approver} "
                   "in the audit trail")
    if _iso(row.effective_date) != expected.effective:
        out.append(f"{name}: effective date is {_iso(row.effective_date)} in the database but "
                   f"{expected.effective} in the audit trail")
    return out


def _compare_reviews(code: str, rows: list[str | None], events: list[str | None]) -> list[str]:
    """A document's review rows against its document.review events (next review dates, in any order)."""
    found, wanted = sorted(rows, key=str), sorted(events, key=str)
    if found == wanted:
        return []
    return [f"document {code}: {len(found)} review row(s) (next review {', '.join(map(str, found)) or '-'})"
            f" but {len(wanted)} document.review event(s) (next review {', '.join(map(str, wanted)) or '-'})"]


def _rows_without_document(stack: ExitStack) -> list[str]:
    """Version and review rows whose document row is gone (by id: they have no code to merge on)."""
    errors = []
    orphan_versions = (select(*VERSION_COLUMNS)
                       .where(~exists().where(Document.id == DocumentVersion.document_id))
                       .order_by(DocumentVersion.id))
    errors += [f"version row {row.id} (v{row.number}, sha256 {row.sha256}) belongs to document id "
               f"{row.document_id}, which has no row" for row in _stream(stack, orphan_versions)]
    orphan_reviews = (select(DocumentReview.document_id, DocumentReview.next_review_date)
                      .where(~exists().where(Document.id == DocumentReview.document_id))
                      .order_by(DocumentReview.document_id, DocumentReview.id))
    for document_id, rows in groupby(_stream(stack, orphan_reviews), key=lambda row: row.document_id):
        errors += _compare_reviews(f"id {document_id}", [_iso(r.next_review_date) for r in rows], [])
    return errors


def _check_documents(advance: Callable[[int], None] | None, candidates: Collection[str], result: CrossCheck) -> None:
    """Merge the sorted events and rows code by code: replay, compare and let go one document at a time."""
    with ExitStack() as stack:
        streams = _streams(stack)
        events, documents, versions, reviews = streams
        while heads := [s.head for s in streams if s.head is not None]:
            code = min(heads)
            replayed = _replay(code, events.take(code), advance, result.errors, candidates, result.recorded)
            row = next(iter(documents.take(code)), None)
            result.errors.extend(_compare(code, row, replayed, versions.take(code), reviews.take(code)))
    with ExitStack() as stack:
        result.errors.extend(_rows_without_document(stack))


def _rows(*columns: Any, batch: int = BATCH) -> Iterator[Any]:
    """Rows of a table by primary key (the first column, labelled id), a batch at a time."""
    key, last = columns[0], 0
    while True:
        rows = db.session.execute(select(*columns).where(key > last).order_by(key).limit(batch)).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].id


ATTACHMENT_FIELDS = (("sha256", "sha256"), ("size", "size"), ("original_filename", "filename"),
                     ("mime_type", "mime"))


def check_attachments() -> list[str]:
    """Attachment rows against their `attachment.add` events: same file, same record, none missing or added."""
    recorded: dict[int, tuple[int, Any, dict[str, Any]]] = {}
    for ev in _events(("attachment.add",)):
        try:
            new = json.loads(ev.new_values or "{}")
            recorded[int(new["attachment"])] = (ev.seq, ev.object_id, new)
        except (ValueError, KeyError, TypeError):
            continue
    errors = []
    for row in _rows(Attachment.id, Attachment.owner_type, Attachment.owner_id, Attachment.sha256, Attachment.size,
                     Attachment.original_filename, Attachment.mime_type):
        name = f"attachment {row.id} ({row.owner_type} {row.owner_id}, {row.original_filename})"
        if row.id not in recorded:
            errors.append(f"{name}: no attachment.add event in the audit trail (row added by hand)")
            continue
        seq, object_id, new = recorded.pop(row.id)
        if object_id != f"{row.owner_type}:{row.owner_id}":
            errors.append(f"{name}: attached to {object_id} in its audit event ({seq})")
        errors += [f"{name}: {column} is {getattr(row, column)!r} in the database but {new.get(key)!r} in its "
                   f"audit event ({seq})" for column, key in ATTACHMENT_FIELDS if getattr(row, column) != new.get(key)]
    errors += [f"attachment {aid}: row deleted (added in audit event {seq}: {new.get('filename')}, sha256 "
               f"{new.get('sha256')})" for aid, (seq, _obj, new) in sorted(recorded.items())]
    return errors


def check(advance: Callable[[int], None] | None = None, candidates: Collection[str] = ()) -> CrossCheck:
    """Replay the trail against the rows, document by document, then the attachments: every error line, and which
    of `candidates` (objects no row references) a version.upload event recorded, read in the same pass."""
    result = CrossCheck()
    _check_documents(advance, candidates, result)
    result.errors.extend(check_attachments())
    return result
