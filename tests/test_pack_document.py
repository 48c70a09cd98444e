"""The pack's .docx from hand-built content: written, re-opened with python-docx and read back through its XML —
headings and their styles in order, the cover's facts, the TOC field, the coverage table with its gaps, every block's
cells, the header and footer fields, both languages, and the same bytes for the same content."""

from __future__ import annotations

import importlib.util
import sys
import zipfile
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import docx
import pytest
from docx.oxml.ns import qn
from flask import Flask
from flask_babel import force_locale

from auditdocs.packs.content import (
    COVERED,
    GAP,
    NOT_APPLICABLE,
    NOT_ASKED,
    ClauseSection,
    Cover,
    CoverageRow,
    EvidenceFile,
    HeatMapBlock,
    PackContent,
    TableBlock,
    TextBlock,
)
from auditdocs.packs.document import write_docx
from auditdocs.packs.docx_styles import TEXT_WIDTH
from auditdocs.packs.docx_tables import CHAR, PAD, column_widths
from auditdocs.services.risk_heatmap import HeatCell, HeatMap

pytestmark = pytest.mark.sqlite_only  # no database is read: the .docx is a function of the content alone

WHEN = datetime(2026, 11, 30, 14, 5, 9, tzinfo=UTC)
MANIFEST_SHA = "ab" * 32
PACK_ID = "PK-7Q2M-XW4D"
BENCH = Path(__file__).resolve().parent.parent / "benchmarks" / "pack_bench.py"
DOC_COLUMNS = ("Code", "Title", "Version", "Effective", "Approved by", "SHA-256", "Status")
NC_COLUMNS = ("Reference", "Status", "Detected", "Closed", "Effectiveness")


def _heatmap() -> HeatMap:
    """A 3 × 3 map with a few risks, its ratings' colours as the matrix gives them."""
    colours = {"low": "#2e7d32", "medium": "#f9a825", "high": "#b71c1c"}
    cells: dict[int, dict[int, HeatCell]] = {}
    risk = 0
    for lk in range(1, 4):
        cells[lk] = {}
        for im in range(1, 4):
            rating = "low" if lk * im < 3 else "medium" if lk * im < 6 else "high"
            ids = tuple(range(risk, risk + (lk + im) % 3))
            risk += len(ids)
            cells[lk][im] = HeatCell(lk, im, lk * im, rating, colours[rating], ids)
    labels = {"es": ["Baja", "Media", "Alta"], "en": ["Low", "Medium", "High"]}
    return HeatMap(1, "inherent", 3, 3, cells, labels, labels)


def _doc_rows(prefix: str, count: int) -> list[tuple[str, ...]]:
    return [(f"{prefix}-{n:04d}", f"Procedure {n} & <checks> \"quoted\"", f"v{n % 7 + 1}", "2026-03-01",
             f"Ana Quispe, 2026-02-{n % 28 + 1:02d}", f"{n:08x}"[:8], "approved") for n in range(count)]


def make_content(lang: str = "en", *, generated_at: datetime = WHEN, big_rows: int = 0,
                 crossmap: bool = True) -> PackContent:
    """A small two-standard pack: clauses at levels 1-4, each kind of block, a gap, a clause not applicable."""
    sections = [
        ClauseSection("ISO 9001:2015", "4", "Context of the organization", 1, 0, [
            TextBlock("Typical evidence: context and issues register; strategic plan.", kind="hint")]),
        ClauseSection("ISO 9001:2015", "4.3", "Determining the scope of the quality management system", 2, 2, [
            TableBlock("Controlled documents", DOC_COLUMNS, _doc_rows("MAN-CAL", 2))]),
        ClauseSection("ISO 9001:2015", "7.1.5", "Monitoring and measuring resources", 3, 0, [
            TableBlock("Controlled documents", DOC_COLUMNS, []),
            TextBlock("Nothing is mapped to this clause.")]),
        ClauseSection("ISO 9001:2015", "7.1.5.2", "Measurement traceability", 4, 3, [
            TableBlock("Controlled documents", DOC_COLUMNS, _doc_rows("REG-MET", 3)),
            TableBlock("Nonconformities and actions", NC_COLUMNS,
                       [("NC-2026-0001", "closed", "2026-01-10", "2026-03-02", "effective\nchecked 2026-05-01")])]),
        ClauseSection("ISO 37001:2016", "4.5", "Bribery risk assessment", 2, 1, [
            HeatMapBlock("Inherent bribery risk", _heatmap(), {"low": "Low", "medium": "Medium", "high": "High"}),
            TableBlock("Risk register", ("Risk", "Rating"), [("R-01 Supplier kickbacks", "high")])]),
    ]
    if big_rows:
        sections.append(ClauseSection("ISO 37001:2016", "8.2", "Due diligence", 2, big_rows, [
            TableBlock("Due-diligence entries", DOC_COLUMNS, _doc_rows("DD", big_rows))]))
    coverage = [
        CoverageRow("ISO 9001:2015", "4", "Context of the organization", 0, NOT_ASKED),
        CoverageRow("ISO 9001:2015", "4.3", "Determining the scope of the quality management system", 2, COVERED),
        CoverageRow("ISO 9001:2015", "7.1.5", "Monitoring and measuring resources", 0, GAP),
        CoverageRow("ISO 9001:2015", "7.1.5.2", "Measurement traceability", 3, COVERED),
        CoverageRow("ISO 9001:2015", "8.3", "Design and development of products and services", 0, NOT_APPLICABLE,
                    "The programme delivers services designed by the ministry."),
        CoverageRow("ISO 37001:2016", "4.5", "Bribery risk assessment", 1, COVERED),
        CoverageRow("ISO 37001:2016", "8.7", "Gifts, hospitality, donations and similar benefits", 0, GAP),
    ]
    evidence = [EvidenceFile(f"evidence/MAN-CAL-{n:04d}/v1/manual {n}.pdf", f"MAN-CAL-{n:04d}", f"Manual {n}", "v1",
                             1000 + n, f"{n:064x}") for n in range(4)]
    cover = Cover(organisation="Programme Nacional \u201cCuna Más\u201d",
                  standards=["ISO 9001:2015 — Quality management systems — Requirements",
                             "ISO 37001:2016 — Anti-bribery management systems"],
                  scope=["Day care and family support services in Lima and Cusco."],
                  sites=["LIM — Head office", "CUS — Cusco unit"], processes=[], audit="AUD-2026-02 Surveillance 2",
                  date_from=date(2026, 1, 1), date_to=date(2026, 6, 30), generated_at=generated_at,
                  generated_by="Rosa Huamán (quality officer)", pack_id=PACK_ID)
    trail = TableBlock("Approvals, withdrawals and closures", ("When", "Event", "By"),
                       [("2026-02-01 10:00", "approved MAN-CAL-0001 v1", "Ana Quispe"),
                        ("2026-03-02 09:30", "closed NC-2026-0001", "Luis Paz")])
    cross = TableBlock("ISO 9001:2015 ↔ ISO 37001:2016", ("ISO 9001:2015", "ISO 37001:2016", "Relation"),
                       [("7.5", "7.5", "equivalent")]) if crossmap else None
    return PackContent(lang=lang, cover=cover, coverage=coverage, sections=sections, evidence=evidence, trail=trail,
                       trail_head="event 1234, SHA-256 9f86d081884c7d65", crossmap=cross)


def write(app: Flask, content: PackContent, path: Path, **kwargs: Any) -> Any:
    """Write inside the app (the fixed words are translated), then re-open the file."""
    with app.app_context(), force_locale(content.lang):
        write_docx(content, MANIFEST_SHA, path, **kwargs)
    return docx.Document(str(path))


def headings(document: Any) -> list[tuple[str, str]]:
    return [(p.style.name, p.text) for p in document.paragraphs if p.style.name.startswith(("Heading", "Title"))]


def cell_text(tc: Any) -> str:
    """A cell's text read from its XML: paragraphs and line breaks as newlines."""
    paragraphs = []
    for p in tc.iter(qn("w:p")):
        paragraphs.append("".join((el.text or "") if el.tag == qn("w:t") else "\n"
                                  for el in p.iter(qn("w:t"), qn("w:br"))))
    return "\n".join(paragraphs)


def table_rows(tbl: Any) -> list[list[str]]:
    return [[cell_text(tc) for tc in tr.findall(qn("w:tc"))] for tr in tbl.findall(qn("w:tr"))]


def fill(tc: Any) -> str | None:
    shd = tc.find(f"{qn('w:tcPr')}/{qn('w:shd')}")
    return None if shd is None else shd.get(qn("w:fill"))


def captioned_tables(document: Any) -> dict[str, list[Any]]:
    """Each caption paragraph's text -> the tables that follow it directly, in body order."""
    found: dict[str, list[Any]] = {}
    caption = None
    for child in document.element.body:
        if child.tag == qn("w:p"):
            style = child.find(f"{qn('w:pPr')}/{qn('w:pStyle')}")
            caption = "".join(t.text or "" for t in child.iter(qn("w:t"))) \
                if style is not None and style.get(qn("w:val")) == "Caption" else None
        elif child.tag == qn("w:tbl") and caption is not None:
            found.setdefault(caption, []).append(child)
            caption = None
    return found


def test_headings_use_the_built_in_styles_in_one_outline_with_number_and_title(app: Flask, tmp_path: Path):
    document = write(app, make_content(), tmp_path / "pack.docx")
    assert headings(document) == [
        ("Title", "Audit evidence pack"),
        ("Heading 1", "Coverage summary"),
        ("Heading 1", "Clauses of ISO 9001:2015"),
        ("Heading 2", "4 Context of the organization"),
        ("Heading 3", "4.3 Determining the scope of the quality management system"),
        ("Heading 4", "7.1.5 Monitoring and measuring resources"),
        ("Heading 4", "7.1.5.2 Measurement traceability"),
        ("Heading 1", "Clauses of ISO 37001:2016"),
        ("Heading 3", "4.5 Bribery risk assessment"),
        ("Heading 1", "Annexes"),
        ("Heading 2", "Evidence manifest"),
        ("Heading 2", "Audit-trail excerpt"),
        ("Heading 2", "Cross-map between the standards"),
    ]
    without = write(app, make_content(crossmap=False), tmp_path / "single.docx")
    assert headings(without)[-1] == ("Heading 2", "Audit-trail excerpt")


def test_the_cover_carries_the_facts_the_pack_id_and_the_manifest_hash(app: Flask, tmp_path: Path):
    document = write(app, make_content(), tmp_path / "pack.docx")
    lines = [p.text for p in document.paragraphs]
    cover = lines[: lines.index("Contents")]
    assert "Programme Nacional \u201cCuna Más\u201d" in cover
    assert "ISO 9001:2015 — Quality management systems — Requirements" in cover
    assert "ISO 37001:2016 — Anti-bribery management systems" in cover
    assert "Certification scope: Day care and family support services in Lima and Cusco." in cover
    assert "LIM — Head office" in cover and "CUS — Cusco unit" in cover
    assert "Processes: All processes" in cover
    assert "Audit: AUD-2026-02 Surveillance 2" in cover
    assert "Period: 2026-01-01 to 2026-06-30" in cover
    assert "Generated at: 2026-11-30T14:05:09Z (UTC)" in cover
    assert "Generated by: Rosa Huamán (quality officer)" in cover
    assert f"Pack identifier: {PACK_ID}" in cover
    assert f"SHA-256 of the evidence manifest: {MANIFEST_SHA}" in cover
    props = document.core_properties
    assert (props.author, props.last_modified_by, props.revision) == ("auditdocs", "auditdocs", 1)
    assert props.created == props.modified == WHEN
    assert PACK_ID in props.title


def test_a_toc_field_is_filled_by_word_on_open(app: Flask, tmp_path: Path):
    path = tmp_path / "pack.docx"
    document = write(app, make_content(), path)
    instructions = [el.text for el in document.element.body.iter(qn("w:instrText"))]
    assert [i.strip() for i in instructions] == ['TOC \\o "1-4" \\h \\z \\u']
    assert "Right-click to update the table of contents." in [p.text for p in document.paragraphs]
    flag = document.settings.element.find(qn("w:updateFields"))
    assert flag is not None and flag.get(qn("w:val")) == "true"
    names = [child.tag.split("}")[1] for child in document.settings.element]
    assert names.index("updateFields") < names.index("compat")  # the schema's order, or Word calls the file corrupt


def test_the_coverage_table_lists_every_clause_and_marks_gaps_in_shade_and_words(app: Flask, tmp_path: Path):
    content = make_content()
    document = write(app, content, tmp_path / "pack.docx")
    table = document.element.body.findall(qn("w:tbl"))[0]
    rows = table.findall(qn("w:tr"))
    assert table_rows(table)[0] == ["Standard", "Clause", "Title", "Evidence", "State"]
    assert rows[0].find(f"{qn('w:trPr')}/{qn('w:tblHeader')}") is not None
    assert len(rows) == len(content.coverage) + 1
    for row, tr in zip(content.coverage, rows[1:], strict=True):
        cells = table_rows(table)[rows.index(tr)]
        assert cells[:4] == [row.standard, row.number, row.title, str(row.evidence_count)]
        shades = {fill(tc) for tc in tr.findall(qn("w:tc"))}
        if row.state == GAP:
            assert shades == {"F8D7DA"} and cells[4] == "GAP: no evidence in the period"
            assert tr.find(f".//{qn('w:b')}") is not None
        else:
            assert "F8D7DA" not in shades and "GAP" not in cells[4]
        if row.state == NOT_APPLICABLE:
            assert cells[4] == "Not applicable: The programme delivers services designed by the ministry."
    assert "Clauses: 7 · Covered: 3 · Gaps: 2 · Not applicable: 1" in [p.text for p in document.paragraphs]


def test_every_block_table_holds_the_input_cells_with_a_repeated_header(app: Flask, tmp_path: Path):
    content = make_content()
    document = write(app, content, tmp_path / "pack.docx")
    tables = captioned_tables(document)
    docs = [block for s in content.sections for block in s.blocks if isinstance(block, TableBlock) and block.rows]
    by_caption: dict[str, list[TableBlock]] = {}
    for block in docs:
        by_caption.setdefault(block.caption, []).append(block)
    for caption, blocks in by_caption.items():
        written = tables[caption][: len(blocks)]
        for block, tbl in zip(blocks, written, strict=True):
            assert table_rows(tbl) == [list(block.columns)] + [list(r) for r in block.rows]
            header = tbl.findall(qn("w:tr"))[0]
            assert header.find(f"{qn('w:trPr')}/{qn('w:tblHeader')}") is not None
    assert table_rows(tables["Approvals, withdrawals and closures"][0])[1:] == [list(r) for r in content.trail.rows]
    manifest = table_rows(tables["Evidence files at the version cited"][0])
    assert manifest[0] == ["File", "Document", "Version", "Size (bytes)", "SHA-256"]
    assert manifest[1:] == [[f.path, f"{f.document} {f.title}", f.version, str(f.size), f.sha256]
                            for f in content.evidence]
    assert table_rows(tables["ISO 9001:2015 ↔ ISO 37001:2016"][0])[1] == ["7.5", "7.5", "equivalent"]
    lines = [p.text for p in document.paragraphs]
    assert "Head of the audit chain when the pack was built: event 1234, SHA-256 9f86d081884c7d65" in lines
    assert "No entries." in lines  # the empty documents table of 7.1.5, said in words


def test_hints_are_italic_and_the_heat_map_is_a_shaded_table(app: Flask, tmp_path: Path):
    document = write(app, make_content(), tmp_path / "pack.docx")
    hint = next(p for p in document.paragraphs if p.text.startswith("Typical evidence:"))
    assert all(run.italic for run in hint.runs)
    note = next(p for p in document.paragraphs if p.text == "Nothing is mapped to this clause.")
    assert not any(run.italic for run in note.runs)
    heat = captioned_tables(document)["Inherent bribery risk"][0]
    rows = table_rows(heat)
    assert len(rows) == 4 and all(len(r) == 4 for r in rows)
    assert rows[1][2].split("\n") == ["2", "High"]  # likelihood 3 × impact 2: two risks, rated high
    assert fill(heat.findall(qn("w:tr"))[1].findall(qn("w:tc"))[2]) == "B71C1C"


def test_header_has_the_pack_id_and_footer_page_x_of_y_fields(app: Flask, tmp_path: Path):
    document = write(app, make_content(), tmp_path / "pack.docx")
    section = document.sections[0]
    assert section.header.paragraphs[0].text == f"Audit evidence pack {PACK_ID}"
    footer = section.footer.paragraphs[0]._p
    fields = [el.text.strip() for el in footer.iter(qn("w:instrText"))]
    assert fields == ["PAGE", "NUMPAGES"]
    text = "".join(t.text for t in footer.iter(qn("w:t")))
    assert text == "auditdocs, generated on 2026-11-30, page 1 of 1"  # the shown results until Word lays out pages
    assert (section.page_width, section.page_height) == (docx.shared.Twips(11906), docx.shared.Twips(16838))


def test_the_fixed_words_are_in_the_packs_language(app: Flask, tmp_path: Path):
    document = write(app, make_content("es"), tmp_path / "es.docx")
    names = [text for _style, text in headings(document)]
    assert names[:3] == ["Paquete de evidencias para auditoría", "Resumen de cobertura",
                         "Cláusulas de la ISO 9001:2015"]
    assert names[-3:] == ["Manifiesto de evidencias", "Extracto de la pista de auditoría",
                          "Correspondencia entre las normas"]
    lines = [p.text for p in document.paragraphs]
    assert "Clic derecho para actualizar la tabla de contenido." in lines
    assert f"SHA-256 del manifiesto de evidencias: {MANIFEST_SHA}" in lines
    assert "Periodo: del 2026-01-01 al 2026-06-30" in lines
    coverage = table_rows(document.element.body.findall(qn("w:tbl"))[0])
    assert coverage[0] == ["Norma", "Cláusula", "Título", "Evidencia", "Estado"]
    assert coverage[3][4] == "BRECHA: sin evidencias en el periodo"
    footer = "".join(t.text for t in document.sections[0].footer.paragraphs[0]._p.iter(qn("w:t")))
    assert footer == "auditdocs, generado el 2026-11-30, página 1 de 1"
    assert document.sections[0].header.paragraphs[0].text == f"Paquete de evidencias {PACK_ID}"
    lang = document.styles.element.find(f"{qn('w:docDefaults')}/{qn('w:rPrDefault')}/{qn('w:rPr')}/{qn('w:lang')}")
    assert lang.get(qn("w:val")) == "es-PE"


def test_the_same_content_gives_the_same_bytes_and_another_time_other_bytes(app: Flask, tmp_path: Path):
    content = make_content()
    write(app, content, tmp_path / "a.docx")
    write(app, content, tmp_path / "b.docx")
    assert (tmp_path / "a.docx").read_bytes() == (tmp_path / "b.docx").read_bytes()
    with zipfile.ZipFile(tmp_path / "a.docx") as package:
        names = package.namelist()
        assert names[:2] == ["[Content_Types].xml", "_rels/.rels"] and names[2:] == sorted(names[2:])
        assert {info.date_time for info in package.infolist()} == {(2026, 11, 30, 14, 5, 8)}  # zip: 2-second steps
        assert "docProps/thumbnail.jpeg" not in names
    later = replace(content, cover=replace(content.cover, generated_at=WHEN + timedelta(seconds=1)))
    write(app, later, tmp_path / "c.docx")
    assert (tmp_path / "c.docx").read_bytes() != (tmp_path / "a.docx").read_bytes()


def test_a_two_thousand_row_table_is_written_whole_and_progress_is_told(app: Flask, tmp_path: Path):
    content = make_content(big_rows=2000)
    calls: list[tuple[int, int, str]] = []
    document = write(app, content, tmp_path / "big.docx", progress=lambda d, t, s: calls.append((d, t, s)))
    tbl = captioned_tables(document)["Due-diligence entries"][0]
    rows = table_rows(tbl)
    assert len(rows) == 2001
    assert rows[1] == list(content.sections[-1].blocks[0].rows[0])  # type: ignore[union-attr]
    assert rows[-1] == list(content.sections[-1].blocks[0].rows[-1])  # type: ignore[union-attr]
    sections = len(content.sections)
    assert calls == [(n, sections, "writing") for n in range(sections + 1)] + [(0, 1, "saving"), (1, 1, "saving")]


def test_text_an_xml_part_cannot_hold_is_dropped_not_fatal(app: Flask, tmp_path: Path):
    content = make_content()
    odd = ClauseSection("ISO 9001:2015", "9.2", "Internal audit", 2, 1, [
        TableBlock("Odd cells", ("A", "B"), [("bell\x07\x00 & tab\there",), ("  two  spaces ", "<b>&amp;")]),
        TextBlock("form\x0cfeed <kept>")])
    content = replace(content, sections=[*content.sections[:4], odd, *content.sections[4:]])
    document = write(app, content, tmp_path / "odd.docx")
    assert table_rows(captioned_tables(document)["Odd cells"][0])[1:] == [
        ["bell & tab here", ""], ["  two  spaces ", "<b>&amp;"]]  # a short row padded, spaces kept, markup as text
    assert "formfeed <kept>" in [p.text for p in document.paragraphs]


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("pack_bench", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["pack_bench"] = module
    spec.loader.exec_module(module)
    return module


def test_the_benchmark_writes_a_whole_iso_9001_pack_and_its_baseline_the_same_rows(app: Flask, tmp_path: Path):
    bench = _bench()
    content = bench.sample_content(300, "en")
    document = write(app, content, tmp_path / "bench.docx")
    clause_headings = [text for style, text in headings(document) if style in ("Heading 2", "Heading 3", "Heading 4")]
    assert clause_headings[:len(content.sections)] == [f"{s.number} {s.title}" for s in content.sections]
    assert len(content.sections) == len(content.coverage) > 90
    tables = captioned_tables(document)
    assert len(table_rows(tables["Evidence files at the version cited"][0])) == 301
    cited = sum(len(b.rows) for s in content.sections for b in s.blocks if isinstance(b, TableBlock))
    written = sum(len(t.findall(qn("w:tr"))) - 1 for caption in ("Controlled documents", "Nonconformities and actions")
                  for t in tables[caption])
    assert written == cited
    bench.write_baseline(content, tmp_path / "bare.docx")
    bare = docx.Document(str(tmp_path / "bare.docx")).element.body.findall(qn("w:tbl"))
    assert sum(len(t.findall(qn("w:tr"))) - 1 for t in bare) == cited + 300 + len(content.trail.rows)


def test_columns_fill_the_text_width_and_keep_short_words_whole():
    row = ("PR-43-00000", "Control de balanzas y equipos de medición " * 2, "v2", "2026-03-01",
           "Ana Quispe Mamani, 2026-02-27", "4567ceb13f37", "approved")
    widths = column_widths(DOC_COLUMNS, [row])
    assert sum(widths) == TEXT_WIDTH
    assert widths[0] == 11 * CHAR + PAD and widths[6] == 8 * CHAR + PAD  # one line each, whole
    assert 8 * CHAR + PAD < widths[1] < 60 * CHAR and 10 * CHAR + PAD < widths[4] < 29 * CHAR  # the long ones wrap
    roomy = column_widths(("Code", "Status"), [("PR-43-00000", "approved")])
    assert sum(roomy) == TEXT_WIDTH and roomy[0] > roomy[1]  # everything fits: widened in proportion
    crowded = column_widths(tuple(f"C{n}" for n in range(30)), [tuple("x" * 30 for _n in range(30))])
    assert sum(crowded) == TEXT_WIDTH and len(set(crowded[:-1])) == 1  # too many to keep whole: shared alike
