"""Which sites and processes a document concerns: turning ids or codes into rows, refusing unknown ones.

Why its own module: registration, the details form, the import and the demo place documents the same way, and an
inactive site may keep the documents already placed there without taking new ones.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import TypeVar

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..extensions import db
from ..models import Process, Site
from . import ServiceError

MAX_PLACES = 500  # more ticks than any organisation has sites: a hostile post, refused before any query
Place = TypeVar("Place", Site, Process)


def _resolve(model: type[Place], items: Sequence[int | str | Place], kept: Collection[Place]) -> list[Place]:
    """Rows for ids (int) or codes (str), in code order; unknown ones and newly chosen inactive ones refused."""
    wanted = list(dict.fromkeys(items))
    if len(wanted) > MAX_PLACES:
        raise ServiceError(_l("Too many sites or processes chosen (at most %(num)d).", num=MAX_PLACES))
    rows = [item for item in wanted if isinstance(item, model)]
    ids = [item for item in wanted if isinstance(item, int) and 0 < item < 2**31]
    codes = [" ".join(item.split()) for item in wanted if isinstance(item, str)]
    found = list(db.session.scalars(select(model).where(model.id.in_(ids)))) if ids else []
    found += list(db.session.scalars(select(model).where(model.code.in_(codes)))) if codes else []
    known = {row.id for row in found} | {row.code for row in found}
    for item in wanted:
        if not isinstance(item, model) and item not in known and " ".join(str(item).split()) not in known:
            message = (_l("Unknown site “%(ref)s”.", ref=str(item)) if model is Site
                       else _l("Unknown process “%(ref)s”.", ref=str(item)))
            raise ServiceError(message)
    kept_ids = {row.id for row in kept}
    result: dict[int, Place] = {}
    for row in rows + found:
        if not row.active and row.id not in kept_ids:
            message = (_l("The site %(code)s is inactive: documents already placed there keep it, new ones cannot "
                          "be placed there.", code=row.code) if model is Site
                       else _l("The process %(code)s is inactive: documents already placed in it keep it, new ones "
                               "cannot be placed in it.", code=row.code))
            raise ServiceError(message)
        result[row.id] = row
    return sorted(result.values(), key=lambda row: row.code)


def resolve_sites(items: Sequence[int | str | Site], kept: Collection[Site] = ()) -> list[Site]:
    """Sites by id or code; `kept` are the document's current sites, which may be inactive."""
    return _resolve(Site, items, kept)


def resolve_processes(items: Sequence[int | str | Process], kept: Collection[Process] = ()) -> list[Process]:
    """Processes by id or code; `kept` are the document's current processes, which may be inactive."""
    return _resolve(Process, items, kept)


def codes(rows: Collection[Site | Process]) -> list[str]:
    """How the audit trail names a placement: sorted codes, [] for the whole organisation."""
    return sorted(row.code for row in rows)
