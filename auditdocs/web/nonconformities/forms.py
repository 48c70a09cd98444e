"""Forms of the nonconformity pages; field names are the services' input names, so a refusal lands at its field."""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import or_, select
from wtforms import BooleanField, DateField, HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from ...extensions import db
from ...labels import (
    AUDIT_TYPE_LABELS,
    ISHIKAWA_CATEGORY_LABELS,
    NC_GRADE_LABELS,
    NC_SOURCE_LABELS,
    ROOT_CAUSE_METHOD_LABELS,
)
from ...models import Audit, User
from ...models.records import ISHIKAWA_CATEGORIES, NC_GRADES, NC_SOURCES, ROOT_CAUSE_METHODS
from ...policy import AccessScope
from ..documents.forms import ClauseField
from ..forms import opts
from ..programme_forms import process_choices, site_choices

TEXT_MAX = 20000
NONE = _l("— none —")


def staff_choices(capability: str, keep: Iterable[int | None] = (), blank: object = None,
                  exclude: int | None = None) -> list[SelectChoice]:
    """Active accounts whose role can do the work (owners, checkers, detectors), and anyone already chosen."""
    kept = {k for k in keep if k}
    users = db.session.scalars(select(User).where(or_(User.active.is_(True), User.id.in_(kept)))
                               .order_by(User.name)).all()
    pairs: list[tuple[object, object]] = [(0, blank)] if blank is not None else []
    pairs += [(u.id, f"{u.name} <{u.email}>") for u in users
              if u.id != exclude and (u.id in kept or AccessScope.of(u).can(capability))]
    return opts(pairs)


def audit_choices() -> list[SelectChoice]:
    """Audits of the programme, the latest first: a finding from an audit names it."""
    rows = db.session.scalars(select(Audit).order_by(Audit.planned_start.desc(), Audit.id.desc()))
    pairs: list[tuple[object, object]] = [(0, NONE)]
    pairs += [(a.id, f"{AUDIT_TYPE_LABELS.get(a.audit_type, a.audit_type)} · {a.auditing_body} · "
                     f"{a.planned_start.isoformat() if a.planned_start else ''}") for a in rows]
    return opts(pairs)


class NcForm(FlaskForm):
    """Every field of a nonconformity (item 1 of issue 11); an evidence file may come with it."""

    title = StringField(_l("Title"), validators=[DataRequired(_l("Give the nonconformity a title.")),
                                                 Length(max=300)])
    description = TextAreaField(_l("Description"), validators=[DataRequired(_l("Describe what was found.")),
                                                               Length(max=TEXT_MAX)])
    source = SelectField(_l("Source"), choices=opts((k, NC_SOURCE_LABELS[k]) for k in NC_SOURCES))
    audit_id = SelectField(_l("Audit of the programme"), coerce=int, choices=[],
                           description=_l("For a finding of an internal or external audit."))
    grade = SelectField(_l("Grade"), choices=opts((k, NC_GRADE_LABELS[k]) for k in NC_GRADES))
    detected_on = DateField(_l("Detected on"), validators=[DataRequired(_l("Enter the day it was detected."))])
    detected_by_id = SelectField(_l("Detected by (a user)"), coerce=int, choices=[])
    detected_by_name = StringField(_l("Detected by (someone without an account)"),
                                   validators=[Optional(), Length(max=200)],
                                   description=_l("A citizen, the certification body's auditor…: fill one of "
                                                  "the two."))
    site_id = SelectField(_l("Site"), coerce=int, choices=[])
    process_id = SelectField(_l("Process"), coerce=int, choices=[])
    clause_ids = ClauseField(_l("Standards and clauses"))
    correction = TextAreaField(_l("Immediate correction and containment"),
                               validators=[Optional(), Length(max=TEXT_MAX)])
    root_cause_method = SelectField(_l("Root-cause method"), choices=[])
    ishikawa_category = SelectField(_l("Ishikawa category"), choices=[],
                                    description=_l("Only with the Ishikawa method."))
    analysis = TextAreaField(_l("Analysis"), validators=[Optional(), Length(max=TEXT_MAX)])
    root_cause = TextAreaField(_l("Root cause"), validators=[Optional(), Length(max=TEXT_MAX)])
    document_ids = StringField(_l("Linked controlled documents"), validators=[Optional(), Length(max=4000)],
                               description=_l("Document codes separated by commas, e.g. PR-QA-001, FO-QA-014."))
    evidence = FileField(_l("Evidence file"), description=_l("Optional; more files can be added on the "
                                                              "nonconformity's page."))
    note = StringField(_l("Change note"), validators=[Optional(), Length(max=2000)],
                       description=_l("Why you change it (kept in the history)."))
    seen_revision = HiddenField()  # the revision the form was built from: a concurrent save answers 409

    def fill(self, keep_users: Iterable[int | None] = (), keep_site: int | None = None,
             keep_process: int | None = None) -> NcForm:
        """Choices for this request; values already chosen stay offered."""
        self.audit_id.choices = audit_choices()
        self.detected_by_id.choices = staff_choices("see_nonconformities", keep_users, blank=NONE)
        self.site_id.choices = opts([(0, NONE)]) + site_choices([keep_site] if keep_site else [])
        self.process_id.choices = opts([(0, NONE)]) + process_choices([keep_process] if keep_process else [])
        self.root_cause_method.choices = opts([("", NONE), *((k, ROOT_CAUSE_METHOD_LABELS[k])
                                                               for k in ROOT_CAUSE_METHODS)])
        self.ishikawa_category.choices = opts([("", NONE), *((k, ISHIKAWA_CATEGORY_LABELS[k])
                                                               for k in ISHIKAWA_CATEGORIES)])
        self.clause_ids.offer_clauses()
        return self


class ActionForm(FlaskForm):
    """A corrective action: what, who owns it, by when."""

    description = TextAreaField(_l("Action"), validators=[DataRequired(_l("Describe the action.")),
                                                          Length(max=TEXT_MAX)])
    owner_id = SelectField(_l("Owner"), coerce=int, choices=[])
    due_date = DateField(_l("Due date"), validators=[DataRequired(_l("Enter the due date."))])

    def fill(self, keep: int | None = None) -> ActionForm:
        self.owner_id.choices = staff_choices("record_nonconformities", [keep], blank=_l("— choose —"))
        return self


class ImplementForm(FlaskForm):
    """Mark an action implemented, saying what was done; a file may back it."""

    completion_note = TextAreaField(_l("Completion evidence"), validators=[
        DataRequired(_l("Describe what was done (the completion evidence).")), Length(max=TEXT_MAX)])
    evidence = FileField(_l("Evidence file (optional)"))


class ScheduleForm(FlaskForm):
    """Schedule the effectiveness check, naming who does it (never the owner)."""

    check_due = DateField(_l("Check on"), validators=[DataRequired(_l("Enter the day of the effectiveness "
                                                                        "check."))])
    checker_id = SelectField(_l("Checked by"), coerce=int, choices=[])

    def fill(self, owner_id: int, keep: int | None = None) -> ScheduleForm:
        self.checker_id.choices = staff_choices("check_effectiveness", [keep], blank=_l("— anyone but the owner —"),
                                                exclude=owner_id)
        return self


class CheckForm(FlaskForm):
    """The effectiveness check's result and its evidence."""

    result = RadioField(_l("Result"), choices=opts([("effective", _l("Effective")),
                                                    ("not_effective", _l("Not effective"))]),
                        validators=[DataRequired(_l("Choose the result of the check."))])
    check_evidence = TextAreaField(_l("Evidence of the check"), validators=[
        DataRequired(_l("Record the evidence of the check.")), Length(max=TEXT_MAX)])


class CancelForm(FlaskForm):
    """Cancel an action, saying why."""

    cancel_reason = TextAreaField(_l("Reason for cancelling"), validators=[
        DataRequired(_l("Say why the action is cancelled.")), Length(max=TEXT_MAX)])


class CloseForm(FlaskForm):
    """Close the nonconformity; an observation or opportunity for improvement may close on a no-action decision."""

    closure_note = TextAreaField(_l("Closure note"), validators=[Optional(), Length(max=TEXT_MAX)])
    no_action = BooleanField(_l("No action is needed (observation or opportunity for improvement)"))


class ReopenForm(FlaskForm):
    """Reopen a closed nonconformity, saying why."""

    reason = TextAreaField(_l("Reason for reopening"), validators=[
        DataRequired(_l("Say why the nonconformity is reopened.")), Length(max=TEXT_MAX)])


class FileForm(FlaskForm):
    """Add an evidence file to the nonconformity."""

    file = FileField(_l("Evidence file"), validators=[FileRequired(_l("Choose a file to upload."))])


class AsOfForm(FlaskForm):
    """The day of the point-in-time view (a GET form: no CSRF)."""

    class Meta:
        csrf = False

    on = DateField(_l("As it stood on"), validators=[Optional()])
