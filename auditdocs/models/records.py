"""Nonconformities and their corrective actions (ISO 9001 10.2, ISO 37001 10.1), kept as revisioned records.

Why revisioned: an auditor must see the complete, unaltered history of each finding and of what was done about it;
each row is the projection of its latest revision (services.revisions) and nothing is ever deleted (triggers).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Date, DateTime, ForeignKey, Index, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model, db, one_of
from ..timeutil import utcnow
from .documents import Document
from .org import Process, Site
from .programme import Audit
from .revisions import Revisioned, register_record_type
from .standards import Clause
from .users import User

NC_SOURCES = ("internal_audit", "external_audit", "complaint", "process_monitoring", "management_review",
              "anti_bribery_concern", "other")
AUDIT_SOURCES = ("internal_audit", "external_audit")  # the sources that may name an audit of the programme
NC_GRADES = ("major", "minor", "observation", "improvement_opportunity")
NO_ACTION_GRADES = ("observation", "improvement_opportunity")  # may close on a decision that no action is needed
NC_STATUSES = ("open", "in_progress", "closed")
ROOT_CAUSE_METHODS = ("five_whys", "ishikawa", "other")
ISHIKAWA_CATEGORIES = ("people", "methods", "machines", "materials", "measurement", "environment", "management")
ACTION_STATUSES = ("planned", "in_progress", "implemented", "effective", "not_effective", "cancelled")
LIVE_ACTION = ("planned", "in_progress", "implemented")  # still being worked on or waiting for its check
FINAL_ACTION = ("effective", "not_effective", "cancelled")

nonconformity_clauses = Table(
    "nonconformity_clauses",
    db.metadata,
    Column("nonconformity_id", ForeignKey("nonconformities.id"), primary_key=True),
    Column("clause_id", ForeignKey("clauses.id"), primary_key=True),
    Index("ix_nonconformity_clauses_clause_id_nonconformity_id", "clause_id", "nonconformity_id"),
)

nonconformity_documents = Table(
    "nonconformity_documents",
    db.metadata,
    Column("nonconformity_id", ForeignKey("nonconformities.id"), primary_key=True),
    Column("document_id", ForeignKey("documents.id"), primary_key=True),
    Index("ix_nonconformity_documents_document_id_nonconformity_id", "document_id", "nonconformity_id"),
)


class RecordCounter(Model):
    """The last number given per kind of record and year (NC-2026-0001): taken inside the creating transaction,
    so a rolled-back creation gives its number back and two creations never share one."""

    __tablename__ = "record_counters"

    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


def id_list(text: str | None) -> list[int]:
    """The ids of a revision field that lists linked rows ("3,17,20")."""
    return [int(part) for part in (text or "").split(",") if part.strip().isdigit()]


class Nonconformity(Revisioned, Model):
    """A nonconformity, observation or opportunity for improvement, from detection to verified closure.

    The linked clauses and documents are rows of the association tables (for filters) and, as `clause_ids` and
    `document_ids` ("3,17"), fields of each revision, so the history shows when they changed."""

    __tablename__ = "nonconformities"
    __entity_type__ = "nonconformity"
    __edit_capability__ = "record_nonconformities"
    __revision_fields__ = (
        "reference", "title", "description", "source", "audit_id", "grade", "detected_on", "detected_by_id",
        "detected_by_name", "site_id", "process_id", "clause_ids", "document_ids", "correction", "root_cause_method",
        "ishikawa_category", "analysis", "root_cause", "status", "action_required", "closed_on", "closed_by_id",
        "closure_note", "no_action_decision", "reopen_reason",
    )
    __table_args__ = (
        one_of("source", NC_SOURCES), one_of("grade", NC_GRADES), one_of("status", NC_STATUSES),
        one_of("root_cause_method", ROOT_CAUSE_METHODS), one_of("ishikawa_category", ISHIKAWA_CATEGORIES),
        Index("ix_nonconformities_status_grade", "status", "grade"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)  # NC-2026-0001
    year: Mapped[int] = mapped_column(Integer)
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    search_key: Mapped[str] = mapped_column(String(400), default="")  # reference and title folded (textnorm)
    description: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(24))
    audit_id: Mapped[int | None] = mapped_column(ForeignKey("audits.id"), index=True)
    grade: Mapped[str] = mapped_column(String(24), index=True)
    detected_on: Mapped[date] = mapped_column(Date, index=True)
    detected_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    detected_by_name: Mapped[str | None] = mapped_column(String(200))  # someone without an account
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"), index=True)
    process_id: Mapped[int | None] = mapped_column(ForeignKey("processes.id"), index=True)
    clause_ids: Mapped[str] = mapped_column(Text, default="")
    document_ids: Mapped[str] = mapped_column(Text, default="")
    correction: Mapped[str | None] = mapped_column(Text)  # immediate correction and containment
    root_cause_method: Mapped[str | None] = mapped_column(String(12))
    ishikawa_category: Mapped[str | None] = mapped_column(String(16))
    analysis: Mapped[str | None] = mapped_column(Text)
    root_cause: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default="open", index=True)
    # An action was checked not effective and no newer action has been raised yet: open until one is.
    action_required: Mapped[bool] = mapped_column(default=False)
    closed_on: Mapped[date | None] = mapped_column(Date, index=True)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closure_note: Mapped[str | None] = mapped_column(Text)
    no_action_decision: Mapped[bool] = mapped_column(default=False)  # observation/OFI closed without an action
    reopen_reason: Mapped[str | None] = mapped_column(Text)  # the reason of the latest reopening
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    audit: Mapped[Audit | None] = relationship(foreign_keys=[audit_id])
    detected_by: Mapped[User | None] = relationship(foreign_keys=[detected_by_id])
    site: Mapped[Site | None] = relationship(foreign_keys=[site_id])
    process: Mapped[Process | None] = relationship(foreign_keys=[process_id])
    closed_by: Mapped[User | None] = relationship(foreign_keys=[closed_by_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    clauses: Mapped[list[Clause]] = relationship(secondary=nonconformity_clauses, order_by="Clause.sort_key")
    documents: Mapped[list[Document]] = relationship(secondary=nonconformity_documents, order_by="Document.code")
    actions: Mapped[list[CorrectiveAction]] = relationship(back_populates="nonconformity",
                                                           order_by="CorrectiveAction.number")

    @property
    def is_closed(self) -> bool:
        return self.status == "closed"

    def detected_by_label(self) -> str:
        """Who detected it: the account's name, or the name typed for someone without one."""
        return self.detected_by.name if self.detected_by is not None else (self.detected_by_name or "")


class CorrectiveAction(Revisioned, Model):
    """One action against a nonconformity, from planning to the effectiveness check by someone other than its owner."""

    __tablename__ = "corrective_actions"
    __entity_type__ = "corrective_action"
    __edit_capability__ = "record_nonconformities"
    __revision_fields__ = (
        "nonconformity_id", "number", "description", "owner_id", "due_date", "status", "started_on",
        "implemented_on", "completion_note", "check_due", "checker_id", "checked_by_id", "checked_on",
        "check_evidence", "cancel_reason",
    )
    __table_args__ = (
        one_of("status", ACTION_STATUSES),
        Index("ix_corrective_actions_status_due_date", "status", "due_date"),
        Index("ix_corrective_actions_owner_id_status", "owner_id", "status"),
        Index("ix_corrective_actions_nonconformity_id_number", "nonconformity_id", "number", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    nonconformity_id: Mapped[int] = mapped_column(ForeignKey("nonconformities.id"))
    number: Mapped[int] = mapped_column(Integer)  # 1, 2, ... within the nonconformity: "NC-2026-0001 / A2"
    description: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    due_date: Mapped[date] = mapped_column(Date, index=True)
    status: Mapped[str] = mapped_column(String(16), default="planned")
    started_on: Mapped[date | None] = mapped_column(Date)
    implemented_on: Mapped[date | None] = mapped_column(Date)
    completion_note: Mapped[str | None] = mapped_column(Text)  # the completion evidence, beside attachments
    check_due: Mapped[date | None] = mapped_column(Date, index=True)  # the effectiveness check, scheduled
    checker_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)  # named checker, optional
    checked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    checked_on: Mapped[date | None] = mapped_column(Date)
    check_evidence: Mapped[str | None] = mapped_column(Text)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    nonconformity: Mapped[Nonconformity] = relationship(back_populates="actions")
    owner: Mapped[User] = relationship(foreign_keys=[owner_id])
    checker: Mapped[User | None] = relationship(foreign_keys=[checker_id])
    checked_by: Mapped[User | None] = relationship(foreign_keys=[checked_by_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])

    @property
    def code(self) -> str:
        """How people name it: "NC-2026-0001 / A2"."""
        return f"{self.nonconformity.reference} / A{self.number}"

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_ACTION

    def overdue(self, today: date) -> bool:
        """Past its due date and not implemented yet."""
        return self.status in ("planned", "in_progress") and self.due_date < today


register_record_type(Nonconformity)
register_record_type(CorrectiveAction)
