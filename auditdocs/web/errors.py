"""Friendly error pages in the user's language (JSON for the API); never a traceback."""

from __future__ import annotations

import logging

from flask import Flask, current_app, jsonify, make_response, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from ..db import write_transaction
from ..extensions import db
from ..faults import BUSY, DEVICE, SPACE, storage_fault
from ..services import ServiceError, security

logger = logging.getLogger(__name__)

MESSAGES = {
    400: (_l("Bad request"), _l("The request could not be understood. Please check what you entered.")),
    401: (_l("Please log in"), _l("You need to log in to see this page.")),
    403: (_l("Not allowed"), _l("Your role does not allow this action. Nothing was changed.")),
    404: (_l("Not found"), _l("This page does not exist, or you do not have access to it.")),
    405: (_l("Not allowed"), _l("This action cannot be done this way.")),
    409: (_l("Not possible now"),
          _l("This conflicts with the current state of the record. Reload the page and check it again.")),
    410: (_l("File missing"),
          _l("The stored file for this version is missing. Your administrator should run `auditdocs verify`.")),
    413: (_l("File too large"), _l("The file is larger than the limit of %(mb)s MB. Nothing was saved.")),
    429: (_l("Too many attempts"), _l("Too many attempts. Please wait a few minutes and try again.")),
    500: (_l("Something went wrong"),
          _l("An unexpected error occurred. Nothing was saved; please try again or tell your administrator.")),
    503: (_l("Storage not available"),
          _l("The server could not read or write its storage, so nothing was saved. Please tell your "
             "administrator and try again later.")),
    507: (_l("Storage full"),
          _l("The server has run out of storage space, so nothing was saved. Please tell your administrator; you "
             "can try again once space has been freed.")),
}
FAULT_STATUS = {SPACE: 507, DEVICE: 503, BUSY: 503}
BUSY_TITLE = _l("The system is busy")
BUSY_MESSAGE = _l("The system is busy with another change, so nothing was saved. Please try again in a few seconds.")
RETRY_AFTER_SECONDS = 10

LOGGED_AS_ERRORS = frozenset({410})


def wants_json() -> bool:
    """API clients and the upload page's XMLHttpRequest get JSON errors."""
    return request.path.startswith("/api/") or request.headers.get("X-Requested-With") == "XMLHttpRequest"


def render_error(code: int, message: str | None = None, title: str | None = None) -> ResponseReturnValue:
    """One error page for every status."""
    default_title, default_msg = MESSAGES.get(code) or (MESSAGES[500] if code >= 500 else MESSAGES[400])
    text = message or str(default_msg) % {"mb": current_app.config.get("MAX_UPLOAD_MB")}
    title = title or str(default_title)
    if wants_json():
        return jsonify(ok=False, error=text, title=title, status=code), code
    return render_template("errors/error.html", code=code, title=title, message=text), code


def note_refusal(code: int) -> None:
    """Who asked for what they may not see (404) or do (403): counted per account and window, never lost in the
    noise, never flooding the trail. A failure to record must not change the answer."""
    if request.url_rule is None or request.endpoint == "static" or not current_user.is_authenticated:
        return  # a path that names no object (a typo, /favicon.ico, a scanner's guess) is no probe
    try:
        with write_transaction():
            security.note_refusal(current_user._get_current_object(), code, request.path)
    except Exception:
        logger.exception("could not record a refused request")
        db.session.rollback()


def init_errors(app: Flask) -> None:
    """Register handlers for HTTP errors, CSRF failures, service refusals and crashes."""

    @app.errorhandler(CSRFError)
    def _csrf(_e: CSRFError) -> ResponseReturnValue:
        return render_error(
            400,
            _("The form has expired or did not come from this site. Go back, reload the page and try again."),
            _("Form expired"),
        )

    @app.errorhandler(ServiceError)
    def _service(e: ServiceError) -> ResponseReturnValue:
        db.session.rollback()
        if e.status == 403:
            note_refusal(403)
        return render_error(e.status, str(e.message))

    @app.errorhandler(HTTPException)
    def _http(e: HTTPException) -> ResponseReturnValue:
        code = e.code or 500
        if code in (403, 404):
            note_refusal(code)
        if code in LOGGED_AS_ERRORS or code >= 500:
            # A missing stored object means the evidence store is damaged: the administrator must hear of it.
            logger.error("HTTP %s on %s %s: %s", code, request.method, request.path, e.description)
        return render_error(code)

    @app.errorhandler(Exception)
    def _crash(e: Exception) -> ResponseReturnValue:
        db.session.rollback()
        fault = storage_fault(e)
        if fault == BUSY:  # another writer held the database past the lock timeout: nothing was written
            logger.warning("database busy on %s %s: the write lock was not obtained within %s ms (%s)",
                           request.method, request.path, current_app.config["DB_LOCK_TIMEOUT_MS"],
                           str(getattr(e, "orig", None) or e).splitlines()[0])
            response = make_response(render_error(503, str(BUSY_MESSAGE), str(BUSY_TITLE)))
            response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
            return response
        if fault is not None:  # the machine's fault: the administrator must hear of it, the person is told plainly
            logger.error("storage %s on %s %s: %s", fault, request.method, request.path, e)
            return render_error(FAULT_STATUS[fault])
        logger.exception("unhandled error on %s %s", request.method, request.path)
        return render_error(500)
