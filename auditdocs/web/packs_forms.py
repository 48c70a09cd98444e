"""The form that asks for a Word pack; choices are filled per request, the inputs are checked by packs.spec."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, DateField, SelectField, SelectMultipleField, StringField
from wtforms.validators import Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from ..extensions import db
from ..labels import AUDIT_TYPE_LABELS
from ..models import Audit, Standard
from ..packs.spec import LANGS
from .forms import opts
from .params import int_or_none, plausible_date
from .programme_forms import STAGE_LABELS

LANG_LABELS = {"es": _l("Spanish"), "en": _l("English")}
_SPLIT = re.compile(r"[\s,;]+")


class StandardBoxes(SelectMultipleField):
    """The standards as checkboxes (codes as values)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class PackForm(FlaskForm):
    """What a pack covers: standards, clauses, one audit or some sites, the period, the language, zip or not."""

    standards = StandardBoxes(_l("Standards"), choices=[], validate_choice=False,
                              description=_l("Both standards make one integrated pack, joined by the cross-map."))
    clauses = StringField(_l("Clauses"), validators=[Optional(), Length(max=2000)],
                          description=_l("Clause numbers separated by commas or spaces, e.g. 8.5, 9.2 (each with "
                                         "its sub-clauses). Empty: the whole standard."))
    audit = SelectField(_l("Audit of the programme"), choices=[], validate_choice=False,
                        description=_l("Its sites and processes, and by default the year up to its last day."))
    sites = StringField(_l("Sites"), validators=[Optional(), Length(max=2000)],
                        description=_l("Site codes separated by commas or spaces, instead of an audit. Empty: the "
                                       "whole organisation."))
    date_from = DateField(_l("Period from"), validators=[Optional()])
    date_to = DateField(_l("Period to"), validators=[Optional()],
                        description=_l("Empty: the year up to today (or to the audit's last day)."))
    lang = SelectField(_l("Language of the pack"), choices=[])
    bundle = BooleanField(_l("Evidence bundle (.zip with every evidence file, the manifests and the Word pack)"))

    def fill(self, lang: str) -> None:
        """Choices from the catalogue and the programme; the language defaults to the page's."""
        rows = db.session.execute(select(Standard.code, Standard.title_en, Standard.title_es)
                                  .order_by(Standard.sort_order))
        self.standards.choices = opts((code, f"{code} — {(title_es if lang == 'es' else None) or title_en}")
                                      for code, title_en, title_es in rows)
        audits = db.session.scalars(select(Audit).order_by(Audit.planned_start.desc(), Audit.id.desc()))
        self.audit.choices = opts([("", _l("None: choose sites, or the whole organisation")),
                                   *((a.id, audit_label(a)) for a in audits)])
        self.lang.choices = opts((code, LANG_LABELS[code]) for code in LANGS)
        if not self.is_submitted():
            self.lang.data = lang if lang in LANGS else LANGS[0]

    def validate_date_from(self, field: DateField) -> None:
        if not plausible_date(field.data):
            raise ValidationError(str(_l("Enter a date between 1990 and 2100.")))

    def validate_date_to(self, field: DateField) -> None:
        if not plausible_date(field.data):
            raise ValidationError(str(_l("Enter a date between 1990 and 2100.")))

    def validate_audit(self, field: SelectField) -> None:
        if field.data and int_or_none(field.data) is None:
            raise ValidationError(str(_l("Choose an audit from the list.")))

    def audit_id(self) -> int | None:
        """The chosen audit's id, or None."""
        return int_or_none(self.audit.data)

    def standard_codes(self) -> list[str]:
        """The standards ticked (an empty value is none)."""
        return [str(c) for c in self.standards.data or [] if str(c).strip()]

    def clause_numbers(self) -> list[str]:
        """The clause numbers typed, in the order given."""
        return [n for n in _SPLIT.split(self.clauses.data or "") if n]

    def site_codes(self) -> list[str]:
        """The site codes typed, in the order given."""
        return [c for c in _SPLIT.split(self.sites.data or "") if c]


def audit_label(audit: Audit) -> str:
    """"2026-05-04 · First surveillance · Stage 2 · AENOR": when, what and by whom, as the programme shows it."""
    parts = [audit.planned_start.isoformat(), str(AUDIT_TYPE_LABELS.get(audit.audit_type, audit.audit_type))]
    if audit.stage != "single":
        parts.append(str(STAGE_LABELS.get(audit.stage, audit.stage)))
    parts.append(audit.auditing_body)
    return " · ".join(parts)
