"""Read the text of stored files in a child process: `python -I reader.py`, one JSON job per line on stdin, one
JSON answer per line on stdout.

Why a separate process run by file path (as auditdocs/pdfpages.py): PDFium must not be called from several threads
at once, a hostile file must not hold the app past its time budget (the parent kills this process), a crash in a
C library ends only this process, and its address space is capped so a decompression bomb fails instead of
swapping. It imports nothing of the app, so it starts in a tenth of a second and serves many files in a row.

A job: {"path", "kind" (pdf|docx|xlsx|pptx|odf|text), "cap" (characters kept), "xml_cap" (bytes of one XML part
read)}. An answer: {"status" (ok|unreadable|too_large), "text", "truncated", "error" (a code, then detail)}.
Zip-based files reach here only after the parent ran the upload's container checks on them.
"""

from __future__ import annotations

import codecs
import json
import os
import re
import resource
import sys
import zipfile
from collections.abc import Callable, Iterable
from typing import Any
from xml.parsers import expat

import openpyxl
import pypdfium2 as pdfium

MEMORY_LIMIT = 1536 * 1024 * 1024  # as the page renderer: enough for any honest file, not for a bomb
PASSWORD_ERROR = 4  # FPDF_ERR_PASSWORD
XML_CHUNK = 256 * 1024
_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_A = "http://schemas.openxmlformats.org/drawingml/2006/main"
_ODF_TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
_SLIDE = re.compile(r"ppt/slides/slide(\d+)\.xml")
_PART = re.compile(r"word/(header|footer)(\d*)\.xml")


class Full(Exception):
    """The character cap is reached: what was read so far is kept."""


class Unreadable(Exception):
    """The file cannot be read; the message is a short code (encrypted, broken, ...) and maybe detail."""


class Sink:
    """Collects text up to a number of characters."""

    def __init__(self, cap: int) -> None:
        self.cap, self.size = cap, 0
        self.parts: list[str] = []

    def add(self, text: str) -> None:
        """Keep `text`, or as much of it as fits, then stop the reading with Full."""
        if not text:
            return
        room = self.cap - self.size
        if len(text) > room:
            self.parts.append(text[:room])
            self.size = self.cap
            raise Full
        self.parts.append(text)
        self.size += len(text)

    def text(self) -> str:
        return "".join(self.parts)


def _read_pdf(path: str, sink: Sink, _xml_cap: int) -> None:
    """The text layer of each page, pages apart by a blank line (a scanned page without OCR gives none)."""
    try:
        pdf = pdfium.PdfDocument(path)
    except pdfium.PdfiumError as exc:
        raise Unreadable("encrypted" if getattr(exc, "err_code", None) == PASSWORD_ERROR else "broken") from None
    try:
        for index in range(len(pdf)):
            page = pdf[index]
            try:
                textpage = page.get_textpage()
                try:
                    sink.add(textpage.get_text_range().replace("\r\n", "\n"))
                finally:
                    textpage.close()
            finally:
                page.close()
            sink.add("\n\n")
    finally:
        pdf.close()


def _archive(path: str) -> zipfile.ZipFile:
    """The zip, refusing encrypted members (their text cannot be read without the password)."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise Unreadable(f"broken: {exc}") from None
    if any(info.flag_bits & 0x1 for info in archive.infolist()):
        archive.close()
        raise Unreadable("encrypted")
    return archive


def _parse_xml(archive: zipfile.ZipFile, member: str, sink: Sink, xml_cap: int, text_tags: frozenset[str],
               breaks: dict[str, str]) -> None:
    """Stream one XML part through expat: the characters inside `text_tags` elements, a separator at the end of
    each element named in `breaks`. No DTD or entity is accepted; past `xml_cap` bytes the reading stops."""
    depth = 0

    def start(name: str, attrs: dict[str, str]) -> None:
        nonlocal depth
        if name in text_tags:
            depth += 1
        elif name == f"{_ODF_TEXT} s":
            sink.add(" " * min(int(attrs.get(f"{_ODF_TEXT} c", "1") or 1), 100))

    def end(name: str) -> None:
        nonlocal depth
        if name in text_tags:
            depth -= 1
        separator = breaks.get(name)
        if separator:
            sink.add(separator)

    def data(chars: str) -> None:
        if depth > 0:
            sink.add(chars)

    def refuse(*_args: Any) -> None:
        raise Unreadable("broken: the XML declares a DTD or entities")

    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartElementHandler, parser.EndElementHandler, parser.CharacterDataHandler = start, end, data
    parser.StartDoctypeDeclHandler, parser.EntityDeclHandler = refuse, refuse
    read = 0
    try:
        with archive.open(member) as stream:
            while chunk := stream.read(XML_CHUNK):
                read += len(chunk)
                if read > xml_cap:
                    raise Full
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
    except expat.ExpatError as exc:
        raise Unreadable(f"broken: {member}: {exc}") from None
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, KeyError) as exc:
        raise Unreadable(f"broken: {member}: {exc}") from None


def _members(archive: zipfile.ZipFile, pattern: re.Pattern[str]) -> list[str]:
    """Members matching a numbered pattern, in numeric order (slide2 before slide10)."""
    found = [(m.group(0), m.groups()) for m in map(pattern.fullmatch, archive.namelist()) if m]
    return [name for name, groups in sorted(found, key=lambda f: [int(g) if g.isdigit() else g for g in f[1]])]


def _read_docx(path: str, sink: Sink, xml_cap: int) -> None:
    """The body's text runs (w:t), tabs and line breaks, a line per paragraph; then headers and footers, where
    document codes and revision marks usually sit."""
    breaks = {f"{_W} p": "\n", f"{_W} tab": "\t", f"{_W} br": "\n", f"{_W} cr": "\n"}
    with _archive(path) as archive:
        for member in ["word/document.xml", *_members(archive, _PART)]:
            _parse_xml(archive, member, sink, xml_cap, frozenset({f"{_W} t"}), breaks)


def _read_pptx(path: str, sink: Sink, xml_cap: int) -> None:
    """Each slide's text runs (a:t) in slide order, a line per paragraph."""
    breaks = {f"{_A} p": "\n", f"{_A} br": "\n", f"{_A} tab": "\t"}
    with _archive(path) as archive:
        for member in _members(archive, _SLIDE):
            _parse_xml(archive, member, sink, xml_cap, frozenset({f"{_A} t"}), breaks)
            sink.add("\n")


def _read_odf(path: str, sink: Sink, xml_cap: int) -> None:
    """content.xml of a text document, spreadsheet or presentation: the text of paragraphs and headings."""
    breaks = {f"{_ODF_TEXT} p": "\n", f"{_ODF_TEXT} h": "\n", f"{_ODF_TEXT} tab": "\t",
              f"{_ODF_TEXT} line-break": "\n"}
    with _archive(path) as archive:
        _parse_xml(archive, "content.xml", sink, xml_cap, frozenset({f"{_ODF_TEXT} p", f"{_ODF_TEXT} h"}), breaks)


def _read_xlsx(path: str, sink: Sink, _xml_cap: int) -> None:
    """Each sheet's name, then its rows: cells apart by tabs, rows by lines (read-only mode streams the sheet)."""
    with _archive(path):
        pass  # encrypted members are refused before openpyxl sees the package
    stream = open(path, "rb")  # noqa: SIM115 - a file object: openpyxl judges a path by its extension (blobs have none)
    try:
        book = openpyxl.load_workbook(stream, read_only=True, data_only=True)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError, TypeError) as exc:
        stream.close()
        raise Unreadable(f"broken: {exc}") from None
    try:
        for sheet in book.worksheets:
            sink.add(f"{sheet.title}\n")
            for row in sheet.iter_rows(values_only=True):
                cells = ["" if value is None else str(value) for value in row]
                while cells and not cells[-1]:
                    cells.pop()
                if cells:
                    sink.add("\t".join(cells) + "\n")
            sink.add("\n")
    finally:
        book.close()
        stream.close()


def _read_text(path: str, sink: Sink, _xml_cap: int) -> None:
    """UTF-8 (with or without BOM) or UTF-16 with a BOM; anything else as Windows-1252, the usual legacy encoding
    of Spanish files (every byte decodes, an undefined one becomes U+FFFD)."""
    with open(path, "rb") as fh:
        head = fh.read(4)
        fh.seek(0)
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            _decode(fh, "utf-16", "replace", sink)
            return
        try:
            _decode(fh, "utf-8-sig", "strict", Sink(sink.cap))
        except UnicodeDecodeError:
            fh.seek(0)
            _decode(fh, "cp1252", "replace", sink)
            return
        except Full:
            pass
        fh.seek(0)
        _decode(fh, "utf-8-sig", "strict", sink)


def _decode(fh: Any, encoding: str, errors: str, sink: Sink) -> None:
    decoder = codecs.getincrementaldecoder(encoding)(errors=errors)
    while chunk := fh.read(1024 * 1024):
        sink.add(decoder.decode(chunk))
    sink.add(decoder.decode(b"", final=True))


READERS: dict[str, Callable[[str, Sink, int], None]] = {
    "pdf": _read_pdf, "docx": _read_docx, "xlsx": _read_xlsx, "pptx": _read_pptx, "odf": _read_odf,
    "text": _read_text,
}


def extract(job: dict[str, Any]) -> dict[str, Any]:
    """Run one job; every failure is an answer, never an exception."""
    sink = Sink(int(job["cap"]))
    truncated = False
    try:
        READERS[job["kind"]](str(job["path"]), sink, int(job["xml_cap"]))
    except Full:
        truncated = True
    except Unreadable as exc:
        return {"status": "unreadable", "text": "", "truncated": False, "error": str(exc)[:300]}
    except MemoryError:
        return {"status": "too_large", "text": "", "truncated": False, "error": "memory"}
    except Exception as exc:
        return {"status": "unreadable", "text": "", "truncated": False,
                "error": f"broken: {type(exc).__name__}: {exc}"[:300]}
    return {"status": "ok", "text": sink.text(), "truncated": truncated, "error": None}


def serve(jobs: Iterable[str], answer: Callable[[str], None]) -> None:
    """Answer each job line with one JSON line."""
    for line in jobs:
        if line.strip():
            answer(json.dumps(extract(json.loads(line))) + "\n")


def main() -> int:
    """Entry point of the child: cap memory, keep stdout for answers only, serve jobs until stdin closes."""
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # whatever a library prints goes to stderr, never into the answers

    def answer(text: str) -> None:
        out.write(text)
        out.flush()

    serve(sys.stdin, answer)
    return 0


if __name__ == "__main__":
    sys.exit(main())
