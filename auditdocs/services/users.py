"""Create users, edit them, change roles, disable accounts, set and reset passwords — each change audited (never a
password or its hash)."""

from __future__ import annotations

import functools
import re
import secrets
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
# A generated password: four groups of four from letters and digits nobody misreads (no 0/O, 1/l/I): ~79 bits.
GENERATED_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


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


def update_details(user: User, name: str, email: str, actor: User | None = None) -> bool:
    """Correct a person's name or e-mail; the e-mail stays unique whatever its case. Returns True if changed."""
    name = " ".join((name or "").split())[:200]
    email = normalise_email(email)
    if not name:
        raise ServiceError(_l("A name is required."))
    if not EMAIL_RE.match(email) or len(email) > 254:
        raise ServiceError(_l("“%(email)s” is not a valid e-mail address.", email=email))
    taken = db.session.scalar(select(User.id).where(func.lower(User.email) == email, User.id != user.id))
    if taken:
        raise ServiceError(_l("A user with the e-mail %(email)s already exists.", email=email), 409)
    old: dict[str, str] = {}
    new: dict[str, str] = {}
    for key, value in (("name", name), ("email", email)):
        if getattr(user, key) != value:
            old[key], new[key] = getattr(user, key), value
    if not new:
        return False
    user.name, user.email = name, email
    audit.record("user.update", "user", user.id, old=old, new=new, actor=actor)
    announce("user", user.id, "update")
    return True


def generate_password() -> str:
    """A password an administrator can read out or type: xxxx-xxxx-xxxx-xxxx."""
    return "-".join("".join(secrets.choice(GENERATED_ALPHABET) for _ in range(4)) for _ in range(4))


def reset_password(user: User, password: NewPassword, actor: User, *, mailed: bool) -> None:
    """Give the account a generated password (hashed beforehand) it must replace at its next login; every session it
    had ends. The trail says whether it went by e-mail, never the password."""
    if not user.active:
        raise ServiceError(_l("Enable the account before resetting its password."), 409)
    user.password_hash = password.hash
    user.must_change_password = True
    user.session_version += 1
    sessions.end_all(user, sessions.REVOKED, actor=actor)
    audit.record("user.password_reset", "user", user.id, actor=actor,
                 new={"must_change_password": True, "delivery": "e-mail" if mailed else "shown once"})
    announce("user", user.id, "password")


def set_must_change(user: User, must: bool, actor: User | None = None) -> None:
    """Ask (or stop asking) a person to choose a new password at their next page."""
    if bool(user.must_change_password) == must:
        return
    user.must_change_password = must
    audit.record("user.must_change_password", "user", user.id, old={"must_change_password": not must},
                 new={"must_change_password": must}, actor=actor)
    announce("user", user.id, "must_change_password")


class WrongPassword(ServiceError):
    """The current password given for a change does not match."""


def check_own_password(user: User, current: str, new: str) -> NewPassword:
    """A person's own change, checked before the write lock: the current password must match (WrongPassword), and the
    new one must follow the rules and differ from it (ServiceError)."""
    if not check_password_hash(user.password_hash, current or ""):
        raise WrongPassword(_l("The current password is not correct."), 400)
    if new == current:
        raise ServiceError(_l("Choose a password different from the current one."), 400)
    return new_password(new)


def change_own_password(user: User, password: NewPassword, *, keep_session_id: int | None) -> None:
    """The person's new password (checked by check_own_password): their other sessions end, this one goes on."""
    was_forced = bool(user.must_change_password)
    user.password_hash = password.hash
    user.must_change_password = False
    user.session_version += 1
    sessions.end_all(user, sessions.REVOKED, actor=user, except_id=keep_session_id)
    audit.record("user.password_change", "user", user.id, actor=user,
                 new={"after_reset": was_forced} if was_forced else None)
    announce("user", user.id, "password")
