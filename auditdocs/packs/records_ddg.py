"""The due-diligence files (ISO 37001 8.2) and the gifts register (8.7) of a pack's period, as printed tables.

Why these periods: a due-diligence file counts while it was being worked on during the period (opened by its last
day and not decided before its first), a gift or hospitality entry on the day it was given or received.
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, or_, select

from ..ddg_labels import (
    ASSOCIATE_CATEGORY_LABELS,
    DD_DECISION_LABELS,
    DD_STATUS_LABELS,
    GIFT_DECISION_LABELS,
    GIFT_DIRECTION_LABELS,
    GIFT_KIND_LABELS,
    GIFT_STATUS_LABELS,
    RISK_LEVEL_LABELS,
)
from ..extensions import db
from ..models import DueDiligence, Gift
from ..policy import AccessScope
from ..services import due_diligence, gifts
from ..services.exports import label
from ..timeutil import end_of_local_day, to_local
from .content import TableBlock
from .places import Places
from .records_common import Names, Part, Row, day, process_condition, site_condition, words
from .spec import PackSpec

DD_COLUMNS = (_l("Reference"), _l("Subject"), _l("Category"), _l("Site"), _l("Risk level"), _l("Opened on"),
              _l("Status"), _l("Decision"), _l("Decided on"))
GIFT_COLUMNS = (_l("Reference"), _l("Date"), _l("Kind"), _l("Given or received"), _l("Other party"), _l("Site"),
                _l("Value"), _l("Decision"), _l("Status"))


def due_diligence_files(spec: PackSpec, scope: AccessScope, places: Places) -> list[DueDiligence]:
    """Files opened by the period's last day and undecided, or decided on or after its first; by reference."""
    if not scope.can("see_risks"):
        return []
    return list(db.session.scalars(select(DueDiligence).where(
        due_diligence.visibility(scope), DueDiligence.created_at <= end_of_local_day(spec.date_to),
        or_(DueDiligence.decided_on.is_(None), DueDiligence.decided_on >= spec.date_from),
        site_condition(DueDiligence.site_id, places), process_condition(DueDiligence.process_id, places),
    ).order_by(DueDiligence.reference, DueDiligence.id)))


def gift_entries(spec: PackSpec, scope: AccessScope, places: Places) -> list[Gift]:
    """Entries given or received in the period, by day then reference."""
    if not scope.can("see_risks"):
        return []
    return list(db.session.scalars(select(Gift).where(
        gifts.visibility(scope), and_(Gift.occurred_on >= spec.date_from, Gift.occurred_on <= spec.date_to),
        site_condition(Gift.site_id, places),
    ).order_by(Gift.occurred_on, Gift.reference, Gift.id)))


def _subject(row: DueDiligence) -> str:
    return f"{row.subject_name} ({row.position})" if row.position else row.subject_name


def dd_blocks(spec: PackSpec, scope: AccessScope, places: Places, names: Names) -> Part:
    """The due-diligence table of the period; rows cited."""
    found = due_diligence_files(spec, scope, places)
    if not found:
        return [], 0
    categories, levels, statuses, decisions = (words(ASSOCIATE_CATEGORY_LABELS), words(RISK_LEVEL_LABELS),
                                               words(DD_STATUS_LABELS), words(DD_DECISION_LABELS))
    rows: list[Row] = [(r.reference, _subject(r), label(categories, r.category), names.site(r.site_id),
                        label(levels, r.risk_level), day(to_local(r.created_at).date()), label(statuses, r.status),
                        label(decisions, r.decision or "pending"), day(r.decided_on)) for r in found]
    return [TableBlock(_("Due-diligence files of the period"), tuple(str(c) for c in DD_COLUMNS), rows)], len(rows)


def gift_blocks(spec: PackSpec, scope: AccessScope, places: Places, names: Names) -> Part:
    """The gifts and hospitality table of the period; rows cited."""
    found = gift_entries(spec, scope, places)
    if not found:
        return [], 0
    kinds, directions, decisions, statuses = (words(GIFT_KIND_LABELS), words(GIFT_DIRECTION_LABELS),
                                              words(GIFT_DECISION_LABELS), words(GIFT_STATUS_LABELS))
    rows: list[Row] = [(g.reference, day(g.occurred_on), label(kinds, g.kind), label(directions, g.direction),
                        g.counterparty, names.site(g.site_id), f"{g.value} {g.currency}",
                        label(decisions, g.decision), label(statuses, g.status)) for g in found]
    return [TableBlock(_("Gifts, hospitality and other benefits of the period"), tuple(str(c) for c in GIFT_COLUMNS),
                       rows)], len(rows)
