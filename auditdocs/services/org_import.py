"""Sites and processes from a spreadsheet saved as CSV: every row checked first, every bad row reported, all or nothing.

Why: organisations keep their site list and process map in Excel; a half-imported tree (offices without their region,
a second head office) would mislead every per-site figure, so one bad row stops the whole file and the person sees
every problem at once, each with its line (services.org_csv), instead of fixing them one run at a time. The rows are
then written through the same services as the pages, so the rules and the audit trail are the same.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from sqlalchemy import select

from ..extensions import db
from ..models import Process, Site, User
from . import audit
from .org import FieldErrors, ProcessData, SiteData, create_process, create_site, update_process, update_site
from .org_csv import MAX_BYTES, MAX_ROWS, ImportRefused, Problem, Row, read

__all__ = ["MAX_BYTES", "MAX_ROWS", "Counts", "ImportRefused", "Outcome", "Problem", "run_import"]


@dataclass
class Counts:
    """What happened to the rows of one type."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class Outcome:
    """The import's summary (a dry run's says what would happen)."""

    rows: int
    dry_run: bool
    sites: Counts = field(default_factory=Counts)
    processes: Counts = field(default_factory=Counts)


def _depth(code: str, parent_of: dict[str, str | None]) -> int:
    depth, current = 0, parent_of.get(code)
    while current is not None and depth <= len(parent_of):
        depth, current = depth + 1, parent_of.get(current)
    return depth


def _refusal(row: Row, exc: FieldErrors) -> ImportRefused:
    """A service refusal the checks above did not foresee still names its line."""
    return ImportRefused([Problem(row.line, f"{name}: {message}") for name, messages in exc.errors.items()
                          for message in messages])


def _tally(counts: Counts, changed: bool | None) -> None:
    if changed is None:
        counts.created += 1
    elif changed:
        counts.updated += 1
    else:
        counts.unchanged += 1


def _apply_sites(rows: list[Row], actor: User | None) -> Counts:
    """Create or update the site rows through the service, each after the site it belongs to."""
    sites = {s.code.lower(): s for s in db.session.scalars(select(Site))}
    parent_of = {code: (s.parent.code.lower() if s.parent else None) for code, s in sites.items()}
    parent_of.update({r.code.lower(): (r.parent.lower() if r.parent else None) for r in rows})
    counts = Counts()
    for row in sorted(rows, key=lambda r: _depth(r.code.lower(), parent_of)):
        existing = sites.get(row.code.lower())
        data = SiteData(code=existing.code if existing else row.code, name_es=row.name_es, name_en=row.name_en,
                        region=row.region, address=existing.address if existing else None,
                        parent_id=sites[row.parent.lower()].id if row.parent else None,
                        responsible_id=row.user_id, active=row.active)
        try:
            if existing is None:
                sites[row.code.lower()] = create_site(data, actor)
                _tally(counts, None)
            else:
                _tally(counts, update_site(existing, data, actor))
        except FieldErrors as exc:
            raise _refusal(row, exc) from None
    return counts


def _apply_processes(rows: list[Row], actor: User | None) -> Counts:
    """Create or update the process rows through the service, in the file's order."""
    processes = {p.code.lower(): p for p in db.session.scalars(select(Process))}
    counts = Counts()
    for row in rows:
        existing = processes.get(row.code.lower())
        data = ProcessData(code=existing.code if existing else row.code, name_es=row.name_es, name_en=row.name_en,
                           category=row.category, owner_id=row.user_id, active=row.active)
        try:
            if existing is None:
                processes[row.code.lower()] = create_process(data, actor)
                _tally(counts, None)
            else:
                _tally(counts, update_process(existing, data, actor))
        except FieldErrors as exc:
            raise _refusal(row, exc) from None
    return counts


def run_import(data: bytes, *, filename: str, dry_run: bool = False, actor: User | None = None) -> Outcome:
    """Check the whole file, then write every row and one summary event; a dry run undoes its writes."""
    rows = read(data)
    savepoint = db.session.begin_nested()
    try:
        sites = _apply_sites([r for r in rows if r.kind == "site"], actor)
        processes = _apply_processes([r for r in rows if r.kind == "process"], actor)
        outcome = Outcome(rows=len(rows), dry_run=dry_run, sites=sites, processes=processes)
        audit.record("org.import", "org", None, new={
            "file": filename, "sha256": hashlib.sha256(data).hexdigest(), "rows": len(rows),
            "sites": vars(sites), "processes": vars(processes)}, actor=actor, actor_label=None if actor else "cli")
    except BaseException:
        savepoint.rollback()
        raise
    if dry_run:
        savepoint.rollback()
    else:
        savepoint.commit()
    return outcome
