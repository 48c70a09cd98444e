"""Language and time-zone selection for Flask-Babel."""

from __future__ import annotations

import os
from datetime import date, datetime

from flask import Flask, current_app, has_request_context, request, session
from flask_babel import format_date, format_time, get_locale
from flask_login import current_user

from ..extensions import babel
from ..timeutil import as_utc

# One date format per language everywhere (issue 10 item 8): the locale's medium date ("1 dic 2026",
# "Dec 1, 2026"), and for a moment that date with the short time in the organisation's zone.
DATE_FORMAT = "medium"
TIME_FORMAT = "short"


def select_locale() -> str:
    """The user's explicit choice, then their saved preference, then the browser's, then the default."""
    languages: tuple[str, ...] = current_app.config["LANGUAGES"]
    if not has_request_context():
        return cli_language(languages)
    chosen = session.get("lang")
    if chosen in languages:
        return str(chosen)
    if current_user and current_user.is_authenticated and current_user.language in languages:
        return str(current_user.language)
    best = request.accept_languages.best_match(languages)
    return str(best or current_app.config["DEFAULT_LANGUAGE"])


def cli_language(languages: tuple[str, ...]) -> str:
    """Command-line messages follow the terminal's locale (LC_ALL, LC_MESSAGES, LANG), English otherwise."""
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var, "")
        if value:
            code = value.split("_")[0].split(".")[0].lower()
            return code if code in languages else "en"
    return "en"


def display_date(value: date | datetime | None) -> str:
    """A calendar day in the one date format of the user's language ('' for none)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = as_utc(value)  # shown as the organisation's day, like display_datetime
    return str(format_date(value, DATE_FORMAT))


def display_datetime(value: datetime | None) -> str:
    """A stored UTC moment as the same date format plus the time, in the organisation's zone ('' for none)."""
    if value is None:
        return ""
    moment = as_utc(value)
    locale = get_locale()
    pattern = str(locale.datetime_formats[DATE_FORMAT]) if locale is not None else "{1} {0}"
    return pattern.format(format_time(moment, TIME_FORMAT), format_date(moment, DATE_FORMAT))


def select_timezone() -> str:
    """Every page shows times in the organisation's zone."""
    return str(current_app.config["TIMEZONE"])


def init_i18n(app: Flask) -> None:
    """Bind Flask-Babel with our selectors; catalogues live in auditdocs/translations."""
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
