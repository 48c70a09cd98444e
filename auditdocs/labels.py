"""Translated labels for codes stored in the database (roles, kinds, statuses), shared by pages and messages."""

from flask_babel import lazy_gettext as _l

ROLE_LABELS = {
    "admin": _l("Administrator"),
    "quality_officer": _l("Quality officer"),
    "compliance_officer": _l("Compliance officer"),
    "auditor": _l("External auditor"),
}
DI_LABELS = {
    "maintain": _l("Documents (maintain)"),
    "retain": _l("Records (retain)"),
    "both": _l("Documents and records"),
    "none": _l("No documented information"),
}

KIND_LABELS = {
    "policy": _l("Policy"), "procedure": _l("Procedure"), "work_instruction": _l("Work instruction"),
    "form": _l("Form"), "record": _l("Record"), "evidence": _l("Evidence"), "other": _l("Other"),
}
LANGUAGE_LABELS = {"es": _l("Spanish"), "en": _l("English")}
CONFIDENTIALITY_LABELS = {"normal": _l("Normal"), "restricted": _l("Restricted")}
STATUS_LABELS = {
    "draft": _l("Draft"), "active": _l("In force"), "obsolete": _l("Withdrawn"),
    "approved_future": _l("Approved, not yet in force"), "approved": _l("Approved"), "rejected": _l("Rejected"),
    "superseded": _l("Superseded"),
}
VERSION_STATUS_LABELS = {
    "draft": _l("Draft"), "approved": _l("Approved"), "rejected": _l("Rejected"),
    "superseded": _l("Superseded"), "obsolete": _l("Obsolete"),
}

COUNTER_LABELS = {
    "login_failed": _l("Failed logins"), "login_throttled": _l("Throttled logins"),
    "not_found": _l("Asked for what they may not see"), "forbidden": _l("Tried what they may not do"),
}
SESSION_END_LABELS = {
    "logout": _l("Logged out"), "idle": _l("Timed out (no activity)"), "expired": _l("Expired"),
    "ended": _l("Ended by you or an administrator"), "revoked": _l("Ended: the account changed"),
}

# Nonconformities and corrective actions (models/records.py).
NC_SOURCE_LABELS = {
    "internal_audit": _l("Internal audit"), "external_audit": _l("External audit"),
    "complaint": _l("Complaint from a citizen or customer"), "process_monitoring": _l("Process monitoring"),
    "management_review": _l("Management review"), "anti_bribery_concern": _l("Anti-bribery concern or report"),
    "other": _l("Other"),
}
NC_GRADE_LABELS = {
    "major": _l("Major nonconformity"), "minor": _l("Minor nonconformity"), "observation": _l("Observation"),
    "improvement_opportunity": _l("Opportunity for improvement"),
}
NC_STATUS_LABELS = {"open": _l("Open"), "in_progress": _l("Actions in progress"), "closed": _l("Closed"),
                    "not_closed": _l("Not closed")}
ROOT_CAUSE_METHOD_LABELS = {"five_whys": _l("5 whys"), "ishikawa": _l("Ishikawa (cause and effect)"),
                            "other": _l("Other")}
ISHIKAWA_CATEGORY_LABELS = {
    "people": _l("People"), "methods": _l("Methods"), "machines": _l("Machines and equipment"),
    "materials": _l("Materials"), "measurement": _l("Measurement"), "environment": _l("Environment"),
    "management": _l("Management"),
}
ACTION_STATUS_LABELS = {
    "planned": _l("Planned"), "in_progress": _l("In progress"), "implemented": _l("Implemented"),
    "effective": _l("Effective"), "not_effective": _l("Not effective"), "cancelled": _l("Cancelled"),
}

__all__ = [
    "ACTION_STATUS_LABELS",
    "CONFIDENTIALITY_LABELS",
    "COUNTER_LABELS",
    "DI_LABELS",
    "ISHIKAWA_CATEGORY_LABELS",
    "KIND_LABELS",
    "LANGUAGE_LABELS",
    "NC_GRADE_LABELS",
    "NC_SOURCE_LABELS",
    "NC_STATUS_LABELS",
    "ROLE_LABELS",
    "ROOT_CAUSE_METHOD_LABELS",
    "SESSION_END_LABELS",
    "STATUS_LABELS",
    "VERSION_STATUS_LABELS",
]
# The audit programme's audit types and statuses: the programme pages, the trail's sentences and the Word packs.
AUDIT_TYPE_LABELS = {"initial": _l("Initial certification"), "surveillance_1": _l("First surveillance"),
                     "surveillance_2": _l("Second surveillance"), "recertification": _l("Recertification"),
                     "internal": _l("Internal audit")}
AUDIT_STATUS_LABELS = {"planned": _l("Planned"), "done": _l("Done"), "cancelled": _l("Cancelled")}
