"""The risk matrix page: everyone who reads risks sees the version in force and every earlier one; an administrator
saves a new version (dimensions, thresholds, the ratings' words in es and en, colours, level names)."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from ...db import write_transaction
from ...models.risks import RATINGS, RiskMatrix
from ...policy import current_scope
from ...services import ServiceError, risk_matrix
from ..forms import form_refused, report
from ..security import actor
from .blueprint import bp
from .common import int_arg, matrix_view, shown_matrix
from .forms import MatrixForm

LANGS = ("es", "en")


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _prefill(form: MatrixForm, matrix: RiskMatrix) -> None:
    """The form starts from the version in force."""
    form.likelihood_levels.data, form.impact_levels.data = matrix.likelihood_levels, matrix.impact_levels
    thresholds, labels, colours = matrix.threshold_map(), matrix.label_map(), matrix.colour_map()
    for rating in ("medium", "high", "critical"):
        getattr(form, rating).data = thresholds.get(rating)
    for rating in RATINGS:
        for lang in LANGS:
            getattr(form, f"label_{rating}_{lang}").data = labels.get(rating, {}).get(lang, "")
        getattr(form, f"colour_{rating}").data = colours.get(rating, "")
    for which in ("likelihood", "impact"):
        names = matrix.axis_labels(which)
        for lang in LANGS:
            getattr(form, f"{which}_{lang}").data = "\n".join(names.get(lang, []))


def _input(form: MatrixForm) -> risk_matrix.MatrixInput:
    return risk_matrix.MatrixInput(
        likelihood_levels=form.likelihood_levels.data, impact_levels=form.impact_levels.data,
        thresholds={r: getattr(form, r).data for r in ("medium", "high", "critical")},
        labels={r: {lang: getattr(form, f"label_{r}_{lang}").data or "" for lang in LANGS} for r in RATINGS},
        colours={r: (getattr(form, f"colour_{r}").data or "").strip() for r in RATINGS},
        likelihood_labels={lang: _lines(getattr(form, f"likelihood_{lang}").data) for lang in LANGS},
        impact_labels={lang: _lines(getattr(form, f"impact_{lang}").data) for lang in LANGS},
        note=form.note.data)


def _page(form: MatrixForm | None, status: int = 200) -> ResponseReturnValue:
    versions = risk_matrix.versions()
    current = risk_matrix.current_matrix()
    wanted = int_arg("version")
    shown = next((m for m in versions if m.version == wanted), current)
    context: dict[str, Any] = {"form": form, "versions": versions, "current": current, "shown": shown,
                               "ratings": RATINGS}
    if shown is not None:
        context.update(smv=matrix_view(shown), words=shown.label_map(),
                       thresholds=[("low", 1), *sorted(shown.threshold_map().items(), key=lambda i: i[1])])
    return render_template("risks/matrix.html", **context), status


@bp.route("/matrix", methods=["GET", "POST"])
def matrix() -> ResponseReturnValue:
    """The matrix in force and its versions; an administrator saves a new version."""
    may_configure = current_scope().refuse_configure_matrix() is None
    if request.method == "POST" and not may_configure:
        abort(403)
    form = MatrixForm() if may_configure else None
    if form is None or not form.is_submitted():
        if form is not None:
            _prefill(form, shown_matrix())
        return _page(form)
    if not form.validate():
        return _page(form, form_refused())
    try:
        with write_transaction():
            saved = risk_matrix.save_matrix(_input(form), actor=actor())
            version = saved.version
    except ServiceError as exc:
        return _page(form, report(exc, form))
    flash(_("Matrix version %(num)d saved.", num=version), "success")
    return redirect(url_for("risks.matrix"))

