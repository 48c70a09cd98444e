"""The register of nonconformities: filters, sort and keyset pagination, counted in the database."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import current_app, render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy import Date, case, cast, func, literal, select
from sqlalchemy.orm import selectinload

from ...models import CorrectiveAction, Nonconformity
from ...models.records import LIVE_ACTION, NC_GRADES, NC_SOURCES
from ...policy import current_scope
from ...services import nc_queries
from ...services.nc_queries import STATUS_CHOICES, NcFilters
from ...timeutil import local_today
from ..documents.forms import clause_choices
from ..keyset import Keyset
from ..nc_params import FILTER_KEYS, filter_args, filters_from_args
from ..programme_forms import process_choices, site_choices
from .blueprint import bp

PER_PAGE = 25
GRADE_ORDER = case({g: n for n, g in enumerate(NC_GRADES)}, value=Nonconformity.grade, else_=len(NC_GRADES))
# The earliest due date of the nonconformity's live actions; one with none sorts last.
NEXT_DUE = func.coalesce(
    select(func.min(CorrectiveAction.due_date)).where(CorrectiveAction.nonconformity_id == Nonconformity.id,
                                                      CorrectiveAction.status.in_(LIVE_ACTION))
    .correlate(Nonconformity).scalar_subquery(),
    cast(literal("9999-12-31"), Date))
SORTS: dict[str, Keyset] = {
    "detected": Keyset((Nonconformity.detected_on, Nonconformity.id), Nonconformity.id, descending=True),
    "reference": Keyset((Nonconformity.reference,), Nonconformity.id, descending=True),
    "grade": Keyset((GRADE_ORDER, Nonconformity.detected_on, Nonconformity.id), Nonconformity.id),
    "due": Keyset((NEXT_DUE, Nonconformity.id), Nonconformity.id),
}


def _export_links() -> dict[str, str]:
    """Links to the exports and the dashboard, when those pages are installed."""
    out: dict[str, str] = {}
    views = current_app.view_functions
    for key, endpoint in (("csv", "nc_exports.nonconformities_csv"), ("xlsx", "nc_exports.nonconformities_xlsx"),
                          ("dashboard", "nc_dashboard.index")):
        if endpoint in views:
            out[key] = endpoint
    return out


def register_context(args: Mapping[str, str]) -> dict[str, Any]:
    """Everything the register needs, from the query string."""
    today = local_today()
    scope = current_scope()
    filters: NcFilters = filters_from_args(args)
    raw = {k: (args.get(k) or "").strip() for k in FILTER_KEYS}
    stmt = nc_queries.filtered(scope, filters, today).options(
        selectinload(Nonconformity.site), selectinload(Nonconformity.process), selectinload(Nonconformity.actions))
    sort = args.get("sort", "")
    sort = sort if sort in SORTS else "detected"
    page = SORTS[sort].page(stmt, args, PER_PAGE)
    query = filter_args(filters)
    if sort != "detected":
        query["sort"] = sort
    return {"page": page, "raw": raw, "sort": sort, "today": today, "query": query, "links": _export_links(),
            "filter_query": filter_args(filters), "statuses": STATUS_CHOICES, "grades": NC_GRADES,
            "sources": NC_SOURCES,
            "site_choices": site_choices(), "process_choices": process_choices(), "clause_choices": clause_choices(),
            "may_record": scope.refuse_record_nonconformity() is None}


@bp.route("/")
def index() -> ResponseReturnValue:
    """The register: what was found, how grave, how far it is from closure."""
    return render_template("nonconformities/index.html", **register_context(request.args))
