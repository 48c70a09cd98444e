"""Document pages: the register, registering a document with its first version, the document page, details,
downloads."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select

from ...db import write_transaction
from ...extensions import db
from ...models import User
from ...policy import current_scope
from ...services import ServiceError, uploads
from ...services import documents as svc
from ...services.uploads import Checked
from ..blobs import send_blob
from ..security import actor, require
from ..upload_stream import incoming, streaming_upload
from .blueprint import bp, detail_context, document_or_404, done, form_errors, refused, version_or_404
from .forms import DocumentForm, MetadataForm
from .listing import register_context

streaming_upload("documents.create")


@bp.route("/")
def register() -> ResponseReturnValue:
    """The register: filter, sort, paginate; bulk clause mapping for those allowed."""
    return render_template("documents/register.html", **register_context(request.args))


def _register_with_first_version(form: DocumentForm, checked: Checked) -> tuple[int, str]:
    """The rows of a new document and its version 1 (inside the upload's write transaction)."""
    me = actor()
    owner = db.session.get(User, form.owner.data) or me
    doc = svc.create_document(
        code=form.code.data or "", title=form.title.data or "", kind=form.kind.data or "other",
        owner=owner, actor=me, language=form.language.data or "es",
        confidentiality=form.confidentiality.data or "normal",
        review_interval_months=form.review_interval_months.data or 12,
        retention_years=form.retention_years.data, clauses=list(form.clauses.data or []),
        description=form.description.data, sites=list(form.sites.data or []),
        processes=list(form.processes.data or []),
    )
    svc.add_version(doc, checked, actor=me, change_note=form.change_note.data,
                    revision_label=form.revision_label.data, effective_date=form.effective_date.data)
    return doc.id, doc.code


@bp.route("/new", methods=["GET", "POST"])
@require("upload_documents")
def create() -> ResponseReturnValue:
    """Register a document with its first version (streamed upload, progress bar)."""
    form = DocumentForm().fill()
    if request.method == "GET":
        form.owner.data = actor().id
        return render_template("documents/new.html", form=form)
    if not form.validate_on_submit():
        return refused(form_errors(form) or _("Please correct the form."), 400, "documents/new.html", form=form)
    try:
        doc_id, code = uploads.ingest(incoming(form.file.data),
                                      lambda checked: _register_with_first_version(form, checked))
    except ServiceError as exc:
        return refused(str(exc.message), exc.status, "documents/new.html", form=form)
    return done(_("Document %(code)s registered; version 1 awaits approval.", code=code),
                url_for("documents.detail", doc_id=doc_id))


@bp.route("/<int:doc_id>")
def detail(doc_id: int) -> ResponseReturnValue:
    """Metadata, clauses, version history and the actions the user may take."""
    doc = document_or_404(doc_id)
    html = render_template("documents/detail.html", **detail_context(doc))
    if current_scope().records_access:
        with write_transaction():
            svc.record_access("document.view", None, doc, actor())
    return html


@bp.route("/<int:doc_id>/edit", methods=["GET", "POST"])
@require("upload_documents")
def edit(doc_id: int) -> ResponseReturnValue:
    """Edit descriptive metadata; owner, confidentiality and sharing only for the owner or an admin."""
    doc = document_or_404(doc_id)
    scope = current_scope()
    if scope.refuse_edit_details(doc) is not None:
        abort(403)
    placed_sites, placed_processes = [s.id for s in doc.sites], [p.id for p in doc.processes]
    form = MetadataForm(obj=doc).fill(placed_sites, placed_processes)
    if request.method == "GET":
        form.sites.data, form.processes.data = placed_sites, placed_processes
    access = scope.refuse_change_access(doc) is None
    if not access:
        for name in ("owner_id", "confidentiality", "shared_with"):
            delattr(form, name)
    elif request.method == "GET":
        form.shared_with.data = [u.id for u in doc.shared_with]
    if form.validate_on_submit():
        fields = ["title", "kind", "language", "review_interval_months", "retention_years", "description"]
        changes = {k: getattr(form, k).data for k in fields + (["confidentiality", "owner_id"] if access else [])}
        changes["description"] = (changes["description"] or "").strip() or None
        try:
            with write_transaction():
                shared = (list(db.session.scalars(select(User).where(User.id.in_(form.shared_with.data or []))))
                          if access else None)
                svc.update_metadata(doc, changes, actor=actor(), shared_with=shared,
                                    sites=list(form.sites.data or []), processes=list(form.processes.data or []))
                code = doc.code
        except ServiceError as exc:
            return refused(str(exc.message), exc.status, "documents/edit.html", form=form, doc=doc, access=access)
        flash(_("Document %(code)s updated.", code=code), "success")
        return redirect(url_for("documents.detail", doc_id=doc_id))
    return render_template("documents/edit.html", form=form, doc=doc, access=access), (400 if form.errors else 200)


@bp.route("/<int:doc_id>/versions/<int:number>/download")
def download(doc_id: int, number: int) -> ResponseReturnValue:
    """Always an attachment with the stored mime type, verified against its hash; every download leaves an access
    receipt."""
    doc = document_or_404(doc_id)
    version = version_or_404(doc, number)
    sha, size, name, mime = version.sha256, version.size, version.original_filename, version.mime_type

    def receipt() -> None:
        with write_transaction():
            svc.record_access("version.download", version, doc, actor())

    return send_blob(sha, size, name, mime, before_send=receipt)
