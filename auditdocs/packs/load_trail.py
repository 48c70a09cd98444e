"""The audit-trail excerpt a pack annexes: the decisions of the period (approvals, withdrawals, closures) and where
the hash chain stood when the pack was built.

Why closures are read from the revisions: a record's save is one "record.revise" event whatever changed; the
revision it names, against the one before, says whether that save closed a nonconformity, checked an action,
approved a risk or decided a file. Objects the scope may not see are left out, as the audit log page withholds them.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, time
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, or_, select, tuple_
from sqlalchemy.orm import selectinload

from ..ddg_labels import DD_STATUS_LABELS, GIFT_STATUS_LABELS
from ..extensions import db
from ..labels import ACTION_STATUS_LABELS, NC_STATUS_LABELS
from ..models import AuditEvent, CorrectiveAction, Document, DocumentVersion, RecordRevision
from ..models.revisions import record_types
from ..policy import AccessScope
from ..services import audit
from ..services.revisions import ACTION as REVISE
from ..services.risk_exports import RISK_STATUS_LABELS
from ..timeutil import as_utc, end_of_local_day, org_tz
from ..web.audit_sentences import ACTIONS, ACTOR_LABELS
from .content import TableBlock
from .spec import PackSpec

APPROVE, WITHDRAW = "version.approve", "document.withdraw"
# The statuses a save moves a record into that close, check, approve or decide it, with the words for them.
CLOSING: dict[str, dict[str, Any]] = {
    "nonconformity": {"closed": NC_STATUS_LABELS["closed"]},
    "corrective_action": {k: ACTION_STATUS_LABELS[k] for k in ("effective", "not_effective", "cancelled")},
    "bribery_risk": {k: RISK_STATUS_LABELS[k] for k in ("approved", "retired")},
    "risk_exercise": {"closed": _l("Concluded")},  # the exercise's own word (web/risks/labels.py)
    "due_diligence": {"decided": DD_STATUS_LABELS["decided"]},
    "gift": {k: GIFT_STATUS_LABELS[k] for k in ("approved", "rejected")},
}
# The app's words for each kind of record (the search page's msgids: one translation serves both).
KINDS: dict[str, Any] = {
    "nonconformity": _l("Nonconformity"), "corrective_action": _l("Corrective action"),
    "bribery_risk": _l("Bribery risk"), "due_diligence": _l("Due diligence"), "gift": _l("Gift or hospitality"),
    "risk_exercise": _l("Assessment exercise"),
}
_RECORD_ID = re.compile(r"(?P<type>[a-z_]+):(?P<id>\d+)#(?P<number>\d+)")
_VERSION_ID = re.compile(r"(?P<code>.+)#(?P<number>\d+)")
_CHUNK = 300  # record keys per statement: three bound values each, far under SQLite's limit


def _period(spec: PackSpec) -> tuple[datetime, datetime]:
    """The period's first and last moments where the organisation is, in UTC."""
    return datetime.combine(spec.date_from, time.min, org_tz()).astimezone(UTC), end_of_local_day(spec.date_to)


def _status_of(snapshot: str | None) -> str | None:
    return json.loads(snapshot).get("status") if snapshot else None


def _revisions(keys: list[tuple[str, int, int]]) -> dict[tuple[str, int, int], str]:
    """Snapshots of the given (type, id, number) revisions, a few statements for any number of them."""
    found: dict[tuple[str, int, int], str] = {}
    for i in range(0, len(keys), _CHUNK):
        chunk = keys[i:i + _CHUNK]
        for row in db.session.execute(select(RecordRevision.entity_type, RecordRevision.entity_id,
                                             RecordRevision.number, RecordRevision.snapshot)
                                      .where(tuple_(RecordRevision.entity_type, RecordRevision.entity_id,
                                                    RecordRevision.number).in_(chunk))):
            found[(row.entity_type, row.entity_id, row.number)] = row.snapshot
    return found


def _record_names(scope: AccessScope, wanted: dict[str, set[int]]) -> dict[tuple[str, int], str]:
    """The references of the records the scope may see (one statement per kind of record)."""
    seen: dict[str, Callable[[Any], bool]] = {
        "nonconformity": scope.sees_nonconformity,
        "corrective_action": lambda action: scope.sees_nonconformity(action.nonconformity),
        "bribery_risk": scope.sees_risk, "due_diligence": scope.sees_due_diligence, "gift": scope.sees_gift,
        "risk_exercise": lambda _exercise: scope.can("see_risks"),
    }
    names: dict[tuple[str, int], str] = {}
    types = record_types()
    for kind in sorted(wanted):
        model: Any = types.get(kind)
        if model is None or kind not in seen:
            continue
        query = select(model).where(model.id.in_(sorted(wanted[kind])))
        if model is CorrectiveAction:
            query = query.options(selectinload(CorrectiveAction.nonconformity))
        for row in db.session.scalars(query):
            if seen[kind](row):
                names[(kind, row.id)] = row.code if model is CorrectiveAction else row.reference
    return names


def _closures(events: list[AuditEvent], scope: AccessScope) -> dict[int, tuple[str, str]]:
    """Per event id of a record save that closed something the scope sees: what happened and to which record."""
    parsed = {}
    for ev in events:
        match = _RECORD_ID.fullmatch(ev.object_id or "") if ev.action == REVISE else None
        if match and match["type"] in CLOSING:
            parsed[ev.id] = (match["type"], int(match["id"]), int(match["number"]))
    keys = sorted({k for t, i, n in parsed.values() for k in ((t, i, n), (t, i, n - 1))})
    snapshots = _revisions(keys)
    closing = {}
    wanted: dict[str, set[int]] = defaultdict(set)
    for event_id, (kind, record_id, number) in parsed.items():
        after = _status_of(snapshots.get((kind, record_id, number)))
        before = _status_of(snapshots.get((kind, record_id, number - 1)))
        if after in CLOSING[kind] and after != before:
            closing[event_id] = (kind, record_id, after)
            wanted[kind].add(record_id)
    names = _record_names(scope, wanted)
    return {event_id: (f"{KINDS.get(kind, kind)}: {CLOSING[kind][status]}", names[(kind, record_id)])
            for event_id, (kind, record_id, status) in closing.items() if (kind, record_id) in names}


def _version_labels(codes: set[str]) -> dict[tuple[str, int], str]:
    """"PR-QA-001 Rev. 3 (v3)" for the approved versions named, as the audit log names them."""
    rows = db.session.execute(select(Document.code, DocumentVersion.number, DocumentVersion.revision_label)
                              .join(Document, Document.id == DocumentVersion.document_id)
                              .where(Document.code.in_(sorted(codes)), DocumentVersion.revision_label.is_not(None)))
    return {(code, number): f"{code} {label} (v{number})" for code, number, label in rows}


def trail_table(spec: PackSpec, scope: AccessScope, generated_at: datetime) -> TableBlock:
    """Approvals, withdrawals and closures of the period the scope may see, in the trail's order, up to the
    generation time (a rebuild with the same generation time prints the same excerpt)."""
    start, end = _period(spec)
    end = min(end, as_utc(generated_at))
    events = list(db.session.scalars(
        select(AuditEvent).where(or_(AuditEvent.action.in_((APPROVE, WITHDRAW)),
                                     and_(AuditEvent.action == REVISE, AuditEvent.object_type.in_(sorted(CLOSING)))),
                                 AuditEvent.occurred_at >= start, AuditEvent.occurred_at <= end)
        .options(selectinload(AuditEvent.actor)).order_by(AuditEvent.id)))
    closures = _closures(events, scope)
    doc_codes = {(_VERSION_ID.fullmatch(e.object_id or "") or {"code": e.object_id})["code"] for e in events
                 if e.action in (APPROVE, WITHDRAW)}
    visible = set(db.session.scalars(select(Document.code).where(Document.code.in_(sorted(doc_codes)),
                                                                  scope.document_condition()))) if doc_codes else set()
    labels = _version_labels(visible) if visible else {}
    rows: list[tuple[str, ...]] = []
    for ev in events:
        when = as_utc(ev.occurred_at).strftime("%Y-%m-%d %H:%M:%S")
        who = ev.actor.name if ev.actor is not None else str(ACTOR_LABELS.get(ev.actor_label, ev.actor_label))
        if ev.action == REVISE:
            if ev.id in closures:
                what, obj = closures[ev.id]
                rows.append((when, who, what, obj))
            continue
        match = _VERSION_ID.fullmatch(ev.object_id or "") if ev.action == APPROVE else None
        code = match["code"] if match else (ev.object_id or "")
        if code not in visible:
            continue
        obj = labels.get((code, int(match["number"])), f"{code} v{match['number']}") if match else code
        rows.append((when, who, str(ACTIONS[ev.action][1]), obj))
    return TableBlock(caption=_("Approvals, withdrawals and closures in the period"),
                      columns=(_("When (UTC)"), _("Who"), _("What"), _("Object")), rows=rows)


def trail_head(generated_at: datetime) -> str:
    """Where the audit chain stood at the generation time: the last event then, its number and hash. Not the head
    now (services.audit.head): building a pack is itself audited, and a rebuild with the same generation time must
    print the same head."""
    row = db.session.execute(select(AuditEvent.seq, AuditEvent.hash)
                             .where(AuditEvent.occurred_at <= as_utc(generated_at))
                             .order_by(AuditEvent.seq.desc()).limit(1)).first()
    seq, digest = (row.seq, row.hash) if row is not None else (0, audit.GENESIS)
    return str(_("event %(seq)s, SHA-256 %(hash)s", seq=seq, hash=digest))
