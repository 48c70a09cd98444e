"""Bribery risks and their assessments, due diligence and the gifts register (ISO 37001 4.5, 8.2, 8.7).

Why revisioned: an auditor must see each risk, file and gift exactly as it stood at any past exercise or day, with
who assessed and who approved it; rows are projections of their latest revision and are never deleted (triggers).
The risk matrix and the gift thresholds are configuration kept as append-only rows: a change is a new row, so a
past assessment keeps the matrix it was scored with and a past gift the threshold it was judged against.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import CheckConstraint, Column, Date, DateTime, ForeignKey, Index, Integer, Numeric, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model, db, one_of
from ..timeutil import utcnow
from .documents import Document
from .org import Process, Site
from .records import CorrectiveAction
from .revisions import Revisioned, register_record_type
from .users import User

RATINGS = ("low", "medium", "high", "critical")
HIGH_RATINGS = ("high", "critical")
CATEGORIES = ("public_official", "supplier", "contractor", "partner", "agent_intermediary", "beneficiary", "donor",
              "personnel_position", "other")
EXERCISE_STATUSES = ("planned", "in_progress", "closed")
CONTROL_EFFECTIVENESS = ("effective", "partially_effective", "ineffective", "not_assessed")
RISK_STATUSES = ("pending_approval", "approved", "retired")
DD_SUBJECT_TYPES = ("business_associate", "personnel")
DD_DECISIONS = ("proceed", "proceed_with_conditions", "do_not_proceed")
DD_STATUSES = ("in_progress", "decided")
GIFT_KINDS = ("gift", "hospitality", "donation", "sponsorship", "other_benefit")
GIFT_DIRECTIONS = ("given", "received")
GIFT_DECISIONS = ("accepted", "declined", "returned", "donated")
GIFT_STATUSES = ("recorded", "pending_approval", "approved", "rejected")
MIN_LEVELS, MAX_LEVELS = 2, 10

risk_controls = Table(
    "risk_controls",
    db.metadata,
    Column("risk_id", ForeignKey("bribery_risks.id"), primary_key=True),
    Column("document_id", ForeignKey("documents.id"), primary_key=True),
    Index("ix_risk_controls_document_id_risk_id", "document_id", "risk_id"),
)

risk_treatments = Table(
    "risk_treatments",
    db.metadata,
    Column("risk_id", ForeignKey("bribery_risks.id"), primary_key=True),
    Column("action_id", ForeignKey("corrective_actions.id"), primary_key=True),
    Index("ix_risk_treatments_action_id_risk_id", "action_id", "risk_id"),
)

due_diligence_risks = Table(
    "due_diligence_risks",
    db.metadata,
    Column("due_diligence_id", ForeignKey("due_diligence.id"), primary_key=True),
    Column("risk_id", ForeignKey("bribery_risks.id"), primary_key=True),
    Index("ix_due_diligence_risks_risk_id_due_diligence_id", "risk_id", "due_diligence_id"),
)

gift_risks = Table(
    "gift_risks",
    db.metadata,
    Column("gift_id", ForeignKey("gifts.id"), primary_key=True),
    Column("risk_id", ForeignKey("bribery_risks.id"), primary_key=True),
    Index("ix_gift_risks_risk_id_gift_id", "risk_id", "gift_id"),
)


def _json(text: str | None) -> Any:
    return json.loads(text) if text else {}


class RiskMatrix(Model):
    """One version of the risk matrix (dimensions, rating thresholds, labels, colours); a change adds a version."""

    __tablename__ = "risk_matrices"
    __table_args__ = (
        CheckConstraint(f"likelihood_levels BETWEEN {MIN_LEVELS} AND {MAX_LEVELS}", name="likelihood_levels"),
        CheckConstraint(f"impact_levels BETWEEN {MIN_LEVELS} AND {MAX_LEVELS}", name="impact_levels"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    likelihood_levels: Mapped[int] = mapped_column(Integer)
    impact_levels: Mapped[int] = mapped_column(Integer)
    thresholds: Mapped[str] = mapped_column(Text)  # {"medium": 5, "high": 10, "critical": 17}: minimum scores
    labels: Mapped[str] = mapped_column(Text)  # {"low": {"es": "Bajo", "en": "Low"}, ...}
    colours: Mapped[str] = mapped_column(Text)  # {"low": "#2e7d32", ...}
    likelihood_labels: Mapped[str] = mapped_column(Text)  # {"es": [...], "en": [...]}, one per level
    impact_labels: Mapped[str] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])

    def threshold_map(self) -> dict[str, int]:
        """The minimum score of each rating above "low"."""
        return {k: int(v) for k, v in _json(self.thresholds).items()}

    def label_map(self) -> dict[str, dict[str, str]]:
        return dict(_json(self.labels))

    def colour_map(self) -> dict[str, str]:
        return dict(_json(self.colours))

    def axis_labels(self, which: str) -> dict[str, list[str]]:
        """The level names of the "likelihood" or "impact" axis, per language."""
        return dict(_json(self.likelihood_labels if which == "likelihood" else self.impact_labels))


class RiskExercise(Revisioned, Model):
    """An assessment exercise ("2026 annual bribery-risk assessment"): the risks (re)assessed in it are scored with
    the matrix current when it was created, for ever."""

    __tablename__ = "risk_exercises"
    __entity_type__ = "risk_exercise"
    __edit_capability__ = "assess_risks"
    __revision_fields__ = ("reference", "name", "year", "scope", "method", "participants", "starts_on", "ends_on",
                           "status", "matrix_id")
    __table_args__ = (one_of("status", EXERCISE_STATUSES),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)  # RA-2026-01
    name: Mapped[str] = mapped_column(String(300))
    year: Mapped[int] = mapped_column(Integer, index=True)
    scope: Mapped[str | None] = mapped_column(Text)
    method: Mapped[str | None] = mapped_column(Text)
    participants: Mapped[str | None] = mapped_column(Text)
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12), default="planned")
    matrix_id: Mapped[int] = mapped_column(ForeignKey("risk_matrices.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    matrix: Mapped[RiskMatrix] = relationship(foreign_keys=[matrix_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])


class BriberyRisk(Revisioned, Model):
    """One bribery risk of the register: inherent and residual scores from its exercise's matrix, controls, treatment.

    Each (re)assessment saves a revision pending approval; approval (by someone else) saves one with status
    approved and `approved_revision` = that revision's number. Scores and ratings are stored in each revision, so
    an old revision keeps the score its matrix gave."""

    __tablename__ = "bribery_risks"
    __entity_type__ = "bribery_risk"
    __edit_capability__ = "assess_risks"
    __revision_fields__ = (
        "reference", "title", "process_id", "activity", "site_id", "associate_category", "associate_detail",
        "scenario", "inherent_likelihood", "inherent_impact", "inherent_score", "inherent_rating",
        "control_document_ids", "controls_description", "control_effectiveness", "residual_likelihood",
        "residual_impact", "residual_score", "residual_rating", "treatment", "treatment_action_ids", "owner_id",
        "next_review", "exercise_id", "matrix_id", "status", "assessed_by_id", "assessed_on", "approved_by_id",
        "approved_on", "approved_revision", "retire_reason",
    )
    __table_args__ = (
        one_of("associate_category", CATEGORIES), one_of("control_effectiveness", CONTROL_EFFECTIVENESS),
        one_of("inherent_rating", RATINGS), one_of("residual_rating", RATINGS), one_of("status", RISK_STATUSES),
        Index("ix_bribery_risks_status_residual_rating", "status", "residual_rating"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)  # BR-0001
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    search_key: Mapped[str] = mapped_column(String(400), default="")  # reference and title folded (textnorm)
    process_id: Mapped[int | None] = mapped_column(ForeignKey("processes.id"), index=True)
    activity: Mapped[str | None] = mapped_column(String(300))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"), index=True)  # None: organisation-wide
    associate_category: Mapped[str] = mapped_column(String(24), index=True)
    associate_detail: Mapped[str | None] = mapped_column(String(300))
    scenario: Mapped[str] = mapped_column(Text)
    inherent_likelihood: Mapped[int] = mapped_column(Integer)
    inherent_impact: Mapped[int] = mapped_column(Integer)
    inherent_score: Mapped[int] = mapped_column(Integer)
    inherent_rating: Mapped[str] = mapped_column(String(12))
    control_document_ids: Mapped[str] = mapped_column(Text, default="")
    controls_description: Mapped[str | None] = mapped_column(Text)
    control_effectiveness: Mapped[str] = mapped_column(String(24), default="not_assessed")
    residual_likelihood: Mapped[int] = mapped_column(Integer)
    residual_impact: Mapped[int] = mapped_column(Integer)
    residual_score: Mapped[int] = mapped_column(Integer)
    residual_rating: Mapped[str] = mapped_column(String(12))
    treatment: Mapped[str | None] = mapped_column(Text)
    treatment_action_ids: Mapped[str] = mapped_column(Text, default="")
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    next_review: Mapped[date | None] = mapped_column(Date, index=True)
    exercise_id: Mapped[int] = mapped_column(ForeignKey("risk_exercises.id"), index=True)
    matrix_id: Mapped[int] = mapped_column(ForeignKey("risk_matrices.id"))
    status: Mapped[str] = mapped_column(String(20), default="pending_approval")
    assessed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    assessed_on: Mapped[date | None] = mapped_column(Date)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_on: Mapped[date | None] = mapped_column(Date)
    approved_revision: Mapped[int | None] = mapped_column(Integer)  # None: never approved
    retire_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    process: Mapped[Process | None] = relationship(foreign_keys=[process_id])
    site: Mapped[Site | None] = relationship(foreign_keys=[site_id])
    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    exercise: Mapped[RiskExercise] = relationship(foreign_keys=[exercise_id])
    matrix: Mapped[RiskMatrix] = relationship(foreign_keys=[matrix_id])
    assessed_by: Mapped[User | None] = relationship(foreign_keys=[assessed_by_id])
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    controls: Mapped[list[Document]] = relationship(secondary=risk_controls, order_by="Document.code")
    treatments: Mapped[list[CorrectiveAction]] = relationship(secondary=risk_treatments,
                                                              order_by="CorrectiveAction.id")

    @property
    def is_retired(self) -> bool:
        return self.status == "retired"


class DueDiligence(Revisioned, Model):
    """A due-diligence file on a business associate or on personnel in an exposed position (8.2)."""

    __tablename__ = "due_diligence"
    __entity_type__ = "due_diligence"
    __edit_capability__ = "record_due_diligence"
    __revision_fields__ = (
        "reference", "subject_type", "subject_name", "category", "position", "site_id", "process_id", "risk_level",
        "checks_performed", "result", "decision", "conditions", "decided_on", "reviewer_id", "next_review",
        "risk_ids", "clause_ids", "status",
    )
    __table_args__ = (
        one_of("subject_type", DD_SUBJECT_TYPES), one_of("category", CATEGORIES), one_of("risk_level", RATINGS),
        one_of("decision", DD_DECISIONS), one_of("status", DD_STATUSES),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)  # DD-2026-0001
    year: Mapped[int] = mapped_column(Integer)
    number: Mapped[int] = mapped_column(Integer)
    search_key: Mapped[str] = mapped_column(String(400), default="")
    subject_type: Mapped[str] = mapped_column(String(24))
    subject_name: Mapped[str] = mapped_column(String(300))
    category: Mapped[str] = mapped_column(String(24), index=True)
    position: Mapped[str | None] = mapped_column(String(300))  # for personnel
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"), index=True)
    process_id: Mapped[int | None] = mapped_column(ForeignKey("processes.id"), index=True)
    risk_level: Mapped[str] = mapped_column(String(12), index=True)
    checks_performed: Mapped[str | None] = mapped_column(Text)
    result: Mapped[str | None] = mapped_column(Text)
    decision: Mapped[str | None] = mapped_column(String(24), index=True)  # None until decided
    conditions: Mapped[str | None] = mapped_column(Text)
    decided_on: Mapped[date | None] = mapped_column(Date)
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    next_review: Mapped[date | None] = mapped_column(Date, index=True)
    risk_ids: Mapped[str] = mapped_column(Text, default="")
    clause_ids: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(12), default="in_progress", index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    site: Mapped[Site | None] = relationship(foreign_keys=[site_id])
    process: Mapped[Process | None] = relationship(foreign_keys=[process_id])
    reviewer: Mapped[User | None] = relationship(foreign_keys=[reviewer_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    risks: Mapped[list[BriberyRisk]] = relationship(secondary=due_diligence_risks, order_by="BriberyRisk.number")


class GiftThreshold(Model):
    """The value from which a gift in one currency needs approval; the newest row per currency is in force."""

    __tablename__ = "gift_thresholds"
    __table_args__ = (Index("ix_gift_thresholds_currency_set_at", "currency", "set_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    currency: Mapped[str] = mapped_column(String(3))  # ISO 4217
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    note: Mapped[str | None] = mapped_column(Text)
    set_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    set_by: Mapped[User | None] = relationship(foreign_keys=[set_by_id])


class Gift(Revisioned, Model):
    """A gift, hospitality, donation, sponsorship or other benefit given or received (8.7), with its decision."""

    __tablename__ = "gifts"
    __entity_type__ = "gift"
    __edit_capability__ = "record_gifts"
    __revision_fields__ = (
        "reference", "kind", "direction", "internal_party", "counterparty", "counterparty_category", "site_id",
        "occurred_on", "value", "currency", "description", "purpose", "decision", "decision_note",
        "requires_approval", "status", "approver_id", "approved_on", "approval_note", "risk_ids", "clause_ids",
    )
    __table_args__ = (
        one_of("kind", GIFT_KINDS), one_of("direction", GIFT_DIRECTIONS),
        one_of("counterparty_category", CATEGORIES), one_of("decision", GIFT_DECISIONS),
        one_of("status", GIFT_STATUSES),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)  # GH-2026-0001
    year: Mapped[int] = mapped_column(Integer)
    number: Mapped[int] = mapped_column(Integer)
    search_key: Mapped[str] = mapped_column(String(400), default="")
    kind: Mapped[str] = mapped_column(String(16), index=True)
    direction: Mapped[str] = mapped_column(String(10))
    internal_party: Mapped[str] = mapped_column(String(300))
    counterparty: Mapped[str] = mapped_column(String(300))
    counterparty_category: Mapped[str] = mapped_column(String(24))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"), index=True)
    occurred_on: Mapped[date] = mapped_column(Date, index=True)
    value: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    currency: Mapped[str] = mapped_column(String(3))
    description: Mapped[str] = mapped_column(Text)
    purpose: Mapped[str | None] = mapped_column(Text)
    decision: Mapped[str | None] = mapped_column(String(12), index=True)  # None while undecided
    decision_note: Mapped[str | None] = mapped_column(Text)
    requires_approval: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(20), default="recorded", index=True)
    approver_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_on: Mapped[date | None] = mapped_column(Date)
    approval_note: Mapped[str | None] = mapped_column(Text)
    risk_ids: Mapped[str] = mapped_column(Text, default="")
    clause_ids: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    site: Mapped[Site | None] = relationship(foreign_keys=[site_id])
    approver: Mapped[User | None] = relationship(foreign_keys=[approver_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    risks: Mapped[list[BriberyRisk]] = relationship(secondary=gift_risks, order_by="BriberyRisk.number")


register_record_type(RiskExercise)
register_record_type(BriberyRisk)
register_record_type(DueDiligence)
register_record_type(Gift)
