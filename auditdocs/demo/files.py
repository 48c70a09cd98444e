"""Real files for the demo organisation: Word documents, PDFs and text, generated on the fly."""

from __future__ import annotations

from pathlib import Path

from docx import Document as DocxDocument


def write_docx(path: Path, title: str, paragraphs: list[str]) -> Path:
    """A real .docx (python-docx) with a heading and paragraphs."""
    doc = DocxDocument()
    doc.core_properties.title = title
    doc.add_heading(title, level=1)
    for text in paragraphs:
        if text.startswith("## "):
            doc.add_heading(text[3:], level=2)
        else:
            doc.add_paragraph(text)
    doc.save(str(path))
    return path


def _pdf_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def write_pdf(path: Path, title: str, lines: list[str]) -> Path:
    """A small, valid one-page PDF (Helvetica, WinAnsi) with correct cross-reference offsets."""
    body = ["BT /F1 16 Tf 50 790 Td (" + _pdf_escape(title) + ") Tj ET"]
    y = 760
    for line in lines:
        body.append(f"BT /F1 11 Tf 50 {y} Td (" + _pdf_escape(line) + ") Tj ET")
        y -= 16
    stream = "\n".join(body).encode("cp1252", errors="replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + obj + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    path.write_bytes(bytes(out))
    return path


def write_text(path: Path, text: str) -> Path:
    """A UTF-8 text, CSV or Markdown file."""
    path.write_text(text, encoding="utf-8")
    return path
