"""Dashboard, language switch and health check."""

from __future__ import annotations

import os

from flask import Blueprint, current_app, jsonify, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import func, select, text

from ..db import write_transaction
from ..extensions import db
from ..models import Clause, Standard
from ..policy import current_scope
from ..search.maintenance import index_state
from .dashboard import dashboard_context
from .helpers import safe_next
from .security import actor

bp = Blueprint("main", __name__)


@bp.route("/")
def dashboard() -> ResponseReturnValue:
    """Landing page: what needs attention before the next audit."""
    return render_template("main/dashboard.html", **dashboard_context())


@bp.route("/lang", methods=["POST"])
def set_language() -> ResponseReturnValue:
    """Remember the chosen language in the session (and on the account when logged in)."""
    lang = request.form.get("lang", "")
    if lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang
        if current_user.is_authenticated and current_user.language != lang:
            with write_transaction():
                actor().language = lang
    return redirect(safe_next(request.form.get("next"), url_for("main.dashboard")))


@bp.route("/healthz")
def healthz() -> ResponseReturnValue:
    """Machine-readable state, without login: "ok" or "degraded" for anyone (a load balancer), the details (backend,
    counts, what failed) only for administrators, as they help an attacker more than a monitor."""
    checks: dict[str, object] = {}
    ok = True
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = {
            "status": "ok",
            "backend": db.engine.dialect.name,
            "clauses": db.session.scalar(select(func.count(Clause.id))),
            "standards": db.session.scalar(select(func.count(Standard.id))),
        }
    except Exception as exc:  # pragma: no cover - exercised with a broken URL
        ok = False
        checks["database"] = {"status": "error", "error": exc.__class__.__name__}
        db.session.rollback()
    data_dir = current_app.config["DATA_DIR"]
    writable = os.access(data_dir, os.W_OK)
    ok = ok and writable
    checks["storage"] = {"status": "ok" if writable else "error"}
    checks["index"] = index_state()
    body: dict[str, object] = {"status": "ok" if ok else "degraded"}
    if current_scope().can("manage_users"):
        body["checks"] = checks
    return jsonify(body), (200 if ok else 503)
