"""OOXML packages (.docx, .xlsx, .pptx and their macro-enabled twins): what the package declares it is, and whether
it carries active content.

Read: [Content_Types].xml, every *.rels part (bounded in size, each and together) — never a document body. Refused:
a package whose parts are ambiguous (two members, Overrides or office-document relationships differing only in
case), a main part whose declared type is not the one the extension promises (a .docm renamed .docx is named as
such), and in a macro-free format any VBA project, macro sheet, ActiveX control or template fetched from outside.
"""

from __future__ import annotations

import codecs
import zipfile
from collections.abc import Iterator
from xml.etree import ElementTree

from flask_babel import lazy_gettext as _l

from .rejection import UploadRejected, mismatch

METADATA_MAX = 1024 * 1024  # one [Content_Types].xml or .rels part (a few kB in real files)
RELS_TOTAL_MAX = 8 * 1024 * 1024  # all .rels parts together
ZIP_ERRORS = (zipfile.BadZipFile, OSError, EOFError, ValueError, KeyError, RuntimeError)

# Extension -> (conventional main part, the main part's declared content type).
OOXML: dict[str, tuple[str, str]] = {
    "docx": ("word/document.xml", "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"),
    "docm": ("word/document.xml", "application/vnd.ms-word.document.macroEnabled.main+xml"),
    "xlsx": ("xl/workbook.xml", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"),
    "xlsm": ("xl/workbook.xml", "application/vnd.ms-excel.sheet.macroEnabled.main+xml"),
    "pptx": ("ppt/presentation.xml",
             "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"),
    "pptm": ("ppt/presentation.xml", "application/vnd.ms-powerpoint.presentation.macroEnabled.main+xml"),
}
MACRO_ENABLED = {"docm": "docx", "xlsm": "xlsx", "pptm": "pptx"}  # macro-enabled format -> its macro-free twin
_OFFICE_DOCUMENT = ("http://schemas.openxmlformats.org/officedocument/2006/relationships/officedocument",
                    "http://purl.oclc.org/ooxml/officedocument/relationships/officedocument")
# Content types and part names of active content: VBA projects and their signatures, Word's VBA data, Excel 4
# macro sheets, ActiveX controls.
_ACTIVE_TYPES = ("vbaproject", "vbadata", "macrosheet", "activex")
_ACTIVE_PARTS = ("vbaproject.bin", "vbadata.xml", "/activex/", "/macrosheets/")
_CT_NS = "{http://schemas.openxmlformats.org/package/2006/content-types}"
_REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"


def active_content(name: str, ext: str) -> UploadRejected:
    """The refusal for macros or other active content in a format that must not carry them."""
    return UploadRejected(
        "macro",
        _l("The file “%(name)s” contains macros or other active content (such as ActiveX controls or a template "
           "loaded from the internet), which a .%(ext)s file must not carry. Save it without them, or as PDF, and "
           "upload it again."),
        name=name, ext=ext)


def disguised(name: str, ext: str, real: str) -> UploadRejected:
    """The refusal for a macro-enabled document saved under a macro-free extension."""
    return UploadRejected(
        "macro",
        _l("The file “%(name)s” is a macro-enabled document (.%(real)s) saved with the extension .%(ext)s. Files "
           "with macros are not accepted under another extension: save it as a .%(ext)s without macros, or as PDF, "
           "and upload it again."),
        name=name, real=real, ext=ext)


def _type(value: str | None) -> str:
    """A content type as OPC compares it: no parameters, no spaces, lower case."""
    return (value or "").split(";")[0].strip().lower()


def _members(archive: zipfile.ZipFile, name: str, ext: str) -> dict[str, zipfile.ZipInfo]:
    """Members by case-folded name; two members that differ only in case make the package ambiguous."""
    members: dict[str, zipfile.ZipInfo] = {}
    for info in archive.infolist():
        key = info.filename.casefold()
        if key in members:
            raise mismatch(name, ext)
        members[key] = info
    return members


def _no_dtd(data: bytes) -> bool:
    """True when the XML declares no DTD or entity, in whichever encoding it is written."""
    text = data.decode("utf-16", "replace") if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) \
        else data.decode("latin-1")
    upper = text.upper()
    return "<!DOCTYPE" not in upper and "<!ENTITY" not in upper


def _xml(archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, ext: str) -> ElementTree.Element:
    """A small metadata part parsed safely; a mismatch when oversized, with a DTD, or malformed."""
    if info.file_size > METADATA_MAX:
        raise mismatch(name, ext)
    try:
        with archive.open(info) as fh:
            data = fh.read(METADATA_MAX + 1)
        if len(data) > METADATA_MAX or not _no_dtd(data):
            raise mismatch(name, ext)
        return ElementTree.fromstring(data)  # noqa: S314 - bounded, DTDs refused above
    except (*ZIP_ERRORS, ElementTree.ParseError):
        raise mismatch(name, ext) from None


def _relationships(archive: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo], name: str,
                   ext: str) -> Iterator[tuple[str, ElementTree.Element]]:
    """(rels part, relationship) for every relationship of every .rels part, within the reading bounds."""
    total = 0
    for key, info in members.items():
        if not key.endswith(".rels"):
            continue
        total += info.file_size
        if total > RELS_TOTAL_MAX:
            raise mismatch(name, ext)
        for rel in _xml(archive, info, name, ext).iter(f"{_REL_NS}Relationship"):
            yield key, rel


def check_ooxml(archive: zipfile.ZipFile, name: str, ext: str) -> None:
    """The main part is unambiguous and declares exactly the type the extension promises; a macro-free format
    carries no active content."""
    members = _members(archive, name, ext)
    types_info, package_rels = members.get("[content_types].xml"), members.get("_rels/.rels")
    if types_info is None or package_rels is None:
        raise mismatch(name, ext)
    types = _xml(archive, types_info, name, ext)
    overrides: dict[str, str] = {}
    for override in types.iter(f"{_CT_NS}Override"):
        part = (override.get("PartName") or "").lstrip("/").casefold()
        if part in overrides:
            raise mismatch(name, ext)
        overrides[part] = _type(override.get("ContentType"))
    defaults = {(d.get("Extension") or "").casefold(): _type(d.get("ContentType"))
                for d in types.iter(f"{_CT_NS}Default")}

    mains, active = [], False
    for source, rel in _relationships(archive, members, name, ext):
        kind, external = (rel.get("Type") or "").casefold(), rel.get("TargetMode") == "External"
        if source == "_rels/.rels" and kind in _OFFICE_DOCUMENT and not external:
            mains.append((rel.get("Target") or "").lstrip("/").casefold())
        active = active or "vbaproject" in kind or (external and kind.endswith("/attachedtemplate"))
    if len(mains) != 1 or mains[0] not in members:
        raise mismatch(name, ext)
    main = mains[0]
    declared = overrides.get(main) or defaults.get(main.rpartition(".")[2], "")
    if declared != OOXML[ext][1].lower():
        real = next((e for e, (_part, ct) in OOXML.items() if ct.lower() == declared), None)
        if real in MACRO_ENABLED:
            raise disguised(name, ext, real)
        raise mismatch(name, ext)
    declared_types = [*overrides.values(), *defaults.values()]
    active = active or any(word in ct for ct in declared_types for word in _ACTIVE_TYPES) or \
        any(marker in f"/{key}" for key in members for marker in _ACTIVE_PARTS)
    if active and ext not in MACRO_ENABLED:
        raise active_content(name, ext)
