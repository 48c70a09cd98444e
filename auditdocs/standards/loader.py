"""Load standards, clauses and cross-maps from package data into the database, idempotently."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from ..extensions import db
from ..models import Clause, CrossMap, Standard
from ..models.standards import DI_FLAGS

DATA_DIR = Path(__file__).resolve().parent / "data"


def sort_key(number: str) -> str:
    """Zero-pad each part so 10.2 sorts after 9.3 and A.19 after A.2."""
    return ".".join(p.zfill(3) if p.isdigit() else p for p in number.split("."))


def parent_number(number: str) -> str | None:
    """'7.1.5' -> '7.1'; top-level clauses have no parent."""
    return number.rsplit(".", 1)[0] if "." in number else None


def read_csv(path: Path) -> list[dict[str, str]]:
    """A catalogue CSV as stripped rows (a BOM from a spreadsheet is tolerated)."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return [{k.strip(): (v or "").strip() for k, v in row.items()} for row in csv.DictReader(fh)]


@dataclass
class LoadSummary:
    """What `auditdocs init` did to the catalogue."""

    standards: int = 0
    clauses_added: int = 0
    clauses_updated: int = 0
    crossmap_added: int = 0


def _load_standard(spec: dict[str, Any], data_dir: Path, summary: LoadSummary) -> Standard:
    std = db.session.scalar(select(Standard).where(Standard.slug == spec["slug"]))
    if std is None:
        std = Standard(slug=spec["slug"], code=spec["code"], title_en=spec["title_en"])
        db.session.add(std)
    std.code, std.title_en = spec["code"], spec["title_en"]
    std.title_es, std.sort_order = spec.get("title_es"), int(spec.get("sort_order", 0))
    db.session.flush()
    summary.standards += 1

    titles_es: dict[str, str] = {}
    if spec.get("titles_es") and (data_dir / spec["titles_es"]).exists():
        titles_es = {r["number"]: r["title_es"] for r in read_csv(data_dir / spec["titles_es"])}
    existing = {c.number: c for c in db.session.scalars(select(Clause).where(Clause.standard_id == std.id))}
    rows = read_csv(data_dir / spec["clauses"])
    for row in rows:
        number = row["number"]
        flag = row.get("documented_information") or "none"
        if flag not in DI_FLAGS:
            raise ValueError(f"{spec['clauses']}: clause {number} has unknown flag {flag!r}")
        clause = existing.get(number)
        if clause is None:
            clause = Clause(standard_id=std.id, number=number)
            db.session.add(clause)
            existing[number] = clause
            summary.clauses_added += 1
        elif clause.title_corrected_at is None and (
            clause.title_en != row["title"] or clause.title_es != (titles_es.get(number) or None)
        ):
            summary.clauses_updated += 1
        if clause.title_corrected_at is None:  # an admin's correction is never overwritten
            clause.title_en = row["title"]
            clause.title_es = titles_es.get(number) or None
        clause.level = int(row["level"])
        clause.sort_key = sort_key(number)
        clause.documented_information = flag
        clause.typical_evidence = row.get("typical_evidence") or None
    db.session.flush()
    for number, clause in existing.items():
        parent = parent_number(number)
        clause.parent_id = existing[parent].id if parent in existing else None
    return std


def _load_crossmap(spec: dict[str, Any], data_dir: Path, summary: LoadSummary) -> None:
    def clauses_of(slug: str) -> dict[str, int]:
        rows = db.session.execute(
            select(Clause.number, Clause.id).join(Standard).where(Standard.slug == slug)
        ).all()
        return {r.number: r.id for r in rows}

    left, right = clauses_of(spec["left"]), clauses_of(spec["right"])
    known = {
        (m.left_clause_id, m.right_clause_id, m.topic)
        for m in db.session.scalars(select(CrossMap))
    }
    for row in read_csv(data_dir / spec["file"]):
        key = (left.get(row[spec["left_column"]]), right.get(row[spec["right_column"]]), row["topic"])
        if key[0] is None and key[1] is None:
            continue
        if key not in known:
            db.session.add(CrossMap(left_clause_id=key[0], right_clause_id=key[1], topic=key[2]))
            known.add(key)
            summary.crossmap_added += 1


def load_catalogue(data_dir: Path = DATA_DIR) -> LoadSummary:
    """Insert or refresh every standard listed in standards.json; flushes, the caller commits."""
    manifest = json.loads((data_dir / "standards.json").read_text(encoding="utf-8"))
    summary = LoadSummary()
    for spec in manifest["standards"]:
        _load_standard(spec, data_dir, summary)
    for spec in manifest.get("crossmaps", []):
        _load_crossmap(spec, data_dir, summary)
    db.session.flush()
    return summary
