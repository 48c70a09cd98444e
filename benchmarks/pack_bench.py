"""The pack's .docx at evidence scale: a full ISO 9001:2015 pack with --rows evidence files, built and saved by
`packs.document.write_docx`, beside a bare python-docx document holding the same tables built the fastest way
(row XML appended), timed in the same run.

The content is made by hand, no database: every clause of the catalogue (package data, numbers and titles only) in
the coverage summary; the --rows evidence files spread over the clauses that ask for documented information, each
one a row of its clause's "controlled documents" table (7 columns) and of the evidence manifest annex (5 columns);
a nonconformities table on 9.2 and 10.2; the typical-evidence hint where nothing is mapped; an audit-trail excerpt
of --rows / 10 events. So a 5,000-row pack prints 10,000 evidence table rows plus the rest.

The pack and the baseline are written --runs times each, taking turns (after one warm-up each), and the medians
of wall-clock and CPU time printed with their ratio (CPU time is steadier on a shared machine); then both again
with twice the rows, for the doubling test (linear: ≤ 2.3×). Goal: ≤ GOAL_S for 5,000 rows.

    python benchmarks/pack_bench.py [--rows 5000] [--runs 5] [--lang es] [--keep DIR]
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import docx  # noqa: E402
from docx.oxml import parse_xml  # noqa: E402
from docx.oxml.ns import qn  # noqa: E402
from flask_babel import force_locale  # noqa: E402

import config as app_config  # noqa: E402
from auditdocs import create_app  # noqa: E402
from auditdocs.packs.content import (  # noqa: E402
    COVERED,
    GAP,
    NOT_ASKED,
    ClauseSection,
    Cover,
    CoverageRow,
    EvidenceFile,
    PackContent,
    TableBlock,
    TextBlock,
)
from auditdocs.packs.document import write_docx  # noqa: E402
from auditdocs.packs.docx_xml import W_NS, escape_many  # noqa: E402
from auditdocs.standards.loader import DATA_DIR, read_csv  # noqa: E402

GOAL_S = 2.0
DOUBLING_GOAL = 2.3
STANDARD = "ISO 9001:2015"
WHEN = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
DOC_COLUMNS = ("Code", "Title", "Version", "Effective", "Approved by and date", "SHA-256", "Status")
NC_COLUMNS = ("Reference", "Status", "Detected", "Closed", "Effectiveness")
MANIFEST_COLUMNS = ("File", "Document", "Version", "Size (bytes)", "SHA-256")
TITLES = ("Control de balanzas y equipos de medición", "Visitas domiciliarias a familias usuarias",
          "Registro de entrega de raciones", "Evaluación de proveedores de alimentos",
          "Acta de revisión por la dirección", "Plan de capacitación de cuidadoras", "Informe de auditoría interna",
          "Matriz de riesgos y oportunidades")


def sample_content(rows: int, lang: str = "es", seed: int = 14) -> PackContent:
    """A whole-standard ISO 9001 pack citing `rows` evidence files (see the module's docstring)."""
    rng = random.Random(seed)
    catalogue = read_csv(DATA_DIR / "iso9001_2015.csv")
    asking = [c["number"] for c in catalogue if c["documented_information"] != "none"]
    cited: dict[str, list[EvidenceFile]] = {number: [] for number in asking}
    evidence = []
    for n in range(rows):
        number = asking[n % len(asking)] if n < len(asking) else rng.choice(asking)
        code = f"PR-{number.replace('.', '')}-{n:05d}"
        version = f"v{rng.randint(1, 9)}"
        sha = rng.getrandbits(256).to_bytes(32, "big").hex()
        item = EvidenceFile(f"evidence/{code}/{version}/{code} {TITLES[n % len(TITLES)]}.pdf", code,
                            TITLES[n % len(TITLES)], version, rng.randint(20_000, 9_000_000), sha)
        cited[number].append(item)
        evidence.append(item)
    sections, coverage = [], []
    for clause in catalogue:
        number, title, files = clause["number"], clause["title"], cited.get(clause["number"], [])
        blocks: list[TableBlock | TextBlock] = []
        if files:
            blocks.append(TableBlock("Controlled documents", DOC_COLUMNS, [
                (f.document, f.title, f.version, "2026-03-01", "Ana Quispe Mamani, 2026-02-27", f.sha256[:12],
                 "approved") for f in files]))
        elif clause["documented_information"] != "none" or number in ("9.2", "10.2"):
            blocks.append(TextBlock(f"Typical evidence: {clause['typical_evidence']}", kind="hint"))
        if number in ("9.2", "10.2"):
            blocks.append(TableBlock("Nonconformities and actions", NC_COLUMNS, [
                (f"NC-2026-{k:04d}", "closed", "2026-02-10", "2026-04-01", "effective") for k in range(1, 41)]))
        sections.append(ClauseSection(STANDARD, number, title, int(clause["level"]), len(files), blocks))
        state = COVERED if files else GAP if clause["documented_information"] != "none" else NOT_ASKED
        coverage.append(CoverageRow(STANDARD, number, title, len(files), state))
    evidence.sort(key=lambda f: f.path)
    trail = TableBlock("Approvals, withdrawals and closures", ("When", "Event", "By"),
                       [(f"2026-03-{k % 28 + 1:02d} 10:{k % 60:02d}", f"approved {evidence[k].document} "
                         f"{evidence[k].version}", "Ana Quispe Mamani") for k in range(0, rows, 10)])
    cover = Cover("Programa Nacional Cuna Más", [f"{STANDARD} — Quality management systems — Requirements"],
                  ["Servicios de cuidado diurno y acompañamiento familiar"], [], [], None, date(2026, 1, 1),
                  date(2026, 6, 30), WHEN, "Rosa Huamán", "PK-BENCH-0001")
    return PackContent(lang, cover, coverage, sections, evidence, trail, "event 99, SHA-256 0f1e2d3c", None)


def _bare_table(columns: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    """The least WordprocessingML a table needs (a grid, rows, cells, one run each), its text escaped in one pass and
    without xml:space (60,000 xml: attributes make moving the table into the document superlinear in lxml)."""
    safe = iter(escape_many([text for row in [columns, *rows] for text in row]))
    grid = "".join('<w:gridCol w:w="1300"/>' for _ in columns)
    row = "<w:tr>" + "<w:tc><w:p><w:r><w:t>{}</w:t></w:r></w:p></w:tc>" * len(columns) + "</w:tr>"
    body = "".join(row.format(*(next(safe) for _ in columns)) for _ in range(len(rows) + 1))
    return f'<w:tbl xmlns:w="{W_NS}"><w:tblPr/><w:tblGrid>{grid}</w:tblGrid>{body}</w:tbl>'


def write_baseline(content: PackContent, target: Path) -> None:
    """A bare python-docx document with the pack's tables, each parsed once from row XML, saved as python-docx does."""
    document = docx.Document()
    body = document.element.body
    sect_pr = body.find(qn("w:sectPr"))
    blocks = [b for s in content.sections for b in s.blocks if isinstance(b, TableBlock)]
    manifest = [(f.path, f"{f.document} {f.title}", f.version, str(f.size), f.sha256) for f in content.evidence]
    blocks += [TableBlock("", MANIFEST_COLUMNS, manifest), content.trail]
    for block in blocks:
        sect_pr.addprevious(parse_xml(_bare_table(block.columns, block.rows)))
    document.save(str(target))


def timed(writers: dict[str, Callable[[Path], None]], work: Path, runs: int) -> dict[str, tuple[float, float, int]]:
    """Per writer: median wall and CPU seconds of `runs` writes after a warm-up, and the file's size. The writers
    take turns run by run, so a busy spell on the machine falls on both alike."""
    wall: dict[str, list[float]] = {name: [] for name in writers}
    cpu: dict[str, list[float]] = {name: [] for name in writers}
    for name, write in writers.items():
        write(work / f"{name}.docx")
    for _ in range(runs):
        for name, write in writers.items():
            started, started_cpu = time.perf_counter(), time.process_time()
            write(work / f"{name}.docx")
            wall[name].append(time.perf_counter() - started)
            cpu[name].append(time.process_time() - started_cpu)
    return {name: (statistics.median(wall[name]), statistics.median(cpu[name]), (work / f"{name}.docx").stat().st_size)
            for name in writers}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--lang", default="es", choices=("es", "en"))
    parser.add_argument("--keep", type=Path, help="copy the packs written to this directory")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="pack-bench-"))
    app = create_app(app_config.Config, {"DATA_DIR": work / "data",
                                         "SQLALCHEMY_DATABASE_URI": f"sqlite:///{work / 'unused.sqlite3'}"})
    try:
        with app.app_context(), force_locale(args.lang):
            figures, tables = {}, 0
            for rows in (args.rows, 2 * args.rows):
                content = sample_content(rows, args.lang)
                tables = tables or sum(len(b.rows) for s in content.sections for b in s.blocks
                                       if isinstance(b, TableBlock))
                figures[rows] = timed({"pack": lambda t, c=content: write_docx(c, "0" * 64, t),
                                       "bare": lambda t, c=content: write_baseline(c, t)}, work, args.runs)
                if args.keep:
                    args.keep.mkdir(parents=True, exist_ok=True)
                    write_docx(content, "0" * 64, args.keep / f"pack-{rows}.docx")
        one, two = figures[args.rows], figures[2 * args.rows]
        (pack, pack_cpu, pack_size), (bare, bare_cpu, bare_size) = one["pack"], one["bare"]
        met = {True: "met", False: "MISSED"}
        print(f"\nISO 9001 pack, {args.rows:,} evidence files ({tables:,} clause table rows + {args.rows:,} manifest "
              f"rows), lang {args.lang}, median of {args.runs} runs, wall (CPU)")
        print(f"  baseline: bare python-docx, same tables as row XML : {bare:5.2f} s ({bare_cpu:.2f} s)  "
              f"{bare_size / 1e6:.1f} MB")
        print(f"  write_docx (whole pack, deterministic save)        : {pack:5.2f} s ({pack_cpu:.2f} s)  "
              f"{pack_size / 1e6:.1f} MB  goal <= {GOAL_S:.0f} s: {met[pack <= GOAL_S]}")
        print(f"  ratio pack / baseline                              : {pack / bare:5.2f}x "
              f"({pack_cpu / bare_cpu:.2f}x)")
        double, double_cpu = two["pack"][0] / pack, two["pack"][1] / pack_cpu
        print(f"  doubling to {2 * args.rows:,} rows: pack {two['pack'][0]:.2f} s ({two['pack'][1]:.2f} s)      : "
              f"{double:5.2f}x ({double_cpu:.2f}x)  goal <= {DOUBLING_GOAL}: {met[double <= DOUBLING_GOAL]}")
        print(f"  doubling, baseline                                 : {two['bare'][0] / bare:5.2f}x "
              f"({two['bare'][1] / bare_cpu:.2f}x)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
