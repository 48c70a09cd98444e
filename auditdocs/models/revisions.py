"""Revisions of structured records: every save appends a snapshot; the record's row is the latest one's projection.

Why: an auditor must see a nonconformity, an action or a risk exactly as it stood on any past day, and what changed
between two saves, with proof that nothing was rewritten (the database refuses UPDATE and DELETE of revisions).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import ClassVar

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from ..timeutil import utcnow
from .users import User


class RecordRevision(Model):
    """One saved state of one record: a canonical JSON snapshot of its fields and that snapshot's SHA-256."""

    __tablename__ = "record_revisions"
    __table_args__ = (UniqueConstraint("entity_type", "entity_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int] = mapped_column(Integer)
    number: Mapped[int] = mapped_column(Integer)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    snapshot: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    change_note: Mapped[str | None] = mapped_column(Text)

    author: Mapped[User | None] = relationship(foreign_keys=[author_id])


class Revisioned:
    """Mixin for a record kept as revisions: name its entity type, the fields a revision holds, who edits it."""

    __entity_type__: ClassVar[str]
    __revision_fields__: ClassVar[tuple[str, ...]]
    __edit_capability__: ClassVar[str]

    id: Mapped[int]
    revision: Mapped[int] = mapped_column(Integer, default=0)  # the number of the revision this row projects


_RECORD_TYPES: dict[str, type[Revisioned]] = {}


def register_record_type(model: type[Revisioned]) -> Callable[[], None]:
    """Declare a revisioned record type (verify checks every one); returns a function that withdraws it (tests)."""
    name = model.__entity_type__
    if name in _RECORD_TYPES:
        raise ValueError(f"record type {name!r} is already registered")
    _RECORD_TYPES[name] = model

    def unregister() -> None:
        _RECORD_TYPES.pop(name, None)

    return unregister


def record_types() -> dict[str, type[Revisioned]]:
    """Every registered record type by entity type."""
    return dict(_RECORD_TYPES)
