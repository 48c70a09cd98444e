"""Controlled documents: create, add versions, approve, reject, withdraw, review, map clauses — all audited."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import date

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, text

from ..extensions import db
from ..labels import VERSION_STATUS_LABELS
from ..models import Clause, Document, DocumentReview, DocumentVersion, Standard, User
from ..models.documents import CONFIDENTIALITY, KINDS, LANGUAGES
from ..permissions import can
from ..storage import BlobStore, BlobWriter, EmptyUpload, UploadTooLarge
from ..timeutil import local_today, utcnow
from ..uploads import DEFAULT_ALLOWED, UploadRejected, check_name, sniff
from . import Forbidden, ServiceError, audit
from .visibility import can_see_document

CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,59}$")
LABEL_MAX = 40


def get_store() -> BlobStore:
    """The app's blob store (one per data dir)."""
    return current_app.extensions["auditdocs.store"]


def allowed_extensions() -> tuple[str, ...]:
    """The configured allow-list, or the default one."""
    return current_app.config.get("ALLOWED_EXTENSIONS") or DEFAULT_ALLOWED


def add_months(day: date, months: int) -> date:
    """Calendar arithmetic for review intervals (31 Jan + 1 month = 28/29 Feb)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass
class Incoming:
    """An uploaded file already streamed into the store's temp area, not yet committed."""

    filename: str | None
    writer: BlobWriter

    @classmethod
    def from_path(cls, path: object, filename: str | None = None) -> Incoming:
        """Stream a local file into a writer (imports, demo data, tests)."""
        from pathlib import Path

        path = Path(str(path))
        writer = get_store().writer(current_app.config["MAX_UPLOAD_BYTES"])
        try:
            with path.open("rb") as fh:
                while chunk := fh.read(1024 * 1024):
                    writer.write(chunk)
        except BaseException:
            writer.discard()
            raise
        return cls(filename or path.name, writer)


@dataclass
class Checked:
    """A validated upload: display name, mime type, blob (stored, or still in the temp area until `store`)."""

    display_name: str
    mime_type: str
    sha256: str
    size: int
    writer: BlobWriter | None = field(default=None, repr=False, compare=False)


def check_upload(incoming: Incoming) -> Checked:
    """Validate name and content without storing; a refusal leaves no file behind.

    The web views store the blob with `store` at the end of the transaction that adds its rows, so a refusal
    in between (a withdrawn document, a duplicate code) leaves no orphan object either.
    """
    writer = incoming.writer
    try:
        name, ext = check_name(incoming.filename, allowed_extensions())
        if writer.size == 0:
            raise UploadRejected("empty", _l("The file “%(name)s” is empty."), name=name)
        writer.flush()
        mime = sniff(writer.path, ext, name=name)
        writer.sync()  # the slow part happens before any database lock is taken
    except UploadRejected as exc:
        writer.discard()
        raise ServiceError(exc.text(), 400) from None
    except UploadTooLarge:
        writer.discard()
        raise ServiceError(_l("The file is larger than the limit of %(mb)s MB. Nothing was saved.",
                              mb=current_app.config["MAX_UPLOAD_MB"]), 413) from None
    except BaseException:
        writer.discard()
        raise
    return Checked(name, mime, writer.sha256, writer.size, writer)


def store(checked: Checked) -> Checked:
    """Commit a checked upload's bytes into the store (fsync, rename; identical bytes are kept once)."""
    writer = checked.writer
    if writer is None:
        return checked
    try:
        writer.commit()
    except EmptyUpload:
        raise ServiceError(_l("The file is empty."), 400) from None
    except BaseException:
        writer.discard()
        raise
    return checked


def discard(checked: Checked | None) -> None:
    """Drop a checked upload that will not be used (no-op once stored)."""
    if checked is not None and checked.writer is not None:
        checked.writer.discard()


def check_and_store(incoming: Incoming) -> Checked:
    """Validate name and content, then commit the blob; a refusal leaves no file behind."""
    return store(check_upload(incoming))


def _clean_label(label: str | None) -> str | None:
    label = " ".join((label or "").split())[:LABEL_MAX]
    return label or None


def resolve_clauses(ids_or_refs: list) -> list[Clause]:
    """Clause ids, or refs written with their edition ('ISO 37001:2016 8.7'), to Clause rows."""
    result: list[Clause] = []
    for item in ids_or_refs:
        if isinstance(item, Clause):
            result.append(item)
            continue
        if isinstance(item, int) or str(item).isdigit():
            clause = db.session.get(Clause, int(item))
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
    clauses: list | None = None, description: str | None = None,
) -> Document:
    """Register a document (no version yet); the code is the organisation's unique identifier."""
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
    if db.session.scalar(select(Document.id).where(func.lower(Document.code) == code.lower())):
        raise ServiceError(_l("A document with the code %(code)s already exists.", code=code), 409)
    doc = Document(code=code, title=title[:300], kind=kind, owner_id=owner.id, language=language,
                   confidentiality=confidentiality, review_interval_months=int(review_interval_months),
                   retention_years=retention_years, status="draft", created_by_id=actor.id,
                   description=(description or "").strip() or None, created_at=utcnow())
    doc.clauses = resolve_clauses(clauses or [])
    db.session.add(doc)
    db.session.flush()
    audit.record("document.create", "document", doc.code, actor=actor, new={
        "title": doc.title, "kind": kind, "owner": owner.email, "language": language,
        "confidentiality": confidentiality, "clauses": [c.ref for c in doc.clauses],
    })
    return doc


_PG_CODE_LOCK = 0x444F4353  # "DOCS": namespace of the per-code advisory locks


def _lock_code(code: str) -> None:
    """Serialise registrations of one code, so a simultaneous duplicate gets the clear 409, not a unique-key crash
    (PostgreSQL: a transaction-level advisory lock; SQLite writers already hold BEGIN IMMEDIATE)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:ns, hashtext(:code))"),
                           {"ns": _PG_CODE_LOCK, "code": code.lower()})


def _lock_document(doc: Document) -> Document:
    """Serialise version numbering per document (row lock on PostgreSQL; BEGIN IMMEDIATE on SQLite)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(Document.id).where(Document.id == doc.id).with_for_update())
    return doc


def add_version(
    doc: Document, checked: Checked, *, actor: User, change_note: str | None = None,
    revision_label: str | None = None, effective_date: date | None = None,
) -> DocumentVersion:
    """Append a draft version with the next number; the blob is already stored."""
    if not can(actor, "upload_documents") or not can_see_document(actor, doc):
        raise Forbidden(_l("You may not upload versions of this document."))
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
    return version


def approve(version: DocumentVersion, *, actor: User, effective_date: date | None = None) -> None:
    """Approve a draft (not by its uploader); it supersedes the previous approved version."""
    doc = version.document
    if not can(actor, "approve_documents"):
        raise Forbidden(_l("Only administrators and quality officers approve documents."))
    if version.status != "draft":
        raise ServiceError(_l("Only a draft can be approved; this version is %(status)s.",
                              status=str(VERSION_STATUS_LABELS[version.status]).lower()), 409)
    if version.uploaded_by_id == actor.id:
        raise Forbidden(_l("Segregation of duties: a version must be approved by someone other than "
                           "the person who uploaded it."))
    if doc.status == "obsolete":
        raise ServiceError(_l("The document was withdrawn; its versions cannot be approved."), 409)
    _lock_document(doc)
    previous = db.session.get(DocumentVersion, doc.current_version_id) if doc.current_version_id else None
    if previous is not None and previous.number > version.number:
        raise ServiceError(_l("A newer version (%(label)s) is already approved; upload this file again "
                              "as a new version if it should replace it.", label=previous.label), 409)
    now = utcnow()
    effective = effective_date or version.effective_date or local_today()
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


def reject(version: DocumentVersion, *, actor: User, reason: str) -> None:
    """Reject a draft with a reason; a corrected file comes back as a new version."""
    reason = (reason or "").strip()
    if not (can(actor, "approve_documents") or version.uploaded_by_id == actor.id):
        raise Forbidden(_l("Only administrators, quality officers or the uploader can reject a draft."))
    if version.status != "draft":
        raise ServiceError(_l("Only a draft can be rejected."), 409)
    if len(reason) < 5:
        raise ServiceError(_l("Give a reason for the rejection (at least 5 characters)."))
    version.status, version.rejected_by_id = "rejected", actor.id
    version.rejected_at, version.rejected_reason = utcnow(), reason
    audit.record("version.reject", "document_version", f"{version.document.code}#{version.number}",
                 actor=actor, old={"status": "draft"}, new={"status": "rejected", "reason": reason})


def withdraw(doc: Document, *, actor: User, reason: str) -> None:
    """Mark the document obsolete with a reason; every version stays downloadable."""
    reason = (reason or "").strip()
    if not can(actor, "withdraw_documents"):
        raise Forbidden(_l("Only administrators and quality officers withdraw documents."))
    if doc.status == "obsolete":
        raise ServiceError(_l("The document is already withdrawn."), 409)
    if len(reason) < 5:
        raise ServiceError(_l("Give a reason for the withdrawal (at least 5 characters)."))
    now = utcnow()
    old_status = doc.status
    doc.status, doc.withdrawn_at, doc.withdrawn_by_id, doc.withdrawn_reason = "obsolete", now, actor.id, reason
    for v in doc.versions:
        if v.status == "approved":
            v.status, v.superseded_at = "obsolete", now
        elif v.status == "draft":
            v.status, v.rejected_by_id, v.rejected_at = "rejected", actor.id, now
            v.rejected_reason = f"Document withdrawn: {reason}"
    audit.record("document.withdraw", "document", doc.code, actor=actor,
                 old={"status": old_status}, new={"status": "obsolete", "reason": reason})


def record_review(doc: Document, *, actor: User, note: str | None = None) -> DocumentReview:
    """A periodic review without change: kept as an event and moves the next review date."""
    if not can(actor, "approve_documents") and doc.owner_id != actor.id:
        raise Forbidden(_l("Only the owner, administrators and quality officers record reviews."))
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
    return review


def set_clauses(doc: Document, clauses: list, *, actor: User) -> bool:
    """Replace the clauses a document serves; audited with old and new refs. Returns True if changed."""
    if not can(actor, "map_clauses"):
        raise Forbidden(_l("Your role cannot change clause mappings."))
    new = resolve_clauses(clauses)
    old_refs, new_refs = sorted(c.ref for c in doc.clauses), sorted(c.ref for c in new)
    if old_refs == new_refs:
        return False
    doc.clauses = new
    audit.record("document.clauses", "document", doc.code, actor=actor,
                 old={"clauses": old_refs}, new={"clauses": new_refs})
    return True


def add_clause_to_many(docs: list[Document], clause: Clause, *, actor: User) -> int:
    """Bulk mapping from the register: add one clause to several documents."""
    changed = 0
    for doc in docs:
        if clause not in doc.clauses and set_clauses(doc, [*doc.clauses, clause], actor=actor):
            changed += 1
    return changed


EDITABLE = ("title", "description", "owner_id", "language", "confidentiality", "review_interval_months",
            "retention_years", "kind")


def update_metadata(doc: Document, changes: dict, *, actor: User, shared_with: list[User] | None = None) -> None:
    """Change descriptive metadata (never content); audited with old and new values."""
    if not can(actor, "upload_documents"):
        raise Forbidden(_l("Your role cannot edit documents."))
    old, new = {}, {}
    for key, value in changes.items():
        if key not in EDITABLE:
            raise ServiceError(_l("Unknown field."))
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
            old["shared_with"], new["shared_with"] = before, after
            doc.shared_with = list(shared_with)
    if new:
        audit.record("document.update", "document", doc.code, actor=actor, old=old, new=new)


def record_access(action: str, version: DocumentVersion | None, doc: Document, actor: User) -> None:
    """Append an access receipt (view/download); the one side effect a GET may have."""
    object_id = f"{doc.code}#{version.number}" if version else doc.code
    audit.record(action, "document_version" if version else "document", object_id, actor=actor,
                 new={"sha256": version.sha256} if version else None)
