"""The clauses a pack covers, in catalogue order, and what the coverage summary and the cross-map say of them.

Why the coverage rules here and not in the Word builder: the summary must agree with the app's gap view (a clause
marked not applicable, or under one, is justified, not a gap; evidence under a sub-clause covers its parents) and
with the register clauses the product keeps records for, and the builder only lays out what it is given.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask_babel import gettext as _
from sqlalchemy import or_, select

from ..extensions import db
from ..models import Clause, CrossMap
from ..services import coverage
from ..standards import texts
from .content import COVERED, GAP, NOT_APPLICABLE, NOT_ASKED, REGISTER_CLAUSES, CoverageRow, TableBlock
from .spec import PackSpec


def wanted(number: str, chosen: tuple[str, ...]) -> bool:
    """A clause the pack covers: every one when none was chosen, else a chosen number or a sub-clause of one."""
    return not chosen or any(number == n or number.startswith(n + ".") for n in chosen)


def level_of(number: str) -> int:
    """The heading level: the depth of the number ("8" 1, "8.5" 2, "8.5.1" 3)."""
    return number.count(".") + 1


def pack_clauses(spec: PackSpec) -> tuple[list[Clause], dict[int, Clause]]:
    """The pack's clauses in catalogue order, and every clause of the catalogue by id (parents outside the choice
    still decide applicability)."""
    every = coverage.catalogue()
    by_id = {c.id: c for c in every}
    return [c for c in every if c.standard.code in spec.standards and wanted(c.number, spec.clauses)], by_id


def not_applicable_note(clause: Clause, by_id: Mapping[int, Clause]) -> str | None:
    """The justification when the clause, or a clause above it, is marked not applicable; None when applicable."""
    current: Clause | None = clause
    while current is not None:
        if not current.applicable:
            reason = (current.not_applicable_reason or "").strip()
            if current is clause:
                return reason
            return str(_("Clause %(number)s is not applicable: %(reason)s", number=current.number, reason=reason))
        current = by_id.get(current.parent_id) if current.parent_id is not None else None
    return None


def asks_for_evidence(clause: Clause) -> bool:
    """Asks for documented information per the catalogue, or the product keeps a register for it."""
    return (clause.documented_information != "none"
            or clause.number in REGISTER_CLAUSES.get(clause.standard.code, frozenset()))


def coverage_rows(clauses: list[Clause], by_id: Mapping[int, Clause], counts: Mapping[int, int],
                  lang: str) -> list[CoverageRow]:
    """One row per clause of the pack: not applicable (with its justification), covered (evidence on it or on a
    sub-clause), a gap (asks for evidence and has none in the period), or not asked."""
    covered: set[int] = set()
    for clause in clauses:
        current: Clause | None = clause if counts.get(clause.id, 0) > 0 else None
        while current is not None and current.id not in covered:
            covered.add(current.id)
            current = by_id.get(current.parent_id) if current.parent_id is not None else None
    rows = []
    for clause in clauses:
        note = not_applicable_note(clause, by_id)
        if note is not None:
            state = NOT_APPLICABLE
        elif clause.id in covered:
            state = COVERED
        elif asks_for_evidence(clause):
            state = GAP
        else:
            state = NOT_ASKED
        rows.append(CoverageRow(standard=clause.standard.code, number=clause.number, title=clause.title(lang),
                                evidence_count=counts.get(clause.id, 0), state=state, note=note or ""))
    return rows


def crossmap_table(spec: PackSpec, clauses: list[Clause], by_id: Mapping[int, Clause],
                   lang: str) -> TableBlock | None:
    """For an integrated pack, the correspondences that touch a chosen clause, one column per standard in the
    pack's order, then the topic; None for a single standard."""
    if not spec.integrated:
        return None
    chosen = {c.id for c in clauses}
    maps = db.session.scalars(select(CrossMap).where(or_(CrossMap.left_clause_id.in_(chosen),
                                                         CrossMap.right_clause_id.in_(chosen)))).all()
    first, second = spec.standards[0], spec.standards[1]
    keyed = []
    for m in maps:
        sides = [by_id[i] for i in (m.left_clause_id, m.right_clause_id) if i is not None and i in by_id]
        one = next((c for c in sides if c.standard.code == first), None)
        two = next((c for c in sides if c.standard.code == second), None)
        key = (one.sort_key if one else "~", two.sort_key if two else "~", m.topic)
        keyed.append((key, (_cell(one, lang), _cell(two, lang), texts.crossmap_topic(m.topic, lang))))
    keyed.sort(key=lambda item: item[0])
    return TableBlock(caption=_("Cross-map between %(first)s and %(second)s", first=first, second=second),
                      columns=(first, second, _("Topic")), rows=[row for _key, row in keyed])


def _cell(clause: Clause | None, lang: str) -> str:
    return f"{clause.number} {clause.title(lang)}" if clause is not None else "—"
