"""Real files of every type text extraction reads, built in the test (python-docx, openpyxl, zipfile, hand-made
PDFs), and hostile ones: a zip bomb, an encrypted PDF, a non-PDF named .pdf."""

from __future__ import annotations

import hashlib
import io
import struct
import time
import zipfile
from typing import Any

import openpyxl
from docx import Document as WordDocument
from flask import Flask
from sqlalchemy import select
from support import office

from auditdocs.extensions import db
from auditdocs.models import BlobText

# -- PDF, written by hand: a catalogue, pages with Helvetica text (WinAnsi, so accents work) and a valid xref ------


def _escape(line: str) -> bytes:
    raw = line.encode("cp1252")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def _content(text: str) -> bytes:
    lines = b"".join(b"(" + _escape(line) + b") Tj 0 -16 Td " for line in text.split("\n"))
    return b"BT /F1 12 Tf 72 770 Td " + lines + b"ET"


def _pdf(objects: list[bytes], trailer_extra: bytes = b"") -> bytes:
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R ".encode() + trailer_extra
    out += f">>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def _stream(data: bytes) -> bytes:
    return f"<< /Length {len(data)} >>\nstream\n".encode() + data + b"\nendstream"


def pdf_with(*pages: str) -> bytes:
    """A valid PDF whose pages carry these texts (a line per "\\n")."""
    count = len(pages)
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(count))
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", f"<< /Type /Pages /Kids [{kids}] /Count {count} >>".encode(),
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"]
    for i, text in enumerate(pages):
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> "
                       f">> /Contents {5 + 2 * i} 0 R >>".encode())
        objects.append(_stream(_content(text)))
    return _pdf(objects)


_PAD = bytes.fromhex("28BF4E5E4E758A4164004E56FFFA01082E2E00B6D0683E802F0CA9FE6453697A")


def _rc4(key: bytes, data: bytes) -> bytes:
    s = list(range(256))
    j = 0
    for i in range(256):
        j = (j + s[i] + key[i % len(key)]) % 256
        s[i], s[j] = s[j], s[i]
    out, i, j = bytearray(), 0, 0
    for byte in data:
        i = (i + 1) % 256
        j = (j + s[i]) % 256
        s[i], s[j] = s[j], s[i]
        out.append(byte ^ s[(s[i] + s[j]) % 256])
    return bytes(out)


def encrypted_pdf(text: str, password: str = "secreto") -> bytes:  # noqa: S107 - a test file password
    """A one-page PDF encrypted with a user password (standard security handler, RC4 40-bit, revision 2)."""
    padded = (password.encode("latin-1") + _PAD)[:32]
    file_id = hashlib.md5(text.encode(), usedforsecurity=False).digest()
    owner = _rc4(hashlib.md5(padded, usedforsecurity=False).digest()[:5], padded)
    permissions = -4
    key = hashlib.md5(padded + owner + struct.pack("<i", permissions) + file_id,
                      usedforsecurity=False).digest()[:5]
    user = _rc4(key, _PAD)
    content_key = hashlib.md5(key + (5).to_bytes(3, "little") + (0).to_bytes(2, "little"),
                              usedforsecurity=False).digest()[:10]
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> "
               b"/Contents 5 0 R >>",
               _stream(_rc4(content_key, _content(text))),
               f"<< /Filter /Standard /V 1 /R 2 /O <{owner.hex()}> /U <{user.hex()}> /P {permissions} >>".encode()]
    return _pdf(objects, f"/Encrypt 6 0 R /ID [<{file_id.hex()}> <{file_id.hex()}>] ".encode())


# -- Office files --------------------------------------------------------------------------------------------------


def docx_with(body: list[str], header: str | None = None) -> bytes:
    """A Word document by python-docx: paragraphs, a table row, and a header (where document codes sit)."""
    word = WordDocument()
    for paragraph in body:
        word.add_paragraph(paragraph)
    table = word.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text, table.rows[0].cells[1].text = "Responsable", "Jefe de calidad"
    if header:
        word.sections[0].header.paragraphs[0].text = header
    buf = io.BytesIO()
    word.save(buf)
    return buf.getvalue()


def xlsx_with(sheets: dict[str, list[list[Any]]]) -> bytes:
    """A workbook by openpyxl, one sheet per entry."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


_A = "http://schemas.openxmlformats.org/drawingml/2006/main"
_P = "http://schemas.openxmlformats.org/presentationml/2006/main"


def _slide(lines: list[str]) -> bytes:
    paragraphs = "".join(f"<a:p><a:r><a:t>{line}</a:t></a:r></a:p>" for line in lines)
    return (f'<?xml version="1.0" encoding="UTF-8"?><p:sld xmlns:a="{_A}" xmlns:p="{_P}"><p:cSld><p:spTree><p:sp>'
            f"<p:txBody>{paragraphs}</p:txBody></p:sp></p:spTree></p:cSld></p:sld>").encode()


def pptx_with(slides: list[list[str]]) -> bytes:
    """A presentation package (content types, relationships, presentation part) with these slides' text."""
    slide_type = "application/vnd.openxmlformats-officedocument.presentationml.slide+xml"
    types = "".join(f'<Override PartName="/ppt/slides/slide{n}.xml" ContentType="{slide_type}"/>'
                    for n in range(1, len(slides) + 1))
    return office("pptx", extra={f"ppt/slides/slide{n}.xml": _slide(lines) for n, lines in enumerate(slides, 1)},
                  extra_types=types)


_ODF = {"odt": "application/vnd.oasis.opendocument.text", "ods": "application/vnd.oasis.opendocument.spreadsheet"}
_NS = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
       'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
       'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"')


def odf_with(ext: str, body: str) -> bytes:
    """An OpenDocument package: the stored mimetype first, a manifest, and content.xml with this body."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), _ODF[ext], compress_type=zipfile.ZIP_STORED)
        zf.writestr("META-INF/manifest.xml", '<?xml version="1.0"?><manifest:manifest xmlns:manifest='
                    '"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"><manifest:file-entry '
                    f'manifest:full-path="/" manifest:media-type="{_ODF[ext]}"/></manifest:manifest>')
        zf.writestr("content.xml", f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {_NS}>'
                    f"<office:body>{body}</office:body></office:document-content>")
    return buf.getvalue()


def docx_replacing_body(write_body: Any) -> bytes:
    """A valid .docx package whose word/document.xml is streamed by `write_body(member)` (huge bodies)."""
    base = zipfile.ZipFile(io.BytesIO(office("docx")))
    buf = io.BytesIO()
    with base, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for info in base.infolist():
            if info.filename != "word/document.xml":
                zf.writestr(info, base.read(info))
        with zf.open("word/document.xml", "w", force_zip64=True) as member:
            write_body(member)
    return buf.getvalue()


def docx_bomb() -> bytes:
    """A .docx whose document.xml unpacks to 64 MB at a ratio over 1000: the upload's zip check calls it a bomb."""
    def body(member: Any) -> None:
        member.write(f'<w:document xmlns:w="{_W}"><w:body>'.encode())
        block = b"<w:p/>" * (1024 * 1024 // 6)
        for _ in range(64):
            member.write(block)
        member.write(b"</w:body></w:document>")
    return docx_replacing_body(body)


def docx_huge_text(paragraphs: int) -> bytes:
    """A .docx with a large body of real, varied text (it passes the zip check: text does not compress 200:1)."""
    def body(member: Any) -> None:
        member.write(f'<w:document xmlns:w="{_W}"><w:body>'.encode())
        for n in range(paragraphs):
            member.write(f"<w:p><w:r><w:t>Registro {n} {hashlib.sha256(str(n).encode()).hexdigest()}</w:t></w:r>"
                         "</w:p>".encode())
        member.write(b"</w:body></w:document>")
    return docx_replacing_body(body)


_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


# -- waiting for the worker ------------------------------------------------------------------------------------


def reading(app: Flask, sha256: str) -> tuple[str, str | None, str | None] | None:
    """(status, text, error) stored for a blob, or None."""
    with app.app_context():
        row = db.session.execute(select(BlobText.status, BlobText.text, BlobText.error)
                                 .where(BlobText.sha256 == sha256)).first()
        db.session.remove()
    return None if row is None else (row[0], row[1], row[2])


def wait_for_text(app: Flask, sha256: str, seconds: float = 60.0) -> tuple[str, str | None, str | None] | None:
    """Poll (bounded) until the blob has a stored reading; None if it never comes. No timing is asserted."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = reading(app, sha256)
        if found is not None:
            return found
        time.sleep(0.1)
    return None
