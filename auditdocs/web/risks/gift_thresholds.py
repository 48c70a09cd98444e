"""The gift thresholds page: the value per currency from which an entry needs approval (administrators set them;
everyone who reads the register sees them and their history)."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from ...db import write_transaction
from ...policy import current_scope
from ...services import ServiceError
from ...services import gift_thresholds as thresholds
from ..forms import form_refused, report
from ..security import actor, require
from .blueprint import bp
from .ddg_forms import ThresholdForm
from .ddg_support import refuse_unless_allowed


def _page(form: ThresholdForm, status: int = 200) -> ResponseReturnValue:
    return render_template("risks/gifts/thresholds.html", form=form, in_force=thresholds.all_in_force(),
                           changes=thresholds.changes(),
                           may_set=current_scope().refuse_set_thresholds() is None), status


@bp.route("/gifts/thresholds", methods=["GET", "POST"])
@require("see_risks")
def gift_thresholds() -> ResponseReturnValue:
    """The thresholds in force and every change to them; an administrator sets a currency's threshold here."""
    form = ThresholdForm()
    if not form.is_submitted():
        return _page(form)
    refuse_unless_allowed(current_scope().refuse_set_thresholds())
    if not form.validate():
        return _page(form, form_refused())
    try:
        with write_transaction():
            row, changed = thresholds.set_threshold(form.currency.data, form.amount.data, form.note.data,
                                                    actor=actor())
            currency = row.currency
    except ServiceError as exc:
        return _page(form, report(exc, form))
    flash(_("Threshold for %(currency)s saved.", currency=currency) if changed else _("Nothing to change."),
          "success" if changed else "info")
    return redirect(url_for("risks.gift_thresholds"))
