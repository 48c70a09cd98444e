"""The records a pack cites per clause: nonconformities and actions, risks, due diligence, gifts, internal audits."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..models import Clause
from ..policy import AccessScope
from .content import Block
from .places import Places
from .spec import PackSpec


@dataclass
class RecordEvidence:
    """Per clause id: the record blocks its section prints, and how many records count as its evidence."""

    blocks: dict[int, list[Block]] = field(default_factory=dict)
    counts: dict[int, int] = field(default_factory=dict)


def record_evidence(spec: PackSpec, scope: AccessScope, places: Places, clauses: list[Clause]) -> RecordEvidence:
    """The records of the period, at the pack's places, as the scope may see them, per clause."""
    raise NotImplementedError("packs.load_records: being written (issue 14)")
