"""Where documents belong: the site-tree walk and the filters "concerns this site / this process".

Why one module: the register, the clause pages, the gap view, site sampling and (later) search and packs must agree
on which documents concern a site. A document placed at a site concerns that site and every site under it; a
document placed at no site concerns the whole organisation, so it counts for every site (the same for processes).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection

from sqlalchemy import ColumnElement, exists, select

from ..extensions import db
from ..models import Document, Site, document_processes, document_sites


def subtree_ids(site_id: int) -> list[int]:
    """The site and every site under it (the tree is small: read whole, walked here)."""
    children: dict[int | None, list[int]] = defaultdict(list)
    for sid, parent in db.session.execute(select(Site.id, Site.parent_id)):
        children[parent].append(sid)
    found, todo = [], [site_id]
    while todo:
        current = todo.pop()
        if current in found:  # a cycle written by hand: stop rather than loop
            continue
        found.append(current)
        todo.extend(children.get(current, []))
    return sorted(found)


def ancestor_ids(site_id: int) -> list[int]:
    """The site and the sites above it short of the central function, nearest first: a regional procedure applies in
    the region's offices, but a record placed at the head office is the head office's own (organisation-wide
    documents are placed nowhere)."""
    rows = db.session.execute(select(Site.id, Site.parent_id))
    parent_of: dict[int, int | None] = dict(rows.all())
    found: list[int] = []
    current: int | None = site_id
    while current is not None and current not in found and current in parent_of:
        if found and parent_of[current] is None:
            break
        found.append(current)
        current = parent_of[current]
    return found


def concerns_sites(site_ids: Collection[int]) -> ColumnElement[bool]:
    """Correlated to Document: placed at one of the sites, or at none (the whole organisation)."""
    placed = exists().where(document_sites.c.document_id == Document.id, document_sites.c.site_id.in_(site_ids))
    return placed | ~exists().where(document_sites.c.document_id == Document.id)


def concerns_site(site_id: int) -> ColumnElement[bool]:
    """Correlated to Document: the evidence that counts for one site — placed there or at a regional unit above it,
    or organisation-wide."""
    return concerns_sites(ancestor_ids(site_id))


def placed_under(site_id: int) -> ColumnElement[bool]:
    """Correlated to Document: placed at the site or a site under it, or organisation-wide (the register's filter:
    "what concerns Cusco and its offices")."""
    return concerns_sites(subtree_ids(site_id))


def concerns_processes(process_ids: Collection[int]) -> ColumnElement[bool]:
    """Correlated to Document: placed in one of the processes, or in none (the whole organisation)."""
    placed = exists().where(document_processes.c.document_id == Document.id,
                            document_processes.c.process_id.in_(process_ids))
    return placed | ~exists().where(document_processes.c.document_id == Document.id)
