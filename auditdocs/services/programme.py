"""Certification scope and the audit programme: what is certified, and the audits that plan and visit it.

Why here: the scope and the programme are evidence of how the organisation manages its certification (ISO 9001 4.3 and
9.2, ISO 37001 4.3 and 9.2); every change is validated once, for the web and the demo alike, and audited with its
before and after values. Bad values are reported per form field (`InvalidInput`), all at once.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ..events import announce
from ..extensions import Model, db
from ..models import Audit, AuditSite, Certificate, Process, Scope, Site, User
from ..models.programme import AUDIT_STAGES, AUDIT_STATUSES, AUDIT_TYPES, SCOPE_KEYS
from ..policy import scope_of
from ..timeutil import utcnow
from . import Forbidden, ServiceError, audit

MIN_DATE, MAX_DATE = date(1990, 1, 1), date(2100, 12, 31)  # dates outside are typing mistakes
STATEMENT_MAX, NOTES_MAX, NAME_MAX = 8000, 8000, 200
M = TypeVar("M", bound=Model)


class InvalidInput(ServiceError):
    """Bad values, each message tied to the form field it concerns, so the page shows it there."""

    def __init__(self, errors: dict[str, Any]) -> None:
        super().__init__(" ".join(str(m) for m in errors.values()), 400)
        self.errors = errors


class Problems:
    """Collects every problem of one submission, so the person fixes them all in one go."""

    def __init__(self) -> None:
        self.errors: dict[str, Any] = {}

    def add(self, name: str, message: Any) -> None:
        self.errors.setdefault(name, message)

    def check(self) -> None:
        if self.errors:
            raise InvalidInput(self.errors)

    def text(self, name: str, value: str | None, limit: int, required: Any = None) -> str | None:
        """Trimmed text, None when empty; too long or missing (when required) is a problem."""
        value = (value or "").strip() or None
        if value is None and required is not None:
            self.add(name, required)
        elif value is not None and len(value) > limit:
            self.add(name, _l("At most %(num)d characters.", num=limit))
        return value

    def day(self, name: str, value: date | None, required: Any = None) -> date | None:
        """A date within 1990-2100; missing (when required) is a problem."""
        if value is None:
            if required is not None:
                self.add(name, required)
        elif not MIN_DATE <= value <= MAX_DATE:
            self.add(name, _l("Enter a date between 1990 and 2100."))
            return None
        return value


def require_manager(actor: User) -> None:
    """The scope and the programme are kept by administrators, quality and compliance officers."""
    if not scope_of(actor).can("manage_programme"):
        raise Forbidden(_l("Your role cannot change the certification scope or the audit programme."))


def rows_by_id(model: type[M], ids: Collection[int], problems: Problems, name: str) -> list[M]:
    """The rows of the given ids; an id that names nothing is a problem (a stale or forged form)."""
    wanted = set(ids)
    if not wanted:
        return []
    found = list(db.session.scalars(select(model).where(model.id.in_(wanted))))  # type: ignore[attr-defined]
    if len(found) != len(wanted):
        problems.add(name, _l("Choose from the list."))
    return found


# -- scope ------------------------------------------------------------------------------------------------------


def scope_for(key: str) -> Scope | None:
    """The scope of a standard (or the integrated one), if it was ever written."""
    return db.session.scalar(select(Scope).where(Scope.key == key))


def scope_row(key: str) -> Scope:
    """The scope row of a key, created empty when missing (a certificate needs one to point at)."""
    if key not in SCOPE_KEYS:
        raise ServiceError(_l("There is no such certification scope."), 404)
    scope = scope_for(key)
    if scope is None:
        scope = Scope(key=key)
        db.session.add(scope)
        db.session.flush()
    return scope


def _scope_state(scope: Scope) -> dict[str, Any]:
    return {"statement_es": scope.statement_es, "statement_en": scope.statement_en,
            "sites": sorted(s.code for s in scope.sites), "processes": sorted(p.code for p in scope.processes)}


def update_scope(key: str, *, statement_es: str | None, statement_en: str | None, site_ids: Collection[int],
                 process_ids: Collection[int], actor: User) -> Scope:
    """Write a scope's statement and its sites and processes; newly added ones must be active."""
    require_manager(actor)
    scope = scope_row(key)
    problems = Problems()
    es = problems.text("statement_es", statement_es, STATEMENT_MAX)
    en = problems.text("statement_en", statement_en, STATEMENT_MAX)
    if es is None and en is None:
        problems.add("statement_es", _l("Write the scope statement in Spanish, English or both."))
    sites = rows_by_id(Site, site_ids, problems, "sites")
    processes = rows_by_id(Process, process_ids, problems, "processes")
    had_sites, had_processes = {s.id for s in scope.sites}, {p.id for p in scope.processes}
    if any(not s.active and s.id not in had_sites for s in sites):
        problems.add("sites", _l("An inactive site cannot be added to the scope."))
    if any(not p.active and p.id not in had_processes for p in processes):
        problems.add("processes", _l("An inactive process cannot be added to the scope."))
    problems.check()
    before = _scope_state(scope)
    scope.statement_es, scope.statement_en = es, en
    scope.sites, scope.processes = sites, processes
    after = _scope_state(scope)
    changed = [k for k in after if after[k] != before[k]]
    if changed:
        scope.updated_at, scope.updated_by_id = utcnow(), actor.id
        db.session.flush()
        audit.record("scope.update", "scope", key, actor=actor, old={k: before[k] for k in changed},
                     new={k: after[k] for k in changed})
        announce("scope", scope.id, "update")
    return scope


# -- audits -----------------------------------------------------------------------------------------------------


@dataclass
class AuditInput:
    """What the audit form says; the service checks all of it."""

    audit_type: str
    planned_start: date | None
    auditing_body: str | None
    certificate_id: int | None = None
    stage: str = "single"
    planned_end: date | None = None
    actual_start: date | None = None
    actual_end: date | None = None
    lead_auditor: str | None = None
    status: str = "planned"
    notes: str | None = None
    process_ids: Sequence[int] = field(default_factory=list)
    site_ids: Sequence[int] = field(default_factory=list)  # internal audits only: the sample page sets the others


def _check_dates(data: AuditInput, problems: Problems, today: date) -> None:
    start = problems.day("planned_start", data.planned_start, _l("Enter the planned start date."))
    end = problems.day("planned_end", data.planned_end)
    if start and end and end < start:
        problems.add("planned_end", _l("The planned end cannot be before the planned start."))
    done = data.status == "done"
    actual_start = problems.day("actual_start", data.actual_start,
                                _l("A done audit needs the day it actually started.") if done else None)
    actual_end = problems.day("actual_end", data.actual_end,
                              _l("A done audit needs the day it actually ended.") if done else None)
    if actual_end and not actual_start:
        problems.add("actual_start", _l("Enter the actual start as well."))
    if actual_start and actual_end and actual_end < actual_start:
        problems.add("actual_end", _l("The actual end cannot be before the actual start."))
    if actual_start and actual_start > today:
        problems.add("actual_start", _l("An audit cannot have actually started in the future."))
    if done and actual_end and actual_end > today:
        problems.add("actual_end", _l("An audit cannot be done before the day it ends."))


def _check_kind(data: AuditInput, problems: Problems, current: Audit | None) -> Certificate | None:
    """Type, stage and certificate belong together; returns the certificate of a certification audit."""
    if data.audit_type not in AUDIT_TYPES:
        problems.add("audit_type", _l("Choose from the list."))
        return None
    if data.stage not in AUDIT_STAGES:
        problems.add("stage", _l("Choose from the list."))
    elif data.stage != "single" and data.audit_type != "initial":
        problems.add("stage", _l("Stages 1 and 2 are for initial certification audits only."))
    if data.status not in AUDIT_STATUSES:
        problems.add("status", _l("Choose from the list."))
    internal = data.audit_type == "internal"
    if current is not None and current.is_certification == internal:
        problems.add("audit_type", _l("An internal audit cannot become a certification audit, nor the reverse: "
                                      "plan a new audit instead."))
    if internal:
        return None
    cert = db.session.get(Certificate, data.certificate_id) if data.certificate_id else None
    if cert is None:
        problems.add("certificate", _l("A certification audit belongs to a certificate: choose one."))
        return None
    if current is not None and current.sample_confirmed_at is not None and (
            current.certificate_id != cert.id or current.audit_type != data.audit_type):
        problems.add("certificate", _l("The site sample of this audit is confirmed: its certificate and type "
                                       "can no longer change."))
    if data.status != "cancelled":
        twin = select(func.count(Audit.id)).where(
            Audit.certificate_id == cert.id, Audit.audit_type == data.audit_type, Audit.stage == data.stage,
            Audit.status != "cancelled", Audit.id != (current.id if current else 0))
        if db.session.scalar(twin):
            problems.add("audit_type", _l("This certificate already has such an audit planned or done (cancel it "
                                          "first, or edit it)."))
    return cert


def _validated(data: AuditInput, current: Audit | None, today: date
               ) -> tuple[dict[str, Any], list[Process], list[Site]]:
    problems = Problems()
    cert = _check_kind(data, problems, current)
    _check_dates(data, problems, today)
    body = problems.text("auditing_body", data.auditing_body, NAME_MAX,
                         _l("Name the certification body or the internal audit team."))
    lead = problems.text("lead_auditor", data.lead_auditor, NAME_MAX)
    notes = problems.text("notes", data.notes, NOTES_MAX,
                          _l("Say why the audit is cancelled.") if data.status == "cancelled" else None)
    processes = rows_by_id(Process, data.process_ids, problems, "processes")
    sites: list[Site] = []
    if data.audit_type == "internal":
        sites = rows_by_id(Site, data.site_ids, problems, "sites")
    elif data.site_ids:
        problems.add("sites", _l("The sites of a certification audit are chosen on its site-sample page."))
    problems.check()
    values = {"audit_type": data.audit_type, "certificate_id": cert.id if cert else None, "stage": data.stage,
              "planned_start": data.planned_start, "planned_end": data.planned_end,
              "actual_start": data.actual_start, "actual_end": data.actual_end, "auditing_body": body,
              "lead_auditor": lead, "status": data.status, "notes": notes}
    return values, processes, sites


def audit_state(item: Audit) -> dict[str, Any]:
    """What the audit trail keeps of an audit: its fields, certificate number, processes and sites by code."""
    return {"audit_type": item.audit_type, "certificate": item.certificate.number if item.certificate else None,
            "stage": item.stage, "planned_start": item.planned_start, "planned_end": item.planned_end,
            "actual_start": item.actual_start, "actual_end": item.actual_end, "auditing_body": item.auditing_body,
            "lead_auditor": item.lead_auditor, "status": item.status, "notes": item.notes,
            "processes": sorted(p.code for p in item.processes), "sites": sorted(s.site.code for s in item.sites)}


def _set_sites(item: Audit, sites: list[Site]) -> None:
    """An internal audit's sites, as ticked (unticked ones leave, ticked ones keep their row and reason)."""
    keep = {s.id for s in sites}
    item.sites = [row for row in item.sites if row.site_id in keep]
    present = {row.site_id for row in item.sites}
    item.sites.extend(AuditSite(site_id=s.id, site=s) for s in sites if s.id not in present)


def create_audit(data: AuditInput, *, actor: User, today: date) -> Audit:
    """Plan (or record) an audit of the programme; audited as audit.create."""
    require_manager(actor)
    values, processes, sites = _validated(data, None, today)
    item = Audit(**values, created_by_id=actor.id, created_at=utcnow())
    item.processes = processes
    db.session.add(item)
    db.session.flush()
    _set_sites(item, sites)
    db.session.flush()
    db.session.refresh(item)
    audit.record("audit.create", "audit", item.id, actor=actor, new=audit_state(item))
    announce("audit", item.id, "create")
    return item


def update_audit(item: Audit, data: AuditInput, *, actor: User, today: date) -> bool:
    """Change an audit (dates, status, team, processes; an internal audit's sites); audited as audit.update with
    the fields that changed. Returns whether anything changed."""
    require_manager(actor)
    values, processes, sites = _validated(data, item, today)
    before = audit_state(item)
    for key, value in values.items():
        setattr(item, key, value)
    item.processes = processes
    if not item.is_certification:
        _set_sites(item, sites)
    db.session.flush()
    db.session.refresh(item)
    after = audit_state(item)
    changed = [k for k in after if after[k] != before[k]]
    if changed:
        audit.record("audit.update", "audit", item.id, actor=actor, old={k: before[k] for k in changed},
                     new={k: after[k] for k in changed})
        announce("audit", item.id, "update")
    return bool(changed)
