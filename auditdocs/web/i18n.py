"""Language and time-zone selection for Flask-Babel."""

from __future__ import annotations

import os

from flask import Flask, current_app, has_request_context, request, session
from flask_login import current_user

from ..extensions import babel


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


def select_timezone() -> str:
    """Every page shows times in the organisation's zone."""
    return str(current_app.config["TIMEZONE"])


def init_i18n(app: Flask) -> None:
    """Bind Flask-Babel with our selectors; catalogues live in auditdocs/translations."""
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
