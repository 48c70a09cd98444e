"""WTForms used by the HTML views; every form carries a CSRF token."""

from __future__ import annotations

from collections.abc import Iterable

from flask import flash
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, EmailField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from ..labels import ROLE_LABELS
from ..services import ServiceError
from ..services.programme import InvalidInput
from .errors import note_refusal


def opts(pairs: Iterable[tuple[object, object]]) -> list[SelectChoice]:
    """(value, label) pairs as WTForms choices."""
    return [SelectChoice(str(value), label) for value, label in pairs]


def show_errors(form: FlaskForm, exc: InvalidInput) -> None:
    """Put a service's refusals next to the fields they concern (the rest as one message above the form)."""
    for name, message in exc.errors.items():
        target = getattr(form, name, None)
        if target is None or not hasattr(target, "errors"):
            flash(str(message), "danger")
        else:
            target.errors = [*target.errors, str(message)]


def role_choices() -> list[SelectChoice]:
    """Roles with translated labels."""
    return opts(ROLE_LABELS.items())


class LoginForm(FlaskForm):
    """Log in with e-mail and password."""

    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)])


class UserCreateForm(FlaskForm):
    """An admin creates an account."""

    email = EmailField(_l("E-mail"), validators=[DataRequired(),
                                                  Length(max=254)])
    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=200)])
    role = SelectField(_l("Role"), choices=[])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(min=10, max=1024)])
    confirm = PasswordField(_l("Repeat password"),
                            validators=[DataRequired(), EqualTo("password", message=_l("Passwords differ."))])

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.role.choices = role_choices()


class UserEditForm(FlaskForm):
    """An admin changes a role, disables an account or sets the day an auditor's access ends."""

    role = SelectField(_l("Role"), choices=[])
    active = BooleanField(_l("Account enabled"))
    access_until = DateField(_l("Access until (inclusive)"), validators=[Optional()],
                             description=_l("For external auditors: after this day they cannot log in and their "
                                            "open sessions end. Empty: no end."))

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.role.choices = role_choices()


class ConfirmForm(FlaskForm):
    """A button that changes something: only the CSRF token."""


class ApplicabilityForm(FlaskForm):
    """Mark a clause (not) applicable, with the justification ISO 9001 4.3 asks for."""

    applicable = SelectField(_l("Applies to our management system"),
                             choices=opts([("yes", _l("Applicable")), ("no", _l("Not applicable"))]))
    reason = TextAreaField(_l("Justification"), validators=[Optional(), Length(max=4000)])


class ClauseTitleForm(FlaskForm):
    """An admin corrects a clause title; init never overwrites it afterwards."""

    title_en = StringField(_l("Title (English)"), validators=[DataRequired(), Length(max=300)])
    title_es = StringField(_l("Title (Spanish)"), validators=[Optional(), Length(max=300)])


def report(exc: ServiceError, form: FlaskForm | None = None) -> int:
    """Say why a change was refused (at its fields when a form is given); returns the status to answer with."""
    if isinstance(exc, InvalidInput):
        flash(_("Please correct the marked fields."), "danger")
        if form is not None:
            show_errors(form, exc)
        else:
            for message in exc.errors.values():
                flash(str(message), "danger")
    else:
        if exc.status == 403:
            note_refusal(403)
        flash(str(exc.message), "danger")
    return exc.status


def form_refused() -> int:
    """The form's own checks failed: 400, with the errors at their fields."""
    flash(_("Please correct the marked fields."), "danger")
    return 400
