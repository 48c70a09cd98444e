"""The bribery-risk register: as it stands now, as it stood at a past exercise, and what changed between two.

Why from revisions: the register at an exercise is, for each risk, its latest approved revision assessed in that
exercise, so it reads exactly as approved then whatever happened since. Auditors (approved-only scopes) see the
approved state of each risk even while a reassessment waits for approval; staff see the current rows.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select

from ..extensions import db
from ..models import BriberyRisk, Process, RecordRevision, Site, User
from ..models.records import id_list
from ..policy import AccessScope
from . import revisions

KIND = BriberyRisk.__entity_type__


@dataclass(frozen=True)
class RiskEntry:
    """One risk of a register as one revision holds it (ids, not names: `lookups()` names them)."""

    risk_id: int
    revision: int
    reference: str
    title: str
    process_id: int | None
    activity: str | None
    site_id: int | None
    associate_category: str
    associate_detail: str | None
    scenario: str
    inherent_likelihood: int
    inherent_impact: int
    inherent_score: int
    inherent_rating: str
    control_document_ids: tuple[int, ...]
    controls_description: str | None
    control_effectiveness: str
    residual_likelihood: int
    residual_impact: int
    residual_score: int
    residual_rating: str
    treatment: str | None
    treatment_action_ids: tuple[int, ...]
    owner_id: int | None
    next_review: date | None
    exercise_id: int
    matrix_id: int
    status: str
    assessed_by_id: int | None
    assessed_on: date | None
    approved_by_id: int | None
    approved_on: date | None
    approved_revision: int | None
    retire_reason: str | None

    @classmethod
    def from_fields(cls, risk_id: int, revision: int, data: dict[str, Any]) -> RiskEntry:
        """An entry from a revision's snapshot (dates as ISO text, id lists as "3,17")."""
        def day(name: str) -> date | None:
            value = data.get(name)
            return date.fromisoformat(value) if value else None

        values: dict[str, Any] = {name: data.get(name) for name in cls.__dataclass_fields__
                                  if name not in ("risk_id", "revision")}
        values.update(next_review=day("next_review"), assessed_on=day("assessed_on"), approved_on=day("approved_on"),
                      control_document_ids=tuple(id_list(data.get("control_document_ids"))),
                      treatment_action_ids=tuple(id_list(data.get("treatment_action_ids"))))
        return cls(risk_id=risk_id, revision=revision, **values)

    @classmethod
    def of_row(cls, risk: BriberyRisk) -> RiskEntry:
        """An entry from the current row."""
        return cls.from_fields(risk.id, risk.revision, revisions.snapshot(risk))


@dataclass(frozen=True)
class RatingChange:
    """A risk in both registers whose scores or ratings differ."""

    before: RiskEntry
    after: RiskEntry


@dataclass(frozen=True)
class RegisterChanges:
    """What changed from one register to another: risks added, removed, rescored."""

    added: list[RiskEntry]
    removed: list[RiskEntry]
    changed: list[RatingChange]


@dataclass(frozen=True)
class Lookups:
    """The sites, processes and people entries name, loaded once for a page or an export."""

    sites: dict[int, Site]
    processes: dict[int, Process]
    users: dict[int, User]


def approved_entry(risk: BriberyRisk) -> RiskEntry | None:
    """A risk's approved state (the revision its latest approval saved)."""
    if risk.approved_revision is None:
        return None
    if risk.approved_revision == risk.revision:
        return RiskEntry.of_row(risk)
    found = db.session.scalar(select(RecordRevision).where(
        RecordRevision.entity_type == KIND, RecordRevision.entity_id == risk.id,
        RecordRevision.number == risk.approved_revision))
    return RiskEntry.from_fields(risk.id, found.number, revisions.fields_of(found)) if found else None


def entry_of(scope: AccessScope, risk: BriberyRisk) -> RiskEntry | None:
    """The state of a risk this scope is shown: the current one for staff, the approved one for auditors."""
    if not scope.sees_risk(risk):
        return None
    return approved_entry(risk) if scope.approved_only else RiskEntry.of_row(risk)


def _filtered(entries: Iterable[RiskEntry], site_id: int | None, process_id: int | None) -> list[RiskEntry]:
    return sorted((e for e in entries if (site_id is None or e.site_id == site_id)
                   and (process_id is None or e.process_id == process_id)), key=lambda e: e.reference)


def current(scope: AccessScope) -> list[RiskEntry]:
    """The register now: risks not retired, in the state this scope is shown."""
    rows = db.session.scalars(select(BriberyRisk).where(scope.risk_condition(), BriberyRisk.status != "retired")
                              .order_by(BriberyRisk.number))
    found = (entry_of(scope, risk) for risk in rows)
    return [e for e in found if e is not None]


def at_exercise(exercise_id: int) -> list[RiskEntry]:
    """The register as it stood at an exercise: each risk's latest approved revision assessed in it."""
    latest: dict[int, RecordRevision] = {}
    for revision in db.session.scalars(select(RecordRevision).where(
            RecordRevision.entity_type == KIND, RecordRevision.snapshot.contains('"status":"approved"'))
            .order_by(RecordRevision.entity_id, RecordRevision.number)):
        data = json.loads(revision.snapshot)
        if data.get("exercise_id") == exercise_id and data.get("status") == "approved":
            latest[revision.entity_id] = revision
    return [RiskEntry.from_fields(r.entity_id, r.number, revisions.fields_of(r)) for r in latest.values()]


def entries(scope: AccessScope, exercise_id: int | None = None, site_id: int | None = None,
            process_id: int | None = None) -> list[RiskEntry]:
    """The register now (no exercise) or at an exercise, filtered by site and process, by reference."""
    if not scope.can("see_risks"):
        return []
    found = current(scope) if exercise_id is None else at_exercise(exercise_id)
    return _filtered(found, site_id, process_id)


def _rescored(a: RiskEntry, b: RiskEntry) -> bool:
    return (a.inherent_score, a.inherent_rating, a.residual_score, a.residual_rating) != (
        b.inherent_score, b.inherent_rating, b.residual_score, b.residual_rating)


def changes_between(scope: AccessScope, exercise_a: int, exercise_b: int | None = None, site_id: int | None = None,
                    process_id: int | None = None) -> RegisterChanges:
    """From the register at exercise A to the one at exercise B (None: the register now, as this scope sees it)."""
    before = {e.risk_id: e for e in entries(scope, exercise_a, site_id, process_id)}
    after = {e.risk_id: e for e in entries(scope, exercise_b, site_id, process_id)}
    return RegisterChanges(
        added=[e for rid, e in after.items() if rid not in before],
        removed=[e for rid, e in before.items() if rid not in after],
        changed=[RatingChange(before[rid], e) for rid, e in after.items()
                 if rid in before and _rescored(before[rid], e)],
    )


def lookups(entries_: Iterable[RiskEntry]) -> Lookups:
    """Load the sites, processes and owners/assessors/approvers the entries name, one query per kind."""
    items = list(entries_)
    site_ids = {e.site_id for e in items if e.site_id is not None}
    process_ids = {e.process_id for e in items if e.process_id is not None}
    user_ids = {i for e in items for i in (e.owner_id, e.assessed_by_id, e.approved_by_id) if i is not None}
    return Lookups(
        sites={s.id: s for s in db.session.scalars(select(Site).where(Site.id.in_(site_ids)))} if site_ids else {},
        processes={p.id: p for p in db.session.scalars(select(Process).where(Process.id.in_(process_ids)))}
        if process_ids else {},
        users={u.id: u for u in db.session.scalars(select(User).where(User.id.in_(user_ids)))} if user_ids else {},
    )
