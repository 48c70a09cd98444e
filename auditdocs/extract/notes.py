"""What a page says about a version's text: not searchable yet, or why it could not be read, in words."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from .service import statuses

REASONS = {
    "encrypted": _l("the file is protected by a password"),
    "broken": _l("the file is damaged or is not what its type says"),
    "missing": _l("the stored file is missing"),
    "zip_bomb": _l("it would unpack to an unsafe size"),
    "refused": _l("it did not pass the file checks"),
    "memory": _l("reading it needs more memory than allowed"),
    "timeout": _l("reading it took longer than allowed"),
    "crashed": _l("the reader stopped while reading it"),
}


@dataclass(frozen=True)
class TextNote:
    """A note for one blob: "pending", "unreadable" (with the reason) or "unsupported"; readable ones get none."""

    state: str
    reason: str | None = None


def reason(status: str, error: str | None) -> str:
    """The reason in the reader's language: the stored error's code (before any colon) in words."""
    code = (error or status).split(":", 1)[0].strip()
    return str(REASONS.get(code, _l("its content could not be understood")))


def notes(hashes: Iterable[str]) -> dict[str, TextNote]:
    """Notes for the blobs whose text is not searchable (no entry: their text is)."""
    wanted = set(hashes)
    found = statuses(wanted)
    out: dict[str, TextNote] = {}
    for sha in wanted:
        if sha not in found:
            out[sha] = TextNote("pending")
            continue
        status, error = found[sha]
        if status == "unsupported":
            out[sha] = TextNote("unsupported")
        elif status != "ok":
            out[sha] = TextNote("unreadable", reason(status, error))
    return out
