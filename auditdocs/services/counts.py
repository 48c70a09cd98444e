"""Totals counted up to a cap: a page that says "more than 1,000" costs the same at 1,000 rows as at 100,000.

Why: an exact count walks every matching row; past a thousand, the number is not what a person acts on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, literal_column, select

from ..extensions import db

COUNT_CAP = 1000


@dataclass(frozen=True)
class Count:
    """A total counted up to a cap: `capped` means there are more than `value`."""

    value: int
    capped: bool

    def __bool__(self) -> bool:
        return self.value > 0


def count_capped(stmt: Select[*tuple[Any, ...]], cap: int = COUNT_CAP) -> Count:
    """How many rows the statement selects, counting no further than cap + 1."""
    # Keep the statement's own FROM: when every condition sits in an EXISTS (an administrator's register filtered by
    # site), dropping the columns would leave "SELECT 1" with no table, counted as one row.
    limited = (stmt.with_only_columns(literal_column("1"), maintain_column_froms=True).order_by(None)
               .limit(cap + 1).subquery())
    n = db.session.scalar(select(func.count()).select_from(limited)) or 0
    return Count(min(n, cap), n > cap)
