"""Helpers for the search tests: search as a user (or as everyone) through the app's one search function, list the
index's keys; ids cross app contexts, never ORM objects."""

from __future__ import annotations

from typing import Any

from flask import Flask

from auditdocs.extensions import db
from auditdocs.models import User
from auditdocs.policy import AccessScope
from auditdocs.search import backend
from auditdocs.search.service import search_everything, search_for
from auditdocs.search.types import SearchQuery, SearchResults


def find(app: Flask, user_id: int | None, text: str = "", **query: Any) -> SearchResults:
    """Search as the user (None: everything, as the CLI without --as)."""
    with app.app_context():
        asked = SearchQuery(text=text, **query)
        if user_id is None:
            results = search_everything(asked)
        else:
            results = search_for(AccessScope.of(db.session.get(User, user_id)), asked)
        db.session.remove()
        return results


def keys(results: SearchResults) -> set[str]:
    return {hit.key for hit in results.hits}


def index_keys(app: Flask) -> set[str]:
    with app.app_context():
        return backend().keys()
