"""Spanish all the way in the clause catalogue: typical-evidence hints, cross-map topics and ISO 37001 titles."""

from __future__ import annotations

import csv
import html
import json
import re
from typing import Any

import pytest

from auditdocs.standards import DATA_DIR

TITLES_37001_ES = {
    "5.3": "Roles, responsabilidades y autoridades en la organización",
    "6.1": "Acciones para tratar riesgos y oportunidades",
    "8.8": "Gestión de los controles antisoborno inadecuados",
    "8.10": "Investigar y abordar el soborno",
    "10.1": "No conformidades y acciones correctivas",
}


def rows(name: str) -> list[dict[str, str]]:
    with (DATA_DIR / name).open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def text_of(resp: Any) -> str:
    assert resp.status_code == 200
    return html.unescape(resp.get_data(as_text=True))


def by_testid(page: str, name: str) -> list[str]:
    return [t.strip() for t in re.findall(rf'data-testid="{name}">([^<]*)<', page)]


def heading(page: str) -> str:
    match = re.search(r"<h1[^>]*>(.*?)</h1>", page, re.S)
    assert match
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split())


def in_spanish(client: Any) -> None:
    assert client.post_form("/lang", {"lang": "es"}, page="/").status_code == 302


@pytest.mark.parametrize("spec", json.loads((DATA_DIR / "standards.json").read_text("utf-8"))["standards"],
                         ids=lambda s: s["slug"])
def test_every_hint_has_its_spanish_and_english_is_kept(spec):
    english = {r["number"]: r["typical_evidence"] for r in rows(spec["clauses"])}
    spanish = {r["number"]: r["typical_evidence_es"] for r in rows(spec["titles_es"])}
    assert set(spanish) == set(english)
    assert all(english.values()) and not [n for n, hint in english.items() if not spanish[n]]


def test_every_crossmap_topic_has_its_spanish():
    topics = rows("crossmap_iso9001_2015__iso37001_2016.csv")
    assert len(topics) == 79 and not [r["topic"] for r in topics if not r["topic_es"] or not r["topic"]]


def test_a_spanish_clause_page_shows_the_spanish_hint_and_topic(client, login_as):
    login_as("quality_officer")
    in_spanish(client)
    page = text_of(client.get("/clauses/iso9001_2015/7.1.5.2"))
    assert by_testid(page, "typical-evidence") == [
        "certificados de calibración trazables a patrones nacionales/internacionales; etiquetas de estado de "
        "calibración; evaluaciones del impacto de resultados fuera de tolerancia"]
    page = text_of(client.get("/clauses/iso9001_2015/7.5.3"))
    assert "Control de la información documentada — equivalente" in by_testid(page, "crossmap-topic")
    page = text_of(client.get("/clauses/iso37001_2016/8.7"))
    assert by_testid(page, "typical-evidence") == [
        "registro de regalos y atenciones; registros de aprobación previa; aprobaciones de donaciones/patrocinios"]
    assert by_testid(page, "crossmap-topic") == ["Regalos, atenciones, donaciones y beneficios similares — solo 37001"]


def test_an_english_clause_page_shows_the_english_hint_and_topic(client, login_as):
    login_as("quality_officer")
    page = text_of(client.get("/clauses/iso9001_2015/7.1.5.2"))
    assert by_testid(page, "typical-evidence") == [
        "calibration certificates traceable to national/international standards; calibration status labels; "
        "out-of-tolerance impact assessments"]
    page = text_of(client.get("/clauses/iso37001_2016/8.7"))
    assert by_testid(page, "crossmap-topic") == ["Gifts, hospitality, donations and similar benefits — 37001 only"]


def test_the_five_iso_37001_titles_read_in_spanish(client, login_as):
    login_as("auditor")
    in_spanish(client)
    tree = text_of(client.get("/clauses/"))
    for number, title in TITLES_37001_ES.items():
        assert heading(text_of(client.get(f"/clauses/iso37001_2016/{number}"))) == f"ISO 37001:2016 {number} {title}"
        assert title in tree
