"""Search adapter: the rest of the app calls `backend()` (a SearchBackend) and `index_state()`, never Whoosh."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from flask import current_app

from .backend import SearchBackend
from .whoosh_backend import WhooshBackend

EXTENSION = "auditdocs.search"


def backend() -> SearchBackend:
    """The app's one backend, created on first use and shared by every thread (it keeps a searcher per thread)."""
    found: SearchBackend | None = current_app.extensions.get(EXTENSION)
    if found is None:
        found = current_app.extensions.setdefault(EXTENSION, WhooshBackend(Path(current_app.config["INDEX_DIR"])))
    return found


def index_state() -> dict[str, object]:
    """Health of the search index for /healthz (never raises)."""
    health = backend().health()
    state = asdict(health)
    state.pop("path", None)
    state["needs_rebuild"] = health.needs_rebuild
    return state
