"""Fields Word computes when the file is opened: the table of contents and "page X of Y", which python-docx cannot
compute (it does not lay out pages)."""

from __future__ import annotations

from typing import Any

from docx.oxml.ns import qn
from flask_babel import gettext as _

from .docx_styles import TOC_HEADING, paragraph
from .docx_xml import append_to_body, field_runs, parse, run_xml

TOC_INSTRUCTION = r'TOC \o "1-4" \h \z \u'  # heading levels 1-4, as hyperlinks, no page numbers on the web view

# w:settings children that come after w:updateFields in the schema's sequence: Word rejects a settings part whose
# children are out of order, so the flag goes before the first of these present.
_MATH = "{http://schemas.openxmlformats.org/officeDocument/2006/math}"
_SCHEMA_LIBRARY = "{http://schemas.openxmlformats.org/schemaLibrary/2006/main}"
_AFTER_UPDATE_FIELDS = frozenset(
    [qn(f"w:{name}") for name in ("hdrShapeDefaults", "footnotePr", "endnotePr", "compat", "docVars", "rsids",
                                  "attachedSchema", "themeFontLang", "clrSchemeMapping", "doNotIncludeSubdocsInStats",
                                  "doNotAutoCompressPictures", "forceUpgrade", "captions", "readModeInkLockDown",
                                  "smartTagType", "shapeDefaults", "doNotEmbedSmartTags", "decimalSymbol",
                                  "listSeparator")]
    + [f"{_MATH}mathPr", f"{_SCHEMA_LIBRARY}schemaLibrary"])


def add_toc(document: Any) -> None:
    """The "Contents" title and a TOC field whose shown text asks for an update until Word fills it on open."""
    title = paragraph(document, _("Contents"), TOC_HEADING)
    title.paragraph_format.page_break_before = True
    placeholder = _("Right-click to update the table of contents.")
    append_to_body(document, parse(f"<w:p>{field_runs(TOC_INSTRUCTION, placeholder)}</w:p>"))
    update_fields_on_open(document)


def update_fields_on_open(document: Any) -> None:
    """w:updateFields in settings.xml: Word recomputes the TOC and page counts when it opens the file."""
    settings = document.settings.element
    if settings.find(qn("w:updateFields")) is not None:
        return
    flag = parse('<w:updateFields w:val="true"/>')
    later = next((child for child in settings if child.tag in _AFTER_UPDATE_FIELDS), None)
    if later is None:
        settings.append(flag)
    else:
        later.addprevious(flag)


def header_and_footer(document: Any, pack_id: str, generated_on: str) -> None:
    """The pack identifier on top of every page; "auditdocs, generated on …, page X of Y" at the bottom."""
    section = document.sections[0]
    header = section.header
    header.is_linked_to_previous = False
    header.paragraphs[0].text = _("Audit evidence pack %(pack_id)s", pack_id=pack_id)
    footer = section.footer
    footer.is_linked_to_previous = False
    paragraph = footer.paragraphs[0]
    # The sentence is translated whole, then cut where the two numbers go so each becomes a field.
    sentence = _("auditdocs, generated on %(date)s, page %(page)s of %(pages)s", date=generated_on,
                 page="\x00PAGE\x00", pages="\x00NUMPAGES\x00")
    runs = []
    for n, piece in enumerate(sentence.split("\x00")):
        if n % 2:
            runs.append(field_runs(piece, "1"))
        elif piece:
            runs.append(run_xml(piece))
    paragraph._p.extend(parse(f"<w:p>{''.join(runs)}</w:p>").findall(qn("w:r")))
