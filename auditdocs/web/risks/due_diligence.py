"""Due diligence on the web (ISO 37001 8.2): the register with its filters and exports, a file's page with its
evidence, the forms to open and update it, and its history. Auditors read everything and change nothing."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from ...ddg_labels import (
    ASSOCIATE_CATEGORY_LABELS,
    DD_DECISION_LABELS,
    DD_STATUS_LABELS,
    DD_SUBJECT_TYPE_LABELS,
    RISK_LEVEL_LABELS,
)
from ...models import DueDiligence
from ...models.records import id_list
from ...models.risks import CATEGORIES, DD_STATUSES
from ...policy import current_scope
from ...services import ServiceError
from ...services import due_diligence as dds
from ...services.attachments import attach, attachments_of
from ...services.ddg_common import clauses_of
from ...services.ddg_exports import DD_STATE_CHOICES, DUE_DILIGENCE
from ...services.uploads import Checked
from ...timeutil import local_today
from ..forms import form_refused
from ..keyset import Keyset
from ..params import plausible_date
from ..programme_forms import site_choices
from ..security import actor, require
from ..upload_stream import save_with_evidence, streaming_upload
from .blueprint import bp
from .ddg_forms import AsOfForm, DdForm, FileForm
from .ddg_support import (
    DDG_LABELS,
    add_file,
    download,
    filter_args,
    filters_from_args,
    refuse_unless_allowed,
    risk_links,
    send_file_of,
    state_on,
    timeline,
)

PER_PAGE = 25
SORT = Keyset((DueDiligence.id,), DueDiligence.id, descending=True)  # the newest file first
FIELD_LABELS: dict[str, Any] = {
    "reference": _l("Reference"), "subject_type": _l("Subject"), "subject_name": _l("Name of the subject"),
    "category": _l("Category"), "position": _l("Position"), "site_id": _l("Site"), "process_id": _l("Process"),
    "risk_level": _l("Bribery-risk level"), "checks_performed": _l("Checks performed"),
    "result": _l("Result of the checks"), "decision": _l("Decision"), "conditions": _l("Conditions"),
    "decided_on": _l("Decided on"), "reviewer_id": _l("Reviewer"), "next_review": _l("Next review"),
    "risk_ids": _l("Bribery risks"), "clause_ids": _l("Standards and clauses"), "status": _l("Status"),
}
CODES = {"subject_type": DD_SUBJECT_TYPE_LABELS, "category": ASSOCIATE_CATEGORY_LABELS,
         "risk_level": RISK_LEVEL_LABELS, "decision": DD_DECISION_LABELS, "status": DD_STATUS_LABELS}
TEMPLATE = "risks/due_diligence/form.html"

for _endpoint in ("risks.dd_new", "risks.dd_edit", "risks.dd_add_file"):
    streaming_upload(_endpoint)


def dd_or_404(dd_id: int) -> DueDiligence:
    """A file the current user sees, else 404."""
    try:
        return dds.get_due_diligence(current_scope(), dd_id)
    except ServiceError:
        abort(404)


@bp.route("/due-diligence/")
@require("see_risks")
def dd_index() -> ResponseReturnValue:
    """The register of due-diligence files: who was checked, how exposed, what was decided, when to review."""
    scope = current_scope()
    filters = filters_from_args(request.args, DD_STATE_CHOICES)
    stmt = dds.filtered(scope, filters).options(selectinload(DueDiligence.site),
                                                selectinload(DueDiligence.reviewer))
    page = SORT.page(stmt, request.args, PER_PAGE)
    query = filter_args(filters)
    return render_template("risks/due_diligence/index.html", page=page, query=query, today=local_today(),
                           raw={k: (request.args.get(k) or "").strip() for k in ("site", "category", "state",
                                                                                  "year", "q")},
                           states=DD_STATE_CHOICES, statuses=DD_STATUSES, categories=CATEGORIES,
                           site_choices=site_choices(), may_record=scope.refuse_record_due_diligence() is None,
                           **DDG_LABELS)


@bp.route("/due-diligence/export.csv", defaults={"fmt": "csv"}, endpoint="dd_export_csv")
@bp.route("/due-diligence/export.xlsx", defaults={"fmt": "xlsx"}, endpoint="dd_export_xlsx")
@require("see_risks")
def dd_export(fmt: str) -> ResponseReturnValue:
    """The filtered register as CSV or XLSX: one row per file."""
    return download(DUE_DILIGENCE, filters_from_args(request.args, DD_STATE_CHOICES), fmt)


def render_detail(row: DueDiligence, status: int = 200, file_form: FileForm | None = None) -> ResponseReturnValue:
    scope = current_scope()
    return render_template("risks/due_diligence/detail.html", dd=row, files=attachments_of(row),
                           clauses=clauses_of(row.clause_ids), risks=risk_links(row.risks), today=local_today(),
                           may_record=scope.refuse_record_due_diligence() is None,
                           file_form=file_form or FileForm(prefix="file"), **DDG_LABELS), status


@bp.route("/due-diligence/<int:dd_id>")
@require("see_risks")
def dd_detail(dd_id: int) -> ResponseReturnValue:
    """A due-diligence file: the subject, the checks, the decision, the links and the evidence."""
    return render_detail(dd_or_404(dd_id))


def _input(form: DdForm) -> dds.DdInput:
    return dds.DdInput(
        subject_type=form.subject_type.data, subject_name=form.subject_name.data, category=form.category.data,
        risk_level=form.risk_level.data, checks_performed=form.checks_performed.data, position=form.position.data,
        site_id=form.site_id.data or None, process_id=form.process_id.data or None, result=form.result.data,
        decision=form.decision.data or None, conditions=form.conditions.data, decided_on=form.decided_on.data,
        reviewer_id=form.reviewer_id.data or None, next_review=form.next_review.data,
        risk_ids=form.risk_ids.data or [], clause_ids=form.clause_ids.data or [])


def _save(form: DdForm, row: DueDiligence | None) -> tuple[int, bool] | int:
    """Create or update, attaching the evidence file in the same transaction; (id, changed) or a refusal status."""
    data, today = _input(form), local_today()

    def write(checked: Checked | None) -> tuple[int, bool]:
        if row is None:
            record, changed = dds.create_due_diligence(data, actor=actor(), today=today), True
        else:
            record = row
            changed = dds.update_due_diligence(row, data, actor=actor(), today=today, note=form.note.data)
        if checked is not None:
            attach(record, checked, actor=actor())
            changed = True
        return record.id, changed

    return save_with_evidence(form, write)


@bp.route("/due-diligence/new", methods=["GET", "POST"])
@require("see_risks")
def dd_new() -> ResponseReturnValue:
    """Open a due-diligence file."""
    refuse_unless_allowed(current_scope().refuse_record_due_diligence())
    form = DdForm().fill([actor().id])
    del form.note
    if not form.is_submitted():
        form.reviewer_id.data = actor().id
        return render_template(TEMPLATE, form=form, dd=None)
    if not form.validate():
        return render_template(TEMPLATE, form=form, dd=None), form_refused()
    result = _save(form, None)
    if isinstance(result, int):
        return render_template(TEMPLATE, form=form, dd=None), result
    flash(_("Due-diligence file opened."), "success")
    return redirect(url_for("risks.dd_detail", dd_id=result[0]))


@bp.route("/due-diligence/<int:dd_id>/edit", methods=["GET", "POST"])
@require("see_risks")
def dd_edit(dd_id: int) -> ResponseReturnValue:
    """Update a file: the checks as they go, the decision, a periodic review."""
    row = dd_or_404(dd_id)
    refuse_unless_allowed(current_scope().refuse_record_due_diligence())
    form = DdForm(obj=row).fill([row.reviewer_id], row.site_id, row.process_id)
    if not form.is_submitted():
        form.risk_ids.data, form.clause_ids.data = id_list(row.risk_ids), id_list(row.clause_ids)
        form.site_id.data, form.process_id.data = row.site_id or 0, row.process_id or 0
        form.reviewer_id.data, form.decision.data = row.reviewer_id or 0, row.decision or ""
        return render_template(TEMPLATE, form=form, dd=row)
    if not form.validate():
        return render_template(TEMPLATE, form=form, dd=row), form_refused()
    result = _save(form, row)
    if isinstance(result, int):
        return render_template(TEMPLATE, form=form, dd=row), result
    flash(_("Due-diligence file saved.") if result[1] else _("Nothing to change."),
          "success" if result[1] else "info")
    return redirect(url_for("risks.dd_detail", dd_id=row.id))


@bp.route("/due-diligence/<int:dd_id>/files", methods=["POST"])
@require("see_risks")
def dd_add_file(dd_id: int) -> ResponseReturnValue:
    """Add an evidence file to the file; files are never removed."""
    row = dd_or_404(dd_id)
    refuse_unless_allowed(current_scope().refuse_record_due_diligence())
    return add_file(row, FileForm(prefix="file"), lambda status, form: render_detail(row, status, form),
                    "risks.dd_detail", dd_id=row.id)


@bp.route("/due-diligence/<int:dd_id>/files/<int:attachment_id>")
@require("see_risks")
def dd_file(dd_id: int, attachment_id: int) -> ResponseReturnValue:
    """Download an evidence file: always an attachment, verified against its hash, with an access receipt."""
    return send_file_of(dd_or_404(dd_id), attachment_id)


@bp.route("/due-diligence/<int:dd_id>/history")
@require("see_risks")
def dd_history(dd_id: int) -> ResponseReturnValue:
    """Every change to the file: who, when, why, each field's old and new value; or the file on a chosen day."""
    row = dd_or_404(dd_id)
    entries, names = timeline(row, FIELD_LABELS, CODES, ("reviewer_id",), ("decided_on", "next_review"))
    form = AsOfForm(request.args)
    day = form.on.data if form.validate() else None
    if not plausible_date(day):
        form.on.errors = [*form.on.errors, _("Enter a date between 1990 and 2100.")]
        day = None
    state = state_on(row, day, FIELD_LABELS, names) if day else None
    status = 200 if not form.on.errors else 400
    return render_template("risks/due_diligence/history.html", record=row, entries=entries, form=form, day=day,
                           state=state, as_of=day is not None, back=url_for("risks.dd_detail", dd_id=row.id),
                           index=url_for("risks.dd_index"), register=_("Due diligence"),
                           history_url=url_for("risks.dd_history", dd_id=row.id)), status
