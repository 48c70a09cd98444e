"""WordprocessingML written as text and parsed once: python-docx's object API walks the cell grid on every call
(500 table rows took 95 s), while row XML built as strings and parsed in one go is linear (5,000 rows in ~0.1 s)."""

from __future__ import annotations

import re
from typing import Any

from docx.oxml import parse_xml
from docx.oxml.ns import qn

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"

# Characters XML 1.0 forbids (C0 controls but tab, LF and CR; lone surrogates; U+FFFE/U+FFFF): python-docx refuses
# them and Word calls the file corrupt, so a stray byte in a record's text must not reach the package.
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_FORBIDDEN_BUT_NUL = re.compile("[\x01-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

_ROOT_TAG = re.compile(r"<w:[A-Za-z]+")


def clean(text: str) -> str:
    """The text without characters an XML part cannot hold; tabs and line ends normalised."""
    return _FORBIDDEN.sub("", text).replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")


def escape(text: str) -> str:
    """Clean text escaped for an element's content or a double-quoted attribute."""
    return _escape_cleaned(clean(text))


def _escape_cleaned(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def escape_many(texts: list[str]) -> list[str]:
    """escape() of each text, done on them all joined by NUL (which clean() removes) so a table's 60,000 cells take
    a few passes over one string instead of eight calls each."""
    joined = "\x00".join(texts)
    if joined.count("\x00") != max(len(texts) - 1, 0):  # a text held a NUL of its own
        return [escape(text) for text in texts]
    joined = _FORBIDDEN_BUT_NUL.sub("", joined).replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    return _escape_cleaned(joined).split("\x00") if texts else []


def run_xml(text: str, *, bold: bool = False, italic: bool = False) -> str:
    """One run; line breaks inside the text become w:br (one paragraph keeps the cell's spacing)."""
    props = ("<w:b/>" if bold else "") + ("<w:i/>" if italic else "")
    rpr = f"<w:rPr>{props}</w:rPr>" if props else ""
    lines = escape(text).split("\n")
    body = "<w:br/>".join(f'<w:t xml:space="preserve">{line}</w:t>' if line else "" for line in lines)
    return f"<w:r>{rpr}{body}</w:r>" if body else ""


def field_runs(instruction: str, placeholder: str) -> str:
    """A complex field (begin, instruction, separate, shown result, end) that Word and LibreOffice recompute."""
    return ('<w:r><w:fldChar w:fldCharType="begin" w:dirty="true"/></w:r>'
            f'<w:r><w:instrText xml:space="preserve"> {escape(instruction)} </w:instrText></w:r>'
            '<w:r><w:fldChar w:fldCharType="separate"/></w:r>'
            f"{run_xml(placeholder)}"
            '<w:r><w:fldChar w:fldCharType="end"/></w:r>')


def parse(fragment: str) -> Any:
    """One element from WordprocessingML text whose root is a w: element, as python-docx's own element classes."""
    tag = _ROOT_TAG.match(fragment)
    if tag is None:
        raise ValueError("a WordprocessingML fragment starts with a w: element")
    return parse_xml(f'{fragment[: tag.end()]} xmlns:w="{W_NS}"{fragment[tag.end():]}')


def append_to_body(document: Any, element: Any) -> None:
    """Add a block (w:p or w:tbl) at the end of the body, before its final section properties."""
    body = document.element.body
    sect_pr = body.find(qn("w:sectPr"))
    if sect_pr is None:
        body.append(element)
    else:
        sect_pr.addprevious(element)
