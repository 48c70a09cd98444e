"""Who may see and do what: the role capabilities and every object-level rule, read from one access scope.

Why one module: lists, pages, downloads, the search filter and the packs must agree on what a person may see, and
the buttons a page shows must agree with what the services accept. The scope is computed once per request from the
user (today their role; engagements, sites and API-token scopes will narrow it); services build it from their actor.
Templates receive booleans from here (`DocumentActions`) and hold no rule of their own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import g, has_request_context
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import ColumnElement, Select, and_, exists, false, not_, or_, select, true

from .db import SCOPE_KEY
from .models import (
    BriberyRisk,
    CorrectiveAction,
    Document,
    DocumentVersion,
    DueDiligence,
    Gift,
    Nonconformity,
    Revisioned,
    User,
    document_shares,
)
from .models.documents import EVER_APPROVED
from .models.users import ADMIN, AUDITOR, COMPLIANCE_OFFICER, QUALITY_OFFICER

CAPABILITIES: dict[str, frozenset[str]] = {
    "manage_users": frozenset({ADMIN}),
    "view_audit_log": frozenset({ADMIN}),
    "correct_titles": frozenset({ADMIN}),
    "set_applicability": frozenset({ADMIN, QUALITY_OFFICER}),
    "approve_documents": frozenset({ADMIN, QUALITY_OFFICER}),
    "upload_documents": frozenset({ADMIN, QUALITY_OFFICER, COMPLIANCE_OFFICER}),
    "map_clauses": frozenset({ADMIN, QUALITY_OFFICER, COMPLIANCE_OFFICER}),
    "withdraw_documents": frozenset({ADMIN, QUALITY_OFFICER}),
    "see_all_restricted": frozenset({ADMIN}),
    # Everyone signed in builds Word packs of what they may see; admins also see (and download) everyone's.
    "see_all_packs": frozenset({ADMIN}),
    # The site tree and process map, and the certification scope, certificates and audit programme.
    "manage_org": frozenset({ADMIN, QUALITY_OFFICER}),
    "manage_programme": frozenset({ADMIN, QUALITY_OFFICER, COMPLIANCE_OFFICER}),
    # Nonconformities and corrective actions: everyone signed in reads them (auditors too, never writing); staff
    # record them and do the actions; only compliance and quality officers close, reopen and cancel (issue 11).
    "see_nonconformities": frozenset({ADMIN, QUALITY_OFFICER, COMPLIANCE_OFFICER, AUDITOR}),
    "record_nonconformities": frozenset({ADMIN, QUALITY_OFFICER, COMPLIANCE_OFFICER}),
    "check_effectiveness": frozenset({ADMIN, QUALITY_OFFICER, COMPLIANCE_OFFICER}),
    "close_nonconformities": frozenset({QUALITY_OFFICER, COMPLIANCE_OFFICER}),
    "cancel_actions": frozenset({QUALITY_OFFICER, COMPLIANCE_OFFICER}),
    # Bribery risks, due diligence and gifts (issue 12): auditors read (risks: the approved state only); staff
    # assess; compliance officers approve, never their own assessment or their own gift entry.
    "see_risks": frozenset({ADMIN, QUALITY_OFFICER, COMPLIANCE_OFFICER, AUDITOR}),
    "assess_risks": frozenset({ADMIN, QUALITY_OFFICER, COMPLIANCE_OFFICER}),
    "approve_risks": frozenset({ADMIN, COMPLIANCE_OFFICER}),
    "configure_risk_matrix": frozenset({ADMIN}),
    "record_due_diligence": frozenset({ADMIN, COMPLIANCE_OFFICER}),
    "record_gifts": frozenset({ADMIN, QUALITY_OFFICER, COMPLIANCE_OFFICER}),
    "approve_gifts": frozenset({ADMIN, COMPLIANCE_OFFICER}),
    "set_gift_thresholds": frozenset({ADMIN}),
}
# External auditors read approved evidence only, change nothing, and what they open is recorded.
READ_ONLY_ROLES = frozenset({AUDITOR})
APPROVED_ONLY_ROLES = frozenset({AUDITOR})
RECORDED_ACCESS_ROLES = frozenset({AUDITOR})

Refusal = Any  # a lazily translated message saying why not; None when allowed


@dataclass(frozen=True)
class VersionActions:
    """What the person may do to one version, as the page shows it."""

    approve: bool = False
    reject: bool = False
    own_draft: bool = False  # their own draft: "reject" reads "cancel my draft"


@dataclass(frozen=True)
class DocumentActions:
    """What the person may do to one document, given who they are and the document's state."""

    edit_details: bool = False
    change_access: bool = False
    upload_version: bool = False
    map_clauses: bool = False
    review: bool = False
    withdraw: bool = False
    versions: dict[int, VersionActions] = field(default_factory=dict)


@dataclass(frozen=True)
class AccessScope:
    """Everything that limits one person's access, computed once and read by every query and check."""

    user_id: int | None
    capabilities: frozenset[str] = frozenset()
    approved_only: bool = True
    read_only: bool = True
    records_access: bool = False

    @classmethod
    def of(cls, user: User | None) -> AccessScope:
        """The scope of a user (an anonymous visitor or a disabled account sees nothing and may do nothing)."""
        if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
            return cls(user_id=None)
        role = user.role
        return cls(user_id=user.id,
                   capabilities=frozenset(cap for cap, roles in CAPABILITIES.items() if role in roles),
                   approved_only=role in APPROVED_ONLY_ROLES, read_only=role in READ_ONLY_ROLES,
                   records_access=role in RECORDED_ACCESS_ROLES)

    def can(self, capability: str) -> bool:
        """The role grants the capability (unknown capabilities grant nothing)."""
        return capability in self.capabilities

    # -- what may be seen -----------------------------------------------------------------------------------

    def document_condition(self) -> ColumnElement[bool]:
        """SQL condition on Document for the documents this scope sees (restricted ones: admins, owner, shares)."""
        if self.user_id is None:
            return false()
        condition: ColumnElement[bool] = true()
        if not self.can("see_all_restricted"):
            shared = exists().where(document_shares.c.document_id == Document.id,
                                    document_shares.c.user_id == self.user_id)
            condition = and_(condition, or_(Document.confidentiality == "normal", Document.owner_id == self.user_id,
                                            shared))
        if self.approved_only:
            condition = and_(condition, Document.current_version_id.is_not(None))
        return condition

    def visible_documents(self) -> Select[Document]:
        """A select of the documents this scope sees."""
        return select(Document).where(self.document_condition())

    def visible_document_ids(self) -> Select[int]:
        """The ids of those documents, for IN (...) subqueries."""
        return select(Document.id).where(self.document_condition())

    def hidden_document_ids(self) -> Select[int]:
        """Documents whose versions a search would otherwise show but this scope may not open (restricted ones not
        shared with it): kept small, since documents an approved-only scope never sees approved are filtered anyway."""
        hidden = select(Document.id).where(not_(self.document_condition()))
        if self.approved_only:
            return hidden.where(exists().where(DocumentVersion.document_id == Document.id,
                                               DocumentVersion.status.in_(EVER_APPROVED)))
        return hidden.where(Document.confidentiality != "normal")

    def sees_document(self, doc: Document) -> bool:
        """Object-level form of document_condition."""
        if self.user_id is None or (self.approved_only and doc.current_version_id is None):
            return False
        if doc.confidentiality == "normal" or self.can("see_all_restricted") or doc.owner_id == self.user_id:
            return True
        return any(u.id == self.user_id for u in doc.shared_with)

    def sees_version(self, version: DocumentVersion) -> bool:
        """Approved-only scopes see approved versions (in force, superseded or obsolete), never drafts."""
        if not self.sees_document(version.document):
            return False
        return not self.approved_only or version.status in EVER_APPROVED

    def visible_versions(self, doc: Document) -> list[DocumentVersion]:
        """The document's versions this scope sees, newest first."""
        return [v for v in doc.versions if self.sees_version(v)]

    # -- what may be done: None when allowed, else the reason --------------------------------------------------

    def refuse_create_document(self) -> Refusal:
        """Registering documents."""
        return None if self.can("upload_documents") else _l("Your role cannot register documents.")

    def refuse_upload(self, doc: Document) -> Refusal:
        """A new version of this document."""
        if not self.can("upload_documents") or not self.sees_document(doc):
            return _l("You may not upload versions of this document.")
        return None

    def refuse_approve(self, version: DocumentVersion) -> Refusal:
        """Approving a draft: approvers only, and never the person who uploaded it."""
        if not self.can("approve_documents"):
            return _l("Only administrators and quality officers approve documents.")
        if version.uploaded_by_id == self.user_id:
            return _l("Segregation of duties: a version must be approved by someone other than the person who "
                      "uploaded it.")
        return None

    def refuse_reject(self, version: DocumentVersion) -> Refusal:
        """Rejecting a draft: approvers, or the uploader cancelling their own."""
        if self.can("approve_documents") or (self.user_id is not None and version.uploaded_by_id == self.user_id):
            return None
        return _l("Only administrators, quality officers or the uploader can reject a draft.")

    def refuse_withdraw(self, _doc: Document) -> Refusal:
        """Withdrawing a document."""
        return None if self.can("withdraw_documents") else _l(
            "Only administrators and quality officers withdraw documents.")

    def refuse_review(self, doc: Document) -> Refusal:
        """Recording a periodic review: approvers or the owner."""
        if self.can("approve_documents") or (self.user_id is not None and doc.owner_id == self.user_id):
            return None
        return _l("Only the owner, administrators and quality officers record reviews.")

    def refuse_map_clauses(self, _doc: Document | None = None) -> Refusal:
        """Changing which clauses documents serve."""
        return None if self.can("map_clauses") else _l("Your role cannot change clause mappings.")

    def refuse_edit_details(self, doc: Document) -> Refusal:
        """Descriptive metadata: the owner, administrators and quality officers."""
        owner = self.user_id is not None and doc.owner_id == self.user_id
        if self.can("upload_documents") and (owner or self.can("approve_documents")):
            return None
        return _l("Only the owner, administrators and quality officers edit this document's details.")

    def refuse_change_access(self, doc: Document) -> Refusal:
        """Owner, confidentiality and sharing: the owner or an administrator."""
        if self.can("see_all_restricted") or (self.user_id is not None and doc.owner_id == self.user_id):
            return None
        return _l("Only the owner or an administrator changes who owns or may see a document.")

    def refuse_edit_record(self, record: Revisioned) -> Refusal:
        """Saving a structured record or attaching evidence to it: the capability its type names."""
        return None if self.can(type(record).__edit_capability__) else _l("Your role cannot change this record.")

    # -- nonconformities and corrective actions: role rules here, state rules in the services ----------------------

    def nonconformity_condition(self) -> ColumnElement[bool]:
        """SQL condition on Nonconformity for the ones this scope sees: all of them, for anyone who reads records."""
        return true() if self.can("see_nonconformities") else false()

    def sees_nonconformity(self, _nc: Nonconformity) -> bool:
        """Object-level form of nonconformity_condition."""
        return self.can("see_nonconformities")

    def refuse_record_nonconformity(self) -> Refusal:
        """Raising a nonconformity, editing it, raising its actions, attaching evidence."""
        return None if self.can("record_nonconformities") and not self.read_only else _l(
            "Your role cannot record nonconformities.")

    def refuse_close_nonconformity(self, _nc: Nonconformity) -> Refusal:
        """Closing and reopening: compliance and quality officers only."""
        return None if self.can("close_nonconformities") else _l(
            "Only compliance and quality officers close or reopen nonconformities.")

    def refuse_work_action(self, action: CorrectiveAction) -> Refusal:
        """Editing, starting and implementing an action: its owner or anyone who records nonconformities."""
        if self.user_id is not None and action.owner_id == self.user_id and not self.read_only:
            return None
        return self.refuse_record_nonconformity()

    def refuse_cancel_action(self, _action: CorrectiveAction) -> Refusal:
        """Cancelling an action: compliance and quality officers only."""
        return None if self.can("cancel_actions") else _l(
            "Only compliance and quality officers cancel corrective actions.")

    def refuse_check_action(self, action: CorrectiveAction) -> Refusal:
        """Recording the effectiveness check: the named checker, or when none is named anyone who checks
        effectiveness; never the action's owner (segregation of duties)."""
        if not self.can("check_effectiveness"):
            return _l("Your role cannot check the effectiveness of corrective actions.")
        if action.owner_id == self.user_id:
            return _l("Segregation of duties: the effectiveness of an action must be checked by someone other than "
                      "its owner.")
        if action.checker_id is not None and action.checker_id != self.user_id:
            return _l("This effectiveness check is assigned to someone else.")
        return None

    # -- bribery risks, due diligence, gifts: role rules here, state rules in the services ---------------------------

    def risk_condition(self) -> ColumnElement[bool]:
        """SQL condition on BriberyRisk: staff see every risk; approved-only scopes those ever approved."""
        if not self.can("see_risks"):
            return false()
        return BriberyRisk.approved_revision.is_not(None) if self.approved_only else true()

    def sees_risk(self, risk: BriberyRisk) -> bool:
        """Object-level form of risk_condition."""
        return self.can("see_risks") and not (self.approved_only and risk.approved_revision is None)

    def sees_due_diligence(self, _file: DueDiligence) -> bool:
        """Due-diligence files: everyone who reads risks (auditors read all of them)."""
        return self.can("see_risks")

    def sees_gift(self, _gift: Gift) -> bool:
        """Gift entries: everyone who reads risks (auditors read all of them)."""
        return self.can("see_risks")

    def refuse_assess_risk(self) -> Refusal:
        """Creating risks and exercises, (re)assessing, linking controls and treatment actions."""
        return None if self.can("assess_risks") and not self.read_only else _l(
            "Your role cannot assess bribery risks.")

    def refuse_approve_risk(self, risk: BriberyRisk) -> Refusal:
        """Approving an assessment: approvers only, and never the person who assessed it (segregation of duties)."""
        if not self.can("approve_risks") or self.read_only:
            return _l("Only administrators and compliance officers approve risk assessments.")
        if risk.assessed_by_id is not None and risk.assessed_by_id == self.user_id:
            return _l("Segregation of duties: a risk assessment must be approved by someone other than its "
                      "assessor.")
        return None

    def refuse_configure_matrix(self) -> Refusal:
        """Changing the risk matrix (a new version)."""
        return None if self.can("configure_risk_matrix") else _l("Only administrators configure the risk matrix.")

    def refuse_record_due_diligence(self) -> Refusal:
        """Opening, editing and deciding due-diligence files, attaching their evidence."""
        return None if self.can("record_due_diligence") and not self.read_only else _l(
            "Only administrators and compliance officers record due diligence.")

    def refuse_record_gift(self) -> Refusal:
        """Recording and editing gifts, hospitality, donations and similar benefits."""
        return None if self.can("record_gifts") and not self.read_only else _l(
            "Your role cannot record gifts and hospitality.")

    def refuse_approve_gift(self, gift: Gift) -> Refusal:
        """Approving or rejecting an entry: approvers only, never the person who recorded it."""
        if not self.can("approve_gifts") or self.read_only:
            return _l("Only administrators and compliance officers approve gifts and hospitality.")
        if gift.created_by_id is not None and gift.created_by_id == self.user_id:
            return _l("Segregation of duties: an entry must be approved by someone other than the person who "
                      "recorded it.")
        return None

    def refuse_set_thresholds(self) -> Refusal:
        """Setting the value per currency from which a gift needs approval."""
        return None if self.can("set_gift_thresholds") else _l("Only administrators set gift thresholds.")

    # -- what a page offers ----------------------------------------------------------------------------------

    def document_actions(self, doc: Document, versions: list[DocumentVersion]) -> DocumentActions:
        """The buttons the document page shows: allowed for this person and possible in the current state."""
        open_doc = doc.status != "obsolete"
        drafts = {v.id: VersionActions(
            approve=open_doc and self.refuse_approve(v) is None,
            reject=open_doc and self.refuse_reject(v) is None,
            own_draft=v.uploaded_by_id == self.user_id,
        ) for v in versions if v.status == "draft"}
        return DocumentActions(
            edit_details=self.refuse_edit_details(doc) is None,
            change_access=self.refuse_change_access(doc) is None,
            upload_version=open_doc and self.refuse_upload(doc) is None,
            map_clauses=self.refuse_map_clauses(doc) is None,
            review=doc.status == "active" and self.refuse_review(doc) is None,
            withdraw=open_doc and self.refuse_withdraw(doc) is None,
            versions=drafts,
        )


def current_scope() -> AccessScope:
    """The scope of the person making this request: computed once, and again after each read ends (db.end_read), so
    a check after a long upload or inside the write transaction reads the user's current row."""
    user_id = current_user.id if current_user and current_user.is_authenticated else None
    cached: AccessScope | None = g.get(SCOPE_KEY)
    if cached is None or cached.user_id != user_id:
        cached = AccessScope.of(current_user._get_current_object() if user_id is not None else None)
        setattr(g, SCOPE_KEY, cached)
    return cached


def scope_of(user: User | None) -> AccessScope:
    """The scope a service applies to its actor: the request's own when the actor is the person asking."""
    if user is not None and has_request_context() and current_user.is_authenticated and current_user.id == user.id:
        return current_scope()
    return AccessScope.of(user)
