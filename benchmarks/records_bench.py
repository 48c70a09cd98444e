"""Nonconformity pages at register scale: the dashboard and the filtered list with 10,000 nonconformities and 30,000
corrective actions, timed through the app beside the same SQL run bare, in the same run.

For each backend (SQLite; PostgreSQL too with --database-url), a fresh database in a temp dir (its own PostgreSQL
schema, dropped after) gets the programme's site tree and process map and a few accounts through the services, then
--ncs nonconformities and --actions actions written FAST with SQLAlchemy Core bulk inserts (a few transactions):
three years of findings in every status, grade and source, spread over the regional units and the processes, linked
to clauses of both standards, with actions in every state (overdue ones, ones due within 14 days, checks owed).
Those rows have no revisions or audit events (the pages timed only read the current rows; `auditdocs verify` would
report them as written behind the application's back), and the year's counters are set so the numbering goes on
from them.

Then, for a quality officer and an external auditor, each page is requested --warmup times (10) and --requests times
through the app's WSGI stack (Flask's test client: routing, session, policy, queries, templates; no socket) and the
median and 95th percentile are printed. Beside each page, the SQL statements that one request of it sent (captured
with a cursor event) are replayed --requests times on a bare DBAPI connection: the ratio app / SQL is the app's own
overhead (Python, ORM, templates) over what the database must do anyway. Pages whose endpoint the app does not have
yet are skipped with a note. The goal is p95 under GOAL_MS.

    python benchmarks/records_bench.py [--ncs 10000] [--actions 30000] [--requests 100]
        [--database-url postgresql+psycopg://user@host/db] [--no-sqlite] [--seed 11] [--warmup 10]
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask import Flask  # noqa: E402
from sqlalchemy import event, func, insert, select, text  # noqa: E402

from auditdocs.db import write_transaction  # noqa: E402
from auditdocs.demo.org import create_org  # noqa: E402
from auditdocs.extensions import db  # noqa: E402
from auditdocs.models import (  # noqa: E402
    Clause,
    CorrectiveAction,
    Nonconformity,
    Process,
    RecordCounter,
    Site,
    Standard,
    User,
)
from auditdocs.models.records import NC_SOURCES  # noqa: E402
from auditdocs.services import users  # noqa: E402
from auditdocs.textnorm import search_key  # noqa: E402
from auditdocs.timeutil import local_today  # noqa: E402
from benchmarks.benchapp import bench_app  # noqa: E402

PASSWORD = "Bench-password-2026"  # noqa: S105 - a throwaway database
WARMUP = 10
CHUNK = 2000  # rows per executemany
GOAL_MS = 150.0
YEARS = 3  # findings detected over the last three years: references NC-<year>-0001... in each
ACCOUNTS = (("admin", "admin"), ("quality", "quality_officer"), ("approver", "quality_officer"),
            ("compliance", "compliance_officer"), ("auditor", "auditor"))
TIMED_ROLES = ("quality", "auditor")
GRADES = (("major", 10), ("minor", 45), ("observation", 30), ("improvement_opportunity", 15))
TOPICS = ("Balanzas sin calibración vigente", "Visitas domiciliarias por debajo de la meta",
          "Registro de regalos fuera de plazo", "Proveedor sin debida diligencia", "Raciones entregadas con retraso",
          "Fichas de visita en formato retirado", "Alimentos vencidos en almacén", "Pagos sin doble firma",
          "Declaración de conflicto de intereses pendiente", "Capacitación de cuidadoras no registrada",
          "Copia de respaldo no realizada", "Reclamo por trato inadecuado", "Informe mensual fuera de plazo")
CLAUSES = {"iso9001_2015": ("7.1.5.2", "7.2", "7.5.3", "8.4.2", "8.5.1", "8.5.4", "8.7", "9.1.1", "9.1.2", "9.2",
                            "10.2"),
           "iso37001_2016": ("4.5", "7.2.2", "7.3", "8.2", "8.3", "8.5", "8.7", "8.9", "8.10", "9.2")}


@dataclass
class Bench:
    """One database and data dir for a run, and what the timing needs from it."""

    app: Flask
    backend: str
    ids: dict[str, int] = field(default_factory=dict)


@contextmanager
def fresh_app(backend: str, database_url: str | None) -> Iterator[Bench]:
    """An empty, migrated database with the catalogue, in a temp dir (PostgreSQL: a schema of its own)."""
    with bench_app(backend, database_url, "records-bench") as app:
        yield Bench(app, backend)


def accounts_and_org(bench: Bench) -> None:
    """Accounts per role and the demo programme's site tree and process map, through the services."""
    with bench.app.app_context(), write_transaction():
        made: dict[str, User] = {}
        for key, role in ACCOUNTS:
            user = users.create_user(f"{key}@bench.example", f"Bench {key}", role, PASSWORD)
            db.session.flush()
            made[key] = user
            bench.ids[key] = user.id
        create_org({"admin": made["admin"], "quality_officer": made["quality"], "approver": made["approver"],
                    "compliance_officer": made["compliance"]})


def _weighted(rng: random.Random, table: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([k for k, _w in table], weights=[w for _k, w in table])[0]


def _status(rng: random.Random, age: int) -> str:
    """Older findings are mostly closed; recent ones mostly open or in progress."""
    closed_share = 0.95 if age > 365 else 0.6 if age > 60 else 0.2
    if rng.random() < closed_share:
        return "closed"
    return "in_progress" if rng.random() < 0.7 else "open"


def _action_status(rng: random.Random, nc_status: str, last: bool) -> str:
    if nc_status == "closed":
        return "effective" if last or rng.random() < 0.85 else "cancelled"
    if nc_status == "open":  # no live action: all final, one of them not effective
        return "not_effective" if last else rng.choice(("effective", "cancelled"))
    return rng.choice(("planned", "in_progress", "in_progress", "implemented")) if last or rng.random() < 0.6 else \
        rng.choice(("effective", "cancelled", "planned"))


def build_records(app: Flask, ncs: int, actions: int, seed: int = 11, today: date | None = None) -> dict[str, int]:
    """Write `ncs` nonconformities and `actions` corrective actions (with clause links) in bulk; returns the counts
    written. Ids are given explicitly (after whatever exists) and the PostgreSQL sequences moved past them."""
    rng = random.Random(seed)
    with app.app_context():
        today = today or local_today()
        sites = list(db.session.scalars(select(Site.id).where(Site.active.is_(True))))
        processes = list(db.session.scalars(select(Process.id).where(Process.active.is_(True))))
        staff = list(db.session.scalars(select(User.id).where(User.role != "auditor").order_by(User.id)))
        clause_ids = [cid for cid, slug, number in db.session.execute(
            select(Clause.id, Standard.slug, Clause.number).join(Standard).where(Standard.slug.in_(list(CLAUSES))))
            if number in CLAUSES[slug]]
        first_nc = (db.session.scalar(select(func.max(Nonconformity.id))) or 0) + 1
        first_action = (db.session.scalar(select(func.max(CorrectiveAction.id))) or 0) + 1
        db.session.remove()
    per_nc = [0] * ncs
    for _ in range(actions):
        per_nc[rng.randrange(ncs)] += 1
    now = datetime.now(UTC)
    detected = sorted(today - timedelta(days=rng.randrange(YEARS * 365)) for _ in range(ncs))
    numbers: dict[int, int] = {}
    nc_rows: list[dict[str, Any]] = []
    link_rows: list[dict[str, Any]] = []
    action_rows: list[dict[str, Any]] = []
    action_id = first_action
    for i, day in enumerate(detected):
        nc_id = first_nc + i
        numbers[day.year] = numbers.get(day.year, 0) + 1
        reference = f"NC-{day.year}-{numbers[day.year]:04d}"
        title = f"{rng.choice(TOPICS)} ({i})"
        grade = _weighted(rng, GRADES)
        age = (today - day).days
        status = _status(rng, age)
        count = per_nc[i]
        no_action = status == "closed" and count == 0
        closed_on = min(today, day + timedelta(days=rng.randint(5, 240))) if status == "closed" else None
        linked = rng.sample(clause_ids, rng.randint(1, 3)) if clause_ids else []
        link_rows += [{"nonconformity_id": nc_id, "clause_id": c} for c in linked]
        nc_rows.append({
            "id": nc_id, "reference": reference, "year": day.year, "number": numbers[day.year], "title": title,
            "search_key": search_key(reference, title), "description": f"Hallazgo generado para la prueba {i}.",
            "source": rng.choice(NC_SOURCES), "grade": grade, "detected_on": day,
            "detected_by_id": rng.choice(staff), "site_id": rng.choice(sites) if sites else None,
            "process_id": rng.choice(processes) if processes and rng.random() < 0.9 else None,
            "clause_ids": ",".join(str(c) for c in sorted(linked)), "document_ids": "", "status": status,
            "action_required": status == "open" and count > 0, "closed_on": closed_on,
            "closed_by_id": staff[1 % len(staff)] if closed_on else None,
            "closure_note": "Cerrada en la prueba." if closed_on else None, "no_action_decision": no_action,
            "created_at": now, "created_by_id": staff[0], "revision": 1})
        for n in range(1, count + 1):
            a_status = _action_status(rng, status, n == count)
            due = (closed_on - timedelta(days=rng.randint(1, 30)) if closed_on
                   else today + timedelta(days=rng.randint(-90, 60)))
            implemented = a_status in ("implemented", "effective", "not_effective")
            checked = a_status in ("effective", "not_effective")
            owner = rng.choice(staff)
            action_rows.append({
                "id": action_id, "nonconformity_id": nc_id, "number": n,
                "description": f"Acción {n} de la prueba {i}.", "owner_id": owner, "due_date": due,
                "status": a_status, "started_on": day if a_status != "planned" else None,
                "implemented_on": due if implemented else None,
                "completion_note": "Hecho." if implemented else None,
                "check_due": due + timedelta(days=30) if implemented else None,
                "checker_id": None if checked or rng.random() < 0.5 else next(s for s in staff if s != owner),
                "checked_by_id": next(s for s in staff if s != owner) if checked else None,
                "checked_on": due + timedelta(days=30) if checked else None,
                "check_evidence": "Verificado." if checked else None,
                "cancel_reason": "Reemplazada por otra acción." if a_status == "cancelled" else None,
                "created_at": now, "created_by_id": staff[0], "revision": 1})
            action_id += 1
    with app.app_context():
        engine = db.engine
    with engine.begin() as conn:
        tables = db.metadata.tables
        for name, rows in (("nonconformities", nc_rows), ("nonconformity_clauses", link_rows),
                           ("corrective_actions", action_rows)):
            for start in range(0, len(rows), CHUNK):
                conn.execute(insert(tables[name]), rows[start:start + CHUNK])
        for year, last in numbers.items():
            row = conn.execute(select(RecordCounter.last).where(RecordCounter.kind == "nonconformity",
                                                                RecordCounter.year == year)).scalar()
            if row is None:
                conn.execute(insert(RecordCounter), [{"kind": "nonconformity", "year": year, "last": last}])
        if engine.dialect.name == "postgresql":
            for name in ("nonconformities", "corrective_actions"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "  # noqa: S608
                                  f"(SELECT max(id) FROM {name}))"))
    with engine.begin() as conn:
        conn.execute(text("ANALYZE" if engine.dialect.name == "postgresql" else "PRAGMA optimize"))
    return {"ncs": len(nc_rows), "actions": len(action_rows), "clause_links": len(link_rows)}


def busiest_region(app: Flask) -> int | None:
    """The regional unit with the most open nonconformities: the site filter's test case."""
    with app.app_context():
        site_id = db.session.scalar(
            select(Nonconformity.site_id).join(Site, Site.id == Nonconformity.site_id)
            .where(Site.parent_id.is_not(None), Nonconformity.status != "closed")
            .group_by(Nonconformity.site_id).order_by(func.count().desc()).limit(1))
        db.session.remove()
    return site_id


def login(app: Flask, email: str) -> Any:
    """A test client signed in through the login form (CSRF token read from the page)."""
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token, "no CSRF token on the login page"
    resp = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token.group(1)})
    assert resp.status_code in (302, 303), f"login of {email} failed: {resp.status_code}"
    return client


def pages(bench: Bench) -> tuple[dict[str, str], list[str]]:
    """The pages the issue names, as URLs on this register; and a note per page the app does not have yet."""
    region = busiest_region(bench.app)
    wanted = {
        "NC dashboard": ("nc_dashboard.dashboard", "/nonconformities/dashboard"),
        "list: not closed, major": ("nonconformities.index", "/nonconformities/?status=not_closed&grade=major"),
        "list: not closed, major, one region": (
            "nonconformities.index", f"/nonconformities/?status=not_closed&grade=major&site={region}"),
    }
    found, notes = {}, []
    for name, (endpoint, url) in wanted.items():
        if endpoint in bench.app.view_functions:
            found[name] = url
        else:
            notes.append(f"{name}: skipped, the app has no endpoint {endpoint} yet")
    return found, notes


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def capture(app: Flask, client: Any, url: str) -> list[tuple[str, Any]]:
    """The read statements (and their DBAPI parameters) one request of the page sends."""
    seen: list[tuple[str, Any]] = []

    def _seen(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            seen.append((statement, parameters))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", _seen)
    try:
        resp = client.get(url)
        resp.get_data()
    finally:
        event.remove(engine, "before_cursor_execute", _seen)
    return seen


def run_bare(cursor: Any, statements: list[tuple[str, Any]]) -> float:
    """Milliseconds to run the captured statements on a bare DBAPI cursor, fetching every row."""
    t0 = time.perf_counter()
    for statement, parameters in statements:
        cursor.execute(statement, parameters or ())
        cursor.fetchall()
    return (time.perf_counter() - t0) * 1000


def get_ms(client: Any, url: str, role: str) -> float:
    """Milliseconds for one request of the page, the body read to its end."""
    t0 = time.perf_counter()
    resp = client.get(url)
    resp.get_data()
    elapsed = (time.perf_counter() - t0) * 1000
    assert resp.status_code == 200, f"{url} as {role}: {resp.status_code}"
    return elapsed


@dataclass
class Timing:
    """One page as one role: the page through the app, and its statements bare."""

    app_p50: float
    app_p95: float
    sql_p50: float
    sql_p95: float
    statements: int


def time_pages(bench: Bench, requests: int, warmup: int = WARMUP) -> tuple[dict[tuple[str, str], Timing], list[str]]:
    """(page, role) -> timings; and the notes on skipped pages. App requests and bare replays alternate, so both
    meet the same load on a shared machine and the ratio compares like with like."""
    urls, notes = pages(bench)
    results: dict[tuple[str, str], Timing] = {}
    with bench.app.app_context():
        raw = db.engine.raw_connection()
    try:
        for role in TIMED_ROLES:
            client = login(bench.app, f"{role}@bench.example")
            for name, url in urls.items():
                for _ in range(warmup):
                    get_ms(client, url, role)
                statements = capture(bench.app, client, url)
                cursor = raw.cursor()
                for _ in range(warmup):
                    run_bare(cursor, statements)
                app_ms, sql_ms = [], []
                for _ in range(requests):
                    app_ms.append(get_ms(client, url, role))
                    sql_ms.append(run_bare(cursor, statements))
                cursor.close()
                raw.rollback()
                timing = Timing(statistics.median(app_ms), percentile(app_ms, 0.95), statistics.median(sql_ms),
                                percentile(sql_ms, 0.95), len(statements))
                results[(name, role)] = timing
                print(f"  {bench.backend:10} {role:8} {name:38} app p50 {timing.app_p50:7.1f} ms  p95 "
                      f"{timing.app_p95:7.1f} ms | SQL p50 {timing.sql_p50:6.1f} ms  p95 {timing.sql_p95:6.1f} ms "
                      f"({timing.statements} statements)", file=sys.stderr, flush=True)
    finally:
        raw.close()
    return results, notes


def run(backend: str, database_url: str | None, ncs: int, actions: int, requests: int, seed: int,
        warmup: int = WARMUP) -> dict[str, Any]:
    """Build one backend's register, time its pages; the report's part for that backend."""
    with fresh_app(backend, database_url) as bench:
        accounts_and_org(bench)
        t0 = time.perf_counter()
        written = build_records(bench.app, ncs, actions, seed)
        built = time.perf_counter() - t0
        print(f"  {backend}: {written['ncs']:,} nonconformities, {written['actions']:,} actions, "
              f"{written['clause_links']:,} clause links written in {built:.1f} s", file=sys.stderr, flush=True)
        timings, notes = time_pages(bench, requests, warmup)
    return {"built_s": built, "written": written, "timings": timings, "notes": notes}


def print_report(report: dict[str, dict[str, Any]], ncs: int, actions: int) -> None:
    """The Markdown table for the README."""
    print(f"\n{ncs:,} nonconformities, {actions:,} corrective actions; goal p95 < {GOAL_MS:.0f} ms.\n")
    print("| backend | page | role | app p50 | app p95 | SQL p50 | SQL p95 | ratio p50 | ratio p95 | goal |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---|")
    for backend, part in report.items():
        for (page, role), t in part["timings"].items():
            print(f"| {backend} | {page} | {role} | {t.app_p50:.1f} ms | {t.app_p95:.1f} ms | {t.sql_p50:.1f} ms | "
                  f"{t.sql_p95:.1f} ms | {t.app_p50 / max(t.sql_p50, 0.001):.1f}× | "
                  f"{t.app_p95 / max(t.sql_p95, 0.001):.1f}× | {'met' if t.app_p95 < GOAL_MS else 'MISSED'} |")
        for note in part["notes"]:
            print(f"\n{backend}: {note}")
        print(f"\n{backend}: data written in {part['built_s']:.1f} s")


def main(argv: list[str] | None = None) -> dict[str, dict[str, Any]]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--ncs", type=int, default=10_000)
    parser.add_argument("--actions", type=int, default=30_000)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--database-url", default=None, help="also run on this PostgreSQL database (own schema)")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--warmup", type=int, default=WARMUP, help="untimed requests before the timed ones")
    args = parser.parse_args(argv)
    backends = ([] if args.no_sqlite else ["sqlite"]) + (["postgresql"] if args.database_url else [])
    report = {backend: run(backend, args.database_url, args.ncs, args.actions, args.requests, args.seed,
                           args.warmup) for backend in backends}
    print_report(report, args.ncs, args.actions)
    return report


if __name__ == "__main__":
    main()
