"""The audit-log page for admins: filter by user, object, action and date; export to CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, time, timedelta

from flask import Blueprint, Response, render_template, request, stream_with_context
from flask.typing import ResponseReturnValue
from sqlalchemy import Select, select

from ..extensions import db
from ..labels import COUNTER_LABELS
from ..models import AuditEvent, User
from ..policy import current_scope
from ..services import security
from ..services.audit import head
from ..timeutil import org_tz, utc_text
from .audit_sentences import action_choices, describe
from .keyset import Keyset
from .params import int_or_none, plausible_date
from .security import require

bp = Blueprint("audit", __name__, url_prefix="/audit")
PER_PAGE = 50
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _date(value: str | None) -> date | None:
    """An ISO date from the filter, or None when it is missing, malformed or implausible (e.g. 9999-12-31)."""
    try:
        day = date.fromisoformat(value) if value else None
    except ValueError:
        return None
    return day if plausible_date(day) else None


def _filtered(args: Mapping[str, str]) -> tuple[Select[AuditEvent], dict[str, str]]:
    f = {k: (args.get(k) or "").strip()[:100] for k in ("user", "object", "action", "start", "end")}
    stmt = select(AuditEvent)
    if f["user"] == NO_ACCOUNT:
        stmt = stmt.where(AuditEvent.actor_id.is_(None))
    elif (user_id := int_or_none(f["user"])) is not None:
        stmt = stmt.where(AuditEvent.actor_id == user_id)
    elif f["user"]:  # older links and scripts: part of the e-mail or label recorded as the actor
        stmt = stmt.where(AuditEvent.actor_label.ilike(f"%{f['user']}%"))
    if f["object"]:
        stmt = stmt.where(AuditEvent.object_id.ilike(f"%{f['object']}%"))
    if f["action"]:
        stmt = stmt.where(AuditEvent.action.ilike(f"{f['action']}%"))
    tz = org_tz()
    # Days are the organisation's calendar days; the bounds go to the database in UTC, as the events are stored
    # (SQLite keeps the wall-clock text and drops the offset: a local bound would shift by the zone's offset).
    if start := _date(f["start"]):
        stmt = stmt.where(AuditEvent.occurred_at >= datetime.combine(start, time.min, tz).astimezone(UTC))
    if end := _date(f["end"]):
        until = datetime.combine(end + timedelta(days=1), time.min, tz).astimezone(UTC)
        stmt = stmt.where(AuditEvent.occurred_at < until)
    return stmt, f


NO_ACCOUNT = "none"  # the user filter's choice for events without an account: the system, the CLI, failed logins
NEWEST_FIRST = Keyset((AuditEvent.seq,), AuditEvent.seq, descending=True)


@bp.route("/")
@require("view_audit_log")
def log() -> ResponseReturnValue:
    """Newest events first, filterable; the chain head is shown for checkpointing."""
    stmt, filters = _filtered(request.args)
    page = NEWEST_FIRST.page(stmt, request.args, PER_PAGE)
    seq, digest = head()
    users = db.session.execute(select(User.id, User.name, User.email).order_by(User.name, User.id)).all()
    return render_template("audit/log.html", page=page, rows=describe(page.items, current_scope()),
                           action_groups=action_choices(filters["action"]), users=users, no_account=NO_ACCOUNT,
                           filters=filters, head_seq=seq, head_hash=digest,
                           query_args={k: v for k, v in filters.items() if v}, counters=security.recent_counters(),
                           counter_labels=COUNTER_LABELS)


def neutralise(value: object) -> str:
    """Spreadsheet formula injection guard: a cell starting with = + - @ is prefixed with a quote."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


@bp.route("/export.csv")
@require("view_audit_log")
def export() -> ResponseReturnValue:
    """The filtered events as CSV (UTF-8 with BOM so Excel opens accents correctly)."""
    stmt, _f = _filtered(request.args)
    stmt = stmt.order_by(AuditEvent.seq.desc())

    def rows() -> Iterator[str]:
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(["seq", "occurred_at_utc", "actor", "action", "object_type", "object_id",
                         "old_values", "new_values", "ip", "prev_hash", "hash"])
        yield "\ufeff" + buf.getvalue()
        for ev in db.session.scalars(stmt.execution_options(yield_per=500)):
            buf.seek(0)
            buf.truncate()
            writer.writerow([ev.seq, utc_text(ev.occurred_at), *map(neutralise, (
                ev.actor_label, ev.action, ev.object_type, ev.object_id, ev.old_values, ev.new_values, ev.ip)),
                ev.prev_hash, ev.hash])
            yield buf.getvalue()

    return Response(stream_with_context(rows()), mimetype="text/csv", headers={
        "Content-Disposition": "attachment; filename=auditdocs-audit-log.csv"})
