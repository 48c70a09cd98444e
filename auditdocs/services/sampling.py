"""Site sampling for certification audits by IAF MD 1: the minimum sample, a reproducible proposal, the confirmation.

Why: a multi-site certificate is audited at the central function and a sample of the other sites; the certification
body must be able to check the sample size against the formula, see why each site was chosen, and reproduce the
random part from its recorded seed.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date
from math import isqrt
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import select

from ..extensions import db
from ..models import Audit, AuditSite, Certificate, Site, User
from ..timeutil import local_today, utcnow
from . import ServiceError, audit, site_signals
from .site_signals import SiteSignals

KINDS = ("initial", "surveillance", "recertification")
# y = ceil(f * sqrt(x)) with f = numerator / denominator, kept as integers so no float rounds the wrong way.
FACTORS = {"initial": (1, 1), "surveillance": (3, 5), "recertification": (4, 5)}
FACTOR_TEXT = {"initial": "", "surveillance": "0{d}6 × ", "recertification": "0{d}8 × "}
KIND_OF_TYPE = {"initial": "initial", "surveillance_1": "surveillance", "surveillance_2": "surveillance",
                "recertification": "recertification"}
MAX_SEED = 2**63 - 1  # the seed column is a BIGINT
NOTE_MAX = 1000
REASON_MAX = 300  # AuditSite.reason


class SampleRefused(ServiceError):
    """A sample that cannot be confirmed; `field` names the form field the message belongs to, if any."""

    def __init__(self, message: object, field: str | None = None, status: int | None = None) -> None:
        super().__init__(message, status)
        self.field = field


def minimum_sample(x: int, kind: str) -> int:
    """The least whole y with y ≥ f·√x (y² · d² ≥ n² · x for f = n/d), never more than x; 0 when x is 0."""
    if x <= 0:
        return 0
    num, den = FACTORS[kind]
    target, scale = num * num * x, den * den
    y = isqrt(target // scale)
    while y * y * scale < target:
        y += 1
    return min(y, x)


def kind_of(audit_type: str) -> str | None:
    """Which formula an audit type samples by; None for internal audits (IAF MD 1 does not apply)."""
    return KIND_OF_TYPE.get(audit_type)


def formula(x: int, kind: str, decimal: str = ".") -> str:
    """The formula with its numbers, as the certification body checks it: "y = ⌈0.6 × √19⌉ = 3"."""
    return f"y = ⌈{FACTOR_TEXT[kind].format(d=decimal)}√{x}⌉ = {minimum_sample(x, kind)}"


class Reason:
    """Why a site is in the sample: translated parts, joined in the reader's language when shown or stored."""

    def __init__(self, *parts: Any) -> None:
        self.parts = [p for p in parts if p]

    def __str__(self) -> str:
        return "; ".join(str(p) for p in self.parts)


class Later:
    """A plural text made when shown, so it follows the reader's language like a lazy string."""

    def __init__(self, make: Callable[[], str]) -> None:
        self.make = make

    def __str__(self) -> str:
        return self.make()


CENTRAL_REASON = _l("central function: audited every time")


@dataclass(frozen=True)
class Candidate:
    """A site besides the central function that the sample may include, with what ranks it."""

    site: Site
    visited: bool  # covered by a done audit of this certificate's cycle
    signals: SiteSignals

    def rank(self) -> tuple[bool, int, int, int, str]:
        """Never visited first, then open major nonconformities, high residual risks, evidence gaps, then code."""
        s = self.signals
        return (self.visited, -s.open_major_nonconformities, -s.high_residual_risks, -s.gaps, self.site.code)

    def risk_parts(self) -> list[Any]:
        """The risk signals that exist today, for the reason text."""
        ncs, risks, gaps = (self.signals.open_major_nonconformities, self.signals.high_residual_risks,
                            self.signals.gaps)
        return [part for count, part in (
            (ncs, Later(lambda: ngettext("%(num)d open major nonconformity", "%(num)d open major nonconformities",
                                         ncs))),
            (risks, Later(lambda: ngettext("%(num)d high residual bribery risk",
                                           "%(num)d high residual bribery risks", risks))),
            (gaps, Later(lambda: ngettext("%(num)d evidence gap", "%(num)d evidence gaps", gaps)))) if count]


@dataclass(frozen=True)
class Pick:
    """A site of the proposed sample and why."""

    site: Site
    reason: Reason
    drawn: bool  # drawn at random rather than ranked


@dataclass(frozen=True)
class Proposal:
    """The sample the app proposes for one audit kind of one certificate, reproducible from its seed."""

    certificate: Certificate
    kind: str
    seed: int
    x: int
    y: int
    drawn: int  # how many of the y were drawn at random
    central: Site
    central_signals: SiteSignals
    candidates: list[Candidate]  # every site besides the central function, best ranked first
    picks: list[Pick]

    def formula(self, decimal: str = ".") -> str:
        return formula(self.x, self.kind, decimal)

    @property
    def picked_ids(self) -> set[int]:
        return {p.site.id for p in self.picks}

    def pick_of(self, site_id: int) -> Pick | None:
        return next((p for p in self.picks if p.site.id == site_id), None)


def new_seed() -> int:
    """A fresh seed, short enough to read out to an auditor."""
    return 100_000 + secrets.randbelow(900_000)


def certificate_by_number(number: str) -> Certificate | None:
    """The certificate with this number (as printed on it)."""
    return db.session.scalar(select(Certificate).where(Certificate.number == number.strip()))


def central_function() -> Site:
    """The active site without a parent (the first by code, should the tree have several roots)."""
    central = db.session.scalar(select(Site).where(Site.parent_id.is_(None), Site.active.is_(True))
                                .order_by(Site.code).limit(1))
    if central is None:
        raise SampleRefused(_l("There is no central function: create the head office (a site without a parent) "
                               "first."), status=409)
    return central


def scope_sites(certificate: Certificate) -> list[Site]:
    """The active sites the certificate's scope names; every active site when it names none."""
    named = [s for s in certificate.scope.sites if s.active]
    if named:
        return named
    return list(db.session.scalars(select(Site).where(Site.active.is_(True)).order_by(Site.code)))


def visited_in_cycle(certificate: Certificate) -> set[int]:
    """Sites covered by a done audit of the certificate's cycle (the audit that granted it and its surveillances)."""
    stmt = (select(AuditSite.site_id).join(Audit, Audit.id == AuditSite.audit_id)
            .where(Audit.certificate_id == certificate.id, Audit.status == "done",
                   Audit.audit_type != "internal").distinct())
    return set(db.session.scalars(stmt))


def propose(certificate: Certificate, kind: str, seed: int | None = None, day: date | None = None) -> Proposal:
    """Central function always; then y sites: ranked ones first, at least a quarter drawn at random from the seed."""
    if kind not in FACTORS:
        raise SampleRefused(_l("Unknown audit type for sampling: %(kind)s.", kind=kind))
    if seed is None:
        seed = new_seed()
    if not 0 <= seed <= MAX_SEED:
        raise SampleRefused(_l("The seed must be a whole number from 0 to %(max)d.", max=MAX_SEED), field="seed")
    central = central_function()
    sites = [s for s in scope_sites(certificate) if s.id != central.id]
    visited = visited_in_cycle(certificate)
    signals = site_signals.signals([central.id, *(s.id for s in sites)], day or local_today())
    candidates = sorted((Candidate(site=s, visited=s.id in visited, signals=signals[s.id]) for s in sites),
                        key=Candidate.rank)
    x = len(candidates)
    y = minimum_sample(x, kind)
    drawn = -(-y // 4)  # at least a quarter, rounded up
    ranked = candidates[:y - drawn]
    rest = sorted(candidates[y - drawn:], key=lambda c: (c.visited, c.site.code))
    pool = [c for c in rest if not c.visited]
    if len(pool) < drawn:  # too few never-visited sites left: the visited ones join the draw
        pool = rest
    rng = random.Random(seed)  # noqa: S311 - a reproducible draw from a recorded seed, not a secret
    lucky = rng.sample(pool, drawn) if drawn else []
    picks = [Pick(c.site, _ranked_reason(c), drawn=False) for c in ranked]
    picks += [Pick(c.site, Reason(_l("drawn at random (seed %(seed)s)", seed=seed),
                                  None if c.visited else _l("never visited in this cycle")), drawn=True)
              for c in lucky]
    return Proposal(certificate=certificate, kind=kind, seed=seed, x=x, y=y, drawn=drawn, central=central,
                    central_signals=signals[central.id], candidates=candidates, picks=picks)


def _ranked_reason(c: Candidate) -> Reason:
    """Never visited (with its risks), or the highest risk among the sites already visited."""
    risks = c.risk_parts()
    if not c.visited:
        return Reason(_l("never visited in this cycle"), *risks)
    if risks:
        return Reason(_l("highest risk: %(signals)s", signals=Reason(*risks)))
    return Reason(_l("visited in this cycle; next by code"))


def proposal_for(audit_row: Audit, seed: int | None = None, day: date | None = None) -> Proposal:
    """The proposal for a certification audit (an internal audit chooses its sites on its own form)."""
    kind = kind_of(audit_row.audit_type)
    if kind is None or audit_row.certificate is None:
        raise SampleRefused(_l("Only certification audits of a certificate are sampled by IAF MD 1; an internal "
                               "audit's sites are chosen on the audit form."))
    return propose(audit_row.certificate, kind, seed, day)


def confirm(audit_row: Audit, site_ids: Collection[int], seed: int, note: str | None, actor: User,
            day: date | None = None) -> Proposal:
    """Record the sites the audit will visit and why; a choice that differs from the seed's proposal needs a note."""
    if audit_row.status != "planned":
        raise SampleRefused(_l("This audit is no longer planned: its site sample cannot change."), status=409)
    proposal = proposal_for(audit_row, seed, day)
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise SampleRefused(_l("The reason is too long (at most %(max)d characters).", max=NOTE_MAX), field="note")
    chosen = set(site_ids)
    allowed = {c.site.id for c in proposal.candidates}
    if chosen - allowed - {proposal.central.id}:
        raise SampleRefused(_l("Only active sites in the certificate's scope can be sampled."), field="sites")
    if proposal.central.id not in chosen:
        raise SampleRefused(_l("The central function (%(code)s) is audited every time and must stay in the sample.",
                               code=proposal.central.code), field="sites")
    regional = chosen - {proposal.central.id}
    if len(regional) < proposal.y:
        raise SampleRefused(_l("Choose at least %(y)d sites besides the central function (%(formula)s).",
                               y=proposal.y, formula=proposal.formula()), field="sites")
    if regional != proposal.picked_ids and not note:
        raise SampleRefused(_l("Your choice differs from the proposal for seed %(seed)s: give the reason (it is "
                               "recorded).", seed=proposal.seed), field="note")
    old = _snapshot(audit_row) if audit_row.sample_confirmed_at or audit_row.sites else None
    audit_row.sites.clear()
    db.session.flush()  # the old rows go before rows with the same keys come back
    by_id = {c.site.id: c.site for c in proposal.candidates}
    audit_row.sites.append(AuditSite(site=proposal.central, reason=_fit(str(CENTRAL_REASON))))
    for site_id in sorted(regional, key=lambda i: by_id[i].code):
        pick = proposal.pick_of(site_id)
        reason = str(pick.reason) if pick else str(_l("chosen by the officer: %(note)s", note=note))
        audit_row.sites.append(AuditSite(site=by_id[site_id], reason=_fit(reason)))
    audit_row.sample_seed = proposal.seed
    audit_row.sample_confirmed_at = utcnow()
    audit_row.sample_confirmed_by = actor
    audit_row.sample_note = note or None
    db.session.flush()
    codes = {by_id[i].code for i in regional}
    proposed = {p.site.code for p in proposal.picks}
    audit.record("audit.sample", "audit", audit_row.id, old=old, actor=actor, new={
        **_snapshot(audit_row), "certificate": proposal.certificate.number, "audit_type": audit_row.audit_type,
        "sites_besides_central": proposal.x, "minimum_sample": proposal.y, "formula": proposal.formula(),
        "proposed": [{"code": p.site.code, "reason": str(p.reason)} for p in proposal.picks],
        "added": sorted(codes - proposed), "removed": sorted(proposed - codes)})
    return proposal


def _snapshot(audit_row: Audit) -> dict[str, Any]:
    """The confirmed sample as the trail keeps it."""
    return {"seed": audit_row.sample_seed, "note": audit_row.sample_note,
            "sites": sorted(({"code": s.site.code, "reason": s.reason} for s in audit_row.sites),
                           key=lambda row: str(row["code"]))}


def _fit(text: str) -> str:
    """A reason that fits its column (the whole note is kept on the audit and in the trail)."""
    return text if len(text) <= REASON_MAX else text[:REASON_MAX - 1] + "…"


def open_ncs_tracked() -> bool:
    """Whether open nonconformities are counted yet (else the page says "not tracked yet")."""
    return site_signals.tracked(site_signals.OPEN_MAJOR_NONCONFORMITIES)


def cycle_last_visits(certificate: Certificate, site_ids: Collection[int]) -> dict[int, date]:
    """Per site, the last done audit of this certificate that visited it."""
    return site_signals.last_audited(site_ids, certificate.id) if site_ids else {}

