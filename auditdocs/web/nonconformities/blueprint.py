"""The nonconformities blueprint and what its views share: lookups under the access scope, labels and replies."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort

from ...labels import (
    ACTION_STATUS_LABELS,
    ISHIKAWA_CATEGORY_LABELS,
    NC_GRADE_LABELS,
    NC_SOURCE_LABELS,
    NC_STATUS_LABELS,
    ROOT_CAUSE_METHOD_LABELS,
)
from ...models import CorrectiveAction, Nonconformity
from ...policy import current_scope
from ...services import ServiceError
from ...services.actions import get_action
from ...services.nonconformities import get_nonconformity

bp = Blueprint("nonconformities", __name__, url_prefix="/nonconformities")

LABELS = {"nc_source_labels": NC_SOURCE_LABELS, "nc_grade_labels": NC_GRADE_LABELS,
          "nc_status_labels": NC_STATUS_LABELS, "action_status_labels": ACTION_STATUS_LABELS,
          "root_cause_method_labels": ROOT_CAUSE_METHOD_LABELS, "ishikawa_category_labels": ISHIKAWA_CATEGORY_LABELS}


@bp.app_context_processor
def _labels() -> dict[str, Any]:
    """The register's translated labels, for these pages and those that list nonconformities (dashboard, tasks)."""
    return LABELS


@bp.before_request
def _may_see() -> None:
    """Every page needs the right to read nonconformities (all signed-in roles today: the policy says)."""
    if not current_scope().can("see_nonconformities"):
        abort(403)


def nc_or_404(nc_id: int) -> Nonconformity:
    """A nonconformity the current user sees, else 404."""
    try:
        return get_nonconformity(current_scope(), nc_id)
    except ServiceError:
        abort(404)


def action_or_404(nc: Nonconformity, action_id: int) -> CorrectiveAction:
    """An action of this nonconformity, else 404 (an action of another one is not this one's)."""
    try:
        action = get_action(current_scope(), action_id)
    except ServiceError:
        abort(404)
    if action.nonconformity_id != nc.id:
        abort(404)
    return action
