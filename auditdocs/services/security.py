"""Login throttling and aggregated refusals.

Why: counting failures only per (e-mail, address) let one address try every account, and many addresses try one
account freely; recording every attempt in the append-only trail let an anonymous client grow it without bound.

Rules (all windows are 15 minutes; the README says them to people):
- one account from one address: after 5 failures, refused until the window moves on;
- one address across accounts: after 20 failures, refused (password spraying) — except for accounts that have
  signed in from that address in the last 90 days, so an office behind one NAT is not locked out by strangers;
- one account across addresses: after 10 failures, each further attempt from an address the account has not
  signed in from must wait 2, 4, 8 … seconds (at most 15 minutes) after the last failure; the owner's usual
  addresses are not slowed.
IPv6 addresses count by their /64 network (one household or server rotates through a /64). A throttled attempt
is refused before the password is checked. Failures are counted in `login_failures` (pruned after a day); the
audit trail gets one event per key and window (with the count of the window before), and at most
AUDITED_KEYS_PER_WINDOW keys of a kind per window: beyond that, only the counters grow (also bounded, under one
overflow key), so no anonymous client can grow the append-only trail without bound.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import AuditEvent, User
from ..models.security import LoginFailure, SecurityCounter
from ..timeutil import as_utc, utcnow
from . import audit

WINDOW = timedelta(minutes=15)
PAIR_LIMIT = 5
ADDRESS_LIMIT = 20
ACCOUNT_SLOW_AFTER = 10
MAX_DELAY = timedelta(minutes=15)
KNOWN_ADDRESS_DAYS = 90
KEEP_FAILURES = timedelta(days=1)
KEEP_COUNTERS = timedelta(days=90)
AUDITED_KEYS_PER_WINDOW = 200
KEY_MAX = 400
OVERFLOW = "(many others)"


@dataclass(frozen=True)
class Throttle:
    """Why an attempt is refused before its password is checked, and when to try again."""

    reason: str  # "pair", "address" or "account"
    retry_after: int  # seconds


def _address(ip: str | None) -> str:
    """The address a limit counts: an IPv6 address by its /64 network, anything odd as text (bounded)."""
    if not ip:
        return "-"
    try:
        parsed = ipaddress.ip_address(ip)
    except ValueError:
        return ip[:64]
    if parsed.version == 6:
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def _wait(since: datetime | None, length: timedelta, now: datetime) -> int:
    """Whole seconds until `since + length` (at least one)."""
    if since is None:
        return 1
    return max(1, math.ceil((as_utc(since) + length - now).total_seconds()))


def known_address(email: str, ip: str | None) -> bool:
    """True when the account has signed in from this address (or IPv6 /64) recently: its owner's office or home."""
    since = utcnow() - timedelta(days=KNOWN_ADDRESS_DAYS)
    address = _address(ip)
    logins = db.session.scalars(
        select(AuditEvent.ip).join(User, User.id == AuditEvent.actor_id)
        .where(AuditEvent.action == "auth.login", User.email == email, AuditEvent.occurred_at >= since)
        .distinct().limit(500))
    return any(_address(seen) == address for seen in logins)


def throttled(email: str, ip: str | None) -> Throttle | None:
    """The throttle that applies to this attempt now, if any (see the module's rules)."""
    now = utcnow()
    since, address = now - WINDOW, _address(ip)
    recent = select(func.count(LoginFailure.id), func.min(LoginFailure.at)).where(LoginFailure.at >= since)
    pair, pair_oldest = db.session.execute(
        recent.where(LoginFailure.email == email, LoginFailure.ip == address)).one()
    if pair >= PAIR_LIMIT:
        return Throttle("pair", _wait(pair_oldest, WINDOW, now))
    spread, spread_oldest = db.session.execute(recent.where(LoginFailure.ip == address)).one()
    known: bool | None = None
    if spread >= ADDRESS_LIMIT:
        known = known_address(email, ip)
        if not known:
            return Throttle("address", _wait(spread_oldest, WINDOW, now))
    account, last = db.session.execute(
        select(func.count(LoginFailure.id), func.max(LoginFailure.at))
        .where(LoginFailure.at >= since, LoginFailure.email == email)).one()
    if account >= ACCOUNT_SLOW_AFTER and not (known if known is not None else known_address(email, ip)):
        delay = min(timedelta(seconds=2 ** (account - ACCOUNT_SLOW_AFTER + 1)), MAX_DELAY)
        if as_utc(last) + delay > now:
            return Throttle("account", _wait(last, delay, now))
    return None


def record_login_failure(email: str, ip: str | None) -> None:
    """Count a failed password (and keep the trail to one event per e-mail, address and window)."""
    now = utcnow()
    db.session.execute(delete(LoginFailure).where(LoginFailure.at < now - KEEP_FAILURES),
                       execution_options={"synchronize_session": False})
    db.session.add(LoginFailure(email=email, ip=_address(ip), at=now))
    note("login_failed", f"{email} from {_address(ip)}", action="auth.login_failed", object_type="login",
         object_id=email, actor_label=email)


def record_throttled(email: str, ip: str | None, throttle: Throttle) -> None:
    """Count a refused attempt: one event per address (spraying) or per account, and window."""
    key = _address(ip) if throttle.reason == "address" else email
    note("login_throttled", f"{throttle.reason}: {key}", action="auth.login_throttled", object_type="login",
         object_id=key, actor_label=email, extra={"reason": throttle.reason})


def _window_start(now: datetime) -> datetime:
    seconds = int(WINDOW.total_seconds())
    return datetime.fromtimestamp(int(now.timestamp()) // seconds * seconds, tz=now.tzinfo)


def _bounded(key: str) -> str:
    """A key that fits its column: long ones keep a readable start and a digest of the whole."""
    if len(key) <= KEY_MAX:
        return key
    return f"{key[:KEY_MAX - 17]}…{hashlib.sha256(key.encode()).hexdigest()[:16]}"


def _bump(kind: str, key: str, start: datetime, now: datetime) -> bool:
    """Add one to the window's counter in SQL (no lost updates); False when the window has no counter yet."""
    bumped = db.session.execute(
        update(SecurityCounter).where(SecurityCounter.kind == kind, SecurityCounter.key == key,
                                      SecurityCounter.window_start == start)
        .values(count=SecurityCounter.count + 1, last_at=now), execution_options={"synchronize_session": False})
    return bool(getattr(bumped, "rowcount", 0))


def note(kind: str, key: str, *, action: str, object_type: str, object_id: str, actor: User | None = None,
         actor_label: str | None = None, sample: str | None = None, extra: dict[str, Any] | None = None) -> None:
    """Count one occurrence in the current window; the first of a window is audited (see the module's bounds)."""
    now = utcnow()
    start = _window_start(now)
    key = _bounded(key)
    if _bump(kind, key, start, now):
        return
    opened = db.session.scalar(select(func.count(SecurityCounter.id)).where(
        SecurityCounter.kind == kind, SecurityCounter.window_start == start)) or 0
    if opened >= AUDITED_KEYS_PER_WINDOW:  # a flood of distinct keys: count it under one key, audit nothing more
        key, actor, sample = OVERFLOW, None, None
        if _bump(kind, key, start, now):
            return
    previous = db.session.scalar(select(SecurityCounter).where(
        SecurityCounter.kind == kind, SecurityCounter.key == key, SecurityCounter.window_start < start)
        .order_by(SecurityCounter.window_start.desc()).limit(1))
    try:
        with db.session.begin_nested():
            db.session.add(SecurityCounter(kind=kind, key=key, window_start=start, count=1, first_at=now,
                                           last_at=now, user_id=actor.id if actor else None,
                                           sample=(sample or "")[:KEY_MAX] or None))
    except IntegrityError:  # another request opened this window a moment ago: count in theirs
        _bump(kind, key, start, now)
        return
    db.session.execute(delete(SecurityCounter).where(SecurityCounter.window_start < now - KEEP_COUNTERS),
                       execution_options={"synchronize_session": False})
    if key == OVERFLOW:
        audit.record(action, object_type, OVERFLOW, actor_label="system",
                     new={"window_start": start, "keys_audited": AUDITED_KEYS_PER_WINDOW, **(extra or {})})
        return
    details: dict[str, Any] = {"window_start": start, "window_minutes": int(WINDOW.total_seconds() // 60),
                               **(extra or {})}
    if sample:
        details["first"] = sample
    if previous is not None:
        details["previous_window"] = {"start": previous.window_start, "count": previous.count}
    audit.record(action, object_type, object_id, actor=actor, actor_label=actor_label, new=details)


def note_refusal(user: User, status: int, path: str) -> None:
    """An account asked for something it may not see (404) or do (403): counted, audited once per window."""
    kind, action = ("not_found", "access.not_found") if status == 404 else ("forbidden", "access.forbidden")
    note(kind, f"user:{user.id}", action=action, object_type="user", object_id=str(user.id), actor=user,
         sample=path)


def refusal_bursts(since: timedelta = timedelta(hours=1), threshold: int = 10) -> list[tuple[User, int, str]]:
    """Accounts with many refused requests lately (probing for what they may not see): (user, count, a path)."""
    rows = db.session.execute(
        select(SecurityCounter.user_id, func.sum(SecurityCounter.count), func.min(SecurityCounter.sample))
        .where(SecurityCounter.kind.in_(("not_found", "forbidden")), SecurityCounter.user_id.is_not(None),
               SecurityCounter.last_at >= utcnow() - since)
        .group_by(SecurityCounter.user_id).having(func.sum(SecurityCounter.count) >= threshold)
        .order_by(func.sum(SecurityCounter.count).desc())).all()
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_([r[0] for r in rows])))}
    return [(users[user_id], int(count), sample or "") for user_id, count, sample in rows if user_id in users]


def recent_counters(limit: int = 50) -> list[SecurityCounter]:
    """The latest windows of refusals and throttling, newest first (for the audit-log page)."""
    return list(db.session.scalars(select(SecurityCounter).order_by(SecurityCounter.last_at.desc()).limit(limit)))
