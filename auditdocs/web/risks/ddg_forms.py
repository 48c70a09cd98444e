"""Forms of the due-diligence and gifts pages; field names are the services' input names, so a refusal lands at its
field."""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import select
from wtforms import DateField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from ...ddg_labels import (
    ASSOCIATE_CATEGORY_LABELS,
    DD_DECISION_LABELS,
    DD_SUBJECT_TYPE_LABELS,
    GIFT_DECISION_LABELS,
    GIFT_DIRECTION_LABELS,
    GIFT_KIND_LABELS,
    RISK_LEVEL_LABELS,
)
from ...extensions import db
from ...models import BriberyRisk
from ...models.risks import CATEGORIES, DD_DECISIONS, DD_SUBJECT_TYPES, GIFT_DECISIONS, GIFT_DIRECTIONS, GIFT_KINDS
from ...models.risks import RATINGS as RISK_LEVELS
from ..documents.forms import ClauseField
from ..forms import opts
from ..nonconformities.forms import staff_choices
from ..programme_forms import process_choices, site_choices

TEXT_MAX, NAME_MAX = 20000, 300
NONE = _l("— none —")
CHOOSE = _l("— choose —")


def risk_choices() -> list[SelectChoice]:
    """Every bribery risk of the register (staff see them all), by reference."""
    rows = db.session.scalars(select(BriberyRisk).order_by(BriberyRisk.number))
    return opts((r.id, f"{r.reference} — {r.title}") for r in rows)


def _coded(labels: dict[str, object], codes: Iterable[str], blank: object = None) -> list[SelectChoice]:
    pairs: list[tuple[object, object]] = [("", blank)] if blank is not None else []
    return opts([*pairs, *((k, labels[k]) for k in codes)])


class LinkFields(FlaskForm):
    """Links shared by both registers: bribery risks, clauses, evidence and the change note."""

    risk_ids = SelectMultipleField(_l("Bribery risks"), coerce=int, choices=[],
                                   description=_l("Hold Ctrl (or ⌘) to choose more than one."))
    clause_ids = ClauseField(_l("Standards and clauses"))
    evidence = FileField(_l("Evidence file"), description=_l("Optional; more files can be added on the page."))
    note = StringField(_l("Change note"), validators=[Optional(), Length(max=2000)],
                       description=_l("Why you change it (kept in the history)."))


class DdForm(LinkFields):
    """Every field of a due-diligence file (ISO 37001 8.2)."""

    subject_type = SelectField(_l("Subject"), choices=_coded(DD_SUBJECT_TYPE_LABELS, DD_SUBJECT_TYPES))
    subject_name = StringField(_l("Name of the subject"), validators=[
        DataRequired(_l("Name the subject of the due diligence.")), Length(max=NAME_MAX)])
    category = SelectField(_l("Category"), choices=_coded(ASSOCIATE_CATEGORY_LABELS, CATEGORIES, CHOOSE))
    position = StringField(_l("Position"), validators=[Optional(), Length(max=NAME_MAX)],
                           description=_l("For personnel: the position held or to be held."))
    site_id = SelectField(_l("Site"), coerce=int, choices=[])
    process_id = SelectField(_l("Process"), coerce=int, choices=[])
    risk_level = SelectField(_l("Bribery-risk level"), choices=_coded(RISK_LEVEL_LABELS, RISK_LEVELS, CHOOSE))
    checks_performed = TextAreaField(_l("Checks performed"), validators=[
        DataRequired(_l("Describe the checks performed.")), Length(max=TEXT_MAX)])
    result = TextAreaField(_l("Result of the checks"), validators=[Optional(), Length(max=TEXT_MAX)])
    decision = SelectField(_l("Decision"), choices=_coded(DD_DECISION_LABELS, DD_DECISIONS, _l("— not decided yet —")))
    conditions = TextAreaField(_l("Conditions"), validators=[Optional(), Length(max=TEXT_MAX)],
                               description=_l("Only when proceeding with conditions."))
    decided_on = DateField(_l("Decided on"), validators=[Optional()])
    reviewer_id = SelectField(_l("Reviewer"), coerce=int, choices=[])
    next_review = DateField(_l("Next review"), validators=[Optional()])

    def fill(self, keep_users: Iterable[int | None] = (), keep_site: int | None = None,
             keep_process: int | None = None) -> DdForm:
        """Choices for this request; values already chosen stay offered."""
        self.site_id.choices = opts([(0, NONE)]) + site_choices([keep_site] if keep_site else [])
        self.process_id.choices = opts([(0, NONE)]) + process_choices([keep_process] if keep_process else [])
        self.reviewer_id.choices = staff_choices("record_due_diligence", keep_users, blank=NONE)
        self.risk_ids.choices = risk_choices()
        self.clause_ids.offer_clauses()
        return self


class GiftForm(LinkFields):
    """Every field of an entry of the gifts register (ISO 37001 8.7)."""

    kind = SelectField(_l("Kind"), choices=_coded(GIFT_KIND_LABELS, GIFT_KINDS))
    direction = SelectField(_l("Given or received"), choices=_coded(GIFT_DIRECTION_LABELS, GIFT_DIRECTIONS))
    occurred_on = DateField(_l("Date"), validators=[DataRequired(_l("Enter the day it was given or received."))])
    internal_party = StringField(_l("Our side (person or unit)"), validators=[
        DataRequired(_l("Name the person or unit of the organisation involved.")), Length(max=NAME_MAX)])
    counterparty = StringField(_l("Other party"), validators=[DataRequired(_l("Name the other party.")),
                                                              Length(max=NAME_MAX)])
    counterparty_category = SelectField(_l("Category of the other party"),
                                        choices=_coded(ASSOCIATE_CATEGORY_LABELS, CATEGORIES, CHOOSE))
    site_id = SelectField(_l("Site"), coerce=int, choices=[])
    value = StringField(_l("Value"), validators=[DataRequired(_l("Enter the value (0 when it has none).")),
                                                 Length(max=20)],
                        description=_l("Estimated market value, e.g. 150.50."))
    currency = StringField(_l("Currency"), validators=[DataRequired(
        _l("Enter the currency (ISO 4217 code, e.g. PEN or USD).")), Length(max=10)],
        description=_l("ISO 4217 code, e.g. PEN or USD."))
    description = TextAreaField(_l("Description"), validators=[DataRequired(_l("Describe what it was.")),
                                                               Length(max=TEXT_MAX)])
    purpose = TextAreaField(_l("Purpose or occasion"), validators=[
        DataRequired(_l("State the purpose or the occasion.")), Length(max=TEXT_MAX)])
    decision = SelectField(_l("Decision"), choices=_coded(GIFT_DECISION_LABELS, GIFT_DECISIONS,
                                                          _l("— not decided yet —")))
    decision_note = TextAreaField(_l("Decision note"), validators=[Optional(), Length(max=TEXT_MAX)])

    def fill(self, keep_site: int | None = None) -> GiftForm:
        """Choices for this request; values already chosen stay offered."""
        self.site_id.choices = opts([(0, NONE)]) + site_choices([keep_site] if keep_site else [])
        self.risk_ids.choices = risk_choices()
        self.clause_ids.offer_clauses()
        return self


class ApproveForm(FlaskForm):
    """Approve an entry waiting for approval (a note is optional)."""

    approval_note = TextAreaField(_l("Approval note"), validators=[Optional(), Length(max=TEXT_MAX)])


class RejectForm(FlaskForm):
    """Reject an entry waiting for approval, saying why."""

    approval_note = TextAreaField(_l("Reason for rejecting"), validators=[
        DataRequired(_l("Say why the entry is rejected.")), Length(max=TEXT_MAX)])


class ThresholdForm(FlaskForm):
    """Set the value from which gifts in one currency need approval."""

    currency = StringField(_l("Currency"), validators=[DataRequired(
        _l("Enter the currency (ISO 4217 code, e.g. PEN or USD).")), Length(max=10)],
        description=_l("ISO 4217 code, e.g. PEN or USD."))
    amount = StringField(_l("Threshold"), validators=[DataRequired(_l("Enter the threshold amount.")),
                                                      Length(max=20)],
                         description=_l("A gift of this value or more needs approval."))
    note = StringField(_l("Reason for the change"), validators=[Optional(), Length(max=2000)])


class FileForm(FlaskForm):
    """Add an evidence file."""

    file = FileField(_l("Evidence file"), validators=[FileRequired(_l("Choose a file to upload."))])


class AsOfForm(FlaskForm):
    """The day of the point-in-time view (a GET form: no CSRF)."""

    class Meta:
        csrf = False

    on = DateField(_l("As it stood on"), validators=[Optional()])
