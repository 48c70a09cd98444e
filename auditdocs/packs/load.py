"""Read everything one pack prints from the database, once, into plain values (packs.content)."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _

from ..models import Clause
from ..policy import AccessScope
from ..standards import texts
from . import load_records
from .content import Block, ClauseSection, PackContent, Progress, TextBlock, no_progress
from .load_clauses import coverage_rows, crossmap_table, level_of, pack_clauses
from .load_cover import cover_of
from .load_documents import Cited, cited_by_clause, documents_table, evidence_files
from .load_records import RecordEvidence
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


def _section(clause: Clause, cited: list[Cited], records: RecordEvidence, spec: PackSpec) -> ClauseSection:
    """One clause's section: its documents, then its records, else the hint."""
    blocks: list[Block] = []
    if cited:
        blocks.append(documents_table(cited, spec))
    blocks.extend(records.blocks.get(clause.id, []))
    count = len(cited) + records.counts.get(clause.id, 0)
    if count == 0:
        blocks.append(hint_block(clause, spec.lang))
    return ClauseSection(standard=clause.standard.code, number=clause.number, title=clause.title(spec.lang),
                         level=level_of(clause.number), evidence_count=count, blocks=blocks)


def load_content(spec: PackSpec, scope: AccessScope, *, generated_by: str, generated_at: datetime, pack_id: str,
                 progress: Progress = no_progress) -> PackContent:
    """The pack's whole content as the scope may see it; the builder makes no query after this."""
    places = places_of(spec)
    clauses, by_id = pack_clauses(spec)
    total = len(clauses)
    progress(0, total, "loading")
    cited = cited_by_clause(spec, scope, places, [c.id for c in clauses])
    records = load_records.record_evidence(spec, scope, places, clauses)
    sections, counts, everything = [], {}, []
    for done, clause in enumerate(clauses, start=1):
        rows = cited.get(clause.id, [])
        everything.extend(rows)
        section = _section(clause, rows, records, spec)
        sections.append(section)
        counts[clause.id] = section.evidence_count
        progress(done, total, "loading")
    return PackContent(
        lang=spec.lang,
        cover=cover_of(spec, places, generated_by=generated_by, generated_at=generated_at, pack_id=pack_id),
        coverage=coverage_rows(clauses, by_id, counts, spec.lang),
        sections=sections,
        evidence=evidence_files(everything),
        trail=trail_table(spec, scope, generated_at),
        trail_head=trail_head(generated_at),
        crossmap=crossmap_table(spec, clauses, by_id, spec.lang),
    )
