"""Bulk upload on the web: one file becomes a new document or a new draft version of the document its name codes.

Why a service of its own: the web takes files one by one (one per request from the page's script, or one after
another from a plain form), each already streamed into the store, so the importer's folder walk and batches do not
apply; the naming rules, the defaults of a new document, the duplicate rule and the rows written are the import's
own (`import_plan.plan_single`, `importer.stored_version`, `importer.write_version`), so a file gets the same code,
title and kind on the web as from `auditdocs import`. Each file is checked before any lock and written in its own
transaction: a refusal loses only that file and leaves no row and no object behind.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l

from ..db import advisory_lock, end_read
from ..extensions import db
from ..filecheck import MAX_NAME_LENGTH, UploadRejected, check_name, display_name
from ..models import Document, DocumentVersion, User
from ..policy import scope_of
from . import ServiceError
from .import_plan import PlannedDocument, plan_single, shown
from .importer import find_document, stored_version, write_version
from .uploads import Checked, Incoming, allowed_extensions, check_upload, ingest_checked

CREATED, VERSION, DUPLICATE, REFUSED = "created", "version", "duplicate", "refused"
OUTCOMES = (CREATED, VERSION, DUPLICATE, REFUSED)
_PG_SHA_LOCK = 0x42554C4B  # "BULK": two uploads of the same bytes at once: the second one is the duplicate


@dataclass
class FileOutcome:
    """What became of one file: its outcome, the document it went to (if any) and a sentence saying why."""

    file: str
    outcome: str
    status: int
    message: str
    code: str = ""
    title: str = ""
    document_id: int | None = None
    label: str = ""


class _AlreadyStored(ServiceError):
    """The same bytes were stored by another upload while this one was being checked."""

    def __init__(self, version: DocumentVersion) -> None:
        super().__init__("duplicate", 200)
        self.version = version


def too_large(name: str | None) -> FileOutcome:
    """A file the request stream stopped storing at the size limit."""
    return FileOutcome(display_name(name), REFUSED, 413, str(_l(
        "The file is larger than the limit of %(mb)s MB. Nothing was saved.", mb=current_app.config["MAX_UPLOAD_MB"])))


def _duplicate(shown: str, version: DocumentVersion, uploader: User) -> FileOutcome:
    """Same bytes as a stored version: named and linked when the uploader may see it, else only said."""
    if scope_of(uploader).sees_version(version):
        doc = version.document
        return FileOutcome(shown, DUPLICATE, 200, str(_l(
            "Same content as %(code)s %(label)s, already stored: nothing was added.", code=doc.code,
            label=version.label)), doc.code, doc.title, doc.id, version.label)
    return FileOutcome(shown, DUPLICATE, 200, str(_l(
        "The same content is already stored in a document you cannot open: nothing was added.")))


def _write(plan: PlannedDocument, uploader_id: int, checked: Checked) -> tuple[bool, int, str]:
    """The import's rows for this file, inside the upload's write transaction: (created, document id, label)."""
    advisory_lock(_PG_SHA_LOCK, checked.sha256)
    if (twin := stored_version(checked.sha256)) is not None:
        raise _AlreadyStored(twin)
    existed = find_document(plan.code) is not None
    label, _detail = write_version(plan, plan.files[0], uploader_id, None, checked)
    document = find_document(plan.code)
    assert document is not None  # written just above, in this transaction
    return not existed, document.id, label


def upload_one(incoming: Incoming, *, uploader: User, kind: str | None = None,
               language: str | None = None) -> FileOutcome:
    """Check one streamed file and write it as a document or a version; any refusal is its outcome, not an error.

    Storage faults (a full disk, a database locked past the timeout) are raised: they are not the file's fault."""
    writer = incoming.writer
    try:
        name, _ext = check_name(incoming.filename, allowed_extensions())
    except UploadRejected as exc:
        writer.discard()
        return FileOutcome(shown(incoming.filename or "")[:MAX_NAME_LENGTH], REFUSED, 400, exc.text())
    plan = plan_single(name, kind=kind, language=language)
    try:
        twin = stored_version(writer.sha256)
    except BaseException:
        writer.discard()
        raise
    if twin is not None:
        writer.discard()
        return _duplicate(name, twin, uploader)
    uploader_id = uploader.id
    end_read()  # no read stays open while the file is sniffed and synced
    try:
        checked = check_upload(incoming)
        created, doc_id, label = ingest_checked(checked, lambda c: _write(plan, uploader_id, c))
    except _AlreadyStored as exc:
        return _duplicate(name, exc.version, db.session.get_one(User, uploader_id))
    except ServiceError as exc:
        return FileOutcome(name, REFUSED, exc.status, str(exc.message), plan.code if plan.named else "")
    document = db.session.get_one(Document, doc_id)
    if created:
        message = _l("Document %(code)s created; version %(label)s awaits approval.", code=document.code,
                     label=label)
    else:
        message = _l("New version %(label)s of %(code)s; it awaits approval.", code=document.code, label=label)
    return FileOutcome(name, CREATED if created else VERSION, 201, str(message), document.code, document.title,
                       document.id, label)
