"""Site sampling for a certification audit by IAF MD 1: propose, adjust, confirm."""

from __future__ import annotations

from babel.numbers import get_decimal_symbol
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale, ngettext
from flask_babel import lazy_gettext as _l

from ..db import write_transaction
from ..extensions import db
from ..labels import AUDIT_TYPE_LABELS
from ..models import Audit
from ..services import sampling
from ..services.sampling import Proposal, SampleRefused
from .helpers import current_lang
from .params import int_or_none
from .programme_forms import STAGE_LABELS
from .sampling_forms import SampleForm
from .security import actor, require

bp = Blueprint("sampling", __name__)

AUDIT_PAGE = "programme.audit"  # the audit's own page in the programme, linked when it is registered


@bp.route("/audits/<int:audit_id>/sample", methods=["GET", "POST"])
@require("manage_programme")
def propose(audit_id: int) -> ResponseReturnValue:
    """The proposed sample (or the confirmed one) with every candidate site's figures; POST confirms a choice."""
    audit = db.get_or_404(Audit, audit_id)
    form = SampleForm()
    if request.method == "POST":
        return _confirm(audit, form)
    proposal = sampling.proposal_for(audit, _seed_arg(audit))
    if audit.sample_confirmed_at is not None and proposal.seed == audit.sample_seed:
        checked = {s.site_id for s in audit.sites}
    else:
        checked = proposal.picked_ids
    form.seed.data = proposal.seed
    return _render(audit, proposal, form, checked)


def _confirm(audit: Audit, form: SampleForm) -> ResponseReturnValue:
    """Validate, confirm in one write, and go to the audit; a refusal is shown at its field with the table kept."""
    audit_id = audit.id
    if not form.validate_on_submit():
        proposal = sampling.proposal_for(audit, None if form.seed.errors else form.seed.data)
        return _render(audit, proposal, form, set(form.site_ids())), 400
    seed = int(form.seed.data)
    try:
        with write_transaction():
            audit = db.get_or_404(Audit, audit_id)
            proposal = sampling.confirm(audit, form.site_ids(), seed, form.note.data, actor())
            regional = len(audit.sites) - 1
    except SampleRefused as exc:
        if exc.field is None:
            raise
        field = getattr(form, exc.field)
        field.errors = [*field.errors, str(exc.message)]
        audit = db.get_or_404(Audit, audit_id)
        return _render(audit, sampling.proposal_for(audit, seed), form, set(form.site_ids())), exc.status
    flash(ngettext("Site sample confirmed: the central function and %(num)d other site (seed %(seed)s).",
                   "Site sample confirmed: the central function and %(num)d other sites (seed %(seed)s).",
                   regional, seed=proposal.seed), "success")
    if AUDIT_PAGE in current_app.view_functions:
        return redirect(url_for(AUDIT_PAGE, audit_id=audit_id))
    return redirect(url_for("sampling.propose", audit_id=audit_id, seed=proposal.seed))


def _seed_arg(audit: Audit) -> int | None:
    """`?seed=N` reproduces a proposal; without it the confirmed seed, else a fresh one. Not a number: refused."""
    text = request.args.get("seed", "").strip()
    if not text:
        return audit.sample_seed
    if text == "0":
        return 0
    seed = int_or_none(text, sampling.MAX_SEED)
    if seed is None:
        raise SampleRefused(_l("The seed must be a whole number from 0 to %(max)d.", max=sampling.MAX_SEED))
    return seed


def _render(audit: Audit, proposal: Proposal, form: SampleForm, checked: set[int]) -> str:
    """The page: formula with its numbers, the seed, the candidates (proposed first) and the confirm form."""
    picked = [p.site.id for p in proposal.picks]
    rows = sorted(proposal.candidates,
                  key=lambda c: picked.index(c.site.id) if c.site.id in picked else len(picked))
    decimal = get_decimal_symbol(get_locale() or current_app.config["DEFAULT_LANGUAGE"])
    return render_template(
        "sampling/propose.html", audit=audit, proposal=proposal, form=form, rows=rows,
        checked=checked, formula=proposal.formula(decimal), lang=current_lang(),
        editable=audit.status == "planned", nc_tracked=sampling.open_ncs_tracked(),
        type_label=_audit_title(audit),
        audit_url=_audit_url(audit), draw_again=url_for("sampling.propose", audit_id=audit.id,
                                                        seed=sampling.new_seed()),
        cycle_visits=sampling.cycle_last_visits(proposal.certificate, [c.site.id for c in proposal.candidates]))


def _audit_title(audit: Audit) -> str:
    """As the programme pages name an audit: its type, and its stage when it has two."""
    title = str(AUDIT_TYPE_LABELS.get(audit.audit_type, audit.audit_type))
    return title if audit.stage == "single" else f"{title} · {STAGE_LABELS.get(audit.stage, audit.stage)}"


def _audit_url(audit: Audit) -> str | None:
    """The audit's own page, once the programme pages provide it."""
    return url_for(AUDIT_PAGE, audit_id=audit.id) if AUDIT_PAGE in current_app.view_functions else None
