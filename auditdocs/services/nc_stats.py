"""The compliance dashboard's figures: open nonconformities by grade, clause, site and process, their ageing, and
the days from detection to closure (average and 90th percentile), every one counted in the database.

Why one module: the dashboard and its panel on the main page must count the same things the register lists when a
count's link is followed (nc_queries' conditions), and on SQLite as on PostgreSQL the same numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Float, Select, and_, case, cast, func, literal, select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Clause, CorrectiveAction, Nonconformity, Process, Standard, nonconformity_clauses
from ..models.records import NC_GRADES
from ..policy import AccessScope
from . import org, placement
from .counts import Count, count_capped
from .nc_queries import (
    actions_due,
    actions_overdue,
    checks_owed_query,
    days_to_close,
    my_actions_query,
    open_condition,
)

TOP_CLAUSES = 10  # the clauses most often cited by open nonconformities
LISTED = 20  # rows per action list; the counts go up to services.counts.COUNT_CAP
# Age of an open nonconformity (today - detected on), inclusive upper bounds in days; None: no upper bound.
AGE_BUCKETS: tuple[tuple[int, int | None], ...] = ((0, 30), (31, 60), (61, 90), (91, 180), (181, None))
PERCENTILE = 0.9


@dataclass(frozen=True)
class Placed:
    """A site or process with its open nonconformities; for a site, `total` adds the sites under it."""

    id: int
    code: str
    name_es: str
    name_en: str | None
    count: int
    total: int
    depth: int = 0
    region: str | None = None

    def name(self, lang: str | None) -> str:
        """The name in the given language, falling back to Spanish."""
        return self.name_en if lang == "en" and self.name_en else self.name_es


@dataclass(frozen=True)
class ClauseCount:
    """A clause cited by open nonconformities."""

    id: int
    standard_code: str
    number: str
    title_en: str
    title_es: str | None
    count: int

    def title(self, lang: str | None) -> str:
        """The clause title in the given language, falling back to English (the catalogue's own)."""
        return self.title_es if lang == "es" and self.title_es else self.title_en


@dataclass(frozen=True)
class ClosureTimes:
    """Days from detection to closure over the closed nonconformities; None when none is closed."""

    closed: int
    average: float | None
    p90: float | None


def _condition(scope: AccessScope, site_ids: Sequence[int] | None) -> ColumnElement[bool]:
    """What this person sees, within the site filter (a subtree) when there is one."""
    parts = [scope.nonconformity_condition()]
    if site_ids is not None:
        parts.append(Nonconformity.site_id.in_(list(site_ids)))
    return and_(*parts)


def site_filter_ids(site_id: int | None) -> list[int] | None:
    """The site and the sites under it, or None for the whole organisation."""
    return None if site_id is None else placement.subtree_ids(site_id)


def open_by_grade(scope: AccessScope, site_ids: Sequence[int] | None = None) -> dict[str, int]:
    """Open nonconformities per grade, every grade present (zero when none)."""
    rows = db.session.execute(select(Nonconformity.grade, func.count()).where(
        _condition(scope, site_ids), open_condition()).group_by(Nonconformity.grade)).all()
    found = dict(rows)
    return {grade: found.get(grade, 0) for grade in NC_GRADES}


def open_by_clause(scope: AccessScope, site_ids: Sequence[int] | None = None,
                   limit: int = TOP_CLAUSES) -> list[ClauseCount]:
    """The clauses (of both standards) most cited by open nonconformities, most cited first."""
    n = func.count().label("n")
    stmt = (select(Clause.id, Standard.code, Clause.number, Clause.title_en, Clause.title_es, n)
            .select_from(nonconformity_clauses)
            .join(Nonconformity, Nonconformity.id == nonconformity_clauses.c.nonconformity_id)
            .join(Clause, Clause.id == nonconformity_clauses.c.clause_id)
            .join(Standard, Standard.id == Clause.standard_id)
            .where(_condition(scope, site_ids), open_condition())
            .group_by(Clause.id, Standard.code, Standard.sort_order, Clause.number, Clause.sort_key,
                      Clause.title_en, Clause.title_es)
            .order_by(n.desc(), Standard.sort_order, Clause.sort_key).limit(limit))
    return [ClauseCount(*row) for row in db.session.execute(stmt).all()]


def _counts_by(column: Any, scope: AccessScope, site_ids: Sequence[int] | None) -> dict[int | None, int]:
    rows = db.session.execute(select(column, func.count()).where(_condition(scope, site_ids), open_condition())
                              .group_by(column)).all()
    return dict(rows)


def open_by_site(scope: AccessScope, site_ids: Sequence[int] | None = None) -> tuple[list[Placed], int]:
    """Sites in tree order with their open nonconformities, each site's total including the sites under it (what
    the register shows for that site); sites with none left out. Also the open ones recorded at no site."""
    direct = _counts_by(Nonconformity.site_id, scope, site_ids)
    tree = org.site_tree()
    totals: dict[int, int] = {}
    stack: list[tuple[int, int]] = []  # (site id, depth) of the ancestors of the current site
    for site, depth in tree:  # the tree is small and walked once: the counts came from the database
        while stack and stack[-1][1] >= depth:
            stack.pop()
        n = direct.get(site.id, 0)
        totals[site.id] = totals.get(site.id, 0) + n
        for ancestor, _depth in stack:
            totals[ancestor] = totals.get(ancestor, 0) + n
        stack.append((site.id, depth))
    out = [Placed(s.id, s.code, s.name_es, s.name_en, direct.get(s.id, 0), totals[s.id], depth, s.region)
           for s, depth in tree if totals.get(s.id)]
    return out, direct.get(None, 0)


def open_by_process(scope: AccessScope, site_ids: Sequence[int] | None = None) -> tuple[list[Placed], int]:
    """Processes with open nonconformities, most first; also the open ones recorded for no process."""
    n = func.count().label("n")
    stmt = (select(Process.id, Process.code, Process.name_es, Process.name_en, n)
            .join(Nonconformity, Nonconformity.process_id == Process.id)
            .where(_condition(scope, site_ids), open_condition())
            .group_by(Process.id, Process.code, Process.name_es, Process.name_en, Process.sort_order)
            .order_by(n.desc(), Process.sort_order, Process.code))
    rows = [Placed(pid, code, es, en, count, count) for pid, code, es, en, count in db.session.execute(stmt).all()]
    none = db.session.scalar(select(func.count()).select_from(Nonconformity).where(
        _condition(scope, site_ids), open_condition(), Nonconformity.process_id.is_(None))) or 0
    return rows, none


def ageing(scope: AccessScope, today: date, site_ids: Sequence[int] | None = None) -> list[dict[str, int]]:
    """Per age bucket (AGE_BUCKETS order), open nonconformities per grade. The bucket is decided on the detection
    date against date bounds, the same on every backend and served by the detected_on index."""
    whens = []
    for index, (_low, high) in enumerate(AGE_BUCKETS):
        if high is not None:
            whens.append((Nonconformity.detected_on >= today - timedelta(days=high), literal(index)))
    bucket = case(*whens, else_=literal(len(AGE_BUCKETS) - 1)).label("bucket")
    rows = db.session.execute(select(bucket, Nonconformity.grade, func.count())
                              .where(_condition(scope, site_ids), open_condition())
                              .group_by(bucket, Nonconformity.grade)).all()
    out = [dict.fromkeys(NC_GRADES, 0) for _ in AGE_BUCKETS]
    for index, grade, n in rows:
        if grade in out[int(index)]:
            out[int(index)][grade] = n
    return out


def _closed(scope: AccessScope, site_ids: Sequence[int] | None) -> ColumnElement[bool]:
    return and_(_condition(scope, site_ids), Nonconformity.status == "closed", Nonconformity.closed_on.is_not(None))


def _p90_sqlite(scope: AccessScope, site_ids: Sequence[int] | None) -> Select[Any]:
    """percentile_cont(0.9) in window functions: the value at 0-based position h = 0.9 (n - 1) of the sorted days,
    interpolated linearly between ranks floor(h) and floor(h) + 1, as PostgreSQL defines it. The position is kept in
    integer arithmetic (9 (n - 1) / 10) so no rounding moves it to a neighbouring rank."""
    days = days_to_close().label("days")
    ranked = select(days, (func.row_number().over(order_by=days) - 1).label("rn"),
                    func.count().over().label("n")).where(_closed(scope, site_ids)).subquery()
    tenths = (ranked.c.n - 1) * 9  # the position h, in tenths
    low = tenths // 10  # integer division: floor(h)
    frac = (tenths % 10) / 10.0
    low_value = func.max(case((ranked.c.rn == low, ranked.c.days)))
    high_value = func.max(case((ranked.c.rn == low + 1, ranked.c.days)))
    return select(low_value + (func.coalesce(high_value, low_value) - low_value) * func.max(frac))


def closure_times(scope: AccessScope, site_ids: Sequence[int] | None = None) -> ClosureTimes:
    """Average and 90th-percentile days from detection to closure of the closed nonconformities (rounded to a tenth
    of a day for display; both backends give the same figures)."""
    days = days_to_close()
    closed, average = db.session.execute(select(func.count(), func.avg(days)).where(
        _closed(scope, site_ids))).one()
    if not closed:
        return ClosureTimes(0, None, None)
    if db.engine.dialect.name == "postgresql":
        p90 = db.session.scalar(select(cast(func.percentile_cont(PERCENTILE).within_group(days), Float))
                                .where(_closed(scope, site_ids)))
    else:
        p90 = db.session.scalar(_p90_sqlite(scope, site_ids))
    return ClosureTimes(closed, round(float(average), 1), None if p90 is None else round(float(p90), 1))


def _on_sites(stmt: Select[Any], site_ids: Sequence[int] | None) -> Select[Any]:
    return stmt if site_ids is None else stmt.where(Nonconformity.site_id.in_(list(site_ids)))


@dataclass
class ActionList:
    """The first rows of an action list and how many there are in all."""

    rows: list[CorrectiveAction]
    count: Count


def _listed(stmt: Select[Any], limit: int = LISTED) -> ActionList:
    rows = stmt.limit(limit).options(selectinload(CorrectiveAction.owner))  # the lists name each owner
    return ActionList(list(db.session.scalars(rows).unique()), count_capped(stmt))


def action_lists(scope: AccessScope, today: date, site_ids: Sequence[int] | None = None) -> dict[str, ActionList]:
    """Overdue, due in the next 14 days, mine to carry out and the effectiveness checks I owe."""
    return {
        "overdue": _listed(_on_sites(actions_overdue(scope, today), site_ids)),
        "due": _listed(_on_sites(actions_due(scope, today), site_ids)),
        "mine": _listed(_on_sites(my_actions_query(scope), site_ids)),
        "checks": _listed(_on_sites(checks_owed_query(scope), site_ids)),
    }


def panel(scope: AccessScope, today: date) -> dict[str, Any]:
    """The main dashboard's panel: open nonconformities by grade and the number of overdue actions."""
    return {"by_grade": open_by_grade(scope), "overdue": count_capped(actions_overdue(scope, today))}
