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

__all__ = ["CONFIDENTIALITY_LABELS", "COUNTER_LABELS", "DI_LABELS", "KIND_LABELS", "LANGUAGE_LABELS", "ROLE_LABELS",
           "SESSION_END_LABELS", "STATUS_LABELS", "VERSION_STATUS_LABELS"]
