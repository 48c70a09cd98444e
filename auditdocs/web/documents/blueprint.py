"""The documents blueprint and what its views share: object lookups under the access scope, replies."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from sqlalchemy import select

from ... import extract
from ...extensions import db
from ...models import Document, DocumentReview, DocumentVersion
from ...policy import current_scope
from ...services import blobhealth
from ...services.lifecycle import document_state, version_state
from ...timeutil import local_today
from ..errors import note_refusal
from .forms import ApproveForm, ClausesForm, ReasonForm, ReviewForm, VersionForm

bp = Blueprint("documents", __name__, url_prefix="/documents")


def is_xhr() -> bool:
    """The upload page posts with XMLHttpRequest to show a progress bar; it wants JSON back."""
    return request.headers.get("X-Requested-With") == "XMLHttpRequest"


def document_or_404(doc_id: int) -> Document:
    """A document the current user may see, else 404 (never reveal that it exists)."""
    doc = db.session.get(Document, doc_id)
    if doc is None or not current_scope().sees_document(doc):
        abort(404)
    return doc


def version_or_404(doc: Document, number: int) -> DocumentVersion:
    """A version of the document the current user may see, else 404."""
    version = db.session.scalar(
        select(DocumentVersion).where(DocumentVersion.document_id == doc.id, DocumentVersion.number == number)
    )
    if version is None or not current_scope().sees_version(version):
        abort(404)
    return version


def done(message: str, target: str) -> ResponseReturnValue:
    """Success: flash and redirect (JSON with the target for the progress-bar upload)."""
    flash(message, "success")
    if is_xhr():
        return jsonify(ok=True, redirect=target)
    return redirect(target)


def refused(message: str, status: int, template: str, **ctx: Any) -> ResponseReturnValue:
    """A refusal shown on the page it came from, with its status (JSON for the progress-bar upload)."""
    if status == 403:
        note_refusal(403)
    if is_xhr():
        return jsonify(ok=False, error=message), status
    flash(message, "danger")
    return render_template(template, **ctx), status


def form_errors(form: FlaskForm) -> str:
    """Every field error as one line a person reads."""
    return " ".join(f"{getattr(form, k).label.text}: {' '.join(map(str, v))}" for k, v in form.errors.items())


def detail_context(doc: Document, **forms: object) -> dict[str, Any]:
    """What the document page shows: metadata, versions the user may see, in-force version, actions, forms."""
    today = local_today()
    scope = current_scope()
    versions = scope.visible_versions(doc)
    reviews = db.session.scalars(select(DocumentReview).where(DocumentReview.document_id == doc.id)
                                 .order_by(DocumentReview.reviewed_at.desc())).all()
    state = document_state(doc, today)
    ctx: dict[str, Any] = {
        "doc": doc, "versions": versions, "in_force": state.version if state.key == "in_force" else None,
        "state": state, "version_states": {v.id: version_state(v, doc, today) for v in versions}, "today": today,
        "actions": scope.document_actions(doc, versions), "reviews": reviews,
        "failing": blobhealth.failing(v.sha256 for v in versions),
        "text_notes": extract.notes(v.sha256 for v in versions),
        "version_form": VersionForm(), "approve_form": ApproveForm(), "reason_form": ReasonForm(),
        "review_form": ReviewForm(), "clauses_form": ClausesForm(clauses=[c.id for c in doc.clauses]).fill(),
    }
    ctx.update(forms)
    return ctx
