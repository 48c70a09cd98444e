"""Reminders: each owner of overdue or soon-due corrective actions gets one e-mail digest, in their language.

Why this shape: `auditdocs remind` runs from cron (daily on working days). It never remembers what it sent before
to stay quiet: while an action is overdue or due within 14 days, its owner is reminded on every run — that is the
point of a daily reminder, and a run that failed leaves nothing to catch up on. Each digest is sent on its own, and
only once the SMTP server has accepted it is it recorded ("reminder.sent" in the audit trail, with the actions
it named); a refused or unreachable server records nothing, so nothing claims a reminder that never left.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from flask_babel import format_date, ngettext
from flask_babel import gettext as _
from sqlalchemy import Select, select
from sqlalchemy.orm import contains_eager, selectinload
from werkzeug.routing import BuildError

from ..extensions import db
from ..models import CorrectiveAction, Nonconformity, User
from ..timeutil import utcnow
from . import audit, mail
from .nc_queries import DUE_SOON, NOT_DONE

ACTION = "reminder.sent"
DESCRIPTION_MAX = 300  # a digest names each action; the full text is one click away


@dataclass
class Digest:
    """One owner's e-mail and what it names."""

    owner_id: int
    email: str
    message: mail.Message
    action_ids: list[int]
    codes: list[str]
    overdue: int
    due_soon: int


@dataclass
class Plan:
    """What a run would send, and the owners it cannot reach (a disabled account)."""

    digests: list[Digest] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def due_actions(today: date) -> Select[CorrectiveAction]:
    """Every action still owed (planned, in progress) that is overdue or due within 14 days, by owner then due date."""
    return (select(CorrectiveAction).join(Nonconformity, Nonconformity.id == CorrectiveAction.nonconformity_id)
            .where(CorrectiveAction.status.in_(NOT_DONE), CorrectiveAction.due_date <= today + DUE_SOON)
            .order_by(CorrectiveAction.owner_id, CorrectiveAction.due_date, CorrectiveAction.id)
            .options(contains_eager(CorrectiveAction.nonconformity), selectinload(CorrectiveAction.owner)))


def _reachable(user: User) -> bool:
    return bool(user.active) and (user.access_until is None or user.access_until > utcnow())


def plan(today: date) -> Plan:
    """The digests of this run, one per reachable owner."""
    owners: dict[int, list[CorrectiveAction]] = {}
    for action in db.session.scalars(due_actions(today)):
        owners.setdefault(action.owner_id, []).append(action)
    out = Plan()
    for actions in owners.values():
        owner = actions[0].owner
        if not _reachable(owner):
            out.skipped.append(f"{owner.email}: account disabled or expired; {len(actions)} action(s) need another "
                               "owner: " + ", ".join(a.code for a in actions))
            continue
        overdue = [a for a in actions if a.due_date < today]
        soon = [a for a in actions if a.due_date >= today]
        out.digests.append(Digest(owner.id, owner.email, digest_message(owner, overdue, soon, today),
                                  [a.id for a in actions], [a.code for a in actions], len(overdue), len(soon)))
    return out


def _short(text: str) -> str:
    flat = re.sub(r"\s+", " ", text).strip()
    return flat if len(flat) <= DESCRIPTION_MAX else flat[: DESCRIPTION_MAX - 1].rstrip() + "…"


def _link(action: CorrectiveAction) -> str | None:
    """The action on its nonconformity's page (AUDITDOCS_BASE_URL must be set for the command line to know it)."""
    try:
        address = mail.link("nonconformities.detail", nc_id=action.nonconformity_id)
    except BuildError:  # an installation without the register's pages: the code alone names it
        return None
    return f"{address}#action-{action.id}" if address else None


def _lines(action: CorrectiveAction, today: date) -> list[str]:
    day = format_date(action.due_date, "long")
    if action.due_date < today:
        late = (today - action.due_date).days
        head = _("%(code)s, due %(day)s (%(late)s)", code=action.code, day=day,
                 late=ngettext("%(num)d day late", "%(num)d days late", late))
    else:
        head = _("%(code)s, due %(day)s", code=action.code, day=day)
    lines = [f"- {head}", f"  {_short(action.description)}",
             "  " + _("Nonconformity: %(title)s", title=_short(action.nonconformity.title))]
    if address := _link(action):
        lines.append(f"  {address}")
    return lines


def digest_message(owner: User, overdue: Sequence[CorrectiveAction], soon: Sequence[CorrectiveAction],
                   today: date) -> mail.Message:
    """The digest in the owner's language: overdue ones first (most overdue first), then those due soon."""
    with mail.language_of(owner):
        subject = _("[auditdocs] Your corrective actions — overdue: %(overdue)d, due within 14 days: %(soon)d",
                    overdue=len(overdue), soon=len(soon))
        parts = [_("Hello %(name)s,", name=owner.name),
                 _("These corrective actions are assigned to you in auditdocs and are overdue or due within the "
                   "next 14 days.")]
        for title, group in ((_("Overdue"), overdue), (_("Due within the next 14 days"), soon)):
            if group:
                parts.append("\n".join([f"{title}:", *(line for a in group for line in _lines(a, today))]))
        parts.append(_("You receive this reminder on every working day while you own actions that are overdue or "
                       "due within 14 days. Record their progress in auditdocs to keep it up to date."))
        return mail.Message(owner.email, subject, "\n\n".join(parts) + "\n")


def record_sent(digest: Digest) -> None:
    """The audit event of a digest the SMTP server accepted (the caller commits)."""
    audit.record(ACTION, "user", digest.owner_id, actor_label="cli",
                 new={"email": digest.email, "actions": digest.codes, "action_ids": digest.action_ids,
                      "overdue": digest.overdue, "due_soon": digest.due_soon})
