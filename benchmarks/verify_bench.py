"""`auditdocs verify` throughput and memory on a store of many objects, against plain hashing of the same files.

Builds a fresh data dir (SQLite) with OBJECTS documents whose versions total about TOTAL_MB, through the same
services as uploads and imports (`uploads.ingest`), then runs `auditdocs verify` as its own process RUNS times.
The baselines, measured in the same run on the same object files: `sha256sum` (one process, one core) and a
single-threaded Python hashlib pass. Prints medians, verify/baseline ratios and verify's peak RSS (from wait4,
per run), and verify's start-up (a verify of an empty data dir, run alongside) so the figure net of it shows the
object check itself. The files stay in the page cache between runs (all alike: this measures hashing, not disks).

    python benchmarks/verify_bench.py [--objects 2000] [--total-mb 1000] [--runs 3] [--workers N] [--keep]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).with_name("auditdocs")
MB = 1_000_000


def build_store(data_dir: Path, objects: int, total_mb: int, work: Path) -> None:
    """OBJECTS documents with one version each, sizes spread around the mean, random bytes (nothing dedupes)."""
    os.environ["AUDITDOCS_DATA_DIR"] = str(data_dir)
    os.environ.pop("AUDITDOCS_DATABASE_URL", None)
    sys.path.insert(0, str(ROOT))
    from auditdocs import create_app
    from auditdocs.db import write_transaction
    from auditdocs.extensions import db
    from auditdocs.models import User
    from auditdocs.services import documents as svc
    from auditdocs.services.uploads import Incoming, ingest

    app = create_app()
    rng = random.Random(8)
    mean = total_mb * MB // objects
    source = work / "evidence.pdf"
    started = time.perf_counter()
    with app.app_context():
        for i in range(objects):
            size = max(1024, int(mean * rng.uniform(0.2, 1.8)))
            with source.open("wb") as fh:
                fh.write(b"%PDF-1.4\n% verify benchmark " + str(i).encode() + b"\n")
                fh.write(os.urandom(size))
            with write_transaction():
                author = db.session.get(User, 1)
                assert author is not None
                doc = svc.create_document(code=f"BENCH-{i:05d}", title=f"Benchmark evidence {i}", kind="evidence",
                                          owner=author, actor=author)
                ingest(Incoming.from_path(source), lambda checked, d=doc, a=author: svc.add_version(d, checked,
                                                                                                   actor=a))
            if (i + 1) % 250 == 0:
                print(f"  stored {i + 1}/{objects} objects ({time.perf_counter() - started:.0f} s)", flush=True)
        db.session.remove()
    source.unlink()


def object_files(data_dir: Path) -> list[Path]:
    return sorted(p for p in (data_dir / "objects").glob("??/??/*") if p.is_file())


def sha256sum_pass(list_file: Path) -> float:
    """coreutils sha256sum over every object file (one process: one core)."""
    start = time.perf_counter()
    with list_file.open("rb") as names:
        subprocess.run(["xargs", "-0", "sha256sum"], stdin=names, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def python_pass(files: list[Path]) -> float:
    """One thread, hashlib, 1 MiB reads: what a straightforward verify loop costs at the least."""
    start = time.perf_counter()
    for path in files:
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            while chunk := fh.read(1024 * 1024):
                digest.update(chunk)
        assert digest.hexdigest() == path.name
    return time.perf_counter() - start


def run_verify(env: dict[str, str], *args: str) -> tuple[float, float, str]:
    """One `auditdocs verify` process: (wall seconds, peak RSS in MB, its summary line)."""
    start = time.perf_counter()
    proc = subprocess.Popen([str(BIN), "verify", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    out = proc.stdout.read().decode()
    _pid, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"verify failed ({proc.returncode}):\n{out}")
    return elapsed, usage.ru_maxrss / 1024, out.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--objects", type=int, default=2000)
    parser.add_argument("--total-mb", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=None, help="passed to verify (default: its own)")
    parser.add_argument("--keep", action="store_true", help="keep the temp data dir and print its path")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="auditdocs-verify-bench-"))
    data_dir = work / "data"
    # This checkout's code, whatever an editable install of the venv points at.
    env = {**os.environ, "AUDITDOCS_DATA_DIR": str(data_dir),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    env.pop("AUDITDOCS_DATABASE_URL", None)
    empty_env = {**env, "AUDITDOCS_DATA_DIR": str(work / "empty")}
    extra = ["--workers", str(args.workers)] if args.workers else []
    try:
        for each in (env, empty_env):
            subprocess.run([str(BIN), "init"], env=each, check=True, stdout=subprocess.DEVNULL)
        subprocess.run([str(BIN), "create-user", "bench@example.org", "--role", "quality_officer",
                        "--password-stdin"], env=env, input="benchmark-password-123\n", text=True, check=True,
                       stdout=subprocess.DEVNULL)
        _t, empty_rss, _line = run_verify(empty_env, *extra)
        print(f"building {args.objects} objects, about {args.total_mb} MB, in {data_dir}", flush=True)
        build_store(data_dir, args.objects, args.total_mb, work)
        files = object_files(data_dir)
        total = sum(p.stat().st_size for p in files)
        list_file = work / "objects.list"
        list_file.write_bytes(b"".join(bytes(p) + b"\0" for p in files))
        verify_t, rss, sums, pys, starts = [], [], [], [], []
        line = ""
        for _run in range(args.runs):  # interleaved, so a change in the machine's load hits both alike
            sums.append(sha256sum_pass(list_file))
            pys.append(python_pass(files))
            elapsed, peak, line = run_verify(env, *extra)
            verify_t.append(elapsed)
            rss.append(peak)
            starts.append(run_verify(empty_env, *extra)[0])
        later = (date.today() + timedelta(days=2)).isoformat()  # nothing stored since: stat all, sample 100
        quick_t, quick_rss, quick_line = run_verify(env, "--since", later, *extra)
    finally:
        if args.keep:
            print(f"data dir kept: {data_dir}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    med_v, med_s, med_p = statistics.median(verify_t), statistics.median(sums), statistics.median(pys)
    net = med_v - statistics.median(starts)
    mb = total / MB
    print(f"\nverify of {len(files)} objects, {mb:.0f} MB (mean {mb / len(files):.2f} MB), median of {args.runs} runs,"
          f" {os.cpu_count()} cores")
    print(f"  baseline sha256sum (1 core)     : {med_s:6.2f} s  {mb / med_s:7.1f} MB/s")
    print(f"  baseline Python hashlib 1 thread: {med_p:6.2f} s  {mb / med_p:7.1f} MB/s")
    print(f"  auditdocs verify (full)         : {med_v:6.2f} s  {mb / med_v:7.1f} MB/s  "
          f"{len(files) / med_v:7.0f} objects/s   (goal >= 100 MB/s)")
    print(f"  verify net of start-up          : {net:6.2f} s  {mb / net:7.1f} MB/s   (start-up, an empty data dir: "
          f"{med_v - net:.2f} s)")
    print(f"  ratio verify/sha256sum          : {med_v / med_s:6.2f}x")
    print(f"  ratio verify/Python 1 thread    : {med_v / med_p:6.2f}x   (net of start-up: {net / med_p:.2f}x)")
    print(f"  verify peak RSS                 : {statistics.median(rss):6.1f} MB median, {max(rss):.1f} MB max "
          f"(goal < 100 MB)")
    print(f"  verify peak RSS, empty data dir : {empty_rss:6.1f} MB (the imports)")
    print(f"  verify --since {later} (stat + 100 sampled): {quick_t:5.2f} s, peak RSS {quick_rss:.1f} MB")
    print(f"  last full summary: {line}")
    print(f"  quick summary    : {quick_line}")


if __name__ == "__main__":
    main()
