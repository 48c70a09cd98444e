"""Where each search hit lives, re-read from the database as the results are shown; hits the reader may no longer
open are dropped.

Why again after the index: the index filter is computed from the database at query time, but the index itself may lag
a change by a moment (a version withdrawn, a file moved); a result page must never link to, or title, something the
person cannot open, and the link must name the exact version (its number), which only the database knows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import (
    Attachment,
    BriberyRisk,
    CorrectiveAction,
    Document,
    DocumentVersion,
    DueDiligence,
    Gift,
    Nonconformity,
)
from ..policy import AccessScope
from ..search.types import SearchHit

# The record kinds a hit (or an attachment's owner) may be, with the rule that says whether the scope sees one.
RECORD_MODELS: dict[str, Any] = {"nonconformity": Nonconformity, "corrective_action": CorrectiveAction,
                                 "bribery_risk": BriberyRisk, "due_diligence": DueDiligence, "gift": Gift}


@dataclass(frozen=True, slots=True)
class Place:
    """The page a hit opens: `page` names it ("version", "nonconformity", "bribery_risk", "due_diligence", "gift"),
    `object_id` is the document id for a version and the record id otherwise, `number` the version's number,
    `anchor` a fragment inside the page ("action-5", "files"), `label` the version label or record reference."""

    page: str
    object_id: int
    number: int | None = None
    anchor: str | None = None
    label: str = ""
    status: str = ""


def _load(model: Any, ids: Iterable[int], *options: Any) -> dict[int, Any]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    return {row.id: row for row in db.session.scalars(select(model).where(model.id.in_(wanted)).options(*options))}


def _sees(scope: AccessScope, kind: str, row: Any) -> bool:
    if kind == "nonconformity":
        return scope.sees_nonconformity(row)
    if kind == "corrective_action":
        return scope.sees_nonconformity(row.nonconformity)
    if kind == "bribery_risk":
        return scope.sees_risk(row)
    if kind == "due_diligence":
        return scope.sees_due_diligence(row)
    if kind == "gift":
        return scope.sees_gift(row)
    return False


def _record_place(kind: str, row: Any, anchor: str | None = None) -> Place:
    if kind == "corrective_action":
        return Place("nonconformity", row.nonconformity_id, anchor=anchor or f"action-{row.id}", label=row.code,
                     status=row.status)
    return Place(kind, row.id, anchor=anchor, label=row.reference, status=getattr(row, "status", ""))


def places(scope: AccessScope, hits: Iterable[SearchHit]) -> dict[str, Place]:
    """The place of every hit this scope may open now, by hit key; a hit missing from the answer is not shown."""
    hits = list(hits)
    by_kind: dict[str, set[int]] = {}
    for hit in hits:
        by_kind.setdefault(hit.kind, set()).add(hit.object_id)
    versions = _load(DocumentVersion, by_kind.get("version", ()),
                     selectinload(DocumentVersion.document).selectinload(Document.shared_with))
    attachments = _load(Attachment, by_kind.get("attachment", ()))
    owners: dict[str, set[int]] = {}
    for row in attachments.values():
        owners.setdefault(row.owner_type, set()).add(row.owner_id)
    records: dict[str, dict[int, Any]] = {}
    for kind, model in RECORD_MODELS.items():
        options = (selectinload(CorrectiveAction.nonconformity),) if kind == "corrective_action" else ()
        records[kind] = _load(model, by_kind.get(kind, set()) | owners.get(kind, set()), *options)
    out: dict[str, Place] = {}
    for hit in hits:
        place = _place(scope, hit, versions, attachments, records)
        if place is not None:
            out[hit.key] = place
    return out


def _place(scope: AccessScope, hit: SearchHit, versions: dict[int, DocumentVersion],
           attachments: dict[int, Attachment], records: dict[str, dict[int, Any]]) -> Place | None:
    if hit.kind == "version":
        version = versions.get(hit.object_id)
        if version is None or not scope.sees_version(version):
            return None
        return Place("version", version.document_id, number=version.number, label=version.label,
                     status=version.status)
    if hit.kind == "attachment":
        attachment = attachments.get(hit.object_id)
        owner = records.get(attachment.owner_type, {}).get(attachment.owner_id) if attachment else None
        if attachment is None or owner is None or not _sees(scope, attachment.owner_type, owner):
            return None
        return _record_place(attachment.owner_type, owner, anchor="files")
    row = records.get(hit.kind, {}).get(hit.object_id)
    if row is None or not _sees(scope, hit.kind, row):
        return None
    return _record_place(hit.kind, row)
