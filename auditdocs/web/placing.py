"""Sites and processes as people pick them (the site tree indented, processes by category) and the site/process
filter that the register, the clause pages and the gap view read from the query string.

Why one module: the three pages must parse, explain and carry the filter the same way, so a link from the clause page
to the register or from the gap view to a clause keeps showing the same evidence.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement

from ..models import Process, Site
from ..services import org, placement
from .params import int_or_none

CATEGORY_LABELS = {"strategic": _l("Strategic processes"), "operational": _l("Operational processes"),
                   "support": _l("Support processes")}


def site_tree(with_ids: Collection[int] = (), *, everything: bool = False) -> list[tuple[Site, int]]:
    """Sites in tree order with their depth: the active ones (all when `everything`) and those in `with_ids` (a
    document's inactive sites stay on its form)."""
    return org.site_tree(lambda site: everything or site.active or site.id in with_ids)


def process_groups(with_ids: Collection[int] = (), *, everything: bool = False) -> list[tuple[str, list[Process]]]:
    """Processes by category (strategic, operational, support) in map order; the active ones (all when
    `everything`) and those in `with_ids`."""
    groups = [(str(CATEGORY_LABELS[category]), [p for p in processes if everything or p.active or p.id in with_ids])
              for category, processes in org.processes_by_category().items()]
    return [(label, processes) for label, processes in groups if processes]


@dataclass
class PlacementFilter:
    """The site and process a page is filtered by (None: not filtered), with the choices its selects offer."""

    site: Site | None = None
    process: Process | None = None
    notes: list[str] = field(default_factory=list)  # why a value in the query string was ignored
    sites: list[tuple[Site, int]] = field(default_factory=list)
    processes: list[tuple[str, list[Process]]] = field(default_factory=list)

    @property
    def active(self) -> bool:
        """True when the page is filtered by a site or a process."""
        return self.site is not None or self.process is not None

    def listed(self) -> list[ColumnElement[bool]]:
        """Conditions on Document for lists: placed at the site or under it, in the process, or organisation-wide."""
        conditions = []
        if self.site is not None:
            conditions.append(placement.placed_under(self.site.id))
        if self.process is not None:
            conditions.append(placement.concerns_processes([self.process.id]))
        return conditions

    def evidence(self) -> ColumnElement[bool] | None:
        """Condition on Document for coverage: the evidence that counts for the site (placed there or at its
        regional unit, or organisation-wide) and the process; None when not filtered."""
        conditions = []
        if self.site is not None:
            conditions.append(placement.concerns_site(self.site.id))
        if self.process is not None:
            conditions.append(placement.concerns_processes([self.process.id]))
        if not conditions:
            return None
        combined = conditions[0]
        for condition in conditions[1:]:
            combined = combined & condition
        return combined

    def args(self) -> dict[str, int]:
        """The query-string arguments that carry this filter into another page's links."""
        out = {}
        if self.site is not None:
            out["site"] = self.site.id
        if self.process is not None:
            out["process"] = self.process.id
        return out


def placement_filter(args: Mapping[str, str]) -> PlacementFilter:
    """The filter the query string asks for; an id that names nothing is ignored and the page says so."""
    result = PlacementFilter(sites=site_tree(everything=True), processes=process_groups(everything=True))
    site_arg, process_arg = (args.get("site") or "").strip(), (args.get("process") or "").strip()
    if site_arg:
        site_id = int_or_none(site_arg)
        result.site = next((s for s, _depth in result.sites if s.id == site_id), None)
        if result.site is None:
            result.notes.append(str(_l("There is no such site: the site filter was ignored.")))
    if process_arg:
        process_id = int_or_none(process_arg)
        result.process = next((p for _label, ps in result.processes for p in ps if p.id == process_id), None)
        if result.process is None:
            result.notes.append(str(_l("There is no such process: the process filter was ignored.")))
    return result
