"""Jinja filters and globals: localised dates and numbers, role labels, safe redirects."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app, request
from flask_babel import format_decimal, get_locale
from flask_babel import lazy_gettext as _l

from ..labels import (
    DI_LABELS,
    KIND_LABELS,
    LANGUAGE_LABELS,
    ROLE_LABELS,
    SESSION_END_LABELS,
    STATUS_LABELS,
    VERSION_STATUS_LABELS,
)
from ..policy import current_scope
from ..services.counts import Count
from ..services.tasks import can_have_tasks
from .i18n import display_date, display_datetime


def role_label(role: str) -> str:
    """Human, translated name of a role."""
    return str(ROLE_LABELS.get(role, role))


def fmt_datetime(value: datetime | None, fmt: str = "") -> str:
    """The `dt` filter: i18n.display_datetime; `fmt` is accepted from older call sites and ignored (one format)."""
    return display_datetime(value)


def fmt_date(value: date | datetime | None, fmt: str = "") -> str:
    """The `d` filter: i18n.display_date; `fmt` is accepted from older call sites and ignored (one format)."""
    return display_date(value)


def fmt_size(num: int | None) -> str:
    """Bytes as KB/MB with localised decimals."""
    if num is None:
        return ""
    size = float(num)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{format_decimal(round(size, 1))} {unit}" if unit != "B" else f"{int(size)} B"
        size /= 1024
    return str(num)


def fmt_count(count: Count) -> str:
    """A capped total for a badge: '1.000+' past the cap (see services.counts)."""
    return f"{format_decimal(count.value)}+" if count.capped else str(format_decimal(count.value))


def safe_next(target: str | None, fallback: str) -> str:
    """Only same-site relative paths may be redirect targets (no open redirect, no header injection)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return fallback
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in target):
        return fallback  # CR/LF, tab, NUL...: a Location header must not carry them
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return fallback
    return target


def current_lang() -> str:
    """The active language code ('es' or 'en')."""
    loc = get_locale()
    return str(loc.language if loc else current_app.config["DEFAULT_LANGUAGE"])


def init_helpers(app: Flask) -> None:
    """Register filters and globals."""
    app.jinja_env.filters.update(dt=fmt_datetime, d=fmt_date, size=fmt_size, num=format_decimal,
                               count=fmt_count)
    app.jinja_env.globals.update(role_label=role_label, di_labels=DI_LABELS, kind_labels=KIND_LABELS,
                                 status_labels=STATUS_LABELS, language_labels=LANGUAGE_LABELS,
                                 version_status_labels=VERSION_STATUS_LABELS, session_end_labels=SESSION_END_LABELS,
                                 current_lang=current_lang)

    @app.context_processor
    def _ctx() -> dict[str, Any]:
        scope = current_scope()
        return {"org_name": app.config["ORG_NAME"], "request_path": request.full_path.rstrip("?"),
                "nav_items": nav_items(), "read_only_note": scope.user_id is not None and scope.read_only}


NAV = (
    ("tasks.index", "tasks.", _l("My tasks"), can_have_tasks),
    ("documents.register", "documents.", _l("Documents"), None),
    ("nonconformities.index", "nonconformities.", _l("Nonconformities"), "see_nonconformities"),
    ("risks.index", "risks.", _l("Risks"), "see_risks"),
    ("search.index", "search.", _l("Search"), None),
    ("packs.index", "packs.", _l("Packs"), None),
    ("clauses.index", "clauses.", _l("Clauses"), None),
    ("org.sites", "org.", _l("Organisation"), None),
    ("programme.index", "programme.", _l("Certification"), None),
    ("audit.log", "audit.", _l("Audit log"), "view_audit_log"),
    ("users.index", "users.", _l("Users"), "manage_users"),
)


def nav_items() -> list[dict[str, Any]]:
    """Navigation for the areas; areas not built yet are shown disabled."""
    scope = current_scope()
    items = []
    for endpoint, prefix, label, capability in NAV:
        if capability and not (capability(scope) if callable(capability) else scope.can(capability)):
            continue
        live = endpoint in current_app.view_functions
        items.append({"endpoint": endpoint if live else None, "prefix": prefix, "label": label})
    return items
