"""Macro-enabled Office files in disguise are refused through the real upload form; real files still pass."""

from __future__ import annotations

import contextlib
import io
import re
import zipfile
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from support import MAIN_PARTS, NOTHING_LEFT, create_document, docx, office, what_is_left

from auditdocs.extensions import db
from auditdocs.models import Document


def odf(mimetype: str, *, basic: bool = False) -> bytes:
    """An ODF package: the stored `mimetype` first, then content (and a Basic macro library)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("mimetype", mimetype, compress_type=zipfile.ZIP_STORED)
        zf.writestr("content.xml", "<office:document-content/>", compress_type=zipfile.ZIP_DEFLATED)
        zf.writestr("META-INF/manifest.xml", "<manifest:manifest/>", compress_type=zipfile.ZIP_DEFLATED)
        if basic:
            zf.writestr("Basic/script-lc.xml", "<library:libraries/>")
            zf.writestr("Basic/Standard/Module1.xml", "<script:module>Sub AutoOpen() Shell(...)</script:module>")
    return buf.getvalue()


def word_with_macros_as_docx() -> bytes:
    """A real python-docx document turned into a .docm package (type and VBA part), keeping its .docx name."""
    source = zipfile.ZipFile(io.BytesIO(docx("Procedimiento de compras")))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "[Content_Types].xml":
                data = data.replace(MAIN_PARTS["docx"][1].encode(), MAIN_PARTS["docm"][1].encode())
            zf.writestr(info, data)
        zf.writestr("word/vbaProject.bin", b"\xd0\xcf\x11\xe0 VBA project")
    return buf.getvalue()


def _message(resp: Any) -> str:
    found = re.search(r'class="alert alert-danger[^"]*"[^>]*>\s*(.*?)\s*<button', resp.get_data(as_text=True), re.S)
    assert found, resp.get_data(as_text=True)[:1500]
    return found.group(1)


@pytest.fixture
def officer(client: Any, login_as: Any) -> Any:
    return login_as("quality_officer")


@pytest.mark.parametrize(("kind", "disguised_as", "real"), [
    ("docm", "docx", "docm"), ("xlsm", "xlsx", "xlsm"), ("pptm", "pptx", "pptm")])
def test_a_macro_enabled_file_renamed_is_refused(app, client, officer, kind, disguised_as, real):
    resp = create_document(client, officer.id, code="PR-MAC-001", content=office(kind, vba=True),
                           filename=f"Procedimiento.{disguised_as}")
    assert resp.status_code == 400
    message = _message(resp)
    assert f"is a macro-enabled document (.{real}) saved with the extension .{disguised_as}" in message
    assert what_is_left(app) == NOTHING_LEFT


def test_a_real_word_file_with_macros_added_is_refused_in_spanish(app, client, officer):
    client.post_form("/lang", {"lang": "es"}, page="/")
    resp = create_document(client, officer.id, code="PR-MAC-002", content=word_with_macros_as_docx(),
                           filename="Compras.docx")
    assert resp.status_code == 400
    assert "con macros" in _message(resp) and "Compras.docx" in _message(resp)
    assert what_is_left(app) == NOTHING_LEFT


def test_macros_smuggled_into_a_macro_free_type_are_refused(app, client, officer):
    resp = create_document(client, officer.id, code="PR-MAC-003", content=office("docx", vba=True),
                           filename="Acta.docx")
    assert resp.status_code == 400
    assert "contains macros or other active content" in _message(resp) and "a .docx file must not carry" in \
        _message(resp)
    assert what_is_left(app) == NOTHING_LEFT


def test_the_main_part_is_found_through_the_package_relationships(app, client, officer):
    """Moving the main part elsewhere does not hide its declared type."""
    disguised = office("docm", main_at="word/main2.xml")
    resp = create_document(client, officer.id, code="PR-MAC-004", content=disguised, filename="Acta.docx")
    assert resp.status_code == 400 and "macro-enabled document (.docm)" in _message(resp)


@pytest.mark.parametrize("content", [office("xlsx"), office("pptx"), office("docx", doctype=True)])
def test_another_type_or_a_dtd_is_a_mismatch(app, client, officer, content):
    resp = create_document(client, officer.id, code="PR-MAC-005", content=content, filename="Acta.docx")
    assert resp.status_code == 400
    assert "is not a valid DOCX file: its content does not match its extension" in _message(resp)
    assert what_is_left(app) == NOTHING_LEFT


def test_odf_with_another_mimetype_or_with_macros_is_refused(app, client, officer):
    spreadsheet = odf("application/vnd.oasis.opendocument.spreadsheet")
    resp = create_document(client, officer.id, code="PR-ODF-001", content=spreadsheet, filename="Acta.odt")
    assert resp.status_code == 400 and "is not a valid ODT file" in _message(resp)
    macros = odf("application/vnd.oasis.opendocument.text", basic=True)
    resp = create_document(client, officer.id, code="PR-ODF-002", content=macros, filename="Acta.odt")
    assert resp.status_code == 400 and "contains macros or other active content" in _message(resp)
    assert what_is_left(app) == NOTHING_LEFT


def test_real_office_files_are_still_accepted(app, client, officer):
    assert create_document(client, officer.id, code="PR-OK-001", content=docx("Acta"),
                           filename="Acta.docx").status_code == 302
    assert create_document(client, officer.id, code="PR-OK-002", content=office("xlsx"),
                           filename="Indicadores.xlsx").status_code == 302
    assert create_document(client, officer.id, code="PR-OK-003",
                           content=odf("application/vnd.oasis.opendocument.text"), filename="Acta.odt"
                           ).status_code == 302


def test_macro_enabled_formats_are_refused_unless_an_admin_allows_them(app, client, officer):
    resp = create_document(client, officer.id, code="PR-DOCM-001", content=office("docm", vba=True),
                           filename="Macro.docm")
    assert resp.status_code == 400 and "Files of type “.docm” are not accepted" in _message(resp)
    app.config["ALLOWED_EXTENSIONS"] = ("pdf", "docx", "docm")
    resp = create_document(client, officer.id, code="PR-DOCM-002", content=office("docm", vba=True),
                           filename="Macro.docm")
    assert resp.status_code == 302
    with app.app_context():
        doc = db.session.scalar(select(Document).where(Document.code == "PR-DOCM-002"))
        assert doc.versions[0].mime_type == "application/vnd.ms-word.document.macroEnabled.12"
    # ...and still never as another extension.
    resp = create_document(client, officer.id, code="PR-DOCM-003", content=office("docm", vba=True),
                           filename="Macro.docx")
    assert resp.status_code == 400 and "macro-enabled document (.docm)" in _message(resp)


def _package(members: list[tuple[str, bytes]]) -> bytes:
    """A zip written member by member, duplicates and odd cases included (as a hostile tool would)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members:
            zf.writestr(name, data)
    return buf.getvalue()


def _members(package: bytes) -> list[tuple[str, bytes]]:
    zf = zipfile.ZipFile(io.BytesIO(package))
    return [(n, zf.read(n)) for n in zf.namelist()]


DOCM_TYPE = MAIN_PARTS["docm"][1]
OFFICE_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"


def _ambiguous_packages() -> dict[str, Callable[[], bytes]]:
    """Packages that read one way to a careless checker and another way to Word (built on demand)."""
    clean = _members(office("docx"))
    types = dict(clean)["[Content_Types].xml"].decode()
    evil_rels = (f'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
                 f'relationships"><Relationship Id="rId1" Type="{OFFICE_REL}" Target="/word/evil.xml"/>'
                 "</Relationships>").encode()
    evil_types = types.replace("</Types>", f'<Override PartName="/word/evil.xml" ContentType="{DOCM_TYPE}"/>'
                               "</Types>").encode()
    return {
        "upper-case package relationships": lambda: _package(
            [(n, d) for n, d in clean if n not in ("_rels/.rels", "[Content_Types].xml")]
            + [("[Content_Types].xml", evil_types), ("_RELS/.RELS", evil_rels), ("word/evil.xml", b"<doc/>")]),
        "no package relationships": lambda: _package([(n, d) for n, d in clean if n != "_rels/.rels"]),
        "two office documents": lambda: office("docx", extra_rels=f'<Relationship Id="rId9" Type="{OFFICE_REL}" '
                                                          'Target="/word/other.xml"/>',
                                       extra={"word/other.xml": b"<doc/>"}),
        "an Override twice": lambda: office("docx", extra_types=f'<Override PartName="/WORD/DOCUMENT.XML" '
                                                        f'ContentType="{DOCM_TYPE}"/>'),
        "a member twice": lambda: _package([*clean, ("word/document.xml", b"<other/>")]),
        "UTF-16 with a DTD": lambda: _package(
            [(n, d) for n, d in clean if n != "[Content_Types].xml"]
            + [("[Content_Types].xml", ('<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE Types [<!ENTITY a "b">]>'
                                        + types.split("?>", 1)[1]).encode("utf-16"))]),
    }


AMBIGUOUS = ["upper-case package relationships", "no package relationships", "two office documents",
             "an Override twice", "a member twice", "UTF-16 with a DTD"]


@pytest.mark.parametrize("case", AMBIGUOUS)
def test_an_ambiguous_package_is_refused(app, client, officer, case):
    packages = _ambiguous_packages()
    assert sorted(packages) == sorted(AMBIGUOUS)
    with pytest.warns(UserWarning) if case == "a member twice" else contextlib.nullcontext():  # "Duplicate name"
        content = packages[case]()
    resp = create_document(client, officer.id, code="PR-AMB-001", content=content, filename="Acta.docx")
    assert resp.status_code == 400, case
    assert what_is_left(app) == NOTHING_LEFT


@pytest.mark.parametrize(("case", "extra", "extra_types", "extra_rels"), [
    ("a VBA part under another name, its type with a parameter", {"word/data.bin": b"\xd0\xcf"},
     '<Override PartName="/word/data.bin" ContentType="application/vnd.ms-office.vbaProject; v=1"/>', ""),
    ("an ActiveX control", {"word/activeX/activeX1.xml": b"<ax/>"},
     '<Override PartName="/word/activeX/activeX1.xml" ContentType="application/vnd.ms-office.activeX+xml"/>', ""),
    ("an Excel 4 macro sheet", {"xl/macrosheets/sheet1.xml": b"<m/>"}, "", ""),
    ("a template fetched from the internet",
     {"word/_rels/settings.xml.rels": (
         b'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
         b'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
         b'relationships/attachedTemplate" Target="https://evil.example/t.dotm" TargetMode="External"/>'
         b"</Relationships>")}, "", ""),
])
def test_active_content_in_a_macro_free_file_is_refused(app, client, officer, case, extra, extra_types, extra_rels):
    content = office("xlsx" if "Excel" in case else "docx", extra=extra, extra_types=extra_types,
                     extra_rels=extra_rels)
    resp = create_document(client, officer.id, code="PR-ACT-001", content=content,
                           filename="Libro.xlsx" if "Excel" in case else "Acta.docx")
    assert resp.status_code == 400, case
    assert "contains macros or other active content" in _message(resp)
    assert what_is_left(app) == NOTHING_LEFT
