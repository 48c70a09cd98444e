"""The nonconformity register and its actions as CSV and XLSX downloads, with the list page's current filters.

Why streamed: a register of ten thousand rows must not sit in the server's memory. CSV goes out a few hundred rows
at a time; XLSX is built by openpyxl's write-only mode into an anonymous temporary file (gone when closed, even
after a crash), then sent from disk in chunks. Filters are parsed before the first byte, so a forged one answers 400.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from typing import IO, Any

from flask import Blueprint, Response, request, stream_with_context
from flask.typing import ResponseReturnValue

from ..policy import current_scope
from ..services import exports
from ..services.nc_exports import ACTIONS, NONCONFORMITIES, ActionFilters
from ..timeutil import local_today
from .nc_params import filters_from_args
from .security import require

bp = Blueprint("nc_exports", __name__, url_prefix="/nonconformities")
CHUNK_BYTES = 256 * 1024


def _download(spec: exports.Register[Any], filters: object, fmt: str) -> ResponseReturnValue:
    """The register in the format, as an attachment with a dated name."""
    scope, today = current_scope(), local_today()
    name = exports.file_name(spec.kind, fmt, today)
    columns = spec.columns(today)
    rows = spec.rows(scope, filters, today)
    if fmt == "csv":
        return Response(stream_with_context(exports.iter_csv(columns, rows)), mimetype="text/csv",
                        headers={"Content-Disposition": f"attachment; filename={name}",
                                 "Cache-Control": "no-store"})
    # Anonymous: gone once _sent has sent and closed it, or when the process ends.
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - it outlives this function: _sent closes it
    try:
        exports.write_xlsx(columns, rows, spool, title=str(spec.title))
        size = spool.seek(0, os.SEEK_END)
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    return Response(_sent(spool), mimetype=exports.XLSX_MIME, headers={
        "Content-Disposition": f"attachment; filename={name}", "Content-Length": str(size),
        "Cache-Control": "no-store"})


def _sent(spool: IO[bytes]) -> Iterator[bytes]:
    """The finished workbook from its temporary file, closed (and so gone) however the download ends."""
    try:
        while chunk := spool.read(CHUNK_BYTES):
            yield chunk
    finally:
        spool.close()


@bp.route("/export.csv", defaults={"fmt": "csv"}, endpoint="nonconformities_csv")
@bp.route("/export.xlsx", defaults={"fmt": "xlsx"}, endpoint="nonconformities_xlsx")
@require("see_nonconformities")
def nonconformities(fmt: str) -> ResponseReturnValue:
    """The filtered register: one row per nonconformity."""
    return _download(NONCONFORMITIES, filters_from_args(request.args), fmt)


@bp.route("/actions/export.csv", defaults={"fmt": "csv"}, endpoint="actions_csv")
@bp.route("/actions/export.xlsx", defaults={"fmt": "xlsx"}, endpoint="actions_xlsx")
@require("see_nonconformities")
def actions(fmt: str) -> ResponseReturnValue:
    """The actions of the filtered register's nonconformities: one row per action."""
    return _download(ACTIONS, ActionFilters(filters_from_args(request.args)), fmt)
