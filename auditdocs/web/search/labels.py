"""Translated words for what search shows: kinds of results, and the codes facets carry (types, statuses)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ...ddg_labels import DD_STATUS_LABELS, GIFT_STATUS_LABELS
from ...labels import ACTION_STATUS_LABELS, KIND_LABELS, NC_STATUS_LABELS, VERSION_STATUS_LABELS
from ..risks.labels import RISK_STATUS_LABELS

RESULT_KIND_LABELS = {
    "version": _l("Document"), "nonconformity": _l("Nonconformity"), "corrective_action": _l("Corrective action"),
    "bribery_risk": _l("Bribery risk"), "due_diligence": _l("Due diligence"), "gift": _l("Gift or hospitality"),
    "attachment": _l("Evidence file"),
}
FACET_LABELS = {
    "kind": _l("Kind of result"), "type": _l("Type"), "standard": _l("Standard"), "clause": _l("Clause"),
    "site": _l("Site"), "process": _l("Process"), "status": _l("Status"), "owner": _l("Owner"), "year": _l("Year"),
}
# Statuses of every kind in one lookup: a value shared by two kinds ("in_progress") reads the same in both.
STATUS_WORDS = {**GIFT_STATUS_LABELS, **DD_STATUS_LABELS, **RISK_STATUS_LABELS, **ACTION_STATUS_LABELS,
                **NC_STATUS_LABELS, **VERSION_STATUS_LABELS}
SORT_LABELS = {"relevance": _l("Relevance"), "date": _l("Date, newest first")}


def value_label(facet: str, value: str) -> str:
    """A facet value in the reader's words (codes translated; names, clauses and years as they are)."""
    if facet == "kind":
        return str(RESULT_KIND_LABELS.get(value, value))
    if facet == "type":
        return str(KIND_LABELS.get(value) or RESULT_KIND_LABELS.get(value, value))
    if facet == "status":
        return str(STATUS_WORDS.get(value, value))
    return value
