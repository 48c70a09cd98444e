"""The search blueprint and what its page and JSON endpoint share: the query read from the URL, the results shown.

Why one reading of the URL: the page, its facet links and the JSON endpoint must ask exactly the same question, so
a link copied from the page and the same parameters sent to /search.json give the same hits.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from ...extensions import db
from ...models import Standard
from ...policy import AccessScope
from ...search.service import search_for
from ...search.types import FACETS, MAX_PER_PAGE, QueryRefused, SearchHit, SearchQuery, SearchResults
from ...services.search_places import Place, places
from .labels import value_label

logger = logging.getLogger(__name__)

bp = Blueprint("search", __name__)

PER_PAGE = 10
FILTER_PARAMS = tuple(f for f in FACETS if f != "kind")  # `kind` narrows the kinds (SearchQuery.kinds)
PARAMS = ("q", "kind", *FILTER_PARAMS, "all", "sort", "page", "per_page")
RETRY_AFTER_SECONDS = 60  # a rebuild of a small index takes about a minute


@dataclass(frozen=True, slots=True)
class Shown:
    """One hit as the page shows it: the hit, where it opens and what that page is."""

    hit: SearchHit
    place: Place
    url: str
    document_url: str | None  # versions: the document page beside the exact version's preview


def _int(raw: str | None, default: int) -> int:
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or len(raw) > 9:
        raise QueryRefused(_l("Page out of range."))
    return int(raw)


def may_include_drafts(scope: AccessScope) -> bool:
    """Drafts and older versions are offered to those who may open them (not to approved-only readers)."""
    return scope.user_id is not None and not scope.approved_only


def query_from(args: MultiDict[str, str], scope: AccessScope) -> SearchQuery:
    """The question the URL asks; QueryRefused (400) for parameters no repair can make sense of."""
    kinds = frozenset(k for k in args.getlist("kind") if k)
    filters = {name: args[name].strip() for name in FILTER_PARAMS if (args.get(name) or "").strip()}
    return SearchQuery(text=args.get("q", ""), kinds=kinds, filters=filters,
                       include_all_versions=args.get("all") == "1" and may_include_drafts(scope),
                       sort=args.get("sort") or "relevance",  # type: ignore[arg-type]  # checked by SearchQuery
                       page=_int(args.get("page"), 1), per_page=_int(args.get("per_page"), PER_PAGE))


def hit_url(place: Place) -> str:
    """The page a hit opens: the exact version's preview, or the record's page at the right place."""
    if place.page == "version":
        return url_for("documents.preview", doc_id=place.object_id, number=place.number)
    if place.page == "nonconformity":
        return url_for("nonconformities.detail", nc_id=place.object_id, _anchor=place.anchor)
    if place.page == "bribery_risk":
        return url_for("risks.detail", risk_id=place.object_id, _anchor=place.anchor)
    if place.page == "due_diligence":
        return url_for("risks.dd_detail", dd_id=place.object_id, _anchor=place.anchor)
    return url_for("risks.gift_detail", gift_id=place.object_id, _anchor=place.anchor)


def run(args: MultiDict[str, str], scope: AccessScope) -> tuple[SearchQuery, SearchResults, list[Shown]]:
    """Ask the index, then re-read every hit from the database: one the person may no longer open is dropped."""
    query = query_from(args, scope)
    results = search_for(scope, query)
    found = places(scope, results.hits)
    shown = []
    for hit in results.hits:
        place = found.get(hit.key)
        if place is None:
            logger.info("search hit %s dropped: not visible in the database any more", hit.key)
            continue
        doc_url = url_for("documents.detail", doc_id=place.object_id) if place.page == "version" else None
        shown.append(Shown(hit, place, hit_url(place), doc_url))
    return query, results, shown


def link_args(args: MultiDict[str, str], **changes: str | None) -> dict[str, Any]:
    """The current question with some parameters changed (None removes one); the page goes back to 1."""
    out: dict[str, Any] = {k: [v for v in args.getlist(k) if v] for k in PARAMS if k != "page"}
    for key, value in changes.items():
        out[key] = [] if value is None else [value]
    return {k: v for k, v in out.items() if v}


def facet_links(args: MultiDict[str, str], results: SearchResults) -> dict[str, list[dict[str, Any]]]:
    """Every facet value as a link that adds its filter (or, when it is on, removes it), with its count."""
    standards = standard_names() if results.facets.get("standard") else {}
    out: dict[str, list[dict[str, Any]]] = {}
    for facet in FACETS:
        values = results.facets.get(facet) or ()
        active = set(args.getlist(facet))
        out[facet] = [{"value": value, "count": count, "active": value in active,
                       "label": standards.get(value, value) if facet == "standard" else value_label(facet, value),
                       "url": url_for("search.index", **link_args(args, **{facet: None if value in active
                                                                         else value}))}
                      for value, count in values]
    return out


def standard_names() -> dict[str, str]:
    """Standard slugs as people name them ("ISO 9001:2015")."""
    return {row.slug: row.code for row in db.session.execute(select(Standard.slug, Standard.code))}


def active_filters(args: MultiDict[str, str]) -> list[dict[str, Any]]:
    """The filters on, each with a link that removes it."""
    standards = standard_names() if args.get("standard") else {}
    out = []
    for name in ("kind", *FILTER_PARAMS):
        for value in [v for v in args.getlist(name) if v]:
            label = standards.get(value, value) if name == "standard" else value_label(name, value)
            out.append({"facet": name, "value": value, "label": label,
                        "url": url_for("search.index", **link_args(args, **{name: None}))})
    return out


def as_json(query: SearchQuery, results: SearchResults, shown: list[Shown]) -> dict[str, Any]:
    """The JSON form of the same results."""
    hits = [{"key": s.hit.key, "kind": s.hit.kind, "title": s.hit.title, "url": s.url, "label": s.place.label,
             "status": s.place.status, "snippet_html": s.hit.snippet_html,
             "day": s.hit.day.isoformat() if s.hit.day else None, "in_force": s.hit.in_force,
             "text_state": s.hit.text_state} for s in shown]
    facets: Mapping[str, Any] = {name: [{"value": v, "count": c} for v, c in values]
                                 for name, values in results.facets.items()}
    return {"ok": True, "query": results.query, "total": results.total, "page": results.page,
            "pages": results.pages, "per_page": results.per_page, "sort": query.sort,
            "include_all_versions": query.include_all_versions, "hits": hits, "facets": facets,
            "notices": list(results.notices), "notice": results.notice, "corrected": results.corrected,
            "max_per_page": MAX_PER_PAGE}
