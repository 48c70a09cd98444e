"""Who may do what: one table of capabilities per role, checked by routes and templates alike."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user

from .models.users import ADMIN, AUDITOR, COMPLIANCE_OFFICER, QUALITY_OFFICER

CAPABILITIES: dict[str, frozenset[str]] = {
    "manage_users": frozenset({ADMIN}),
    "view_audit_log": frozenset({ADMIN}),
    "correct_titles": frozenset({ADMIN}),
    "set_applicability": frozenset({ADMIN, QUALITY_OFFICER}),
    "approve_documents": frozenset({ADMIN, QUALITY_OFFICER}),
    "upload_documents": frozenset({ADMIN, QUALITY_OFFICER, COMPLIANCE_OFFICER}),
    "map_clauses": frozenset({ADMIN, QUALITY_OFFICER, COMPLIANCE_OFFICER}),
    "withdraw_documents": frozenset({ADMIN, QUALITY_OFFICER}),
    "see_all_restricted": frozenset({ADMIN}),
}
READ_ONLY_ROLES = frozenset({AUDITOR})

F = TypeVar("F", bound=Callable[..., Any])


def can(user: Any, capability: str) -> bool:
    """True when the user's role grants the capability (unknown capabilities grant nothing)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return user.role in CAPABILITIES.get(capability, frozenset())


def require(capability: str) -> Callable[[F], F]:
    """Route decorator: 403 for a logged-in user without the capability."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not can(current_user, capability):
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator
