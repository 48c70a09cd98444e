"""The pack's page and its few styles of its own: A4 (the paper of the organisations it serves), the language for
Word's proofing and hyphenation, and compact table text so a 5,000-row annex stays a readable length."""

from __future__ import annotations

from typing import Any

from docx.enum.style import WD_STYLE_TYPE
from docx.oxml.ns import qn
from docx.shared import Pt, Twips

from .docx_xml import clean, parse

PAGE_WIDTH, PAGE_HEIGHT, MARGIN = 11906, 16838, 1134  # twips: A4 with 2 cm margins
TEXT_WIDTH = PAGE_WIDTH - 2 * MARGIN

# Styles the pack adds (name, id): python-docx derives the id from the name by dropping the spaces.
TABLE_TEXT = ("Pack Table Text", "PackTableText")
TABLE_CODE = ("Pack Table Code", "PackTableCode")
TABLE_GRID = "TableGrid"  # the template's "Table Grid": borders on every cell
CAPTION = "Caption"
LIST_BULLET = "ListBullet"
SUBTITLE = "Subtitle"
TOC_HEADING = "TOCHeading"

LANGUAGE_TAGS = {"es": "es-PE", "en": "en-GB"}


def prepare(document: Any, lang: str) -> None:
    """Page size and margins, the body text size, the document language and the table paragraph styles."""
    section = document.sections[0]
    section.page_width, section.page_height = Twips(PAGE_WIDTH), Twips(PAGE_HEIGHT)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Twips(MARGIN))
    section.header_distance = section.footer_distance = Twips(567)
    document.styles["Normal"].font.size = Pt(10)
    _language(document, LANGUAGE_TAGS.get(lang, lang))
    styles = document.styles
    text = styles.add_style(TABLE_TEXT[0], WD_STYLE_TYPE.PARAGRAPH)
    text.base_style = styles["Normal"]
    text.font.size = Pt(8)
    text.paragraph_format.space_before = text.paragraph_format.space_after = Pt(0)
    code = styles.add_style(TABLE_CODE[0], WD_STYLE_TYPE.PARAGRAPH)
    code.base_style = text
    code.font.name = "Courier New"
    code.font.size = Pt(7)
    assert (text.style_id, code.style_id) == (TABLE_TEXT[1], TABLE_CODE[1])


def _language(document: Any, tag: str) -> None:
    """The default run language (spelling, hyphenation, and what a screen reader speaks)."""
    styles = document.styles.element
    defaults = styles.find(qn("w:docDefaults"))
    if defaults is None:
        defaults = parse("<w:docDefaults/>")
        styles.insert(0, defaults)
    rpr_default = defaults.find(qn("w:rPrDefault"))
    if rpr_default is None:
        rpr_default = parse("<w:rPrDefault/>")
        defaults.insert(0, rpr_default)
    rpr = rpr_default.find(qn("w:rPr"))
    if rpr is None:
        rpr = parse("<w:rPr/>")
        rpr_default.append(rpr)
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = parse("<w:lang/>")
        rpr.append(lang)
    lang.set(qn("w:val"), tag)


def paragraph(document: Any, text: str = "", style_id: str | None = None) -> Any:
    """A paragraph in a style given by id: python-docx's lookup by name scans every style of the template for the
    default one on each call (half a second over a pack's headings)."""
    added = document.add_paragraph(clean(text))
    if style_id is not None:
        added._p.style = style_id
    return added


def heading(document: Any, text: str, level: int) -> Any:
    """A built-in heading ("Title" for level 0, "Heading N" otherwise): what the navigation pane and TOC read."""
    return paragraph(document, text, "Title" if level == 0 else f"Heading{level}")
