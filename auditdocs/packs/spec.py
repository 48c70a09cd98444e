"""What a pack is built from: the inputs a person chose, checked, made canonical, and the identifier derived from them.

Why canonical: the same inputs and the same generation metadata must give the same bytes (a reviewer rebuilds a pack
to check it), so the identifier and every ordering come from this value, never from the clock or a dict's order.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..extensions import db
from ..models import Audit, Clause, Site, Standard
from ..services import ServiceError
from ..timeutil import as_utc, local_today, utc_text

LANGS = ("es", "en")
DEFAULT_DAYS = 365  # the period when none is given: the year up to today (or to the audit's last day)


@dataclass(frozen=True)
class PackSpec:
    """A pack's inputs: standard codes in catalogue order, clause numbers (each with its sub-clauses; none: all),
    one audit or chosen site codes (neither: the whole organisation), the period (both days included), language."""

    standards: tuple[str, ...]
    date_from: date
    date_to: date
    lang: str = "es"
    clauses: tuple[str, ...] = ()
    audit_id: int | None = None
    sites: tuple[str, ...] = field(default=())
    bundle: bool = False

    @property
    def integrated(self) -> bool:
        """Both standards in one pack, joined through the cross-map."""
        return len(self.standards) > 1

    def to_json(self) -> str:
        """Canonical JSON: the form stored on the job and hashed into the identifier."""
        data = asdict(self)
        data["date_from"], data["date_to"] = self.date_from.isoformat(), self.date_to.isoformat()
        data["standards"], data["clauses"], data["sites"] = (list(self.standards), list(self.clauses),
                                                             list(self.sites))
        return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> PackSpec:
        """The spec a job row stores."""
        data = json.loads(text)
        return cls(standards=tuple(data["standards"]), date_from=date.fromisoformat(data["date_from"]),
                   date_to=date.fromisoformat(data["date_to"]), lang=data["lang"], clauses=tuple(data["clauses"]),
                   audit_id=data["audit_id"], sites=tuple(data["sites"]), bundle=bool(data["bundle"]))


def pack_identifier(spec: PackSpec, generated_at: datetime, generated_by: str) -> str:
    """"PK-" and 12 hex digits of the hash of the inputs and the generation metadata: rebuilt alike, named alike."""
    basis = "\n".join((spec.to_json(), utc_text(as_utc(generated_at)), generated_by))
    return "PK-" + hashlib.sha256(basis.encode()).hexdigest()[:12].upper()


def _standard_codes(asked: Sequence[str]) -> tuple[str, ...]:
    known = list(db.session.scalars(select(Standard).order_by(Standard.sort_order)))
    by_name = {s.code.casefold(): s.code for s in known} | {s.slug.casefold(): s.code for s in known}
    chosen = set()
    for name in asked:
        code = by_name.get(name.strip().casefold())
        if code is None:
            raise ServiceError(_l("Unknown standard: %(name)s. Known: %(known)s.", name=name,
                                  known=", ".join(s.code for s in known)))
        chosen.add(code)
    if not chosen:
        raise ServiceError(_l("Choose at least one standard."))
    return tuple(s.code for s in known if s.code in chosen)


def _clause_numbers(standards: tuple[str, ...], asked: Sequence[str]) -> tuple[str, ...]:
    numbers = sorted({n.strip() for n in asked if n.strip()})
    if not numbers:
        return ()
    present = set(db.session.scalars(select(Clause.number).join(Standard).where(Standard.code.in_(standards),
                                                                                  Clause.number.in_(numbers))))
    missing = [n for n in numbers if n not in present]
    if missing:
        raise ServiceError(_l("No clause %(numbers)s in %(standards)s.", numbers=", ".join(missing),
                              standards=", ".join(standards)))
    return tuple(numbers)


def _site_codes(asked: Sequence[str]) -> tuple[str, ...]:
    codes = sorted({c.strip() for c in asked if c.strip()})
    found = set(db.session.scalars(select(Site.code).where(Site.code.in_(codes)))) if codes else set()
    missing = [c for c in codes if c not in found]
    if missing:
        raise ServiceError(_l("Unknown site: %(codes)s.", codes=", ".join(missing)))
    return tuple(codes)


def audit_last_day(audit: Audit) -> date:
    """The audit's last day as planned or done: where its default period ends."""
    return audit.actual_end or audit.planned_end or audit.actual_start or audit.planned_start


def resolve(standards: Sequence[str], *, clauses: Sequence[str] = (), audit_id: int | None = None,
            sites: Sequence[str] = (), date_from: date | None = None, date_to: date | None = None,
            lang: str = "es", bundle: bool = False) -> PackSpec:
    """Check what a person asked for and return the canonical spec, or a ServiceError (400/404) saying what is
    wrong in words they understand."""
    if lang not in LANGS:
        raise ServiceError(_l("Language must be es or en."))
    codes = _standard_codes(standards)
    if audit_id is not None and sites:
        raise ServiceError(_l("Choose one audit or some sites, not both."))
    end = date_to
    if audit_id is not None:
        audit = db.session.get(Audit, audit_id)
        if audit is None:
            raise ServiceError(_l("There is no audit %(id)s.", id=audit_id), 404)
        end = end or audit_last_day(audit)
    end = end or local_today()
    start = date_from or end - timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        raise ServiceError(_l("The period starts after it ends."))
    return PackSpec(standards=codes, date_from=start, date_to=end, lang=lang,
                    clauses=_clause_numbers(codes, clauses), audit_id=audit_id, sites=_site_codes(sites),
                    bundle=bundle)
