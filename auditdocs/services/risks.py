"""Bribery-risk assessment exercises and risks: create, (re)assess, approve, retire (ISO 37001 4.5); every save a
revision.

Why here: pages, demo data and the command line apply the same rules. Role rules live in policy (403), state rules
here (409), bad values per form field (`InvalidInput`, 400). Scores and ratings are computed from the exercise's
matrix and stored in each revision, so an old revision keeps the score its matrix gave. Each (re)assessment is a
revision pending approval; approval by someone other than the assessor is a revision of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..db import advisory_lock
from ..extensions import db
from ..models import BriberyRisk, CorrectiveAction, Document, Process, RiskExercise, RiskMatrix, Site, User
from ..models.risks import CATEGORIES, CONTROL_EFFECTIVENESS
from ..policy import AccessScope, scope_of
from ..textnorm import search_key
from . import Forbidden, ServiceError, revisions
from .numbering import next_number
from .programme import Problems, rows_by_id
from .risk_matrix import ensure_matrix
from .risk_matrix import score as matrix_score

KIND, EXERCISE_KIND = "bribery_risk", "risk_exercise"
_PG_LOCK = 0x42524953  # "BRIS": namespace of the per-risk locks
TITLE_MAX, TEXT_MAX, SHORT_MAX, REF_MAX = 300, 20000, 300, 40


@dataclass
class ExerciseInput:
    """What the exercise form says; an empty reference takes the next RA-<year>-NN."""

    name: str | None
    year: int | None
    reference: str | None = None
    scope: str | None = None
    method: str | None = None
    participants: str | None = None
    starts_on: date | None = None
    ends_on: date | None = None


@dataclass
class RiskInput:
    """What the assessment form says; the service checks all of it and computes scores and ratings."""

    title: str | None
    scenario: str | None
    associate_category: str
    inherent_likelihood: int | None
    inherent_impact: int | None
    residual_likelihood: int | None
    residual_impact: int | None
    process_id: int | None = None
    activity: str | None = None
    site_id: int | None = None  # None: organisation-wide
    associate_detail: str | None = None
    control_document_ids: Sequence[int] = field(default_factory=list)
    controls_description: str | None = None
    control_effectiveness: str = "not_assessed"
    treatment: str | None = None
    treatment_action_ids: Sequence[int] = field(default_factory=list)
    owner_id: int | None = None
    next_review: date | None = None


def _require(refusal: object) -> None:
    if refusal is not None:
        raise Forbidden(refusal)


# -- exercises ----------------------------------------------------------------------------------------------------


def exercises() -> list[RiskExercise]:
    """Every exercise, newest first."""
    return list(db.session.scalars(select(RiskExercise).order_by(RiskExercise.year.desc(), RiskExercise.id.desc())))


def get_exercise(scope: AccessScope, exercise_id: int) -> RiskExercise:
    """The exercise if this scope reads risks; otherwise 404."""
    exercise = db.session.get(RiskExercise, exercise_id)
    if exercise is None or not scope.can("see_risks"):
        raise ServiceError(_l("There is no such assessment exercise."), 404)
    return exercise


def _exercise_values(data: ExerciseInput, current: RiskExercise | None) -> dict[str, object]:
    problems = Problems()
    values: dict[str, object] = {
        "name": problems.text("name", data.name, TITLE_MAX, _l("Name the exercise.")),
        "reference": problems.text("reference", data.reference, REF_MAX),
        "scope": problems.text("scope", data.scope, TEXT_MAX), "method": problems.text("method", data.method, TEXT_MAX),
        "participants": problems.text("participants", data.participants, TEXT_MAX),
        "starts_on": problems.day("starts_on", data.starts_on), "ends_on": problems.day("ends_on", data.ends_on),
    }
    if data.year is None or not 1990 <= data.year <= 2100:
        problems.add("year", _l("Enter a year between 1990 and 2100."))
    values["year"] = data.year
    if data.starts_on and data.ends_on and data.ends_on < data.starts_on:
        problems.add("ends_on", _l("The end cannot come before the start."))
    ref = values["reference"]
    if ref is not None and db.session.scalar(select(RiskExercise.id).where(
            RiskExercise.reference == ref, RiskExercise.id != (current.id if current else -1))) is not None:
        problems.add("reference", _l("Another exercise has this reference."))
    problems.check()
    return values


def create_exercise(data: ExerciseInput, *, actor: User) -> RiskExercise:
    """Plan an exercise; it is scored with the matrix current now (the 5x5 default when none was configured)."""
    _require(scope_of(actor).refuse_assess_risk())
    values = _exercise_values(data, None)
    matrix = ensure_matrix(actor)
    if values["reference"] is None:
        year = int(str(values["year"]))
        values["reference"] = f"RA-{year}-{next_number(EXERCISE_KIND, year):02d}"
    exercise = RiskExercise(status="planned", matrix_id=matrix.id, created_by_id=actor.id, **values)
    db.session.add(exercise)
    db.session.flush()
    revisions.save(exercise, actor=actor)
    return exercise


def _hold_exercise(exercise: RiskExercise) -> None:
    advisory_lock(_PG_LOCK, f"{EXERCISE_KIND}:{exercise.id}")
    db.session.refresh(exercise)


def update_exercise(exercise: RiskExercise, data: ExerciseInput, *, actor: User) -> bool:
    """Edit an exercise that is not closed; its matrix never changes. Returns whether anything changed."""
    _require(scope_of(actor).refuse_assess_risk())
    _hold_exercise(exercise)
    if exercise.status == "closed":
        raise ServiceError(_l("This exercise is closed."), 409)
    values = _exercise_values(data, exercise)
    if values["reference"] is None:
        values["reference"] = exercise.reference
    before = exercise.revision
    for key, value in values.items():
        setattr(exercise, key, value)
    return revisions.save(exercise, actor=actor).number != before


def start_exercise(exercise: RiskExercise, *, actor: User) -> None:
    """Mark a planned exercise in progress (assessing a risk in it does so too)."""
    _require(scope_of(actor).refuse_assess_risk())
    _hold_exercise(exercise)
    if exercise.status != "planned":
        raise ServiceError(_l("Only a planned exercise can start."), 409)
    exercise.status = "in_progress"
    revisions.save(exercise, actor=actor)


def close_exercise(exercise: RiskExercise, *, actor: User, note: str | None = None) -> None:
    """Close an exercise: no more assessments in it; its register stays readable for ever."""
    _require(scope_of(actor).refuse_assess_risk())
    _hold_exercise(exercise)
    if exercise.status == "closed":
        raise ServiceError(_l("This exercise is already closed."), 409)
    exercise.status = "closed"
    revisions.save(exercise, actor=actor, note=note)


# -- risks --------------------------------------------------------------------------------------------------------


def get_risk(scope: AccessScope, risk_id: int) -> BriberyRisk:
    """The risk if this scope sees it (auditors: approved ones); otherwise 404 (as if it did not exist)."""
    risk = db.session.get(BriberyRisk, risk_id)
    if risk is None or not scope.sees_risk(risk):
        raise ServiceError(_l("There is no such risk."), 404)
    return risk


def hold(risk: BriberyRisk) -> None:
    """Serialise changes to one risk and re-read it under the lock (another request may have approved it)."""
    advisory_lock(_PG_LOCK, f"{KIND}:{risk.id}")
    db.session.refresh(risk)


def _level(problems: Problems, name: str, value: int | None, levels: int) -> int:
    if value is None or not 1 <= value <= levels:
        problems.add(name, _l("Choose a level from 1 to %(num)d.", num=levels))
        return 0
    return value


def _validated(data: RiskInput, matrix: RiskMatrix, scope: AccessScope
               ) -> tuple[dict[str, object], list[Document], list[CorrectiveAction]]:
    problems = Problems()
    values: dict[str, object] = {
        "title": problems.text("title", data.title, TITLE_MAX, _l("Give the risk a title.")),
        "scenario": problems.text("scenario", data.scenario, TEXT_MAX, _l("Describe the bribery scenario.")),
        "activity": problems.text("activity", data.activity, SHORT_MAX),
        "associate_detail": problems.text("associate_detail", data.associate_detail, SHORT_MAX),
        "controls_description": problems.text("controls_description", data.controls_description, TEXT_MAX),
        "treatment": problems.text("treatment", data.treatment, TEXT_MAX),
        "next_review": problems.day("next_review", data.next_review),
        "process_id": data.process_id, "site_id": data.site_id, "owner_id": data.owner_id,
        "associate_category": data.associate_category, "control_effectiveness": data.control_effectiveness,
    }
    if data.associate_category not in CATEGORIES:
        problems.add("associate_category", _l("Choose from the list."))
    if data.control_effectiveness not in CONTROL_EFFECTIVENESS:
        problems.add("control_effectiveness", _l("Choose from the list."))
    for model, value, name in ((Site, data.site_id, "site_id"), (Process, data.process_id, "process_id"),
                               (User, data.owner_id, "owner_id")):
        if value is not None and db.session.get(model, value) is None:
            problems.add(name, _l("Choose from the list."))
    for stage in ("inherent", "residual"):
        likelihood = _level(problems, f"{stage}_likelihood", getattr(data, f"{stage}_likelihood"),
                            matrix.likelihood_levels)
        impact = _level(problems, f"{stage}_impact", getattr(data, f"{stage}_impact"), matrix.impact_levels)
        if likelihood and impact:
            values[f"{stage}_likelihood"], values[f"{stage}_impact"] = likelihood, impact
            values[f"{stage}_score"], values[f"{stage}_rating"] = matrix_score(matrix, likelihood, impact)
    wanted = set(data.control_document_ids)
    documents = list(db.session.scalars(select(Document).where(Document.id.in_(wanted), scope.document_condition()))
                     ) if wanted else []
    if len(documents) != len(wanted):
        problems.add("control_document_ids", _l("Choose from the list."))
    actions = rows_by_id(CorrectiveAction, data.treatment_action_ids, problems, "treatment_action_ids")
    problems.check()
    return values, documents, actions


def _apply(risk: BriberyRisk, values: dict[str, object], documents: list[Document],
           actions: list[CorrectiveAction], exercise: RiskExercise, actor: User, today: date) -> None:
    for key, value in values.items():
        setattr(risk, key, value)
    risk.controls, risk.treatments = documents, actions
    risk.control_document_ids = ",".join(str(i) for i in sorted(d.id for d in documents))
    risk.treatment_action_ids = ",".join(str(i) for i in sorted(a.id for a in actions))
    risk.search_key = search_key(risk.reference, risk.title)
    risk.exercise_id, risk.matrix_id = exercise.id, exercise.matrix_id
    risk.status, risk.assessed_by_id, risk.assessed_on = "pending_approval", actor.id, today
    risk.approved_by_id, risk.approved_on = None, None


def _open_exercise(exercise: RiskExercise, actor: User) -> None:
    """Assessments go into an exercise that is not closed; the first one starts a planned exercise."""
    _hold_exercise(exercise)
    if exercise.status == "closed":
        raise ServiceError(_l("This exercise is closed: assess the risk in an open exercise."), 409)
    if exercise.status == "planned":
        exercise.status = "in_progress"
        revisions.save(exercise, actor=actor)


def create_risk(data: RiskInput, exercise: RiskExercise, *, actor: User, today: date) -> BriberyRisk:
    """Identify and assess a new risk in an exercise (BR-0001...; revision 1, pending approval)."""
    scope = scope_of(actor)
    _require(scope.refuse_assess_risk())
    values, documents, actions = _validated(data, exercise.matrix, scope)
    _open_exercise(exercise, actor)
    number = next_number(KIND, 0)
    risk = BriberyRisk(reference=f"BR-{number:04d}", number=number, created_by_id=actor.id)
    _apply(risk, values, documents, actions, exercise, actor, today)
    db.session.add(risk)
    db.session.flush()
    revisions.save(risk, actor=actor)
    return risk


def assess_risk(risk: BriberyRisk, data: RiskInput, exercise: RiskExercise, *, actor: User, today: date,
                note: str | None = None) -> bool:
    """Reassess a risk (in this or a later exercise): a new revision pending approval; returns whether anything
    changed. Links to documents the assessor may not see stay."""
    scope = scope_of(actor)
    _require(scope.refuse_assess_risk())
    hold(risk)
    if risk.is_retired:
        raise ServiceError(_l("This risk is retired."), 409)
    values, documents, actions = _validated(data, exercise.matrix, scope)
    _open_exercise(exercise, actor)
    documents += [d for d in risk.controls if d not in documents and not scope.sees_document(d)]
    before = risk.revision
    _apply(risk, values, documents, actions, exercise, actor, today)
    return revisions.save(risk, actor=actor, note=note).number != before


def approve_risk(risk: BriberyRisk, *, actor: User, today: date, note: str | None = None) -> None:
    """Approve the pending assessment: approvers only, never its assessor (403); only a pending one (409)."""
    hold(risk)
    _require(scope_of(actor).refuse_approve_risk(risk))
    if risk.status != "pending_approval":
        raise ServiceError(_l("Only an assessment pending approval can be approved."), 409)
    previous = revisions.latest(KIND, risk.id)
    risk.status, risk.approved_by_id, risk.approved_on = "approved", actor.id, today
    risk.approved_revision = (previous.number if previous else 0) + 1  # the number save() is about to take
    revisions.save(risk, actor=actor, note=note)


def retire_risk(risk: BriberyRisk, *, actor: User, reason: str | None) -> None:
    """Retire a risk that no longer applies, saying why; it leaves the current register, its history stays."""
    _require(scope_of(actor).refuse_assess_risk())
    hold(risk)
    if risk.is_retired:
        raise ServiceError(_l("This risk is already retired."), 409)
    problems = Problems()
    text = problems.text("reason", reason, TEXT_MAX, _l("Say why the risk is retired."))
    problems.check()
    risk.status, risk.retire_reason = "retired", text
    revisions.save(risk, actor=actor, note=text)
