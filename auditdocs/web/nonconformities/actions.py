"""Corrective-action steps on the web: raise, edit, start, implement (with evidence), schedule and record the
effectiveness check, cancel. Each is a POST from the nonconformity's page through the core services; a refusal
answers that page again, with the message at its field and the service's status."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from werkzeug.datastructures import FileStorage

from ...db import write_transaction
from ...models import CorrectiveAction, Nonconformity
from ...policy import current_scope
from ...services import ServiceError, uploads
from ...services import actions as svc
from ...services.attachments import attach
from ...services.uploads import Checked
from ...timeutil import local_today
from ..forms import form_refused, report
from ..security import actor
from ..upload_stream import incoming
from .blueprint import action_or_404, bp, nc_or_404
from .detail import render_detail
from .forms import ActionForm, CancelForm, CheckForm, ImplementForm, ScheduleForm


def _back(action: CorrectiveAction, message: str) -> ResponseReturnValue:
    flash(message, "success")
    return redirect(url_for("nonconformities.detail", nc_id=action.nonconformity_id, _anchor=f"action-{action.id}"))


def _refused(nc: Nonconformity, action: CorrectiveAction, kind: str, form: FlaskForm,
             exc: ServiceError | None = None) -> ResponseReturnValue:
    status = report(exc, form) if exc is not None else form_refused()
    return render_detail(nc, status, **{f"{action.id}-{kind}": form})


@bp.route("/<int:nc_id>/actions", methods=["POST"])
def add_action(nc_id: int) -> ResponseReturnValue:
    """Raise a corrective action against the nonconformity."""
    nc = nc_or_404(nc_id)
    if current_scope().refuse_record_nonconformity() is not None:
        abort(403)
    form = ActionForm(prefix="new").fill()
    if not form.validate_on_submit():
        return render_detail(nc, form_refused(), add_action=form)
    try:
        with write_transaction():
            action = svc.add_action(nc, svc.ActionInput(form.description.data, form.owner_id.data or None,
                                                        form.due_date.data), actor=actor(), today=local_today())
    except ServiceError as exc:
        return render_detail(nc, report(exc, form), add_action=form)
    return _back(action, _("Corrective action A%(num)d raised.", num=action.number))


@bp.route("/<int:nc_id>/actions/<int:action_id>/edit", methods=["GET", "POST"])
def edit_action(nc_id: int, action_id: int) -> ResponseReturnValue:
    """Change an action's description, owner or due date while it is planned or in progress."""
    nc = nc_or_404(nc_id)
    action = action_or_404(nc, action_id)
    if current_scope().refuse_work_action(action) is not None:
        abort(403)
    form = ActionForm(obj=action).fill(action.owner_id)
    template = "nonconformities/action_form.html"
    if not form.is_submitted():
        return render_template(template, form=form, nc=nc, action=action)
    if not form.validate():
        return render_template(template, form=form, nc=nc, action=action), form_refused()
    try:
        with write_transaction():
            changed = svc.update_action(action, svc.ActionInput(form.description.data, form.owner_id.data or None,
                                                                form.due_date.data), actor=actor(),
                                        today=local_today())
    except ServiceError as exc:
        return render_template(template, form=form, nc=nc, action=action), report(exc, form)
    return _back(action, _("Corrective action saved.") if changed else _("Nothing to change."))


@bp.route("/<int:nc_id>/actions/<int:action_id>/start", methods=["POST"])
def start_action(nc_id: int, action_id: int) -> ResponseReturnValue:
    """Planned → in progress."""
    nc = nc_or_404(nc_id)
    action = action_or_404(nc, action_id)
    form = FlaskForm(prefix=f"a{action.id}start")
    if not form.validate_on_submit():
        return _refused(nc, action, "start", form)
    try:
        with write_transaction():
            svc.start_action(action, actor=actor(), today=local_today())
    except ServiceError as exc:
        return _refused(nc, action, "start", form, exc)
    return _back(action, _("Action started."))


@bp.route("/<int:nc_id>/actions/<int:action_id>/implement", methods=["POST"])
def implement_action(nc_id: int, action_id: int) -> ResponseReturnValue:
    """Mark the action implemented with its completion evidence, and the evidence file if one is given."""
    nc = nc_or_404(nc_id)
    action = action_or_404(nc, action_id)
    if current_scope().refuse_work_action(action) is not None:
        abort(403)
    form = ImplementForm(prefix=f"a{action.id}impl")
    if not form.validate_on_submit():
        return _refused(nc, action, "implement", form)
    today, file = local_today(), form.evidence.data

    def write(checked: Checked | None) -> None:
        svc.implement_action(action, actor=actor(), today=today, evidence=form.completion_note.data)
        if checked is not None:
            attach(action, checked, actor=actor())

    try:
        if isinstance(file, FileStorage) and file.filename:
            try:
                checked = uploads.check_upload(incoming(file))
            except ServiceError as exc:
                form.evidence.errors = [*form.evidence.errors, str(exc.message)]
                return render_detail(nc, exc.status, **{f"{action.id}-implement": form})
            uploads.ingest_checked(checked, write)
        else:
            with write_transaction():
                write(None)
    except ServiceError as exc:
        return _refused(nc, action, "implement", form, exc)
    return _back(action, _("Action marked implemented."))


@bp.route("/<int:nc_id>/actions/<int:action_id>/schedule", methods=["POST"])
def schedule_check(nc_id: int, action_id: int) -> ResponseReturnValue:
    """Schedule the effectiveness check, naming who does it."""
    nc = nc_or_404(nc_id)
    action = action_or_404(nc, action_id)
    if current_scope().refuse_record_nonconformity() is not None:
        abort(403)
    form = ScheduleForm(prefix=f"a{action.id}sched").fill(action.owner_id, action.checker_id)
    if not form.validate_on_submit():
        return _refused(nc, action, "schedule", form)
    try:
        with write_transaction():
            svc.schedule_check(action, actor=actor(), due=form.check_due.data, checker_id=form.checker_id.data or None)
    except ServiceError as exc:
        return _refused(nc, action, "schedule", form, exc)
    return _back(action, _("Effectiveness check scheduled."))


@bp.route("/<int:nc_id>/actions/<int:action_id>/check", methods=["POST"])
def record_check(nc_id: int, action_id: int) -> ResponseReturnValue:
    """Record the effectiveness check: effective or not effective, with its evidence."""
    nc = nc_or_404(nc_id)
    action = action_or_404(nc, action_id)
    refusal = current_scope().refuse_check_action(action)
    if refusal is not None:
        report(ServiceError(refusal, 403))
        return render_detail(nc, 403)
    form = CheckForm(prefix=f"a{action.id}check")
    if not form.validate_on_submit():
        return _refused(nc, action, "check", form)
    try:
        with write_transaction():
            svc.record_check(action, actor=actor(), today=local_today(), effective=form.result.data == "effective",
                             evidence=form.check_evidence.data)
    except ServiceError as exc:
        return _refused(nc, action, "check", form, exc)
    message = (_("Action checked effective.") if form.result.data == "effective"
               else _("Action checked not effective: the nonconformity needs a new action."))
    return _back(action, message)


@bp.route("/<int:nc_id>/actions/<int:action_id>/cancel", methods=["POST"])
def cancel_action(nc_id: int, action_id: int) -> ResponseReturnValue:
    """Cancel an action, saying why (compliance and quality officers)."""
    nc = nc_or_404(nc_id)
    action = action_or_404(nc, action_id)
    if current_scope().refuse_cancel_action(action) is not None:
        abort(403)
    form = CancelForm(prefix=f"a{action.id}cancel")
    if not form.validate_on_submit():
        return _refused(nc, action, "cancel", form)
    try:
        with write_transaction():
            svc.cancel_action(action, actor=actor(), reason=form.cancel_reason.data)
    except ServiceError as exc:
        return _refused(nc, action, "cancel", form, exc)
    return _back(action, _("Action cancelled."))
