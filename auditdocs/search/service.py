"""Search as the app asks it: the person's scope becomes an Allow (from the database, now) and the backend answers.

Why one function: the page, the JSON endpoint and `auditdocs search --as` must apply the same permission rules.
"""

from __future__ import annotations

from ..policy import AccessScope
from . import backend
from .allow import allow_for
from .types import Allow, SearchQuery, SearchResults


def search_for(scope: AccessScope, query: SearchQuery) -> SearchResults:
    """The results this scope may see; IndexUnavailable (503) propagates for the caller to answer."""
    return backend().search(query, allow_for(scope))


def search_everything(query: SearchQuery) -> SearchResults:
    """Everything, unfiltered: the command line without --as (it says so)."""
    return backend().search(query, Allow.all())
