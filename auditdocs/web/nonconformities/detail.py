"""A nonconformity's own pages: raise, edit, the page with its actions, evidence files, close and reopen.

Every change goes through the core services (policy 403, state 409, values 400 at their fields); a button is shown
only when the policy and the state allow it, and a refused POST answers the same page with the reason.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from sqlalchemy import select

from ...db import write_transaction
from ...extensions import db
from ...models import Attachment, Audit, CorrectiveAction, Document, Nonconformity
from ...models.records import AUDIT_SOURCES, id_list
from ...policy import current_scope
from ...services import ServiceError, uploads
from ...services import nonconformities as ncs
from ...services.attachments import attach, attachments_of, record_download
from ...services.nc_offers import nc_offers
from ...services.uploads import Checked
from ...timeutil import local_today
from ..blobs import send_blob
from ..forms import form_refused, report
from ..params import int_or_none
from ..security import actor
from ..upload_stream import incoming, save_with_evidence, streaming_upload
from .blueprint import bp, nc_or_404
from .forms import (
    ActionForm,
    CancelForm,
    CheckForm,
    CloseForm,
    FileForm,
    ImplementForm,
    NcForm,
    ReopenForm,
    ScheduleForm,
)

for _endpoint in ("nonconformities.new", "nonconformities.edit", "nonconformities.add_file",
                  "nonconformities.implement_action"):
    streaming_upload(_endpoint)

def action_forms(action: CorrectiveAction, override: dict[str, FlaskForm]) -> dict[str, FlaskForm]:
    """The forms of one action's steps, each with its own prefix (several actions share the page)."""
    p = f"a{action.id}"
    forms: dict[str, FlaskForm] = {
        "implement": ImplementForm(prefix=f"{p}impl"),
        "schedule": ScheduleForm(prefix=f"{p}sched", obj=action).fill(action.owner_id, action.checker_id),
        "check": CheckForm(prefix=f"{p}check"), "cancel": CancelForm(prefix=f"{p}cancel"),
        "start": FlaskForm(prefix=f"{p}start"),
    }
    for kind in forms:
        if f"{action.id}-{kind}" in override:
            forms[kind] = override[f"{action.id}-{kind}"]
    return forms


def detail_context(nc: Nonconformity, override: dict[str, FlaskForm] | None = None) -> dict[str, Any]:
    """What the page shows: the finding, its analysis, its actions with the steps offered, its files and forms."""
    override = override or {}
    scope = current_scope()
    offers = nc_offers(scope, nc)
    actions = list(nc.actions)
    closer = not nc.is_closed and scope.refuse_close_nonconformity(nc) is None
    return {
        "nc": nc, "today": local_today(), "actions": actions, "files": attachments_of(nc), "offers": offers,
        "documents": [d for d in nc.documents if scope.sees_document(d)],  # a restricted title is not shown
        "action_files": {a.id: attachments_of(a) for a in actions},
        "action_forms": {a.id: action_forms(a, override) for a in actions},
        # Why a closer cannot close yet (an open action, a not-effective one...), said where the button would be.
        "close_block": ncs.close_refusal(nc, no_action=False) if closer and not offers.close_without_action
        else None,
        "action_form": override.get("add_action") or ActionForm(prefix="new").fill(),
        "close_form": override.get("close") or CloseForm(prefix="close"),
        "reopen_form": override.get("reopen") or ReopenForm(prefix="reopen"),
        "file_form": override.get("file") or FileForm(prefix="file"),
    }


def render_detail(nc: Nonconformity, status: int = 200, **override: FlaskForm) -> ResponseReturnValue:
    """The page, with a refused form shown with its errors."""
    return render_template("nonconformities/detail.html", **detail_context(nc, override)), status


@bp.route("/<int:nc_id>")
def detail(nc_id: int) -> ResponseReturnValue:
    """A nonconformity: what was found, the analysis, the actions and their checks, the files."""
    return render_detail(nc_or_404(nc_id))


# -- raise and edit -------------------------------------------------------------------------------------------


def _documents_from_codes(form: NcForm) -> list[int] | None:
    """The codes typed as ids of documents the person sees; an unknown code is an error at the field."""
    codes = [c.strip() for c in (form.document_ids.data or "").replace(";", ",").replace("\n", ",").split(",")]
    codes = list(dict.fromkeys(c for c in codes if c))
    if not codes:
        return []
    rows = db.session.execute(select(Document.code, Document.id).where(
        Document.code.in_(codes), current_scope().document_condition())).all()
    found: dict[str, int] = {row[0]: row[1] for row in rows}
    missing = [c for c in codes if c not in found]
    if missing:
        form.document_ids.errors = [*form.document_ids.errors,
                                    _("No document you can see has the code %(codes)s.", codes=", ".join(missing))]
        return None
    return [found[c] for c in codes]


def _input(form: NcForm, document_ids: list[int]) -> ncs.NcInput:
    return ncs.NcInput(
        title=form.title.data, description=form.description.data, source=form.source.data or "",
        grade=form.grade.data or "", detected_on=form.detected_on.data,
        detected_by_id=form.detected_by_id.data or None, detected_by_name=form.detected_by_name.data,
        audit_id=form.audit_id.data or None, site_id=form.site_id.data or None,
        process_id=form.process_id.data or None, clause_ids=form.clause_ids.data or [], document_ids=document_ids,
        correction=form.correction.data, root_cause_method=form.root_cause_method.data or None,
        ishikawa_category=form.ishikawa_category.data or None, analysis=form.analysis.data,
        root_cause=form.root_cause.data)


def _save(form: NcForm, nc: Nonconformity | None) -> tuple[int, bool] | int:
    """Create or update, attaching the evidence file in the same transaction; (id, changed) or a refusal status."""
    document_ids = _documents_from_codes(form)
    if document_ids is None:
        return form_refused()
    data, today = _input(form, document_ids), local_today()

    def write(checked: Checked | None) -> tuple[int, bool]:
        if nc is None:
            record, changed = ncs.create_nonconformity(data, actor=actor(), today=today), True
        else:
            record = nc
            changed = ncs.update_nonconformity(nc, data, actor=actor(), today=today, note=form.note.data,
                                               seen_revision=int_or_none(form.seen_revision.data))
        if checked is not None:
            attach(record, checked, actor=actor())
            changed = True
        return record.id, changed

    return save_with_evidence(form, write)


def _preset(form: NcForm) -> None:
    """Raised from an audit's page: the audit chosen and the source set to its kind."""
    audit_id = int_or_none(request.args.get("audit"))
    audit = db.session.get(Audit, audit_id) if audit_id is not None else None
    if audit is not None:
        form.audit_id.data = audit.id
        form.source.data = "internal_audit" if audit.audit_type == "internal" else "external_audit"
    elif request.args.get("source") in AUDIT_SOURCES:
        form.source.data = request.args["source"]
    form.detected_on.data = local_today()
    form.detected_by_id.data = actor().id


@bp.route("/new", methods=["GET", "POST"])
def new() -> ResponseReturnValue:
    """Raise a nonconformity (from an audit's page, the audit comes chosen)."""
    refusal = current_scope().refuse_record_nonconformity()
    if refusal is not None:
        abort(403)
    form = NcForm().fill()
    del form.note, form.seen_revision
    template = "nonconformities/form.html"
    if not form.is_submitted():
        _preset(form)
        return render_template(template, form=form, nc=None)
    if not form.validate():
        return render_template(template, form=form, nc=None), form_refused()
    result = _save(form, None)
    if isinstance(result, int):
        return render_template(template, form=form, nc=None), result
    flash(_("Nonconformity raised."), "success")
    return redirect(url_for("nonconformities.detail", nc_id=result[0]))


@bp.route("/<int:nc_id>/edit", methods=["GET", "POST"])
def edit(nc_id: int) -> ResponseReturnValue:
    """Edit a nonconformity that is not closed: its analysis and root cause grow as the work goes on."""
    nc = nc_or_404(nc_id)
    if current_scope().refuse_record_nonconformity() is not None:
        abort(403)
    template = "nonconformities/form.html"
    form = NcForm(obj=nc).fill([nc.detected_by_id], nc.site_id, nc.process_id)
    if not form.is_submitted():
        form.clause_ids.data = id_list(nc.clause_ids)
        form.document_ids.data = ", ".join(d.code for d in nc.documents if current_scope().sees_document(d))
        form.audit_id.data, form.site_id.data = nc.audit_id or 0, nc.site_id or 0
        form.process_id.data, form.detected_by_id.data = nc.process_id or 0, nc.detected_by_id or 0
        form.root_cause_method.data = nc.root_cause_method or ""
        form.ishikawa_category.data = nc.ishikawa_category or ""
        form.seen_revision.data = str(nc.revision)
        if nc.is_closed:
            flash(_("This nonconformity is closed: reopen it first."), "warning")
        return render_template(template, form=form, nc=nc)
    if not form.validate():
        return render_template(template, form=form, nc=nc), form_refused()
    result = _save(form, nc)
    if isinstance(result, int):
        if result == 409:  # saved meanwhile by someone else: a second save, after comparing, is a deliberate one
            db.session.refresh(nc)
            form.seen_revision.data = str(nc.revision)
        return render_template(template, form=form, nc=nc), result
    changed = result[1]
    flash(_("Nonconformity saved.") if changed else _("Nothing to change."), "success" if changed else "info")
    return redirect(url_for("nonconformities.detail", nc_id=nc.id))


# -- files ----------------------------------------------------------------------------------------------------


@bp.route("/<int:nc_id>/files", methods=["POST"])
def add_file(nc_id: int) -> ResponseReturnValue:
    """Add an evidence file to the nonconformity; files are never removed."""
    nc = nc_or_404(nc_id)
    if current_scope().refuse_record_nonconformity() is not None:
        abort(403)
    form = FileForm(prefix="file")
    if not form.validate_on_submit():
        return render_detail(nc, form_refused(), file=form)

    def write(checked: Checked) -> int:
        ncs.hold(nc)  # under the lock: a closure that lands while the file uploads refuses it too
        ncs.require_not_closed(nc)
        return attach(nc, checked, actor=actor()).id

    try:
        ncs.require_not_closed(nc)  # before the bytes are stored: a closed record changes only by reopening
        uploads.ingest(incoming(form.file.data), write)
    except ServiceError as exc:
        if exc.status == 400:  # the file itself: said at the field
            form.file.errors = [*form.file.errors, str(exc.message)]
        else:  # the role or the record's state: the form may not be on the page any more
            report(exc)
        return render_detail(nc, exc.status, file=form)
    flash(_("File added."), "success")
    return redirect(url_for("nonconformities.detail", nc_id=nc.id, _anchor="files"))


def _file_of(nc: Nonconformity, attachment_id: int) -> Attachment:
    """A file of the nonconformity or of one of its actions, else 404."""
    row = db.session.get(Attachment, attachment_id)
    owners = {("nonconformity", nc.id)} | {("corrective_action", a.id) for a in nc.actions}
    if row is None or (row.owner_type, row.owner_id) not in owners:
        abort(404)
    return row


@bp.route("/<int:nc_id>/files/<int:attachment_id>")
def file(nc_id: int, attachment_id: int) -> ResponseReturnValue:
    """Download an evidence file: always an attachment, verified against its hash, with an access receipt."""
    nc = nc_or_404(nc_id)
    row = _file_of(nc, attachment_id)
    sha, size, name, mime = row.sha256, row.size, row.original_filename, row.mime_type

    def receipt() -> None:
        with write_transaction():
            record_download(row, actor())

    return send_blob(sha, size, name, mime, before_send=receipt)


# -- close and reopen -----------------------------------------------------------------------------------------


@bp.route("/<int:nc_id>/close", methods=["POST"])
def close(nc_id: int) -> ResponseReturnValue:
    """Close after verified effective actions, or an observation/OFI on a recorded no-action decision."""
    nc = nc_or_404(nc_id)
    if current_scope().refuse_close_nonconformity(nc) is not None:
        abort(403)
    form = CloseForm(prefix="close")
    if not form.validate_on_submit():
        return render_detail(nc, form_refused(), close=form)
    try:
        with write_transaction():
            ncs.close_nonconformity(nc, actor=actor(), today=local_today(), note=form.closure_note.data,
                                    no_action=bool(form.no_action.data))
    except ServiceError as exc:
        return render_detail(nc, report(exc, form), close=form)
    flash(_("Nonconformity closed."), "success")
    return redirect(url_for("nonconformities.detail", nc_id=nc.id))


@bp.route("/<int:nc_id>/reopen", methods=["POST"])
def reopen(nc_id: int) -> ResponseReturnValue:
    """Reopen a closed nonconformity, saying why (the closure stays in its history)."""
    nc = nc_or_404(nc_id)
    if current_scope().refuse_close_nonconformity(nc) is not None:
        abort(403)
    form = ReopenForm(prefix="reopen")
    if not form.validate_on_submit():
        return render_detail(nc, form_refused(), reopen=form)
    try:
        with write_transaction():
            ncs.reopen_nonconformity(nc, actor=actor(), reason=form.reason.data)
    except ServiceError as exc:
        return render_detail(nc, report(exc, form), reopen=form)
    flash(_("Nonconformity reopened."), "success")
    return redirect(url_for("nonconformities.detail", nc_id=nc.id))
