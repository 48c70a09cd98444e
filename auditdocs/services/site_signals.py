"""What is known about each site today: evidence coverage, open findings, risks, the last audit that visited it.

Why one module: site sampling ranks sites by these signals and the site page shows them; both must count the same
way. Nonconformities and bribery risks arrive in later modules: they register a counter here (`register_counter`)
and every reader picks it up; until then those counts are zero and the page says they are not tracked yet.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select

from ..extensions import db
from ..models import Audit, AuditSite
from . import coverage, placement

OPEN_MAJOR_NONCONFORMITIES = "open_major_nonconformities"
HIGH_RESIDUAL_RISKS = "high_residual_risks"
# name -> a function from site ids to {site id: count}; filled by the records and risk modules when they land.
_COUNTERS: dict[str, Callable[[Collection[int]], dict[int, int]]] = {}


def register_counter(name: str, counter: Callable[[Collection[int]], dict[int, int]]) -> None:
    """Declare a per-site count (open major nonconformities, high residual risks) that sampling ranks by."""
    _COUNTERS[name] = counter


def tracked(name: str) -> bool:
    """Whether a counter is known yet (the page says "not tracked yet" rather than a misleading zero)."""
    return name in _COUNTERS


@dataclass(frozen=True)
class SiteSignals:
    """One site's figures on one day."""

    site_id: int
    covered: int  # clauses asking for documented information with evidence in force that concerns the site
    required: int
    last_audited: date | None  # the last done audit that visited it
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def gaps(self) -> int:
        """Clauses asking for documented information with no evidence in force that concerns the site."""
        return self.required - self.covered

    @property
    def open_major_nonconformities(self) -> int:
        return self.counts.get(OPEN_MAJOR_NONCONFORMITIES, 0)

    @property
    def high_residual_risks(self) -> int:
        return self.counts.get(HIGH_RESIDUAL_RISKS, 0)


def last_audited(site_ids: Collection[int], certificate_id: int | None = None) -> dict[int, date]:
    """Per site, the end (or start) of the last audit marked done that covered it; of one certificate if given."""
    when = func.max(func.coalesce(Audit.actual_end, Audit.actual_start, Audit.planned_start))
    stmt = (select(AuditSite.site_id, when).join(Audit, Audit.id == AuditSite.audit_id)
            .where(Audit.status == "done", AuditSite.site_id.in_(site_ids)).group_by(AuditSite.site_id))
    if certificate_id is not None:
        stmt = stmt.where(Audit.certificate_id == certificate_id)
    return {site_id: day for site_id, day in db.session.execute(stmt).all() if day is not None}


def signals(site_ids: Collection[int], day: date) -> dict[int, SiteSignals]:
    """Every signal for the sites on the day. Coverage is one EXISTS probe per clause and site."""
    ids = sorted(set(site_ids))
    if not ids:
        return {}
    clauses = coverage.catalogue()
    required = coverage.count(coverage.gaps_of(clauses, set()))  # nothing covered: every clause that asks
    audited = last_audited(ids)
    counts = {name: counter(ids) for name, counter in sorted(_COUNTERS.items())}
    result = {}
    for site_id in ids:
        gaps = coverage.count(coverage.gaps_of(clauses, coverage.covered_clause_ids(day,
                                                                                     placement.concerns_site(site_id))))
        result[site_id] = SiteSignals(site_id=site_id, covered=required - gaps, required=required,
                                      last_audited=audited.get(site_id),
                                      counts={name: by_site.get(site_id, 0) for name, by_site in counts.items()})
    return result
