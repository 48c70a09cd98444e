"""The clause picker's data: both standards as trees of clauses, titled in the user's language.

One query reads the catalogue (a few hundred rows); the picker macro (templates/_clause_picker.html) renders it as
nested checkboxes that work without JavaScript, and static/app/clause-picker.js adds search, chips and keys."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy import select

from ...extensions import db
from ...models import Clause, Standard
from ..helpers import current_lang


@dataclass
class ClauseNode:
    """One clause with its sub-clauses; `other` is the title in the other language, so a search finds either."""

    id: int
    number: str
    ref: str
    title: str
    other: str
    applicable: bool
    children: list[ClauseNode] = field(default_factory=list)


@dataclass
class StandardBranch:
    """One edition of a standard and its top-level clauses."""

    code: str
    slug: str
    title: str
    nodes: list[ClauseNode]

    def walk(self) -> Iterator[ClauseNode]:
        """Every clause of the standard in catalogue order (parents before their sub-clauses)."""
        stack = list(reversed(self.nodes))
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.children))


def _other_title(clause: Clause, lang: str) -> str:
    """The title a person searching in the other language would type (empty for an untitled paragraph)."""
    if clause.untitled and clause.title_corrected_at is None:
        return ""
    other = clause.title_en if lang == "es" else (clause.title_es or "")
    return "" if other == clause.title(lang) else other


def clause_tree(lang: str | None = None) -> list[StandardBranch]:
    """Both standards by clause hierarchy (parent links of the catalogue), in catalogue order."""
    lang = lang or current_lang()
    rows = db.session.execute(
        select(Clause, Standard).join(Standard).order_by(Standard.sort_order, Clause.sort_key)
    ).all()
    branches: dict[int, StandardBranch] = {}
    nodes: dict[int, ClauseNode] = {}
    for clause, std in rows:
        branch = branches.get(std.id)
        if branch is None:
            title = std.title_es if lang == "es" and std.title_es else std.title_en
            branch = branches[std.id] = StandardBranch(std.code, std.slug, title, [])
        node = nodes[clause.id] = ClauseNode(clause.id, clause.number, f"{std.code} {clause.number}",
                                             clause.title(lang), _other_title(clause, lang), clause.applicable)
        parent = nodes.get(clause.parent_id) if clause.parent_id is not None else None
        (parent.children if parent is not None else branch.nodes).append(node)
    return list(branches.values())
