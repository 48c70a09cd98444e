"""Document register, document page, uploads and the approval workflow."""

from __future__ import annotations

from collections.abc import Callable

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select

from ..db import write_transaction
from ..extensions import db
from ..models import Clause, Document, DocumentVersion, User
from ..permissions import require
from ..services import ServiceError
from ..services import documents as svc
from ..services.visibility import can_see_document, can_see_version, in_force, visible_versions
from ..timeutil import local_today
from .document_forms import (
    ApproveForm,
    BulkClauseForm,
    ClausesForm,
    DocumentForm,
    MetadataForm,
    ReasonForm,
    ReviewForm,
    VersionForm,
)
from .helpers import fmt_date
from .params import ints
from .register import register_context
from .uploading import incoming, streaming_upload

bp = Blueprint("documents", __name__, url_prefix="/documents")
streaming_upload("documents.create")
streaming_upload("documents.upload_version")


def is_xhr() -> bool:
    """The upload page posts with XMLHttpRequest to show a progress bar; it wants JSON back."""
    return request.headers.get("X-Requested-With") == "XMLHttpRequest"


def document_or_404(doc_id: int) -> Document:
    """A document the current user may see, else 404 (never reveal that it exists)."""
    doc = db.session.get(Document, doc_id)
    if doc is None or not can_see_document(current_user, doc):
        abort(404)
    return doc


def version_or_404(doc: Document, number: int) -> DocumentVersion:
    """A version of the document the current user may see, else 404."""
    version = db.session.scalar(
        select(DocumentVersion).where(DocumentVersion.document_id == doc.id, DocumentVersion.number == number)
    )
    if version is None or not can_see_version(current_user, version):
        abort(404)
    return version


def _actor() -> User:
    return db.session.get(User, current_user.id)  # type: ignore[return-value]


def _done(message: str, target: str):  # type: ignore[no-untyped-def]
    flash(message, "success")
    if is_xhr():
        return jsonify(ok=True, redirect=target)
    return redirect(target)


def _refused(message: str, status: int, template: str, **ctx):  # type: ignore[no-untyped-def]
    if is_xhr():
        return jsonify(ok=False, error=message), status
    flash(message, "danger")
    return render_template(template, **ctx), status


def _form_errors(form) -> str:  # type: ignore[no-untyped-def]
    return " ".join(f"{getattr(form, k).label.text}: {' '.join(map(str, v))}" for k, v in form.errors.items())


@bp.route("/")
def register():  # type: ignore[no-untyped-def]
    """The register: filter, sort, paginate; bulk clause mapping for those allowed."""
    return render_template("documents/register.html", **register_context(request.args))


@bp.route("/bulk-clauses", methods=["POST"])
@require("map_clauses")
def bulk_clauses():  # type: ignore[no-untyped-def]
    """Add one clause to every ticked document."""
    form = BulkClauseForm().fill()
    ids = ints(request.form.getlist("doc_ids"))
    if not form.validate_on_submit() or not ids:
        flash(_("Tick at least one document and choose a clause."), "warning")
        return redirect(url_for("documents.register"))
    clause = db.get_or_404(Clause, form.clause.data)
    docs = [d for d in db.session.scalars(select(Document).where(Document.id.in_(ids)))
            if can_see_document(current_user, d)]
    changed = svc.add_clause_to_many(docs, clause, actor=_actor())
    db.session.commit()
    flash(ngettext("%(ref)s added to %(num)d document.", "%(ref)s added to %(num)d documents.", changed,
                   ref=clause.ref), "success")
    return redirect(url_for("documents.register"))


@bp.route("/new", methods=["GET", "POST"])
@require("upload_documents")
def create():  # type: ignore[no-untyped-def]
    """Register a document with its first version (streamed upload, progress bar)."""
    g.manual_transactions = True
    form = DocumentForm().fill()
    if request.method == "GET":
        form.owner.data = current_user.id
        return render_template("documents/new.html", form=form)
    if not form.validate_on_submit():
        return _refused(_form_errors(form) or _("Please correct the form."), 400, "documents/new.html", form=form)
    checked = None
    try:
        checked = svc.check_upload(incoming(form.file.data))
        with write_transaction():
            actor = _actor()
            owner = db.session.get(User, form.owner.data) or actor
            doc = svc.create_document(
                code=form.code.data or "", title=form.title.data or "", kind=form.kind.data or "other",
                owner=owner, actor=actor, language=form.language.data or "es",
                confidentiality=form.confidentiality.data or "normal",
                review_interval_months=form.review_interval_months.data or 12,
                retention_years=form.retention_years.data, clauses=list(form.clauses.data or []),
                description=form.description.data,
            )
            svc.add_version(doc, checked, actor=actor, change_note=form.change_note.data,
                            revision_label=form.revision_label.data, effective_date=form.effective_date.data)
            svc.store(checked)  # last: a refusal above leaves no object behind
            doc_id, code = doc.id, doc.code
    except ServiceError as exc:
        db.session.rollback()
        svc.discard(checked)
        return _refused(str(exc.message), exc.status, "documents/new.html", form=form)
    return _done(_("Document %(code)s registered; version 1 awaits approval.", code=code),
                 url_for("documents.detail", doc_id=doc_id))


def _detail_context(doc: Document, **forms: object) -> dict:
    """What the document page shows: metadata, versions the user may see, in-force version, forms."""
    today = local_today()
    ctx = {
        "doc": doc, "versions": visible_versions(current_user, doc), "in_force": in_force(doc, today),
        "today": today, "version_form": VersionForm(), "approve_form": ApproveForm(), "reason_form": ReasonForm(),
        "review_form": ReviewForm(), "clauses_form": ClausesForm(clauses=[c.id for c in doc.clauses]).fill(),
        "reviews": sorted(_reviews(doc), key=lambda r: r.reviewed_at, reverse=True),
        "can_edit_details": svc.can_edit_details(current_user, doc),
    }
    ctx.update(forms)
    return ctx


@bp.route("/<int:doc_id>")
def detail(doc_id: int):  # type: ignore[no-untyped-def]
    """Metadata, clauses, version history and the actions the user may take."""
    doc = document_or_404(doc_id)
    html = render_template("documents/detail.html", **_detail_context(doc))
    if current_user.role == "auditor":
        with write_transaction():
            svc.record_access("document.view", None, db.session.get(Document, doc_id), _actor())
    return html


def _reviews(doc: Document) -> list:
    from ..models import DocumentReview

    return list(db.session.scalars(select(DocumentReview).where(DocumentReview.document_id == doc.id)))


@bp.route("/<int:doc_id>/versions", methods=["POST"])
@require("upload_documents")
def upload_version(doc_id: int):  # type: ignore[no-untyped-def]
    """A new version: starts as a draft with the next number."""
    g.manual_transactions = True
    doc = document_or_404(doc_id)
    form = VersionForm()
    if not form.validate_on_submit():
        return _version_refused(doc_id, form, _form_errors(form) or _("Please correct the form."), 400)
    checked = None
    try:
        checked = svc.check_upload(incoming(form.file.data))
        with write_transaction():
            doc = db.session.get(Document, doc_id)
            version = svc.add_version(doc, checked, actor=_actor(), change_note=form.change_note.data,
                                      revision_label=form.revision_label.data,
                                      effective_date=form.effective_date.data)
            svc.store(checked)  # last: a refusal above leaves no object behind
            number = version.number
    except ServiceError as exc:
        db.session.rollback()
        svc.discard(checked)
        return _version_refused(doc_id, form, str(exc.message), exc.status)
    return _done(_("Version %(n)d uploaded; it awaits approval by someone else.", n=number),
                 url_for("documents.detail", doc_id=doc_id))


def _version_refused(doc_id: int, form: VersionForm, message: str, status: int):  # type: ignore[no-untyped-def]
    """A refused new version: JSON for the progress-bar upload, else the document page with the error status."""
    if is_xhr():
        return jsonify(ok=False, error=message), status
    flash(message, "danger")
    doc = document_or_404(doc_id)
    return render_template("documents/detail.html", **_detail_context(doc, version_form=form)), status


def _refuse_page(status: int, message: str):  # type: ignore[no-untyped-def]
    from .errors import render_error

    return render_error(status, message)


def _act(doc: Document, form: FlaskForm, form_key: str, run: Callable[[User], object],
         success: Callable[[object], str], invalid: str | None = None):  # type: ignore[no-untyped-def]
    """One workflow action: validate the form, run the service, commit once; a refusal shows the document page
    again with the message and its status (400 bad input, 403 not allowed, 409 state changed), nothing half-done."""
    if not form.validate_on_submit():
        flash(invalid or _form_errors(form) or _("Please correct the form."), "danger")
        return render_template("documents/detail.html", **_detail_context(doc, **{form_key: form})), 400
    try:
        result = run(_actor())
        db.session.commit()
    except ServiceError as exc:
        db.session.rollback()
        flash(str(exc.message), "danger")
        doc = db.session.get(Document, doc.id)
        return render_template("documents/detail.html", **_detail_context(doc, **{form_key: form})), exc.status
    flash(success(result), "success")
    return redirect(url_for("documents.detail", doc_id=doc.id))


@bp.route("/<int:doc_id>/versions/<int:number>/approve", methods=["POST"])
@require("approve_documents")
def approve(doc_id: int, number: int):  # type: ignore[no-untyped-def]
    """Approve a draft (segregation of duties enforced by the service)."""
    doc = document_or_404(doc_id)
    version = version_or_404(doc, number)
    form = ApproveForm()
    return _act(doc, form, "approve_form",
                lambda actor: svc.approve(version, actor=actor, effective_date=form.effective_date.data),
                lambda _r: _("Version %(label)s of %(code)s approved.", label=version.label, code=doc.code))


@bp.route("/<int:doc_id>/versions/<int:number>/reject", methods=["POST"])
def reject(doc_id: int, number: int):  # type: ignore[no-untyped-def]
    """Reject a draft with a reason."""
    doc = document_or_404(doc_id)
    version = version_or_404(doc, number)
    form = ReasonForm()
    return _act(doc, form, "reason_form",
                lambda actor: svc.reject(version, actor=actor, reason=form.reason.data or ""),
                lambda _r: _("Version %(label)s rejected.", label=version.label),
                _("Give a reason for the rejection (at least 5 characters)."))


@bp.route("/<int:doc_id>/withdraw", methods=["POST"])
@require("withdraw_documents")
def withdraw(doc_id: int):  # type: ignore[no-untyped-def]
    """Mark the document obsolete with a reason."""
    doc = document_or_404(doc_id)
    form = ReasonForm()
    return _act(doc, form, "reason_form",
                lambda actor: svc.withdraw(doc, actor=actor, reason=form.reason.data or ""),
                lambda _r: _("Document %(code)s withdrawn. Its versions remain available.", code=doc.code),
                _("Give a reason for the withdrawal (at least 5 characters)."))


@bp.route("/<int:doc_id>/review", methods=["POST"])
def review(doc_id: int):  # type: ignore[no-untyped-def]
    """Record a periodic review with no change."""
    doc = document_or_404(doc_id)
    form = ReviewForm()
    return _act(doc, form, "review_form",
                lambda actor: svc.record_review(doc, actor=actor, note=form.note.data),
                lambda rv: _("Review recorded; next review on %(when)s.",
                             when=fmt_date(rv.next_review_date)))


@bp.route("/<int:doc_id>/clauses", methods=["POST"])
@require("map_clauses")
def clauses(doc_id: int):  # type: ignore[no-untyped-def]
    """Replace the clause mapping."""
    doc = document_or_404(doc_id)
    form = ClausesForm().fill()
    return _act(doc, form, "clauses_form",
                lambda actor: svc.set_clauses(doc, list(form.clauses.data or []), actor=actor),
                lambda changed: _("Clause mapping saved.") if changed else _("No change to the clause mapping."),
                _("Choose clauses from the list."))


@bp.route("/<int:doc_id>/edit", methods=["GET", "POST"])
@require("upload_documents")
def edit(doc_id: int):  # type: ignore[no-untyped-def]
    """Edit descriptive metadata; owner, confidentiality and sharing only for the owner or an admin."""
    doc = document_or_404(doc_id)
    actor = _actor()
    if not svc.can_edit_details(actor, doc):
        abort(403)
    form = MetadataForm(obj=doc).fill()
    access = svc.can_change_access(actor, doc)
    if not access:
        for name in ("owner_id", "confidentiality", "shared_with"):
            delattr(form, name)
    elif request.method == "GET":
        form.shared_with.data = [u.id for u in doc.shared_with]
    if form.validate_on_submit():
        fields = ["title", "kind", "language", "review_interval_months", "retention_years", "description"]
        changes = {k: getattr(form, k).data for k in fields + (["confidentiality", "owner_id"] if access else [])}
        changes["description"] = (changes["description"] or "").strip() or None
        shared = (list(db.session.scalars(select(User).where(User.id.in_(form.shared_with.data or []))))
                  if access else None)
        try:
            svc.update_metadata(doc, changes, actor=actor, shared_with=shared)
            db.session.commit()
        except ServiceError as exc:
            db.session.rollback()
            return _refuse_page(exc.status, str(exc.message))
        flash(_("Document %(code)s updated.", code=doc.code), "success")
        return redirect(url_for("documents.detail", doc_id=doc_id))
    return render_template("documents/edit.html", form=form, doc=doc, access=access), (400 if form.errors else 200)


@bp.route("/<int:doc_id>/versions/<int:number>/download")
def download(doc_id: int, number: int):  # type: ignore[no-untyped-def]
    """Always an attachment with the stored mime type; every download leaves an access receipt."""
    doc = document_or_404(doc_id)
    version = version_or_404(doc, number)
    store = svc.get_store()
    try:
        fh = store.open(version.sha256)
    except FileNotFoundError:
        abort(410)
    sha, name, mime = version.sha256, version.original_filename, version.mime_type
    with write_transaction():
        svc.record_access("version.download", db.session.get(DocumentVersion, version.id),
                          db.session.get(Document, doc_id), _actor())
    resp = send_file(fh, mimetype=mime, as_attachment=True, download_name=name, etag=sha,
                     max_age=0, conditional=True)
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    resp.headers["X-Content-SHA256"] = sha
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


