"""UTC in storage, the organisation's time zone on screen."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app

_SHIFT: ContextVar[timedelta] = ContextVar("auditdocs_clock_shift", default=timedelta(0))


def utcnow() -> datetime:
    """Timezone-aware now in UTC; used as a column default callable."""
    return datetime.now(UTC) + _SHIFT.get()


@contextmanager
def replayed_at(moment: datetime) -> Iterator[None]:
    """Run a block as if the clock read `moment` (aware): the demo writes its year of history on the days it
    happened, so revisions, audit events and attachments carry those times. Never used by requests."""
    token = _SHIFT.set(moment - datetime.now(UTC))
    try:
        yield
    finally:
        _SHIFT.reset(token)


def as_utc(value: datetime) -> datetime:
    """Normalise a naive (SQLite) or aware (PostgreSQL) datetime to aware UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def utc_text(value: datetime) -> str:
    """Canonical UTC text (microseconds, Z) so both databases hash a time alike."""
    return as_utc(value).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def org_tz() -> ZoneInfo:
    """The organisation's time zone from AUDITDOCS_TIMEZONE."""
    return ZoneInfo(current_app.config.get("TIMEZONE") or "America/Lima")


def to_local(value: datetime) -> datetime:
    """Convert a stored time to the organisation's time zone for display."""
    return as_utc(value).astimezone(org_tz())


def end_of_local_day(day: date) -> datetime:
    """The last moment of a calendar day where the organisation is, in UTC ("access until 31 March" includes it)."""
    return (datetime.combine(day + timedelta(days=1), time.min, org_tz()) - timedelta(microseconds=1)).astimezone(UTC)


def local_today() -> date:
    """Today's date where the organisation is (review dates are calendar days there)."""
    return (datetime.now(org_tz()) + _SHIFT.get()).date()
