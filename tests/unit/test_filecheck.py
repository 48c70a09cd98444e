"""Unit tests for upload validation (auditdocs.filecheck)."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask_babel import Babel
from flask_babel.speaklater import LazyString
from support import office

from auditdocs.filecheck import (
    DEFAULT_ALLOWED,
    UploadRejected,
    check_name,
    display_name,
    extension_of,
    sniff,
)

OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
MB = 1024 * 1024


@pytest.fixture(autouse=True)
def app_ctx() -> Iterator[Flask]:
    app = Flask(__name__)
    Babel(app)
    with app.app_context():
        yield app


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def make_zip(tmp_path: Path, name: str, members: dict[str, bytes]) -> Path:
    path = tmp_path / name
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for member, data in members.items():
            zf.writestr(member, data)
    return path


def png_bytes() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00\x00"))
        + chunk(b"IEND", b"")
    )


ODF = {
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "odp": "application/vnd.oasis.opendocument.presentation",
}


def ooxml(tmp_path: Path, ext: str, extra: dict[str, bytes] | None = None) -> Path:
    """A realistic OOXML package (content types, package relationships, main part) written to a file."""
    return write(tmp_path, f"file.{ext}", office(ext, extra=extra))


def odf(tmp_path: Path, ext: str, mimetype: str) -> Path:
    path = tmp_path / f"file.{ext}"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("mimetype", mimetype, compress_type=zipfile.ZIP_STORED)
        zf.writestr("content.xml", "<office:document-content/>", compress_type=zipfile.ZIP_DEFLATED)
        zf.writestr("META-INF/manifest.xml", "<manifest/>", compress_type=zipfile.ZIP_DEFLATED)
    return path


# -- display_name / extension_of ------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\system32\\evil.docx", "evil.docx"),
        ("C:\\Users\\qm\\Audit 2024.xlsx", "Audit 2024.xlsx"),
        ("report.pdf\x00.html", "report.pdf.html"),
        ("re\x01po\x7frt\n\t.pdf", "report.pdf"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),  # RTL override (Cf) removed
        ("zero\u200bwidth.txt", "zerowidth.txt"),
        ("  padded name.pdf  ", "padded name.pdf"),
        ("文件.pdf", "文件.pdf"),
        ("Informe de auditoría.docx", "Informe de auditoría.docx"),
        ("Prüfbericht Überwachung – Lieferant ä.pdf", "Prüfbericht Überwachung – Lieferant ä.pdf"),
        ("Informe de auditori\u0301a.docx", "Informe de auditoría.docx"),  # NFD -> NFC
        ("..", "unnamed"),
        ("...", "unnamed"),
        (". . .", "unnamed"),
        ("", "unnamed"),
        (None, "unnamed"),
        ("   ", "unnamed"),
        ("\x00\x01\x02", "unnamed"),
        ("dir/", "unnamed"),
        ("/etc/..", "unnamed"),
    ],
)
def test_display_name(raw: str | None, expected: str) -> None:
    assert display_name(raw) == expected


def test_display_name_truncates_stem_keeps_extension() -> None:
    name = display_name("a" * 300 + ".pdf")
    assert len(name) == 255
    assert name.endswith(".pdf")
    assert name == "a" * 251 + ".pdf"
    unicode_name = display_name("審" * 400 + ".docx")
    assert len(unicode_name) == 255 and unicode_name.endswith("審.docx")


def test_display_name_long_without_extension() -> None:
    assert display_name("b" * 300) == "b" * 255
    weird = display_name("c." + "x" * 300)  # "extension" too long to keep
    assert len(weird) == 255


@pytest.mark.parametrize(
    ("name", "ext"),
    [
        ("a.PDF", "pdf"),
        ("archive.tar.gz", "gz"),
        ("noext", ""),
        (".htaccess", ""),
        ("trailing.", ""),
        ("x.JpEg", "jpeg"),
        ("..pdf", ""),
    ],
)
def test_extension_of(name: str, ext: str) -> None:
    assert extension_of(name) == ext


# -- check_name ------------------------------------------------------------------


def test_check_name_accepts_allowed() -> None:
    assert check_name("Audit Report.PDF", DEFAULT_ALLOWED) == ("Audit Report.PDF", "pdf")
    assert check_name("C:\\tmp\\文件.docx", DEFAULT_ALLOWED) == ("文件.docx", "docx")


def test_check_name_nul_trick_uses_final_name() -> None:
    with pytest.raises(UploadRejected) as excinfo:
        check_name("report.pdf\x00.html", DEFAULT_ALLOWED)
    exc = excinfo.value
    assert exc.code == "extension"
    assert exc.params["ext"] == "html"
    assert exc.params["name"] == "report.pdf.html"
    text = exc.text()
    assert "report.pdf.html" in text
    assert "pdf, doc, docx" in text and "msg" in text  # names the allowed list
    assert str(exc) == text
    assert isinstance(exc.message, LazyString)


@pytest.mark.parametrize(
    "raw", ["../../etc/passwd", "README", "evil.exe", "page.html", "script.pdf.js", ".pdf", "x.pdf."]
)
def test_check_name_refuses_bad_extensions(raw: str) -> None:
    with pytest.raises(UploadRejected) as excinfo:
        check_name(raw, DEFAULT_ALLOWED)
    assert excinfo.value.code == "extension"
    assert "Allowed file types" in excinfo.value.text()


@pytest.mark.parametrize("raw", [None, "", "..", "...", "  ", "\x00", "a/b/"])
def test_check_name_refuses_unusable_names(raw: str | None) -> None:
    with pytest.raises(UploadRejected) as excinfo:
        check_name(raw, DEFAULT_ALLOWED)
    assert excinfo.value.code == "name"
    assert excinfo.value.text()


def test_check_name_custom_allow_list() -> None:
    assert check_name("scan.TIF", [".TIF", "png"]) == ("scan.TIF", "tif")
    with pytest.raises(UploadRejected) as excinfo:
        check_name("scan.pdf", [".TIF", "png"])
    assert "tif, png" in excinfo.value.text()


def test_percent_in_name_does_not_break_formatting() -> None:
    with pytest.raises(UploadRejected) as excinfo:
        check_name("100%(evil)s %d.exe", DEFAULT_ALLOWED)
    assert "100%(evil)s %d.exe" in excinfo.value.text()


# -- sniff: accepted ---------------------------------------------------------------

MAGIC_CASES = [
    ("pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "application/pdf"),
    ("png", png_bytes(), "image/png"),
    ("jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 20, "image/jpeg"),
    ("jpeg", b"\xff\xd8\xff\xe1\x00\x10Exif\x00" + b"\x00" * 20, "image/jpeg"),
    ("tif", b"II*\x00\x08\x00\x00\x00" + b"\x00" * 20, "image/tiff"),
    ("tiff", b"MM\x00*\x00\x00\x00\x08" + b"\x00" * 20, "image/tiff"),
    ("doc", OLE2 + b"\x00" * 504, "application/msword"),
    ("xls", OLE2 + b"\x00" * 504, "application/vnd.ms-excel"),
    ("ppt", OLE2 + b"\x00" * 504, "application/vnd.ms-powerpoint"),
    ("msg", OLE2 + b"\x00" * 504, "application/vnd.ms-outlook"),
    ("rtf", b"{\\rtf1\\ansi\\deff0 {\\fonttbl {\\f0 Times;}} Hello}", "application/rtf"),
]


@pytest.mark.parametrize(("ext", "data", "mime"), MAGIC_CASES)
def test_sniff_magic_types(tmp_path: Path, ext: str, data: bytes, mime: str) -> None:
    assert sniff(write(tmp_path, "blob", data), ext) == mime


@pytest.mark.parametrize(
    ("ext", "mime"),
    [
        ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
    ],
)
def test_sniff_ooxml(tmp_path: Path, ext: str, mime: str) -> None:
    assert sniff(ooxml(tmp_path, ext), ext) == mime
    assert sniff(ooxml(tmp_path, ext), ext.upper()) == mime


@pytest.mark.parametrize("ext", sorted(ODF))
def test_sniff_odf(tmp_path: Path, ext: str) -> None:
    assert sniff(odf(tmp_path, ext, ODF[ext]), ext) == ODF[ext]


@pytest.mark.parametrize(
    ("ext", "data", "mime"),
    [
        ("txt", b"Audit finding: calibration overdue.\n", "text/plain"),
        ("txt", "Auditoría — prüfen 文件\n".encode(), "text/plain"),
        ("txt", "\ufeffUTF-8 with BOM\n".encode(), "text/plain"),
        ("txt", "Prüfbericht für Lieferant\r\n".encode("cp1252"), "text/plain"),
        ("txt", "Contrôle qualité – “OK”\n".encode("cp1252"), "text/plain"),
        ("txt", "Unicode text export\r\n".encode("utf-16"), "text/plain"),
        ("csv", b"clause;status\n7.5;ok\n8.2;open\n", "text/csv"),
        ("md", b"# Audit plan\n\n- Clause 7.5\n", "text/markdown"),
        (
            "eml",
            b"From: qm@example.com\r\nTo: audit@example.com\r\nSubject: NC 12\r\n\r\nBody\r\n",
            "message/rfc822",
        ),
        (
            "eml",
            b"\r\nReturn-Path: <x@example.com>\r\nReceived: from a\r\n\tby b\r\n\r\nhi",
            "message/rfc822",
        ),
        ("eml", b"From qm@example.com Mon Jan  1 00:00:00 2024\nSubject: hi\n\nbody", "message/rfc822"),
    ],
)
def test_sniff_text(tmp_path: Path, ext: str, data: bytes, mime: str) -> None:
    assert sniff(write(tmp_path, f"f.{ext}", data), ext) == mime


def test_sniff_large_utf8_text_cut_mid_character(tmp_path: Path) -> None:
    data = ("ä" * 40000).encode()  # 80 000 bytes: the 64 KiB sample ends in any place
    assert sniff(write(tmp_path, "big.txt", b"x" + data), "txt") == "text/plain"
    assert sniff(write(tmp_path, "big2.txt", data), "txt") == "text/plain"


# -- sniff: refused --------------------------------------------------------------


def assert_rejected(path: Path, ext: str, code: str, **kwargs) -> UploadRejected:
    with pytest.raises(UploadRejected) as excinfo:
        sniff(path, ext, **kwargs)
    assert excinfo.value.code == code
    assert excinfo.value.text()
    return excinfo.value


def test_pdf_that_is_really_png(tmp_path: Path) -> None:
    exc = assert_rejected(write(tmp_path, "x", png_bytes()), "pdf", "content", name="Audit report.pdf")
    assert exc.text() == (
        "The file “Audit report.pdf” is not a valid PDF file: its content does not match its extension."
    )


def test_default_name_in_message_is_path_name(tmp_path: Path) -> None:
    exc = assert_rejected(write(tmp_path, "upload.bin", b"GIF89a"), "png", "content")
    assert exc.params["name"] == "upload.bin"


@pytest.mark.parametrize(
    ("ext", "data"),
    [
        ("png", b"%PDF-1.4"),
        ("jpg", png_bytes()),
        ("tif", b"II\x00*"),
        ("doc", b"PK\x03\x04"),
        ("msg", b"From: a\r\n"),
        ("rtf", b"{\\rt"),
        ("pdf", b" %PDF-1.4"),
        ("pdf", b"<html><body>%PDF-</body></html>"),
    ],
)
def test_magic_mismatch(tmp_path: Path, ext: str, data: bytes) -> None:
    assert_rejected(write(tmp_path, "x", data), ext, "content")


def test_docx_without_document_xml(tmp_path: Path) -> None:
    package = zipfile.ZipFile(io.BytesIO(office("docx")))
    members = {n: package.read(n) for n in package.namelist() if n != "word/document.xml"}
    path = make_zip(tmp_path, "x.docx", {**members, "word/styles.xml": b"<styles/>"})
    assert_rejected(path, "docx", "content")


def test_docx_without_content_types(tmp_path: Path) -> None:
    path = make_zip(tmp_path, "x.docx", {"word/document.xml": b"<document/>"})
    assert_rejected(path, "docx", "content")


def test_xlsx_renamed_to_docx(tmp_path: Path) -> None:
    assert_rejected(ooxml(tmp_path, "xlsx"), "docx", "content")


def test_plain_zip_as_docx_and_not_a_zip(tmp_path: Path) -> None:
    assert_rejected(make_zip(tmp_path, "a.zip", {"a.txt": b"hello"}), "docx", "content")
    assert_rejected(write(tmp_path, "b", b"PK\x03\x04 this is not a zip"), "docx", "content")
    assert_rejected(write(tmp_path, "c", b"%PDF-1.4"), "xlsx", "content")


def test_junk_prefixed_zip_refused(tmp_path: Path) -> None:
    good = ooxml(tmp_path, "docx").read_bytes()
    assert_rejected(write(tmp_path, "poly", b"<html>" + good), "docx", "content")


def test_odt_with_wrong_mimetype(tmp_path: Path) -> None:
    assert_rejected(odf(tmp_path, "odt", ODF["ods"]), "odt", "content")
    assert_rejected(odf(tmp_path, "odt", "application/zip"), "odt", "content")


def test_odt_without_mimetype(tmp_path: Path) -> None:
    path = make_zip(tmp_path, "x.odt", {"content.xml": b"<x/>"})
    assert_rejected(path, "odt", "content")


@pytest.mark.parametrize("ext", ["txt", "csv", "md", "eml"])
def test_binary_as_text(tmp_path: Path, ext: str) -> None:
    assert_rejected(write(tmp_path, "nul", b"looks like text\x00but is not"), ext, "content")
    assert_rejected(write(tmp_path, "png", png_bytes()), ext, "content")
    noisy = bytes(range(1, 32)) * 20 + b"some words"
    assert_rejected(write(tmp_path, "ctl", noisy), ext, "content")


def test_eml_without_headers(tmp_path: Path) -> None:
    data = b"Dear auditor,\nplease find attached the report.\n"
    assert_rejected(write(tmp_path, "x.eml", data), "eml", "content")


@pytest.mark.parametrize("ext", ["pdf", "docx", "odt", "txt", "eml", "png", "msg"])
def test_empty_file(tmp_path: Path, ext: str) -> None:
    exc = assert_rejected(write(tmp_path, "empty", b""), ext, "empty", name=f"leer.{ext}")
    assert exc.text() == f"The file “leer.{ext}” is empty."


def test_unknown_extension_refused(tmp_path: Path) -> None:
    assert_rejected(write(tmp_path, "x.exe", b"MZ\x90\x00"), "exe", "extension")


# -- zip bombs -----------------------------------------------------------------------


def test_zip_bomb_by_entry_count(tmp_path: Path) -> None:
    extra = {f"word/media/img{i}.png": b"x" for i in range(10)}
    path = ooxml(tmp_path, "docx", extra)
    assert sniff(path, "docx") == ("application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    exc = assert_rejected(path, "docx", "zip_bomb", max_zip_entries=5, name="big.docx")
    assert "big.docx" in exc.text()


def test_zip_bomb_by_declared_size(tmp_path: Path) -> None:
    # Stand-in for a 300 MB bomb: stream 3 MB of zeros, then lower the limit.
    path = ooxml(tmp_path, "docx")
    with (
        zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as zf,
        zf.open("word/media/zeros.bin", "w", force_zip64=True) as member,
    ):
        for _ in range(3):
            member.write(b"\x00" * MB)
    assert sniff(path, "docx")  # fine under the default 512 MiB limit
    assert_rejected(path, "docx", "zip_bomb", max_zip_uncompressed=2 * MB)


def test_zip_bomb_by_ratio(tmp_path: Path) -> None:
    path = ooxml(tmp_path, "docx")
    with (
        zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as zf,
        zf.open("word/media/zeros.bin", "w") as member,
    ):
        for _ in range(20):
            member.write(b"\x00" * MB)
    info = zipfile.ZipFile(path).getinfo("word/media/zeros.bin")
    assert info.file_size > 200 * info.compress_size  # really absurd
    assert_rejected(path, "docx", "zip_bomb")  # default limits: ratio rule alone
    assert_rejected(odf_with_bomb(tmp_path), "ods", "zip_bomb")


def odf_with_bomb(tmp_path: Path) -> Path:
    path = odf(tmp_path, "ods", ODF["ods"])
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("Pictures/zeros.bin", b"\x00" * (12 * MB))
    return path


def test_high_ratio_small_member_is_fine(tmp_path: Path) -> None:
    path = ooxml(tmp_path, "docx", {"word/media/zeros.bin": b"\x00" * (2 * MB)})
    assert sniff(path, "docx")
