"""The approval workflow on the document page: new versions, approve, reject, withdraw, review, clause mapping."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_wtf import FlaskForm
from sqlalchemy import select

from ...db import write_transaction
from ...extensions import db
from ...models import Clause, Document, Standard, User
from ...policy import current_scope
from ...services import ServiceError, uploads
from ...services import documents as svc
from ...timeutil import local_today
from ..errors import note_refusal
from ..helpers import fmt_date
from ..params import ints
from ..security import actor, require
from ..upload_stream import incoming, streaming_upload
from .blueprint import bp, detail_context, document_or_404, done, form_errors, is_xhr, version_or_404
from .forms import ApproveForm, BulkClauseForm, ClausesForm, ReasonForm, ReviewForm, VersionForm

streaming_upload("documents.upload_version")
T = TypeVar("T")


@bp.route("/bulk-clauses", methods=["POST"])
@require("map_clauses")
def bulk_clauses() -> ResponseReturnValue:
    """Add the ticked clauses to every ticked document."""
    form = BulkClauseForm().fill()
    ids = ints(request.form.getlist("doc_ids"))
    if not form.validate_on_submit():
        flash(form_errors(form) or _("Tick at least one document and choose a clause."), "warning")
        return redirect(url_for("documents.register"))
    if not ids or not form.clause.data:
        flash(_("Tick at least one document and choose a clause."), "warning")
        return redirect(url_for("documents.register"))
    with write_transaction():
        chosen = list(db.session.scalars(select(Clause).join(Standard).where(Clause.id.in_(form.clause.data))
                                         .order_by(Standard.sort_order, Clause.sort_key)))
        docs = list(db.session.scalars(current_scope().visible_documents().where(Document.id.in_(ids))))
        changed = svc.add_clauses_to_many(docs, chosen, actor=actor())
        ref = ", ".join(c.ref for c in chosen)
    flash(ngettext("%(ref)s added to %(num)d document.", "%(ref)s added to %(num)d documents.", changed,
                   ref=ref), "success")
    return redirect(url_for("documents.register"))


@bp.route("/<int:doc_id>/versions", methods=["POST"])
@require("upload_documents")
def upload_version(doc_id: int) -> ResponseReturnValue:
    """A new version: starts as a draft with the next number."""
    doc = document_or_404(doc_id)
    form = VersionForm()
    if not form.validate_on_submit():
        return _version_refused(doc, form, form_errors(form) or _("Please correct the form."), 400)
    try:
        number = uploads.ingest(incoming(form.file.data), lambda checked: svc.add_version(
            doc, checked, actor=actor(), change_note=form.change_note.data,
            revision_label=form.revision_label.data, effective_date=form.effective_date.data).number)
    except ServiceError as exc:
        return _version_refused(doc, form, str(exc.message), exc.status)
    return done(_("Version %(n)d uploaded; it awaits approval by someone else.", n=number),
                url_for("documents.detail", doc_id=doc_id))


def _version_refused(doc: Document, form: VersionForm, message: str, status: int) -> ResponseReturnValue:
    """A refused new version: JSON for the progress-bar upload, else the document page with the error status."""
    if status == 403:
        note_refusal(403)
    if is_xhr():
        return jsonify(ok=False, error=message), status
    flash(message, "danger")
    return render_template("documents/detail.html", **detail_context(doc, version_form=form)), status


def _act(doc: Document, form: FlaskForm, form_key: str, run: Callable[[User], T],
         success: Callable[[T], str], invalid: str | None = None) -> ResponseReturnValue:
    """One workflow action: validate the form, run the service in one write transaction; a refusal shows the
    document page again with the message and its status (400 bad input, 403 not allowed, 409 state changed)."""
    if not form.validate_on_submit():
        flash(invalid or form_errors(form) or _("Please correct the form."), "danger")
        return render_template("documents/detail.html", **detail_context(doc, **{form_key: form})), 400
    try:
        with write_transaction():
            result = run(actor())
            message = success(result)
    except ServiceError as exc:
        if exc.status == 403:
            note_refusal(403)
        flash(str(exc.message), "danger")
        return render_template("documents/detail.html", **detail_context(doc, **{form_key: form})), exc.status
    flash(message, "success")
    return redirect(url_for("documents.detail", doc_id=doc.id))


@bp.route("/<int:doc_id>/versions/<int:number>/approve", methods=["POST"])
@require("approve_documents")
def approve(doc_id: int, number: int) -> ResponseReturnValue:
    """Approve a draft (segregation of duties enforced by the service)."""
    doc = document_or_404(doc_id)
    version = version_or_404(doc, number)
    form = ApproveForm()
    today = local_today()

    def approved(_result: object) -> str:
        """Say when a future-dated approval takes effect: until then the previous version stays in force."""
        if version.effective_date is not None and version.effective_date > today:
            return str(_("Version %(label)s of %(code)s approved; it takes effect on %(when)s.", label=version.label,
                         code=doc.code, when=fmt_date(version.effective_date)))
        return str(_("Version %(label)s of %(code)s approved.", label=version.label, code=doc.code))

    # An empty date means today, as the form says (not a date the uploader once proposed).
    return _act(doc, form, "approve_form",
                lambda me: svc.approve(version, actor=me, effective_date=form.effective_date.data or today), approved)


@bp.route("/<int:doc_id>/versions/<int:number>/reject", methods=["POST"])
def reject(doc_id: int, number: int) -> ResponseReturnValue:
    """Reject a draft with a reason."""
    doc = document_or_404(doc_id)
    version = version_or_404(doc, number)
    form = ReasonForm()
    return _act(doc, form, "reason_form",
                lambda me: svc.reject(version, actor=me, reason=form.reason.data or ""),
                lambda _r: _("Version %(label)s rejected.", label=version.label),
                _("Give a reason for the rejection (at least 5 characters)."))


@bp.route("/<int:doc_id>/withdraw", methods=["POST"])
@require("withdraw_documents")
def withdraw(doc_id: int) -> ResponseReturnValue:
    """Mark the document obsolete with a reason."""
    doc = document_or_404(doc_id)
    form = ReasonForm()
    return _act(doc, form, "reason_form",
                lambda me: svc.withdraw(doc, actor=me, reason=form.reason.data or ""),
                lambda _r: _("Document %(code)s withdrawn. Its versions remain available.", code=doc.code),
                _("Give a reason for the withdrawal (at least 5 characters)."))


@bp.route("/<int:doc_id>/review", methods=["POST"])
def review(doc_id: int) -> ResponseReturnValue:
    """Record a periodic review with no change."""
    doc = document_or_404(doc_id)
    form = ReviewForm()
    return _act(doc, form, "review_form",
                lambda me: svc.record_review(doc, actor=me, note=form.note.data),
                lambda rv: _("Review recorded; next review on %(when)s.",
                             when=fmt_date(rv.next_review_date)))


@bp.route("/<int:doc_id>/clauses", methods=["POST"])
@require("map_clauses")
def clauses(doc_id: int) -> ResponseReturnValue:
    """Replace the clause mapping."""
    doc = document_or_404(doc_id)
    form = ClausesForm().fill()
    return _act(doc, form, "clauses_form",
                lambda me: svc.set_clauses(doc, list(form.clauses.data or []), actor=me),
                lambda changed: _("Clause mapping saved.") if changed else _("No change to the clause mapping."),
                _("Choose clauses from the list."))
