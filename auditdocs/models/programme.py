"""Certification scope, certificates and the audit programme (ISO 9001 4.3 / 9.2, ISO 37001 4.3 / 9.2, IAF MD 1).

Why: the certification body audits a three-year cycle per certificate against a stated scope, visiting the central
function and a sample of sites each time; the programme must show what was planned, done and visited.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Column, Date, DateTime, ForeignKey, Index, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model, db, one_of
from ..timeutil import utcnow
from .org import Process, Site
from .users import User

INTEGRATED = "integrated"  # a scope (and certificate) covering both standards at once
SCOPE_KEYS = ("iso9001_2015", "iso37001_2016", INTEGRATED)  # standard slugs, or both
AUDIT_TYPES = ("initial", "surveillance_1", "surveillance_2", "recertification", "internal")
AUDIT_STAGES = ("single", "stage_1", "stage_2")
AUDIT_STATUSES = ("planned", "done", "cancelled")
CYCLE_YEARS = 3

scope_sites = Table(
    "scope_sites",
    db.metadata,
    Column("scope_id", ForeignKey("scopes.id"), primary_key=True),
    Column("site_id", ForeignKey("sites.id"), primary_key=True, index=True),
)

scope_processes = Table(
    "scope_processes",
    db.metadata,
    Column("scope_id", ForeignKey("scopes.id"), primary_key=True),
    Column("process_id", ForeignKey("processes.id"), primary_key=True, index=True),
)

audit_processes = Table(
    "audit_processes",
    db.metadata,
    Column("audit_id", ForeignKey("audits.id"), primary_key=True),
    Column("process_id", ForeignKey("processes.id"), primary_key=True, index=True),
)


class Scope(Model):
    """The certification scope of one standard (or of both, integrated): statement, sites and processes covered."""

    __tablename__ = "scopes"
    __table_args__ = (one_of("key", SCOPE_KEYS),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(20), unique=True)
    statement_es: Mapped[str | None] = mapped_column(Text)
    statement_en: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    sites: Mapped[list[Site]] = relationship(secondary=scope_sites, order_by="Site.code")
    processes: Mapped[list[Process]] = relationship(secondary=scope_processes, order_by="Process.sort_order, "
                                                                                         "Process.code")
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])

    def statement(self, lang: str | None) -> str:
        """The statement in the given language, falling back to the other one."""
        first, second = (self.statement_en, self.statement_es) if lang == "en" else (self.statement_es,
                                                                                    self.statement_en)
        return first or second or ""


class Certificate(Model):
    """A certificate a certification body issued for a scope; its three-year cycle starts on the issue date."""

    __tablename__ = "certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(80), unique=True)
    scope_id: Mapped[int] = mapped_column(ForeignKey("scopes.id"), index=True)
    body: Mapped[str] = mapped_column(String(200))  # the certification body
    issued_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date] = mapped_column(Date, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    scope: Mapped[Scope] = relationship()
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])


class Audit(Model):
    """One audit of the programme: a certification audit of a certificate's cycle, or an internal audit."""

    __tablename__ = "audits"
    __table_args__ = (one_of("audit_type", AUDIT_TYPES), one_of("stage", AUDIT_STAGES),
                      one_of("status", AUDIT_STATUSES),
                      Index("ix_audits_certificate_id_planned_start", "certificate_id", "planned_start"))

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[int | None] = mapped_column(ForeignKey("certificates.id"))
    audit_type: Mapped[str] = mapped_column(String(20))
    stage: Mapped[str] = mapped_column(String(10), default="single")
    planned_start: Mapped[date] = mapped_column(Date, index=True)
    planned_end: Mapped[date | None] = mapped_column(Date)
    actual_start: Mapped[date | None] = mapped_column(Date)
    actual_end: Mapped[date | None] = mapped_column(Date)
    auditing_body: Mapped[str] = mapped_column(String(200))  # the certification body, or the internal team
    lead_auditor: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(10), default="planned")
    notes: Mapped[str | None] = mapped_column(Text)
    # The site sample as confirmed: the seed its random part was drawn from, who confirmed it and why it differs.
    sample_seed: Mapped[int | None] = mapped_column(BigInteger)
    sample_confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sample_confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    sample_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    certificate: Mapped[Certificate | None] = relationship()
    sites: Mapped[list[AuditSite]] = relationship(back_populates="audit", order_by="AuditSite.site_id",
                                                  cascade="all, delete-orphan")
    processes: Mapped[list[Process]] = relationship(secondary=audit_processes,
                                                    order_by="Process.sort_order, Process.code")
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    sample_confirmed_by: Mapped[User | None] = relationship(foreign_keys=[sample_confirmed_by_id])

    @property
    def is_certification(self) -> bool:
        """Audits by the certification body (sampled by IAF MD 1), as opposed to internal ones."""
        return self.audit_type != "internal"


class AuditSite(Model):
    """A site an audit covers, with why it is in the sample (central function, never visited, risk, random...)."""

    __tablename__ = "audit_sites"

    audit_id: Mapped[int] = mapped_column(ForeignKey("audits.id"), primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), primary_key=True, index=True)
    reason: Mapped[str | None] = mapped_column(String(300))

    audit: Mapped[Audit] = relationship(back_populates="sites")
    site: Mapped[Site] = relationship()
