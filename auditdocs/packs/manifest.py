"""The bundle's manifests: evidence-manifest.csv (its hash is on the cover) and manifest.json (everything else).

evidence-manifest.csv is UTF-8 with a byte-order mark and CRLF line ends (RFC 4180, the csv module's quoting): Excel
in Spanish opens "Gestión" as written only with the mark, PowerShell 5.1's Import-Csv reads UTF-8 only with it, and a
hash is of bytes whatever they are, so sha256sum/Get-FileHash/certutil check it unchanged. Readers here use utf-8-sig.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from ..services.backup import app_version
from ..timeutil import as_utc
from .content import EvidenceFile

EVIDENCE_MANIFEST = "evidence-manifest.csv"
MANIFEST = "manifest.json"
README = "README.txt"
CSV_COLUMNS = ("path", "document", "version", "size", "sha256")
BUNDLE_FORMAT = "auditdocs-pack-bundle/1"  # lets verify-pack tell a bundle from any zip that has a manifest.json


@dataclass(frozen=True)
class BundleEntry:
    """One file of the bundle as manifest.json lists it."""

    path: str
    size: int
    sha256: str


def evidence_manifest_bytes(files: list[EvidenceFile]) -> bytes:
    """evidence-manifest.csv: path, document, version, size, SHA-256 of each evidence file, in path order."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for f in sorted(files, key=lambda f: f.path):
        writer.writerow((f.path, f.document, f.version, str(f.size), f.sha256))
    return out.getvalue().encode("utf-8-sig")


def read_evidence_manifest(data: bytes) -> list[BundleEntry]:
    """The rows of an evidence-manifest.csv (with or without its byte-order mark), for verify-pack."""
    reader = csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline=""))
    if tuple(reader.fieldnames or ()) != CSV_COLUMNS:
        raise ValueError(f"{EVIDENCE_MANIFEST}: the header is not {','.join(CSV_COLUMNS)}")
    return [BundleEntry(path=row["path"], size=int(row["size"]), sha256=row["sha256"]) for row in reader]


def manifest_json_bytes(entries: Sequence[BundleEntry], *, pack_id: str, generated_at: datetime,
                        generator: str | None = None) -> bytes:
    """manifest.json: every other file of the bundle in bundle order; sorted keys, fixed indent, one newline at
    the end, non-ASCII as written: the same inputs give the same bytes."""
    data = {
        "format": BUNDLE_FORMAT,
        "pack_id": pack_id,
        "generated_at": as_utc(generated_at).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "generator": generator or f"auditdocs {app_version()}",
        "files": [{"path": e.path, "size": e.size, "sha256": e.sha256} for e in entries],
    }
    return (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def read_manifest_json(data: bytes) -> tuple[dict[str, object], list[BundleEntry]]:
    """manifest.json's header fields and its files; ValueError when it is not one written by write_bundle."""
    doc = json.loads(data.decode("utf-8"))
    if not isinstance(doc, dict) or doc.get("format") != BUNDLE_FORMAT or not isinstance(doc.get("files"), list):
        raise ValueError(f"{MANIFEST} is not an auditdocs pack manifest")
    entries = []
    for item in doc["files"]:
        if not (isinstance(item, dict) and isinstance(item.get("path"), str) and isinstance(item.get("size"), int)
                and isinstance(item.get("sha256"), str)):
            raise ValueError(f"{MANIFEST}: a file entry lacks its path, size or sha256")
        entries.append(BundleEntry(path=item["path"], size=item["size"], sha256=item["sha256"]))
    return {k: v for k, v in doc.items() if k != "files"}, entries
