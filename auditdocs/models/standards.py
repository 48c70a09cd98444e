"""The clause catalogue: standards (with edition), clauses and the cross-map between standards."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext
from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model, one_of
from .users import User

DI_FLAGS = ("maintain", "retain", "both", "none")


class Standard(Model):
    """One edition of a standard, e.g. ISO 37001:2016; a later edition is another row loaded from data."""

    __tablename__ = "standards"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)  # "ISO 37001:2016"
    slug: Mapped[str] = mapped_column(String(40), unique=True)  # "iso37001_2016"
    title_en: Mapped[str] = mapped_column(String(200))
    title_es: Mapped[str | None] = mapped_column(String(200))
    sort_order: Mapped[int] = mapped_column(Integer, default=0)

    clauses: Mapped[list[Clause]] = relationship(
        back_populates="standard", order_by="Clause.sort_key", lazy="selectin"
    )


class Clause(Model):
    """A clause of one edition; always shown with its edition so references survive a new edition."""

    __tablename__ = "clauses"
    __table_args__ = (UniqueConstraint("standard_id", "number"), one_of("documented_information", DI_FLAGS))

    id: Mapped[int] = mapped_column(primary_key=True)
    standard_id: Mapped[int] = mapped_column(ForeignKey("standards.id"), index=True)
    number: Mapped[str] = mapped_column(String(20))
    sort_key: Mapped[str] = mapped_column(String(60), index=True)
    level: Mapped[int] = mapped_column(Integer)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("clauses.id"))
    title_en: Mapped[str] = mapped_column(String(300))
    title_es: Mapped[str | None] = mapped_column(String(300))
    # Set when an admin corrects a title; `auditdocs init` then never overwrites it.
    title_corrected_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    title_corrected_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    documented_information: Mapped[str] = mapped_column(String(10), default="none")
    typical_evidence: Mapped[str | None] = mapped_column(Text)
    applicable: Mapped[bool] = mapped_column(default=True)
    not_applicable_reason: Mapped[str | None] = mapped_column(Text)
    applicability_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    applicability_changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    standard: Mapped[Standard] = relationship(back_populates="clauses")
    parent: Mapped[Clause | None] = relationship(remote_side="Clause.id")
    applicability_changed_by: Mapped[User | None] = relationship(foreign_keys=[applicability_changed_by_id])

    @property
    def ref(self) -> str:
        """Edition-qualified reference, e.g. 'ISO 37001:2016 8.7'."""
        return f"{self.standard.code} {self.number}"

    @property
    def untitled(self) -> bool:
        """A numbered paragraph without a title of its own (kept because record lists cite it)."""
        return self.title_en.startswith("[no title")

    def title(self, lang: str | None) -> str:
        """Title in the given language, falling back to English; untitled paragraphs read naturally."""
        if self.untitled and self.title_corrected_at is None:
            parent = self.number.rsplit(".", 1)[0]
            return str(gettext("Numbered paragraph of %(parent)s", parent=parent))
        if lang == "es" and self.title_es:
            return self.title_es
        return self.title_en


class CrossMap(Model):
    """A correspondence between clauses of two standards; one side may be empty (clause without twin)."""

    __tablename__ = "crossmap"

    id: Mapped[int] = mapped_column(primary_key=True)
    left_clause_id: Mapped[int | None] = mapped_column(ForeignKey("clauses.id"), index=True)
    right_clause_id: Mapped[int | None] = mapped_column(ForeignKey("clauses.id"), index=True)
    topic: Mapped[str] = mapped_column(Text)

    left_clause: Mapped[Clause | None] = relationship(foreign_keys=[left_clause_id])
    right_clause: Mapped[Clause | None] = relationship(foreign_keys=[right_clause_id])
