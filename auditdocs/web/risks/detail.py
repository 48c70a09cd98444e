"""A bribery risk's pages: its assessment with controls and treatment, (re)assess within an exercise, approve (someone
other than the assessor) and retire. Auditors read the approved assessment, never the one waiting for approval."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select

from ...db import write_transaction
from ...extensions import db
from ...models import CorrectiveAction, Document, Nonconformity, Process, Site, User
from ...models.risks import RATINGS, BriberyRisk, RiskExercise
from ...policy import current_scope
from ...services import ServiceError, risk_register
from ...services import risks as risk_service
from ...services.risk_matrix import score
from ...timeutil import local_today
from ..forms import form_refused, report
from ..params import int_or_none
from ..security import actor
from .blueprint import bp
from .common import MatrixView, int_arg, matrix_view, risk_or_404
from .flags import flags_for
from .forms import ApproveForm, RetireForm, RiskForm


def _approve_form(risk: BriberyRisk) -> ApproveForm:
    """The approval form, bound to the revision the approver is reading."""
    form = ApproveForm(prefix="approve")
    form.seen_revision.data = str(risk.revision)
    return form


def detail_context(risk: BriberyRisk, approve: ApproveForm | None = None,
                   retire: RetireForm | None = None) -> dict[str, Any]:
    """What the page shows: the state the reader may see, its links resolved, the steps offered."""
    scope = current_scope()
    today = local_today()
    shown_approved = scope.approved_only
    state = risk_register.entry_of(scope, risk)
    if state is None:
        abort(404)
    docs = list(db.session.scalars(select(Document).where(
        Document.id.in_(state.control_document_ids), scope.document_condition()).order_by(Document.code)))
    actions = list(db.session.scalars(select(CorrectiveAction).where(
        CorrectiveAction.id.in_(state.treatment_action_ids)).order_by(CorrectiveAction.id)))
    may_assess = scope.refuse_assess_risk() is None and not risk.is_retired
    pending = risk.status == "pending_approval"
    may_approve = pending and scope.can("approve_risks") and not scope.read_only
    return {
        "risk": risk, "s": state, "shown_approved": shown_approved, "today": today,
        "mv": matrix_view(db.session.get(RiskExercise, state.exercise_id).matrix),  # type: ignore[union-attr]
        "exercise": db.session.get(RiskExercise, state.exercise_id),
        "site": db.session.get(Site, state.site_id) if state.site_id else None,
        "process": db.session.get(Process, state.process_id) if state.process_id else None,
        "owner": db.session.get(User, state.owner_id) if state.owner_id else None,
        "assessed_by": db.session.get(User, state.assessed_by_id) if state.assessed_by_id else None,
        "approved_by": db.session.get(User, state.approved_by_id) if state.approved_by_id else None,
        "controls": [(d, d.status == "obsolete") for d in docs],
        "treatments": [(a, a.overdue(today)) for a in actions],
        "flags": flags_for([risk], today) if not shown_approved else [],
        "may_assess": may_assess,
        "approve_form": (approve or _approve_form(risk)) if may_approve else None,
        "approve_block": scope.refuse_approve_risk(risk) if may_approve else None,
        "retire_form": (retire or RetireForm(prefix="retire")) if may_assess else None,
    }


@bp.route("/<int:risk_id>")
def detail(risk_id: int) -> ResponseReturnValue:
    """A risk: the scenario, inherent and residual scores, its controls and treatment, who assessed and approved."""
    return render_template("risks/detail.html", **detail_context(risk_or_404(risk_id)))


# -- assess -------------------------------------------------------------------------------------------------------


def open_exercises(keep: int | None = None) -> list[RiskExercise]:
    """Exercises a risk may be assessed in (not closed), the newest first."""
    return [e for e in risk_service.exercises() if e.status != "closed" or e.id == keep]


def _ids_from_codes(form: RiskForm) -> tuple[list[int], list[int]] | None:
    """Document codes and action codes ("NC-2026-0001 / A2") as ids; an unknown one is an error at its field."""
    def split(raw: str | None) -> list[str]:
        return list(dict.fromkeys(c.strip() for c in (raw or "").replace(";", ",").split(",") if c.strip()))

    doc_codes = split(form.control_document_ids.data)
    found: dict[str, int] = {row[0]: row[1] for row in db.session.execute(select(Document.code, Document.id).where(
        Document.code.in_(doc_codes), current_scope().document_condition()))} if doc_codes else {}
    missing = [c for c in doc_codes if c not in found]
    if missing:
        form.control_document_ids.errors = [*form.control_document_ids.errors, _(
            "No document you can see has the code %(codes)s.", codes=", ".join(missing))]
    action_ids: list[int] = []
    unknown: list[str] = []
    for code in split(form.treatment_action_ids.data):
        ref, _sep, number = code.replace(" ", "").upper().partition("/A")
        action_id = db.session.scalar(select(CorrectiveAction.id).join(Nonconformity).where(
            Nonconformity.reference == ref, CorrectiveAction.number == int(number))) if number.isdigit() else None
        if action_id is None:
            unknown.append(code)
        else:
            action_ids.append(action_id)
    if unknown:
        form.treatment_action_ids.errors = [*form.treatment_action_ids.errors, _(
            "No corrective action has the code %(codes)s.", codes=", ".join(unknown))]
    if missing or unknown:
        return None
    return [found[c] for c in doc_codes], action_ids


def _input(form: RiskForm, documents: list[int], actions: list[int]) -> risk_service.RiskInput:
    return risk_service.RiskInput(
        title=form.title.data, scenario=form.scenario.data, associate_category=form.associate_category.data or "",
        inherent_likelihood=form.inherent_likelihood.data, inherent_impact=form.inherent_impact.data,
        residual_likelihood=form.residual_likelihood.data, residual_impact=form.residual_impact.data,
        process_id=form.process_id.data or None, activity=form.activity.data, site_id=form.site_id.data or None,
        associate_detail=form.associate_detail.data, control_document_ids=documents,
        controls_description=form.controls_description.data,
        control_effectiveness=form.control_effectiveness.data or "not_assessed", treatment=form.treatment.data,
        treatment_action_ids=actions, owner_id=form.owner_id.data or None, next_review=form.next_review.data)


def _scored(mv: MatrixView, form: RiskForm) -> dict[str, tuple[int, str]] | None:
    """The scores the chosen levels earn in the exercise's matrix (shown again on a refused form)."""
    try:
        return {stage: score(mv.matrix, int(getattr(form, f"{stage}_likelihood").data or 0),
                             int(getattr(form, f"{stage}_impact").data or 0)) for stage in ("inherent", "residual")}
    except (TypeError, ValueError):
        return None


def _form_page(form: RiskForm, risk: BriberyRisk | None, exercise: RiskExercise | None, status: int = 200
               ) -> ResponseReturnValue:
    mv = matrix_view(exercise.matrix) if exercise else None
    thresholds = ([("low", 1), *sorted(mv.matrix.threshold_map().items(), key=lambda i: i[1])] if mv else [])
    return render_template("risks/form.html", form=form, risk=risk, has_exercise=exercise is not None, mv=mv,
                           scoring_exercise=exercise, thresholds=[t for t in thresholds if t[0] in RATINGS],
                           scored=_scored(mv, form) if mv and form.is_submitted() else None), status


def _assess(risk: BriberyRisk | None) -> ResponseReturnValue:
    """The form of a new risk or a reassessment, scored with the chosen exercise's matrix."""
    if current_scope().refuse_assess_risk() is not None:
        abort(403)
    choices = open_exercises()
    wanted = int_arg("exercise") or (request.form.get("exercise_id", type=int) if request.method == "POST" else None)
    exercise = next((e for e in choices if e.id == wanted), choices[0] if choices else None)
    if exercise is None:
        return _form_page(RiskForm(), risk, None)
    mv = matrix_view(exercise.matrix)
    form = RiskForm(obj=risk if risk and request.method == "GET" else None)
    form.fill([(e.id, f"{e.reference} · {e.name}") for e in choices], mv.likelihood, mv.impact,
              keep_owner=risk.owner_id if risk else None, keep_site=risk.site_id if risk else None,
              keep_process=risk.process_id if risk else None)
    if not form.is_submitted():
        form.exercise_id.data = exercise.id
        if risk is not None:
            form.control_document_ids.data = ", ".join(d.code for d in risk.controls)
            form.treatment_action_ids.data = ", ".join(a.code for a in risk.treatments)
            form.note.data = ""
            form.seen_revision.data = str(risk.revision)
        return _form_page(form, risk, exercise)
    if not form.validate():
        return _form_page(form, risk, exercise, form_refused())
    ids = _ids_from_codes(form)
    if ids is None:
        return _form_page(form, risk, exercise, form_refused())
    data = _input(form, *ids)
    try:
        with write_transaction():
            if risk is None:
                saved = risk_service.create_risk(data, exercise, actor=actor(), today=local_today())
            else:
                risk_service.assess_risk(risk, data, exercise, actor=actor(), today=local_today(),
                                         note=form.note.data or None,
                                         seen_revision=int_or_none(form.seen_revision.data))
                saved = risk
            saved_id = saved.id
    except ServiceError as exc:
        status = report(exc, form)
        if risk is not None and status == 409:  # saved meanwhile: a second save, after comparing, is deliberate
            db.session.refresh(risk)
            form.seen_revision.data = str(risk.revision)
        return _form_page(form, risk, exercise, status)
    flash(_("Assessment saved: it waits for approval by someone else."), "success")
    return redirect(url_for("risks.detail", risk_id=saved_id))


@bp.route("/new", methods=["GET", "POST"])
def new() -> ResponseReturnValue:
    """Identify and assess a new bribery risk within an open exercise."""
    return _assess(None)


@bp.route("/<int:risk_id>/assess", methods=["GET", "POST"])
def assess(risk_id: int) -> ResponseReturnValue:
    """Reassess a risk: a new revision, pending approval, scored with the exercise's matrix."""
    risk = risk_or_404(risk_id)
    if risk.is_retired and current_scope().refuse_assess_risk() is None:
        abort(409)
    return _assess(risk)


@bp.route("/<int:risk_id>/approve", methods=["POST"])
def approve(risk_id: int) -> ResponseReturnValue:
    """Approve the pending assessment; the assessor is refused (segregation of duties) with the reason."""
    risk = risk_or_404(risk_id)
    scope = current_scope()
    if not scope.can("approve_risks") or scope.read_only:
        abort(403)
    form = ApproveForm(prefix="approve")
    if not form.validate_on_submit():
        return render_template("risks/detail.html", **detail_context(risk, approve=form)), form_refused()
    with write_transaction():  # a refusal (403 assessor, 409 not pending) is answered by the error page
        risk_service.approve_risk(risk, actor=actor(), today=local_today(), note=form.note.data or None,
                                  seen_revision=int_or_none(form.seen_revision.data))
    flash(_("Assessment approved."), "success")
    return redirect(url_for("risks.detail", risk_id=risk.id))


@bp.route("/<int:risk_id>/retire", methods=["POST"])
def retire(risk_id: int) -> ResponseReturnValue:
    """Retire a risk that no longer applies, saying why; its history stays."""
    risk = risk_or_404(risk_id)
    if current_scope().refuse_assess_risk() is not None:
        abort(403)
    form = RetireForm(prefix="retire")
    if not form.validate_on_submit():
        return render_template("risks/detail.html", **detail_context(risk, retire=form)), form_refused()
    try:
        with write_transaction():
            risk_service.retire_risk(risk, actor=actor(), reason=form.reason.data)
    except ServiceError as exc:
        return render_template("risks/detail.html", **detail_context(risk, retire=form)), report(exc, form)
    flash(_("Risk retired."), "success")
    return redirect(url_for("risks.detail", risk_id=risk.id))
