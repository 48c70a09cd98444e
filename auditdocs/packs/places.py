"""Which sites and processes a pack is about: one audit's (its sites and processes), chosen sites, or everything.

Why here: the documents, the records and the cover must agree on the same places; the rules of which document
concerns a site are services/placement's, shared with the register and the gap view.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, select, true

from ..extensions import db
from ..models import Audit, Process, Site
from ..services import placement
from .spec import PackSpec


@dataclass(frozen=True)
class Places:
    """The pack's sites and processes (empty: the whole organisation); the ids include sites under a chosen one."""

    sites: list[Site]
    processes: list[Process]
    site_ids: frozenset[int]  # the chosen sites and every site under them: where records count
    document_site_ids: frozenset[int]  # the chosen sites and the regional units above them: whose documents apply
    audit: Audit | None = None

    @property
    def everywhere(self) -> bool:
        """No site chosen: the whole organisation."""
        return not self.sites

    def document_condition(self) -> ColumnElement[bool]:
        """Correlated to Document: the documents that concern these places (organisation-wide ones always do)."""
        condition: ColumnElement[bool] = true()
        if self.sites:
            condition = condition & placement.concerns_sites(self.document_site_ids)
        if self.processes:
            condition = condition & placement.concerns_processes([p.id for p in self.processes])
        return condition

    def holds_site(self, site_id: int | None) -> bool:
        """A record at this site counts (a record placed nowhere is the organisation's and always counts)."""
        return self.everywhere or site_id is None or site_id in self.site_ids

    def holds_process(self, process_id: int | None) -> bool:
        """A record of this process counts (no process chosen, or none recorded: it counts)."""
        return not self.processes or process_id is None or process_id in {p.id for p in self.processes}


def places_of(spec: PackSpec) -> Places:
    """The places of a spec, read once."""
    audit = db.session.get(Audit, spec.audit_id) if spec.audit_id is not None else None
    if audit is not None:
        sites = sorted((s.site for s in audit.sites), key=lambda s: s.code)
        processes = list(audit.processes)
    else:
        sites = list(db.session.scalars(select(Site).where(Site.code.in_(spec.sites)).order_by(Site.code))) \
            if spec.sites else []
        processes = []
    under: set[int] = set()
    above: set[int] = set()
    for site in sites:
        under.update(placement.subtree_ids(site.id))
        above.update(placement.ancestor_ids(site.id))
    return Places(sites=sites, processes=processes, site_ids=frozenset(under), document_site_ids=frozenset(above),
                  audit=audit)
