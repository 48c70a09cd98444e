"""Text extraction reads each format from real files, and answers hostile ones with a status, never an exception:
a zip bomb, an encrypted PDF or zip member, a non-PDF named .pdf, a file that hangs, a reader that crashes."""

from __future__ import annotations

import codecs
import io
import sys
import textwrap
import zipfile
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pytest
from extract_support import (
    docx_bomb,
    docx_huge_text,
    docx_with,
    encrypted_pdf,
    odf_with,
    pdf_with,
    pptx_with,
    xlsx_with,
)
from flask import Flask
from support import MAIN_PARTS, office, pdf

from auditdocs.extract import Outcome, Pending, read_blob
from auditdocs.extract.runner import READER
from auditdocs.extract.service import reader
from auditdocs.filecheck import MIME_TYPES
from auditdocs.services.uploads import get_store

pytestmark = pytest.mark.sqlite_only  # no database is involved in reading a file


def _read(app: Flask, data: bytes, ext: str, **config: Any) -> Outcome:
    """Store the bytes as an upload would and read them as the worker does."""
    app.config.update(config)
    with app.app_context():
        blob = get_store().put(io.BytesIO(data))
        with reader() as child:
            return read_blob(Pending(blob.sha256, MIME_TYPES[ext]), child)


FORMATS = {
    "pdf": (pdf_with("Acción correctiva PR-QA-001\nCláusula 8.5.2", "Segunda página: auditoría"),
            ["Acción correctiva PR-QA-001", "Cláusula 8.5.2", "Segunda página: auditoría"]),
    "docx": (docx_with(["Procedimiento de auditoría interna", "Revisión por la dirección"], header="PR-QA-001 Rev. 3"),
             ["Procedimiento de auditoría interna\nRevisión por la dirección", "Jefe de calidad", "PR-QA-001 Rev. 3"]),
    "xlsx": (xlsx_with({"Riesgos": [["Código", "Riesgo", None], ["RB-2026-0001", "Soborno en compras", 3]],
                        "Regalos": [["Obsequio de proveedor"]]}),
             ["Riesgos\nCódigo\tRiesgo\nRB-2026-0001\tSoborno en compras\t3", "Regalos\nObsequio de proveedor"]),
    "pptx": (pptx_with([["Política antisoborno"], ["Debida diligencia", "Cláusula 8.2"]] + [[f"Lámina {n}"]
                                                                                            for n in range(3, 11)]),
             ["Política antisoborno", "Debida diligencia\nCláusula 8.2", "Lámina 9\n\nLámina 10"]),
    "odt": (odf_with("odt", "<office:text><text:h>Manual de calidad</text:h><text:p>Alcance <text:span>del "
                            "sistema</text:span><text:s text:c='2'/>ISO 9001</text:p></office:text>"),
            ["Manual de calidad\nAlcance del sistema  ISO 9001"]),
    "ods": (odf_with("ods", "<office:spreadsheet><table:table><table:table-row><table:table-cell><text:p>Indicador"
                            "</text:p></table:table-cell><table:table-cell><text:p>Meta 95 %</text:p>"
                            "</table:table-cell></table:table-row></table:table></office:spreadsheet>"),
            ["Indicador", "Meta 95 %"]),
    "txt": ("Acta de reunión: acción inmediata".encode(), ["Acta de reunión: acción inmediata"]),
    "csv": ("código;descripción\nNC-2026-0014;Calibración vencida\n".encode("cp1252"),
            ["código;descripción\nNC-2026-0014;Calibración vencida"]),
    "md": (codecs.BOM_UTF16_LE + "# Guía\nÑandú".encode("utf-16-le"), ["# Guía\nÑandú"]),
}


@pytest.mark.parametrize("ext", sorted(FORMATS))
def test_each_format_gives_its_text(app, ext):
    data, expected = FORMATS[ext]
    outcome = _read(app, data, ext)
    assert (outcome.status, outcome.truncated, outcome.error) == ("ok", False, None)
    for piece in expected:
        assert piece in outcome.text


def test_utf8_with_a_bom_loses_the_bom_and_keeps_accents(app):
    outcome = _read(app, codecs.BOM_UTF8 + "Revisión".encode(), "txt")
    assert outcome.text == "Revisión"


def test_a_type_whose_text_is_not_read_is_unsupported(app):
    outcome = _read(app, b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "png")
    assert outcome == Outcome("unsupported")


def test_the_character_cap_cuts_the_text_and_says_so(app):
    outcome = _read(app, docx_huge_text(5000), "docx", EXTRACT_MAX_CHARS=10_000)
    assert (outcome.status, outcome.truncated, len(outcome.text)) == ("ok", True, 10_000)
    assert outcome.text.startswith("Registro 0 ")


def test_a_huge_xml_part_is_read_only_up_to_its_byte_cap(app):
    outcome = _read(app, docx_huge_text(20_000), "docx", EXTRACT_MAX_XML_BYTES=256 * 1024)
    assert outcome.status == "ok" and outcome.truncated
    assert "Registro 100 " in outcome.text and "Registro 19999 " not in outcome.text


def test_a_zip_bomb_is_refused_by_the_upload_check_before_it_is_opened(app):
    outcome = _read(app, docx_bomb(), "docx")
    assert outcome == Outcome("too_large", error="zip_bomb")


def test_a_disguised_container_is_refused_by_the_upload_check(app):
    outcome = _read(app, office("docm", vba=True), "docx")  # a macro workbook named .docx
    assert outcome.status == "unreadable" and outcome.error == "refused: macro"


def test_an_encrypted_zip_member_is_unreadable(app):
    package = bytearray(office("docx"))
    member = MAIN_PARTS["docx"][0].encode()
    with zipfile.ZipFile(io.BytesIO(bytes(package))) as zf:
        local = zf.getinfo(member.decode()).header_offset
    package[local + 6] |= 0x1  # the "encrypted" bit of the general-purpose flags, in the local header...
    at = package.find(b"PK\x01\x02")
    while at != -1:  # ...and in the member's central directory entry
        if package[at + 46:at + 46 + int.from_bytes(package[at + 28:at + 30], "little")] == member:
            package[at + 8] |= 0x1
        at = package.find(b"PK\x01\x02", at + 4)
    outcome = _read(app, bytes(package), "docx")
    assert outcome == Outcome("unreadable", error="encrypted")


def test_an_encrypted_pdf_is_unreadable_and_is_really_encrypted(app):
    data = encrypted_pdf("Informe confidencial", password="secreto")
    opened = pdfium.PdfDocument(data, password="secreto")
    try:
        assert "Informe confidencial" in opened[0].get_textpage().get_text_range()
    finally:
        opened.close()
    assert _read(app, data, "pdf") == Outcome("unreadable", error="encrypted")


def test_a_file_named_pdf_that_is_no_pdf_is_unreadable(app):
    outcome = _read(app, pdf("not really"), "pdf")  # starts like a PDF (so the upload took it), is none
    assert (outcome.status, outcome.error) == ("unreadable", "broken")


def _wrapped_reader(tmp_path: Path, body: str) -> list[str]:
    """A reader child whose text reader is replaced (a hanging or crashing extractor), run like the real one."""
    script = tmp_path / "wrapped_reader.py"
    script.write_text(textwrap.dedent(f"""\
        import importlib.util, os, sys, time
        spec = importlib.util.spec_from_file_location("reader", {str(READER)!r})
        reader = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(reader)
        def replaced(path, sink, xml_cap):
        {textwrap.indent(body, "    ")}
        reader.READERS["text"] = replaced
        sys.exit(reader.main())
        """))
    return [sys.executable, "-I", str(script)]


def test_a_file_that_hangs_is_stopped_at_the_time_limit_and_the_next_file_is_read(app, tmp_path):
    app.config.update(EXTRACT_TIME_LIMIT=1, EXTRACT_READER_COMMAND=_wrapped_reader(tmp_path, "time.sleep(3600)"))
    with app.app_context():
        hangs = get_store().put(io.BytesIO(b"never ends"))
        fine = get_store().put(io.BytesIO(pdf_with("Después del bloqueo")))
        with reader() as child:
            first = read_blob(Pending(hangs.sha256, MIME_TYPES["txt"]), child)
            second = read_blob(Pending(fine.sha256, MIME_TYPES["pdf"]), child)
    assert first == Outcome("timeout", error="timeout")
    assert (second.status, second.text.strip()) == ("ok", "Después del bloqueo")


def test_a_reader_that_crashes_leaves_the_file_unreadable(app, tmp_path):
    app.config.update(EXTRACT_READER_COMMAND=_wrapped_reader(tmp_path, "os._exit(3)"))
    outcome = _read(app, b"crash me", "txt")
    assert outcome == Outcome("unreadable", error="crashed: the reader stopped (exit 3)")


def test_a_stored_object_that_went_missing_is_unreadable(app):
    with app.app_context(), reader() as child:
        outcome = read_blob(Pending("0" * 64, MIME_TYPES["pdf"]), child)
    assert outcome == Outcome("unreadable", error="missing")
