"""Bulk upload on the register: many files at once, each a new document or a new version (services.bulk_upload).

The page's script sends the files one per request to `bulk_upload_file`, which answers JSON, so each file has its
own progress bar and result; without JavaScript the same form posts every file to `bulk_upload`, which takes them
one after another and shows the same result table. Both stream like the single upload.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

from flask import jsonify, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.datastructures import FileStorage
from wtforms import MultipleFileField, SelectField

from ...extensions import db
from ...faults import BUSY, storage_fault
from ...filecheck import display_name
from ...labels import KIND_LABELS, LANGUAGE_LABELS
from ...models.documents import KINDS, LANGUAGES
from ...services import bulk_upload as svc
from ...services.bulk_upload import CREATED, DUPLICATE, OUTCOMES, REFUSED, VERSION, FileOutcome
from ...services.import_plan import natural_key
from ...storage import BlobWriter
from ..errors import BUSY_MESSAGE, FAULT_STATUS, MESSAGES, note_refusal
from ..forms import opts
from ..security import actor, require
from ..upload_stream import incoming, many_files_limit_mb, streaming_upload, too_large
from .blueprint import bp, form_errors

streaming_upload("documents.bulk_upload", each_file_alone=True)
streaming_upload("documents.bulk_upload_file", each_file_alone=True)

logger = logging.getLogger(__name__)
OUTCOME_LABELS = {CREATED: _l("Created"), VERSION: _l("New version"), DUPLICATE: _l("Duplicate"),
                  REFUSED: _l("Refused")}


class BulkUploadForm(FlaskForm):
    """Many files; the kind and language of the documents they create (else read from each name, as the import)."""

    files = MultipleFileField(_l("Files"))
    kind = SelectField(_l("Kind of new documents"), choices=opts([
        ("", _l("From the code, as the import does")),
        *((k, KIND_LABELS[k]) for k in KINDS)]))
    language = SelectField(_l("Language of new documents"), choices=opts([
        ("", _l("Guessed from the title")), *((k, LANGUAGE_LABELS[k]) for k in LANGUAGES)]))


def _chosen(form: BulkUploadForm) -> list[FileStorage]:
    """The file parts sent; a browser sends one nameless empty part when nothing was chosen."""
    return [f for f in form.files.data or [] if isinstance(f, FileStorage)
            and (f.filename or too_large(f) or (isinstance(f.stream, BlobWriter) and f.stream.size))]


def _one(file: FileStorage, form: BulkUploadForm) -> FileOutcome:
    """Upload one part: too large, or through the service with the batch's kind and language."""
    if too_large(file):
        return svc.too_large(file.filename)
    return svc.upload_one(incoming(file), uploader=actor(), kind=form.kind.data or None,
                          language=form.language.data or None)


def _json(result: FileOutcome) -> dict[str, Any]:
    return {"file": result.file, "outcome": result.outcome, "outcome_label": str(OUTCOME_LABELS[result.outcome]),
            "code": result.code, "title": result.title, "label": result.label, "message": result.message,
            "document_url": url_for("documents.detail", doc_id=result.document_id) if result.document_id else None}


def _page(form: BulkUploadForm, results: list[FileOutcome] | None = None, status: int = 200) -> ResponseReturnValue:
    counts = Counter(r.outcome for r in results or [])
    return render_template("documents/bulk_upload.html", form=form, results=results, labels=OUTCOME_LABELS,
                           counts={o: counts[o] for o in OUTCOMES}, total_mb=many_files_limit_mb()), status


@bp.route("/bulk-upload", methods=["GET", "POST"])
@require("upload_documents")
def bulk_upload() -> ResponseReturnValue:
    """The page; its plain form (no JavaScript) posts every file here, taken one after another, each written in a
    transaction of its own. The batch answers 200 with each file's outcome, refusals included."""
    form = BulkUploadForm()
    if not form.is_submitted():
        return _page(form)
    if not form.validate():
        return _page(form, status=400)
    files = _chosen(form)
    if not files:
        form.files.errors = [_("Choose at least one file.")]
        return _page(form, status=400)
    files.sort(key=lambda f: natural_key(display_name(f.filename)))  # v9 before v10, as the page's script sends them
    results: list[FileOutcome] = []
    for at, file in enumerate(files):
        try:
            results.append(_one(file, form))
        except Exception as exc:
            if (fault := storage_fault(exc)) is None:
                raise
            results += _stopped(fault, files[at:])  # the files before it are saved; the page says which
            break
    return _page(form, results)


def _stopped(fault: str, files: list[FileStorage]) -> list[FileOutcome]:
    """A full disk or a database busy past the timeout stops the batch: this file and the rest are not saved."""
    db.session.rollback()
    status = FAULT_STATUS[fault]
    message = str(BUSY_MESSAGE if fault == BUSY else MESSAGES[status][1])
    logger.warning("bulk upload stopped by a storage fault (%s): %d files not saved", fault, len(files))
    return [FileOutcome(display_name(f.filename), REFUSED, status, message) for f in files]


@bp.route("/bulk-upload/file", methods=["POST"])
@require("upload_documents")
def bulk_upload_file() -> ResponseReturnValue:
    """One file from the page's script: JSON {file, outcome, code, title, document_url, message}; the status says
    created (201), duplicate (200) or why it was refused (400 bad file, 403 not allowed, 409, 413 too large)."""
    form = BulkUploadForm()
    files = _chosen(form) if form.validate_on_submit() else []
    if len(files) != 1:
        message = form_errors(form) or _("Send exactly one file per request.")
        return jsonify(file="", outcome=REFUSED, outcome_label=str(OUTCOME_LABELS[REFUSED]), code="", title="",
                       label="", message=message, document_url=None), 400
    result = _one(files[0], form)
    if result.status == 403:
        note_refusal(403)
    return jsonify(_json(result)), result.status
