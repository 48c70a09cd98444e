"""Controlled documents: create, add versions, approve, reject, withdraw, review, map clauses — all audited."""

from __future__ import annotations

import calendar
import re
from collections.abc import Sequence
from datetime import date
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ..db import advisory_lock
from ..events import announce
from ..extensions import db
from ..labels import VERSION_STATUS_LABELS
from ..models import Clause, Document, DocumentReview, DocumentVersion, Process, Site, Standard, User
from ..models.documents import CONFIDENTIALITY, KINDS, LANGUAGES
from ..policy import Refusal, scope_of
from ..textnorm import code_key
from ..timeutil import local_today, to_local, utcnow
from . import Forbidden, ServiceError, audit
from .doc_placement import codes, resolve_processes, resolve_sites
from .uploads import Checked

CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,59}$")
MIN_DATE, MAX_DATE = date(1990, 1, 1), date(2100, 12, 31)  # effective dates outside are typing mistakes
LABEL_MAX = 40


class ShownDate:
    """A date inside a message, written as every page writes dates (the app's one display filter, in the reader's
    language) when the message is read, not as ISO text."""

    def __init__(self, day: date) -> None:
        self.day = day

    def __str__(self) -> str:
        return str(current_app.jinja_env.filters["d"](self.day))


def add_months(day: date, months: int) -> date:
    """Calendar arithmetic for review intervals (31 Jan + 1 month = 28/29 Feb)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _allow(refusal: Refusal) -> None:
    """Raise the policy's refusal as a 403 the user reads."""
    if refusal is not None:
        raise Forbidden(refusal)


def _clean_label(label: str | None) -> str | None:
    label = " ".join((label or "").split())[:LABEL_MAX]
    return label or None


def resolve_clauses(ids_or_refs: Sequence[int | str | Clause]) -> list[Clause]:
    """Clause ids, or refs written with their edition ('ISO 37001:2016 8.7'), to Clause rows."""
    result: list[Clause] = []
    for item in ids_or_refs:
        if isinstance(item, Clause):
            result.append(item)
            continue
        clause: Clause | None
        if isinstance(item, int) or (str(item).isascii() and str(item).isdigit()):
            clause_id = int(item)
            clause = db.session.get(Clause, clause_id) if 0 < clause_id < 2**31 else None
        else:
            ref = " ".join(str(item).split())
            code, _sep, number = ref.rpartition(" ")
            clause = db.session.scalar(
                select(Clause).join(Standard).where(Standard.code == code, Clause.number == number)
            )
        if clause is None:
            raise ServiceError(_l("Unknown clause “%(ref)s”: write it with its edition, e.g. "
                                  "“ISO 37001:2016 8.7”.", ref=str(item)))
        if clause not in result:
            result.append(clause)
    return result


def create_document(
    *, code: str, title: str, kind: str, owner: User, actor: User, language: str = "es",
    confidentiality: str = "normal", review_interval_months: int = 12, retention_years: int | None = None,
    clauses: Sequence[int | str | Clause] | None = None, description: str | None = None,
    sites: Sequence[int | str | Site] | None = None, processes: Sequence[int | str | Process] | None = None,
) -> Document:
    """Register a document (no version yet); the code is the organisation's unique identifier. No sites and no
    processes: it concerns the whole organisation."""
    _allow(scope_of(actor).refuse_create_document())
    code = (code or "").strip()
    if not CODE_RE.match(code):
        raise ServiceError(_l("The code “%(code)s” is not valid: use letters, digits and - _ . / "
                              "(e.g. PR-QA-001).", code=code))
    title = " ".join((title or "").split())
    if not title:
        raise ServiceError(_l("A title is required."))
    if kind not in KINDS or language not in LANGUAGES or confidentiality not in CONFIDENTIALITY:
        raise ServiceError(_l("Unknown kind, language or confidentiality."))
    if not 1 <= int(review_interval_months) <= 120:
        raise ServiceError(_l("The review interval must be between 1 and 120 months."))
    _lock_code(code)
    if db.session.scalar(select(Document.id).where(Document.code_key == code_key(code))):
        raise ServiceError(_l("A document with the code %(code)s already exists.", code=code), 409)
    doc = Document(code=code, title=title[:300], kind=kind, owner_id=owner.id, language=language,
                   confidentiality=confidentiality, review_interval_months=int(review_interval_months),
                   retention_years=retention_years, status="draft", created_by_id=actor.id,
                   description=(description or "").strip() or None, created_at=utcnow())
    doc.clauses = resolve_clauses(clauses or [])
    doc.sites, doc.processes = resolve_sites(sites or []), resolve_processes(processes or [])
    db.session.add(doc)
    db.session.flush()
    audit.record("document.create", "document", doc.code, actor=actor, new={
        "title": doc.title, "kind": kind, "owner": owner.email, "language": language,
        "confidentiality": confidentiality, "clauses": [c.ref for c in doc.clauses],
        "sites": codes(doc.sites), "processes": codes(doc.processes),
    })
    announce("document", doc.id, "create")
    return doc


_PG_CODE_LOCK = 0x444F4353  # "DOCS": namespace of the per-code advisory locks


def _lock_code(code: str) -> None:
    """Serialise registrations of one code, so a simultaneous duplicate gets the clear 409, not a unique-key crash
    (PostgreSQL: a transaction-level advisory lock; SQLite writers already hold BEGIN IMMEDIATE)."""
    advisory_lock(_PG_CODE_LOCK, code_key(code))


def _lock_document(doc: Document, *versions: DocumentVersion) -> Document:
    """Serialise changes to one document and re-read it under the lock, so a decision never rests on a stale read
    (row lock on PostgreSQL; SQLite writers already hold BEGIN IMMEDIATE for the whole transaction)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.refresh(doc, with_for_update=True)
        for version in versions:
            db.session.refresh(version)
    return doc


def add_version(
    doc: Document, checked: Checked, *, actor: User, change_note: str | None = None,
    revision_label: str | None = None, effective_date: date | None = None,
) -> DocumentVersion:
    """Append a draft version with the next number; the blob is already stored."""
    _allow(scope_of(actor).refuse_upload(doc))
    if doc.status == "obsolete":
        raise ServiceError(_l("The document %(code)s was withdrawn; it takes no new versions.", code=doc.code),
                           409)
    _lock_document(doc)
    number = (db.session.scalar(
        select(func.max(DocumentVersion.number)).where(DocumentVersion.document_id == doc.id)) or 0) + 1
    version = DocumentVersion(
        document_id=doc.id, number=number, revision_label=_clean_label(revision_label),
        original_filename=checked.display_name, mime_type=checked.mime_type, size=checked.size,
        sha256=checked.sha256, uploaded_by_id=actor.id, uploaded_at=utcnow(),
        change_note=(change_note or "").strip() or None, effective_date=effective_date, status="draft",
    )
    db.session.add(version)
    db.session.flush()
    audit.record("version.upload", "document_version", f"{doc.code}#{number}", actor=actor, new={
        "document": doc.code, "number": number, "label": version.revision_label,
        "filename": checked.display_name, "sha256": checked.sha256, "size": checked.size,
        "mime": checked.mime_type, "effective_date": effective_date, "note": version.change_note,
    })
    announce("document_version", version.id, "upload")
    return version


def approve(version: DocumentVersion, *, actor: User, effective_date: date | None = None) -> None:
    """Approve a draft (not by its uploader). The previous approved version is stored "superseded" now, as the
    decision the trail replays; it stays in force until this one's effective date (services.lifecycle decides what
    is shown, from dates)."""
    doc = version.document
    scope = scope_of(actor)
    if not scope.can("approve_documents"):  # not an approver at all: said before anything about the version
        _allow(scope.refuse_approve(version))
    if version.status != "draft":
        raise ServiceError(_l("Only a draft can be approved; this version is %(status)s.",
                              status=str(VERSION_STATUS_LABELS[version.status]).lower()), 409)
    _allow(scope.refuse_approve(version))  # segregation of duties
    _lock_document(doc, version)
    if version.status != "draft":  # decided by someone else meanwhile
        raise ServiceError(_l("Only a draft can be approved; this version is %(status)s.",
                              status=str(VERSION_STATUS_LABELS[version.status]).lower()), 409)
    if doc.status == "obsolete":
        raise ServiceError(_l("The document was withdrawn; its versions cannot be approved."), 409)
    previous = db.session.get(DocumentVersion, doc.current_version_id) if doc.current_version_id else None
    if previous is not None and previous.number > version.number:
        raise ServiceError(_l("A newer version (%(label)s) is already approved; upload this file again "
                              "as a new version if it should replace it.", label=previous.label), 409)
    now = utcnow()
    effective = effective_date or version.effective_date or local_today()
    if not MIN_DATE <= effective <= MAX_DATE:
        raise ServiceError(_l("The effective date must be between %(start)s and %(end)s.",
                              start=ShownDate(MIN_DATE), end=ShownDate(MAX_DATE)))
    if previous is not None and previous.effective_date and effective < previous.effective_date:
        raise ServiceError(_l("The effective date cannot be earlier than that of version %(label)s "
                              "(%(date)s), which it replaces.", label=previous.label,
                              date=ShownDate(previous.effective_date)))
    version.status, version.approved_by_id, version.approved_at = "approved", actor.id, now
    version.effective_date = effective
    if previous is not None and previous.status == "approved":
        previous.status, previous.superseded_at = "superseded", now
    old_review = doc.next_review_date
    doc.current_version = version
    doc.status = "active"
    doc.next_review_date = add_months(effective, doc.review_interval_months)
    db.session.flush()
    audit.record("version.approve", "document_version", f"{doc.code}#{version.number}", actor=actor,
                 old={"status": "draft", "current": previous.number if previous else None,
                      "next_review_date": old_review},
                 new={"status": "approved", "effective_date": effective, "current": version.number,
                      "superseded": previous.number if previous else None,
                      "next_review_date": doc.next_review_date})
    announce("document_version", version.id, "approve")
    if previous is not None:
        announce("document_version", previous.id, "supersede")


def reject(version: DocumentVersion, *, actor: User, reason: str) -> None:
    """Reject a draft with a reason; a corrected file comes back as a new version."""
    reason = (reason or "").strip()
    _allow(scope_of(actor).refuse_reject(version))
    if len(reason) < 5:
        raise ServiceError(_l("Give a reason for the rejection (at least 5 characters)."))
    _lock_document(version.document, version)
    if version.status != "draft":
        raise ServiceError(_l("Only a draft can be rejected."), 409)
    version.status, version.rejected_by_id = "rejected", actor.id
    version.rejected_at, version.rejected_reason = utcnow(), reason
    audit.record("version.reject", "document_version", f"{version.document.code}#{version.number}",
                 actor=actor, old={"status": "draft"}, new={"status": "rejected", "reason": reason})
    announce("document_version", version.id, "reject")


def withdraw(doc: Document, *, actor: User, reason: str) -> None:
    """Mark the document obsolete with a reason; every version stays downloadable."""
    reason = (reason or "").strip()
    _allow(scope_of(actor).refuse_withdraw(doc))
    if doc.status == "obsolete":
        raise ServiceError(_l("The document is already withdrawn."), 409)
    if len(reason) < 5:
        raise ServiceError(_l("Give a reason for the withdrawal (at least 5 characters)."))
    _lock_document(doc, *doc.versions)
    if doc.status == "obsolete":
        raise ServiceError(_l("The document is already withdrawn."), 409)
    now = utcnow()
    old_status = doc.status
    doc.status, doc.withdrawn_at, doc.withdrawn_by_id, doc.withdrawn_reason = "obsolete", now, actor.id, reason
    before, after = {}, {}
    for v in doc.versions:
        if v.status == "approved":
            before[v.number], after[v.number] = v.status, "obsolete"
            v.status, v.superseded_at = "obsolete", now
        elif v.status == "draft":
            before[v.number], after[v.number] = v.status, "rejected"
            v.status, v.rejected_by_id, v.rejected_at, v.rejected_reason = "rejected", actor.id, now, reason
    audit.record("document.withdraw", "document", doc.code, actor=actor,
                 old={"status": old_status, "versions": before},
                 new={"status": "obsolete", "reason": reason, "versions": after})
    announce("document", doc.id, "withdraw")


def record_review(doc: Document, *, actor: User, note: str | None = None) -> DocumentReview:
    """A periodic review without change: kept as an event and moves the next review date."""
    _allow(scope_of(actor).refuse_review(doc))
    if doc.status != "active":
        raise ServiceError(_l("Only a document in force can be reviewed."), 409)
    today = local_today()
    review = DocumentReview(document_id=doc.id, reviewed_by_id=actor.id, reviewed_at=utcnow(),
                            note=(note or "").strip() or None, previous_review_date=doc.next_review_date,
                            next_review_date=add_months(today, doc.review_interval_months))
    db.session.add(review)
    audit.record("document.review", "document", doc.code, actor=actor,
                 old={"next_review_date": doc.next_review_date},
                 new={"next_review_date": review.next_review_date, "note": review.note})
    doc.next_review_date = review.next_review_date
    db.session.flush()
    announce("document", doc.id, "review")
    return review


def set_clauses(doc: Document, clauses: Sequence[int | str | Clause], *, actor: User) -> bool:
    """Replace the clauses a document serves; audited with old and new refs. Returns True if changed."""
    _allow(scope_of(actor).refuse_map_clauses(doc))
    new = resolve_clauses(clauses)
    old_refs, new_refs = sorted(c.ref for c in doc.clauses), sorted(c.ref for c in new)
    if old_refs == new_refs:
        return False
    doc.clauses = new
    audit.record("document.clauses", "document", doc.code, actor=actor,
                 old={"clauses": old_refs}, new={"clauses": new_refs})
    announce("document", doc.id, "clauses")
    return True


def add_clauses_to_many(docs: list[Document], clauses: Sequence[Clause], *, actor: User) -> int:
    """Bulk mapping from the register: add clauses to several documents (one audited change per document that
    gains any); returns how many changed."""
    changed = 0
    for doc in docs:
        missing = [c for c in clauses if c not in doc.clauses]
        if missing and set_clauses(doc, [*doc.clauses, *missing], actor=actor):
            changed += 1
    return changed


EDITABLE = ("title", "description", "owner_id", "language", "confidentiality", "review_interval_months",
            "retention_years", "kind")
# Who sees a document is the owner's (or an admin's) decision, not any editor's.
ACCESS_FIELDS = ("owner_id", "confidentiality")


def _review_basis(doc: Document) -> date | None:
    """The day the current review cycle started: the last periodic review, else the in-force version's date."""
    last = db.session.scalar(select(func.max(DocumentReview.reviewed_at)).where(DocumentReview.document_id == doc.id))
    if last is not None:
        return to_local(last).date()
    current = db.session.get(DocumentVersion, doc.current_version_id) if doc.current_version_id else None
    return current.effective_date if current else None


def update_metadata(doc: Document, changes: dict[str, Any], *, actor: User,
                    shared_with: list[User] | None = None, sites: Sequence[int | str | Site] | None = None,
                    processes: Sequence[int | str | Process] | None = None) -> None:
    """Change descriptive metadata (never content) and where the document belongs (None: unchanged); audited with
    old and new values."""
    scope = scope_of(actor)
    _allow(scope.refuse_edit_details(doc))
    old: dict[str, object] = {}
    new: dict[str, object] = {}
    for key, value in changes.items():
        if key not in EDITABLE:
            raise ServiceError(_l("Unknown field."))
        if key in ACCESS_FIELDS and getattr(doc, key) != value:
            _allow(scope.refuse_change_access(doc))
        if key == "title":
            value = " ".join((value or "").split())[:300]
            if not value:
                raise ServiceError(_l("A title is required."))
        if getattr(doc, key) != value:
            old[key], new[key] = getattr(doc, key), value
            setattr(doc, key, value)
    if shared_with is not None:
        before = sorted(u.email for u in doc.shared_with)
        after = sorted(u.email for u in shared_with)
        if before != after:
            _allow(scope.refuse_change_access(doc))
            old["shared_with"], new["shared_with"] = before, after
            doc.shared_with = list(shared_with)
    _place(doc, sites, processes, old, new)
    if "review_interval_months" in new and doc.status == "active" and (basis := _review_basis(doc)):
        old["next_review_date"] = doc.next_review_date
        doc.next_review_date = new["next_review_date"] = add_months(basis, doc.review_interval_months)
    if new:
        audit.record("document.update", "document", doc.code, actor=actor, old=old, new=new)
        announce("document", doc.id, "update")


def _place(doc: Document, sites: Sequence[int | str | Site] | None,
           processes: Sequence[int | str | Process] | None, old: dict[str, object], new: dict[str, object]) -> None:
    """Replace the sites and processes given, noting the codes before and after of those that changed."""
    if sites is not None:
        chosen = resolve_sites(sites, kept=doc.sites)
        if codes(chosen) != codes(doc.sites):
            old["sites"], new["sites"] = codes(doc.sites), codes(chosen)
            doc.sites = chosen
    if processes is not None:
        picked = resolve_processes(processes, kept=doc.processes)
        if codes(picked) != codes(doc.processes):
            old["processes"], new["processes"] = codes(doc.processes), codes(picked)
            doc.processes = picked


def record_access(action: str, version: DocumentVersion | None, doc: Document, actor: User) -> None:
    """Append an access receipt (view/download); the one side effect a GET may have."""
    object_id = f"{doc.code}#{version.number}" if version else doc.code
    audit.record(action, "document_version" if version else "document", object_id, actor=actor,
                 new={"sha256": version.sha256} if version else None)
