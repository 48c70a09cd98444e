"""The document register's query: filters, sort and pagination over what the user may see."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import UnaryExpression, or_, select
from sqlalchemy.orm import selectinload

from ...extensions import db
from ...models import Document, User, document_clauses
from ...models.documents import DOC_STATUSES, KINDS
from ...policy import current_scope
from ...timeutil import local_today
from ..params import int_or_none
from .forms import BulkClauseForm, clause_choices

SORTS: dict[str, UnaryExpression[Any]] = {
    "code": Document.code.asc(),
    "title": Document.title.asc(),
    "review": Document.next_review_date.asc(),
    "newest": Document.created_at.desc(),
}
PER_PAGE = 25


def register_context(args: Mapping[str, str]) -> dict[str, Any]:
    """Everything the register template needs, from the query string."""
    today = local_today()
    scope = current_scope()
    filters = {k: (args.get(k) or "").strip() for k in ("kind", "status", "clause", "owner", "due", "q", "sort")}
    stmt = scope.visible_documents()
    if filters["kind"] in KINDS:
        stmt = stmt.where(Document.kind == filters["kind"])
    if filters["status"] in DOC_STATUSES:
        stmt = stmt.where(Document.status == filters["status"])
    if (clause_id := int_or_none(filters["clause"])) is not None:
        stmt = stmt.where(Document.id.in_(
            select(document_clauses.c.document_id).where(document_clauses.c.clause_id == clause_id)))
    if (owner_id := int_or_none(filters["owner"])) is not None:
        stmt = stmt.where(Document.owner_id == owner_id)
    if filters["due"] == "1":
        stmt = stmt.where(Document.status == "active", Document.next_review_date < today)
    if filters["q"]:
        like = f"%{filters['q'][:100].replace('%', '').replace('_', '')}%"
        stmt = stmt.where(or_(Document.code.ilike(like), Document.title.ilike(like)))
    sort = filters["sort"] if filters["sort"] in SORTS else "code"
    stmt = stmt.order_by(SORTS[sort], Document.id).options(
        selectinload(Document.current_version), selectinload(Document.owner), selectinload(Document.clauses))
    page = db.paginate(stmt, page=int_or_none(args.get("page")) or 1, per_page=PER_PAGE, error_out=False)
    # Only owners of documents this user may see: a restricted document's owner is not listed to others.
    visible_owner_ids = scope.visible_documents().with_only_columns(Document.owner_id)
    owners = db.session.scalars(select(User).where(User.id.in_(visible_owner_ids)).order_by(User.name))
    choices = clause_choices()  # one query serves the filter and the bulk-mapping select
    bulk = BulkClauseForm().fill(choices) if scope.can("map_clauses") else None
    query_args = {k: v for k, v in filters.items() if v}
    return {"page": page, "filters": filters, "sort": sort, "today": today, "owners": list(owners),
            "clause_choices": choices, "bulk_form": bulk, "query_args": query_args,
            "kinds": KINDS, "statuses": DOC_STATUSES, "may_register": scope.can("upload_documents")}
