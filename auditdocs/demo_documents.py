"""Demo documents (filled in with controlled documents)."""

from __future__ import annotations


def create(users: dict) -> None:
    """Nothing yet."""
    return None
