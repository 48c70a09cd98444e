"""Login by default, read-only scopes refused every write, capability checks, and security headers."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Flask, Response, abort, flash, g, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..db import SAFE_METHODS, end_read
from ..extensions import login_manager
from ..models import User
from ..policy import current_scope
from ..services.sessions import ENDED, EXPIRED, IDLE, REVOKED
from .errors import render_error

# Endpoints an anonymous visitor may reach; everything else needs a login.
PUBLIC_ENDPOINTS = {"auth.login", "main.set_language", "main.healthz", "static"}
# Non-GET endpoints a read-only scope may still call: they change no evidence and no record.
READ_ONLY_WRITES = {"auth.logout", "main.set_language", "account.end_session", "account.end_others",
                    "account.change_password",
                    "packs.index"}  # queueing a Word pack of what one may see (issue 14: auditors build packs)

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
F = TypeVar("F", bound=Callable[..., Any])
ENDED_MESSAGES = {
    IDLE: _l("Your session ended after a while without activity. Please log in again."),
    EXPIRED: _l("Your session reached its maximum length, or your access period ended. Please log in again."),
    REVOKED: _l("Your session was ended because your account changed. Please log in again."),
    ENDED: _l("This session was ended from another of your sessions. Please log in again."),
}


def require(capability: str) -> Callable[[F], F]:
    """Route decorator: 403 for a logged-in user whose scope lacks the capability."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_scope().can(capability):
                abort(403)
            return view(*args, **kwargs)

        return cast(F, wrapped)

    return decorator


def actor() -> User:
    """The logged-in user's row, for services that record who acted."""
    return cast(User, current_user._get_current_object())


def init_security(app: Flask) -> None:
    """Install the login gate, the read-only guard and the response headers."""

    @app.before_request
    def _gate() -> ResponseReturnValue | None:
        endpoint = request.endpoint
        if endpoint is None or endpoint in PUBLIC_ENDPOINTS:
            return None
        if not current_user.is_authenticated:
            flash(str(ENDED_MESSAGES.get(g.pop("session_ended", ""), _l("Please log in to see this page."))), "info")
            refusal: ResponseReturnValue = login_manager.unauthorized()
            return refusal
        if current_scope().read_only and request.method not in SAFE_METHODS and endpoint not in READ_ONLY_WRITES:
            abort(403)
        if request.method not in SAFE_METHODS:
            end_read()  # close the login read before the body is parsed: no lock is held meanwhile
        return None

    @app.before_request
    def _refuse_nul() -> ResponseReturnValue | None:
        # After the gate (nothing parsed for a visitor on the way to the login page), before CSRF. PostgreSQL
        # cannot store or compare text with NUL: a clear 400 here instead of a 500 from the first query.
        if has_nul(_request_texts()):
            return render_error(400, _("The request contains characters that are not allowed (NUL)."))
        return None

    @app.after_request
    def _headers(resp: Response) -> Response:
        h = resp.headers
        h.setdefault("Content-Security-Policy", CSP)
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("X-Frame-Options", "DENY")
        h.setdefault("Referrer-Policy", "same-origin")
        h.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        h.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if request.endpoint != "static":
            h.setdefault("Cache-Control", "no-store")
        if request.is_secure:
            h.setdefault("Strict-Transport-Security", "max-age=31536000")
        return resp


def has_nul(texts: Iterable[str]) -> bool:
    """True when any of the texts contains a NUL character."""
    return any("\x00" in text for text in texts)


def _request_texts() -> Iterable[str]:
    """Path parameters, query-string keys and values, and form fields (not uploaded files) of this request."""
    yield from (v for v in (request.view_args or {}).values() if isinstance(v, str))
    sources = [request.args]
    if request.method not in SAFE_METHODS:
        # Parses the body as the CSRF check does next; file parts go to request.files and are not read here.
        sources.append(request.form)
    for source in sources:
        for key, values in source.lists():
            yield key
            yield from values
