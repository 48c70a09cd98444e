"""The compliance dashboard: where nonconformities stand, which actions are late, how long closing takes.

Why its own blueprint: the register (blueprint "nonconformities") lists records; this page only counts them, and
each count links to the register filtered the same way (the agreed query parameters: status, grade, site, process,
clause, overdue).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, abort, current_app, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l

from ..labels import NC_GRADE_LABELS
from ..models import Site
from ..models.records import NC_GRADES
from ..policy import current_scope
from ..services import ServiceError, nc_stats, org
from ..services.nc_stats import AGE_BUCKETS
from ..timeutil import local_today
from .params import int_or_none

bp = Blueprint("nc_dashboard", __name__, url_prefix="/nonconformities")
LIST_ENDPOINT = "nonconformities.index"
LIST_PATH = "/nonconformities/"
DETAIL_ENDPOINT = "nonconformities.detail"
# The chart's geometry, in SVG user units (the chart scales to its column).
CHART_WIDTH, LABEL_WIDTH, BAR_MAX, BAR_HEIGHT, BAR_GAP, HEADING = 640, 190, 380, 14, 4, 22


def nc_list_url(**params: Any) -> str:
    """A link to the register with the given filters (None values dropped); before the register exists in a
    deployment, the same path and query it will answer to."""
    args = {k: v for k, v in params.items() if v is not None and v != ""}
    if LIST_ENDPOINT in current_app.view_functions:
        return url_for(LIST_ENDPOINT, **args)
    return LIST_PATH + ("?" + urlencode(args) if args else "")


def nc_detail_url(nc_id: int, anchor: str | None = None) -> str:
    """A link to a nonconformity's page (to one of its actions with `anchor`)."""
    if DETAIL_ENDPOINT in current_app.view_functions:
        return url_for(DETAIL_ENDPOINT, nc_id=nc_id, _anchor=anchor)
    return f"{LIST_PATH}{nc_id}" + (f"#{anchor}" if anchor else "")


@bp.app_template_global()
def nc_link(**params: Any) -> str:
    """Templates' form of nc_list_url (the main dashboard's panel uses it too)."""
    return nc_list_url(**params)


@bp.app_template_global()
def nc_page(nc_id: int, anchor: str | None = None) -> str:
    """Templates' form of nc_detail_url."""
    return nc_detail_url(nc_id, anchor)


@bp.app_template_global()
def nc_grade_label(grade: str) -> str:
    """A grade's name in the person's language."""
    return str(NC_GRADE_LABELS.get(grade, grade))


def bucket_label(low: int, high: int | None) -> str:
    """"0–30 days", "more than 180 days"."""
    if high is None:
        return str(_l("more than %(num)d days", num=low - 1))
    return str(_l("%(low)d–%(high)d days", low=low, high=high))


@dataclass(frozen=True)
class Bar:
    """One bar of the ageing chart: a grade's open nonconformities in an age bucket."""

    grade: str
    label: str
    count: int
    y: int
    width: int


@dataclass(frozen=True)
class BarGroup:
    """An age bucket: its heading and one bar per grade."""

    label: str
    y: int
    bars: list[Bar]
    total: int


def ageing_chart(rows: list[dict[str, int]]) -> tuple[list[BarGroup], int]:
    """Grouped horizontal bars, one group per age bucket, one bar per grade, scaled to the largest count; the
    height of the drawing."""
    largest = max([n for row in rows for n in row.values()] + [1])
    groups, y = [], 0
    for (low, high), row in zip(AGE_BUCKETS, rows, strict=True):
        heading_y = y + HEADING - 6
        y += HEADING
        bars = []
        for grade in NC_GRADES:
            n = row[grade]
            bars.append(Bar(grade, str(NC_GRADE_LABELS[grade]), n, y, round(BAR_MAX * n / largest)))
            y += BAR_HEIGHT + BAR_GAP
        groups.append(BarGroup(bucket_label(low, high), heading_y, bars, sum(row.values())))
        y += BAR_GAP * 2
    return groups, y


def site_filter(args: Mapping[str, str], tree: list[tuple[Site, int]]) -> Site | None:
    """The site the dashboard is filtered by (None: the whole organisation); an id that names no site is refused."""
    raw = (args.get("site") or "").strip()
    if not raw:
        return None
    site_id = int_or_none(raw)
    site = next((s for s, _depth in tree if s.id == site_id), None) if site_id else None
    if site is None:
        raise ServiceError(_l("There is no such site: choose one from the list."), 400)
    return site


@bp.route("/dashboard")
def dashboard() -> ResponseReturnValue:
    """Open nonconformities by grade, clause, site and process; late and soon-due actions; mine and the checks I
    owe; days to closure; the ageing of what is open."""
    scope = current_scope()
    if not scope.can("see_nonconformities"):
        abort(403)
    today = local_today()
    tree = org.site_tree()
    site = site_filter(request.args, tree)
    ids = nc_stats.site_filter_ids(site.id if site is not None else None)
    by_grade = nc_stats.open_by_grade(scope, ids)
    sites, no_site = nc_stats.open_by_site(scope, ids)
    processes, no_process = nc_stats.open_by_process(scope, ids)
    ages = nc_stats.ageing(scope, today, ids)
    groups, chart_height = ageing_chart(ages)
    return render_template(
        "nonconformities/dashboard.html", today=today, site=site, site_choices=tree,
        by_grade=by_grade, open_total=sum(by_grade.values()), clauses=nc_stats.open_by_clause(scope, ids),
        sites=sites, no_site=no_site, processes=processes, no_process=no_process,
        closure=nc_stats.closure_times(scope, ids), lists=nc_stats.action_lists(scope, today, ids),
        groups=groups, chart_height=chart_height, chart_width=CHART_WIDTH, label_width=LABEL_WIDTH,
        bar_height=BAR_HEIGHT, grades=NC_GRADES, grade_labels=NC_GRADE_LABELS,
        buckets=[bucket_label(low, high) for low, high in AGE_BUCKETS], ages=ages,
        site_arg=site.id if site is not None else None,
        can_check=scope.can("check_effectiveness"), can_record=scope.can("record_nonconformities"))
