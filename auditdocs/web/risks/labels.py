"""Translated words for the codes of the bribery-risk register (categories, statuses, effectiveness, ratings)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

CATEGORY_LABELS = {
    "public_official": _l("Public official"), "supplier": _l("Supplier"), "contractor": _l("Contractor"),
    "partner": _l("Partner"), "agent_intermediary": _l("Agent or intermediary"), "beneficiary": _l("Beneficiary"),
    "donor": _l("Donor"), "personnel_position": _l("Personnel position"), "other": _l("Other"),
}
EFFECTIVENESS_LABELS = {
    "effective": _l("Effective"), "partially_effective": _l("Partially effective"),
    "ineffective": _l("Ineffective"), "not_assessed": _l("Not assessed"),
}
RISK_STATUS_LABELS = {
    "pending_approval": _l("Pending approval"), "approved": _l("Assessment approved"), "retired": _l("Retired"),
}
# Their own words: Spanish needs the masculine ("ejercicio") where the register's statuses are feminine.
EXERCISE_STATUS_LABELS = {"planned": _l("Not started"), "in_progress": _l("Under way"), "closed": _l("Concluded")}
# The ratings' own names, for forms and headings; pages show the matrix's configured words.
RATING_WORDS = {"low": _l("Low"), "medium": _l("Medium"), "high": _l("High"), "critical": _l("Critical")}
