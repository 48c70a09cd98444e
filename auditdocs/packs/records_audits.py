"""The internal audits of the programme in a pack's period (ISO 9001 and ISO 37001 9.2), as a printed table.

Why by overlap: an internal audit belongs to the period when its days (as done, else as planned) meet it; one that
visited none of the pack's sites is left out, one placed at no site is the whole organisation's.
"""

from __future__ import annotations

from collections import defaultdict

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, exists, func, or_, select, true

from ..extensions import db
from ..models import Audit, AuditSite
from ..models.programme import audit_processes
from ..services.exports import label
from ..web.programme_forms import AUDIT_STATUS_LABELS
from .content import TableBlock
from .places import Places
from .records_common import Names, Part, Row, day, words
from .spec import PackSpec

COLUMNS = (_l("Dates"), _l("Audit team"), _l("Lead auditor"), _l("Sites"), _l("Processes"), _l("Status"))


def _first_day() -> ColumnElement[object]:
    return func.coalesce(Audit.actual_start, Audit.planned_start)


def _place_condition(places: Places) -> ColumnElement[bool]:
    condition: ColumnElement[bool] = true()
    if not places.everywhere:
        condition = or_(exists().where(AuditSite.audit_id == Audit.id, AuditSite.site_id.in_(sorted(places.site_ids))),
                        ~exists().where(AuditSite.audit_id == Audit.id))
    if places.processes:
        chosen = sorted(p.id for p in places.processes)
        condition = condition & or_(
            exists().where(audit_processes.c.audit_id == Audit.id, audit_processes.c.process_id.in_(chosen)),
            ~exists().where(audit_processes.c.audit_id == Audit.id))
    return condition


def internal_audits(spec: PackSpec, places: Places) -> list[Audit]:
    """Internal audits whose days meet the period, at the pack's places, by first day."""
    last_day = func.coalesce(Audit.actual_end, Audit.planned_end, Audit.actual_start, Audit.planned_start)
    return list(db.session.scalars(select(Audit).where(
        Audit.audit_type == "internal", _first_day() <= spec.date_to, last_day >= spec.date_from,
        _place_condition(places)).order_by(_first_day(), Audit.id)))


def _dates(audit: Audit) -> str:
    first = audit.actual_start or audit.planned_start
    last = audit.actual_end if audit.actual_start else audit.planned_end
    return day(first) if last is None or last == first else f"{day(first)} – {day(last)}"


def blocks(spec: PackSpec, places: Places, names: Names) -> Part:
    """The internal audits' table; rows cited. Sites and processes: two queries for every audit at once."""
    found = internal_audits(spec, places)
    if not found:
        return [], 0
    ids = [a.id for a in found]
    sites: dict[int, list[str]] = defaultdict(list)
    for audit_id, site_id in db.session.execute(select(AuditSite.audit_id, AuditSite.site_id)
                                                .where(AuditSite.audit_id.in_(ids))):
        sites[audit_id].append(names.site_code(site_id))
    processes: dict[int, list[str]] = defaultdict(list)
    for audit_id, process_id in db.session.execute(select(audit_processes.c.audit_id, audit_processes.c.process_id)
                                                   .where(audit_processes.c.audit_id.in_(ids))):
        processes[audit_id].append(names.process_code(process_id))
    statuses = words(AUDIT_STATUS_LABELS)
    rows: list[Row] = [(_dates(a), a.auditing_body, a.lead_auditor or "", ", ".join(sorted(sites.get(a.id, []))),
             ", ".join(sorted(processes.get(a.id, []))), label(statuses, a.status)) for a in found]
    return [TableBlock(_("Internal audits of the programme in the period"), tuple(str(c) for c in COLUMNS), rows)], \
        len(rows)
