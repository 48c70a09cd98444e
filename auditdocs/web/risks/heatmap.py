"""The heat-map page: inherent and residual heat maps side by side (now or at an exercise, for a site or process), each
cell a link to its risks in the register, and the trend of high and critical residual risks across exercises."""

from __future__ import annotations

from typing import Any

from flask import render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from ...policy import current_scope
from ...services import risk_heatmap, risk_register, risks
from ...services.risk_heatmap import HeatMap
from ..helpers import current_lang
from ..programme_forms import process_choices, site_choices
from .blueprint import bp
from .common import MatrixView, int_arg, matrix_view, shown_matrix
from .heatmap_svg import SvgHeatMap, layout, trend_chart


def svg_of(heat: HeatMap, mv: MatrixView, query: dict[str, Any]) -> SvgHeatMap:
    """A heat map laid out for the page, each cell linking to the register filtered to it."""
    lang = current_lang()

    def names(which: dict[str, list[str]], levels: int) -> list[str]:
        chosen = which.get(lang) or which.get("en") or []
        return [str(chosen[n]) if n < len(chosen) else "" for n in range(levels)]

    def href(likelihood: int, impact: int) -> str:
        return url_for("risks.index", which=heat.which, l=likelihood, i=impact, **query)

    def name(likelihood: int, impact: int, count: int, word: str) -> str:
        # The visible text (the count and the rating) starts the name, as WCAG 2.5.3 asks.
        return str(_("%(num)d %(rating)s: risks at likelihood %(l)s, impact %(i)s", num=count, rating=word,
                     l=likelihood, i=impact))

    cells = [c for row in heat.cells.values() for c in row.values()]
    return layout(cells, names(heat.likelihood_labels, heat.likelihood_levels),
                  names(heat.impact_labels, heat.impact_levels), lambda r: mv.fills.get(r, "#9e9e9e"), mv.word,
                  href, name)


def heatmap_context() -> dict[str, Any]:
    """Both heat maps and the trend for the query string's filters."""
    scope = current_scope()
    choices = risks.exercises()
    exercise_id, site_id, process_id = int_arg("exercise"), int_arg("site"), int_arg("process")
    exercise = next((e for e in choices if e.id == exercise_id), None)
    matrix = exercise.matrix if exercise else shown_matrix()
    mv = matrix_view(matrix)
    found = risk_register.entries(scope, exercise.id if exercise else None, site_id, process_id)
    raw = {k: (request.args.get(k) or "").strip() for k in ("exercise", "site", "process")}
    query = {k: v for k, v in (("exercise", exercise.id if exercise else None), ("site", site_id),
                               ("process", process_id)) if v}
    points = risk_heatmap.trend(scope)
    return {
        "inherent": svg_of(risk_heatmap.grid(found, matrix, "inherent"), mv, query),
        "residual": svg_of(risk_heatmap.grid(found, matrix, "residual"), mv, query),
        "chart": trend_chart([(f"{p.reference}", p.high, p.critical) for p in points]),
        "trend_colours": {"high": mv.fills["high"], "critical": mv.fills["critical"]},
        "exercises": choices, "raw": raw, "site_choices": site_choices(), "process_choices": process_choices(),
        "matrix_note": _("Scored with the risk matrix version %(num)d.", num=matrix.version) if matrix.version
        else None,
    }


@bp.route("/heatmap")
def heatmap() -> ResponseReturnValue:
    """Where the risks sit before and after their controls; a cell opens its risks."""
    return render_template("risks/heatmap.html", **heatmap_context())
