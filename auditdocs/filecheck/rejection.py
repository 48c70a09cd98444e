"""A refused upload: a machine code and a translatable message whose values are never run through gettext.

``exc.message`` is the untranslated lazy message (a ``flask_babel`` ``LazyString`` with ``%(name)s``-style
placeholders) and ``exc.params`` its values, kept apart so that ``%`` in a file name cannot break formatting.
``exc.text()`` (same as ``str(exc)``) renders it in the user's language inside a request or app context; it is
plain text, so let Jinja autoescape it. ``exc.code`` is ``"name"``, ``"extension"``, ``"empty"``, ``"content"``,
``"zip_bomb"`` or ``"macro"``.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l


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


def mismatch(name: str, ext: str) -> UploadRejected:
    """Build the standard 'content does not match extension' rejection."""
    return UploadRejected(
        "content",
        _l("The file “%(name)s” is not a valid %(ext)s file: its content does not match its extension."),
        name=name,
        ext=ext.upper(),
    )

