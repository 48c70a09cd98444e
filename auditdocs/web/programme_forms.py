"""Forms, labels and refusal replies of the scope, certificate and audit pages; choices are filled per request."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import flash, render_template
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import or_, select
from wtforms import DateField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..extensions import db
from ..labels import AUDIT_STATUS_LABELS, AUDIT_TYPE_LABELS
from ..models import Certificate, Process, Site
from ..models.org import PROCESS_CATEGORIES
from ..models.programme import AUDIT_STAGES, AUDIT_STATUSES, AUDIT_TYPES, SCOPE_KEYS
from ..policy import current_scope
from ..services import ServiceError
from ..services.programme import InvalidInput
from .errors import note_refusal
from .forms import opts, show_errors
from .helpers import current_lang

SCOPE_LABELS = {"iso9001_2015": _l("ISO 9001:2015 (quality)"), "iso37001_2016": _l("ISO 37001:2016 (anti-bribery)"),
                "integrated": _l("Integrated: ISO 9001 and ISO 37001")}
STAGE_LABELS = {"single": _l("Single"), "stage_1": _l("Stage 1"), "stage_2": _l("Stage 2")}
LABELS = {"scope_labels": SCOPE_LABELS, "audit_type_labels": AUDIT_TYPE_LABELS, "stage_labels": STAGE_LABELS,
          "audit_status_labels": AUDIT_STATUS_LABELS}


class Checkboxes(SelectMultipleField):
    """A multiple choice shown as checkboxes (ids as integers)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def __init__(self, label: object = None, **kwargs: object) -> None:
        super().__init__(label, coerce=int, choices=[], **kwargs)


def site_choices(keep: Iterable[int] = ()) -> list[SelectChoice]:
    """Active sites (and inactive ones already chosen), the central function first."""
    keep = list(keep)
    rows = db.session.scalars(select(Site).where(or_(Site.active.is_(True), Site.id.in_(keep)))
                              .order_by(Site.parent_id.is_not(None), Site.code))
    lang = current_lang()
    return opts((s.id, f"{s.code} — {s.name(lang)}") for s in rows)


def map_order(processes: Iterable[Process]) -> list[Process]:
    """Processes as the process map reads: strategic, operational, support, each in its own order."""
    rank = {category: n for n, category in enumerate(PROCESS_CATEGORIES)}
    return sorted(processes, key=lambda p: (rank.get(p.category, len(rank)), p.sort_order, p.code))


def process_choices(keep: Iterable[int] = ()) -> list[SelectChoice]:
    """Active processes (and inactive ones already chosen) in process-map order."""
    keep = list(keep)
    rows = db.session.scalars(select(Process).where(or_(Process.active.is_(True), Process.id.in_(keep))))
    lang = current_lang()
    return opts((p.id, f"{p.code} — {p.name(lang)}") for p in map_order(rows))


class ScopeForm(FlaskForm):
    """A certification scope: the statement in both languages, the sites and processes it covers."""

    statement_es = TextAreaField(_l("Scope statement (Spanish)"), validators=[Optional(), Length(max=8000)])
    statement_en = TextAreaField(_l("Scope statement (English)"), validators=[Optional(), Length(max=8000)])
    sites = Checkboxes(_l("Sites in scope"))
    processes = Checkboxes(_l("Processes in scope"))

    def fill(self, site_ids: Iterable[int] = (), process_ids: Iterable[int] = ()) -> ScopeForm:
        self.sites.choices = site_choices(site_ids)
        self.processes.choices = process_choices(process_ids)
        return self


class CertificateForm(FlaskForm):
    """A certificate's details; on the new-certificate page, its file too (optional: it may come later)."""

    number = StringField(_l("Certificate number"), validators=[DataRequired(), Length(max=80)])
    scope = SelectField(_l("Scope"), choices=opts((k, SCOPE_LABELS[k]) for k in SCOPE_KEYS), default="integrated")
    body = StringField(_l("Certification body"), validators=[DataRequired(), Length(max=200)])
    issued_on = DateField(_l("Issue date"), validators=[DataRequired(_l("Enter the issue date."))])
    expires_on = DateField(_l("Expiry date"), validators=[DataRequired(_l("Enter the expiry date."))])
    file = FileField(_l("Certificate file"), description=_l("The certificate as issued, usually a PDF. "
                                                            "You can also add it later."))


class CertificateFileForm(FlaskForm):
    """A new file for a certificate; earlier files stay listed."""

    file = FileField(_l("Certificate file"), validators=[FileRequired(_l("Choose a file to upload."))])


def certificate_choices() -> list[SelectChoice]:
    """Every certificate, the newest first, after "none" (internal audits belong to no certificate)."""
    rows = db.session.scalars(select(Certificate).order_by(Certificate.issued_on.desc(), Certificate.id.desc()))
    return opts([(0, _l("— none (internal audit) —"))] + [(c.id, f"{c.number} · {c.body}") for c in rows])


class AuditForm(FlaskForm):
    """An audit of the programme: what kind, when, by whom, what it covers, and how it stands."""

    audit_type = SelectField(_l("Type"), choices=opts((k, AUDIT_TYPE_LABELS[k]) for k in AUDIT_TYPES))
    certificate = SelectField(_l("Certificate"), coerce=int, choices=[])
    stage = SelectField(_l("Stage"), choices=opts((k, STAGE_LABELS[k]) for k in AUDIT_STAGES),
                        description=_l("Stages 1 and 2 are for initial certification audits."))
    planned_start = DateField(_l("Planned start"), validators=[Optional()])
    planned_end = DateField(_l("Planned end"), validators=[Optional()])
    actual_start = DateField(_l("Actual start"), validators=[Optional()])
    actual_end = DateField(_l("Actual end"), validators=[Optional()])
    auditing_body = StringField(_l("Certification body or internal audit team"), validators=[Length(max=200)])
    lead_auditor = StringField(_l("Lead auditor"), validators=[Optional(), Length(max=200)])
    status = SelectField(_l("Status"), choices=opts((k, AUDIT_STATUS_LABELS[k]) for k in AUDIT_STATUSES),
                         description=_l("Done needs the actual dates; for a cancelled audit, give the reason in "
                                        "the notes."))
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=8000)])
    processes = Checkboxes(_l("Processes covered"))
    sites = Checkboxes(_l("Sites covered (internal audits)"),
                       description=_l("A certification audit's sites come from its site sample."))

    def fill(self, process_ids: Iterable[int] = (), site_ids: Iterable[int] = ()) -> AuditForm:
        self.certificate.choices = certificate_choices()
        self.processes.choices = process_choices(process_ids)
        self.sites.choices = site_choices(site_ids)
        return self


# -- replies ----------------------------------------------------------------------------------------------------


def manages() -> bool:
    """Whether the current person may change the scope and the programme (the pages show buttons by it)."""
    return current_scope().can("manage_programme")



def refused(exc: ServiceError, form: FlaskForm, template: str, **ctx: Any) -> ResponseReturnValue:
    """A refused change: the same page again, with the message at its field (or above the form) and its status."""
    if isinstance(exc, InvalidInput):
        flash(_("Please correct the marked fields."), "danger")
        show_errors(form, exc)
    else:
        if exc.status == 403:
            note_refusal(403)
        flash(str(exc.message), "danger")
    return render_template(template, form=form, **ctx), exc.status


def invalid(form: FlaskForm, template: str, **ctx: Any) -> ResponseReturnValue:
    """The form's own checks failed: show it again with 400."""
    flash(_("Please correct the marked fields."), "danger")
    return render_template(template, form=form, **ctx), 400
