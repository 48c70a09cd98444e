"""The form that confirms an audit's site sample: the seed the proposal came from, the chosen sites, the reason."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectMultipleField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional
from wtforms.widgets import HiddenInput

from ..services.sampling import MAX_SEED, NOTE_MAX
from .params import ints


class SampleForm(FlaskForm):
    """Confirm a sample; the table's checkboxes are the `sites` values (ids checked by the service, not here)."""

    seed = IntegerField(widget=HiddenInput(), validators=[InputRequired(), NumberRange(min=0, max=MAX_SEED)])
    sites = SelectMultipleField(_l("Sites to visit"), choices=[], validate_choice=False)
    note = TextAreaField(_l("Reason for the choice"), validators=[Optional(), Length(max=NOTE_MAX)],
                         description=_l("Required when the sites differ from the proposal; recorded in the audit "
                                        "trail and shown on the audit."))

    def site_ids(self) -> list[int]:
        """The chosen ids; a value that is no id becomes -1, which no site has, so the service refuses it."""
        values = [str(v) for v in self.sites.data or []]
        parsed = ints(values)
        return parsed if len(parsed) == len(values) else [*parsed, -1]
