"""The clause browser: each standard's tree, a clause's page, applicability and title corrections."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from ..db import write_transaction
from ..extensions import db
from ..models import Clause, CrossMap, Standard
from ..policy import current_scope
from ..services import clauses as clause_service
from ..standards import texts
from ..timeutil import local_today
from .forms import ApplicabilityForm, ClauseTitleForm
from .helpers import current_lang
from .placing import placement_filter
from .security import actor, require

bp = Blueprint("clauses", __name__, url_prefix="/clauses")


@bp.route("/")
def index() -> ResponseReturnValue:
    """Both standards as trees, with documented-information and applicability marks."""
    standards = db.session.scalars(select(Standard).order_by(Standard.sort_order)).all()
    return render_template("clauses/index.html", standards=standards)


def _clause_or_404(slug: str, number: str) -> Clause:
    clause = db.session.scalar(
        select(Clause).join(Standard).where(Standard.slug == slug, Clause.number == number)
        .options(selectinload(Clause.standard))
    )
    if clause is None:
        abort(404)
    return clause


@bp.route("/<slug>/<number>")
def detail(slug: str, number: str) -> ResponseReturnValue:
    """One clause: what it asks for, its documents (for a site or process when asked), its twin in the other
    standard, applicability."""
    clause = _clause_or_404(slug, number)
    children = db.session.scalars(
        select(Clause).where(Clause.parent_id == clause.id).order_by(Clause.sort_key)
    ).all()
    twins = db.session.scalars(
        select(CrossMap).where(or_(CrossMap.left_clause_id == clause.id, CrossMap.right_clause_id == clause.id))
    ).all()
    form = ApplicabilityForm(applicable="yes" if clause.applicable else "no",
                             reason=clause.not_applicable_reason)
    title_form = ClauseTitleForm(title_en=clause.title_en, title_es=clause.title_es)
    scope = current_scope()
    placement = placement_filter(request.args)
    extra = clause_service.clause_page_extras(clause, scope, local_today(), placement.listed(), placement.evidence())
    lang = current_lang()
    return render_template("clauses/detail.html", clause=clause, children=children, twins=twins, placement=placement,
                           evidence=texts.evidence_hint(clause, lang),
                           topics={m.id: texts.crossmap_topic(m.topic, lang) for m in twins},
                           form=form, title_form=title_form, may_set_applicability=scope.can("set_applicability"),
                           may_correct_titles=scope.can("correct_titles"), **extra)


@bp.route("/<slug>/<number>/applicability", methods=["POST"])
@require("set_applicability")
def applicability(slug: str, number: str) -> ResponseReturnValue:
    """Record (non-)applicability with who, when and why."""
    clause = _clause_or_404(slug, number)
    form = ApplicabilityForm()
    if not form.validate_on_submit():
        abort(400)
    with write_transaction():
        clause_service.set_applicability(clause, form.applicable.data == "yes", form.reason.data or "",
                                         actor=actor())
        ref = clause.ref
    flash(_("Applicability of %(ref)s saved.", ref=ref), "success")
    return redirect(url_for("clauses.detail", slug=slug, number=number))


@bp.route("/<slug>/<number>/title", methods=["POST"])
@require("correct_titles")
def title(slug: str, number: str) -> ResponseReturnValue:
    """Correct a catalogue title without a code change."""
    clause = _clause_or_404(slug, number)
    form = ClauseTitleForm()
    if not form.validate_on_submit():
        abort(400)
    with write_transaction():
        clause_service.correct_title(clause, form.title_en.data or "", form.title_es.data or "", actor=actor())
        ref = clause.ref
    flash(_("Title of %(ref)s corrected.", ref=ref), "success")
    return redirect(url_for("clauses.detail", slug=slug, number=number))
