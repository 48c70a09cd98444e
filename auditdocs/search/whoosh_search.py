"""One search on an open Whoosh searcher: the permission filter, facets over permitted hits only, escaped snippets,
date or relevance order, a capped page, and "did you mean" only from what the user may see.

Why the permission is part of the query (Require) rather than Whoosh's `filter=`: Whoosh reads an empty filter
as no filter at all, and a filter is materialised as a set of every matching document on each search. The hidden
documents are the exception: a small docnum set cached per searcher, skipped by the collector (whoosh_facets).
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from whoosh import highlight, query, sorting
from whoosh.qparser import QueryParser

from .types import (
    KINDS,
    MAX_DEPTH,
    Allow,
    Lang,
    SearchHit,
    SearchQuery,
    SearchResults,
    notice_text,
)
from .whoosh_facets import MaskedCollector, facet_counts, hidden_docnums
from .whoosh_query import parse
from .whoosh_schema import FACET_FILTER_FIELDS, fold

SNIPPET_CHARS = 240
WORDS = re.compile(r"(?<![\w:])(\w{3,})(?![\w:*])")
SUGGESTION_DISTANCE = 2


class EscapedFormatter(highlight.Formatter):
    """Every piece of document text HTML-escaped; <mark> around matches is the only markup."""

    between = " … "

    def _text(self, text: str) -> str:
        return html.escape(text)

    def format_token(self, text: str, token: Any, replace: bool = False) -> str:
        return "<mark>" + html.escape(highlight.get_text(text, token, replace)) + "</mark>"


NOTHING_VISIBLE = object()


def permission(allow: Allow, q: SearchQuery) -> Any:
    """The query every hit must also match (None: no restriction), or NOTHING_VISIBLE."""
    kinds = set(q.kinds or KINDS)
    if not allow.everything:
        kinds &= set(allow.kinds)
    if not kinds:
        return NOTHING_VISIBLE
    parts: list[Any] = []
    if kinds != set(KINDS):
        parts.append(query.Or([query.Term("kind", k) for k in sorted(kinds)]))
    if allow.approved_only and not allow.everything:
        parts.append(query.Term("flags", "approved"))
    if not q.include_all_versions:
        parts.append(query.Term("flags", "in_force"))
    for facet, value in sorted(q.filters.items()):
        parts.append(query.Term(FACET_FILTER_FIELDS[facet], fold(str(value))))
    return None if not parts else parts[0] if len(parts) == 1 else query.And(parts)


def restrict(main: Any, scope: Any) -> Any:
    """The user's query limited to the scope; scores come from the user's query only."""
    return main if scope is None else query.Require(main, scope)


def _snippet(hit: Any, lang: str) -> str:
    field = f"body_{lang}"
    body = hit.get(field) or ""
    try:
        marked = hit.highlights(field, top=2)
    except KeyError:
        marked = ""
    if marked:
        return str(marked)
    plain = body[:SNIPPET_CHARS]
    return html.escape(plain + ("…" if len(body) > SNIPPET_CHARS else ""))


def _hit(hit: Any, score: float) -> SearchHit:
    meta: Mapping[str, Any] = hit.get("meta") or {}
    lang: Lang = "en" if hit.get("lang") == "en" else "es"
    day = meta.get("day")
    return SearchHit(key=hit["key"], kind=hit["kind"], object_id=hit["object_id"], parent_id=hit.get("parent_id"),
                     title=hit.get("title") or "", snippet_html=_snippet(hit, lang), score=score,
                     day=date.fromisoformat(day) if day else None, lang=lang,
                     in_force=bool(meta.get("in_force")), text_state=meta.get("text_state") or "none")


def run(searcher: Any, parser: QueryParser, q: SearchQuery, allow: Allow) -> SearchResults:
    """The whole search; the caller guards Allow.allows_nothing and turns engine failures into IndexUnavailable."""
    parsed = parse(parser, q.text)
    notices = list(parsed.notices)
    scope = permission(allow, q)
    if scope is NOTHING_VISIBLE:
        return SearchResults.empty(q, parsed.text, tuple(notices))
    max_page = max(1, MAX_DEPTH // q.per_page)
    page = q.page
    if page > max_page:
        page = max_page
        notices.append("too_deep")
    main = restrict(parsed.query if parsed.query is not None else query.Every(), scope)
    by_date = q.sort == "date" or parsed.query is None
    mask = hidden_docnums(searcher, _hidden(allow))
    # Whoosh's Require matcher trips an assertion when skipping blocks by quality: no such skipping under a scope;
    # facets need every match anyway.
    child = searcher.collector(limit=page * q.per_page, optimize=scope is None and not mask and not q.facets,
                               sortedby=sorting.FieldFacet("c_day", reverse=True) if by_date else None)
    if hasattr(child, "replace"):  # a scored top-N collector: never drop the query branches that cannot reach the
        child.replace = 0           # first page any more, or the total and the facets miss what only they match
    collector = MaskedCollector(child, mask, record=q.facets)
    searcher.search_with_collector(main, collector)
    results = collector.results()
    results.highlighter = highlight.Highlighter(
        fragmenter=highlight.ContextFragmenter(maxchars=SNIPPET_CHARS, surround=60), formatter=EscapedFormatter())
    total = len(results)
    start = (page - 1) * q.per_page
    hits = tuple(_hit(results[i], 0.0 if by_date else float(results.score(i)))
                 for i in range(start, min(start + q.per_page, results.scored_length())))
    facets = facet_counts(searcher, collector.matched) if q.facets else {}
    corrected = None
    if total == 0 and q.suggest and parsed.query is not None:
        corrected = suggest(searcher, parser, parsed.text, scope, mask)
    pages = min(math.ceil(total / q.per_page), max_page) if total else 0
    return SearchResults(total=total, hits=hits, facets=facets, page=page, pages=pages, per_page=q.per_page,
                         query=parsed.text, corrected=corrected, notices=tuple(notices),
                         notice=notice_text(tuple(notices)))


def _hidden(allow: Allow) -> frozenset[str]:
    return frozenset() if allow.everything else frozenset(allow.hidden)


def _visible(searcher: Any, q: Any, scope: Any, mask: set[int]) -> bool:
    found = searcher.search(restrict(q, scope), limit=1, mask=mask or None, optimize=scope is None and not mask)
    return bool(found.scored_length())


def suggest(searcher: Any, parser: QueryParser, text: str, scope: Any, mask: set[int]) -> str | None:
    """A corrected query whose every replaced word is in a title the user may see, and which finds something."""
    corrector = searcher.corrector("title")
    replaced: dict[str, str] = {}
    for word in dict.fromkeys(WORDS.findall(text)):
        if word.isupper() or word.isdigit():
            continue  # operators and numbers are not misspellings
        folded = fold(word)
        if _visible(searcher, query.Term("title", folded), scope, mask):
            continue
        for candidate in corrector.suggest(folded, limit=3, maxdist=SUGGESTION_DISTANCE):
            if _visible(searcher, query.Term("title", candidate), scope, mask):
                replaced[word] = candidate
                break
    if not replaced:
        return None
    corrected = WORDS.sub(lambda m: replaced.get(m.group(1), m.group(1)), text)
    again = parse(parser, corrected)
    if again.query is None or not _visible(searcher, again.query, scope, mask):
        return None
    return corrected
