"""Backend-neutral values of search: what is indexed, who may see what, what is asked and what comes back.

Why a module of plain values: Whoosh is the embedded default and a server engine may replace it, so nothing here
names a Whoosh type, and the relevance and permission tests are written against these values only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from flask_babel import lazy_gettext as _l

from ..services import ServiceError

KINDS = ("version", "nonconformity", "corrective_action", "bribery_risk", "due_diligence", "gift", "attachment")
LANGS = ("es", "en")
TEXT_STATES = ("ok", "pending", "unreadable", "none")
FACETS = ("kind", "type", "standard", "clause", "site", "process", "status", "owner", "year")
SORTS = ("relevance", "date")
# Friendly field names a person may type before a colon (`code:PR-QA-001`), besides the facets.
QUERY_FIELDS = ("title", "code", "clause", "type", "kind", "standard", "site", "process", "status", "owner", "year",
                "lang")

MAX_QUERY_CHARS = 1000  # the query parser is quadratic in the text's length: 10 KB would cost half a second
MAX_QUERY_TERMS = 64
MAX_PER_PAGE = 100
MAX_DEPTH = 1000  # no result past this rank is served: deep pages cost a full sort and reveal nothing useful
MAX_FACET_VALUES = 50
MAX_SEGMENTS = 10  # more segments slow every query; merging them is done off the request path

KEY = re.compile(r"^[a-z_]+:[^\s]+$")

Lang = Literal["es", "en"]
TextState = Literal["ok", "pending", "unreadable", "none"]
Sort = Literal["relevance", "date"]
HealthStatus = Literal["ok", "absent", "corrupt", "locked", "schema", "rebuilding"]

NOTICES = {
    "truncated": _l("Your search was too long and was shortened to its first %(chars)s characters."),
    "too_many_terms": _l("Your search had too many words; only the first %(terms)s were used."),
    "unbalanced_quotes": _l("A quotation mark was not closed; it was ignored."),
    "unbalanced_brackets": _l("A bracket was not closed or not opened; it was ignored."),
    "lone_wildcard": _l("A * on its own matches everything and was ignored; put it after a few letters, as in audit*."),
    "dangling_operator": _l("AND, OR or NOT without a word on both sides was ignored."),
    "unknown_field": _l("Unknown search field before a colon; it was searched as text."),
    "syntax": _l("Your search could not be read as written, so its words were searched as plain text."),
    "too_deep": _l("Only the first %(depth)s results can be shown; refine your search to see others."),
}


class SearchError(ServiceError):
    """Base of the refusals search raises; the web error handler renders them (they are ServiceErrors)."""


class IndexUnavailable(SearchError):
    """The index is absent, corrupt, locked by a dead process, of another schema or being swapped: answer 503, the
    rest of the app keeps working. `reason` is one of HealthStatus (never "ok")."""

    status = 503

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(_l("Search is not available right now: the index is being rebuilt. Everything else works; "
                            "please try again in a few minutes."))
        self.reason = reason
        self.detail = detail


class QueryRefused(SearchError):
    """Parameters no repair can make sense of (an unknown sort, facet or kind; a page below 1): a 400. Malformed
    query TEXT never raises this: it is repaired and explained in SearchResults.notice."""

    status = 400


@dataclass(frozen=True, slots=True)
class SearchDoc:
    """One searchable thing (a document version, a record, an attachment) as the index needs it; key "kind:id"."""

    key: str
    kind: str
    object_id: int
    title: str
    parent_id: int | None = None
    body: str = ""
    lang: Lang = "es"
    codes: tuple[str, ...] = ()
    clauses: tuple[str, ...] = ()
    standards: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    doc_type: str | None = None
    site: str | None = None
    process: str | None = None
    status: str = ""
    owner: str | None = None
    year: int | None = None
    day: date | None = None
    in_force: bool = True
    approved: bool = True
    restricted: bool = False
    text_state: TextState = "none"

    def __post_init__(self) -> None:
        if not KEY.match(self.key) or self.kind not in KINDS or not self.key.startswith(self.kind + ":"):
            raise ValueError(f"bad search key {self.key!r} for kind {self.kind!r}")
        if self.lang not in LANGS or self.text_state not in TEXT_STATES:
            raise ValueError(f"bad lang {self.lang!r} or text_state {self.text_state!r} for {self.key}")

    @property
    def facet_type(self) -> str:
        """The "type" facet: the document's type (procedure, form...) for versions, else the record's kind."""
        return self.doc_type or self.kind


@dataclass(frozen=True, slots=True)
class Allow:
    """What one user may see, computed from the database when the query runs (never stored in the index).

    everything: no filter at all. Otherwise a document is visible when its kind is in `kinds`, it is approved if
    `approved_only`, and neither its key nor any of its groups is in `hidden` (restricted documents the user may
    not open, e.g. "document:7"). Empty `kinds` without `everything` allows nothing and returns nothing."""

    everything: bool = False
    kinds: frozenset[str] = frozenset()
    approved_only: bool = True
    hidden: frozenset[str] = frozenset()

    @classmethod
    def nothing(cls) -> Allow:
        return cls()

    @classmethod
    def all(cls) -> Allow:
        return cls(everything=True, kinds=frozenset(KINDS), approved_only=False)

    @property
    def allows_nothing(self) -> bool:
        """The explicit guard: a backend whose engine reads an empty filter as "no filter" checks this first."""
        return not self.everything and not (self.kinds & frozenset(KINDS))


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """One search as asked: text in the query language, narrowing filters, sort and page."""

    text: str = ""
    kinds: frozenset[str] = frozenset()  # empty: every kind the user may see
    filters: Mapping[str, str] = field(default_factory=dict)  # facet -> value, as returned in SearchResults.facets
    include_all_versions: bool = False  # drafts and superseded versions too (for users allowed to see them)
    sort: Sort = "relevance"
    page: int = 1
    per_page: int = 10
    facets: bool = True
    suggest: bool = True

    def __post_init__(self) -> None:
        if self.sort not in SORTS:
            raise QueryRefused(_l("Unknown sort order."))
        if not set(self.kinds) <= set(KINDS):
            raise QueryRefused(_l("Unknown kind of result."))
        if not set(self.filters) <= set(FACETS):
            raise QueryRefused(_l("Unknown filter."))
        if self.page < 1 or not 1 <= self.per_page <= MAX_PER_PAGE:
            raise QueryRefused(_l("Page out of range."))


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One visible result: enough to link to it and show why it matched."""

    key: str
    kind: str
    object_id: int
    parent_id: int | None
    title: str  # plain text: the template escapes it
    snippet_html: str  # every piece of document text escaped; <mark>...</mark> is the only markup
    score: float
    day: date | None
    lang: Lang
    in_force: bool
    text_state: TextState


@dataclass(frozen=True, slots=True)
class SearchResults:
    """What a search returns; every number and value in it counts only what the user may see."""

    total: int
    hits: tuple[SearchHit, ...] = ()
    facets: Mapping[str, tuple[tuple[str, int], ...]] = field(default_factory=dict)
    page: int = 1
    pages: int = 0
    per_page: int = 10
    query: str = ""  # the text actually searched, after repair
    corrected: str | None = None  # "did you mean", only from terms of documents the user may see
    notices: tuple[str, ...] = ()  # codes from NOTICES: what was repaired
    notice: str | None = None  # the same, as one translated sentence (None when nothing was repaired)

    @classmethod
    def empty(cls, query: SearchQuery, text: str = "", notices: tuple[str, ...] = ()) -> SearchResults:
        return cls(total=0, page=query.page, per_page=query.per_page, query=text, notices=notices,
                   notice=notice_text(notices))


@dataclass(frozen=True, slots=True)
class IndexHealth:
    """The index as /healthz, `auditdocs verify` and the 503 page describe it."""

    status: HealthStatus
    docs: int = 0
    segments: int = 0
    schema_version: int | None = None
    expected_schema_version: int | None = None
    detail: str = ""
    path: str = ""
    rebuilding: bool = False  # a reindex is running; the current index (if any) still answers

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def needs_rebuild(self) -> bool:
        """Absent, corrupt or of another schema: only `auditdocs reindex` (or restore) brings it back."""
        return self.status in ("absent", "corrupt", "schema")


def notice_text(codes: tuple[str, ...]) -> str | None:
    """The repair notices as one sentence in the reader's language."""
    params = {"chars": MAX_QUERY_CHARS, "terms": MAX_QUERY_TERMS, "depth": MAX_DEPTH}
    parts = [str(NOTICES[c]) % params for c in dict.fromkeys(codes) if c in NOTICES]
    return " ".join(parts) or None
