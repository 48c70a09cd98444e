"""The pack's .docx: cover, table of contents, coverage, one section per clause, annexes.

Why built-in heading styles and one outline (parts at Heading 1, clauses at Heading 2-4 by depth): Word's navigation
pane and the TOC field read nothing else. Why every table goes through docx_tables: python-docx's own table API is
quadratic in the rows and a pack can cite thousands of files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import docx
from docx.shared import Pt
from flask_babel import force_locale
from flask_babel import gettext as _

from .content import (
    Block,
    ClauseSection,
    EvidenceFile,
    HeatMapBlock,
    PackContent,
    Progress,
    TableBlock,
    TextBlock,
    no_progress,
)
from .docx_cover import add_cover, add_coverage, iso_utc
from .docx_fields import add_toc, header_and_footer
from .docx_save import save, set_properties
from .docx_styles import CAPTION, heading, paragraph, prepare
from .docx_tables import add_table
from .docx_xml import clean
from .heatmap import add_heatmap_table

DEEPEST_CLAUSE_HEADING = 4  # the TOC field lists levels 1-4; deeper sub-clauses stay at Heading 4


def clause_heading_level(level: int) -> int:
    """Catalogue level 1 (clause 8) -> Heading 2 under its standard's part; 8.5 -> 3; 8.5.1 and deeper -> 4."""
    return min(max(level, 1) + 1, DEEPEST_CLAUSE_HEADING)


def part_heading(document: Any, text: str) -> None:
    """A part of the pack (coverage, one standard's clauses, annexes): Heading 1 on a new page."""
    heading(document, text, 1).paragraph_format.page_break_before = True


def _caption(document: Any, text: str) -> None:
    """The table's caption, kept on the same page as the table's first rows."""
    caption = paragraph(document, text, CAPTION)
    caption.paragraph_format.keep_with_next = True
    caption.paragraph_format.space_before = Pt(8)


def add_table_block(document: Any, block: TableBlock, *, code_columns: tuple[int, ...] = ()) -> None:
    """Caption and table; a table with no rows is said in words instead of drawn empty."""
    _caption(document, block.caption)
    if not block.rows:
        document.add_paragraph().add_run(_("No entries.")).italic = True
        return
    add_table(document, block.columns, block.rows, code_columns=code_columns)


def add_block(document: Any, block: Block, lang: str) -> None:
    """One block of a clause section, as its kind is printed."""
    if isinstance(block, TableBlock):
        add_table_block(document, block)
    elif isinstance(block, TextBlock):
        paragraph = document.add_paragraph()
        paragraph.add_run(clean(block.text)).italic = block.kind == "hint"
    elif isinstance(block, HeatMapBlock):
        _caption(document, block.caption)
        add_heatmap_table(document, block.heatmap, lang, block.words)


def add_section(document: Any, section: ClauseSection, lang: str) -> None:
    """The clause's heading, "number title" (never the standard's text), then its blocks in order."""
    heading(document, f"{section.number} {section.title}", clause_heading_level(section.level))
    for block in section.blocks:
        add_block(document, block, lang)


def _evidence_rows(evidence: list[EvidenceFile]) -> list[tuple[str, ...]]:
    return [(f.path, f"{f.document} {f.title}", f.version, str(f.size), f.sha256) for f in evidence]


def add_annexes(document: Any, content: PackContent, manifest_sha256: str) -> None:
    """The evidence manifest, the audit-trail excerpt with the chain head, and the cross-map of an integrated pack."""
    part_heading(document, _("Annexes"))
    heading(document, _("Evidence manifest"), 2)
    document.add_paragraph(_("Each file below is in the bundle at the path shown. evidence-manifest.csv lists the "
                             "same files; its SHA-256 is %(sha)s.", sha=manifest_sha256))
    manifest = TableBlock(caption=_("Evidence files at the version cited"),
                          columns=(_("File"), _("Document"), _("Version"), _("Size (bytes)"), _("SHA-256")),
                          rows=_evidence_rows(content.evidence))
    add_table_block(document, manifest, code_columns=(4,))
    heading(document, _("Audit-trail excerpt"), 2)
    add_table_block(document, content.trail)
    paragraph = document.add_paragraph()
    paragraph.add_run(_("Head of the audit chain when the pack was built: ")).bold = True
    paragraph.add_run(clean(content.trail_head))
    if content.crossmap is not None:
        heading(document, _("Cross-map between the standards"), 2)
        add_table_block(document, content.crossmap)


def write_docx(content: PackContent, manifest_sha256: str, target: Path, *, progress: Progress = no_progress) -> None:
    """Write the pack's .docx to target, the same bytes for the same content."""
    cover = content.cover
    total = len(content.sections)
    with force_locale(content.lang):
        document = docx.Document()
        prepare(document, content.lang)
        add_cover(document, cover, manifest_sha256)
        add_toc(document)
        add_coverage(document, content.coverage)
        standard = None
        for done, section in enumerate(content.sections):
            progress(done, total, "writing")
            if section.standard != standard:
                standard = section.standard
                part_heading(document, _("Clauses of %(standard)s", standard=standard))
            add_section(document, section, content.lang)
        progress(total, total, "writing")
        add_annexes(document, content, manifest_sha256)
        header_and_footer(document, cover.pack_id, iso_utc(cover.generated_at)[:10])
        title = _("Audit evidence pack %(pack_id)s", pack_id=cover.pack_id)
        set_properties(document, title=title, subject=" · ".join(cover.standards), keywords=cover.organisation,
                       lang=content.lang, generated_at=cover.generated_at)
    progress(0, 1, "saving")
    save(document, target, cover.generated_at)
    progress(1, 1, "saving")
