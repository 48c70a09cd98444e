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

Any difference is an error naming the document code and version. Versions created by `auditdocs import` and
the demo data go through the same services, so the same events describe them.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from ..extensions import db
from ..models import Attachment, AuditEvent, Document, DocumentReview, DocumentVersion
from ..models.blobrefs import registered

ACTIONS = ("document.create", "version.upload", "version.approve", "version.reject", "document.withdraw",
           "document.review")
BATCH = 2000
# Row column -> key of the version.upload event's new values.
UPLOAD_FIELDS = (("sha256", "sha256"), ("size", "size"), ("original_filename", "filename"),
                 ("mime_type", "mime"), ("revision_label", "label"))


@dataclass(slots=True)  # one per version in the store: kept small (verify holds them all while it replays)
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
class Trail:
    """What the audit trail says the rows hold, and what in the trail itself does not add up."""

    documents: dict[str, _Document] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def uploaded_hashes(self) -> set[str]:
        """Every sha256 an upload event recorded: evidence even if its row is gone (gc must leave it)."""
        return {str(v.upload.get("sha256")) for d in self.documents.values() for v in d.versions.values()}


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


def _compared(new: dict[str, Any]) -> dict[str, Any]:
    """The upload event's values the rows are compared with, and nothing else (the event holds more, in its own
    copy of every key); repeated texts such as mime types are shared."""
    return {key: sys.intern(value) if key == "mime" and isinstance(value, str) else value
            for key, value in ((key, new.get(key)) for _column, key in UPLOAD_FIELDS)}


def _split(object_id: str | None) -> tuple[str, int | None]:
    code, _sep, number = (object_id or "").rpartition("#")
    return code, int(number) if number.isdigit() else None


def replay(advance: Callable[[int], None] | None = None) -> Trail:
    """Replay the document and version events into the state the rows must be in."""
    trail = Trail()
    for ev in _events():
        if advance:
            advance(1)
        try:
            new = json.loads(ev.new_values) if ev.new_values else {}
            if not isinstance(new, dict):
                raise ValueError
        except ValueError:
            trail.errors.append(f"audit event {ev.seq} ({ev.action}): its values are not readable JSON")
            continue
        _apply(trail, ev, new)
    return trail


def _apply(trail: Trail, ev: Any, new: dict[str, Any]) -> None:
    """One event's effect on the replayed state."""
    where = f"audit event {ev.seq} ({ev.action})"
    if ev.action == "document.create":
        if ev.object_id in trail.documents:
            trail.errors.append(f"document {ev.object_id}: created twice in the audit trail "
                                f"(events {trail.documents[ev.object_id].seq} and {ev.seq})")
        else:
            trail.documents[ev.object_id] = _Document(seq=ev.seq, status_seq=ev.seq)
        return
    if ev.action == "version.upload":
        code, number = str(new.get("document")), new.get("number")
    elif ev.action.startswith("version."):
        code, number = _split(ev.object_id)
    else:
        code, number = str(ev.object_id), None
    doc = trail.documents.get(code)
    if doc is None:
        trail.errors.append(f"{where}: names document {code}, which no document.create event created")
        return
    if ev.action == "version.upload":
        if not isinstance(number, int) or number in doc.versions:
            trail.errors.append(f"{where}: {code} v{number} is not a new version number")
            return
        doc.versions[number] = _Version(seq=ev.seq, upload=_compared(new), uploader=ev.actor_id,
                                        effective=new.get("effective_date"), status_seq=ev.seq)
        return
    if ev.action == "document.review":
        doc.reviews.append(new.get("next_review_date"))
        return
    if ev.action == "document.withdraw":
        doc.status, doc.status_seq = "obsolete", ev.seq
        listed = new.get("versions")
        for n, version in doc.versions.items():
            if isinstance(listed, dict):
                status = listed.get(str(n), version.status)
            else:
                status = {"approved": "obsolete", "draft": "rejected"}.get(version.status, version.status)
            if status != version.status:
                version.status, version.status_seq = status, ev.seq
        return
    named = doc.versions.get(number) if number is not None else None
    if named is None:
        trail.errors.append(f"{where}: names {code} v{number}, which no version.upload event created")
        return
    version = named
    version.status_seq = ev.seq
    if ev.action == "version.reject":
        version.status = "rejected"
        return
    version.status, version.approver, version.effective = "approved", ev.actor_id, new.get("effective_date")
    superseded = new.get("superseded")
    previous = doc.versions.get(superseded) if isinstance(superseded, int) else None
    if previous is not None and previous is not version and previous.status == "approved":
        previous.status, previous.status_seq = "superseded", ev.seq
    doc.status, doc.status_seq, doc.current = "active", ev.seq, number


def _rows(*columns: Any, batch: int = BATCH) -> Iterator[Any]:
    """Rows of a table by primary key (the first column, labelled id), a batch at a time."""
    key, last = columns[0], 0
    while True:
        rows = db.session.execute(select(*columns).where(key > last).order_by(key).limit(batch)).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].id


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def compare(trail: Trail) -> list[str]:
    """Every difference between the rows and the replayed trail, as error lines."""
    errors: list[str] = []
    code_of: dict[int, str] = {}
    current_of: dict[str, int | None] = {}
    for row in _rows(Document.id, Document.code, Document.status, Document.current_version_id):
        code_of[row.id], current_of[row.code] = row.code, row.current_version_id
        replayed_doc = trail.documents.get(row.code)
        if replayed_doc is None:
            errors.append(f"document {row.code}: no document.create event in the audit trail (row added by hand)")
        elif row.status != replayed_doc.status:
            errors.append(f"document {row.code}: status is {row.status} in the database but {replayed_doc.status} "
                          f"in the audit trail (event {replayed_doc.status_seq})")
    version_of: dict[int, tuple[str, int]] = {}
    seen: set[tuple[str, int]] = set()
    for row in _rows(DocumentVersion.id, DocumentVersion.document_id, DocumentVersion.number,
                     DocumentVersion.sha256, DocumentVersion.size, DocumentVersion.original_filename,
                     DocumentVersion.mime_type, DocumentVersion.revision_label, DocumentVersion.uploaded_by_id,
                     DocumentVersion.status, DocumentVersion.approved_by_id, DocumentVersion.effective_date):
        code = code_of.get(row.document_id)
        version_of[row.id] = (code or f"document id {row.document_id}", row.number)
        if code is None:
            errors.append(f"version row {row.id} (v{row.number}, sha256 {row.sha256}) belongs to document id "
                          f"{row.document_id}, which has no row")
            continue
        seen.add((code, row.number))
        replayed = trail.documents.get(code)
        expected = replayed.versions.get(row.number) if replayed else None
        if expected is None:
            errors.append(f"{code} v{row.number}: no version.upload event in the audit trail (row added by hand)")
            continue
        errors.extend(_compare_version(f"{code} v{row.number}", row, expected))
    for code, doc in trail.documents.items():
        if code not in current_of:
            errors.append(f"document {code}: document row deleted (created in audit event {doc.seq})")
        elif (found := version_of.get(current_of[code] or 0)) != (None if doc.current is None else (code, doc.current)):
            errors.append(f"document {code}: current version is {_v(found)} in the database but "
                          f"{_v((code, doc.current) if doc.current is not None else None)} in the audit trail")
        for number, version in doc.versions.items():
            if (code, number) not in seen:
                errors.append(f"{code} v{number}: version row deleted (uploaded in audit event {version.seq}: "
                              f"sha256 {version.upload.get('sha256')}, {version.upload.get('size')} bytes)")
    errors.extend(_compare_reviews(trail, code_of))
    return errors


def _v(version: tuple[str, int] | None) -> str:
    return f"{version[0]} v{version[1]}" if version is not None else "none"


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


def _compare_reviews(trail: Trail, code_of: dict[int, str]) -> list[str]:
    """Each document's review rows against its document.review events (next review dates, in any order)."""
    rows: dict[str, list[str | None]] = {}
    for row in _rows(DocumentReview.id, DocumentReview.document_id, DocumentReview.next_review_date):
        rows.setdefault(code_of.get(row.document_id, f"id {row.document_id}"), []).append(_iso(row.next_review_date))
    out = []
    for code in sorted(set(rows) | {c for c, d in trail.documents.items() if d.reviews}):
        found = sorted(rows.get(code, []), key=str)
        doc = trail.documents.get(code)
        wanted = sorted(doc.reviews if doc else [], key=str)
        if found != wanted:
            out.append(f"document {code}: {len(found)} review row(s) (next review {', '.join(map(str, found)) or '-'})"
                       f" but {len(wanted)} document.review event(s) (next review "
                       f"{', '.join(map(str, wanted)) or '-'})")
    return out


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


def check(advance: Callable[[int], None] | None = None) -> tuple[Trail, list[str]]:
    """Replay the trail and compare it with the rows: (the replay, every error line)."""
    trail = replay(advance)
    return trail, trail.errors + compare(trail) + check_attachments()
