"""Certification scope, certificates and the audit programme (auditors read, staff keep them).

Every page is readable by each signed-in role; every change needs `manage_programme` and goes through a service
that validates it and audits it. Refused values come back on the form, next to their field, with status 400.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select

from ..db import write_transaction
from ..extensions import db
from ..models import Audit, Certificate, Clause, Standard
from ..models.programme import AUDIT_TYPES, SCOPE_KEYS
from ..policy import current_scope
from ..services import ServiceError
from ..services import certificates as certs
from ..services import programme as svc
from ..timeutil import local_today
from . import programme_certificates
from .params import int_or_none
from .programme_forms import LABELS, AuditForm, ScopeForm, invalid, manages, map_order, refused
from .security import actor, require

bp = Blueprint("programme", __name__)
programme_certificates.add_routes(bp)


@bp.app_context_processor
def _labels() -> dict[str, Any]:
    """The programme's translated labels, for these pages and the sampling and site pages that show audits."""
    return LABELS


bp.add_app_template_filter(map_order, "map_order")


@bp.route("/programme")
def index() -> ResponseReturnValue:
    """The timeline: each certificate's three-year cycle with its audits, then the internal audits."""
    today = local_today()
    cycles, internal = certs.programme(today)
    return render_template("programme/index.html", cycles=cycles, internal=internal, today=today,
                           manages=manages())


def _not_applicable() -> dict[str, list[Clause]]:
    """Per standard slug, the clauses marked not applicable (excluded), in catalogue order."""
    rows = db.session.scalars(select(Clause).join(Standard).where(Clause.applicable.is_(False))
                              .order_by(Standard.sort_order, Clause.sort_key))
    out: dict[str, list[Clause]] = {}
    for clause in rows:
        out.setdefault(clause.standard.slug, []).append(clause)
    return out


@bp.route("/scope")
def scope() -> ResponseReturnValue:
    """Each certification scope with its sites, processes and certificates; per standard, the exclusions."""
    scopes = {key: svc.scope_for(key) for key in SCOPE_KEYS}
    by_scope: dict[int, list[Certificate]] = {}
    for cert in db.session.scalars(select(Certificate).order_by(Certificate.issued_on.desc(), Certificate.id)):
        by_scope.setdefault(cert.scope_id, []).append(cert)
    standards = db.session.scalars(select(Standard).order_by(Standard.sort_order)).all()
    missing = [key for key in SCOPE_KEYS if scopes[key] is None]
    return render_template("programme/scope.html", scopes=scopes, missing=missing, by_scope=by_scope,
                           standards=standards, excluded=_not_applicable(), today=local_today(), manages=manages())


@bp.route("/scope/<key>/edit", methods=["GET", "POST"])
@require("manage_programme")
def edit_scope(key: str) -> ResponseReturnValue:
    """Write a scope's statement (es/en) and choose its sites and processes."""
    if key not in SCOPE_KEYS:
        abort(404)
    current = svc.scope_for(key)
    site_ids = [s.id for s in current.sites] if current else []
    process_ids = [p.id for p in current.processes] if current else []
    form = ScopeForm(obj=current).fill(site_ids, process_ids)
    if request.method == "GET":
        form.sites.data, form.processes.data = site_ids, process_ids
        return render_template("programme/scope_edit.html", form=form, key=key)
    if not form.validate_on_submit():
        return invalid(form, "programme/scope_edit.html", key=key)
    try:
        with write_transaction():
            svc.update_scope(key, statement_es=form.statement_es.data, statement_en=form.statement_en.data,
                             site_ids=form.sites.data or [], process_ids=form.processes.data or [], actor=actor())
    except ServiceError as exc:
        return refused(exc, form, "programme/scope_edit.html", key=key)
    flash(_("Certification scope saved."), "success")
    return redirect(url_for("programme.scope"))


# -- audits -----------------------------------------------------------------------------------------------------


def audit_or_404(audit_id: int) -> Audit:
    """An audit of the programme (every signed-in role reads the programme)."""
    return db.get_or_404(Audit, audit_id)


def _audit_input(form: AuditForm) -> svc.AuditInput:
    return svc.AuditInput(
        audit_type=form.audit_type.data or "", certificate_id=form.certificate.data or None,
        stage=form.stage.data or "single", planned_start=form.planned_start.data,
        planned_end=form.planned_end.data, actual_start=form.actual_start.data, actual_end=form.actual_end.data,
        auditing_body=form.auditing_body.data, lead_auditor=form.lead_auditor.data,
        status=form.status.data or "planned", notes=form.notes.data, process_ids=form.processes.data or [],
        site_ids=form.sites.data or [])


@bp.route("/audits/new", methods=["GET", "POST"])
@require("manage_programme")
def new_audit() -> ResponseReturnValue:
    """Plan an audit: a certification audit of a certificate's cycle (`?certificate=<id>&type=...`) or an internal
    one."""
    form = AuditForm().fill()
    if request.method == "GET":
        cert = db.session.get(Certificate, int_or_none(request.args.get("certificate")) or 0)
        wanted = request.args.get("type", "")
        form.audit_type.data = wanted if wanted in AUDIT_TYPES else ("surveillance_1" if cert else "internal")
        if cert is not None:
            form.certificate.data, form.auditing_body.data = cert.id, cert.body
        return render_template("programme/audit_edit.html", form=form, item=None)
    if not form.validate_on_submit():
        return invalid(form, "programme/audit_edit.html", item=None)
    try:
        with write_transaction():
            audit_id = svc.create_audit(_audit_input(form), actor=actor(), today=local_today()).id
    except ServiceError as exc:
        return refused(exc, form, "programme/audit_edit.html", item=None)
    flash(_("Audit planned."), "success")
    return redirect(url_for("programme.audit", audit_id=audit_id))


@bp.route("/audits/<int:audit_id>")
def audit(audit_id: int) -> ResponseReturnValue:
    """One audit: what, when, by whom, what it covers, the sites (with why each is in the sample)."""
    item = audit_or_404(audit_id)
    sampling = (item.is_certification and item.status == "planned" and manages()
                and "sampling.propose" in current_app.view_functions)  # a sample is drawn for a planned audit
    raise_nc = ("nonconformities.new" in current_app.view_functions
                and current_scope().refuse_record_nonconformity() is None)  # a finding of this audit
    return render_template("programme/audit.html", item=item, manages=manages(), sampling=sampling,
                           raise_nc=raise_nc)


@bp.route("/audits/<int:audit_id>/edit", methods=["GET", "POST"])
@require("manage_programme")
def edit_audit(audit_id: int) -> ResponseReturnValue:
    """Change an audit's dates, status, team, processes (and an internal audit's sites)."""
    item = audit_or_404(audit_id)
    process_ids, site_ids = [p.id for p in item.processes], [s.site_id for s in item.sites]
    form = AuditForm(obj=item).fill(process_ids, site_ids)
    if request.method == "GET":
        form.certificate.data = item.certificate_id or 0
        form.processes.data, form.sites.data = process_ids, site_ids
        return render_template("programme/audit_edit.html", form=form, item=item)
    if item.is_certification:
        form.sites.data = []  # chosen on the sample page, never here
    if not form.validate_on_submit():
        return invalid(form, "programme/audit_edit.html", item=item)
    try:
        with write_transaction():
            changed = svc.update_audit(item, _audit_input(form), actor=actor(), today=local_today())
    except ServiceError as exc:
        return refused(exc, form, "programme/audit_edit.html", item=item)
    flash(_("Audit saved.") if changed else _("Nothing to change."), "success" if changed else "info")
    return redirect(url_for("programme.audit", audit_id=audit_id))
