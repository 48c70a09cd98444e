"""Read everything one pack prints from the database, once, into plain values (packs.content)."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _

from ..models import Clause
from ..policy import AccessScope
from ..standards import texts
from . import load_records
from .content import (
    COVERED,
    NOT_APPLICABLE,
    Block,
    ClauseSection,
    CoverageRow,
    PackContent,
    Progress,
    TextBlock,
    no_progress,
)
from .load_clauses import coverage_rows, crossmap_table, level_of, pack_clauses
from .load_cover import cover_of
from .load_documents import cited_by_clause, documents_table, evidence_files
from .load_trail import trail_head, trail_table
from .places import places_of
from .spec import PackSpec


def hint_block(clause: Clause, lang: str) -> TextBlock:
    """The typical-evidence hint of a clause with nothing mapped in the period."""
    hint = texts.evidence_hint(clause, lang)
    if hint:
        return TextBlock(_("No evidence for the period. Typical evidence: %(hint)s", hint=hint), kind="hint")
    return TextBlock(_("No evidence for the period: map the documents or records that show this clause is met."),
                     kind="hint")


def _closing_block(clause: Clause, row: CoverageRow, lang: str) -> TextBlock | None:
    """After the evidence: the justification of a clause not applicable, the hint of an empty one; nothing where
    the clause holds evidence or is covered through its sub-clauses."""
    if row.state == NOT_APPLICABLE:
        return TextBlock(f"{_('Not applicable')}: {row.note}" if row.note else _("Not applicable"))
    if row.evidence_count == 0 and row.state != COVERED:
        return hint_block(clause, lang)
    return None


def load_content(spec: PackSpec, scope: AccessScope, *, generated_by: str, generated_at: datetime, pack_id: str,
                 progress: Progress = no_progress) -> PackContent:
    """The pack's whole content as the scope may see it; the builder makes no query after this."""
    places = places_of(spec)
    clauses, by_id = pack_clauses(spec)
    total = len(clauses)
    progress(0, total, "loading")
    cited = cited_by_clause(spec, scope, places, [c.id for c in clauses])
    records = load_records.record_evidence(spec, scope, places, clauses)
    counts = {c.id: len(cited.get(c.id, [])) + records.counts.get(c.id, 0) for c in clauses}
    coverage = coverage_rows(clauses, by_id, counts, spec.lang)
    sections, everything = [], []
    for done, (clause, row) in enumerate(zip(clauses, coverage, strict=True), start=1):
        rows = cited.get(clause.id, [])
        everything.extend(rows)
        blocks: list[Block] = [documents_table(rows, spec)] if rows else []
        blocks.extend(records.blocks.get(clause.id, []))
        closing = _closing_block(clause, row, spec.lang)
        if closing is not None:
            blocks.append(closing)
        sections.append(ClauseSection(standard=clause.standard.code, number=clause.number, title=row.title,
                                      level=level_of(clause.number), evidence_count=counts[clause.id],
                                      blocks=blocks))
        progress(done, total, "loading")
    return PackContent(
        lang=spec.lang,
        cover=cover_of(spec, places, generated_by=generated_by, generated_at=generated_at, pack_id=pack_id),
        coverage=coverage,
        sections=sections,
        evidence=evidence_files(everything),
        trail=trail_table(spec, scope, generated_at),
        trail_head=trail_head(generated_at),
        crossmap=crossmap_table(spec, clauses, by_id, spec.lang),
    )
