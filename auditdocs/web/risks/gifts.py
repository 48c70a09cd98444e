"""The gifts, hospitality and donations register on the web (ISO 37001 8.7): the register with its filters and
exports, an entry's page with approval and evidence, the forms, its history, and the thresholds per currency.
Auditors read everything and change nothing."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy.orm import selectinload

from ...db import write_transaction
from ...ddg_labels import (
    ASSOCIATE_CATEGORY_LABELS,
    GIFT_DECISION_LABELS,
    GIFT_DIRECTION_LABELS,
    GIFT_KIND_LABELS,
    GIFT_STATUS_LABELS,
)
from ...models import Gift
from ...models.records import id_list
from ...models.risks import CATEGORIES, GIFT_STATUSES
from ...policy import current_scope
from ...services import ServiceError
from ...services import gifts as gs
from ...services.attachments import attach, attachments_of
from ...services.ddg_common import clauses_of, money
from ...services.ddg_exports import GIFTS
from ...services.gift_thresholds import in_force
from ...services.uploads import Checked
from ...timeutil import local_today
from ..forms import form_refused, report
from ..keyset import Keyset
from ..params import plausible_date
from ..programme_forms import site_choices
from ..security import actor, require
from ..upload_stream import save_with_evidence, streaming_upload
from .blueprint import bp
from .ddg_forms import ApproveForm, AsOfForm, FileForm, GiftForm, RejectForm
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
SORT = Keyset((Gift.occurred_on, Gift.id), Gift.id, descending=True)
FIELD_LABELS: dict[str, Any] = {
    "reference": _l("Reference"), "kind": _l("Kind"), "direction": _l("Given or received"),
    "internal_party": _l("Our side (person or unit)"), "counterparty": _l("Other party"),
    "counterparty_category": _l("Category of the other party"), "site_id": _l("Site"), "occurred_on": _l("Date"),
    "value": _l("Value"), "currency": _l("Currency"), "description": _l("Description"),
    "purpose": _l("Purpose or occasion"), "decision": _l("Decision"), "decision_note": _l("Decision note"),
    "requires_approval": _l("Requires approval"), "status": _l("Status"), "approver_id": _l("Approved or rejected by"),
    "approved_on": _l("Approved or rejected on"), "approval_note": _l("Approval note"),
    "risk_ids": _l("Bribery risks"), "clause_ids": _l("Standards and clauses"),
}
CODES = {"kind": GIFT_KIND_LABELS, "direction": GIFT_DIRECTION_LABELS, "counterparty_category":
         ASSOCIATE_CATEGORY_LABELS, "decision": GIFT_DECISION_LABELS, "status": GIFT_STATUS_LABELS}
TEMPLATE = "risks/gifts/form.html"

for _endpoint in ("risks.gift_new", "risks.gift_edit", "risks.gift_add_file"):
    streaming_upload(_endpoint)


def gift_or_404(gift_id: int) -> Gift:
    """An entry the current user sees, else 404."""
    try:
        return gs.get_gift(current_scope(), gift_id)
    except ServiceError:
        abort(404)


@bp.route("/gifts/")
@require("see_risks")
def gifts_index() -> ResponseReturnValue:
    """The register: what was given or received, by whom, its value, what was decided and who approved it."""
    scope = current_scope()
    filters = filters_from_args(request.args, GIFT_STATUSES)
    stmt = gs.filtered(scope, filters).options(selectinload(Gift.site), selectinload(Gift.approver))
    page = SORT.page(stmt, request.args, PER_PAGE)
    return render_template("risks/gifts/index.html", page=page, query=filter_args(filters),
                           raw={k: (request.args.get(k) or "").strip() for k in ("site", "category", "state", "year",
                                                                                  "q")},
                           states=GIFT_STATUSES, categories=CATEGORIES, site_choices=site_choices(),
                           may_record=scope.refuse_record_gift() is None,
                           may_set_thresholds=scope.refuse_set_thresholds() is None, **DDG_LABELS)


@bp.route("/gifts/export.csv", defaults={"fmt": "csv"}, endpoint="gifts_export_csv")
@bp.route("/gifts/export.xlsx", defaults={"fmt": "xlsx"}, endpoint="gifts_export_xlsx")
@require("see_risks")
def gifts_export(fmt: str) -> ResponseReturnValue:
    """The filtered register as CSV or XLSX: one row per entry."""
    return download(GIFTS, filters_from_args(request.args, GIFT_STATUSES), fmt)


def render_detail(row: Gift, status: int = 200, **override: FlaskForm) -> ResponseReturnValue:
    """The entry's page, with a refused form shown with its errors."""
    scope = current_scope()
    pending = row.status == "pending_approval"
    return render_template(
        "risks/gifts/detail.html", gift=row, files=attachments_of(row), clauses=clauses_of(row.clause_ids),
        risks=risk_links(row.risks),
        threshold=in_force(row.currency), money=money(row.value),
        may_record=scope.refuse_record_gift() is None,
        may_decide=pending and gs.refuse_decide(row, actor()) is None,
        decide_block=gs.refuse_decide(row, actor()) if pending and scope.can("approve_gifts") else None,
        approve_form=override.get("approve") or ApproveForm(prefix="approve"),
        reject_form=override.get("reject") or RejectForm(prefix="reject"),
        file_form=override.get("file") or FileForm(prefix="file"), **DDG_LABELS), status


@bp.route("/gifts/<int:gift_id>")
@require("see_risks")
def gift_detail(gift_id: int) -> ResponseReturnValue:
    """An entry: the parties, the value, the decision, the approval, the links and the evidence."""
    return render_detail(gift_or_404(gift_id))


def _input(form: GiftForm) -> gs.GiftInput:
    return gs.GiftInput(
        kind=form.kind.data, direction=form.direction.data, internal_party=form.internal_party.data,
        counterparty=form.counterparty.data, counterparty_category=form.counterparty_category.data,
        occurred_on=form.occurred_on.data, value=form.value.data, currency=form.currency.data,
        description=form.description.data, purpose=form.purpose.data, decision=form.decision.data or None,
        decision_note=form.decision_note.data, site_id=form.site_id.data or None,
        risk_ids=form.risk_ids.data or [], clause_ids=form.clause_ids.data or [])


def _save(form: GiftForm, row: Gift | None) -> tuple[int, bool] | int:
    """Create or update, attaching the evidence file in the same transaction; (id, changed) or a refusal status."""
    data, today = _input(form), local_today()

    def write(checked: Checked | None) -> tuple[int, bool]:
        if row is None:
            record, changed = gs.create_gift(data, actor=actor(), today=today), True
        else:
            record = row
            changed = gs.update_gift(row, data, actor=actor(), today=today, note=form.note.data)
        if checked is not None:
            attach(record, checked, actor=actor())
            changed = True
        return record.id, changed

    return save_with_evidence(form, write)


def _saved_message(gift_id: int) -> str:
    row = gift_or_404(gift_id)
    if row.status == "pending_approval":
        return str(_("Saved as %(ref)s: its value needs approval by someone else.", ref=row.reference))
    return str(_("Saved as %(ref)s: no approval needed below the threshold.", ref=row.reference))


@bp.route("/gifts/new", methods=["GET", "POST"])
@require("see_risks")
def gift_new() -> ResponseReturnValue:
    """Record a gift, hospitality, donation or other benefit, given or received."""
    refuse_unless_allowed(current_scope().refuse_record_gift())
    form = GiftForm().fill()
    del form.note
    if not form.is_submitted():
        form.occurred_on.data = local_today()
        return render_template(TEMPLATE, form=form, gift=None)
    if not form.validate():
        return render_template(TEMPLATE, form=form, gift=None), form_refused()
    result = _save(form, None)
    if isinstance(result, int):
        return render_template(TEMPLATE, form=form, gift=None), result
    flash(_saved_message(result[0]), "success")
    return redirect(url_for("risks.gift_detail", gift_id=result[0]))


@bp.route("/gifts/<int:gift_id>/edit", methods=["GET", "POST"])
@require("see_risks")
def gift_edit(gift_id: int) -> ResponseReturnValue:
    """Change an entry (a decision taken later, a correction): it is judged against the threshold again."""
    row = gift_or_404(gift_id)
    refuse_unless_allowed(current_scope().refuse_record_gift())
    form = GiftForm(obj=row).fill(row.site_id)
    if not form.is_submitted():
        form.risk_ids.data, form.clause_ids.data = id_list(row.risk_ids), id_list(row.clause_ids)
        form.site_id.data, form.decision.data, form.value.data = row.site_id or 0, row.decision or "", money(row.value)
        if row.status == "approved":
            flash(_("This entry is approved: a change makes it wait for approval again if its value needs it."),
                  "warning")
        return render_template(TEMPLATE, form=form, gift=row)
    if not form.validate():
        return render_template(TEMPLATE, form=form, gift=row), form_refused()
    result = _save(form, row)
    if isinstance(result, int):
        return render_template(TEMPLATE, form=form, gift=row), result
    flash(_saved_message(row.id) if result[1] else _("Nothing to change."), "success" if result[1] else "info")
    return redirect(url_for("risks.gift_detail", gift_id=row.id))


def _decide(gift_id: int, approve: bool) -> ResponseReturnValue:
    row = gift_or_404(gift_id)
    refuse_unless_allowed(current_scope().refuse_approve_gift(row))
    form: FlaskForm = ApproveForm(prefix="approve") if approve else RejectForm(prefix="reject")
    key = "approve" if approve else "reject"
    if not form.validate_on_submit():
        return render_detail(row, form_refused(), **{key: form})
    step = gs.approve_gift if approve else gs.reject_gift
    try:
        with write_transaction():
            step(row, actor=actor(), today=local_today(), note=form.approval_note.data)
    except ServiceError as exc:
        return render_detail(row, report(exc, form), **{key: form})
    flash(_("Entry approved.") if approve else _("Entry rejected."), "success")
    return redirect(url_for("risks.gift_detail", gift_id=row.id))


@bp.route("/gifts/<int:gift_id>/approve", methods=["POST"])
@require("see_risks")
def gift_approve(gift_id: int) -> ResponseReturnValue:
    """Approve an entry waiting for approval (never one's own: segregation of duties)."""
    return _decide(gift_id, approve=True)


@bp.route("/gifts/<int:gift_id>/reject", methods=["POST"])
@require("see_risks")
def gift_reject(gift_id: int) -> ResponseReturnValue:
    """Reject an entry waiting for approval, saying why."""
    return _decide(gift_id, approve=False)


@bp.route("/gifts/<int:gift_id>/files", methods=["POST"])
@require("see_risks")
def gift_add_file(gift_id: int) -> ResponseReturnValue:
    """Add an evidence file to the entry; files are never removed."""
    row = gift_or_404(gift_id)
    refuse_unless_allowed(current_scope().refuse_record_gift())
    return add_file(row, FileForm(prefix="file"), lambda status, form: render_detail(row, status, file=form),
                    "risks.gift_detail", gift_id=row.id)


@bp.route("/gifts/<int:gift_id>/files/<int:attachment_id>")
@require("see_risks")
def gift_file(gift_id: int, attachment_id: int) -> ResponseReturnValue:
    """Download an evidence file: always an attachment, verified against its hash, with an access receipt."""
    return send_file_of(gift_or_404(gift_id), attachment_id)


@bp.route("/gifts/<int:gift_id>/history")
@require("see_risks")
def gift_history(gift_id: int) -> ResponseReturnValue:
    """Every change to the entry, its approvals and rejections; or the entry on a chosen day."""
    row = gift_or_404(gift_id)
    entries, names = timeline(row, FIELD_LABELS, CODES, ("approver_id",), ("occurred_on", "approved_on"))
    form = AsOfForm(request.args)
    day = form.on.data if form.validate() else None
    if not plausible_date(day):
        form.on.errors = [*form.on.errors, _("Enter a date between 1990 and 2100.")]
        day = None
    state = state_on(row, day, FIELD_LABELS, names) if day else None
    status = 200 if not form.on.errors else 400
    return render_template("risks/gifts/history.html", record=row, entries=entries, form=form, day=day,
                           state=state, as_of=day is not None, back=url_for("risks.gift_detail", gift_id=row.id),
                           index=url_for("risks.gifts_index"), register=_("Gifts and hospitality"),
                           history_url=url_for("risks.gift_history", gift_id=row.id)), status
