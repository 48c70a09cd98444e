"""Parsing of untrusted query-string and form values: bounded integers, sane dates."""

from __future__ import annotations

from datetime import date
from typing import Any

from werkzeug.routing import IntegerConverter, Map

MAX_INT = 2**31 - 1  # fits an INTEGER column on SQLite and PostgreSQL
MIN_YEAR, MAX_YEAR = 1990, 2100


def int_or_none(value: object, maximum: int = MAX_INT) -> int | None:
    """A positive ASCII integer within bounds, else None (no 500 on '²' or 2**64)."""
    text = str(value or "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > 12:
        return None
    number = int(text)
    return number if 0 < number <= maximum else None


def ints(values: list[str]) -> list[int]:
    """Every valid id from a multi-value field, invalid ones dropped."""
    return [n for n in (int_or_none(v) for v in values) if n is not None]


def plausible_date(value: date | None) -> bool:
    """Dates outside 1990-2100 are typing mistakes (and would overflow review arithmetic)."""
    return value is None or MIN_YEAR <= value.year <= MAX_YEAR


class BoundedIntConverter(IntegerConverter):
    """`<int:...>` that refuses values a database integer cannot hold (404 instead of a 500)."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_INT)
        super().__init__(map, *args, **kwargs)
