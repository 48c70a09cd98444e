"""The review flags of the bribery-risk register written for a person: past the review date, a withdrawn control, an
overdue treatment action (the core's risk_flags finds them; the dashboard and the risks pages show them)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ...models.risks import BriberyRisk
from ...policy import AccessScope, current_scope
from ...services import risk_flags
from ..helpers import fmt_date

FLAG_LABELS = {"review_overdue": _l("Review overdue"), "control_withdrawn": _l("Control withdrawn"),
               "treatment_overdue": _l("Treatment action overdue")}


@dataclass(frozen=True)
class FlagRow:
    """One flag as a line of a list."""

    kind: str
    kind_label: str
    risk_id: int
    reference: str
    title: str
    detail: str


def _detail(flag: risk_flags.ReviewFlag) -> str:
    if flag.kind == "review_overdue":
        return str(_("review was due on %(day)s", day=fmt_date(flag.since)))
    if flag.kind == "control_withdrawn":
        return str(_("%(code)s is withdrawn", code=flag.detail))
    return str(_("%(code)s was due on %(day)s", code=flag.detail, day=fmt_date(flag.since)))


def flag_rows(scope: AccessScope, today: date) -> list[FlagRow]:
    """Every flag of the risks this reader sees."""
    return [FlagRow(f.kind, str(FLAG_LABELS.get(f.kind, f.kind)), f.risk_id, f.reference, f.title, _detail(f))
            for f in risk_flags.flags(scope, today)]


def flags_for(risks: Iterable[BriberyRisk], today: date) -> list[FlagRow]:
    """The flags of some risks (a risk's own page)."""
    wanted = {r.id for r in risks}
    return [f for f in flag_rows(current_scope(), today) if f.risk_id in wanted]
