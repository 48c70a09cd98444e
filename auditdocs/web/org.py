"""The organisation: the site tree and the process map (read by every signed-in role, kept by quality officers)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from sqlalchemy import select

from ..db import write_transaction
from ..extensions import db
from ..models import Process, Site
from ..policy import current_scope
from ..services import ServiceError, site_signals
from ..services import org as svc
from ..timeutil import local_today
from .errors import render_error
from .org_forms import CATEGORY_LABELS, NONE, ProcessForm, SiteForm
from .security import actor, require

bp = Blueprint("org", __name__, url_prefix="/org")
COUNTERS = (
    (site_signals.OPEN_MAJOR_NONCONFORMITIES, "open_major_nonconformities"),
    (site_signals.HIGH_RESIDUAL_RISKS, "high_residual_risks"),
)


def _show_refusal(form: FlaskForm, exc: ServiceError) -> ResponseReturnValue | None:
    """Put a service's refusal at the fields it concerns; a refusal of the person (403) gets the error page."""
    if not isinstance(exc, svc.FieldErrors):
        return render_error(exc.status, str(exc.message))
    for name, messages in exc.errors.items():
        target = getattr(form, name, None)
        if target is None:
            flash(" ".join(map(str, messages)), "danger")
            continue
        target.errors = [*target.errors, *map(str, messages)]
    return None


def _form_page(template: str, form: FlaskForm, status: int = 200, **ctx: Any) -> ResponseReturnValue:
    """The form again, with its errors at the fields (400 when there are any)."""
    return render_template(template, form=form, **ctx), (status if status != 200 else 400 if form.errors else 200)


def _submit(form: FlaskForm, template: str, write: Callable[[], tuple[str, str, str]],
            **ctx: Any) -> ResponseReturnValue:
    """Validate, write in one transaction, say what happened and go on (write returns message, category, next
    URL); or the form again with the service's refusal at its fields."""
    if form.validate_on_submit():
        try:
            with write_transaction():
                message, category, url = write()
        except ServiceError as exc:
            if (page := _show_refusal(form, exc)) is not None:
                return page
            return _form_page(template, form, exc.status, **ctx)
        flash(message, category)
        return redirect(url)
    return _form_page(template, form, **ctx)


def _updated(changed: bool, message: str, url: str) -> tuple[str, str, str]:
    """The outcome of an edit: what changed, or that nothing did."""
    return (message, "success", url) if changed else (_("Nothing to change."), "info", url)


@bp.route("/sites")
def sites() -> ResponseReturnValue:
    """The site tree, indented: the central function, its regional units, their offices."""
    return render_template("org/sites.html", tree=svc.site_tree(), can_manage=current_scope().can("manage_org"))


@bp.route("/sites/new", methods=["GET", "POST"])
@require("manage_org")
def new_site() -> ResponseReturnValue:
    """Add a site (an office under a regional unit, say); ?parent= preselects where it belongs."""
    form = SiteForm().fill()
    if request.method == "GET":
        wanted = request.args.get("parent", type=int)
        if wanted and any(value == str(wanted) for value, *_rest in form.parent_id.iter_choices()):
            form.parent_id.data = wanted

    def write() -> tuple[str, str, str]:
        site = svc.create_site(form.data_for_service(), actor=actor())
        return _("Site %(code)s created.", code=site.code), "success", url_for("org.site", site_id=site.id)

    return _submit(form, "org/site_form.html", write, site=None)


@bp.route("/sites/<int:site_id>")
def site(site_id: int) -> ResponseReturnValue:
    """A site's details, its offices, and what is known about it today (evidence coverage, last audit)."""
    found = db.get_or_404(Site, site_id)
    children = db.session.scalars(select(Site).where(Site.parent_id == found.id).order_by(Site.code)).all()
    signals = site_signals.signals([found.id], local_today())[found.id]
    tracked = {attr: site_signals.tracked(name) for name, attr in COUNTERS}
    return render_template("org/site.html", site=found, children=children, signals=signals, tracked=tracked,
                           can_manage=current_scope().can("manage_org"))


@bp.route("/sites/<int:site_id>/edit", methods=["GET", "POST"])
@require("manage_org")
def edit_site(site_id: int) -> ResponseReturnValue:
    """Change a site, or deactivate it (sites are never deleted)."""
    found = db.get_or_404(Site, site_id)
    form = SiteForm(obj=found).fill(found)
    if request.method == "GET" and found.parent_id is None:
        form.parent_id.data = NONE

    def write() -> tuple[str, str, str]:
        changed = svc.update_site(found, form.data_for_service(), actor=actor())
        return _updated(changed, _("Site %(code)s updated.", code=found.code), url_for("org.site", site_id=site_id))

    return _submit(form, "org/site_form.html", write, site=found)


@bp.route("/processes")
def processes() -> ResponseReturnValue:
    """The process map: strategic, operational and support processes, each with its owner."""
    return render_template("org/processes.html", groups=svc.processes_by_category(), labels=CATEGORY_LABELS,
                           can_manage=current_scope().can("manage_org"))


@bp.route("/processes/new", methods=["GET", "POST"])
@require("manage_org")
def new_process() -> ResponseReturnValue:
    """Add a process to the map."""
    form = ProcessForm().fill()
    if request.method == "GET" and request.args.get("category") in CATEGORY_LABELS:
        form.category.data = request.args["category"]

    def write() -> tuple[str, str, str]:
        code = svc.create_process(form.data_for_service(), actor=actor()).code
        return _("Process %(code)s created.", code=code), "success", url_for("org.processes")

    return _submit(form, "org/process_form.html", write, process=None)


@bp.route("/processes/<int:process_id>/edit", methods=["GET", "POST"])
@require("manage_org")
def edit_process(process_id: int) -> ResponseReturnValue:
    """Change a process, or deactivate it (processes are never deleted)."""
    found = db.get_or_404(Process, process_id)
    form = ProcessForm(obj=found).fill(found)

    def write() -> tuple[str, str, str]:
        changed = svc.update_process(found, form.data_for_service(), actor=actor())
        return _updated(changed, _("Process %(code)s updated.", code=found.code), url_for("org.processes"))

    return _submit(form, "org/process_form.html", write, process=found)
