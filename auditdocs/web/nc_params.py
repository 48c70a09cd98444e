"""The nonconformity register's filter parameters, parsed once for the list page, the exports and the dashboard.

Why here: the list, its CSV/XLSX exports and the dashboard's links must read the same query string the same way,
and a forged or stale value must answer 400 with a message the person understands, never a 500 or a silent "any".
"""

from __future__ import annotations

from collections.abc import Mapping

from flask_babel import lazy_gettext as _l

from ..models.records import NC_GRADES, NC_SOURCES
from ..services import ServiceError
from ..services.nc_queries import STATUS_CHOICES, NcFilters
from .params import int_or_none

FILTER_KEYS = ("status", "grade", "site", "process", "clause", "source", "q", "overdue")
MAX_TEXT = 200  # longer than any reference or title search a person types
TRUE_VALUES = ("1", "true", "on", "yes")
FALSE_VALUES = ("", "0", "false", "off", "no")

FILTER_NAMES = {
    "status": _l("status"), "grade": _l("grade"), "site": _l("site"), "process": _l("process"),
    "clause": _l("clause"), "source": _l("source"), "q": _l("search text"), "overdue": _l("overdue"),
}


def _refuse(key: str) -> ServiceError:
    """A 400 naming the filter that was not understood (the error page shows the message)."""
    return ServiceError(_l("The filter “%(name)s” has a value that is not valid. Clear the filters and try again.",
                           name=FILTER_NAMES[key]), 400)


def _choice(args: Mapping[str, str], key: str, allowed: tuple[str, ...]) -> str | None:
    value = (args.get(key) or "").strip()
    if not value:
        return None
    if value not in allowed:
        raise _refuse(key)
    return value


def _identifier(args: Mapping[str, str], key: str) -> int | None:
    value = (args.get(key) or "").strip()
    if not value:
        return None
    number = int_or_none(value)
    if number is None:
        raise _refuse(key)
    return number  # an id that names nothing simply matches nothing


def filters_from_args(args: Mapping[str, str]) -> NcFilters:
    """The register's filters from a query string; empty means "any", an unknown value raises a 400."""
    text = (args.get("q") or "").strip()
    if len(text) > MAX_TEXT:
        raise _refuse("q")
    overdue = (args.get("overdue") or "").strip().lower()
    if overdue not in TRUE_VALUES + FALSE_VALUES:
        raise _refuse("overdue")
    return NcFilters(
        status=_choice(args, "status", STATUS_CHOICES),
        grade=_choice(args, "grade", NC_GRADES),
        site_id=_identifier(args, "site"),
        process_id=_identifier(args, "process"),
        clause_id=_identifier(args, "clause"),
        source=_choice(args, "source", NC_SOURCES),
        text=text or None,
        overdue=overdue in TRUE_VALUES,
    )


def filter_args(filters: NcFilters) -> dict[str, str]:
    """The filters back as query parameters (only those set), for links that keep them: pages, exports, sorts."""
    values = {
        "status": filters.status, "grade": filters.grade, "site": filters.site_id, "process": filters.process_id,
        "clause": filters.clause_id, "source": filters.source, "q": filters.text,
        "overdue": "1" if filters.overdue else None,
    }
    return {key: str(value) for key, value in values.items() if value not in (None, "")}
