"""Check a pack bundle against its own manifests: every listed file re-hashed as it streams out of the zip.

Why both manifests: manifest.json covers every file, evidence-manifest.csv (whose hash is on the cover) the evidence;
a bundle is good only when the bytes match the first and the two agree about the evidence.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from flask_babel import gettext as _

from ..storage import CHUNK_SIZE
from .content import Progress, no_progress
from .manifest import EVIDENCE_MANIFEST, MANIFEST, BundleEntry, read_evidence_manifest, read_manifest_json

EVIDENCE_DIR = "evidence/"
MANIFEST_LIMIT = 256 * 1024 * 1024  # far above any real pack's manifest, far below a zip bomb's
DOCX_TEXT_LIMIT = 512 * 1024 * 1024  # word/document.xml of the largest pack, with room to spare
_TAG = re.compile(rb"<[^>]*>|\s+")


class NotABundle(Exception):
    """The file is not a zip, or a zip without an auditdocs manifest.json: nothing to check it against."""


@dataclass(frozen=True)
class Changed:
    """A listed file whose bytes are not the ones listed."""

    path: str
    expected_sha256: str
    actual_sha256: str
    expected_size: int
    actual_size: int


@dataclass(frozen=True)
class Disagreement:
    """evidence-manifest.csv and manifest.json (or the bundle) tell different things about an evidence file."""

    path: str
    kind: str  # "not_in_csv" | "csv_only" | "csv_differs" | "unreadable"


@dataclass
class BundleReport:
    """What verify-pack found; ok only when nothing changed, went missing, was added or disagrees."""

    pack_id: str
    checked: int = 0
    evidence_manifest_sha256: str = ""  # of the bytes in the bundle: the cover, and the pack list, show the same
    cover_shows_it: bool | None = None  # None: no readable .docx to look in (a missing or changed one is named)
    changed: list[Changed] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    disagreements: list[Disagreement] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.changed or self.missing or self.unexpected or self.duplicated or self.disagreements
                    or self.cover_shows_it is False)


def _hash_entry(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int, tick: Progress, done: int,
                total: int) -> tuple[str, int]:
    """SHA-256 and size of one entry, streamed, stopping past the listed size (a bomb is not read to its end); a
    damaged entry (bad CRC, broken deflate) counts as changed."""
    digest, size = hashlib.sha256(), 0
    try:
        with zf.open(info) as stream:
            while size <= limit and (chunk := stream.read(CHUNK_SIZE)):
                digest.update(chunk)
                size += len(chunk)
                tick(done + size, total, "verifying")
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError):
        return "damaged", size
    return digest.hexdigest(), size


def _read_small(zf: zipfile.ZipFile, name: str, limit: int) -> bytes:
    """A manifest's bytes, refusing one larger than any real pack's (a zip bomb posing as a manifest)."""
    info = zf.getinfo(name)
    if info.file_size > limit:
        raise NotABundle(_("%(name)s is %(size)d bytes: too large for a pack manifest", name=name, size=info.file_size))
    try:
        return zf.read(info)
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as exc:  # a damaged entry
        raise NotABundle(_("%(name)s cannot be read from the zip (%(error)s)", name=name, error=exc)) from None



def _open(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except FileNotFoundError:
        raise NotABundle(_("%(path)s: no such file", path=path)) from None
    except IsADirectoryError:
        raise NotABundle(_("%(path)s is a directory, not a pack bundle", path=path)) from None
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise NotABundle(_("%(path)s is not a zip file, so not a pack bundle (%(error)s)", path=path,
                           error=exc)) from None


def verify_bundle(path: Path, progress: Progress = no_progress) -> BundleReport:
    """Re-hash every file manifest.json lists, name the changed, missing and unexpected ones, and check that
    evidence-manifest.csv agrees with the evidence; NotABundle when there is no manifest to check against."""
    with _open(Path(path)) as zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]  # folders a re-zip may add are not files
        names = Counter(i.filename for i in infos)
        if MANIFEST not in names:
            raise NotABundle(_("%(path)s has no manifest.json: it is not an auditdocs pack bundle", path=path))
        try:
            header, listed = read_manifest_json(_read_small(zf, MANIFEST, MANIFEST_LIMIT))
        except (ValueError, UnicodeDecodeError) as exc:
            raise NotABundle(_("%(path)s: manifest.json is not an auditdocs pack manifest (%(error)s)", path=path,
                                error=exc)) from None
        report = BundleReport(pack_id=str(header.get("pack_id", "")))
        report.duplicated = sorted(name for name, n in names.items() if n > 1)
        by_name = {i.filename: i for i in infos}
        listed_names = {e.path for e in listed}
        report.unexpected = sorted(n for n in names if n not in listed_names and n != MANIFEST)
        total = sum(by_name[e.path].file_size for e in listed if e.path in by_name)
        done = 0
        progress(0, total, "verifying")
        for entry in listed:
            info = by_name.get(entry.path)
            if info is None:
                report.missing.append(entry.path)
                continue
            sha, size = _hash_entry(zf, info, entry.size, progress, done, total)
            done += info.file_size
            report.checked += 1
            if sha != entry.sha256 or size != entry.size:
                report.changed.append(Changed(entry.path, entry.sha256, sha, entry.size, size))
            elif entry.path == EVIDENCE_MANIFEST:
                report.evidence_manifest_sha256 = sha
        report.disagreements = _csv_disagreements(zf, listed, EVIDENCE_MANIFEST in names)
        report.cover_shows_it = _cover_shows(zf, listed, report)
    return report


def _cover_shows(zf: zipfile.ZipFile, listed: list[BundleEntry], report: BundleReport) -> bool | None:
    """Whether the pack's .docx prints the evidence manifest's SHA-256 (its cover does): a bundle whose CSV and
    manifest.json were both rewritten to match altered evidence fails here, unless the .docx was rewritten too."""
    changed = {c.path for c in report.changed} | set(report.missing)
    docx = [e.path for e in listed if e.path.endswith(".docx") and "/" not in e.path and e.path not in changed]
    if len(docx) != 1 or not report.evidence_manifest_sha256:
        return None
    try:
        with zf.open(docx[0]) as outer, zipfile.ZipFile(io.BytesIO(outer.read())) as word:
            body = word.getinfo("word/document.xml")
            if body.file_size > DOCX_TEXT_LIMIT:
                return None
            text = _TAG.sub(b"", word.read(body)).lower()
    except (KeyError, zipfile.BadZipFile, zlib.error, OSError, EOFError):
        return None
    return report.evidence_manifest_sha256.encode() in text


def _csv_disagreements(zf: zipfile.ZipFile, listed: list[BundleEntry], has_csv: bool) -> list[Disagreement]:
    """Evidence in manifest.json but not in the CSV, rows of the CSV not in manifest.json, and rows that differ."""
    if not has_csv:
        return []  # reported as missing already
    try:
        rows = read_evidence_manifest(_read_small(zf, EVIDENCE_MANIFEST, MANIFEST_LIMIT))
    except (NotABundle, ValueError, UnicodeDecodeError, KeyError):
        return [Disagreement(EVIDENCE_MANIFEST, "unreadable")]
    evidence = {e.path: e for e in listed if e.path.startswith(EVIDENCE_DIR)}
    in_csv = {r.path: r for r in rows}
    found = [Disagreement(p, "not_in_csv") for p in sorted(evidence) if p not in in_csv]
    for row in rows:
        cited = evidence.get(row.path)
        if cited is None:
            found.append(Disagreement(row.path, "csv_only"))
        elif (cited.sha256, cited.size) != (row.sha256, row.size):
            found.append(Disagreement(row.path, "csv_differs"))
    return found
