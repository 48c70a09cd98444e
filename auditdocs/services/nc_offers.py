"""What the nonconformity page offers one person: the buttons allowed by their role (policy) and possible in the
record's state (the services' rules), so the page never shows a button the service would refuse.

Why here, not in policy: the state rules (close_refusal) live with the services, and policy must not import them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..models import CorrectiveAction, Nonconformity
from ..models.records import LIVE_ACTION
from ..policy import AccessScope
from .nonconformities import close_refusal


@dataclass(frozen=True)
class ActionOffers:
    """The steps one person may take on one action now."""

    edit: bool = False
    start: bool = False
    implement: bool = False
    schedule_check: bool = False
    record_check: bool = False
    cancel: bool = False


@dataclass(frozen=True)
class NcOffers:
    """The buttons of a nonconformity's page for one person."""

    edit: bool = False
    add_action: bool = False
    attach: bool = False
    close: bool = False
    close_without_action: bool = False
    reopen: bool = False
    actions: dict[int, ActionOffers] = field(default_factory=dict)


def action_offers(scope: AccessScope, action: CorrectiveAction) -> ActionOffers:
    """One action's possible steps for this person."""
    if action.nonconformity.is_closed:
        return ActionOffers()
    working = action.status in ("planned", "in_progress") and scope.refuse_work_action(action) is None
    recorder = scope.refuse_record_nonconformity() is None
    return ActionOffers(
        edit=working, start=working and action.status == "planned", implement=working,
        schedule_check=recorder and action.status == "implemented",
        record_check=action.status == "implemented" and scope.refuse_check_action(action) is None,
        cancel=action.status in LIVE_ACTION and scope.refuse_cancel_action(action) is None,
    )


def nc_offers(scope: AccessScope, nc: Nonconformity) -> NcOffers:
    """The page's buttons: allowed for this person and possible in the nonconformity's state."""
    recorder = scope.refuse_record_nonconformity() is None
    closer = scope.refuse_close_nonconformity(nc) is None
    open_nc = not nc.is_closed
    return NcOffers(
        edit=recorder and open_nc, add_action=recorder and open_nc, attach=recorder and open_nc,
        close=closer and close_refusal(nc, no_action=False) is None,
        close_without_action=closer and close_refusal(nc, no_action=True) is None,
        reopen=closer and nc.is_closed,
        actions={a.id: action_offers(scope, a) for a in nc.actions},
    )
