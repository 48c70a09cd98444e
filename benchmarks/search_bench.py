"""Search at scale: full reindex, one document's update after commit, and queries through the app's search function
and its JSON endpoint, on a synthetic bilingual corpus of N documents, beside SQLite FTS5 on the same corpus and
queries in the same run.

For each backend (SQLite; PostgreSQL too with --database-url) and each --n, a fresh database in a temp dir (its own
PostgreSQL schema, dropped after) gets a few accounts and the demo site tree and process map through the services,
then the corpus (benchmarks/search_corpus.py: ~2 KB of Spanish or English per document, seeded) as documents,
versions and extracted texts written with bulk SQL. Then:
- reindex: `search.indexing.rebuild()`, what `auditdocs reindex` runs: the sources' batch loaders read the rows
  as SearchDocs (timed alone too) and the backend rebuilds the index (both analysers: Spanish and English
  documents); documents/s, and the peak RSS of the whole process during the rebuild (ru_maxrss, its high-water
  mark reset first via /proc/self/clear_refs);
- FTS5: the same corpus in an FTS5 table (stdlib sqlite3), the same queries: bm25 top 10 + snippet + total;
- queries: `search_for(scope, SearchQuery(text))` (permission filter from the database, facets, top-10 snippets) for
  a quality officer and an auditor, each beside the same query over HTTP (`/search.json` through Flask's test client)
  and beside FTS5, alternated so all meet the same load; medians and p95;
- update: `documents.update_metadata` (a real service change) committed in `write_transaction()`; the after-commit
  change event re-indexes the document (its subscriber's `index_docs` timed too); p95 of the whole and of indexing.
Goals (issue 13): reindex >= 300 docs/s (moonshot 500), peak < 1 GB at 50,000; update p95 <= 30 ms; query p95 <= 75 ms
(moonshot 50); HTTP p95 <= 1.2 x the function's.

    python benchmarks/search_bench.py [--n 10000 50000] [--requests 100] [--updates 50] [--warmup 10]
        [--database-url postgresql+psycopg://user@host/db] [--no-sqlite] [--seed 11] [--smoke]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask import Flask  # noqa: E402
from sqlalchemy import select  # noqa: E402

from auditdocs import search  # noqa: E402
from auditdocs.db import write_transaction  # noqa: E402
from auditdocs.extensions import db  # noqa: E402
from auditdocs.models import Document, User  # noqa: E402
from auditdocs.policy import scope_of  # noqa: E402
from auditdocs.search import indexing, sources  # noqa: E402
from auditdocs.search.service import search_for  # noqa: E402
from auditdocs.search.types import SearchQuery  # noqa: E402
from auditdocs.services import documents  # noqa: E402
from auditdocs.timeutil import local_today  # noqa: E402
from benchmarks import search_fts5  # noqa: E402
from benchmarks.benchapp import bench_app  # noqa: E402
from benchmarks.records_bench import Bench, accounts_and_org, login, percentile  # noqa: E402
from benchmarks.search_rows import write_documents  # noqa: E402

WARMUP = 10
ROLES = ("quality", "auditor")
JSON_ENDPOINT = "search.search_json"
GOALS = {"reindex": 300.0, "reindex_moon": 500.0, "memory_mb": 1024.0, "update": 30.0, "query": 75.0,
         "query_moon": 50.0, "http_ratio": 1.2}


@dataclass
class Figures:
    """What one (backend, N) run measured; lists are milliseconds."""

    n: int
    today: date
    written_s: float = 0.0
    corpus_s: float = 0.0  # the sources' loaders alone: rows -> SearchDocs (part of the reindex time)
    reindex_s: float = 0.0
    peak_mb: float = 0.0
    memory_how: str = ""
    fts_build_s: float = 0.0
    fts_ms: list[float] = field(default_factory=list)
    fn_ms: dict[str, list[float]] = field(default_factory=dict)
    http_ms: dict[str, list[float]] = field(default_factory=dict)
    hits: dict[str, int] = field(default_factory=dict)  # role -> total hits over all queries (sanity)
    update_ms: list[float] = field(default_factory=list)
    update_index_ms: list[float] = field(default_factory=list)
    update_how: str = ""
    update_seen: bool = False
    merge_s: float = 0.0
    notes: list[str] = field(default_factory=list)


def ms_since(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000


def reset_peak() -> str:
    """Reset the kernel's RSS high-water mark so ru_maxrss measures from now (Linux); say what is measured."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return "peak RSS of the process during the rebuild (ru_maxrss, high-water mark reset before it)"
    except OSError:
        return "peak RSS of the process since it started (ru_maxrss; could not reset the high-water mark)"


def time_reindex(app: Flask, fig: Figures) -> None:
    """Rebuild the app's index from the database as `auditdocs reindex` does (the sources' batch loaders turn rows
    into SearchDocs): seconds, docs/s, peak memory; the loaders' own cost timed apart."""
    with app.app_context():
        t0 = time.perf_counter()
        loaded = sum(1 for _doc in sources.all_docs())
        fig.corpus_s = time.perf_counter() - t0
        assert loaded == fig.n, f"the loaders gave {loaded} SearchDocs for {fig.n} documents"
        db.session.remove()
    with app.app_context():
        fig.memory_how = reset_peak()
        t0 = time.perf_counter()
        done = indexing.rebuild()
        fig.reindex_s = time.perf_counter() - t0
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # the largest sub-writer
        fig.peak_mb = own + 2 * child  # an upper bound: the process plus two sub-writers at their largest
        fig.memory_how += f"; plus 2 × the largest sub-writer's peak ({child:.0f} MB), an upper bound"
        assert done == fig.n, f"reindexed {done} of {fig.n}"
        health = search.backend().health()
        assert health.ok and health.docs == fig.n, health
        db.session.remove()


def user_id(app: Flask, key: str) -> int:
    with app.app_context():
        found = db.session.scalar(select(User.id).where(User.email == f"{key}@bench.example"))
        db.session.remove()
    assert found is not None
    return found


def call_function(app: Flask, uid: int, text: str) -> tuple[float, int]:
    """One query through search_for for this user, in a request context of its own (as a request has)."""
    with app.test_request_context():
        user = db.session.get(User, uid)
        t0 = time.perf_counter()
        results = search_for(scope_of(user), SearchQuery(text=text))
        elapsed = ms_since(t0)
    return elapsed, results.total


def call_http(client: Any, text: str) -> float:
    t0 = time.perf_counter()
    resp = client.get("/search.json", query_string={"q": text})
    resp.get_data()
    elapsed = ms_since(t0)
    assert resp.status_code == 200, f"/search.json?q={text}: {resp.status_code}"
    return elapsed


def time_queries(bench: Bench, fig: Figures, fts: Any, requests: int, warmup: int) -> None:
    """Each role: function, HTTP and FTS5 alternated, cycling through the queries."""
    asked = search_fts5.queries(fig.n)
    http = JSON_ENDPOINT in bench.app.view_functions
    if not http:
        fig.notes.append(f"HTTP endpoint {JSON_ENDPOINT} not in this app yet: skipped")
    for role in ROLES:
        uid = user_id(bench.app, role)
        client = login(bench.app, f"{role}@bench.example") if http else None
        fn_ms, http_ms, total = [], [], 0
        for k in range(warmup + requests):
            text, match = asked[k % len(asked)]
            elapsed, hits = call_function(bench.app, uid, text)
            http_elapsed = call_http(client, text) if client is not None else 0.0
            t0 = time.perf_counter()
            search_fts5.ask(fts, match)
            fts_elapsed = ms_since(t0)
            if k >= warmup:
                fn_ms.append(elapsed)
                http_ms.append(http_elapsed)
                fig.fts_ms.append(fts_elapsed)
                total += hits
        fig.fn_ms[role], fig.hits[role] = fn_ms, total
        if http:
            fig.http_ms[role] = http_ms


def time_updates(app: Flask, fig: Figures, updates: int, warmup: int, merge: bool = False) -> None:
    """Change documents' titles through the service; the commit's change event re-indexes each (timed apart by
    wrapping the backend's index_docs); with `merge`, the segments are then merged as the maintenance thread would."""
    quality = user_id(app, "quality")
    with app.app_context():
        backend = search.backend()
        ids = list(db.session.scalars(select(Document.id).where(Document.status == "active",
                                                                Document.confidentiality == "normal")
                                      .order_by(Document.id).limit(updates + warmup)))
        db.session.remove()
    indexing: list[float] = []
    original: Callable[..., int] = backend.index_docs

    def timed(docs: Any) -> int:
        t0 = time.perf_counter()
        try:
            return original(docs)
        finally:
            indexing.append(ms_since(t0))

    backend.index_docs = timed  # type: ignore[method-assign]
    try:
        for k, doc_id in enumerate(ids):
            before = len(indexing)
            with app.app_context():
                t0 = time.perf_counter()
                with write_transaction():
                    doc, actor = db.session.get(Document, doc_id), db.session.get(User, quality)
                    assert doc is not None and actor is not None
                    documents.update_metadata(doc, {"title": f"{doc.title} revisado {k}"}, actor=actor)
                elapsed = ms_since(t0)
                db.session.remove()
            if k >= warmup:
                fig.update_ms.append(elapsed)
                fig.update_index_ms.append(sum(indexing[before:]))
    finally:
        del backend.index_docs
    fig.update_how = ("the after-commit change event's subscriber indexed it" if all(fig.update_index_ms)
                      else "NOT indexed on commit (no change-event subscriber indexed it)")
    last = ids[-1] if ids else None
    if last is not None:
        with app.test_request_context():
            admin = db.session.scalar(select(User).where(User.email == "admin@bench.example"))
            code = db.session.get(Document, last).code  # type: ignore[union-attr]
            found = search_for(scope_of(admin), SearchQuery(text=f'"{code}" revisado'))
            fig.update_seen = any(h.parent_id == last for h in found.hits)
        if not fig.update_seen:
            fig.notes.append("the last update was NOT found by a search after its commit")
    if merge:
        with app.app_context():
            t0 = time.perf_counter()
            backend.merge_segments()
            fig.merge_s = time.perf_counter() - t0


def run(backend: str, database_url: str | None, n: int, requests: int, updates: int, seed: int,
        warmup: int, merge: bool = False) -> Figures:
    """One backend at one size: rows, reindex, FTS5, queries, updates."""
    with bench_app(backend, database_url, "search-bench") as app:
        with app.app_context():
            fig = Figures(n, local_today())
        bench = Bench(app, backend)
        accounts_and_org(bench)
        t0 = time.perf_counter()
        write_documents(app, n, seed, fig.today)
        fig.written_s = time.perf_counter() - t0
        say(f"{backend} N={n:,}: rows written in {fig.written_s:.1f} s")
        time_reindex(app, fig)
        say(f"{backend} N={n:,}: reindex {fig.reindex_s:.1f} s ({n / fig.reindex_s:.0f} docs/s), "
            f"peak {fig.peak_mb:.0f} MB")
        with tempfile.TemporaryDirectory(prefix="search-bench-fts5-") as tmp:
            fts, fig.fts_build_s = search_fts5.build(Path(tmp) / "fts.sqlite3", n, seed, fig.today)
            try:
                time_queries(bench, fig, fts, requests, warmup)
            finally:
                fts.close()
        say(f"{backend} N={n:,}: queries timed")
        time_updates(app, fig, updates, warmup, merge)
        say(f"{backend} N={n:,}: updates timed")
    return fig


def say(line: str) -> None:
    print(f"  {line}", file=sys.stderr, flush=True)


def _p(values: list[float]) -> tuple[float, float]:
    return (statistics.median(values), percentile(values, 0.95)) if values else (0.0, 0.0)


def _verdict(ok: bool, moon: bool = False) -> str:
    return "moonshot met" if moon else "met" if ok else "MISSED"


def print_report(report: dict[str, list[Figures]]) -> None:
    """The Markdown table for the README, then how each figure was measured."""
    print("\n| backend | N | figure | median | p95 / rate | goal | result |")
    print("|---|---:|---|---:|---:|---|---|")
    for backend, figs in report.items():
        for f in figs:
            row = f"| {backend} | {f.n:,} |"
            rate = f.n / f.reindex_s if f.reindex_s else 0.0
            print(f"{row} full reindex | {f.reindex_s:.1f} s | {rate:.0f} docs/s | ≥ 300 docs/s (500) | "
                  f"{_verdict(rate >= GOALS['reindex'], rate >= GOALS['reindex_moon'])} |")
            print(f"{row} reindex peak memory | | {f.peak_mb:.0f} MB | < 1 GB | "
                  f"{_verdict(f.peak_mb < GOALS['memory_mb'])} |")
            for label, values, goal in (("update after commit", f.update_ms, GOALS["update"]),
                                        ("update: index_docs part", f.update_index_ms, GOALS["update"])):
                p50, p95 = _p(values)
                print(f"{row} {label} | {p50:.1f} ms | {p95:.1f} ms | p95 ≤ {goal:.0f} ms | {_verdict(p95 <= goal)} |")
            fts50, fts95 = _p(f.fts_ms)
            print(f"{row} FTS5 query (bm25 top 10 + snippet + count) | {fts50:.1f} ms | {fts95:.1f} ms | "
                  f"baseline | |")
            for role, values in f.fn_ms.items():
                p50, p95 = _p(values)
                print(f"{row} query search_for, {role} | {p50:.1f} ms | {p95:.1f} ms | p95 ≤ 75 ms (50) | "
                      f"{_verdict(p95 <= GOALS['query'], p95 <= GOALS['query_moon'])}; "
                      f"{p95 / max(fts95, 0.001):.0f}× FTS5 p95 |")
                if role in f.http_ms:
                    h50, h95 = _p(f.http_ms[role])
                    ratio = h95 / max(p95, 0.001)
                    print(f"{row} query HTTP /search.json, {role} | {h50:.1f} ms | {h95:.1f} ms | "
                          f"≤ 1.2× function p95 | {_verdict(ratio <= GOALS['http_ratio'])}: {ratio:.2f}× |")
    for backend, figs in report.items():
        for f in figs:
            print(f"\n{backend} N={f.n:,}: rows written in {f.written_s:.1f} s; reindex {f.reindex_s:.1f} s, "
                  f"SearchDocs from the database by the sources' batch loaders (alone: {f.corpus_s:.1f} s, "
                  f"{f.n / max(f.corpus_s, 0.001):.0f} docs/s); memory: {f.memory_how}; "
                  f"FTS5 built in {f.fts_build_s:.1f} s "
                  f"({f.n / max(f.fts_build_s, 0.001):.0f} docs/s); hits over the timed queries: "
                  + ", ".join(f"{r} {t:,}" for r, t in f.hits.items())
                  + f"; update: {f.update_how}, visible to search after commit: {'yes' if f.update_seen else 'NO'}"
                  + (f"; merging the segments afterwards (off the request path) {f.merge_s:.1f} s"
                     if f.merge_s else ""))
            for note in f.notes:
                print(f"{backend} N={f.n:,}: {note}")


def main(argv: list[str] | None = None) -> dict[str, list[Figures]]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[10_000, 50_000], help="corpus sizes")
    parser.add_argument("--requests", type=int, default=100, help="timed queries per role (cycling the queries)")
    parser.add_argument("--updates", type=int, default=50, help="timed document updates")
    parser.add_argument("--warmup", type=int, default=WARMUP)
    parser.add_argument("--database-url", default=None, help="also run on this PostgreSQL database (own schema)")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--merge", action="store_true", help="also time merging the segments after the updates")
    parser.add_argument("--smoke", action="store_true", help="a tiny run for the tests: every figure, no meaning")
    args = parser.parse_args(argv)
    if args.smoke:
        args.n, args.requests, args.updates, args.warmup = [60], 3, 2, 1
    backends = ([] if args.no_sqlite else ["sqlite"]) + (["postgresql"] if args.database_url else [])
    report = {backend: [run(backend, args.database_url, n, args.requests, args.updates, args.seed, args.warmup,
                            args.merge) for n in args.n] for backend in backends}
    print_report(report)
    return report


if __name__ == "__main__":
    main()
