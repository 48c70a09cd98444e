"""Office containers (OOXML and ODF): zip-bomb limits first, then what the package declares (ooxml.py) or the ODF
`mimetype` and macro libraries.

Why: a macro-enabled document renamed `.docx` looks like an ordinary one to a person and to a viewer, and opens
with its macros. Only small metadata parts are read, bounded in size; no document body is ever parsed.

Rule: macros are accepted only in a macro-enabled format whose extension says so (.docm, .xlsm, .pptm) and only
where an administrator has added that extension to the allow-list; never inside a file named as a macro-free
format, and never in an ODF document (ODF has no extension that announces macros).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from flask_babel import lazy_gettext as _l

from .ooxml import OOXML, ZIP_ERRORS, active_content, check_ooxml
from .rejection import UploadRejected, mismatch

ZIP_RATIO_LIMIT = 200
ZIP_RATIO_MIN_SIZE = 10 * 1024 * 1024

ODF_MIMETYPE = {
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "odp": "application/vnd.oasis.opendocument.presentation",
}
_ODF_LIBRARY_INDEXES = ("script-lc.xml", "dialog-lc.xml", "script-lb.xml", "dialog-lb.xml")


def is_container(ext: str) -> bool:
    """True for the formats this module checks."""
    return ext in OOXML or ext in ODF_MIMETYPE


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
                leaf.rpartition("/")[2] not in _ODF_LIBRARY_INDEXES:
            raise active_content(name, ext)


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
