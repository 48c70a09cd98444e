"""Word packs built from the demo organisation are valid documents: python-docx re-opens them and finds the clause
headings and the documents in force against the database, and LibreOffice converts them to PDFs whose text holds
every clause heading (issue 14, point 5).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import date, timedelta
from pathlib import Path

import pytest
from docx import Document as WordDocument
from docx.oxml.ns import qn
from docx.text.paragraph import Paragraph
from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from support import need

from auditdocs.extensions import db
from auditdocs.models import Audit, Clause, Document, Standard
from auditdocs.services import lifecycle
from auditdocs.timeutil import local_today

pytestmark = pytest.mark.sqlite_only  # the loader's own tests prove PostgreSQL; here LibreOffice is the subject

NINE, THIRTY_SEVEN = "ISO 9001:2015", "ISO 37001:2016"
GENERATED_AT = "2026-11-30T15:00:00Z"
HEX12 = re.compile(r"^[0-9a-f]{12}$")


def _soffice() -> str:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    need(found is not None, "LibreOffice (soffice) is not installed: apt-get install -y libreoffice-writer-nogui")
    need(shutil.which("pdftotext") is not None, "pdftotext is not installed: apt-get install -y poppler-utils")
    assert found is not None
    return found


def _to_pdf_text(soffice: str, files: list[Path], work: Path) -> dict[Path, str]:
    """Convert the .docx files in one LibreOffice run (a profile directory of its own) and read each PDF's text."""
    out = work / "pdf"
    out.mkdir()
    profile = (work / "lo-profile").as_uri()
    done = subprocess.run([soffice, f"-env:UserInstallation={profile}", "--headless", "--norestore",
                           "--convert-to", "pdf", "--outdir", str(out), *map(str, files)],
                          capture_output=True, text=True, timeout=600, check=False)
    texts = {}
    for path in files:
        pdf = out / (path.stem + ".pdf")
        assert pdf.is_file(), f"LibreOffice made no PDF of {path.name}: {done.stdout} {done.stderr}"
        text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                              check=True).stdout
        texts[path] = " ".join(text.split())
    return texts


def _clauses(standards: list[str], lang: str, numbers: list[str] | None = None) -> list[tuple[Clause, str]]:
    """Catalogue order: the standards in their order, each standard's clauses by sort key; with their heading."""
    rows = []
    for code in standards:
        std = db.session.scalar(select(Standard).where(Standard.code == code))
        assert std is not None
        for clause in db.session.scalars(select(Clause).where(Clause.standard_id == std.id).order_by(Clause.sort_key)):
            if numbers and not any(clause.number == n or clause.number.startswith(n + ".") for n in numbers):
                continue
            rows.append((clause, f"{clause.number} {clause.title(lang)}"))
    return rows


def _in_force_during(start: date, end: date) -> dict[int, set[str]]:
    """Per clause id, the SHA-256 prefixes of every version in force on some day of the period (day by day)."""
    docs = db.session.scalars(select(Document).options(selectinload(Document.versions),
                                                       selectinload(Document.clauses))).all()
    per_clause: dict[int, set[str]] = {}
    for doc in docs:
        shas = set()
        day = start
        while day <= end:
            version = lifecycle.in_force(doc, day)
            if version is not None:
                shas.add(version.sha256[:12])
            day += timedelta(days=1)
        for clause in doc.clauses:
            per_clause.setdefault(clause.id, set()).update(shas)
    return per_clause


def _walk(path: Path) -> tuple[list[tuple[str, str]], dict[str, set[str]], str]:
    """The headings (style, text) in order, the 12-hex prefixes in the tables under each heading, all text."""
    word = WordDocument(str(path))
    headings: list[tuple[str, str]] = []
    under: dict[str, set[str]] = {}
    current = ""
    texts = []
    for child in word.element.body.iterchildren():
        if child.tag == qn("w:p"):
            paragraph = Paragraph(child, word._body)
            texts.append(paragraph.text)
            name = paragraph.style.name if paragraph.style is not None else ""
            if name.startswith("Heading"):
                headings.append((name, paragraph.text))
                current = paragraph.text
        elif child.tag == qn("w:tbl"):
            for cell in child.iter(qn("w:tc")):
                value = "".join(t.text or "" for t in cell.iter(qn("w:t"))).strip()
                texts.append(value)
                if HEX12.match(value):
                    under.setdefault(current, set()).add(value)
    return headings, under, "\n".join(texts)


def _build(runner, out: Path, *args: str) -> Path:  # type: ignore[no-untyped-def]
    result = runner.invoke(args=["pack", *args, "--generated-at", GENERATED_AT, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.is_file()
    return out


@pytest.mark.parametrize("lang", ["es", "en"])
def test_packs_reopen_with_their_headings_and_documents_and_convert_to_pdf(app, runner, tmp_path: Path,
                                                                           lang: str) -> None:
    soffice = _soffice()
    assert runner.invoke(args=["demo-data"]).exit_code == 0
    with app.app_context():
        end = local_today()
        start = end - timedelta(days=364)
        audit = db.session.scalars(select(Audit).where(Audit.sites.any()).order_by(Audit.planned_start.desc(),
                                                                                     Audit.id)).first()
        assert audit is not None
        audit_id, audit_sites = audit.id, sorted(s.site.code for s in audit.sites)
        db.session.remove()
    period = ["--from", start.isoformat(), "--to", end.isoformat(), "--lang", lang]
    packs = {
        "9001": _build(runner, tmp_path / f"q-{lang}.docx", "--standard", NINE, *period),
        "37001": _build(runner, tmp_path / f"ab-{lang}.docx", "--standard", THIRTY_SEVEN, *period),
        "integrated": _build(runner, tmp_path / f"int-{lang}.docx", "--standard", NINE, "--standard",
                             THIRTY_SEVEN, *period),
        "audit": _build(runner, tmp_path / f"audit-{lang}.docx", "--standard", THIRTY_SEVEN, "--clause", "8",
                        "--audit", str(audit_id), "--lang", lang),
    }
    expected: dict[str, list[tuple[Clause, str]]] = {}
    with app.app_context(), force_locale(lang):
        per_clause = _in_force_during(start, end)
        expected["9001"] = _clauses([NINE], lang)
        expected["37001"] = _clauses([THIRTY_SEVEN], lang)
        expected["integrated"] = _clauses([NINE, THIRTY_SEVEN], lang)
        expected["audit"] = _clauses([THIRTY_SEVEN], lang, ["8"])
        # Per pack: the two standards share headings ("7.5.2 Creating and updating"), one pack holds one standard.
        clause_ids = {kind: {text: clause.id for clause, text in rows} for kind, rows in expected.items()}
        db.session.remove()

    cited: dict[str, set[str]] = {}
    for kind, path in packs.items():
        headings, under, text = _walk(path)
        clause_headings = [h for h in headings if re.match(r"^([0-9]+|[A-Z])(\.\d+)*\s", h[1])]
        assert [t for _s, t in clause_headings] == [t for _c, t in expected[kind]], kind
        assert all(re.fullmatch(r"Heading [1-9]", s) for s, _t in clause_headings), kind
        assert any(s == "Heading 1" for s, _t in headings), kind
        cited[kind] = set().union(*under.values()) if under else set()
        if kind in ("9001", "37001"):  # whole standard, whole organisation: every clause's documents, exactly
            for clause_text, shas in under.items():
                if clause_text in clause_ids[kind]:
                    assert shas == per_clause.get(clause_ids[kind][clause_text], set()), (kind, clause_text)
            for clause, clause_text in expected[kind]:
                assert per_clause.get(clause.id, set()) <= under.get(clause_text, set()), (kind, clause_text)
        if kind == "audit":
            assert all(code in text for code in audit_sites), "the cover names the audit's sites"
    assert cited["9001"] and cited["37001"], "the demo's documents are cited"
    assert cited["integrated"] == cited["9001"] | cited["37001"]

    pdf_text = _to_pdf_text(soffice, list(packs.values()), tmp_path)
    for kind, path in packs.items():
        body = pdf_text[path]
        for _clause, heading in expected[kind]:
            assert " ".join(heading.split()) in body, (kind, heading)


def test_a_pack_speaks_its_language_and_leaves_no_temporary_file(app, runner, tmp_path: Path) -> None:
    assert runner.invoke(args=["demo-data"]).exit_code == 0
    es = _build(runner, tmp_path / "es.docx", "--standard", NINE, "--clause", "7.5", "--lang", "es")
    en = _build(runner, tmp_path / "en.docx", "--standard", NINE, "--clause", "7.5", "--lang", "en")
    es_text, en_text = _walk(es)[2], _walk(en)[2]
    with app.app_context():
        clause = db.session.scalar(select(Clause).join(Standard).where(Standard.code == NINE, Clause.number == "7.5"))
        assert clause is not None and clause.title_es
        assert f"7.5 {clause.title('es')}" in es_text and f"7.5 {clause.title('en')}" in en_text
        db.session.remove()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "data") == ["en.docx", "es.docx"]
