"""The bribery-risk register summary for ISO 37001 4.5: the risks as the scope is shown them, and the heat maps.

Why read here and not through risk_register.current(): that reads an auditor's approved state one risk at a time; a
pack reads every risk with its approved revision in one query (auditors see the approved state of each risk even
while a reassessment waits for approval, as on the register page and in the export).
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, select

from ..extensions import db
from ..models import BriberyRisk, RecordRevision, RiskMatrix
from ..models.risks import RATINGS
from ..policy import AccessScope
from ..services import revisions, risk_heatmap, risk_matrix
from ..services.exports import label
from ..services.risk_exports import RISK_STATUS_LABELS
from ..services.risk_register import KIND, RiskEntry
from .content import Block, HeatMapBlock, TableBlock
from .places import Places
from .records_common import Names, Part, Row, day, words

WHOLE_ORGANISATION = _l("Whole organisation")  # a risk placed at no site (as in the register's export)
COLUMNS = (_l("Reference"), _l("Risk"), _l("Process and site"), _l("Inherent risk"), _l("Residual risk"),
           _l("Owner"), _l("Status"), _l("Approved on"))


def entries(scope: AccessScope, places: Places) -> list[RiskEntry]:
    """The register now (retired risks left out) in the state the scope is shown, at the pack's places, by
    reference: one query."""
    if not scope.can("see_risks"):
        return []
    approved = and_(RecordRevision.entity_type == KIND, RecordRevision.entity_id == BriberyRisk.id,
                    RecordRevision.number == BriberyRisk.approved_revision)
    rows = db.session.execute(select(BriberyRisk, RecordRevision).outerjoin(RecordRevision, approved)
                              .where(scope.risk_condition(), BriberyRisk.status != "retired")
                              .order_by(BriberyRisk.reference, BriberyRisk.id))
    found: list[RiskEntry] = []
    for risk, revision in rows:
        if not scope.approved_only:
            found.append(RiskEntry.of_row(risk))
        elif revision is not None:
            found.append(RiskEntry.from_fields(risk.id, revision.number, revisions.fields_of(revision)))
    return [e for e in found if places.holds_site(e.site_id) and places.holds_process(e.process_id)]


def _rated(ratings: dict[int, dict[str, str]], matrix_id: int, rating: str, score: int) -> str:
    """"Alto (16)": the rating in the words of the matrix the risk was scored with, and its score."""
    return f"{ratings.get(matrix_id, {}).get(rating, rating)} ({score})"


def _place(entry: RiskEntry, names: Names, nowhere: str) -> str:
    parts = [names.process(entry.process_id), names.site(entry.site_id, nowhere=nowhere)]
    return " / ".join(p for p in parts if p)


def blocks(scope: AccessScope, places: Places, names: Names) -> Part:
    """The register's table and its inherent and residual heat maps on the matrix in force; rows cited."""
    found = entries(scope, places)
    if not found:
        return [], 0
    names.need({e.owner_id for e in found})
    matrices = {m.id: m for m in db.session.scalars(select(RiskMatrix))}
    lang = names.lang
    ratings = {m.id: {r: risk_matrix.label(m, r, lang) for r in RATINGS} for m in matrices.values()}
    statuses, nowhere = words(RISK_STATUS_LABELS), str(WHOLE_ORGANISATION)
    rows: list[Row] = [(e.reference, e.title, _place(e, names, nowhere),
                        _rated(ratings, e.matrix_id, e.inherent_rating, e.inherent_score),
                        _rated(ratings, e.matrix_id, e.residual_rating, e.residual_score),
                        names.user(e.owner_id), label(statuses, e.status), day(e.approved_on)) for e in found]
    out: list[Block] = [TableBlock(_("Bribery-risk register"), tuple(str(c) for c in COLUMNS), rows)]
    current = max(matrices.values(), key=lambda m: m.version, default=None)
    if current is not None:
        for which, caption in (("inherent", _("Heat map of inherent risk (risk matrix version %(num)d)",
                                              num=current.version)),
                               ("residual", _("Heat map of residual risk (risk matrix version %(num)d)",
                                              num=current.version))):
            out.append(HeatMapBlock(caption, risk_heatmap.grid(found, current, which),
                                    ratings[current.id]))
    return out, len(rows)
