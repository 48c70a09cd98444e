"""The organisation: the site tree and the process map, and where each document belongs in them.

Why: a multi-site certificate is audited site by site, and evidence must be shown per site and process; a document
placed nowhere concerns the whole organisation.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, ForeignKey, Index, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model, db, one_of
from ..timeutil import utcnow
from .users import User

PROCESS_CATEGORIES = ("strategic", "operational", "support")
CODE_MAX = 40

document_sites = Table(
    "document_sites",
    db.metadata,
    Column("document_id", ForeignKey("documents.id"), primary_key=True),
    Column("site_id", ForeignKey("sites.id"), primary_key=True),
    Index("ix_document_sites_site_id_document_id", "site_id", "document_id"),
)

document_processes = Table(
    "document_processes",
    db.metadata,
    Column("document_id", ForeignKey("documents.id"), primary_key=True),
    Column("process_id", ForeignKey("processes.id"), primary_key=True),
    Index("ix_document_processes_process_id_document_id", "process_id", "document_id"),
)


class Site(Model):
    """A place the certified service runs: the central function (no parent), regional units, local offices."""

    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(CODE_MAX), unique=True)
    name_es: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    region: Mapped[str | None] = mapped_column(String(100))
    address: Mapped[str | None] = mapped_column(Text)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"), index=True)
    responsible_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    parent: Mapped[Site | None] = relationship(remote_side="Site.id")
    responsible: Mapped[User | None] = relationship(foreign_keys=[responsible_id])

    @property
    def is_central(self) -> bool:
        """The central function (head office) is the one site without a parent."""
        return self.parent_id is None

    def name(self, lang: str | None) -> str:
        """The name in the given language, falling back to Spanish (the organisation's own)."""
        return self.name_en if lang == "en" and self.name_en else self.name_es


class Process(Model):
    """A process of the process map, strategic, operational or support."""

    __tablename__ = "processes"
    __table_args__ = (one_of("category", PROCESS_CATEGORIES),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(CODE_MAX), unique=True)
    name_es: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(12), default="operational")
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    active: Mapped[bool] = mapped_column(default=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])

    def name(self, lang: str | None) -> str:
        """The name in the given language, falling back to Spanish."""
        return self.name_en if lang == "en" and self.name_en else self.name_es
