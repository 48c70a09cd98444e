"""Login throttling and aggregated refusals.

Why: counting failures only per (e-mail, address) let one address try every account, and many addresses try one
account freely; recording every attempt in the append-only trail let an anonymous client grow it without bound.

Rules (all windows are 15 minutes; the README says them to people):
- one account from one address: after 5 failures, refused until the window moves on;
- one address across accounts: after 20 failures, refused (password spraying);
- one account across addresses: after 10 failures, each further attempt from an address the account has never
  signed in from (in the last 90 days) must wait 2, 4, 8 … seconds (at most 15 minutes) after the last failure.
  The account owner's usual addresses are not slowed, so a stranger cannot lock the real user out.
A throttled attempt is refused before the password is checked. Failures are counted in `login_failures` (pruned
after a day); the audit trail gets one event per key and window, with the count of the window before.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
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


@dataclass(frozen=True)
class Throttle:
    """Why an attempt is refused before its password is checked, and when to try again."""

    reason: str  # "pair", "address" or "account"
    retry_after: int  # seconds


def _address(ip: str | None) -> str:
    return ip or "-"


def _wait(since: datetime | None, length: timedelta, now: datetime) -> int:
    """Whole seconds until `since + length` (at least one)."""
    if since is None:
        return 1
    return max(1, math.ceil((as_utc(since) + length - now).total_seconds()))


def known_address(email: str, ip: str | None) -> bool:
    """The account has signed in from this address recently: its owner's office or home."""
    since = utcnow() - timedelta(days=KNOWN_ADDRESS_DAYS)
    return db.session.scalar(
        select(AuditEvent.id).join(User, User.id == AuditEvent.actor_id)
        .where(AuditEvent.action == "auth.login", AuditEvent.ip == ip, User.email == email,
               AuditEvent.occurred_at >= since).limit(1)) is not None


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
    if spread >= ADDRESS_LIMIT:
        return Throttle("address", _wait(spread_oldest, WINDOW, now))
    account, last = db.session.execute(
        select(func.count(LoginFailure.id), func.max(LoginFailure.at))
        .where(LoginFailure.at >= since, LoginFailure.email == email)).one()
    if account >= ACCOUNT_SLOW_AFTER and not known_address(email, ip):
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


def note(kind: str, key: str, *, action: str, object_type: str, object_id: str, actor: User | None = None,
         actor_label: str | None = None, sample: str | None = None, extra: dict[str, Any] | None = None) -> int:
    """Count one occurrence in the current window; the first of a window is audited. Returns the window's count."""
    now = utcnow()
    start = _window_start(now)
    row = db.session.scalar(select(SecurityCounter).where(
        SecurityCounter.kind == kind, SecurityCounter.key == key, SecurityCounter.window_start == start))
    if row is not None:
        row.count, row.last_at = row.count + 1, now
        return row.count
    previous = db.session.scalar(select(SecurityCounter).where(
        SecurityCounter.kind == kind, SecurityCounter.key == key, SecurityCounter.window_start < start)
        .order_by(SecurityCounter.window_start.desc()).limit(1))
    try:
        with db.session.begin_nested():
            db.session.add(SecurityCounter(kind=kind, key=key[:400], window_start=start, count=1, first_at=now,
                                           last_at=now, user_id=actor.id if actor else None,
                                           sample=(sample or "")[:400] or None))
    except IntegrityError:  # another request opened this window a moment ago
        return note(kind, key, action=action, object_type=object_type, object_id=object_id, actor=actor,
                    actor_label=actor_label, sample=sample, extra=extra)
    db.session.execute(delete(SecurityCounter).where(SecurityCounter.window_start < now - KEEP_COUNTERS),
                       execution_options={"synchronize_session": False})
    details: dict[str, Any] = {"window_start": start, "window_minutes": int(WINDOW.total_seconds() // 60),
                               **(extra or {})}
    if sample:
        details["first"] = sample
    if previous is not None:
        details["previous_window"] = {"start": previous.window_start, "count": previous.count}
    audit.record(action, object_type, object_id, actor=actor, actor_label=actor_label, new=details)
    return 1


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
