"""Pages and import at national scale: p50/p95 of every listing page at N documents, and import cost per file.

For each backend (SQLite, and PostgreSQL when --pg-url or AUDITDOCS_TEST_DATABASE_URL is given) and each size N, a
fresh database is built through the services (create, upload, approve: the same rows and audit events as the web),
with realistic clause mappings: a third of the documents map to ISO 9001 7.5, the rest to other clauses; one in
twenty is restricted. Then, for an administrator and an external auditor, each page is requested WARMUP times and
then --requests times through the app's WSGI stack (Flask's test client: routing, login, policy, templates; no
socket), and the median and 95th percentile are printed. Last, --import-files new files are imported with
`auditdocs import` into the grown register and the cost per file is printed. The baseline is the smallest N,
measured in the same run: the ratio column is p95 at N / p95 at the baseline.

    python benchmarks/scale_bench.py [--sizes 1000,100000] [--backends sqlite,postgresql] [--requests 200]
"""

from __future__ import annotations

import argparse
import os
import random
import re
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask import Flask  # noqa: E402
from sqlalchemy import select, text  # noqa: E402

from auditdocs.db import write_transaction  # noqa: E402
from auditdocs.extensions import db  # noqa: E402
from auditdocs.models import Clause, Document, Standard, User  # noqa: E402
from auditdocs.services import documents as docs  # noqa: E402
from auditdocs.services import users  # noqa: E402
from auditdocs.services.uploads import Checked, Incoming, ingest  # noqa: E402
from benchmarks.benchapp import bench_app  # noqa: E402

PASSWORD = "Bench-password-2026"  # noqa: S105 - a throwaway database
WARMUP = 10
BATCH = 500
KINDS = ("procedure", "record", "form", "evidence", "policy", "work_instruction", "other")
REGIONS = ("Amazonas", "Áncash", "Apurímac", "Arequipa", "Ayacucho", "Cajamarca", "Cusco", "Huancavelica",
           "Huánuco", "Ica", "Junín", "La Libertad", "Lambayeque", "Lima", "Loreto", "Madre de Dios", "Piura",
           "Puno", "San Martín")
TOPICS = ("visitas domiciliarias", "gestión comunal", "control de calidad", "riesgos de soborno", "compras",
          "recursos humanos", "capacitación", "acompañamiento familiar", "cuidado diurno", "auditoría interna")
FORMS = ("Procedimiento", "Registro", "Formato", "Informe", "Acta", "Instructivo", "Plan")
RARE_TITLE = "Plan anual de supervisión técnica"  # held by RARE_COUNT documents whatever N: a selective filter
RARE_COUNT = 30
TEXT_QUERY = "supervision"  # typed without the accent: the filter folds both sides


@dataclass
class Site:
    """One database and data dir for a run, and the accounts it holds."""

    app: Flask
    backend: str
    n: int
    ids: dict[str, int] = field(default_factory=dict)


def _pg_url(args: argparse.Namespace) -> str | None:
    return args.pg_url or os.environ.get("AUDITDOCS_TEST_DATABASE_URL")


@contextmanager
def fresh_site(backend: str, n: int, pg_url: str | None) -> Iterator[Site]:
    """An empty, migrated database with the catalogue, in a temp dir (and its own PostgreSQL schema)."""
    with bench_app(backend, pg_url, f"scale-{n}") as app:
        yield Site(app, backend, n)


def _accounts(site: Site) -> None:
    with site.app.app_context(), write_transaction():
        for key, role in (("admin", "admin"), ("author", "quality_officer"), ("approver", "quality_officer"),
                          ("owner2", "compliance_officer"), ("auditor", "auditor")):
            user = users.create_user(f"{key}@bench.example", f"Bench {key}", role, PASSWORD)
            db.session.flush()
            site.ids[key] = user.id


def _blob(site: Site, tmp: Path) -> Checked:
    """One small PDF stored once; every version of the corpus shares its bytes (the store keeps them once)."""
    source = tmp / "shared.pdf"
    source.write_bytes(b"%PDF-1.4\n% scale benchmark\n" + b"0" * 2000 + b"\n%%EOF\n")
    with site.app.app_context():
        stored = ingest(Incoming.from_path(source), lambda c: c)  # checks and stores the bytes, writes no row
    return Checked(stored.display_name, stored.mime_type, stored.sha256, stored.size)


def build(site: Site, progress: bool = True) -> float:
    """N documents through the services, BATCH per transaction; returns the seconds it took."""
    rng = random.Random(site.n)
    start = time.perf_counter()
    checked = _blob(site, Path(site.app.config["DATA_DIR"]))
    with site.app.app_context():
        clause_ids = list(db.session.scalars(select(Clause.id).where(Clause.documented_information != "none")))
        big = db.session.scalar(select(Clause.id).join(Standard).where(Standard.slug == "iso9001_2015",
                                                                      Clause.number == "7.5"))
        site.ids["big_clause"] = big
    others = [c for c in clause_ids if c != big]
    rare = set(rng.sample(range(site.n), RARE_COUNT))
    effective = date.today() - timedelta(days=30)
    done = 0
    while done < site.n:
        with site.app.app_context(), write_transaction():
            author = db.session.get_one(User, site.ids["author"])
            approver = db.session.get_one(User, site.ids["approver"])
            owners = [author, db.session.get_one(User, site.ids["owner2"])]
            clauses = {c.id: c for c in db.session.scalars(select(Clause))}
            for i in range(done, min(done + BATCH, site.n)):
                mapped = [clauses[big]] if i % 3 == 0 else []
                mapped += [clauses[c] for c in rng.sample(others, rng.randint(1, 3))]
                title = (RARE_TITLE if i in rare else
                         f"{rng.choice(FORMS)} de {rng.choice(TOPICS)} — {rng.choice(REGIONS)} {i}")
                doc = docs.create_document(
                    code=f"BEN-{i:06d}", title=title, kind=KINDS[i % len(KINDS)], owner=owners[i % 2],
                    actor=author, confidentiality="restricted" if i % 20 == 6 else "normal", clauses=mapped)
                version = docs.add_version(doc, checked, actor=author, revision_label="v1")
                docs.approve(version, actor=approver, effective_date=effective)
            done = min(done + BATCH, site.n)
        if progress:
            print(f"\r  building {site.backend} N={site.n:,}: {done:,} documents", end="", file=sys.stderr,
                  flush=True)
    if progress:
        print(file=sys.stderr)
    if site.backend == "postgresql":
        with site.app.app_context():
            db.session.execute(text("ANALYZE"))
            db.session.commit()
    else:
        with site.app.app_context():
            db.session.execute(text("PRAGMA optimize"))
            db.session.commit()
    return time.perf_counter() - start


def login(app: Flask, email: str) -> Any:
    """A test client signed in through the login form (CSRF token read from the page)."""
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token, "no CSRF token on the login page"
    resp = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token.group(1)})
    assert resp.status_code in (302, 303), f"login of {email} failed: {resp.status_code}"
    return client


def pages(site: Site) -> dict[str, str]:
    """The pages the issue names, as URLs on this corpus."""
    with site.app.app_context():
        middle_code = f"BEN-{site.n // 2 - (site.n // 2) % 20:06d}"  # i % 20 == 0: a normal, visible document
        middle = db.session.scalar(select(Document.id).where(Document.code == middle_code))
    big = site.ids["big_clause"]
    return {
        "dashboard": "/",
        "register, first page": "/documents/",
        "register, filtered by 7.5": f"/documents/?clause={big}",
        "register, last page": "/documents/?last=1",
        "register, text filter": f"/documents/?q={TEXT_QUERY}",
        "document page": f"/documents/{middle}",
        "clause page 7.5": "/clauses/iso9001_2015/7.5",
        "audit log, first page": "/audit/",
        "audit log, last page": "/audit/?last=1",
    }


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def time_pages(site: Site, requests: int) -> dict[tuple[str, str], tuple[float, float]]:
    """(page, role) -> (p50 ms, p95 ms)."""
    results: dict[tuple[str, str], tuple[float, float]] = {}
    urls = pages(site)
    for role in ("admin", "auditor"):
        client = login(site.app, f"{role}@bench.example")
        for name, url in urls.items():
            if name.startswith("audit log") and role == "auditor":
                continue
            for _ in range(WARMUP):
                status = client.get(url).status_code
                assert status == 200, f"{url} as {role}: {status}"
            samples = []
            for _ in range(requests):
                t0 = time.perf_counter()
                resp = client.get(url)
                resp.get_data()
                samples.append((time.perf_counter() - t0) * 1000)
            results[(name, role)] = (statistics.median(samples), percentile(samples, 0.95))
            print(f"  {site.backend} N={site.n:,} {role:8} {name:28} p50 {results[(name, role)][0]:7.1f} ms  "
                  f"p95 {results[(name, role)][1]:7.1f} ms", file=sys.stderr, flush=True)
    return results


def time_import(site: Site, files: int) -> float:
    """Milliseconds per file to import `files` new documents (distinct bytes) with `auditdocs import`."""
    folder = Path(tempfile.mkdtemp(prefix="scale-import-"))  # outside the data dir, as the import insists
    for i in range(files):
        body = f"%PDF-1.4\n% import {site.n} {i} {secrets.token_hex(8)}\n".encode() + b"1" * 3000 + b"\n%%EOF\n"
        (folder / f"PR-IMP-{i:04d} Procedimiento importado {i} v1.pdf").write_bytes(body)
    runner = site.app.test_cli_runner()
    t0 = time.perf_counter()
    result = runner.invoke(args=["import", str(folder), "--as", "author@bench.example",
                                 "--approve-as", "approver@bench.example"])
    elapsed = time.perf_counter() - t0
    shutil.rmtree(folder, ignore_errors=True)
    assert result.exit_code == 0, result.output
    return elapsed * 1000 / files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,100000", help="corpus sizes, the first is the baseline")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--import-files", type=int, default=200)
    parser.add_argument("--pg-url", default=None, help="PostgreSQL URL (default: AUDITDOCS_TEST_DATABASE_URL)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    backends = [b for b in args.backends.split(",") if b != "postgresql" or _pg_url(args)]
    report: dict[str, dict[int, Any]] = {}
    for backend in backends:
        report[backend] = {}
        for n in sizes:
            with fresh_site(backend, n, _pg_url(args)) as site:
                _accounts(site)
                built = build(site)
                timings = time_pages(site, args.requests)
                per_file = time_import(site, args.import_files)
                report[backend][n] = {"build_s": built, "pages": timings, "import_ms": per_file}
                print(f"  {backend} N={n:,}: built in {built:.0f} s, import {per_file:.1f} ms/file",
                      file=sys.stderr, flush=True)
    print_report(report, sizes)


def print_report(report: dict[str, dict[int, Any]], sizes: list[int]) -> None:
    base, top = sizes[0], sizes[-1]
    print(f"\n| backend | page | role | p50 @ {base:,} | p95 @ {base:,} | p50 @ {top:,} | p95 @ {top:,} | "
          "p95 ratio |")
    print("|---|---|---|---:|---:|---:|---:|---:|")
    for backend, by_n in report.items():
        for (page, role), (p50_small, p95_small) in by_n[base]["pages"].items():
            p50_big, p95_big = by_n[top]["pages"][(page, role)]
            print(f"| {backend} | {page} | {role} | {p50_small:.1f} ms | {p95_small:.1f} ms | {p50_big:.1f} ms | "
                  f"{p95_big:.1f} ms | {p95_big / p95_small:.2f}× |")
    print(f"\n| backend | import ms/file @ {base:,} | import ms/file @ {top:,} | ratio | build time @ {top:,} |")
    print("|---|---:|---:|---:|---:|")
    for backend, by_n in report.items():
        small, big = by_n[base]["import_ms"], by_n[top]["import_ms"]
        print(f"| {backend} | {small:.1f} | {big:.1f} | {big / small:.2f}× | {by_n[top]['build_s']:.0f} s |")


if __name__ == "__main__":
    main()
