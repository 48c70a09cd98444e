"""`auditdocs import DIR`: move a shared drive into the register (written with controlled documents)."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    """Nothing yet."""
    return None
