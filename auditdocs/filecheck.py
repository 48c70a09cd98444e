"""Upload validation: names, extensions and content sniffing.

Why: hostile or mislabelled files must be refused with a clear, translatable
message before any parser touches them.

Rendering a rejection: ``UploadRejected`` keeps the untranslated lazy message
(``exc.message``, a ``flask_babel`` ``LazyString`` with ``%(name)s``-style
placeholders) and its values (``exc.params``, a dict) separately, so values
such as file names are never run through gettext and ``%`` in a file name
cannot break formatting.  Call ``exc.text()`` (same as ``str(exc)``) inside a
request/app context to get the message translated into the user's language;
it is plain text, so let Jinja autoescape it.  ``exc.code`` is a short
machine string: ``"name"``, ``"extension"``, ``"empty"``, ``"content"`` or
``"zip_bomb"``.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from flask_babel import lazy_gettext as _l

DEFAULT_ALLOWED = (
    "pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "odt", "ods", "odp", "rtf",
    "txt", "csv", "md", "png", "jpg", "jpeg", "tif", "tiff", "eml", "msg",
)  # fmt: skip

MAX_NAME_LENGTH = 255
TEXT_SNIFF_BYTES = 64 * 1024
ZIP_RATIO_LIMIT = 200
ZIP_RATIO_MIN_SIZE = 10 * 1024 * 1024

# Cc/Cf: control and format chars (NUL, newlines, bidi overrides, zero-width);
# Zl/Zp: line/paragraph separators; Cs: lone surrogates from broken decoding.
_DROP_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_MAGIC: dict[str, tuple[bytes, ...]] = {
    "pdf": (b"%PDF-",),
    "png": (b"\x89PNG\r\n\x1a\n",),
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
    "tif": (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"),  # classic + BigTIFF
    "tiff": (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"),
    "doc": (_OLE2,),
    "xls": (_OLE2,),
    "ppt": (_OLE2,),
    "msg": (_OLE2,),
    "rtf": (b"{\\rtf",),
}
_OOXML_MAIN_PART = {
    "docx": "word/document.xml",
    "xlsx": "xl/workbook.xml",
    "pptx": "ppt/presentation.xml",
}
_ODF_MIMETYPE = {
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "odp": "application/vnd.oasis.opendocument.presentation",
}
_TEXT_EXTENSIONS = frozenset({"txt", "csv", "md", "eml"})
MIME_TYPES: dict[str, str] = {
    "pdf": "application/pdf",
    "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xls": "application/vnd.ms-excel",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ppt": "application/vnd.ms-powerpoint",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "msg": "application/vnd.ms-outlook",
    "rtf": "application/rtf",
    "txt": "text/plain",
    "csv": "text/csv",
    "md": "text/markdown",
    "eml": "message/rfc822",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "tif": "image/tiff",
    "tiff": "image/tiff",
    **_ODF_MIMETYPE,
}
_HEADER_LINE = re.compile(r"[!-9;-~]+:")  # RFC 5322 field name then a colon
_ALLOWED_CONTROLS = frozenset("\t\n\r\f\v\x1a")
# Anything zipfile may raise on corrupt/encrypted/odd archives (KeyError: missing member).
_ZIP_ERRORS = (zipfile.BadZipFile, OSError, EOFError, ValueError, KeyError, RuntimeError)


class UploadRejected(Exception):
    """A refused upload, carrying a machine code and a translatable message."""

    def __init__(self, code: str, message: Any, **params: Any) -> None:
        """Keep code, lazy message and params apart so rendering happens per request."""
        super().__init__(code)
        self.code = code
        self.message = message
        self.params: dict[str, Any] = params

    def text(self) -> str:
        """Return the message translated for the current locale, params filled in."""
        return str(self.message) % self.params

    def __str__(self) -> str:
        """Show the human message in logs and tracebacks."""
        return self.text()


def _clean_name(raw: str | None) -> str:
    """Sanitise a client file name; "" when nothing usable remains."""
    if not raw:
        return ""
    name = unicodedata.normalize("NFC", str(raw))
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch) not in _DROP_CATEGORIES)
    name = name.strip()
    if not name.replace(".", "").strip():
        return ""
    if len(name) > MAX_NAME_LENGTH:
        stem, dot, ext = name.rpartition(".")
        if dot and stem and len(ext) <= 16:
            name = stem[: MAX_NAME_LENGTH - len(ext) - 1].rstrip() + "." + ext
        else:
            name = name[:MAX_NAME_LENGTH].rstrip()
    return name


def display_name(raw: str | None) -> str:
    """Make a client file name safe to show (never to use as a path)."""
    return _clean_name(raw) or "unnamed"


def extension_of(name: str) -> str:
    """Return the lowercase extension without dot ("" for none or dotfiles)."""
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem.strip("."):
        return ""
    return ext.lower()


def _allowed_text(allowed: Iterable[str]) -> tuple[set[str], str]:
    """Normalise the allow-list and render it for messages."""
    ordered = list(dict.fromkeys(a.strip().lstrip(".").lower() for a in allowed))
    return set(ordered), ", ".join(ordered)


def check_name(raw_name: str | None, allowed: Iterable[str]) -> tuple[str, str]:
    """Validate the client name by its sanitised extension; return (display name, ext)."""
    allowed_set, allowed_text = _allowed_text(allowed)
    name = _clean_name(raw_name)
    if not name:
        raise UploadRejected("name", _l("The uploaded file has no usable file name."))
    ext = extension_of(name)
    if not ext:
        raise UploadRejected(
            "extension",
            _l("The file “%(name)s” has no file extension. Allowed file types: %(allowed)s."),
            name=name,
            allowed=allowed_text,
        )
    if ext not in allowed_set:
        raise UploadRejected(
            "extension",
            _l("Files of type “.%(ext)s” are not accepted (“%(name)s”). Allowed file types: %(allowed)s."),
            name=name,
            ext=ext,
            allowed=allowed_text,
        )
    return name, ext


def _mismatch(name: str, ext: str) -> UploadRejected:
    """Build the standard 'content does not match extension' rejection."""
    return UploadRejected(
        "content",
        _l("The file “%(name)s” is not a valid %(ext)s file: its content does not match its extension."),
        name=name,
        ext=ext.upper(),
    )


def _check_zip(path: Path, name: str, ext: str, max_entries: int, max_uncompressed: int) -> zipfile.ZipFile:
    """Open a zip and refuse bombs before any member is read."""
    try:
        archive = zipfile.ZipFile(path)
    except _ZIP_ERRORS:
        raise _mismatch(name, ext) from None
    try:
        infos = archive.infolist()
        bomb = len(infos) > max_entries or sum(i.file_size for i in infos) > max_uncompressed
        bomb = bomb or any(
            i.file_size > ZIP_RATIO_LIMIT * i.compress_size and i.file_size > ZIP_RATIO_MIN_SIZE
            for i in infos
        )
        if bomb:
            raise UploadRejected(
                "zip_bomb",
                _l(
                    "The file “%(name)s” was refused because it would unpack to too many "
                    "files or to an unsafe size. Please check the file and upload it again."
                ),
                name=name,
            )
    except BaseException:
        archive.close()
        raise
    return archive


def _zip_mime(path: Path, name: str, ext: str, max_entries: int, max_uncompressed: int) -> str:
    """Check OOXML/ODF containers by their required parts."""
    with path.open("rb") as fh:
        if fh.read(4) != b"PK\x03\x04":  # refuse junk-prefixed polyglots
            raise _mismatch(name, ext)
    with _check_zip(path, name, ext, max_entries, max_uncompressed) as archive:
        names = set(archive.namelist())
        if ext in _OOXML_MAIN_PART:
            if "[Content_Types].xml" not in names or _OOXML_MAIN_PART[ext] not in names:
                raise _mismatch(name, ext)
        else:
            try:
                info = archive.getinfo("mimetype")
                if info.file_size > 200:
                    raise _mismatch(name, ext)
                with archive.open(info) as member:
                    declared = member.read(201).decode("ascii").strip()
            except _ZIP_ERRORS:
                raise _mismatch(name, ext) from None
            if declared != _ODF_MIMETYPE[ext]:
                raise _mismatch(name, ext)
    return MIME_TYPES[ext]


def _decode_text(head: bytes, truncated: bool) -> str | None:
    """Decode a text sample as UTF-8/16 (with BOM) or cp1252/latin-1; None if binary."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings: tuple[str, ...] = ("utf-16",)
    elif b"\x00" in head:
        return None
    else:
        encodings = ("utf-8-sig", "cp1252", "latin-1")
    for encoding in encodings:
        try:
            decoder = codecs.getincrementaldecoder(encoding)()
            text = decoder.decode(head, final=not truncated)
        except UnicodeDecodeError:
            continue
        if "\x00" in text:
            return None
        controls = sum(1 for ch in text if ch < " " and ch not in _ALLOWED_CONTROLS)
        controls += sum(1 for ch in text if "\x7f" <= ch <= "\x9f")
        if controls * 100 > len(text):  # more than 1 % control chars: binary
            continue
        return text
    return None


def _looks_like_email(text: str) -> bool:
    """Leniently check that a text starts with RFC 5322 style headers."""
    lines = text.splitlines()[:50]
    while lines and not lines[0].strip():
        lines.pop(0)
    if not lines:
        return False
    if lines[0].startswith("From "):  # mbox separator line
        lines.pop(0)
    return any(_HEADER_LINE.match(line) for line in lines[:20] if line.strip())


def sniff(
    path: Path,
    ext: str,
    *,
    name: str | None = None,
    max_zip_entries: int = 2000,
    max_zip_uncompressed: int = 512 * 1024 * 1024,
) -> str:
    """Verify content matches the extension by magic bytes; return the mime type.

    ``name`` is the display name used in messages (defaults to ``path.name``).
    Only zip metadata and the tiny ODF ``mimetype`` member are ever read; zip
    sizes are as declared, so code that extracts members must still bound reads.
    """
    path = Path(path)
    ext = ext.strip().lstrip(".").lower()
    shown = name if name is not None else path.name
    if ext not in MIME_TYPES:
        raise UploadRejected(
            "extension",
            _l("Files of type “.%(ext)s” cannot be checked and are not accepted (“%(name)s”)."),
            name=shown,
            ext=ext,
        )
    with path.open("rb") as fh:
        head = fh.read(TEXT_SNIFF_BYTES + 1)
    if not head:
        raise UploadRejected("empty", _l("The file “%(name)s” is empty."), name=shown)
    if ext in _MAGIC:
        if not head.startswith(_MAGIC[ext]):
            raise _mismatch(shown, ext)
        return MIME_TYPES[ext]
    if ext in _OOXML_MAIN_PART or ext in _ODF_MIMETYPE:
        return _zip_mime(path, shown, ext, max_zip_entries, max_zip_uncompressed)
    truncated = len(head) > TEXT_SNIFF_BYTES
    text = _decode_text(head[:TEXT_SNIFF_BYTES], truncated)
    if text is None or (ext == "eml" and not _looks_like_email(text)):
        raise _mismatch(shown, ext)
    return MIME_TYPES[ext]
