"""Text folded for matching: 'Política' finds 'politica' and 'POLÍTICA', on SQLite and PostgreSQL alike.

Why in Python: SQLite's lower() only knows ASCII and PostgreSQL's depends on the collation, so the keys the database
indexes (a document's code key and search text) are computed here, once, when the row is written.
"""

from __future__ import annotations

import unicodedata

SEARCH_KEY_MAX = 400


def fold(text: str) -> str:
    """Accent-free, case-free, single-spaced text so 'Política' and 'politica ' group together."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(plain.casefold().split())


def code_key(code: str) -> str:
    """A document code as compared for uniqueness: 'pr-qa-001' is the same code as 'PR-QA-001'."""
    return code.strip().casefold()


def search_key(code: str, title: str) -> str:
    """What the register's text filter matches against: code and title, folded."""
    return fold(f"{code} {title}")[:SEARCH_KEY_MAX]
