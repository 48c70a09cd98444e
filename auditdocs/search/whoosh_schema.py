"""The Whoosh schema and analysers: accent and case folding everywhere, Spanish or English stemming by the document's
language, exact keywords for codes and clause numbers, columns for facets and the date sort.

Why two title and body fields (_es, _en): a document is analysed by its own language's stemmer, and a query is
analysed by both, so "correctivas" reaches a Spanish "correctiva" and "audits" an English "audit". The schema is
pickled into the index, so these classes must keep their module path; any change here bumps SCHEMA_VERSION.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from datetime import date
from functools import lru_cache
from typing import Any

from whoosh import columns, fields
from whoosh.analysis import Filter, RegexTokenizer, Token
from whoosh.lang import stemmer_for_language

from .types import SearchDoc

SCHEMA_VERSION = 1

WORD = r"\w+(?:[.\-/]\w+)*"  # "8.5.2", "PR-QA-001" and "NC-2026-0014" stay one token
SEPARATOR = "\x1f"  # between the values of a multi-valued keyword field (values may hold spaces or commas)
COMPOUND = re.compile(r"[.\-/]")
PART = re.compile(r"[^.\-/]+")
EPOCH = date(1970, 1, 1)
NO_DAY = -1  # documents without a day sort after every dated one when newest come first

# Facet name -> (column field, multi-valued)
FACET_COLUMNS = {"kind": ("c_kind", False), "type": ("c_type", False), "standard": ("c_standard", True),
                 "clause": ("c_clause", True), "site": ("c_site", False), "process": ("c_process", False),
                 "status": ("c_status", False), "owner": ("c_owner", False), "year": ("c_year", False)}
# Facet name -> the folded exact field a facet filter matches.
FACET_FILTER_FIELDS = {"kind": "kind", "type": "type", "standard": "standard", "clause": "clause", "site": "x_site",
                       "process": "x_process", "status": "status", "owner": "x_owner", "year": "year"}
TITLE_FIELDS = ("title_es", "title_en")
BODY_FIELDS = ("body_es", "body_en")


def fold(text: str) -> str:
    """Accent-free, case-free text (the same folding as auditdocs.textnorm, per token)."""
    if text.isascii():
        return text.lower()
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().casefold()


class FoldFilter(Filter):
    """'Acción' and 'ACCION' become 'accion'; tokens that fold to nothing (symbols only) are dropped."""

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        for t in tokens:
            t.text = fold(t.text)
            if t.text:
                yield t


class CompoundFilter(Filter):
    """When indexing, "anti-soborno" also yields "anti" and "soborno" (same position), so a word inside a code or a
    hyphenated word is found; a query keeps the compound whole, so "8.5.2" matches only "8.5.2"."""

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        for t in tokens:
            yield t
            if t.mode != "index" or not COMPOUND.search(t.text):
                continue
            text, start = t.text, getattr(t, "startchar", None)
            for m in PART.finditer(text):
                t.text = m.group()
                if start is not None:
                    t.startchar, t.endchar = start + m.start(), start + m.end()
                yield t
            t.text = text


@lru_cache(maxsize=4)
def _stemmer(lang: str) -> Callable[[str], str]:
    return lru_cache(maxsize=50_000)(stemmer_for_language(lang))


class LangStemFilter(Filter):
    """Snowball stemming in one language; compounds and numbers are left whole (they are identifiers)."""

    is_morph = True

    def __init__(self, lang: str) -> None:
        self.lang = lang

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LangStemFilter) and other.lang == self.lang

    def __hash__(self) -> int:
        return hash(("stem", self.lang))

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        stem = _stemmer(self.lang)
        for t in tokens:
            if not t.stopped and t.text.isalpha():
                t.text = stem(t.text)
            yield t


def text_analyzer(lang: str | None) -> Any:
    """Words folded, compounds also split at index time, then stemmed in `lang` (None: no stemming)."""
    chain = RegexTokenizer(WORD) | FoldFilter() | CompoundFilter()
    return chain | LangStemFilter(lang) if lang else chain


def keyword_analyzer() -> Any:
    """Whole values, folded: a code or clause number is one term, never split."""
    return RegexTokenizer(f"[^{SEPARATOR}]+") | FoldFilter()


def build_schema() -> fields.Schema:
    """The fields; `c_*` are columns for facets and sorting, `x_*` exact values for facet filters."""
    keyword = keyword_analyzer()
    words = text_analyzer(None)
    spec: dict[str, Any] = {
        "key": fields.ID(stored=True, unique=True),
        "kind": fields.KEYWORD(analyzer=keyword, stored=True),
        "object_id": fields.STORED(),
        "parent_id": fields.STORED(),
        "title": fields.TEXT(analyzer=words, stored=True, phrase=True),
        "title_es": fields.TEXT(analyzer=text_analyzer("es"), field_boost=3.0),
        "title_en": fields.TEXT(analyzer=text_analyzer("en"), field_boost=3.0),
        "body_es": fields.TEXT(analyzer=text_analyzer("es"), stored=True, chars=True),
        "body_en": fields.TEXT(analyzer=text_analyzer("en"), stored=True, chars=True),
        "code": fields.KEYWORD(analyzer=keyword, scorable=True, field_boost=6.0),
        "clause": fields.KEYWORD(analyzer=keyword, scorable=True, field_boost=4.0),
        "standard": fields.KEYWORD(analyzer=keyword),
        "type": fields.KEYWORD(analyzer=keyword),
        "status": fields.KEYWORD(analyzer=keyword),
        "year": fields.KEYWORD(analyzer=keyword),
        "lang": fields.KEYWORD(analyzer=keyword, stored=True),
        "site": fields.TEXT(analyzer=words),
        "process": fields.TEXT(analyzer=words),
        "owner": fields.TEXT(analyzer=words),
        "x_site": fields.KEYWORD(analyzer=keyword),
        "x_process": fields.KEYWORD(analyzer=keyword),
        "x_owner": fields.KEYWORD(analyzer=keyword),
        "guard": fields.KEYWORD(analyzer=keyword),
        "flags": fields.KEYWORD(analyzer=keyword),
        "meta": fields.STORED(),
        "c_day": fields.COLUMN(columns.NumericColumn("i", default=NO_DAY)),
    }
    for column, multi in FACET_COLUMNS.values():
        spec[column] = fields.COLUMN(columns.VarBytesListColumn() if multi else columns.VarBytesColumn())
    return fields.Schema(**spec)


def _joined(values: tuple[str, ...] | list[str]) -> str:
    return SEPARATOR.join(v for v in values if v)


def _column(values: tuple[str, ...] | list[str], multi: bool) -> Any:
    clean = sorted({v for v in values if v})
    encoded = [v.encode("utf-8") for v in clean]
    return encoded if multi else (encoded[0] if encoded else b"")


def flags_of(doc: SearchDoc) -> list[str]:
    """Boolean facts the permission and default filters match as terms."""
    return [name for name, on in (("approved", doc.approved), ("in_force", doc.in_force),
                                  ("restricted", doc.restricted)) if on]


def to_fields(doc: SearchDoc) -> dict[str, Any]:
    """A SearchDoc as the keyword arguments of writer.update_document."""
    year = str(doc.year) if doc.year is not None else ""
    facet_values: dict[str, list[str]] = {
        "kind": [doc.kind], "type": [doc.facet_type], "standard": list(doc.standards), "clause": list(doc.clauses),
        "site": [doc.site or ""], "process": [doc.process or ""], "status": [doc.status], "owner": [doc.owner or ""],
        "year": [year]}
    out: dict[str, Any] = {
        "key": doc.key, "kind": doc.kind, "object_id": doc.object_id, "parent_id": doc.parent_id,
        "title": doc.title, "title_es": doc.title, "title_en": doc.title, f"body_{doc.lang}": doc.body,
        "code": _joined(doc.codes), "clause": _joined(doc.clauses), "standard": _joined(doc.standards),
        "type": doc.facet_type, "status": doc.status, "year": year, "lang": doc.lang,
        "site": doc.site or "", "process": doc.process or "", "owner": doc.owner or "",
        "x_site": doc.site or "", "x_process": doc.process or "", "x_owner": doc.owner or "",
        "guard": _joined([doc.key, *doc.groups]), "flags": _joined(flags_of(doc)),
        "meta": {"day": doc.day.isoformat() if doc.day else None, "in_force": doc.in_force,
                 "text_state": doc.text_state},
        "c_day": (doc.day - EPOCH).days if doc.day else NO_DAY,
    }
    for facet, (column, multi) in FACET_COLUMNS.items():
        out[column] = _column(facet_values[facet], multi)
    return out
