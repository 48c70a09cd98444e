"""The controlled documents a pack cites: every version in force on some day of the period, per clause, and the
evidence files those versions are.

Why one read: the documents of every chosen clause come in four statements (the documents, their versions, the
approvers, the clause mappings), whatever the number of clauses or documents; the lifecycle rule of "in force on
day D" then decides, in memory, which versions the period saw.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, exists, or_, select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..labels import STATUS_LABELS
from ..models import Document, DocumentVersion, document_clauses
from ..models.documents import EVER_APPROVED
from ..policy import AccessScope
from ..services import lifecycle
from ..timeutil import end_of_local_day, to_local
from .content import EvidenceFile, TableBlock
from .places import Places
from .spec import PackSpec

HASH_PREFIX = 12
_WINDOWS_RESERVED = frozenset({"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
                               *(f"LPT{i}" for i in range(1, 10))})
_UNSAFE = frozenset('/\\<>:"|?*')
_NAME_MAX = 120  # characters per path part: far under every file system's 255 bytes, even in UTF-8


@dataclass(frozen=True)
class Cited:
    """One version the pack cites, with the document it belongs to."""

    document: Document
    version: DocumentVersion


def versions_in_period(doc: Document, start: date, end: date) -> list[DocumentVersion]:
    """The versions in force on any day of [start, end]: the one in force on the first day, then each one taking
    effect inside the period that is in force on its own first day (what is in force only changes on those days)."""
    later = {v.effective_date for v in doc.versions if v.status in EVER_APPROVED and v.effective_date is not None
             and start < v.effective_date <= end}
    days = [start, *sorted(later)]
    found: dict[int, DocumentVersion] = {}
    for day in days:
        version = lifecycle.in_force(doc, day)
        if version is not None:
            found[version.number] = version
    return [found[n] for n in sorted(found)]


def _could_be_in_force(spec: PackSpec) -> list[ColumnElement[bool]]:
    """SQL conditions on Document that every document with a version in force in the period meets."""
    return [exists().where(DocumentVersion.document_id == Document.id, DocumentVersion.status.in_(EVER_APPROVED),
                           DocumentVersion.effective_date <= spec.date_to),
            or_(Document.withdrawn_at.is_(None), Document.withdrawn_at > end_of_local_day(spec.date_from))]


def cited_by_clause(spec: PackSpec, scope: AccessScope, places: Places,
                    clause_ids: list[int]) -> dict[int, list[Cited]]:
    """Per clause id: the versions in force during the period of the documents mapped to it that the scope sees and
    that concern the pack's places, ordered by document code then version number."""
    if not clause_ids:
        return {}
    mapped = select(document_clauses.c.document_id).where(document_clauses.c.clause_id.in_(clause_ids))
    docs = db.session.scalars(
        select(Document).where(Document.id.in_(mapped), scope.document_condition(), places.document_condition(),
                               *_could_be_in_force(spec))
        .options(selectinload(Document.versions).selectinload(DocumentVersion.approved_by))
        .order_by(Document.code)).all()
    cited = {d.id: [Cited(d, v) for v in versions_in_period(d, spec.date_from, spec.date_to)] for d in docs}
    pairs = db.session.execute(select(document_clauses.c.clause_id, document_clauses.c.document_id)
                               .where(document_clauses.c.clause_id.in_(clause_ids))).all()
    out: dict[int, list[Cited]] = defaultdict(list)
    for clause_id, doc_id in pairs:
        out[clause_id].extend(cited.get(doc_id, []))
    for rows in out.values():
        rows.sort(key=lambda c: (c.document.code, c.version.number))
    return dict(out)


def _status(cited: Cited, spec: PackSpec) -> str:
    """How the version ended the period: in force, superseded or withdrawn (with the day it happened)."""
    state = lifecycle.version_state(cited.version, cited.document, spec.date_to)
    if state.key == lifecycle.SUPERSEDED and state.since is not None:
        return str(_("Superseded on %(day)s", day=state.since.isoformat()))
    if state.key == lifecycle.WITHDRAWN and state.since is not None:
        return str(_("Withdrawn on %(day)s", day=state.since.isoformat()))
    if state.key == lifecycle.IN_FORCE:
        return str(STATUS_LABELS["active"])
    return str(STATUS_LABELS.get(state.key, state.key))


def documents_table(rows: list[Cited], spec: PackSpec) -> TableBlock:
    """The clause's controlled documents as printed."""
    columns = (_("Code"), _("Title"), _("Version"), _("Effective date"), _("Approved by"), _("Approved on"),
               "SHA-256", _("Status"))
    cells: list[tuple[str, ...]] = []
    for c in rows:
        v = c.version
        approved_on = to_local(v.approved_at).date().isoformat() if v.approved_at is not None else ""
        cells.append((c.document.code, c.document.title, v.label,
                      v.effective_date.isoformat() if v.effective_date else "",
                      v.approved_by.name if v.approved_by is not None else "", approved_on,
                      v.sha256[:HASH_PREFIX], _status(c, spec)))
    return TableBlock(caption=_("Controlled documents"), columns=columns, rows=cells)


def safe_part(text: str) -> str:
    """One path part any file system accepts: NFC, no separators, control or reserved characters, no '.' or '..',
    no reserved Windows device name, no trailing dot or space, not too long (the extension kept)."""
    text = unicodedata.normalize("NFC", text)
    cleaned = "".join("_" if ch in _UNSAFE or unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") else ch
                      for ch in text).strip().rstrip(". ")
    if not cleaned or set(cleaned) <= {"."}:
        cleaned = "_"
    if cleaned.split(".", 1)[0].upper() in _WINDOWS_RESERVED:
        cleaned = "_" + cleaned
    if len(cleaned) > _NAME_MAX:
        stem, dot, ext = cleaned.rpartition(".")
        if dot and 0 < len(ext) <= 16:
            cleaned = stem[:_NAME_MAX - len(ext) - 1].rstrip(". ") + "." + ext
        else:
            cleaned = cleaned[:_NAME_MAX].rstrip(". ")
    return cleaned


def _numbered(name: str, n: int) -> str:
    """"file (2).pdf": the n-th file of the same name in a folder."""
    stem, dot, ext = name.rpartition(".")
    return f"{stem} ({n}).{ext}" if dot and stem else f"{name} ({n})"


def evidence_files(cited: list[Cited]) -> list[EvidenceFile]:
    """Each cited version once, at a unique safe path (case-insensitively unique too), in path order."""
    seen: dict[int, Cited] = {}
    for c in cited:
        seen.setdefault(c.version.id, c)
    taken: set[str] = set()
    files = []
    for c in sorted(seen.values(), key=lambda c: (c.document.code, c.version.number)):
        folder = f"evidence/{safe_part(c.document.code)}/{safe_part(c.version.label)}/"
        name = safe_part(c.version.original_filename)
        path, n = folder + name, 1
        while path.casefold() in taken:
            n += 1
            path = folder + _numbered(name, n)
        taken.add(path.casefold())
        files.append(EvidenceFile(path=path, document=c.document.code, title=c.document.title,
                                  version=c.version.label, size=c.version.size, sha256=c.version.sha256))
    return sorted(files, key=lambda f: f.path)
