"""The bribery-risk register as CSV and XLSX downloads, with the register page's filters (now or at an exercise).

Why the filters are parsed here before the first byte: a forged value answers 400 with a message, an exercise that
does not exist 404, never a 500 halfway through a download. Auditors may export what they see (the approved state).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Mapping
from typing import IO

from flask import Response, request, stream_with_context
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l

from ...models.risks import CATEGORIES, RATINGS, RISK_STATUSES
from ...policy import current_scope
from ...services import ServiceError, exports
from ...services.risk_exports import RISKS, RiskFilters
from ...services.risks import get_exercise
from ...timeutil import local_today
from ..params import int_or_none
from ..security import require
from .blueprint import bp

CHUNK_BYTES = 256 * 1024
MAX_TEXT = 200
FILTER_NAMES = {
    "exercise": _l("assessment exercise"), "site": _l("site"), "process": _l("process"), "category": _l("category"),
    "rating": _l("residual rating"), "status": _l("status"), "q": _l("search text"),
}


def _refuse(key: str) -> ServiceError:
    return ServiceError(_l("The filter “%(name)s” has a value that is not valid. Clear the filters and try again.",
                           name=FILTER_NAMES[key]), 400)


def risk_filters(args: Mapping[str, str]) -> RiskFilters:
    """The register's filters from a query string; empty means "any", a forged value raises a 400."""
    raw = {k: (args.get(k) or "").strip() for k in FILTER_NAMES}
    ids: dict[str, int | None] = {}
    for key in ("exercise", "site", "process"):
        ids[key] = int_or_none(raw[key]) if raw[key] else None
        if raw[key] and ids[key] is None:
            raise _refuse(key)
    for key, allowed in (("category", CATEGORIES), ("rating", RATINGS), ("status", RISK_STATUSES)):
        if raw[key] and raw[key] not in allowed:
            raise _refuse(key)
    if len(raw["q"]) > MAX_TEXT:
        raise _refuse("q")
    if ids["exercise"] is not None:
        get_exercise(current_scope(), ids["exercise"])  # 404 for an exercise that does not exist
    return RiskFilters(exercise_id=ids["exercise"], site_id=ids["site"], process_id=ids["process"],
                       category=raw["category"] or None, rating=raw["rating"] or None, status=raw["status"] or None,
                       text=raw["q"] or None)


@bp.route("/export.csv", defaults={"fmt": "csv"}, endpoint="register_csv")
@bp.route("/export.xlsx", defaults={"fmt": "xlsx"}, endpoint="register_xlsx")
@require("see_risks")
def register_export(fmt: str) -> ResponseReturnValue:
    """The filtered register: one row per risk, every field."""
    filters = risk_filters(request.args)
    scope, today = current_scope(), local_today()
    name = exports.file_name(RISKS.kind, fmt, today)
    columns, rows = RISKS.columns(today), RISKS.rows(scope, filters, today)
    headers = {"Content-Disposition": f"attachment; filename={name}", "Cache-Control": "no-store"}
    if fmt == "csv":
        return Response(stream_with_context(exports.iter_csv(columns, rows)), mimetype=exports.CSV_MIME,
                        headers=headers)
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - it outlives this function: _sent closes it
    try:
        exports.write_xlsx(columns, rows, spool, title=str(RISKS.title))
        size = spool.seek(0, os.SEEK_END)
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    return Response(_sent(spool), mimetype=exports.XLSX_MIME, headers={**headers, "Content-Length": str(size)})


def _sent(spool: IO[bytes]) -> Iterator[bytes]:
    """The finished workbook from its temporary file, closed (and so gone) however the download ends."""
    try:
        while chunk := spool.read(CHUNK_BYTES):
            yield chunk
    finally:
        spool.close()
