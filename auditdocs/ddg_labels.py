"""Translated words for the codes of the due-diligence files and the gifts register (ISO 37001 8.2, 8.7).

Why beside labels.py: the pages and the exports (a service) both read them; the categories of business associate
repeat the risk register's words (same msgids, so one translation serves both).
"""

from flask_babel import lazy_gettext as _l

ASSOCIATE_CATEGORY_LABELS = {
    "public_official": _l("Public official"), "supplier": _l("Supplier"), "contractor": _l("Contractor"),
    "partner": _l("Partner"), "agent_intermediary": _l("Agent or intermediary"), "beneficiary": _l("Beneficiary"),
    "donor": _l("Donor"), "personnel_position": _l("Personnel position"), "other": _l("Other"),
}
RISK_LEVEL_LABELS = {"low": _l("Low"), "medium": _l("Medium"), "high": _l("High"), "critical": _l("Critical")}
DD_SUBJECT_TYPE_LABELS = {"business_associate": _l("Business associate"), "personnel": _l("Personnel")}
DD_DECISION_LABELS = {
    "proceed": _l("Proceed"), "proceed_with_conditions": _l("Proceed with conditions"),
    "do_not_proceed": _l("Do not proceed"), "pending": _l("Not decided yet"),
}
DD_STATUS_LABELS = {"in_progress": _l("In progress"), "decided": _l("Decided")}
GIFT_KIND_LABELS = {
    "gift": _l("Gift"), "hospitality": _l("Hospitality"), "donation": _l("Donation"),
    "sponsorship": _l("Sponsorship"), "other_benefit": _l("Other benefit"),
}
GIFT_DIRECTION_LABELS = {"given": _l("Given"), "received": _l("Received")}
GIFT_DECISION_LABELS = {
    "accepted": _l("Accepted"), "declined": _l("Declined"), "returned": _l("Returned"), "donated": _l("Donated"),
}
GIFT_STATUS_LABELS = {
    "recorded": _l("Recorded (no approval needed)"), "pending_approval": _l("Waiting for approval"),
    "approved": _l("Approved"), "rejected": _l("Rejected"),
}
