"""Saving structured records as revisions; their history, diffs, the state on a past day, and the proof in verify.

Every save of a record (nonconformity, corrective action, risk, due-diligence or gift entry) goes through `save()`:
it appends a revision with the next number (under a lock, so two saves never take the same number), the author,
the UTC time, a canonical JSON snapshot of the record's fields and its SHA-256, and records a hash-chained audit
event carrying that hash. The record's own row is then a projection of its latest revision; `verify_records()`
proves it still is, and that the revisions still match the audit trail.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ..db import advisory_lock
from ..events import announce
from ..extensions import db
from ..models import AuditEvent, RecordRevision, Revisioned, User
from ..models.revisions import record_types
from ..timeutil import as_utc, org_tz, utcnow
from . import ServiceError, audit

ACTION = "record.revise"
_PG_LOCK = 0x52455653  # "REVS": namespace of the per-record advisory locks


@dataclass(frozen=True)
class FieldChange:
    """One field that differs between two revisions."""

    field: str
    old: Any
    new: Any


def snapshot(record: Revisioned) -> dict[str, Any]:
    """The record's revision fields as JSON values (dates as ISO text, times in canonical UTC)."""
    return {name: json.loads(audit.canonical_json(getattr(record, name))) for name in record.__revision_fields__}


def _digest(snapshot_json: str) -> str:
    return hashlib.sha256(snapshot_json.encode("utf-8")).hexdigest()


def _lock(record: Revisioned) -> None:
    """Serialise saves of one record (PostgreSQL: advisory lock; on SQLite, saves run inside write_transaction() or
    a writer command, which hold BEGIN IMMEDIATE; the unique (type, id, number) constraint backs both)."""
    advisory_lock(_PG_LOCK, f"{record.__entity_type__}:{record.id}")


def latest(entity_type: str, entity_id: int) -> RecordRevision | None:
    """The newest revision of a record."""
    return db.session.scalar(select(RecordRevision).where(
        RecordRevision.entity_type == entity_type, RecordRevision.entity_id == entity_id)
        .order_by(RecordRevision.number.desc()).limit(1))


def save(record: Revisioned, *, actor: User | None, note: str | None = None) -> RecordRevision:
    """Append a revision holding the record's current fields (the caller has flushed the row so it has an id).

    A save that changes nothing appends nothing and returns the latest revision: a revision always means a change.
    """
    _lock(record)
    entity_type = record.__entity_type__
    db.session.flush()
    db.session.refresh(record, attribute_names=list(record.__revision_fields__))  # what the database really holds
    data = snapshot(record)
    body = audit.canonical_json(data)
    previous = latest(entity_type, record.id)
    if previous is not None and previous.snapshot == body:
        return previous
    number = (previous.number if previous else 0) + 1
    revision = RecordRevision(entity_type=entity_type, entity_id=record.id, number=number,
                              author_id=actor.id if actor else None, created_at=utcnow(), snapshot=body,
                              sha256=_digest(body), change_note=(note or "").strip() or None)
    db.session.add(revision)
    record.revision = number
    db.session.flush()
    audit.record(ACTION, entity_type, f"{entity_type}:{record.id}#{number}", actor=actor,
                 actor_label=None if actor else "system",
                 new={"number": number, "sha256": revision.sha256, "note": revision.change_note})
    announce(entity_type, record.id, "create" if number == 1 else "revise")
    return revision


def require_unchanged(record: Revisioned, seen: int | None) -> None:
    """Refuse (409) a form based on an older revision than the record's latest: someone else saved it meanwhile, and
    saving would silently undo their change. Call it under the record's lock; None (no revision sent) skips it."""
    if seen is not None and seen != record.revision:
        raise ServiceError(_l("Someone else saved this record while you were editing it (it is now at revision "
                              "%(now)d; you started from revision %(seen)d). Your changes are still in the form: "
                              "compare them with the history and save again.", now=record.revision, seen=seen), 409)


def history(entity_type: str, entity_id: int) -> list[RecordRevision]:
    """Every revision of a record, oldest first."""
    return list(db.session.scalars(select(RecordRevision).where(
        RecordRevision.entity_type == entity_type, RecordRevision.entity_id == entity_id)
        .order_by(RecordRevision.number)))


def fields_of(revision: RecordRevision) -> dict[str, Any]:
    """A revision's snapshot as a dict."""
    data: dict[str, Any] = json.loads(revision.snapshot)
    return data


def diff(older: RecordRevision | None, newer: RecordRevision) -> list[FieldChange]:
    """Field-by-field differences from `older` (None: the record was created) to `newer`, in field order."""
    before = fields_of(older) if older is not None else {}
    after = fields_of(newer)
    model = record_types().get(newer.entity_type)
    declared = list(model.__revision_fields__) if model is not None else []
    names = declared + [name for name in [*after, *before] if name not in declared]
    names = list(dict.fromkeys(names))
    return [FieldChange(name, before.get(name), after.get(name)) for name in names
            if before.get(name) != after.get(name)]


def as_of(entity_type: str, entity_id: int, when: date | datetime) -> RecordRevision | None:
    """The revision in effect at a moment (a naive datetime is taken as UTC); a date means the whole of that day
    where the organisation is."""
    if isinstance(when, datetime):
        condition = RecordRevision.created_at <= as_utc(when)
    else:
        condition = RecordRevision.created_at < datetime.combine(when + timedelta(days=1), time.min,
                                                                 org_tz()).astimezone(UTC)
    return db.session.scalar(select(RecordRevision).where(
        RecordRevision.entity_type == entity_type, RecordRevision.entity_id == entity_id, condition)
        .order_by(RecordRevision.number.desc()).limit(1))


def count_records() -> int:
    """How many records verify checks (for its progress bar)."""
    return sum(db.session.scalar(select(func.count()).select_from(model)) or 0
               for model in record_types().values())


def verify_records(advance: Callable[[int], None] | None = None) -> list[str]:
    """Every record row against its latest revision, every revision's hash, and the revisions against the trail."""
    errors: list[str] = []
    for entity_type, model in record_types().items():
        latest_of: dict[int, RecordRevision] = {}
        for revision in db.session.scalars(select(RecordRevision).where(RecordRevision.entity_type == entity_type)
                                           .order_by(RecordRevision.entity_id, RecordRevision.number)):
            if _digest(revision.snapshot) != revision.sha256:
                errors.append(f"{entity_type} {revision.entity_id} revision {revision.number}: the snapshot does not "
                              "match its SHA-256 (edited)")
            latest_of[revision.entity_id] = revision
        seen: set[int] = set()
        for record in db.session.scalars(select(model).order_by(model.id)):
            seen.add(record.id)
            if advance:
                advance(1)
            errors.extend(_check_projection(entity_type, record, latest_of.get(record.id)))
        errors.extend(f"{entity_type} {entity_id}: has revisions but no row (row deleted)"
                      for entity_id in sorted(set(latest_of) - seen))
        errors.extend(_check_against_trail(entity_type))
    return errors


def _check_projection(entity_type: str, record: Revisioned, revision: RecordRevision | None) -> list[str]:
    """One row against the revision it should project."""
    name = f"{entity_type} {record.id}"
    if revision is None:
        return [f"{name}: has no revision (row written behind the application's back)"]
    out = []
    if record.revision != revision.number:
        out.append(f"{name}: the row says revision {record.revision} but the latest is {revision.number}")
    stored, current = fields_of(revision), snapshot(record)
    for field in (f for f in current if current[f] != stored.get(f)):
        out.append(f"{name}: {field} is {current[field]!r} in the row but {stored.get(field)!r} in revision "
                   f"{revision.number}")
    return out


def _check_against_trail(entity_type: str) -> list[str]:
    """Each revision against the audit event recorded with it (number and hash), both ways."""
    events: dict[tuple[int, int], str] = {}
    for object_id, new_values in db.session.execute(select(AuditEvent.object_id, AuditEvent.new_values).where(
            AuditEvent.action == ACTION, AuditEvent.object_type == entity_type)):
        key, _sep, number = (object_id or "").rpartition("#")
        entity_id = key.rpartition(":")[2]
        if entity_id.isdigit() and number.isdigit():
            events[(int(entity_id), int(number))] = str(json.loads(new_values or "{}").get("sha256"))
    rows = {(r.entity_id, r.number): r.sha256 for r in db.session.execute(
        select(RecordRevision.entity_id, RecordRevision.number, RecordRevision.sha256)
        .where(RecordRevision.entity_type == entity_type))}
    out = [f"{entity_type} {eid} revision {n}: no {ACTION} event in the audit trail (added by hand)"
           for (eid, n) in sorted(set(rows) - set(events))]
    out += [f"{entity_type} {eid} revision {n}: revision row deleted (recorded in the audit trail)"
            for (eid, n) in sorted(set(events) - set(rows))]
    out += [f"{entity_type} {eid} revision {n}: SHA-256 differs from the audit trail (rewritten)"
            for (eid, n) in sorted(set(rows) & set(events)) if rows[(eid, n)] != events[(eid, n)]]
    return out
