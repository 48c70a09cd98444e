"""Forms of account administration and of a person's own account (every one carries a CSRF token)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from ..services.users import MIN_PASSWORD
from .forms import UserEditForm


class UserAccountForm(UserEditForm):
    """An admin corrects a name or e-mail, and everything UserEditForm changes."""

    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=200)])
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    must_change_password = BooleanField(_l("Must choose a new password at the next sign-in"))


class ChangePasswordForm(FlaskForm):
    """A person replaces their own password: the current one, then the new one twice."""

    current_password = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=1024)])
    new_password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=1024)],
                                 description=_l("At least %(n)d characters.", n=MIN_PASSWORD))
    confirm = PasswordField(_l("Repeat the new password"),
                            validators=[DataRequired(), EqualTo("new_password", message=_l("Passwords differ."))])
