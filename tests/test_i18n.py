"""Localisation: complete catalogues in step with the sources, and pages in the user's language."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_datetime as babel_format_datetime
from babel.dates import get_month_names
from babel.messages.catalog import Catalog
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "auditdocs" / "translations"
LANGS = ("es", "en")
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")
EXTRACT_HINT = "run `make extract-messages` and translate the new strings"


def po_path(lang: str) -> Path:
    return TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po"


def load_po(path: Path) -> Catalog:
    with path.open("rb") as fh:
        return read_po(fh)


def msgids(catalog: Catalog) -> set:
    """Every message id (a (singular, plural) tuple for plural entries), header excluded."""
    return {m.id for m in catalog if m.id}


def forms(value: str | tuple | list | None) -> tuple:
    if value is None:
        return ("",)
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


# --- the catalogues -------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_catalogue_is_complete(lang: str) -> None:
    catalog = load_po(po_path(lang))
    assert not catalog.fuzzy, f"{lang}: the header entry is marked fuzzy; remove '#, fuzzy' above msgid \"\""
    assert catalog.num_plurals == 2 and catalog.plural_expr == "(n != 1)", (
        f"{lang}: Plural-Forms must be 'nplurals=2; plural=(n != 1);', not {catalog.plural_forms!r}"
    )
    problems = []
    for m in catalog:
        if not m.id:
            continue
        if m.fuzzy:
            problems.append(f"fuzzy: {m.id!r}")
        strings = forms(m.string)
        if m.pluralizable and len(strings) != catalog.num_plurals:
            problems.append(f"needs {catalog.num_plurals} plural forms: {m.id!r}")
        if not all(s.strip() for s in strings):
            problems.append(f"untranslated: {m.id!r}")
    assert not problems, f"{lang}: " + "\n".join(problems)


@pytest.mark.parametrize("lang", LANGS)
def test_placeholders_are_kept(lang: str) -> None:
    catalog = load_po(po_path(lang))
    problems = []
    for m in catalog:
        if not m.id:
            continue
        ids = forms(m.id)
        wanted = set(PLACEHOLDER.findall(ids[-1])) | set(PLACEHOLDER.findall(ids[0]))
        for text in forms(m.string):
            got = set(PLACEHOLDER.findall(text))
            if got != wanted:
                problems.append(f"{m.id!r}: msgstr has {sorted(got)}, msgid has {sorted(wanted)}")
    assert not problems, f"{lang}: " + "\n".join(problems)


def test_english_catalogue_repeats_the_source() -> None:
    catalog = load_po(po_path("en"))
    differ = [m.id for m in catalog if m.id and forms(m.string) != forms(m.id)]
    assert not differ, f"en: msgstr should equal msgid: {differ}"


def test_spanish_catalogue_is_actually_spanish() -> None:
    """A copied-over English msgstr passes the completeness check; catch it here."""
    catalog = load_po(po_path("es"))
    same = sorted(str(m.id) for m in catalog if m.id and forms(m.string) == forms(m.id))
    # Words that are spelt the same in both languages.
    assert set(same) <= {"Normal", "No", "SHA-256"}, f"es: still in English: {same}"


def test_catalogues_match_the_sources(tmp_path: Path) -> None:
    """The strings in templates/ and auditdocs/ are exactly the ones in the .pot and both .po files."""
    pot = tmp_path / "messages.pot"
    cmd = [sys.executable, "-m", "babel.messages.frontend", "-q", "extract", "-F", "babel.cfg",
           "-k", "_l", "-k", "lazy_gettext", "--no-location", "--omit-header", "-o", str(pot), "."]
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    extracted = msgids(load_po(pot))
    assert len(extracted) > 100, "extraction found almost nothing: is babel.cfg in place?"
    targets = {"messages.pot": TRANSLATIONS / "messages.pot", **{f"{lang}.po": po_path(lang) for lang in LANGS}}
    for name, path in targets.items():
        have = msgids(load_po(path))
        new, gone = sorted(map(str, extracted - have)), sorted(map(str, have - extracted))
        assert not new and not gone, (
            f"{name} is out of date with the sources; {EXTRACT_HINT}.\n"
            f"missing from {name}: {new}\nno longer in the sources: {gone}"
        )


@pytest.mark.parametrize("lang", LANGS)
def test_compiled_catalogue_is_current(lang: str) -> None:
    """The app reads the .mo; `make` compiles it from the .po before the tests run."""
    po, mo = po_path(lang), po_path(lang).with_suffix(".mo")
    assert mo.is_file(), f"{mo.relative_to(ROOT)} is missing: run `make translations` (make test does it)"
    with mo.open("rb") as fh:
        compiled = {forms(m.id): forms(m.string) for m in read_mo(fh) if m.id}
    source = {forms(m.id): forms(m.string) for m in load_po(po) if m.id}
    stale = sorted(str(k) for k in source if compiled.get(k) != source[k])
    assert not stale, (
        f"{mo.relative_to(ROOT)} is older than its .po ({len(stale)} messages differ, e.g. {stale[:3]}): "
        "run `make translations`"
    )


# --- pages in the user's language -----------------------------------------------------------------


def choose(client, lang: str, next_url: str = "/") -> None:  # type: ignore[no-untyped-def]
    resp = client.post_form("/lang", {"lang": lang, "next": next_url})
    assert resp.status_code == 302
    assert resp.headers["Location"].endswith(next_url)


def test_login_page_follows_the_choice(client) -> None:  # type: ignore[no-untyped-def]
    choose(client, "es", "/login")
    body = client.get("/login").get_data(as_text=True)
    assert '<html lang="es">' in body
    assert "<title>Iniciar sesión · auditdocs</title>" in body
    assert "Correo electrónico" in body and "Contraseña" in body  # lazy form labels
    assert "Log in" not in body

    choose(client, "en", "/login")
    body = client.get("/login").get_data(as_text=True)
    assert '<html lang="en">' in body
    assert "<title>Log in · auditdocs</title>" in body
    assert "Iniciar sesión" not in body


def test_login_error_is_translated(client) -> None:  # type: ignore[no-untyped-def]
    choose(client, "es", "/login")
    resp = client.post_form("/login", {"email": "nobody@example.org", "password": "wrong-password-1"})
    assert resp.status_code == 401
    assert "Correo electrónico o contraseña incorrectos" in resp.get_data(as_text=True)


def test_browser_language_applies_until_a_choice_is_made(client) -> None:  # type: ignore[no-untyped-def]
    peru = {"Accept-Language": "es-PE,es;q=0.9,en;q=0.5"}
    body = client.get("/login", headers=peru).get_data(as_text=True)
    assert '<html lang="es">' in body and "Iniciar sesión" in body

    body = client.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"}).get_data(as_text=True)
    assert '<html lang="en">' in body and "Log in" in body

    choose(client, "en", "/login")  # an explicit choice wins over the browser
    body = client.get("/login", headers=peru).get_data(as_text=True)
    assert '<html lang="en">' in body and "Log in" in body


def test_dashboard_in_both_languages(client, login_as) -> None:  # type: ignore[no-untyped-def]
    login_as("admin")
    choose(client, "es")
    body = client.get("/").get_data(as_text=True)
    assert "<title>Panel · auditdocs</title>" in body
    assert "Cerrar sesión" in body and "Administrador" in body  # template string and lazy role label
    assert "Log out" not in body

    choose(client, "en")
    body = client.get("/").get_data(as_text=True)
    assert "<title>Dashboard · auditdocs</title>" in body
    assert "Log out" in body and "Administrator" in body
    assert "Cerrar sesión" not in body


def test_plural_forms_in_spanish(client, login_as) -> None:  # type: ignore[no-untyped-def]
    login_as("admin")
    choose(client, "es")
    body = client.get("/documents/").get_data(as_text=True)
    match = re.search(r"(\d+) documentos?\b", body)
    assert match, "the register shows no Spanish document count"
    count = int(match.group(1))
    assert match.group(0) == (f"{count} documento" if count == 1 else f"{count} documentos")


def test_not_found_page_is_in_spanish(client, login_as) -> None:  # type: ignore[no-untyped-def]
    login_as("quality_officer")
    choose(client, "es")
    resp = client.get("/no-such-page")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 404
    assert "No encontrado" in body
    assert "Esta página no existe o usted no tiene acceso a ella." in body
    assert "Volver a la página de inicio" in body
    assert "Not found" not in body


def test_not_found_page_follows_the_browser_when_logged_out(client) -> None:  # type: ignore[no-untyped-def]
    resp = client.get("/no-such-page", headers={"Accept-Language": "es-PE"})
    assert resp.status_code == 404
    assert "No encontrado" in resp.get_data(as_text=True)


def test_dates_on_pages_are_spanish(app, client, login_as) -> None:  # type: ignore[no-untyped-def]
    from auditdocs.extensions import db
    from auditdocs.models import User
    from auditdocs.timeutil import as_utc

    admin = login_as("admin")
    with app.app_context():
        created = as_utc(db.session.get(User, admin.id).created_at)
    lima = ZoneInfo("America/Lima")
    month = created.astimezone(lima).month

    # One format per language (issue 10 item 8): the medium date, then the short time, in Lima.
    choose(client, "es")
    body = client.get(f"/admin/users/{admin.id}").get_data(as_text=True)
    expected = babel_format_datetime(created, "d MMM y, H:mm", tzinfo=lima, locale="es")  # 30 nov 2026, 21:55
    assert f"creado el {expected}" in body
    assert get_month_names("abbreviated", locale="es")[month] in expected

    choose(client, "en")
    body = client.get(f"/admin/users/{admin.id}").get_data(as_text=True)
    english = babel_format_datetime(created, "MMM d, y, h:mm\u202fa", tzinfo=lima, locale="en")  # Nov 30, 2026, 9:55 PM
    assert f"created {english}" in body


def test_date_and_number_formats_follow_the_language(app, client) -> None:  # type: ignore[no-untyped-def]
    from flask_babel import format_date, format_decimal

    choose(client, "es", "/login")
    with client:
        client.get("/login")  # the request context (and its locale) stays open inside `with client`
        assert format_date(date(2026, 12, 3), "medium") == "3 dic 2026"
        assert format_date(date(2026, 11, 27), "long") == "27 de noviembre de 2026"
        assert format_decimal(1234.5) in ("1234,5", "1.234,5")
        assert format_decimal(1234567.5) == "1.234.567,5"

    choose(client, "en", "/login")
    with client:
        client.get("/login")
        assert format_date(date(2026, 12, 3), "medium") == "Dec 3, 2026"
        assert format_decimal(1234567.5) == "1,234,567.5"
