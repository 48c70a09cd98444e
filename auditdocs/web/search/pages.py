"""GET /search (the page) and GET /search.json (the same results for programs); both only read.

Why the errors are answered here: an unusable index must not look like a broken app (503 with Retry-After, the box
still there, everything else working), and the JSON endpoint answers JSON even for its refusals.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import jsonify, make_response, render_template, request
from flask.typing import ResponseReturnValue

from ...policy import current_scope
from ...search.types import FACETS, MAX_DEPTH, QUERY_FIELDS, IndexUnavailable, QueryRefused, SearchError
from .blueprint import (
    RETRY_AFTER_SECONDS,
    active_filters,
    as_json,
    bp,
    facet_links,
    link_args,
    may_include_drafts,
    run,
)
from .labels import FACET_LABELS, RESULT_KIND_LABELS, SORT_LABELS

logger = logging.getLogger(__name__)


def _refused(exc: SearchError) -> int:
    """Log an unusable index for the administrator; the status to answer with."""
    if isinstance(exc, IndexUnavailable):
        logger.warning("search unavailable (%s): %s", exc.reason, exc.detail)
    return exc.status


def _page_context(problem: str | None = None) -> dict[str, Any]:
    args = request.args
    scope = current_scope()
    return {"q": args.get("q", ""), "kinds": [k for k in args.getlist("kind") if k], "sort": args.get("sort") or
            "relevance", "include_all": args.get("all") == "1", "may_include_drafts": may_include_drafts(scope),
            "kind_labels_search": RESULT_KIND_LABELS, "facet_labels": FACET_LABELS, "sort_labels": SORT_LABELS,
            "facet_names": [f for f in FACETS if f != "kind"], "query_fields": QUERY_FIELDS, "max_depth": MAX_DEPTH,
            "hidden_filters": {k: v for k, v in link_args(args).items() if k not in ("q", "kind", "sort", "all")},
            "problem": problem, "filters_on": active_filters(args)}


@bp.route("/search")
def index() -> ResponseReturnValue:
    """Search documents and records: one box in the query language, facets to narrow, results linking to the exact
    version or record."""
    try:
        query, results, shown = run(request.args, current_scope())
    except (QueryRefused, IndexUnavailable) as exc:
        status = _refused(exc)
        html = render_template("search/index.html", **_page_context(str(exc.message)), results=None,
                               unavailable=isinstance(exc, IndexUnavailable))
        response = make_response(html, status)
        if status == 503:
            response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    args = request.args
    pages = {n: link_args(args, page=str(n)) for n in _window(results.page, results.pages)}
    corrected = link_args(args, q=results.corrected) if results.corrected else None
    return render_template("search/index.html", **_page_context(), results=results, shown=shown, query=query,
                           facets=facet_links(args, results), pages=pages, corrected_args=corrected,
                           dropped=len(results.hits) - len(shown), unavailable=False)


def _window(page: int, pages: int, width: int = 2) -> list[int]:
    """The page numbers a pager shows: the first, the last and a few around the current one."""
    wanted = {1, pages, *range(page - width, page + width + 1)}
    return sorted(n for n in wanted if 1 <= n <= pages)


@bp.route("/search.json")
def search_json() -> ResponseReturnValue:
    """The same results as the page, as JSON (same parameters); refusals as JSON with their status."""
    try:
        query, results, shown = run(request.args, current_scope())
    except (QueryRefused, IndexUnavailable) as exc:
        status = _refused(exc)
        body: dict[str, Any] = {"ok": False, "status": status, "error": str(exc.message)}
        if isinstance(exc, IndexUnavailable):
            body["reason"] = exc.reason
        response = make_response(jsonify(body), status)
        if status == 503:
            response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return jsonify(as_json(query, results, shown))
