"""Catalogue texts in the reader's language: typical-evidence hints and cross-map topics, English and Spanish.

Why from package data and not the database: the catalogue tables hold one text for each (typical_evidence, topic)
and a Spanish column would need a migration; these hints are ours, never edited in the app (unlike titles, which an
admin corrects in the database), so the package data the catalogue was loaded from is their source either way. The
English stays in the database for what already reads it.
"""

from __future__ import annotations

import json
from functools import lru_cache

from ..models import Clause
from .loader import DATA_DIR, read_csv


@lru_cache(maxsize=1)
def _spanish() -> tuple[dict[tuple[str, str], str], dict[str, str]]:
    """Spanish hints by (standard slug, clause number) and Spanish topics by their English text, read once."""
    manifest = json.loads((DATA_DIR / "standards.json").read_text(encoding="utf-8"))
    hints: dict[tuple[str, str], str] = {}
    for spec in manifest["standards"]:
        if spec.get("titles_es") and (DATA_DIR / spec["titles_es"]).exists():
            for row in read_csv(DATA_DIR / spec["titles_es"]):
                if row.get("typical_evidence_es"):
                    hints[(spec["slug"], row["number"])] = row["typical_evidence_es"]
    topics: dict[str, str] = {}
    for spec in manifest.get("crossmaps", []):
        for row in read_csv(DATA_DIR / spec["file"]):
            if row.get("topic_es"):
                topics[row["topic"]] = row["topic_es"]
    return hints, topics


def evidence_hint(clause: Clause, lang: str | None) -> str | None:
    """The clause's typical-evidence hint in the language (English when no translation exists)."""
    if lang == "es" and clause.typical_evidence:
        return _spanish()[0].get((clause.standard.slug, clause.number), clause.typical_evidence)
    return clause.typical_evidence


def crossmap_topic(topic: str, lang: str | None) -> str:
    """A cross-map topic in the language (English when no translation exists)."""
    return _spanish()[1].get(topic, topic) if lang == "es" else topic
