"""Forms for controlled documents; choices are filled per request (users, clauses)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import select
from wtforms import DateField, IntegerField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from ...extensions import db
from ...labels import CONFIDENTIALITY_LABELS, KIND_LABELS, LANGUAGE_LABELS
from ...models import Clause, Standard, User
from ...models.documents import CONFIDENTIALITY, KINDS, LANGUAGES
from ..forms import opts
from ..helpers import current_lang


def clause_choices() -> list[SelectChoice]:
    """Every clause, written with its edition, in the user's language."""
    lang = current_lang()
    rows = db.session.execute(
        select(Clause, Standard.code).join(Standard).order_by(Standard.sort_order, Clause.sort_key)
    ).all()
    return opts((c.id, f"{code} {c.number} — {c.title(lang)}") for c, code in rows)


def user_choices() -> list[SelectChoice]:
    """Active users who can own or receive a document."""
    users = db.session.scalars(select(User).where(User.active.is_(True)).order_by(User.name)).all()
    return opts((u.id, f"{u.name} <{u.email}>") for u in users)


class VersionFields(FlaskForm):
    """The file and what the uploader says about it."""

    file = FileField(_l("File"), validators=[FileRequired(_l("Choose a file to upload."))])
    revision_label = StringField(_l("Revision label"), validators=[Optional(), Length(max=40)],
                                 description=_l("As your organisation writes it, e.g. “v4” or “Rev. 3”."))
    change_note = TextAreaField(_l("Change note"), validators=[Optional(), Length(max=4000)])
    effective_date = DateField(_l("Effective date"), validators=[Optional()],
                               description=_l("When this version takes effect once approved "
                                              "(default: the approval date)."))


class DocumentForm(VersionFields):
    """Register a new document with its first version."""

    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=60)],
                       description=_l("Unique, e.g. PR-QA-001."))
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)])
    kind = SelectField(_l("Kind"), choices=opts((k, KIND_LABELS[k]) for k in KINDS), default="procedure")
    language = SelectField(_l("Language"), choices=opts((k, LANGUAGE_LABELS[k]) for k in LANGUAGES))
    confidentiality = SelectField(_l("Confidentiality"),
                                  choices=opts((k, CONFIDENTIALITY_LABELS[k]) for k in CONFIDENTIALITY),
                                  description=_l("Restricted: seen only by administrators, the owner and "
                                                 "the people it is shared with."))
    owner = SelectField(_l("Owner"), coerce=int, choices=[])
    review_interval_months = IntegerField(_l("Review every (months)"), default=12,
                                          validators=[NumberRange(1, 120)])
    retention_years = IntegerField(_l("Retention (years)"), validators=[Optional(), NumberRange(1, 100)],
                                   description=_l("Empty: keep permanently."))
    clauses = SelectMultipleField(_l("Clauses it serves"), coerce=int, choices=[])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=4000)])

    def fill(self) -> DocumentForm:
        self.owner.choices = user_choices()
        self.clauses.choices = clause_choices()
        return self


class VersionForm(VersionFields):
    """Upload a new version of an existing document."""


class ApproveForm(FlaskForm):
    """Approve a draft, optionally with an effective date in the future."""

    effective_date = DateField(_l("Effective date"), validators=[Optional()])


class ReasonForm(FlaskForm):
    """Reject a draft or withdraw a document: a reason is required."""

    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(min=5, max=4000)])


class ReviewForm(FlaskForm):
    """Record a periodic review with no change."""

    note = TextAreaField(_l("Review note"), validators=[Optional(), Length(max=4000)])


class ClausesForm(FlaskForm):
    """Map a document to clauses of both standards."""

    clauses = SelectMultipleField(_l("Clauses it serves"), coerce=int, choices=[])

    def fill(self) -> ClausesForm:
        self.clauses.choices = clause_choices()
        return self


class MetadataForm(FlaskForm):
    """Descriptive metadata; content changes only through new versions."""

    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)])
    kind = SelectField(_l("Kind"), choices=opts((k, KIND_LABELS[k]) for k in KINDS))
    language = SelectField(_l("Language"), choices=opts((k, LANGUAGE_LABELS[k]) for k in LANGUAGES))
    confidentiality = SelectField(_l("Confidentiality"),
                                  choices=opts((k, CONFIDENTIALITY_LABELS[k]) for k in CONFIDENTIALITY))
    owner_id = SelectField(_l("Owner"), coerce=int, choices=[])
    review_interval_months = IntegerField(_l("Review every (months)"), validators=[NumberRange(1, 120)])
    retention_years = IntegerField(_l("Retention (years)"), validators=[Optional(), NumberRange(1, 100)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=4000)])
    shared_with = SelectMultipleField(_l("Shared with (restricted documents)"), coerce=int, choices=[])

    def fill(self) -> MetadataForm:
        self.owner_id.choices = user_choices()
        self.shared_with.choices = user_choices()
        return self


class BulkClauseForm(FlaskForm):
    """Add one clause to the documents ticked in the register."""

    clause = SelectField(_l("Clause"), coerce=int, choices=[])

    def fill(self, choices: list[SelectChoice] | None = None) -> BulkClauseForm:
        self.clause.choices = choices if choices is not None else clause_choices()
        return self
