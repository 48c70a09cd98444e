"""Bulk import of a shared drive: walk it, read codes/titles/revisions from file names, plan, then import.

Why: this is how an organisation moves in. Every file goes through the same validation, services and audit
events as a web upload; files are written in batches, each in its own savepoint, so one bad file loses nothing
else, and a re-run only adds bytes that are not stored yet. Codes are found through their indexed key, so the
cost of a file does not grow with the register.
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import joinedload

from ..db import write_transaction
from ..extensions import db
from ..faults import BUSY, DEVICE, SPACE, storage_fault
from ..filecheck import UploadRejected, check_name, sniff
from ..models import Document, DocumentVersion, User
from ..models.documents import EVER_APPROVED
from ..policy import AccessScope
from ..storage import CHUNK_SIZE, StoreUnwritable, UploadTooLarge
from ..textnorm import code_key
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
from .uploads import Checked, Incoming, allowed_extensions, check_upload, get_store, ingest_batch

BATCH_FILES = 50  # checked files written per transaction
BATCH_SECONDS = 5.0  # a batch is written at the latest this long after its first file (large files, slow shares)
STOPPED = {SPACE: "the disk or the database is full, so the import stopped here; nothing of this file was saved. "
                  "Free some space and run the same import again: files already imported are skipped.",
           DEVICE: "the storage reported an I/O error, so the import stopped here; nothing of this file was saved. "
                   "Have the disk checked, then run the same import again.",
           BUSY: "the database stayed locked by another writer past the lock timeout, so the import stopped here; "
                 "nothing of this file was saved. Run the same import again: files already imported are skipped."}


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


def find_document(code: str) -> Document | None:
    """The document with this code, ignoring case as create_document does (one indexed lookup)."""
    return db.session.scalar(select(Document).where(Document.code_key == code_key(code)))


def stored_version(sha256: str) -> DocumentVersion | None:
    """The first version that already holds these bytes, in any document: what makes a file a duplicate."""
    version: DocumentVersion | None = db.session.scalar(
        select(DocumentVersion).options(joinedload(DocumentVersion.document))
        .where(DocumentVersion.sha256 == sha256).order_by(DocumentVersion.id).limit(1))
    return version


def _duplicate_of(sha256: str) -> str | None:
    """'CODE label' of a version that already holds these bytes, in any document."""
    version = stored_version(sha256)
    return f"{version.document.code} {version.label}" if version else None


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
    document = find_document(code)
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


def _prepare(doc: PlannedDocument, f: SourceFile, batch: dict[str, str]) -> FileResult | _Pending:
    """Stream, deduplicate and validate one file, holding no lock: a result when it goes no further, else the
    checked upload waiting for its batch's transaction."""
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
        dup = batch.get(writer.sha256) or _duplicate_of(writer.sha256)
    except BaseException:
        writer.discard()
        raise
    if dup:
        writer.discard()
        return FileResult(f.rel, doc.code, f.label, "duplicate", dup)
    try:
        checked = check_upload(Incoming(f.name, writer))
    except ServiceError as exc:
        raise Refused(str(exc.message)) from None
    batch[writer.sha256] = f"{doc.code} {f.label or '(this run)'}"
    return _Pending(doc, f, checked)


@dataclass
class _Pending:
    """A checked file waiting for its batch's write transaction."""

    doc: PlannedDocument
    f: SourceFile
    checked: Checked


class _Window:
    """Files in plan order since the last write: their results so far, or the checked uploads still to write.

    Why batches: one commit per file made the import pay a transaction (a WAL flush on PostgreSQL) per file; a
    batch writes up to BATCH_FILES checked files in one transaction, each in its own savepoint, so a refused file
    still loses only itself and every audit event is written with its rows. The slow part (reading, hashing,
    checking, fsync) happens before the transaction opens, so no write lock is held meanwhile."""

    def __init__(self, uploader_id: int, approver_id: int | None) -> None:
        self.uploader_id, self.approver_id = uploader_id, approver_id
        self.entries: list[FileResult | _Pending] = []
        self.shas: dict[str, str] = {}
        self.started = time.monotonic()

    def add(self, entry: FileResult | _Pending) -> None:
        if not self.entries:
            self.started = time.monotonic()
        self.entries.append(entry)

    @property
    def due(self) -> bool:
        pending = sum(isinstance(e, _Pending) for e in self.entries)
        return pending >= BATCH_FILES or (pending > 0 and time.monotonic() - self.started > BATCH_SECONDS)

    def write(self) -> list[FileResult]:
        """Write the pending files (one transaction) and return every entry's result in plan order."""
        pending = [e for e in self.entries if isinstance(e, _Pending)]
        outcomes = iter(ingest_batch([(p.checked, partial(_write_or_refuse, p.doc, p.f, self.uploader_id,
                                                          self.approver_id)) for p in pending]))
        results = [e if isinstance(e, FileResult) else _outcome(e, next(outcomes)) for e in self.entries]
        self.entries, self.shas = [], {}
        return results

    def abandon(self, why: str) -> list[FileResult]:
        """The batch cannot be written: every pending file is reported as not imported (its bytes discarded)."""
        results = []
        for e in self.entries:
            if isinstance(e, _Pending):
                if e.checked.writer is not None:
                    e.checked.writer.discard()
                e = FileResult(e.f.rel, e.doc.code, e.f.label, "rejected", f"not imported: {why}")
            results.append(e)
        self.entries, self.shas = [], {}
        return results


def _outcome(p: _Pending, outcome: tuple[str, str] | ServiceError) -> FileResult:
    if isinstance(outcome, ServiceError):
        return FileResult(p.f.rel, p.doc.code, p.f.label, "rejected", str(outcome.message))
    label, detail = outcome
    return FileResult(p.f.rel, p.doc.code, label, "imported", detail)


def _write_or_refuse(doc: PlannedDocument, f: SourceFile, uploader_id: int, approver_id: int | None,
                     checked: Checked) -> tuple[str, str]:
    """write_version, with a database refusal of this one file (a constraint) reported as its rejection; a full
    disk or a lock timeout still stops the batch."""
    try:
        return write_version(doc, f, uploader_id, approver_id, checked)
    except SQLAlchemyError as exc:
        if storage_fault(exc):
            raise
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise ServiceError(f"the database refused it: {reason}") from None


def write_version(doc: PlannedDocument, f: SourceFile, uploader_id: int, approver_id: int | None,
                   checked: Checked) -> tuple[str, str]:
    """The rows of one imported file (inside the upload's write transaction): document if new, version, approval."""
    actor = db.session.get_one(User, uploader_id)
    document = find_document(doc.code) or docs.create_document(
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
    document = find_document(code)
    missing = [c for c in docs.resolve_clauses(refs) if document and c not in document.clauses]
    if missing and not dry_run:
        with write_transaction():
            document = find_document(code)
            if document is not None:
                docs.set_clauses(document, [*document.clauses, *docs.resolve_clauses(refs)],
                                 actor=db.session.get_one(User, uploader_id))
    return [c.ref for c in missing]


def run_import(plan: Plan, *, uploader_id: int, approver_id: int | None = None, dry_run: bool = False,
               progress: Callable[[int], None] | None = None) -> Summary:
    """Import (or, dry, only check) every planned file in plan order, written in batches (see _Window)."""
    summary = Summary(dry_run=dry_run, ignored=plan.ignored, warnings=list(plan.warnings))
    summary.results += [FileResult(rel, "", None, "rejected", reason) for rel, reason in plan.problems]
    seen: dict[str, str] = {}
    window = _Window(uploader_id, approver_id)
    clauses_to_add: list[PlannedDocument] = []
    existed: set[str] = set()

    def settle(results: list[FileResult]) -> None:
        for result in results:
            summary.results.append(result)
            if result.status == "imported" and result.code not in existed and result.code not in summary.created:
                summary.created.append(result.code)
            if progress:
                progress(1)

    def flush() -> bool:
        """Write the window; False when a fault stopped the run."""
        try:
            settle(window.write())
        except Exception as exc:
            if (fault := storage_fault(exc)) is None:
                raise
            db.session.rollback()
            summary.stopped = STOPPED[fault]
            settle(window.abandon(STOPPED[fault]))
            return False
        for doc in clauses_to_add:
            _add_clauses_or_warn(doc, uploader_id, summary)
        clauses_to_add.clear()
        return True

    for doc in plan.documents:
        if find_document(doc.code) is not None:
            existed.add(doc.code)
            summary.existing.append(doc.code)
        for f in doc.files:
            try:
                _precheck(doc.code, db.session.get_one(User, uploader_id))
                entry = _check_only(doc, f, seen) if dry_run else _prepare(doc, f, window.shas)
            except Refused as exc:
                entry = FileResult(f.rel, doc.code, f.label, "rejected", str(exc))
            except Exception as exc:
                if (fault := storage_fault(exc)) is None:
                    raise
                db.session.rollback()
                if flush():  # what was checked before the fault may still be saved
                    summary.stopped = STOPPED[fault]
                    settle([FileResult(f.rel, doc.code, f.label, "rejected", f"not imported: {STOPPED[fault]}")])
                return summary
            db.session.commit()  # end the read transaction before the next file is streamed
            window.add(entry)
            if window.due and not flush():
                return summary
        if doc.code in existed and doc.clauses:
            if dry_run:
                _add_clauses_or_warn(doc, uploader_id, summary, dry_run=True)
            else:
                clauses_to_add.append(doc)
    flush()
    return summary


def _add_clauses_or_warn(doc: PlannedDocument, uploader_id: int, summary: Summary, dry_run: bool = False) -> None:
    """Map an existing document to the clauses the plan gives it; a refusal is a warning, not a stop."""
    try:
        if added := _add_clauses(doc.code, doc.clauses, uploader_id, dry_run):
            summary.mapped.append((doc.code, added))
    except ServiceError as exc:
        summary.warnings.append(f"{doc.code}: clauses not added: {exc.message}")
