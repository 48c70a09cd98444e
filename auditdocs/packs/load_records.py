"""The records a pack cites per clause: nonconformities and actions, risks, due diligence, gifts, internal audits.

Why one entry point: the clause sections and the coverage summary must count the same records; each kind is read in
a fixed number of queries whatever its size (records_*.py), in a fixed order, as the scope may see it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select

from ..extensions import db
from ..models import Clause, Standard
from ..policy import AccessScope
from . import records_audits, records_ddg, records_nc, records_risks
from .content import Block
from .places import Places
from .records_common import Names, Part
from .spec import PackSpec

ISO_9001, ISO_37001 = "ISO 9001:2015", "ISO 37001:2016"
# Nonconformities are not kept per standard: each register clause lists every one of the period.
NC_REGISTERS = frozenset({(ISO_9001, "10.2"), (ISO_37001, "10.1")})
RISK_REGISTER = (ISO_37001, "4.5")
DUE_DILIGENCE = (ISO_37001, "8.2")
GIFTS = (ISO_37001, "8.7")
# Internal audits are not kept per standard either: both 9.2 clauses list them.
INTERNAL_AUDITS = frozenset({(ISO_9001, "9.2"), (ISO_37001, "9.2")})


@dataclass
class RecordEvidence:
    """Per clause id: the record blocks its section prints, and how many records count as its evidence."""

    blocks: dict[int, list[Block]] = field(default_factory=dict)
    counts: dict[int, int] = field(default_factory=dict)

    def add(self, clause_id: int, part: Part) -> None:
        """A part with records: its blocks after the clause's others, its rows added to the count."""
        found, count = part
        if count:
            self.blocks.setdefault(clause_id, []).extend(found)
            self.counts[clause_id] = self.counts.get(clause_id, 0) + count


def _keys(clauses: list[Clause]) -> dict[int, tuple[str, str]]:
    """(standard code, number) per clause id, in one query for the standards."""
    wanted = sorted({c.standard_id for c in clauses})
    codes: dict[int, str] = dict(db.session.execute(
        select(Standard.id, Standard.code).where(Standard.id.in_(wanted))).all())
    return {c.id: (codes.get(c.standard_id, ""), c.number) for c in clauses}


def record_evidence(spec: PackSpec, scope: AccessScope, places: Places, clauses: list[Clause]) -> RecordEvidence:
    """The records of the period, at the pack's places, as the scope may see them, per clause."""
    out = RecordEvidence()
    if not clauses or scope.user_id is None:
        return out
    keys = _keys(clauses)
    present = set(keys.values())
    names = Names(spec.lang)
    registers: dict[tuple[str, str], Callable[[], Part]] = {
        RISK_REGISTER: lambda: records_risks.blocks(scope, places, names),
        DUE_DILIGENCE: lambda: records_ddg.dd_blocks(spec, scope, places, names),
        GIFTS: lambda: records_ddg.gift_blocks(spec, scope, places, names),
    }
    parts: dict[tuple[str, str], Part] = {key: make() for key, make in registers.items() if key in present}
    if present & INTERNAL_AUDITS:
        audits = records_audits.blocks(spec, places, names)
        parts.update((key, audits) for key in INTERNAL_AUDITS & present)
    ncs = records_nc.load(spec, scope, places, [c.id for c in clauses])
    names.need(records_nc.user_ids(ncs))
    records_nc.render(ncs, names)
    register_part = records_nc.blocks(ncs.ncs, ncs, register=True) if present & NC_REGISTERS else ([], 0)
    for clause in clauses:
        key = keys[clause.id]
        if key in parts:
            out.add(clause.id, parts[key])
        if key in NC_REGISTERS:
            out.add(clause.id, register_part)
        else:
            out.add(clause.id, records_nc.blocks(ncs.by_clause.get(clause.id, []), ncs, register=False))
    return out
