"""Forms of the bribery-risk pages; field names are the services' input names, so a refusal lands at its field."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from ...models.risks import CATEGORIES, CONTROL_EFFECTIVENESS, MAX_LEVELS, MIN_LEVELS, RATINGS
from ..forms import opts
from ..nonconformities.forms import NONE, staff_choices
from ..programme_forms import process_choices, site_choices
from .labels import CATEGORY_LABELS, EFFECTIVENESS_LABELS, RATING_WORDS

TEXT_MAX = 20000
COLOUR = r"^#[0-9a-fA-F]{6}$"


def level_choices(levels: int, names: list[str]) -> list[tuple[object, object]]:
    """"3 — Possible" for each level of an axis."""
    return [(n, f"{n} — {names[n - 1]}" if n <= len(names) else str(n)) for n in range(1, levels + 1)]


class RiskForm(FlaskForm):
    """A bribery risk and its (re)assessment within an exercise (item 1 of issue 12)."""

    exercise_id = SelectField(_l("Assessment exercise"), coerce=int, choices=[])
    title = StringField(_l("Title"), validators=[DataRequired(_l("Give the risk a title.")), Length(max=300)])
    process_id = SelectField(_l("Process"), coerce=int, choices=[])
    activity = StringField(_l("Activity"), validators=[Optional(), Length(max=300)])
    site_id = SelectField(_l("Site"), coerce=int, choices=[], description=_l("None: the whole organisation."))
    associate_category = SelectField(_l("Business associate or position"),
                                     choices=opts((k, CATEGORY_LABELS[k]) for k in CATEGORIES))
    associate_detail = StringField(_l("Associate or position in detail"), validators=[Optional(), Length(max=300)])
    scenario = TextAreaField(_l("Bribery scenario"), validators=[DataRequired(_l("Describe the bribery scenario.")),
                                                                 Length(max=TEXT_MAX)])
    inherent_likelihood = SelectField(_l("Inherent likelihood"), coerce=int, choices=[])
    inherent_impact = SelectField(_l("Inherent impact"), coerce=int, choices=[])
    control_document_ids = StringField(_l("Controls (controlled documents)"),
                                       validators=[Optional(), Length(max=4000)],
                                       description=_l("Document codes separated by commas, e.g. PO-AB-001."))
    controls_description = TextAreaField(_l("Existing controls"), validators=[Optional(), Length(max=TEXT_MAX)])
    control_effectiveness = SelectField(_l("Control effectiveness"),
                                        choices=opts((k, EFFECTIVENESS_LABELS[k]) for k in CONTROL_EFFECTIVENESS))
    residual_likelihood = SelectField(_l("Residual likelihood"), coerce=int, choices=[])
    residual_impact = SelectField(_l("Residual impact"), coerce=int, choices=[])
    treatment = TextAreaField(_l("Treatment"), validators=[Optional(), Length(max=TEXT_MAX)])
    treatment_action_ids = StringField(_l("Treatment actions (corrective actions)"),
                                       validators=[Optional(), Length(max=4000)],
                                       description=_l("Action codes separated by commas, e.g. NC-2026-0003/A1."))
    owner_id = SelectField(_l("Owner"), coerce=int, choices=[])
    next_review = DateField(_l("Next review"), validators=[Optional()])
    note = StringField(_l("Change note"), validators=[Optional(), Length(max=2000)],
                       description=_l("Why you (re)assess it (kept in the history)."))
    seen_revision = HiddenField()  # the revision a reassessment starts from: a newer one answers 409

    def fill(self, exercises: list[tuple[int, str]], likelihood: list[str], impact: list[str],
             keep_owner: int | None = None, keep_site: int | None = None,
             keep_process: int | None = None) -> RiskForm:
        """Choices for this request, the levels from the exercise's matrix; values already chosen stay offered."""
        self.exercise_id.choices = opts(exercises)
        self.site_id.choices = opts([(0, NONE)]) + site_choices([keep_site] if keep_site else [])
        self.process_id.choices = opts([(0, NONE)]) + process_choices([keep_process] if keep_process else [])
        for f in (self.inherent_likelihood, self.residual_likelihood):
            f.choices = opts(level_choices(len(likelihood), likelihood))
        for f in (self.inherent_impact, self.residual_impact):
            f.choices = opts(level_choices(len(impact), impact))
        self.owner_id.choices = staff_choices("assess_risks", [keep_owner], blank=NONE)
        return self


class ApproveForm(FlaskForm):
    """Approve the latest assessment (someone other than its assessor)."""

    note = StringField(_l("Approval note"), validators=[Optional(), Length(max=2000)])
    seen_revision = HiddenField()  # the revision the approver read: a newer one answers 409


class RetireForm(FlaskForm):
    """Retire a risk that no longer applies, saying why."""

    reason = TextAreaField(_l("Reason for retiring"), validators=[
        DataRequired(_l("Say why the risk is retired.")), Length(max=TEXT_MAX)])


class ExerciseForm(FlaskForm):
    """An assessment exercise: what it covers, how, who took part, when."""

    name = StringField(_l("Name"), validators=[DataRequired(_l("Name the exercise.")), Length(max=300)])
    year = IntegerField(_l("Year"), validators=[DataRequired(_l("Enter the year.")), NumberRange(1990, 2100)])
    scope = TextAreaField(_l("Scope"), validators=[Optional(), Length(max=TEXT_MAX)])
    method = TextAreaField(_l("Method"), validators=[Optional(), Length(max=TEXT_MAX)])
    participants = TextAreaField(_l("Participants"), validators=[Optional(), Length(max=TEXT_MAX)])
    starts_on = DateField(_l("Starts on"), validators=[Optional()])
    ends_on = DateField(_l("Ends on"), validators=[Optional()])
    note = StringField(_l("Change note"), validators=[Optional(), Length(max=2000)])


class MatrixForm(FlaskForm):
    """A new version of the risk matrix: dimensions, thresholds, the ratings' words and colours, the level names."""

    likelihood_levels = IntegerField(_l("Likelihood levels"), validators=[
        DataRequired(), NumberRange(MIN_LEVELS, MAX_LEVELS)])
    impact_levels = IntegerField(_l("Impact levels"), validators=[DataRequired(), NumberRange(MIN_LEVELS, MAX_LEVELS)])
    medium = IntegerField(_l("Medium from score"), validators=[DataRequired(), NumberRange(1, 100)])
    high = IntegerField(_l("High from score"), validators=[DataRequired(), NumberRange(1, 100)])
    critical = IntegerField(_l("Critical from score"), validators=[DataRequired(), NumberRange(1, 100)])
    likelihood_es = TextAreaField(_l("Likelihood level names (Spanish, one per line, lowest first)"),
                                  validators=[Optional(), Length(max=4000)])
    likelihood_en = TextAreaField(_l("Likelihood level names (English, one per line, lowest first)"),
                                  validators=[Optional(), Length(max=4000)])
    impact_es = TextAreaField(_l("Impact level names (Spanish, one per line, lowest first)"),
                              validators=[Optional(), Length(max=4000)])
    impact_en = TextAreaField(_l("Impact level names (English, one per line, lowest first)"),
                              validators=[Optional(), Length(max=4000)])
    note = StringField(_l("Why the matrix changes"), validators=[DataRequired(_l("Say why the matrix changes.")),
                                                                Length(max=2000)])


for _rating in RATINGS:  # a word in each language and a colour per rating: label_low_es, colour_low...
    setattr(MatrixForm, f"label_{_rating}_es", StringField(
        _l("%(rating)s in Spanish", rating=RATING_WORDS[_rating]), validators=[DataRequired(), Length(max=40)]))
    setattr(MatrixForm, f"label_{_rating}_en", StringField(
        _l("%(rating)s in English", rating=RATING_WORDS[_rating]), validators=[DataRequired(), Length(max=40)]))
    setattr(MatrixForm, f"colour_{_rating}", StringField(
        _l("Colour of %(rating)s", rating=RATING_WORDS[_rating]), validators=[DataRequired(), Length(max=7)],
        description=_l("A colour like #b71c1c.")))
