"""Append events to the hash-chained audit trail and verify the chain."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import func, select

from ..db import advisory_lock
from ..extensions import db
from ..models import AuditEvent, User
from ..timeutil import utc_text, utcnow

GENESIS = "0" * 64
_PG_LOCK_KEY = 0x41554454  # "AUDT": serialises chain appends across PostgreSQL sessions


def _jsonable(value: Any) -> Any:
    """Turn values into JSON that hashes the same on every database."""
    if isinstance(value, datetime):
        return utc_text(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        return sorted((_jsonable(v) for v in value), key=str)  # a set's order differs between processes
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def canonical_json(value: Any) -> str:
    """Canonical JSON: sorted keys, no spaces, UTF-8 kept."""
    return json.dumps(_jsonable(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def event_hash(ev: AuditEvent) -> str:
    """Hash of an event's content and its predecessor's hash."""
    payload = {
        "seq": ev.seq,
        "at": utc_text(ev.occurred_at),
        "actor_id": ev.actor_id,
        "actor": ev.actor_label,
        "action": ev.action,
        "object_type": ev.object_type,
        "object_id": ev.object_id,
        "old": ev.old_values,
        "new": ev.new_values,
        "ip": ev.ip,
        "prev": ev.prev_hash,
    }
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


def _lock_chain() -> None:
    """Take the chain lock inside the current transaction (SQLite writers already hold BEGIN IMMEDIATE)."""
    advisory_lock(_PG_LOCK_KEY)


def record(
    action: str,
    object_type: str,
    object_id: object = None,
    *,
    old: dict[str, Any] | None = None,
    new: dict[str, Any] | None = None,
    actor: User | None = None,
    actor_label: str | None = None,
) -> AuditEvent:
    """Append one event in the caller's transaction; the sequence number is taken under the chain lock."""
    if actor is None and actor_label is None and has_request_context() and current_user.is_authenticated:
        actor = current_user._get_current_object()
    _lock_chain()
    head = db.session.execute(
        select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    ev = AuditEvent(
        seq=(head.seq + 1) if head else 1,
        occurred_at=utcnow(),
        actor_id=actor.id if actor else None,
        actor_label=actor.email if actor else (actor_label or "system"),
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        old_values=canonical_json(old) if old is not None else None,
        new_values=canonical_json(new) if new is not None else None,
        ip=(request.remote_addr if has_request_context() else None),
        prev_hash=head.hash if head else GENESIS,
    )
    ev.hash = event_hash(ev)
    db.session.add(ev)
    db.session.flush()
    return ev


@dataclass
class ChainReport:
    """Outcome of walking the chain."""

    events: int
    head_seq: int
    head_hash: str
    errors: list[str]


def iter_events(batch: int = 500) -> Iterator[AuditEvent]:
    """Every event in sequence order, in batches so a long trail does not fill memory."""
    last = 0
    while True:
        rows = db.session.scalars(
            select(AuditEvent).where(AuditEvent.seq > last).order_by(AuditEvent.seq).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].seq
        db.session.expunge_all()


def verify_chain(
    checkpoint: tuple[int, str] | None = None, progress: Callable[[int], None] | None = None
) -> ChainReport:
    """Recompute every hash and link; report gaps, edits, broken links and a missed checkpoint."""
    errors: list[str] = []
    expected_seq, prev, count, head_hash = 1, GENESIS, 0, GENESIS
    checkpoint_seen = checkpoint is None
    for ev in iter_events():
        count += 1
        if ev.seq != expected_seq:
            errors.append(f"audit chain gap: expected event {expected_seq}, found {ev.seq}")
        if ev.prev_hash != prev:
            errors.append(f"audit event {ev.seq}: broken link to the previous event")
        if event_hash(ev) != ev.hash:
            errors.append(f"audit event {ev.seq}: content does not match its hash (edited)")
        if checkpoint and ev.seq == checkpoint[0]:
            checkpoint_seen = True
            if ev.hash != checkpoint[1]:
                errors.append(f"checkpoint {checkpoint[0]}: the chain no longer passes through this hash")
        prev, head_hash, expected_seq = ev.hash, ev.hash, ev.seq + 1
        if progress:
            progress(1)
    if not checkpoint_seen and checkpoint:
        errors.append(f"checkpoint {checkpoint[0]}: the chain is shorter than the checkpoint (truncated)")
    return ChainReport(events=count, head_seq=expected_seq - 1, head_hash=head_hash, errors=errors)


def head() -> tuple[int, str]:
    """The chain head (sequence number and hash) to keep outside the system."""
    row = db.session.execute(
        select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    return (row.seq, row.hash) if row else (0, GENESIS)


def count_events() -> int:
    """Number of events (for summaries)."""
    return db.session.scalar(select(func.count(AuditEvent.id))) or 0
