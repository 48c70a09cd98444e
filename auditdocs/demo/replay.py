"""Steps of demo history gathered first, then played in date order with the clock set to each step's moment.

Why: revisions, audit events and numbering must carry the day each step happened (timeutil.replayed_at), and
references must follow the order things were recorded; the risk, due-diligence and gift stories share this.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from ..timeutil import org_tz, replayed_at


@dataclass(order=True)
class Step:
    """One thing that happened on a day; `order` keeps steps of the same day in the order they were planned."""

    day: date
    order: int
    run: Callable[[date], object] = field(compare=False)


class Timeline:
    """Steps `days ago`, played back in date order a few minutes apart (from 9:00 on each day)."""

    def __init__(self, today: date) -> None:
        self.today = today
        self.steps: list[Step] = []

    def day(self, ago: int) -> date:
        return self.today - timedelta(days=ago)

    def at(self, ago: int, run: Callable[[date], object]) -> None:
        self.steps.append(Step(self.day(ago), len(self.steps), run))

    def play(self) -> None:
        per_day: dict[date, int] = {}
        for step in sorted(self.steps):
            k = per_day[step.day] = per_day.get(step.day, -1) + 1
            moment = datetime.combine(step.day, time(9, 0), org_tz()) + timedelta(minutes=7 * k)
            with replayed_at(moment):
                step.run(step.day)
