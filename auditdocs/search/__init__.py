"""Search adapter (Whoosh behind it); the rest of the app only calls these functions."""

from __future__ import annotations

from flask import current_app


def index_state() -> dict[str, object]:
    """Health of the search index for /healthz."""
    index_dir = current_app.config["INDEX_DIR"]
    if not index_dir.exists():
        return {"status": "absent"}
    return {"status": "ok"}
