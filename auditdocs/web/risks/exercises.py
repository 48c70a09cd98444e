"""Assessment exercises: the list, plan and edit one, close it, and its page: the register as it stood at it and
what changed since (by the next exercise, or now)."""

from __future__ import annotations

from collections import Counter

from flask import abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf import FlaskForm

from ...db import write_transaction
from ...models.risks import RiskExercise
from ...policy import current_scope
from ...services import ServiceError, risk_matrix, risk_register, risks
from ..forms import form_refused, report
from ..security import actor
from .blueprint import bp
from .common import exercise_or_404, matrix_view
from .forms import ExerciseForm


def _may_assess() -> bool:
    return current_scope().refuse_assess_risk() is None


@bp.route("/exercises")
def exercises() -> ResponseReturnValue:
    """Every exercise, newest first, with how many risks its register holds."""
    rows = risks.exercises()
    scope = current_scope()
    counts = Counter({e.id: len(risk_register.entries(scope, e.id)) for e in rows})
    return render_template("risks/exercises.html", exercises=rows, counts=counts, may_assess=_may_assess())


def _next_after(exercise: RiskExercise) -> RiskExercise | None:
    """The exercise that followed this one (by year, start and id), if any."""
    def key(e: RiskExercise) -> tuple[int, str, int]:
        return e.year, e.starts_on.isoformat() if e.starts_on else "", e.id

    later = [e for e in risks.exercises() if key(e) > key(exercise)]
    return min(later, key=key) if later else None


@bp.route("/exercises/<int:exercise_id>")
def exercise(exercise_id: int) -> ResponseReturnValue:
    """An exercise: its scope and method, its register as approved in it, and what changed by the next one."""
    found = exercise_or_404(exercise_id)
    scope = current_scope()
    following = _next_after(found)
    return render_template(
        "risks/exercise.html", exercise=found, rows=risk_register.entries(scope, found.id),
        next_exercise=following,
        changes=risk_register.changes_between(scope, found.id, following.id if following else None),
        mv=matrix_view(found.matrix), may_assess=_may_assess(), close_form=FlaskForm(prefix="close"))


def _input(form: ExerciseForm, reference: str | None = None) -> risks.ExerciseInput:
    return risks.ExerciseInput(name=form.name.data, year=form.year.data, reference=reference, scope=form.scope.data,
                               method=form.method.data, participants=form.participants.data,
                               starts_on=form.starts_on.data, ends_on=form.ends_on.data)


@bp.route("/exercises/new", methods=["GET", "POST"])
def new_exercise() -> ResponseReturnValue:
    """Plan an exercise; it is scored with the matrix in force now."""
    if not _may_assess():
        abort(403)
    form = ExerciseForm()
    current = risk_matrix.current_matrix()
    page = {"form": form, "exercise": None, "matrix_version": current.version if current else 1}
    if not form.is_submitted():
        return render_template("risks/exercise_form.html", **page)
    if not form.validate():
        return render_template("risks/exercise_form.html", **page), form_refused()
    try:
        with write_transaction():
            created = risks.create_exercise(_input(form), actor=actor())
            created_id = created.id
    except ServiceError as exc:
        return render_template("risks/exercise_form.html", **page), report(exc, form)
    flash(_("Exercise planned."), "success")
    return redirect(url_for("risks.exercise", exercise_id=created_id))


@bp.route("/exercises/<int:exercise_id>/edit", methods=["GET", "POST"])
def edit_exercise(exercise_id: int) -> ResponseReturnValue:
    """Edit an exercise that is not closed (its matrix never changes)."""
    found = exercise_or_404(exercise_id)
    if not _may_assess():
        abort(403)
    form = ExerciseForm(obj=found)
    page = {"form": form, "exercise": found, "matrix_version": found.matrix.version}
    if not form.is_submitted():
        form.note.data = ""
        return render_template("risks/exercise_form.html", **page)
    if not form.validate():
        return render_template("risks/exercise_form.html", **page), form_refused()
    try:
        with write_transaction():
            risks.update_exercise(found, _input(form, found.reference), actor=actor())
    except ServiceError as exc:
        return render_template("risks/exercise_form.html", **page), report(exc, form)
    flash(_("Exercise saved."), "success")
    return redirect(url_for("risks.exercise", exercise_id=found.id))


@bp.route("/exercises/<int:exercise_id>/close", methods=["POST"])
def close_exercise(exercise_id: int) -> ResponseReturnValue:
    """Close an exercise: no more assessments in it; its register stays readable."""
    found = exercise_or_404(exercise_id)
    if not _may_assess():
        abort(403)
    if not FlaskForm(prefix="close").validate_on_submit():
        abort(400)
    try:
        with write_transaction():
            risks.close_exercise(found, actor=actor())
    except ServiceError as exc:
        report(exc)
    else:
        flash(_("Exercise closed."), "success")
    return redirect(url_for("risks.exercise", exercise_id=found.id))
