"""Pack bundle throughput and memory: 1 GiB of evidence streamed from the blob store into a .zip, against a plain copy.

Puts FILES random files of SIZE_MIB each into a fresh BlobStore (random: nothing compresses or dedupes, like PDFs and
scans), then, RUNS times and interleaved so a change in the machine's load hits all alike, each as its own process:
- baseline: shutil.copyfileobj of the same object files into a zip (stored entries, no hashing, no manifests);
- bundle: packs.bundle.write_bundle (README, both manifests, a small .docx, the evidence stored and re-hashed);
- verify: packs.verify.verify_bundle of that bundle (every entry re-hashed as it streams out).
Once: the bundle with the evidence deflated instead of stored, to show what compressing would cost.
Each child reports its wall time and its peak RSS above its own idle (the peak reset through /proc/self/clear_refs once
its imports and the app are loaded, then VmHWM after minus VmRSS before), so the figure is the work's alone.
Everything lives in a temp dir under /tmp, removed at the end.

    python benchmarks/bundle_bench.py [--files 64] [--size-mib 16] [--runs 3] [--no-deflate] [--keep]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MIB = 1024 * 1024
MB = 1_000_000


def vm_kib(field: str) -> int:
    """A line of /proc/self/status (VmRSS, VmHWM) in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def fill_store(root: Path, files: int, size_mib: int) -> list[dict[str, Any]]:
    """FILES random objects in a BlobStore, as the EvidenceFile fields the loader would give."""
    from auditdocs.storage import BlobStore

    store = BlobStore(root)
    out = []
    for i in range(files):
        w = store.writer()
        for _ in range(size_mib):
            w.write(os.urandom(MIB))
        blob = w.commit()
        code = f"EV-{i:03d}"
        out.append({"path": f"evidence/{code}/v1/scan-{i:03d}.pdf", "document": code, "title": f"Evidence {i}",
                    "version": "v1", "size": blob.size, "sha256": blob.sha256})
    return out


def child(mode: str, work: Path, target: Path) -> None:
    """One measured run in its own process: prints {"seconds", "peak_mib", "idle_mib"} as JSON."""
    import shutil as sh
    import zipfile
    from datetime import UTC, date, datetime

    from flask_babel import force_locale

    from auditdocs import create_app
    from auditdocs.packs import bundle, manifest, verify
    from auditdocs.packs.content import Cover, EvidenceFile, PackContent, TableBlock
    from auditdocs.storage import BlobStore

    app = create_app()
    store = BlobStore(work / "objects")
    evidence = [EvidenceFile(**e) for e in json.loads((work / "evidence.json").read_text())]
    cover = Cover(organisation="Benchmark", standards=["ISO 9001:2015"], scope=[], sites=[], processes=[], audit=None,
                  date_from=date(2026, 1, 1), date_to=date(2026, 12, 31),
                  generated_at=datetime(2026, 12, 1, tzinfo=UTC), generated_by="bench", pack_id="PK-BENCH0000000")
    content = PackContent(lang="es", cover=cover, coverage=[], sections=[], evidence=evidence,
                          trail=TableBlock("", (), []), trail_head="")
    Path("/proc/self/clear_refs").write_text("5")  # peak RSS := current RSS, so the imports' peak does not count
    idle = vm_kib("VmRSS")
    start = time.perf_counter()
    if mode == "baseline":
        with zipfile.ZipFile(target, "w") as zf:
            for f in evidence:
                with store.open(f.sha256) as src, zf.open(zipfile.ZipInfo(f.path), "w") as dst:
                    sh.copyfileobj(src, dst, MIB)
    elif mode in ("bundle", "deflate"):
        compress = zipfile.ZIP_DEFLATED if mode == "deflate" else zipfile.ZIP_STORED
        with app.app_context(), force_locale(content.lang):
            bundle.write_bundle(target, docx_path=work / "pack.docx", content=content,
                                evidence_manifest=manifest.evidence_manifest_bytes(evidence), store=store,
                                evidence_compression=compress)
    elif mode == "verify":
        with app.app_context():
            report = verify.verify_bundle(target)
        assert report.ok and report.checked == len(evidence) + 3, report
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "peak_mib": (vm_kib("VmHWM") - idle) / 1024, "idle_mib": idle / 1024}))


def run_child(mode: str, work: Path, target: Path, env: dict[str, str]) -> dict[str, float]:
    out = subprocess.run([sys.executable, __file__, "--child", mode, str(work), str(target)], env=env,
                         capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"{mode} failed ({out.returncode}):\n{out.stderr[-3000:]}")
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=64)
    parser.add_argument("--size-mib", type=int, default=16)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-deflate", action="store_true", help="skip the deflated-evidence run")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir and print its path")
    parser.add_argument("--child", nargs=3, metavar=("MODE", "WORK", "TARGET"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    if args.child:
        child(args.child[0], Path(args.child[1]), Path(args.child[2]))
        return

    work = Path(tempfile.mkdtemp(prefix="auditdocs-bundle-bench-", dir="/tmp"))
    env = {**os.environ, "AUDITDOCS_DATA_DIR": str(work / "data"),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    env.pop("AUDITDOCS_DATABASE_URL", None)
    try:
        from docx import Document

        started = time.perf_counter()
        evidence = fill_store(work / "objects", args.files, args.size_mib)
        (work / "evidence.json").write_text(json.dumps(evidence))
        from auditdocs.packs.content import EvidenceFile
        from auditdocs.packs.manifest import evidence_manifest_bytes

        cover = Document()  # the cover prints the evidence manifest's hash, and verify looks for it there
        cover.add_paragraph(hashlib.sha256(evidence_manifest_bytes([EvidenceFile(**e) for e in evidence])).hexdigest())
        cover.save(str(work / "pack.docx"))
        total = sum(e["size"] for e in evidence)
        print(f"stored {args.files} x {args.size_mib} MiB = {total / MB:.0f} MB of random evidence in "
              f"{time.perf_counter() - started:.1f} s ({work})", flush=True)
        runs: dict[str, list[dict[str, float]]] = {"baseline": [], "bundle": [], "verify": []}
        size = 0
        for _run in range(args.runs):
            for mode in runs:
                target = work / ("baseline.zip" if mode == "baseline" else "bundle.zip")
                os.sync()  # the last run's dirty pages written back first, so their writeback slows none of them
                runs[mode].append(run_child(mode, work, target, env))
                if mode == "baseline":
                    target.unlink()
            size = (work / "bundle.zip").stat().st_size
            (work / "bundle.zip").unlink()  # each run writes a new file, as the baseline does
        os.sync()
        deflate = None if args.no_deflate else run_child("deflate", work, work / "deflated.zip", env)
        deflated_size = (work / "deflated.zip").stat().st_size if deflate else 0
    finally:
        if args.keep:
            print(f"kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    mb = total / MB
    med = {mode: statistics.median(r["seconds"] for r in rs) for mode, rs in runs.items()}
    peak = {mode: max(r["peak_mib"] for r in rs) for mode, rs in runs.items()}
    idle = statistics.median(r["idle_mib"] for rs in runs.values() for r in rs)
    print(f"\nbundle of {args.files} evidence files, {mb:.0f} MB, median of {args.runs} runs, {os.cpu_count()} cores; "
          f"each run its own process (idle RSS after imports and app: {idle:.0f} MiB)")
    print(f"  baseline copyfileobj into a zip : {med['baseline']:6.2f} s  {mb / med['baseline']:7.1f} MB/s  "
          f"peak RSS above idle {peak['baseline']:5.1f} MiB")
    print(f"  write_bundle (stored, hashed)   : {med['bundle']:6.2f} s  {mb / med['bundle']:7.1f} MB/s  "
          f"peak RSS above idle {peak['bundle']:5.1f} MiB (goal < 100 MB)")
    print(f"  ratio bundle/baseline           : {med['bundle'] / med['baseline']:6.2f}x   (bundle {size / MB:.0f} MB)")
    print(f"  verify_bundle (every entry)     : {med['verify']:6.2f} s  {mb / med['verify']:7.1f} MB/s  "
          f"peak RSS above idle {peak['verify']:5.1f} MiB")
    if deflate:
        print(f"  write_bundle, evidence deflated : {deflate['seconds']:6.2f} s  {mb / deflate['seconds']:7.1f} MB/s  "
              f"peak RSS above idle {deflate['peak_mib']:5.1f} MiB  (zip {deflated_size / MB:.0f} MB: "
              f"{deflate['seconds'] / med['bundle']:.1f}x the time for {100 * (1 - deflated_size / size):+.1f}% size)")


if __name__ == "__main__":
    main()
