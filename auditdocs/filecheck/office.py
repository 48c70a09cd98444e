"""Office containers (OOXML and ODF): zip-bomb limits, the declared type of the main part, and macros.

Why: a macro-enabled document renamed `.docx` looks like an ordinary one to a person and to a viewer, and opens
with its macros. Only the container's small metadata parts are read ([Content_Types].xml, _rels/.rels, the ODF
`mimetype`), each bounded in size and refused if it declares a DTD; no document body is ever parsed.

Rule: macros are accepted only in a macro-enabled format whose extension says so (.docm, .xlsm, .pptm) and only
where an administrator has added that extension to the allow-list; never inside a file named as a macro-free
format, and never in an ODF document (ODF has no extension that announces macros).
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from xml.etree import ElementTree

from flask_babel import lazy_gettext as _l

from .rejection import UploadRejected, mismatch

ZIP_RATIO_LIMIT = 200
ZIP_RATIO_MIN_SIZE = 10 * 1024 * 1024
METADATA_MAX = 1024 * 1024  # [Content_Types].xml and _rels/.rels are a few kB in real files
# Anything zipfile may raise on corrupt/encrypted/odd archives (KeyError: missing member).
ZIP_ERRORS = (zipfile.BadZipFile, OSError, EOFError, ValueError, KeyError, RuntimeError)

_WORD, _EXCEL, _POWERPOINT = "Word document", "Excel workbook", "PowerPoint presentation"
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
ODF_MIMETYPE = {
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "odp": "application/vnd.oasis.opendocument.presentation",
}
_OFFICE_DOCUMENT = ("http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument",
                    "http://purl.oclc.org/ooxml/officeDocument/relationships/officeDocument")
_VBA_CONTENT_TYPE = "application/vnd.ms-office.vbaproject"
_CT_NS = "{http://schemas.openxmlformats.org/package/2006/content-types}"
_REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"


def is_container(ext: str) -> bool:
    """True for the formats this module checks."""
    return ext in OOXML or ext in ODF_MIMETYPE


def _macro_refusal(name: str, ext: str, disguised_as: str | None = None) -> UploadRejected:
    if disguised_as:
        return UploadRejected(
            "macro",
            _l("The file “%(name)s” is a macro-enabled document (.%(real)s) saved with the extension "
               ".%(ext)s. Files with macros are not accepted under another extension: save it as a .%(ext)s "
               "without macros, or as PDF, and upload it again."),
            name=name, real=disguised_as, ext=ext)
    return UploadRejected(
        "macro",
        _l("The file “%(name)s” contains macros, which a .%(ext)s file must not carry. Save it without macros, "
           "or as PDF, and upload it again."),
        name=name, ext=ext)


def open_checked(path: Path, name: str, ext: str, max_entries: int, max_uncompressed: int) -> zipfile.ZipFile:
    """Open a zip and refuse bombs before any member is read."""
    try:
        archive = zipfile.ZipFile(path)
    except ZIP_ERRORS:
        raise mismatch(name, ext) from None
    try:
        infos = archive.infolist()
        bomb = len(infos) > max_entries or sum(i.file_size for i in infos) > max_uncompressed
        bomb = bomb or any(
            i.file_size > ZIP_RATIO_LIMIT * i.compress_size and i.file_size > ZIP_RATIO_MIN_SIZE for i in infos
        )
        if bomb:
            raise UploadRejected(
                "zip_bomb",
                _l("The file “%(name)s” was refused because it would unpack to too many files or to an unsafe "
                   "size. Please check the file and upload it again."),
                name=name,
            )
    except BaseException:
        archive.close()
        raise
    return archive


def _metadata(archive: zipfile.ZipFile, member: str, name: str, ext: str) -> ElementTree.Element | None:
    """A small XML part parsed safely: None when absent; a mismatch when oversized, with a DTD, or malformed."""
    try:
        info = archive.getinfo(member)
    except KeyError:
        return None
    if info.file_size > METADATA_MAX:
        raise mismatch(name, ext)
    try:
        with archive.open(info) as fh:
            data = fh.read(METADATA_MAX + 1)
        if len(data) > METADATA_MAX or b"<!DOCTYPE" in data.upper() or b"<!ENTITY" in data.upper():
            raise mismatch(name, ext)
        return ElementTree.fromstring(data)  # noqa: S314 - bounded, DTDs refused above
    except (*ZIP_ERRORS, ElementTree.ParseError):
        raise mismatch(name, ext) from None


def _main_part(archive: zipfile.ZipFile, name: str, ext: str) -> str:
    """The part the package's relationships name as the office document (else the conventional one)."""
    rels = _metadata(archive, "_rels/.rels", name, ext)
    if rels is not None:
        for rel in rels.iter(f"{_REL_NS}Relationship"):
            if rel.get("Type") in _OFFICE_DOCUMENT and rel.get("TargetMode") != "External":
                return (rel.get("Target") or "").lstrip("/")
    return OOXML[ext][0]


def _content_types(archive: zipfile.ZipFile, name: str, ext: str) -> tuple[dict[str, str], dict[str, str]]:
    """([Content_Types].xml overrides by part name, defaults by extension), both lower-cased (OPC compares so)."""
    root = _metadata(archive, "[Content_Types].xml", name, ext)
    if root is None:
        raise mismatch(name, ext)
    overrides = {(o.get("PartName") or "").lstrip("/").lower(): (o.get("ContentType") or "").lower()
                 for o in root.iter(f"{_CT_NS}Override")}
    defaults = {(d.get("Extension") or "").lower(): (d.get("ContentType") or "").lower()
                for d in root.iter(f"{_CT_NS}Default")}
    return overrides, defaults


def check_ooxml(archive: zipfile.ZipFile, name: str, ext: str) -> None:
    """The main part exists and declares exactly the type the extension promises; no macros in a macro-free file."""
    main = _main_part(archive, name, ext)
    members = {n.lower(): n for n in archive.namelist()}
    if main.lower() not in members:
        raise mismatch(name, ext)
    overrides, defaults = _content_types(archive, name, ext)
    declared = overrides.get(main.lower()) or defaults.get(main.rpartition(".")[2].lower(), "")
    expected = OOXML[ext][1].lower()
    if declared != expected:
        real = next((e for e, (_part, ct) in OOXML.items() if ct.lower() == declared), None)
        if real in MACRO_ENABLED:
            raise _macro_refusal(name, ext, disguised_as=real)
        raise mismatch(name, ext)
    has_vba = any(n.rpartition("/")[2] == "vbaproject.bin" for n in members) or \
        _VBA_CONTENT_TYPE in overrides.values() or _VBA_CONTENT_TYPE in defaults.values()
    if has_vba and ext not in MACRO_ENABLED:
        raise _macro_refusal(name, ext)


def check_odf(archive: zipfile.ZipFile, name: str, ext: str) -> None:
    """The `mimetype` member names this format; no Basic or script macros (ODF has no macro-announcing extension)."""
    try:
        info = archive.getinfo("mimetype")
        if info.file_size > 200:
            raise mismatch(name, ext)
        with archive.open(info) as member:
            declared = member.read(201).decode("ascii").strip()
    except ZIP_ERRORS:
        raise mismatch(name, ext) from None
    if declared != ODF_MIMETYPE[ext]:
        raise mismatch(name, ext)
    for member_name in archive.namelist():
        folder, _sep, leaf = member_name.partition("/")
        if folder in ("Basic", "Scripts") and leaf and not leaf.endswith("/") and \
                leaf.rpartition("/")[2] not in ("script-lc.xml", "dialog-lc.xml", "script-lb.xml", "dialog-lb.xml"):
            raise _macro_refusal(name, ext)


def check_container(path: Path, name: str, ext: str, max_entries: int, max_uncompressed: int) -> None:
    """Refuse junk-prefixed polyglots, zip bombs, type disguises and smuggled macros."""
    with path.open("rb") as fh:
        if fh.read(4) != b"PK\x03\x04":
            raise mismatch(name, ext)
    with open_checked(path, name, ext, max_entries, max_uncompressed) as archive:
        if ext in OOXML:
            check_ooxml(archive, name, ext)
        else:
            check_odf(archive, name, ext)
