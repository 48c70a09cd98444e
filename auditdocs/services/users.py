"""Create users, change roles, disable accounts, check passwords — each change audited."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from werkzeug.security import check_password_hash, generate_password_hash

from ..events import announce
from ..extensions import db
from ..models import ROLES, User
from ..timeutil import as_utc, utcnow
from . import ServiceError, audit, sessions

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 10


@functools.cache
def _dummy_hash() -> str:
    """A valid hash to check against when the account does not exist, so timing does not reveal e-mails."""
    return generate_password_hash("auditdocs-timing-equaliser", method="scrypt")


def normalise_email(email: str) -> str:
    """Emails compare case-insensitively."""
    return (email or "").strip().lower()


def hash_password(password: str) -> str:
    """scrypt via Werkzeug."""
    return generate_password_hash(password, method="scrypt")


def validate_password(password: str) -> None:
    """Refuse passwords too short to resist guessing."""
    if len(password or "") < MIN_PASSWORD:
        raise ServiceError(_l("The password must have at least %(n)d characters.", n=MIN_PASSWORD))


@dataclass(frozen=True)
class NewPassword:
    """A password already checked and hashed, so a view hashes it (~100 ms of scrypt) before taking the write lock."""

    hash: str


def new_password(password: str) -> NewPassword:
    """Check a password's strength and hash it."""
    validate_password(password)
    return NewPassword(hash_password(password))


def create_user(email: str, name: str, role: str, password: str | NewPassword, actor: User | None = None) -> User:
    """Create an account; refuses a duplicate email, an unknown role or a weak password."""
    email = normalise_email(email)
    if not EMAIL_RE.match(email):
        raise ServiceError(_l("“%(email)s” is not a valid e-mail address.", email=email))
    if role not in ROLES:
        raise ServiceError(_l("Unknown role “%(role)s”.", role=role))
    secret = password if isinstance(password, NewPassword) else new_password(password)
    if db.session.scalar(select(User.id).where(User.email == email)):
        raise ServiceError(_l("A user with the e-mail %(email)s already exists.", email=email), 409)
    user = User(email=email, name=(name or email.split("@")[0]).strip()[:200], role=role,
                password_hash=secret.hash, active=True, session_version=1)
    db.session.add(user)
    db.session.flush()
    audit.record("user.create", "user", user.id, new={"email": email, "role": role, "name": user.name},
                 actor=actor, actor_label=None if actor else "cli")
    announce("user", user.id, "create")
    return user


def _guard_last_admin(user: User) -> None:
    """Someone must always be able to administer the system (an admin whose access has ended does not count)."""
    if user.role != "admin" or not user.active:
        return
    others = db.session.scalar(
        select(func.count(User.id)).where(User.role == "admin", User.active.is_(True), User.id != user.id,
                                          or_(User.access_until.is_(None), User.access_until > utcnow()))
    )
    if not others:
        raise ServiceError(_l("%(email)s is the last active administrator; make someone else an "
                              "administrator first.", email=user.email), 409)


def set_role(user: User, role: str, actor: User | None = None) -> None:
    """Change a role; the user's sessions are renewed so the new rights apply at once."""
    if role not in ROLES:
        raise ServiceError(_l("Unknown role “%(role)s”.", role=role))
    if user.role == role:
        return
    _guard_last_admin(user)
    old = user.role
    user.role = role
    user.session_version += 1
    sessions.end_all(user, sessions.REVOKED, actor=actor)
    audit.record("user.role", "user", user.id, old={"role": old}, new={"role": role}, actor=actor)
    announce("user", user.id, "role")


def set_active(user: User, active: bool, actor: User | None = None) -> None:
    """Disable or re-enable an account; disabling ends its sessions at once."""
    if actor is not None and actor.id == user.id and not active:
        raise ServiceError(_l("You cannot disable your own account."), 403)
    if user.active == active:
        return
    if not active:
        _guard_last_admin(user)
    user.active = active
    user.session_version += 1
    if not active:
        sessions.end_all(user, sessions.REVOKED, actor=actor)
    audit.record("user.enable" if active else "user.disable", "user", user.id,
                 old={"active": not active}, new={"active": active}, actor=actor)
    announce("user", user.id, "enable" if active else "disable")


def set_password(user: User, password: NewPassword, actor: User | None = None) -> None:
    """Give an account a new password (checked and hashed beforehand); every session it had ends."""
    user.password_hash = password.hash
    user.session_version += 1
    sessions.end_all(user, sessions.REVOKED, actor=actor)
    audit.record("user.password", "user", user.id, actor=actor, actor_label=None if actor else "cli")
    announce("user", user.id, "password")


def set_access_until(user: User, until: datetime | None, actor: User | None = None) -> None:
    """The moment an account's access ends (None: no end); a moment already past ends its sessions at once."""
    current = as_utc(user.access_until) if user.access_until else None
    if current == (as_utc(until) if until else None):
        return
    if until is not None:
        _guard_last_admin(user)
    user.access_until = until
    audit.record("user.access_until", "user", user.id, old={"access_until": current}, new={"access_until": until},
                 actor=actor)
    if until is not None and as_utc(until) <= utcnow():
        sessions.end_all(user, sessions.REVOKED, actor=actor)
    announce("user", user.id, "access_until")


def authenticate(email: str, password: str) -> User | None:
    """Return the active user whose password matches, else None (same work either way)."""
    email = normalise_email(email)
    user: User | None = db.session.scalar(select(User).where(User.email == email))
    ok = check_password_hash(user.password_hash if user else _dummy_hash(), password or "")
    if user is None or not ok or not user.active:
        return None
    return user
