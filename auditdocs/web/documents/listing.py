"""The document register's query: filters, sort and pagination over what the user may see."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.orm import selectinload

from ...extensions import db
from ...models import Document, User, document_clauses, text_index
from ...models.documents import DOC_STATUSES, KINDS, REVIEW_ORDER
from ...policy import current_scope
from ...services.counts import Count, count_capped
from ...services.lifecycle import document_state, has_version_in_force
from ...timeutil import local_today
from ..keyset import Keyset
from ..params import int_or_none
from ..placing import placement_filter
from .forms import BulkClauseForm, clause_choices

# Each order is served by an index (see the models): the register's last page costs what its first does.
SORTS: dict[str, Keyset] = {
    "code": Keyset((Document.code,), Document.id),
    "title": Keyset((Document.title, Document.id), Document.id),
    "review": Keyset((REVIEW_ORDER, Document.id), Document.id),
    "newest": Keyset((Document.created_at, Document.id), Document.id, descending=True),
}
PER_PAGE = 25
# The status filter, in the words the badges use: "active" is in force today, from effective dates.
STATUS_FILTERS = ("draft", "approved_future", "active", "obsolete")


def _mapped_to(clause_id: int, conditions: list[ColumnElement[bool]]) -> tuple[ColumnElement[bool], Count]:
    """Condition on Document (mapped to the clause) and the count of the filtered list, each written for the plan
    that stays cheap at any size.

    The count walks the clause's mapping index, probing each document by its key, up to the cap. Under the cap, the
    page lists those documents and sorts them (at most a thousand); past it, at least one document in a hundred
    matches, so the page walks the sort order's index, probes each row and stops after a page (a few thousand key
    lookups at most). PostgreSQL would plan this from statistics; SQLite cannot know what one clause holds."""
    dc = document_clauses
    of_clause = select(dc.c.document_id).where(dc.c.clause_id == clause_id)
    count = count_capped(of_clause.where(exists().where(Document.id == dc.c.document_id, *conditions)))
    if count.capped:
        return exists().where(dc.c.document_id == Document.id, dc.c.clause_id == clause_id), count
    return Document.id.in_(of_clause), count


def register_context(args: Mapping[str, str]) -> dict[str, Any]:
    """Everything the register template needs, from the query string."""
    today = local_today()
    scope = current_scope()
    filters = {k: (args.get(k) or "").strip() for k in ("kind", "status", "clause", "owner", "due", "q", "sort")}
    conditions = [scope.document_condition()]
    if filters["kind"] in KINDS:
        conditions.append(Document.kind == filters["kind"])
    if filters["status"] == "active":  # in force today: the lifecycle's rule, not the stored status
        conditions.append(has_version_in_force(today))
    elif filters["status"] == "approved_future":
        conditions += [Document.status == "active", ~has_version_in_force(today)]
    elif filters["status"] in DOC_STATUSES:
        conditions.append(Document.status == filters["status"])
    if (owner_id := int_or_none(filters["owner"])) is not None:
        conditions.append(Document.owner_id == owner_id)
    if filters["due"] == "1":  # written on the review-order expression, so its index serves the range
        conditions += [Document.status == "active", today > REVIEW_ORDER]
    if filters["q"]:
        conditions.append(text_index.matching(filters["q"][:100], db.session.get_bind().dialect.name))
    placement = placement_filter(args)  # EXISTS probes per row, like the other filters: no parameter per document
    conditions += placement.listed()
    count = None
    if (clause_id := int_or_none(filters["clause"])) is not None:
        mapped, count = _mapped_to(clause_id, conditions)
        conditions.append(mapped)
    stmt = select(Document).where(*conditions)
    sort = filters["sort"] if filters["sort"] in SORTS else ("review" if filters["due"] == "1" else "code")
    stmt = stmt.options(
        selectinload(Document.versions), selectinload(Document.owner), selectinload(Document.clauses),
        selectinload(Document.sites), selectinload(Document.processes))
    page = SORTS[sort].page(stmt, args, PER_PAGE, count)
    # Only owners of documents this user may see: a restricted document's owner is not listed to others. One probe
    # per account (the owner index stops at the first visible document), not a pass over every document.
    owns_visible = exists().where(Document.owner_id == User.id, scope.document_condition())
    owners = db.session.scalars(select(User).where(owns_visible).order_by(User.name))
    choices = clause_choices()
    bulk = BulkClauseForm().fill() if scope.can("map_clauses") else None
    query_args: dict[str, Any] = {k: v for k, v in filters.items() if v}
    query_args.update(placement.args())  # ignored ids are not carried to the next page
    return {"page": page, "filters": filters, "sort": sort, "today": today, "owners": list(owners),
            "placement": placement, "states": {d.id: document_state(d, today) for d in page.items},
            "clause_choices": choices, "bulk_form": bulk, "query_args": query_args,
            "kinds": KINDS, "statuses": STATUS_FILTERS, "may_register": scope.can("upload_documents")}
