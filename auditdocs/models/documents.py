"""Controlled documents and their immutable versions (ISO 9001 / ISO 37001 clause 7.5)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
    func,
    literal_column,
    select,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model, db, one_of
from ..textnorm import SEARCH_KEY_MAX, code_key, search_key
from ..timeutil import utcnow
from .blobrefs import BlobRef, register
from .org import Process, Site, document_processes, document_sites
from .standards import Clause
from .users import User

KINDS = ("policy", "procedure", "work_instruction", "form", "record", "evidence", "other")
LANGUAGES = ("es", "en")
CONFIDENTIALITY = ("normal", "restricted")
DOC_STATUSES = ("draft", "active", "obsolete")  # no approved version yet / in force / withdrawn
VERSION_STATUSES = ("draft", "approved", "rejected", "superseded", "obsolete")
EVER_APPROVED = ("approved", "superseded", "obsolete")
NO_REVIEW_DATE = "9999-12-31"  # where documents without a review date sort: after every real date, on both databases

document_clauses = Table(
    "document_clauses",
    db.metadata,
    Column("document_id", ForeignKey("documents.id"), primary_key=True),
    Column("clause_id", ForeignKey("clauses.id"), primary_key=True),
    # A clause's documents in id order, straight from the index: the clause page's lists and capped counts.
    Index("ix_document_clauses_clause_id_document_id", "clause_id", "document_id"),
)

document_shares = Table(
    "document_shares",
    db.metadata,
    Column("document_id", ForeignKey("documents.id"), primary_key=True),
    Column("user_id", ForeignKey("users.id"), primary_key=True, index=True),
)


class Document(Model):
    """A controlled document: identity and metadata; its content lives in versions."""

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    # Derived from code and title on every write (see _derive_keys): what lookups and the text filter use.
    code_key: Mapped[str] = mapped_column(String(60), unique=True)
    search_key: Mapped[str] = mapped_column(String(SEARCH_KEY_MAX))
    title: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(20))
    description: Mapped[str | None] = mapped_column(Text)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    language: Mapped[str] = mapped_column(String(2), default="es")
    confidentiality: Mapped[str] = mapped_column(String(12), default="normal")
    review_interval_months: Mapped[int] = mapped_column(Integer, default=12)
    next_review_date: Mapped[date | None] = mapped_column(Date, index=True)
    retention_years: Mapped[int | None] = mapped_column(Integer)  # None: keep permanently
    status: Mapped[str] = mapped_column(String(12), default="draft")
    # The latest approved version; the one in force on a given day is derived from effective dates.
    current_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("document_versions.id", use_alter=True, name="fk_documents_current_version_id")
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    withdrawn_reason: Mapped[str | None] = mapped_column(Text)

    owner: Mapped[User] = relationship(foreign_keys=[owner_id])
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    withdrawn_by: Mapped[User | None] = relationship(foreign_keys=[withdrawn_by_id])
    clauses: Mapped[list[Clause]] = relationship(secondary=document_clauses, order_by="Clause.sort_key")
    shared_with: Mapped[list[User]] = relationship(secondary=document_shares)
    # Where the document belongs; none of either means the whole organisation.
    sites: Mapped[list[Site]] = relationship(secondary=document_sites, order_by="Site.code")
    processes: Mapped[list[Process]] = relationship(secondary=document_processes, order_by="Process.code")
    versions: Mapped[list[DocumentVersion]] = relationship(
        back_populates="document", foreign_keys="DocumentVersion.document_id",
        order_by="DocumentVersion.number.desc()",
    )
    current_version: Mapped[DocumentVersion | None] = relationship(
        foreign_keys=[current_version_id], post_update=True
    )

    __table_args__ = (
        one_of("kind", KINDS), one_of("status", DOC_STATUSES), one_of("language", LANGUAGES),
        one_of("confidentiality", CONFIDENTIALITY),
        # The register's sort orders, each ending in the id so that a page can start after any row (keyset).
        Index("ix_documents_title_id", "title", "id"),
        Index("ix_documents_created_at_id", "created_at", "id"),
        # Overdue reviews, soonest first. No index on status or kind alone: a handful of values, which a planner
        # without statistics takes for selective and walks row by row.
        Index("ix_documents_status_next_review_date", "status", "next_review_date", "id"),
    )


REVIEW_ORDER = func.coalesce(Document.next_review_date, literal_column(f"'{NO_REVIEW_DATE}'"))
Index("ix_documents_review_order", REVIEW_ORDER, Document.id)


@event.listens_for(Document, "before_insert")
@event.listens_for(Document, "before_update")
def _derive_keys(_mapper: Any, _connection: Any, doc: Document) -> None:
    """Keep the code key and search text in step with code and title, whatever path wrote them."""
    doc.code_key = code_key(doc.code)
    doc.search_key = search_key(doc.code, doc.title)


class DocumentVersion(Model):
    """One uploaded file: immutable bytes (by SHA-256) plus its approval history."""

    __tablename__ = "document_versions"
    __table_args__ = (UniqueConstraint("document_id", "number"), one_of("status", VERSION_STATUSES),
                      # Drafts awaiting approval, oldest first: a partial index as small as the queue itself.
                      Index("ix_document_versions_drafts", "uploaded_at", "id",
                            sqlite_where=text("status = 'draft'"), postgresql_where=text("status = 'draft'")))

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    revision_label: Mapped[str | None] = mapped_column(String(40))
    original_filename: Mapped[str] = mapped_column(String(300))
    mime_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    change_note: Mapped[str | None] = mapped_column(Text)
    effective_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12), default="draft")
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    rejected_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    rejected_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    rejected_reason: Mapped[str | None] = mapped_column(Text)
    superseded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    document: Mapped[Document] = relationship(back_populates="versions", foreign_keys=[document_id])
    uploaded_by: Mapped[User] = relationship(foreign_keys=[uploaded_by_id])
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])
    rejected_by: Mapped[User | None] = relationship(foreign_keys=[rejected_by_id])

    @property
    def label(self) -> str:
        """The organisation's own revision mark when given, else our number."""
        return self.revision_label or f"v{self.number}"


class DocumentReview(Model):
    """A periodic review that confirmed the document without changing it."""

    __tablename__ = "document_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    reviewed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    note: Mapped[str | None] = mapped_column(Text)
    previous_review_date: Mapped[date | None] = mapped_column(Date)
    next_review_date: Mapped[date] = mapped_column(Date)

    reviewed_by: Mapped[User] = relationship()
    document: Mapped[Document] = relationship()


def _version_blobs() -> Iterator[tuple[str, int | None, str]]:
    """Each version's hash and size, named as people know it: "PR-QA-001 v3 (Rev. 3)"."""
    rows = db.session.execute(
        select(Document.code, DocumentVersion.number, DocumentVersion.revision_label, DocumentVersion.sha256,
               DocumentVersion.size)
        .join(Document, Document.id == DocumentVersion.document_id)
        .order_by(Document.code, DocumentVersion.number)
    )
    for code, number, label, sha, size in rows:
        yield sha, size, f"{code} v{number}" + (f" ({label})" if label else "")


register(BlobRef("document_versions", upload_action="version.upload", labels=_version_blobs))
