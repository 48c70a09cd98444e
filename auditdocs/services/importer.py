"""Bulk import of a shared drive: walk it, read codes/titles/revisions from file names, plan, then import.

Why: this is how an organisation moves in. Every file goes through the same validation, services and audit
events as a web upload, each in its own transaction, so one bad file loses nothing else and a re-run only
adds bytes that are not stored yet.
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
from collections.abc import Callable
from functools import partial
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from ..db import write_transaction
from ..extensions import db
from ..faults import DEVICE, SPACE, storage_fault
from ..filecheck import UploadRejected, check_name, sniff
from ..models import Document, DocumentVersion, User
from ..models.documents import EVER_APPROVED
from ..policy import AccessScope
from ..storage import CHUNK_SIZE, StoreUnwritable, UploadTooLarge
from . import ServiceError
from . import documents as docs
from .import_plan import (
    FileResult,
    Plan,
    PlannedDocument,
    Refused,
    SetupError,
    SourceFile,
    Summary,
    revision_key,
)
from .uploads import Checked, Incoming, allowed_extensions, get_store, ingest

STOPPED = {SPACE: "the disk or the database is full, so the import stopped here; nothing of this file was saved. "
                  "Free some space and run the same import again: files already imported are skipped.",
           DEVICE: "the storage reported an I/O error, so the import stopped here; nothing of this file was saved. "
                   "Have the disk checked, then run the same import again."}


def _user(email: str, option: str) -> User:
    user: User | None = db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    if user is None or not user.active:
        raise SetupError(f"no active account with the e-mail {email}", option)
    return user


def resolve_actors(as_email: str | None, approver_email: str | None) -> tuple[int, int | None]:
    """Uploader (default: the first active admin) and optional approver, checked for roles and segregation."""
    if as_email:
        uploader = _user(as_email, "--as")
    else:
        first_admin: User | None = db.session.scalar(select(User).where(User.role == "admin", User.active.is_(True))
                                                     .order_by(User.id).limit(1))
        if first_admin is None:
            raise SetupError("no administrator account exists: create one (auditdocs create-user EMAIL "
                             "--role admin) or name the uploader with --as EMAIL", "--as")
        uploader = first_admin
    if not AccessScope.of(uploader).can("upload_documents"):
        raise SetupError(f"{uploader.email} ({uploader.role}) may not upload documents", "--as")
    if not approver_email:
        return uploader.id, None
    approver = _user(approver_email, "--approve-as")
    if not AccessScope.of(approver).can("approve_documents"):
        raise SetupError(f"{approver.email} ({approver.role}) may not approve documents: only administrators "
                         "and quality officers do", "--approve-as")
    if approver.id == uploader.id:
        raise SetupError(f"segregation of duties: {approver.email} uploads the versions, so someone else must "
                         "approve them (or leave them as drafts)", "--approve-as")
    return uploader.id, approver.id


def _find(code: str) -> Document | None:
    """The document with this code: exact match first (indexed), then ignoring case as create_document does."""
    return (db.session.scalar(select(Document).where(Document.code == code))
            or db.session.scalar(select(Document).where(func.lower(Document.code) == code.lower())))


def _duplicate_of(sha256: str) -> str | None:
    """'CODE label' of a version that already holds these bytes, in any document."""
    row = db.session.execute(
        select(Document.code, DocumentVersion.number, DocumentVersion.revision_label)
        .join(Document, Document.id == DocumentVersion.document_id)
        .where(DocumentVersion.sha256 == sha256).order_by(DocumentVersion.id).limit(1)).first()
    return f"{row.code} {row.revision_label or f'v{row.number}'}" if row else None


def _too_large() -> str:
    return str(_l("The file is larger than the limit of %(mb)s MB. Nothing was saved.",
                  mb=current_app.config["MAX_UPLOAD_MB"]))


def _open(path: Path) -> io.BufferedReader:
    """Open a regular file without following a symlink swapped in since the walk."""
    try:
        fh = os.fdopen(os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK), "rb")
    except OSError as exc:
        raise Refused(f"cannot be read ({exc.strerror})") from None
    if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
        fh.close()
        raise Refused("not a regular file")
    return fh


def _precheck(code: str, uploader: User) -> None:
    """Refuse before storing anything when the existing document cannot take a version from this user."""
    document = _find(code)
    if document is not None and document.status == "obsolete":
        raise Refused(str(_l("The document %(code)s was withdrawn; it takes no new versions.", code=document.code)))
    if document is not None and not AccessScope.of(uploader).sees_document(document):
        raise Refused(str(_l("You may not upload versions of this document.")))


def _check_only(doc: PlannedDocument, f: SourceFile, seen: dict[str, str]) -> FileResult:
    """Dry run: hash and validate the source file in place; nothing is stored."""
    digest, size = hashlib.sha256(), 0
    with _open(f.path) as fh:
        if os.fstat(fh.fileno()).st_size > current_app.config["MAX_UPLOAD_BYTES"]:
            raise Refused(_too_large())
        try:
            while chunk := fh.read(CHUNK_SIZE):
                digest.update(chunk)
                size += len(chunk)
        except OSError as exc:
            raise Refused(f"cannot be read ({exc.strerror})") from None
    if dup := seen.get(digest.hexdigest()) or _duplicate_of(digest.hexdigest()):
        return FileResult(f.rel, doc.code, f.label, "duplicate", dup)
    if size > current_app.config["MAX_UPLOAD_BYTES"]:
        raise Refused(_too_large())
    try:
        name, ext = check_name(f.name, allowed_extensions())
        if size == 0:
            raise Refused(str(_l("The file “%(name)s” is empty.", name=name)))
        sniff(f.path, ext, name=name)
    except UploadRejected as exc:
        raise Refused(exc.text()) from None
    seen[digest.hexdigest()] = f"{doc.code} {f.label or '(this run)'}"
    return FileResult(f.rel, doc.code, f.label, "imported", "would import")


def _newer_approved(document: Document, version: DocumentVersion, rev: tuple[int, ...]) -> str | None:
    """Label of an approved revision at least as new as this file's mark (then the file stays a draft)."""
    if not rev:
        return None
    labels = db.session.scalars(select(DocumentVersion.revision_label).where(
        DocumentVersion.document_id == document.id, DocumentVersion.id != version.id,
        DocumentVersion.status.in_(EVER_APPROVED)))
    newer = [label for label in labels if label and revision_key(label) >= rev]
    return max(newer, key=revision_key) if newer else None


def _import_one(doc: PlannedDocument, f: SourceFile, uploader_id: int, approver_id: int | None) -> FileResult:
    """Stream, deduplicate, validate, then create/append (and approve) in one transaction."""
    with _open(f.path) as fh:
        writer = get_store().writer(current_app.config["MAX_UPLOAD_BYTES"])
        try:
            while chunk := fh.read(CHUNK_SIZE):
                writer.write(chunk)
        except UploadTooLarge:
            raise Refused(_too_large()) from None
        except StoreUnwritable:
            writer.discard()
            raise
        except OSError as exc:
            writer.discard()
            raise Refused(f"cannot be read ({exc.strerror})") from None
        except BaseException:
            writer.discard()
            raise
    try:
        dup = _duplicate_of(writer.sha256)
    except BaseException:
        writer.discard()
        raise
    if dup:
        writer.discard()
        return FileResult(f.rel, doc.code, f.label, "duplicate", dup)
    try:
        label, detail = ingest(Incoming(f.name, writer), partial(_write_version, doc, f, uploader_id, approver_id))
    except ServiceError as exc:
        raise Refused(str(exc.message)) from None
    except SQLAlchemyError as exc:
        if storage_fault(exc):
            raise
        raise Refused(f"the database refused it: {str(getattr(exc, 'orig', None) or exc).splitlines()[0]}") from None
    return FileResult(f.rel, doc.code, label, "imported", detail)


def _write_version(doc: PlannedDocument, f: SourceFile, uploader_id: int, approver_id: int | None,
                   checked: Checked) -> tuple[str, str]:
    """The rows of one imported file (inside the upload's write transaction): document if new, version, approval."""
    actor = db.session.get_one(User, uploader_id)
    document = _find(doc.code) or docs.create_document(
        code=doc.code, title=doc.title, kind=doc.kind, owner=actor, actor=actor, language=doc.language,
        clauses=doc.clauses)
    version = docs.add_version(document, checked, actor=actor, revision_label=f.label,
                               change_note=f"Imported from {f.rel}")
    detail = "draft"
    if approver_id is not None:
        if newer := _newer_approved(document, version, f.rev):
            detail = f"left as draft: {newer} is already approved (approve it by hand if it replaces it)"
        else:
            docs.approve(version, actor=db.session.get_one(User, approver_id))
            detail = "approved"
    return version.label, detail


def _add_clauses(code: str, refs: list[str], uploader_id: int, dry_run: bool) -> list[str]:
    """Add mapped clauses a document that existed before the run lacks (never removes one)."""
    document = _find(code)
    missing = [c for c in docs.resolve_clauses(refs) if document and c not in document.clauses]
    if missing and not dry_run:
        with write_transaction():
            document = _find(code)
            if document is not None:
                docs.set_clauses(document, [*document.clauses, *docs.resolve_clauses(refs)],
                                 actor=db.session.get_one(User, uploader_id))
    return [c.ref for c in missing]


def run_import(plan: Plan, *, uploader_id: int, approver_id: int | None = None, dry_run: bool = False,
               progress: Callable[[int], None] | None = None) -> Summary:
    """Import (or, dry, only check) every planned file, one transaction each, in plan order."""
    summary = Summary(dry_run=dry_run, ignored=plan.ignored, warnings=list(plan.warnings))
    summary.results += [FileResult(rel, "", None, "rejected", reason) for rel, reason in plan.problems]
    seen: dict[str, str] = {}
    for doc in plan.documents:
        existed = _find(doc.code) is not None
        if existed:
            summary.existing.append(doc.code)
        for f in doc.files:
            try:
                _precheck(doc.code, db.session.get_one(User, uploader_id))
                result = _check_only(doc, f, seen) if dry_run else _import_one(doc, f, uploader_id, approver_id)
            except Refused as exc:
                result = FileResult(f.rel, doc.code, f.label, "rejected", str(exc))
            except Exception as exc:
                if (fault := storage_fault(exc)) is None:
                    raise
                db.session.rollback()
                summary.stopped = STOPPED[fault]
                summary.results.append(FileResult(f.rel, doc.code, f.label, "rejected",
                                                  f"not imported: {STOPPED[fault]}"))
                return summary
            db.session.commit()  # end the read transaction before the next file is streamed
            summary.results.append(result)
            if result.status == "imported" and not existed and doc.code not in summary.created:
                summary.created.append(doc.code)
            if progress:
                progress(1)
        if existed and doc.clauses:
            try:
                if added := _add_clauses(doc.code, doc.clauses, uploader_id, dry_run):
                    summary.mapped.append((doc.code, added))
            except ServiceError as exc:
                summary.warnings.append(f"{doc.code}: clauses not added: {exc.message}")
    return summary
