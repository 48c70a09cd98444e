"""What a pack says, as plain values: the loader fills them from the database once, the Word builder only lays them
out, the bundle only streams the evidence they name.

Why plain values: the builder and the bundle are pure functions of this (tested without a database, timed without
one), and nothing in the .docx can come from a query made half-way through a build.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from ..services.risk_heatmap import HeatMap

# done, total, stage ("loading", "clauses", "evidence", "saving"): the CLI bar and the job row both take it.
Progress = Callable[[int, int, str], None]


def no_progress(_done: int, _total: int, _stage: str) -> None:
    """For callers that show nothing."""


@dataclass(frozen=True)
class TableBlock:
    """A table as printed: a caption, the column headers and the cells as text (already in the pack's language)."""

    caption: str
    columns: tuple[str, ...]
    rows: list[tuple[str, ...]]


@dataclass(frozen=True)
class TextBlock:
    """A paragraph: a note ("hint" for the typical-evidence hint where nothing is mapped, "note" otherwise)."""

    text: str
    kind: str = "note"


@dataclass(frozen=True)
class HeatMapBlock:
    """The bribery-risk heat map, drawn by packs.heatmap.add_heatmap_table."""

    caption: str
    heatmap: HeatMap
    words: dict[str, str] | None = None


Block = TableBlock | TextBlock | HeatMapBlock


@dataclass(frozen=True)
class ClauseSection:
    """One clause's section: heading "number title" at its level, then its blocks in a fixed order."""

    standard: str  # "ISO 9001:2015"
    number: str
    title: str
    level: int
    evidence_count: int
    blocks: list[Block] = field(default_factory=list)


# Coverage states, one per clause in the summary.
COVERED, GAP, NOT_APPLICABLE, NOT_ASKED = "covered", "gap", "not_applicable", "not_asked"


@dataclass(frozen=True)
class CoverageRow:
    """One line of the coverage summary: a gap is an applicable clause asking for documented information (or one
    the product keeps a register for) with no evidence in the period; not applicable carries its justification."""

    standard: str
    number: str
    title: str
    evidence_count: int
    state: str
    note: str = ""


@dataclass(frozen=True)
class EvidenceFile:
    """One evidence file at the version cited: where it goes in the bundle and what proves it unchanged."""

    path: str  # inside the bundle: "evidence/<document code>/<version label>/<file name>", unique
    document: str  # document code
    title: str
    version: str  # version label as people know it ("v3", "Rev. 3")
    size: int
    sha256: str


@dataclass(frozen=True)
class Cover:
    """The cover page's facts, already in the pack's language."""

    organisation: str
    standards: list[str]  # "ISO 9001:2015 — Sistemas de gestión de la calidad — Requisitos"
    scope: list[str]  # the certification scope statement(s)
    sites: list[str]  # "LIM — Sede central"; empty: the whole organisation
    processes: list[str]
    audit: str | None
    date_from: date
    date_to: date
    generated_at: datetime  # aware, UTC
    generated_by: str
    pack_id: str


@dataclass(frozen=True)
class PackContent:
    """Everything one pack prints, in order: cover, coverage, clause sections, then the annexes."""

    lang: str
    cover: Cover
    coverage: list[CoverageRow]
    sections: list[ClauseSection]
    evidence: list[EvidenceFile]  # each file once, in path order
    trail: TableBlock  # approvals, withdrawals, closures in the period
    trail_head: str  # "event 1234, SHA-256 ab12..." : where the audit chain stood when the pack was built
    crossmap: TableBlock | None = None  # integrated packs only


# Clauses the product keeps a register for: with no record in the period they are gaps even when the catalogue says
# they ask for no documented information (risk register, due diligence, gifts, internal audits, nonconformities).
REGISTER_CLAUSES: dict[str, frozenset[str]] = {
    "ISO 37001:2016": frozenset({"4.5", "8.2", "8.7", "9.2", "10.1"}),
    "ISO 9001:2015": frozenset({"9.2", "10.2"}),
}
