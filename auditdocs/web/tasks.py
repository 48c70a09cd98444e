"""My tasks: what the signed-in person owes, most urgent first (see services.tasks for what counts)."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask.typing import ResponseReturnValue

from ..policy import current_scope
from ..services.tasks import can_have_tasks, my_tasks
from ..timeutil import local_today

bp = Blueprint("tasks", __name__, url_prefix="/tasks")
LISTED = 200  # a person with more has a backlog to discuss, not a list to scroll


@bp.route("/")
def index() -> ResponseReturnValue:
    """Every task of the person; an external auditor has none to have (403, and no menu entry)."""
    scope = current_scope()
    if not can_have_tasks(scope):
        abort(403)
    today = local_today()
    return render_template("tasks/index.html", mine=my_tasks(scope, today, LISTED), today=today)
