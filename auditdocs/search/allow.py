"""What one person may find: the Allow of their access scope, read from the database when the query runs.

Why here and not in the index: sharing a document, a role change or an approval must change what search shows at
once, without re-indexing anything; every rule stays in policy.AccessScope, this only translates it.
"""

from __future__ import annotations

from ..extensions import db
from ..policy import AccessScope
from .sources_common import OWNER_KIND_GROUP, RECORD_KINDS
from .types import KINDS, Allow


def kinds_of(scope: AccessScope) -> frozenset[str]:
    """The kinds of search results the scope may see at all (its capabilities, as policy names them)."""
    if scope.user_id is None:
        return frozenset()
    kinds = {"version"}
    if scope.can("see_nonconformities"):
        kinds |= {"nonconformity", "corrective_action", "attachment"}
    if scope.can("see_risks"):
        kinds |= {"bribery_risk", "due_diligence", "gift", "attachment"}
    return frozenset(kinds)


def allow_for(scope: AccessScope) -> Allow:
    """The scope as a search filter: none for those who see everything, small for the others, nothing for none."""
    kinds = kinds_of(scope)
    if not kinds:
        return Allow.nothing()
    if scope.can("see_all_restricted") and not scope.approved_only and kinds == frozenset(KINDS):
        return Allow.all()
    hidden = {f"document:{doc_id}" for doc_id in db.session.scalars(scope.hidden_document_ids())}
    if "attachment" in kinds:
        hidden |= {OWNER_KIND_GROUP.format(owner) for owner in RECORD_KINDS if owner not in kinds}
    return Allow(everything=False, kinds=kinds, approved_only=scope.approved_only, hidden=frozenset(hidden))

