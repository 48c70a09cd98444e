"""Store commands: verify, checkpoint, gc, backup, restore, import (added with controlled documents)."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    """Nothing yet."""
    return None
