"""From what a person typed to a Whoosh query: capped, repaired, parsed, never an exception.

Why repair before parsing: the parser is quadratic in the text's length and builds odd queries from unbalanced
quotes, brackets and dangling operators; a search box must answer every input with results and a plain notice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from whoosh import qparser, query
from whoosh.fields import Schema

from .types import MAX_QUERY_CHARS, MAX_QUERY_TERMS, QUERY_FIELDS
from .whoosh_schema import BODY_FIELDS, TITLE_FIELDS

DEFAULT_FIELDS = (*TITLE_FIELDS, *BODY_FIELDS, "code", "clause")
# Friendly (and Spanish) field names -> schema fields. Names typed before a colon are folded first.
ALIASES = {"code": ["codigo", "ref", "referencia", "reference"], "clause": ["clausula", "requisito"],
           "type": ["tipo"], "standard": ["norma"], "site": ["sede", "sitio"], "process": ["proceso"],
           "status": ["estado"], "owner": ["responsable", "propietario"], "year": ["ano"], "title": ["titulo"],
           "kind": ["clase"], "lang": ["idioma"]}
KNOWN_FIELDS = set(QUERY_FIELDS) | {alias for names in ALIASES.values() for alias in names}
BINARY = {"AND", "OR", "ANDNOT", "ANDMAYBE"}
OPERATORS = {*BINARY, "NOT"}
OPENERS = {"(": ")", "[": "]", "{": "}"}
CLOSERS = {v: k for k, v in OPENERS.items()}
TOKEN = re.compile(r'[^\s()\[\]{}"]*"[^"]*"|[()\[\]{}]|[^\s()\[\]{}"]+')
FIELD_PREFIX = re.compile(r"^(\w+):(.*)$", re.S)
WILDCARD = re.compile(r"[*?]")
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
MIN_PREFIX = 2  # "a*" would expand to most of the lexicon
FIELD_PREFIX_ANY = re.compile(r"(?<![\w:])(\w+):")


@dataclass
class Parsed:
    """The repaired text, its Whoosh query (None: no words, i.e. browse) and the repairs made."""

    text: str
    query: Any
    notices: list[str]


@dataclass
class _Tok:
    text: str
    space: bool  # whitespace before it in the original

    @property
    def is_op(self) -> bool:
        return self.text in OPERATORS

    @property
    def is_open(self) -> bool:
        return self.text in OPENERS

    @property
    def is_close(self) -> bool:
        return self.text in CLOSERS

    @property
    def is_field_only(self) -> bool:
        return self.text.endswith(":") and FIELD_PREFIX.match(self.text) is not None


def _fold_field(name: str) -> str:
    """'Código' -> 'codigo', 'AÑO' -> 'ano': field names are matched accent- and case-free."""
    return name.casefold().translate(str.maketrans("áéíóúüñ", "aeiouun"))


def _tokens(text: str) -> list[_Tok]:
    out = []
    for m in TOKEN.finditer(text):
        out.append(_Tok(m.group(), m.start() > 0 and text[m.start() - 1].isspace()))
    return out


def _join(tokens: list[_Tok]) -> str:
    return "".join((" " if t.space and i else "") + t.text for i, t in enumerate(tokens))


def _fix_words(tokens: list[_Tok], notices: list[str]) -> list[_Tok]:
    """Unknown field names become text; lone or too-short wildcards go; terms beyond the cap are cut."""
    out: list[_Tok] = []
    words = 0
    for tok in tokens:
        if tok.is_op or tok.is_open or tok.is_close:
            out.append(tok)
            continue
        text = tok.text
        m = FIELD_PREFIX.match(text)
        if m and _fold_field(m.group(1)) not in KNOWN_FIELDS:
            notices.append("unknown_field")
            text = m.group(2)
            m = None
        value = m.group(2) if m else text
        if not value.startswith('"') and WILDCARD.search(value):
            head = WILDCARD.split(value)[0]
            if len(head) < MIN_PREFIX:
                notices.append("lone_wildcard")
                value = WILDCARD.sub("", value)
        text = f"{m.group(1)}:{value}" if m else value
        if not text or text == ":":
            continue
        words += max(1, len(text.split()))
        if words > MAX_QUERY_TERMS:
            notices.append("too_many_terms")
            break
        out.append(_Tok(text, tok.space))
    return out


def _balance(tokens: list[_Tok], notices: list[str]) -> list[_Tok]:
    """Drop closers with no opener and openers never closed."""
    stack: list[int] = []
    drop: set[int] = set()
    for i, tok in enumerate(tokens):
        if tok.is_open:
            stack.append(i)
        elif tok.is_close:
            if stack and tokens[stack[-1]].text == CLOSERS[tok.text]:
                stack.pop()
            else:
                drop.add(i)
    drop.update(stack)
    if drop:
        notices.append("unbalanced_brackets")
    return _without(tokens, drop)


def _without(tokens: list[_Tok], drop: set[int]) -> list[_Tok]:
    """The tokens but those dropped; a dropped bracket or operator still separated its neighbours."""
    out: list[_Tok] = []
    gap = False
    for i, tok in enumerate(tokens):
        if i in drop:
            gap = True
            continue
        out.append(_Tok(tok.text, tok.space or gap))
        gap = False
    return out


def _starts_operand(tok: _Tok | None) -> bool:
    return tok is not None and (tok.text == "NOT" or tok.is_open or not (tok.is_op or tok.is_close))


def _ends_operand(tok: _Tok | None) -> bool:
    return tok is not None and (tok.is_close or not (tok.is_op or tok.is_open or tok.is_field_only))


def _drop_dangling(tokens: list[_Tok], notices: list[str]) -> list[_Tok]:
    """AND/OR/NOT with nothing to join, and empty groups, go; repeated until nothing changes."""
    changed = True
    while changed:
        changed = False
        kept: list[int] = []
        drop: set[int] = set()
        for i, tok in enumerate(tokens):
            nxt = tokens[i + 1] if i + 1 < len(tokens) else None
            prev = tokens[kept[-1]] if kept else None
            dangling = (tok.text in BINARY and not (_ends_operand(prev) and _starts_operand(nxt))) or (
                tok.text == "NOT" and not _starts_operand(nxt))
            if dangling:
                notices.append("dangling_operator")
            if tok.is_close and prev is not None and prev.is_open:
                drop.add(kept.pop())
                dangling = True
            elif tok.is_field_only and not (nxt is not None and nxt.is_open and not nxt.space):
                dangling = True
            if dangling:
                drop.add(i)
                changed = True
            else:
                kept.append(i)
        tokens = _without(tokens, drop)
    return tokens


def repair(text: str) -> tuple[str, list[str]]:
    """The query text made well-formed, within the caps, and the notices saying what changed."""
    notices: list[str] = []
    text = CONTROL.sub(" ", text).strip()
    if len(text) > MAX_QUERY_CHARS:
        cut = text[:MAX_QUERY_CHARS]
        text = cut.rsplit(None, 1)[0] if " " in cut else cut
        notices.append("truncated")
    if text.count('"') % 2:
        last = text.rfind('"')
        text = text[:last] + " " + text[last + 1:]
        notices.append("unbalanced_quotes")
    tokens = _fix_words(_tokens(text), notices)
    tokens = _drop_dangling(_balance(tokens, notices), notices)
    return _join(tokens).strip(), notices


def make_parser(schema: Schema) -> qparser.QueryParser:
    """Plain words over titles, bodies (both analysers), codes and clauses; friendly field names; no `*:*`."""
    parser = qparser.MultifieldParser(list(DEFAULT_FIELDS), schema)
    parser.remove_plugin_class(qparser.EveryPlugin)
    parser.add_plugin(qparser.FieldAliasPlugin(ALIASES))
    return parser


def _plain(text: str) -> str:
    words = re.findall(r"\w+(?:[.\-/]\w+)*", text)[:MAX_QUERY_TERMS]
    return " ".join(words)


def parse(parser: qparser.QueryParser, raw: str) -> Parsed:
    """Repair, then parse; a text the parser still cannot read is searched as plain words."""
    text, notices = repair(raw)
    if not text:
        return Parsed("", None, notices)
    folded = FIELD_PREFIX_ANY.sub(lambda m: _fold_field(m.group(1)) + ":", text)
    try:
        parsed = parser.parse(folded)
    except Exception:  # the parser is third-party code fed by strangers: any failure means "read it as words"
        notices.append("syntax")
        text = _plain(text)
        try:
            parsed = parser.parse(text) if text else None
        except Exception:
            parsed = None
    if parsed is None or parsed is query.NullQuery or isinstance(parsed, query.qcore._NullQuery):
        return Parsed(text, None, notices)
    return Parsed(text, parsed, notices)
