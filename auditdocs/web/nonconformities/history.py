"""A nonconformity's history: every revision of it and of its actions as one timeline with field-by-field changes,
and the whole record as it stood on a chosen day (the auditor's "show me what you knew then")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, true

from ...extensions import db
from ...labels import (
    ACTION_STATUS_LABELS,
    AUDIT_TYPE_LABELS,
    ISHIKAWA_CATEGORY_LABELS,
    NC_GRADE_LABELS,
    NC_SOURCE_LABELS,
    NC_STATUS_LABELS,
    ROOT_CAUSE_METHOD_LABELS,
)
from ...models import Audit, Clause, Document, Nonconformity, Process, RecordRevision, Site, User
from ...models.records import id_list
from ...policy import current_scope
from ...services import revisions
from ..helpers import current_lang, fmt_date
from ..params import plausible_date
from .blueprint import bp, nc_or_404
from .forms import AsOfForm

FIELD_LABELS: dict[str, Any] = {
    "reference": _l("Reference"), "title": _l("Title"), "description": _l("Description"), "source": _l("Source"),
    "audit_id": _l("Audit of the programme"), "grade": _l("Grade"), "detected_on": _l("Detected on"),
    "detected_by_id": _l("Detected by (a user)"), "detected_by_name": _l("Detected by (someone without an account)"),
    "site_id": _l("Site"), "process_id": _l("Process"), "clause_ids": _l("Standards and clauses"),
    "document_ids": _l("Linked controlled documents"), "correction": _l("Immediate correction and containment"),
    "root_cause_method": _l("Root-cause method"), "ishikawa_category": _l("Ishikawa category"),
    "analysis": _l("Analysis"), "root_cause": _l("Root cause"), "status": _l("Status"),
    "action_required": _l("A new action is required"), "closed_on": _l("Closed on"), "closed_by_id": _l("Closed by"),
    "closure_note": _l("Closure note"), "no_action_decision": _l("Closed with no action needed"),
    "reopen_reason": _l("Reason for reopening"), "nonconformity_id": _l("Nonconformity"), "number": _l("Number"),
    "owner_id": _l("Owner"), "due_date": _l("Due date"), "started_on": _l("Started on"),
    "implemented_on": _l("Implemented on"), "completion_note": _l("Completion evidence"),
    "check_due": _l("Effectiveness check on"), "checker_id": _l("Checker"), "checked_by_id": _l("Checked by"),
    "checked_on": _l("Checked on"), "check_evidence": _l("Evidence of the check"),
    "cancel_reason": _l("Reason for cancelling"),
}
USER_FIELDS = ("detected_by_id", "closed_by_id", "owner_id", "checker_id", "checked_by_id")
DATE_FIELDS = ("detected_on", "closed_on", "due_date", "started_on", "implemented_on", "check_due", "checked_on")
CODE_LABELS: dict[str, dict[str, Any]] = {
    "source": NC_SOURCE_LABELS, "grade": NC_GRADE_LABELS, "root_cause_method": ROOT_CAUSE_METHOD_LABELS,
    "ishikawa_category": ISHIKAWA_CATEGORY_LABELS,
}


@dataclass
class Change:
    """One field's change, written for a person."""

    field: str
    label: str
    old: str
    new: str


@dataclass
class Entry:
    """One revision on the timeline."""

    revision: RecordRevision
    subject: str  # "NC-2026-0001" or "NC-2026-0001 / A2"
    anchor: str
    changes: list[Change]


class Names:
    """Ids in revisions shown as names and codes, each kind read once per page."""

    def __init__(self, snapshots: list[dict[str, Any]]) -> None:
        def ids(*fields: str) -> set[int]:
            return {int(s[f]) for s in snapshots for f in fields if isinstance(s.get(f), int)}

        def listed(name: str) -> set[int]:
            return {n for s in snapshots for n in id_list(s.get(name) if isinstance(s.get(name), str) else None)}

        lang = current_lang()
        self.users = self._load(User, ids(*USER_FIELDS), lambda u: u.name)
        self.sites = self._load(Site, ids("site_id"), lambda s: f"{s.code} — {s.name(lang)}")
        self.processes = self._load(Process, ids("process_id"), lambda p: f"{p.code} — {p.name(lang)}")
        self.audits = self._load(Audit, ids("audit_id"), lambda a: f"{AUDIT_TYPE_LABELS.get(a.audit_type, '')} · "
                                 f"{a.auditing_body} · {fmt_date(a.planned_start, 'short')}")
        self.clauses = self._load(Clause, listed("clause_ids"), lambda c: c.ref)
        self.documents = self._load(Document, listed("document_ids"), lambda d: d.code,
                                    current_scope().document_condition())  # a hidden one reads as its number
        self.ncs = self._load(Nonconformity, ids("nonconformity_id"), lambda n: n.reference)

    @staticmethod
    def _load(model: Any, ids: set[int], label: Any, visible: Any = true()) -> dict[int, str]:
        if not ids:
            return {}
        return {row.id: str(label(row))
                for row in db.session.scalars(select(model).where(model.id.in_(ids), visible))}

    def show(self, entity_type: str, name: str, value: Any) -> str:
        """A stored value as a person reads it."""
        if value is None or value == "":
            return "—"
        if isinstance(value, bool):
            return str(_("Yes") if value else _("No"))
        lookups = {"audit_id": self.audits, "site_id": self.sites, "process_id": self.processes,
                   "nonconformity_id": self.ncs, **dict.fromkeys(USER_FIELDS, self.users)}
        if name in lookups:
            return lookups[name].get(int(value), f"#{value}")
        if name in ("clause_ids", "document_ids"):
            found = self.clauses if name == "clause_ids" else self.documents
            return ", ".join(found.get(n, f"#{n}") for n in id_list(str(value))) or "—"
        if name == "status":
            labels = NC_STATUS_LABELS if entity_type == "nonconformity" else ACTION_STATUS_LABELS
            return str(labels.get(str(value), value))
        if name in CODE_LABELS:
            return str(CODE_LABELS[name].get(str(value), value))
        if name in DATE_FIELDS:
            try:
                return fmt_date(date.fromisoformat(str(value)))
            except ValueError:
                return str(value)
        return str(value)


def _timeline(nc: Nonconformity) -> tuple[list[Entry], Names]:
    per_record = [("nonconformity", nc.id, nc.reference, "nc")]
    per_record += [("corrective_action", a.id, a.code, f"action-{a.id}") for a in nc.actions]
    loaded = [(kind, subject, anchor, revisions.history(kind, rid)) for kind, rid, subject, anchor in per_record]
    names = Names([revisions.fields_of(r) for *_rest, revs in loaded for r in revs])
    entries: list[Entry] = []
    for kind, subject, anchor, revs in loaded:
        previous = None
        for rev in revs:
            changes = [Change(c.field, str(FIELD_LABELS.get(c.field, c.field)), names.show(kind, c.field, c.old),
                              names.show(kind, c.field, c.new))
                       for c in revisions.diff(previous, rev) if c.field != "number"]
            entries.append(Entry(rev, subject, anchor, changes))
            previous = rev
    entries.sort(key=lambda e: (e.revision.created_at, e.revision.id))
    return entries, names


def _as_of(nc: Nonconformity, day: date, names: Names) -> list[tuple[str, RecordRevision, list[tuple[str, str]]]]:
    """Each record's fields as they stood at the end of that day (records not yet raised are left out)."""
    out = []
    for kind, rid, subject in [("nonconformity", nc.id, nc.reference),
                               *(("corrective_action", a.id, a.code) for a in nc.actions)]:
        rev = revisions.as_of(kind, rid, day)
        if rev is None:
            continue
        fields = [(str(FIELD_LABELS.get(k, k)), names.show(kind, k, v)) for k, v in revisions.fields_of(rev).items()
                  if k not in ("nonconformity_id", "number")]
        out.append((subject, rev, fields))
    return out


@bp.route("/<int:nc_id>/history")
def history(nc_id: int) -> ResponseReturnValue:
    """Every change to the nonconformity and its actions: who, when, why, and each field's old and new value."""
    nc = nc_or_404(nc_id)
    entries, names = _timeline(nc)
    form = AsOfForm(request.args)
    day = form.on.data if form.validate() else None
    if not plausible_date(day):  # 9999-12-31 would overflow the end-of-day arithmetic
        form.on.errors = [*form.on.errors, _("Enter a date between 1990 and 2100.")]
        day = None
    status = 200 if not form.on.errors else 400
    state = _as_of(nc, day, names) if day else None
    return render_template("nonconformities/history.html", nc=nc, entries=entries, form=form, day=day,
                           state=state), status
