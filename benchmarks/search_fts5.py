"""The baseline of the search benchmark: SQLite FTS5 (stdlib sqlite3) on the same corpus, asked the same queries.

Why FTS5: it is the fastest full-text engine at hand with no server, so the ratio app / FTS5 says what the app's
search (Python analysis, permission filter, facets, highlights) costs over a C engine doing ranking and snippets
only. FTS5 gets no stemming (unicode61 with accents removed), no permission filter and no facets: a lower bound.
"""

from __future__ import annotations

import sqlite3
import time
from datetime import date
from pathlib import Path

from benchmarks.search_corpus import corpus, document

# (the app's query, the same as FTS5 reads it): Spanish and English words, phrases, a prefix, OR / NOT, a document
# code and a clause number (exact in the app; a phrase of their parts in FTS5).
QUERIES = (
    ("visitas domiciliarias", "visitas domiciliarias"),
    ("acción correctiva", "acción correctiva"),
    ('"registro de visitas"', '"registro de visitas"'),
    ("capacitación cuidadoras", "capacitación cuidadoras"),
    ("corrective actions", "corrective actions"),
    ("internal audit", "internal audit"),
    ("calibración balanzas", "calibración balanzas"),
    ("supplier due diligence", "supplier due diligence"),
    ("{code}", '"{code}"'),
    ("8.5.2", '"8.5.2"'),
    ("audit*", "audit*"),
    ("soborno OR regalos", "soborno OR regalos"),
    ("conflicto de intereses", "conflicto de intereses"),
    ("raciones NOT vencidos", "raciones NOT vencidos"),
    ("complaints book", "complaints book"),
    ("alimentos almacén", "alimentos almacén"),
)
TOP = 10


def queries(n: int) -> list[tuple[str, str]]:
    """The queries, with the code of a document that exists in an n-document corpus."""
    code = document(min(41, n - 1), n, 0, date(2026, 1, 1)).code  # a code depends on the index only
    return [(app.format(code=code), fts.format(code=code)) for app, fts in QUERIES]


def build(path: Path, n: int, seed: int, today: date) -> tuple[sqlite3.Connection, float]:
    """An FTS5 table of the n documents (title, body); returns the connection and seconds spent."""
    conn = sqlite3.connect(path)
    conn.execute("CREATE VIRTUAL TABLE docs USING fts5(title, body, tokenize = 'unicode61 remove_diacritics 2')")
    t0 = time.perf_counter()
    batch: list[tuple[int, str, str]] = []
    for doc in corpus(n, seed, today):
        batch.append((doc.index + 1, f"{doc.code} – {doc.title}", doc.body))
        if len(batch) == 2000:
            conn.executemany("INSERT INTO docs(rowid, title, body) VALUES (?, ?, ?)", batch)
            batch = []
    conn.executemany("INSERT INTO docs(rowid, title, body) VALUES (?, ?, ?)", batch)
    conn.execute("INSERT INTO docs(docs) VALUES ('optimize')")
    conn.commit()
    return conn, time.perf_counter() - t0


def ask(conn: sqlite3.Connection, match: str) -> tuple[int, list[tuple[int, str, str, float]]]:
    """The total and the top TOP hits by bm25 with a highlighted snippet (title weighted 3×, as the app does)."""
    total = conn.execute("SELECT count(*) FROM docs WHERE docs MATCH ?", (match,)).fetchone()[0]
    hits = conn.execute(
        "SELECT rowid, title, snippet(docs, 1, '<mark>', '</mark>', '…', 24), bm25(docs, 3.0, 1.0) AS rank "
        "FROM docs WHERE docs MATCH ? ORDER BY rank LIMIT ?", (match, TOP)).fetchall()
    return int(total), hits
