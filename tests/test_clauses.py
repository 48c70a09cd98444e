"""The clause catalogue: trees, clause pages, applicability, title corrections, languages."""

from __future__ import annotations

import csv
import re
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select
from support import audit_events

from auditdocs.extensions import db
from auditdocs.models import Clause, CrossMap, Standard
from auditdocs.standards import DATA_DIR
from auditdocs.timeutil import as_utc, utcnow

NA_REASON = "Cuna Más delivers a service defined by law; it designs no products or services (ISO 9001 4.3)."


def _clause(app: Any, slug: str, number: str) -> dict[str, Any]:
    with app.app_context():
        c = db.session.scalar(select(Clause).join(Standard).where(Standard.slug == slug, Clause.number == number))
        out = {
            "id": c.id, "ref": c.ref, "title_en": c.title_en, "title_es": c.title_es,
            "applicable": c.applicable, "reason": c.not_applicable_reason,
            "changed_at": c.applicability_changed_at, "changed_by": c.applicability_changed_by_id,
            "title_corrected_at": c.title_corrected_at, "title_corrected_by": c.title_corrected_by_id,
            "parent": c.parent.number if c.parent else None, "level": c.level,
        }
        db.session.remove()
    return out


def _tree(body: str, slug: str) -> str:
    """The tab pane of one standard."""
    start = body.index(f'data-testid="tree-{slug}"')
    end = body.find('data-testid="tree-', start + 10)
    return body[start:end if end != -1 else len(body)]


def _detail_heading(body: str) -> str:
    match = re.search(r"<h1[^>]*>(.*?)</h1>", body, re.S)
    assert match, body[:500]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1))).strip()


def test_catalogue_is_loaded_with_both_standards_and_the_crossmap(app):
    with app.app_context():
        counts = dict(db.session.execute(
            select(Standard.code, func.count(Clause.id)).join(Clause).group_by(Standard.code)
        ).all())
        links = db.session.scalar(select(func.count(CrossMap.id)))
        numbers = {
            slug: set(db.session.scalars(select(Clause.number).join(Standard).where(Standard.slug == slug)))
            for slug in ("iso9001_2015", "iso37001_2016")
        }
        db.session.remove()
    assert counts == {"ISO 9001:2015": 94, "ISO 37001:2016": 88}

    with (DATA_DIR / "crossmap_iso9001_2015__iso37001_2016.csv").open(encoding="utf-8-sig") as fh:
        expected = {
            (r["iso9001"].strip(), r["iso37001"].strip(), r["topic"].strip())
            for r in csv.DictReader(fh)
            if r["iso9001"].strip() in numbers["iso9001_2015"] or r["iso37001"].strip() in numbers["iso37001_2016"]
        }
    assert len(expected) > 50
    assert links == len(expected)


def test_clause_hierarchy_and_levels(app):
    deep = _clause(app, "iso9001_2015", "7.1.5.2")
    assert deep["parent"] == "7.1.5" and deep["level"] == 4
    assert _clause(app, "iso9001_2015", "8.3")["parent"] == "8"
    assert _clause(app, "iso9001_2015", "4")["parent"] is None
    assert _clause(app, "iso37001_2016", "8.7")["ref"] == "ISO 37001:2016 8.7"


def test_clause_browser_shows_both_trees(client, login_as):
    login_as("auditor")
    resp = client.get("/clauses/")
    assert resp.status_code == 200
    body = resp.get_data(as_text=True)
    assert "ISO 9001:2015" in body and "ISO 37001:2016" in body
    quality, bribery = _tree(body, "iso9001_2015"), _tree(body, "iso37001_2016")
    assert len(re.findall(r'href="/clauses/iso9001_2015/[^"]+"', quality)) == 94
    assert len(re.findall(r'href="/clauses/iso37001_2016/[^"]+"', bribery)) == 88
    assert "/clauses/iso37001_2016/" not in quality
    # Natural order: clause 10 comes after clause 9, not after 1.
    assert quality.index('href="/clauses/iso9001_2015/9"') < quality.index('href="/clauses/iso9001_2015/10"')
    # Sub-clauses nest inside their parent's list item.
    assert re.search(r'href="/clauses/iso9001_2015/8\.3".*?<ul class="clause-tree">.*?'
                     r'href="/clauses/iso9001_2015/8\.3\.1"', quality, re.S)
    assert "Design and development of products and services" in quality
    assert "Gifts, hospitality, donations and similar benefits" in bribery


def test_clause_page_uses_edition_qualified_references(client, login_as):
    login_as("compliance_officer")
    body = client.get("/clauses/iso9001_2015/4.1").get_data(as_text=True)
    assert _detail_heading(body) == "ISO 9001:2015 4.1 Understanding the organization and its context"
    # The twin in the other standard is named with its edition too.
    assert re.search(r'href="/clauses/iso37001_2016/4\.1">ISO 37001:2016 4\.1</a>', body)

    body = client.get("/clauses/iso37001_2016/8.7").get_data(as_text=True)
    assert _detail_heading(body).startswith("ISO 37001:2016 8.7 Gifts, hospitality")


@pytest.mark.parametrize(("number", "badge"), [
    ("4.4", "Documents and records"),
    ("5.2", "Documents (maintain)"),
    ("9.2", "Records (retain)"),
    ("4.1", None),
])
def test_clause_page_shows_documented_information_badges(client, login_as, number, badge):
    login_as("quality_officer")
    body = client.get(f"/clauses/iso9001_2015/{number}").get_data(as_text=True)
    heading_end = body.index("</h1>")
    badges = re.findall(r'class="badge badge-di[^"]*"\s+title="[^"]*">([^<]+)<', body[heading_end:heading_end + 800])
    if badge is None:
        assert badges == []
    else:
        assert badges == [badge]


def test_quality_officer_marks_a_clause_not_applicable(app, client, login_as):
    officer = login_as("quality_officer", name="Rosa Huamán")
    started = utcnow()
    resp = client.post_form("/clauses/iso9001_2015/8.3/applicability",
                            {"applicable": "no", "reason": NA_REASON}, page="/clauses/iso9001_2015/8.3")
    assert resp.status_code == 302
    assert urlsplit(resp.location).path == "/clauses/iso9001_2015/8.3"

    clause = _clause(app, "iso9001_2015", "8.3")
    assert clause["applicable"] is False
    assert clause["reason"] == NA_REASON
    assert clause["changed_by"] == officer.id
    assert started - timedelta(seconds=1) <= as_utc(clause["changed_at"]) <= utcnow()
    assert audit_events(app, "clause.applicability") == [{
        "actor_id": officer.id, "object_id": "ISO 9001:2015 8.3",
        "old": {"applicable": True, "reason": None}, "new": {"applicable": False, "reason": NA_REASON},
    }]

    page = client.get(resp.location).get_data(as_text=True)
    assert "Applicability of ISO 9001:2015 8.3 saved." in page
    assert 'data-testid="not-applicable"' in page
    assert NA_REASON in page
    assert "Recorded by Rosa Huamán" in page
    tree = _tree(client.get("/clauses/").get_data(as_text=True), "iso9001_2015")
    assert re.search(r'href="/clauses/iso9001_2015/8\.3" class="not-applicable"', tree)

    # And back again: the justification goes, the change is audited with old and new values.
    resp = client.post_form("/clauses/iso9001_2015/8.3/applicability", {"applicable": "yes", "reason": ""},
                            page="/clauses/iso9001_2015/8.3")
    assert resp.status_code == 302
    clause = _clause(app, "iso9001_2015", "8.3")
    assert clause["applicable"] is True and clause["reason"] is None
    assert audit_events(app, "clause.applicability")[-1]["old"] == {"applicable": False, "reason": NA_REASON}


@pytest.mark.parametrize("reason", ["", "   ", "n/a"])
def test_not_applicable_without_a_justification_is_refused_clearly(app, client, login_as, reason):
    login_as("quality_officer")
    resp = client.post_form("/clauses/iso9001_2015/8.3/applicability", {"applicable": "no", "reason": reason},
                            page="/clauses/iso9001_2015/8.3")
    assert resp.status_code == 400
    body = resp.get_data(as_text=True)
    assert 'data-testid="error-page"' in body
    assert "Explain why the clause does not apply" in body
    assert "Traceback" not in body
    assert _clause(app, "iso9001_2015", "8.3")["applicable"] is True
    assert audit_events(app, "clause.applicability") == []


def test_admin_corrects_a_title_and_init_keeps_the_correction(app, client, login_as, runner):
    admin = login_as("admin")
    original = _clause(app, "iso9001_2015", "4.4")
    resp = client.post_form("/clauses/iso9001_2015/4.4/title",
                            {"title_en": "QMS and its processes (corrected)",
                             "title_es": "El SGC y sus procesos (corregido)"},
                            page="/clauses/iso9001_2015/4.4")
    assert resp.status_code == 302
    corrected = _clause(app, "iso9001_2015", "4.4")
    assert corrected["title_en"] == "QMS and its processes (corrected)"
    assert corrected["title_es"] == "El SGC y sus procesos (corregido)"
    assert corrected["title_corrected_by"] == admin.id and corrected["title_corrected_at"] is not None
    assert audit_events(app, "clause.title") == [{
        "actor_id": admin.id, "object_id": "ISO 9001:2015 4.4",
        "old": {"title_en": original["title_en"], "title_es": original["title_es"]},
        "new": {"title_en": "QMS and its processes (corrected)", "title_es": "El SGC y sus procesos (corregido)"},
    }]

    # A title nobody corrected but that drifted from the catalogue: init must refresh this one.
    with app.app_context():
        stale = db.session.scalar(select(Clause).join(Standard).where(
            Standard.slug == "iso9001_2015", Clause.number == "5.2"))
        stale.title_en = "Stale title"
        db.session.commit()
        db.session.remove()

    result = runner.invoke(args=["init"])
    assert result.exit_code == 0, result.output
    assert "1 updated" in result.output

    assert _clause(app, "iso9001_2015", "4.4")["title_en"] == "QMS and its processes (corrected)"
    assert _clause(app, "iso9001_2015", "4.4")["title_es"] == "El SGC y sus procesos (corregido)"
    assert _clause(app, "iso9001_2015", "5.2")["title_en"] == "Policy"
    page = client.get("/clauses/iso9001_2015/4.4").get_data(as_text=True)
    assert _detail_heading(page) == "ISO 9001:2015 4.4 QMS and its processes (corrected)"


def test_title_correction_needs_an_english_title(app, client, login_as):
    login_as("admin")
    resp = client.post_form("/clauses/iso9001_2015/4.4/title", {"title_en": "  ", "title_es": "x"},
                            page="/clauses/iso9001_2015/4.4")
    assert resp.status_code == 400
    assert 'data-testid="error-page"' in resp.get_data(as_text=True)
    assert _clause(app, "iso9001_2015", "4.4")["title_corrected_at"] is None


def test_quality_officer_cannot_correct_titles(app, client, login_as):
    login_as("quality_officer")
    page = client.get("/clauses/iso9001_2015/4.4").get_data(as_text=True)
    assert "/clauses/iso9001_2015/4.4/title" not in page
    assert "/clauses/iso9001_2015/4.4/applicability" in page
    resp = client.post_form("/clauses/iso9001_2015/4.4/title", {"title_en": "Nope"}, page="/")
    assert resp.status_code == 403
    assert _clause(app, "iso9001_2015", "4.4")["title_en"] == "Quality management system and its processes"


def test_unknown_clause_or_standard_is_404(client, login_as):
    login_as("auditor")
    assert client.get("/clauses/iso9001_2015/99.9").status_code == 404
    assert client.get("/clauses/iso9001_2008/4.1").status_code == 404


def test_spanish_titles_when_the_interface_is_in_spanish(client, login_as):
    login_as("quality_officer")
    english = client.get("/clauses/iso9001_2015/4.1").get_data(as_text=True)
    assert "Understanding the organization and its context" in _detail_heading(english)

    resp = client.post_form("/lang", {"lang": "es", "next": "/clauses/iso9001_2015/4.1"}, page="/")
    assert resp.status_code == 302
    assert urlsplit(resp.location).path == "/clauses/iso9001_2015/4.1"

    spanish = client.get("/clauses/iso9001_2015/4.1").get_data(as_text=True)
    assert _detail_heading(spanish) == "ISO 9001:2015 4.1 Comprensión de la organización y de su contexto"
    assert '<html lang="es">' in spanish
    tree = client.get("/clauses/").get_data(as_text=True)
    assert "Comprensión de la organización y de su contexto" in _tree(tree, "iso9001_2015")
    assert "Sistemas de gestión de la calidad — Requisitos" in tree


def test_language_choice_is_remembered_on_the_account(app, client, login_as):
    user = login_as("auditor")
    client.post_form("/lang", {"lang": "es"}, page="/")
    client.post_form("/logout", page="/")
    with client.session_transaction() as sess:
        sess.pop("lang", None)  # a new browser session: only the account remembers
    client.post_form("/login", {"email": user.email, "password": user.password})
    with client.session_transaction() as sess:
        sess.pop("lang", None)
    page = client.get("/clauses/iso9001_2015/4.1").get_data(as_text=True)
    assert "Comprensión de la organización y de su contexto" in _detail_heading(page)
