"""The evidence bundle: the .docx, every evidence file at the version cited, both manifests and a README.

Entries in a fixed order (README.txt, manifest.json, evidence-manifest.csv, the .docx, evidence/… in path order), each
with the pack's generation time, fixed permissions and no extra fields: the same inputs give the same bytes. Evidence
is STORED, not deflated: PDFs, images and Office files are compressed already, and deflating them costs several times
the copy for a few per cent (benchmarks/bundle_bench.py measures both).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import zipfile
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import IO, BinaryIO

from ..storage import CHUNK_SIZE, BlobStore, hash_file
from ..timeutil import as_utc
from .bundle_readme import readme_bytes
from .content import PackContent, Progress, no_progress
from .manifest import EVIDENCE_MANIFEST, MANIFEST, README, BundleEntry, manifest_json_bytes

ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can carry
ZIP_LAST = (2107, 12, 31, 23, 59, 58)
FILE_ATTR = (stat.S_IFREG | 0o644) << 16  # a plain readable file on every unzip, whoever built the bundle
UNIX = 3
COMPRESS_LEVEL = 6
PROGRESS_STEP = 32 * CHUNK_SIZE  # inside a large file: report every 32 MiB, not every chunk (the job row is a write)


class EvidenceMismatch(Exception):
    """The store's bytes are not the ones the pack cites: no bundle is written rather than one that lies."""

    def __init__(self, path: str, expected: str, actual: str, size: int, expected_size: int) -> None:
        super().__init__(f"{path}: the stored bytes do not match the version cited (SHA-256 {actual}, "
                         f"{size} bytes; expected {expected}, {expected_size} bytes); nothing was written")
        self.path = path


def zip_time(moment: datetime) -> tuple[int, int, int, int, int, int]:
    """The UTC wall time of the generation, clamped to what a zip entry can hold (two-second resolution)."""
    t = as_utc(moment)
    value = (t.year, t.month, t.day, t.hour, t.minute, t.second - t.second % 2)
    return min(max(value, ZIP_EPOCH), ZIP_LAST)


def entry_info(name: str, when: tuple[int, int, int, int, int, int], *, size: int,
               compress: int = zipfile.ZIP_DEFLATED) -> zipfile.ZipInfo:
    """A ZipInfo with nothing taken from the machine: time, system, permissions and size are given."""
    info = zipfile.ZipInfo(name, date_time=when)
    info.create_system = UNIX
    info.external_attr = FILE_ATTR
    info.compress_type = compress
    info.file_size = size  # above 4 GiB zipfile then writes the entry as zip64 by itself
    return info


def _copy(source: BinaryIO, sink: IO[bytes], tick: Callable[[int], None]) -> tuple[str, int]:
    """Copy in 1 MiB chunks, hashing as the bytes go by; one buffer reused, nothing else held."""
    digest, size = hashlib.sha256(), 0
    buffer = bytearray(CHUNK_SIZE)
    view = memoryview(buffer)
    while n := source.readinto(buffer):  # type: ignore[attr-defined]
        chunk = view[:n]
        digest.update(chunk)
        sink.write(chunk)
        size += n
        tick(n)
    return digest.hexdigest(), size


@contextlib.contextmanager
def _partial(target: Path) -> Iterator[Path]:
    """Write beside the target and rename at the end, so a failure leaves no bundle (nor half of one)."""
    part = target.with_name(target.name + ".part")
    try:
        yield part
        os.replace(part, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            part.unlink()


def write_bundle(target: Path, *, docx_path: Path, content: PackContent, evidence_manifest: bytes, store: BlobStore,
                 progress: Progress = no_progress, evidence_compression: int = zipfile.ZIP_STORED) -> None:
    """Write the .zip to target, streaming the evidence from the store; the same inputs give the same bytes."""
    when = zip_time(content.cover.generated_at)
    evidence = sorted(content.evidence, key=lambda f: f.path)
    readme = readme_bytes(content, docx_path.name)
    docx_sha, docx_size = hash_file(docx_path)
    head = [BundleEntry(README, len(readme), hashlib.sha256(readme).hexdigest()),
            BundleEntry(EVIDENCE_MANIFEST, len(evidence_manifest), hashlib.sha256(evidence_manifest).hexdigest()),
            BundleEntry(docx_path.name, docx_size, docx_sha)]
    listed = head + [BundleEntry(f.path, f.size, f.sha256) for f in evidence]
    manifest = manifest_json_bytes(listed, pack_id=content.cover.pack_id, generated_at=content.cover.generated_at)
    total = sum(f.size for f in evidence)
    done = reported = 0

    def tick(n: int) -> None:
        nonlocal done, reported
        done += n
        if done - reported >= PROGRESS_STEP:
            progress(done, total, "evidence")
            reported = done

    with _partial(target) as part, zipfile.ZipFile(part, "w", compresslevel=COMPRESS_LEVEL) as zf:
        zf.writestr(entry_info(README, when, size=len(readme)), readme)
        zf.writestr(entry_info(MANIFEST, when, size=len(manifest)), manifest)
        zf.writestr(entry_info(EVIDENCE_MANIFEST, when, size=len(evidence_manifest)), evidence_manifest)
        with docx_path.open("rb") as docx, zf.open(entry_info(docx_path.name, when, size=docx_size), "w") as sink:
            _copy(docx, sink, lambda _n: None)
        progress(0, total, "evidence")
        for f in evidence:
            info = entry_info(f.path, when, size=f.size, compress=evidence_compression)
            with store.open(f.sha256) as source, zf.open(info, "w") as sink:
                sha, size = _copy(source, sink, tick)
            if sha != f.sha256 or size != f.size:
                raise EvidenceMismatch(f.path, f.sha256, sha, size, f.size)
            progress(done, total, "evidence")
            reported = done
