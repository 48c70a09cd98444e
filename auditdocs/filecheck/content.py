"""Content sniffing: the bytes must be what the extension says (magic numbers, containers, text encodings)."""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from flask_babel import lazy_gettext as _l

from .office import ODF_MIMETYPE, check_container, is_container
from .rejection import UploadRejected, mismatch

TEXT_SNIFF_BYTES = 64 * 1024
MAX_ZIP_ENTRIES = 2000  # the upload's container limits (text extraction applies the same before it opens one)
MAX_ZIP_UNCOMPRESSED = 512 * 1024 * 1024
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
MIME_TYPES: dict[str, str] = {
    "pdf": "application/pdf",
    "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "docm": "application/vnd.ms-word.document.macroEnabled.12",
    "xls": "application/vnd.ms-excel",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "xlsm": "application/vnd.ms-excel.sheet.macroEnabled.12",
    "ppt": "application/vnd.ms-powerpoint",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "pptm": "application/vnd.ms-powerpoint.presentation.macroEnabled.12",
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
    **ODF_MIMETYPE,
}
_HEADER_LINE = re.compile(r"[!-9;-~]+:")  # RFC 5322 field name then a colon
_ALLOWED_CONTROLS = frozenset("\t\n\r\f\v\x1a")

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
    max_zip_entries: int = MAX_ZIP_ENTRIES,
    max_zip_uncompressed: int = MAX_ZIP_UNCOMPRESSED,
) -> str:
    """Verify content matches the extension by magic bytes; return the mime type.

    ``name`` is the display name used in messages (defaults to ``path.name``).
    Of a container only its metadata parts are read (bounded); zip sizes are as
    declared, so code that extracts members must still bound reads.
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
            raise mismatch(shown, ext)
        return MIME_TYPES[ext]
    if is_container(ext):
        check_container(path, shown, ext, max_zip_entries, max_zip_uncompressed)
        return MIME_TYPES[ext]
    truncated = len(head) > TEXT_SNIFF_BYTES
    text = _decode_text(head[:TEXT_SNIFF_BYTES], truncated)
    if text is None or (ext == "eml" and not _looks_like_email(text)):
        raise mismatch(shown, ext)
    return MIME_TYPES[ext]
