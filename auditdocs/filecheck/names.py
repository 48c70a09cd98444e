"""Client file names: cleaned for display (never used as a path) and checked against the allow-list by extension."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from flask_babel import lazy_gettext as _l

from .rejection import UploadRejected

DEFAULT_ALLOWED = (
    "pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "odt", "ods", "odp", "rtf",
    "txt", "csv", "md", "png", "jpg", "jpeg", "tif", "tiff", "eml", "msg",
)  # fmt: skip

MAX_NAME_LENGTH = 255
# Cc/Cf: control and format chars (NUL, newlines, bidi overrides, zero-width);
# Zl/Zp: line/paragraph separators; Cs: lone surrogates from broken decoding.
_DROP_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})

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

