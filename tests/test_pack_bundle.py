"""The evidence bundle and `auditdocs verify-pack`: real blobs in a real store, real zips re-opened, the CLI runner."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import warnings
import zipfile
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from docx import Document as WordDocument
from flask import Flask
from flask_babel import force_locale
from support import need

from auditdocs.packs.bundle import EvidenceMismatch, write_bundle
from auditdocs.packs.bundle_readme import LIST_SUMS
from auditdocs.packs.content import Cover, EvidenceFile, PackContent, TableBlock
from auditdocs.packs.manifest import evidence_manifest_bytes, read_evidence_manifest
from auditdocs.packs.verify import NotABundle, verify_bundle
from auditdocs.storage import BlobStore

GENERATED = datetime(2026, 11, 30, 14, 5, 7, tzinfo=UTC)
BLOBS = {  # bundle path -> bytes; one name with a comma and accents, one empty-ish, one of a few chunks
    "evidence/PR-CAL-01/v3/Procedimiento de gestión, calidad.pdf": b"%PDF-1.4\n" + b"calidad " * 5000,
    "evidence/PR-ANT-02/Rev. 1/debida-diligencia.xlsx": b"PK\x03\x04" + bytes(range(256)) * 9,
    "evidence/REG-07/v1/acta.txt": b"x",
    "evidence/REG-08/v12/grande.bin": os.urandom(3 * 1024 * 1024 + 17),
}


def make_content(evidence: list[EvidenceFile], *, lang: str = "es", generated_at: datetime = GENERATED,
                 pack_id: str = "PK-0123456789AB") -> PackContent:
    """A pack's content as the loader would hand it over: only what the bundle reads is filled in."""
    cover = Cover(organisation="Programa Nacional", standards=["ISO 9001:2015"], scope=["Gestión de programas"],
                  sites=[], processes=[], audit=None, date_from=date(2026, 1, 1), date_to=date(2026, 11, 30),
                  generated_at=generated_at, generated_by="calidad@example.org", pack_id=pack_id)
    return PackContent(lang=lang, cover=cover, coverage=[], sections=[], evidence=evidence,
                       trail=TableBlock(caption="", columns=(), rows=[]), trail_head="")


@pytest.fixture
def store(tmp_path: Path) -> BlobStore:
    return BlobStore(tmp_path / "objects")


@pytest.fixture
def evidence(store: BlobStore) -> list[EvidenceFile]:
    """The BLOBS put into the store, as EvidenceFile values in path order."""
    files = []
    for path, data in BLOBS.items():
        blob = store.put(io.BytesIO(data))
        code, version = path.split("/")[1:3]
        files.append(EvidenceFile(path=path, document=code, title=f"Título {code}", version=version,
                                  size=blob.size, sha256=blob.sha256))
    return sorted(files, key=lambda f: f.path)


def manifest_sha(evidence: list[EvidenceFile]) -> str:
    return hashlib.sha256(evidence_manifest_bytes(evidence)).hexdigest()


def save_docx(path: Path, cover_hash: str) -> Path:
    """A small real .docx whose cover prints the hash as the Word builder does, split across runs."""
    doc = WordDocument()
    doc.add_heading("Paquete de auditoría", level=1)
    line = doc.add_paragraph("SHA-256 del manifiesto de evidencias: ")
    line.add_run(cover_hash[:32])
    line.add_run(cover_hash[32:].upper())
    doc.save(str(path))
    return path


@pytest.fixture
def docx_path(tmp_path: Path, evidence: list[EvidenceFile]) -> Path:
    return save_docx(tmp_path / "ISO-9001-2015_PK-0123456789AB.docx", manifest_sha(evidence))


@pytest.fixture
def build(app: Flask, tmp_path: Path, store: BlobStore, evidence: list[EvidenceFile],
          docx_path: Path) -> Callable[..., Path]:
    """Factory: write a bundle under the pack language's locale, as build.py does."""

    def _build(name: str = "pack.zip", **kwargs: Any) -> Path:
        content = kwargs.pop("content", None) or make_content(evidence)
        target = tmp_path / name
        with app.app_context(), force_locale(content.lang):
            write_bundle(target, docx_path=docx_path, content=content,
                         evidence_manifest=evidence_manifest_bytes(content.evidence), store=store, **kwargs)
        return target

    return _build


def rewrite(source: Path, target: Path, change: Callable[[str, bytes], bytes | None],
            add: dict[str, bytes] | None = None) -> Path:
    """Copy a zip entry by entry (same ZipInfo), letting change() alter an entry's bytes or drop it (None)."""
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w") as dst:
        for info in src.infolist():
            data = change(info.filename, src.read(info))
            if data is not None:
                dst.writestr(info, data)
        for name, data in (add or {}).items():
            dst.writestr(name, data)
    return target


def flip_byte(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1:]


def test_bundle_holds_the_files_in_order_and_both_manifests_describe_them(build, evidence, docx_path, store):
    path = build()
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        assert names == ["README.txt", "manifest.json", "evidence-manifest.csv", docx_path.name,
                         *sorted(BLOBS)]
        for f in evidence:
            assert zf.read(f.path) == BLOBS[f.path]
        manifest = json.loads(zf.read("manifest.json"))
        csv_bytes = zf.read("evidence-manifest.csv")
        readme = zf.read("README.txt").decode("utf-8")
        infos = zf.infolist()
    assert [e["path"] for e in manifest["files"]] == [n for n in names if n != "manifest.json"]
    listed = {e["path"]: e for e in manifest["files"]}
    assert listed[docx_path.name]["sha256"] == hashlib.sha256(docx_path.read_bytes()).hexdigest()
    assert listed["evidence-manifest.csv"]["sha256"] == hashlib.sha256(csv_bytes).hexdigest()
    assert manifest["pack_id"] == "PK-0123456789AB"
    assert manifest["generated_at"] == "2026-11-30T14:05:07Z"
    assert manifest["generator"].startswith("auditdocs ")
    # The CSV in the zip is the one the cover's hash was computed from (build.py hashes these bytes).
    assert csv_bytes == evidence_manifest_bytes(evidence)
    for info in infos:
        assert info.date_time == (2026, 11, 30, 14, 5, 6)
        assert info.external_attr >> 16 == 0o100644
        assert info.extra == b""
    assert "PK-0123456789AB" in readme and "sha256sum" in readme and "Get-FileHash" in readme
    assert "certutil -hashfile evidence-manifest.csv SHA256" in readme


def test_evidence_manifest_csv_is_excel_friendly_and_reads_back(evidence):
    data = evidence_manifest_bytes(list(reversed(evidence)))
    assert data.startswith(b"\xef\xbb\xbfpath,document,version,size,sha256\r\n")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert [r[0] for r in rows[1:]] == sorted(BLOBS)  # path order whatever order it was given in
    comma = next(r for r in rows if "," in r[0])
    assert comma[0] == "evidence/PR-CAL-01/v3/Procedimiento de gestión, calidad.pdf"
    assert '"evidence/PR-CAL-01/v3/Procedimiento de gestión, calidad.pdf"'.encode() in data
    back = read_evidence_manifest(data)
    assert [(e.path, e.size, e.sha256) for e in back] == [(f.path, f.size, f.sha256) for f in evidence]


def test_round_trip_verifies_ok_through_the_cli(build, runner, evidence):
    path = build()
    result = runner.invoke(args=["verify-pack", str(path)])
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-2:] == [
        f"evidence-manifest.csv SHA-256: {manifest_sha(evidence)} (the one on the cover)",
        "OK: 7 files verified (pack PK-0123456789AB)"]
    report = verify_bundle(path)
    assert report.ok and report.checked == 3 + len(BLOBS) and report.cover_shows_it is True
    spaced = " ".join(manifest_sha(evidence).upper()[i:i + 8] for i in range(0, 64, 8))  # as printed, pasted
    result = runner.invoke(args=["verify-pack", str(path), "--manifest-sha256", spaced])
    assert result.exit_code == 0, result.output


def test_a_hash_kept_outside_the_bundle_that_differs_fails(build, runner, evidence):
    other = "ab" * 32
    result = runner.invoke(args=["verify-pack", str(build()), "--manifest-sha256", other])
    assert result.exit_code == 1, result.output
    assert (f"MANIFEST: evidence-manifest.csv has SHA-256 {manifest_sha(evidence)}, not the {other} given"
            in result.output.splitlines())
    result = runner.invoke(args=["verify-pack", str(build()), "--manifest-sha256", "abc"])
    assert result.exit_code == 2 and "64 hexadecimal digits" in result.output


def test_manifests_rewritten_to_match_altered_evidence_fail_on_the_cover(build, runner, tmp_path, evidence):
    """A forger who alters a file and rewrites both manifests to match still cannot change the cover's hash."""
    victim = "evidence/REG-07/v1/acta.txt"
    forged_blob = b"forged"
    forged = [EvidenceFile(f.path, f.document, f.title, f.version, len(forged_blob),
                           hashlib.sha256(forged_blob).hexdigest()) if f.path == victim else f for f in evidence]
    new_csv = evidence_manifest_bytes(forged)

    def forge(name: str, data: bytes) -> bytes:
        if name == victim:
            return forged_blob
        if name == "evidence-manifest.csv":
            return new_csv
        if name == "manifest.json":
            doc = json.loads(data)
            for entry in doc["files"]:
                if entry["path"] == victim:
                    entry.update(size=len(forged_blob), sha256=hashlib.sha256(forged_blob).hexdigest())
                if entry["path"] == "evidence-manifest.csv":
                    entry.update(size=len(new_csv), sha256=hashlib.sha256(new_csv).hexdigest())
            return json.dumps(doc).encode()
        return data

    result = runner.invoke(args=["verify-pack", str(rewrite(build(), tmp_path / "forged.zip", forge))])
    assert result.exit_code == 1, result.output
    assert result.output.splitlines()[0] == (
        "COVER: the Word pack's cover does not show the SHA-256 of evidence-manifest.csv "
        f"({hashlib.sha256(new_csv).hexdigest()})")


def test_same_inputs_give_the_same_bytes_and_another_time_does_not(build, evidence):
    first, second = build("one.zip"), build("two.zip")
    assert first.read_bytes() == second.read_bytes()
    later = build("later.zip", content=make_content(evidence, generated_at=datetime(2027, 1, 2, tzinfo=UTC)))
    assert later.read_bytes() != first.read_bytes()


def test_a_time_before_1980_is_clamped_to_the_zip_epoch(build, evidence):
    path = build(content=make_content(evidence, generated_at=datetime(1970, 1, 1, tzinfo=UTC)))
    with zipfile.ZipFile(path) as zf:
        assert {i.date_time for i in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_a_changed_byte_in_an_evidence_file_is_named(build, runner, tmp_path):
    victim = "evidence/REG-08/v12/grande.bin"
    bad = rewrite(build(), tmp_path / "changed.zip",
                  lambda name, data: flip_byte(data, 2_000_000) if name == victim else data)
    result = runner.invoke(args=["verify-pack", str(bad)])
    assert result.exit_code == 1, result.output
    changed = [line for line in result.output.splitlines() if line.startswith("CHANGED:")]
    assert len(changed) == 1 and changed[0].startswith(f"CHANGED: {victim} (SHA-256 ")
    assert "FAILED: 1 problem(s)" in result.output


def test_a_missing_file_is_named(build, runner, tmp_path):
    victim = "evidence/REG-07/v1/acta.txt"
    bad = rewrite(build(), tmp_path / "missing.zip", lambda name, data: None if name == victim else data)
    result = runner.invoke(args=["verify-pack", str(bad)])
    assert result.exit_code == 1, result.output
    assert f"MISSING: {victim} is listed in manifest.json but not in the bundle" in result.output.splitlines()
    assert "CHANGED" not in result.output


def test_an_unexpected_file_is_named(build, runner, tmp_path):
    bad = rewrite(build(), tmp_path / "extra.zip", lambda _n, data: data, add={"evidence/X/v1/added.pdf": b"%PDF"})
    result = runner.invoke(args=["verify-pack", str(bad)])
    assert result.exit_code == 1, result.output
    assert ("UNEXPECTED: evidence/X/v1/added.pdf is in the bundle but not listed in manifest.json"
            in result.output.splitlines())


def test_a_doctored_evidence_manifest_is_changed_and_disagrees(build, runner, tmp_path):
    victim = "evidence/REG-07/v1/acta.txt"
    fake = hashlib.sha256(b"y").hexdigest()

    def doctor(name: str, data: bytes) -> bytes:
        if name == "evidence-manifest.csv":
            real = hashlib.sha256(b"x").hexdigest()
            return data.replace(real.encode(), fake.encode())
        return data

    bad = rewrite(build(), tmp_path / "doctored.zip", doctor)
    result = runner.invoke(args=["verify-pack", str(bad)])
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert any(line.startswith("CHANGED: evidence-manifest.csv (SHA-256 ") for line in lines)
    assert (f"MISMATCH: evidence-manifest.csv and manifest.json give {victim} different hashes or sizes"
            in lines)


def test_a_name_twice_in_the_zip_is_named(build, runner, tmp_path):
    victim = "evidence/REG-07/v1/acta.txt"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # zipfile warns about the duplicate: that is the point
        bad = rewrite(build(), tmp_path / "twice.zip", lambda _n, data: data, add={victim: b"z"})
    result = runner.invoke(args=["verify-pack", str(bad)])
    assert result.exit_code == 1, result.output
    assert f"DUPLICATED: {victim} appears more than once in the zip" in result.output.splitlines()


@pytest.mark.parametrize("kind", ["text", "zip-without-manifest", "absent", "foreign-manifest"])
def test_not_a_bundle_exits_2_with_one_line(runner, tmp_path, kind):
    path = tmp_path / "thing.zip"
    if kind == "text":
        path.write_text("not a zip at all\n")
    elif kind == "zip-without-manifest":
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("hello.txt", "hi")
    elif kind == "foreign-manifest":
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("manifest.json", '{"name": "some other tool"}')
    result = runner.invoke(args=["verify-pack", str(path)])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: ") and "Traceback" not in result.output
    expected = {"text": "is not a zip file", "zip-without-manifest": "has no manifest.json",
                "absent": "no such file", "foreign-manifest": "is not an auditdocs pack manifest"}[kind]
    assert expected in lines[0]
    with pytest.raises(NotABundle):
        verify_bundle(path)


def test_a_corrupted_blob_refuses_to_bundle_and_leaves_nothing(build, store, evidence, tmp_path):
    victim = next(f for f in evidence if f.path.endswith("grande.bin"))
    blob = store.path_for(victim.sha256)
    blob.chmod(0o644)
    with blob.open("r+b") as fh:  # one byte flipped on disk, size unchanged: only the hash can tell
        fh.seek(1_500_000)
        byte = fh.read(1)
        fh.seek(1_500_000)
        fh.write(bytes([byte[0] ^ 0x80]))
    refused = re.escape("evidence/REG-08/v12/grande.bin: the stored bytes do not match")
    with pytest.raises(EvidenceMismatch, match=refused):
        build("refused.zip")
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix in (".zip", ".part")) == []


def test_progress_reaches_the_evidence_total(build, evidence):
    seen: list[tuple[int, int, str]] = []
    build(progress=lambda done, total, stage: seen.append((done, total, stage)))
    total = sum(f.size for f in evidence)
    assert seen[0] == (0, total, "evidence") and seen[-1] == (total, total, "evidence")
    assert [d for d, _t, _s in seen] == sorted(d for d, _t, _s in seen)


def test_the_readmes_linux_command_checks_the_unzipped_evidence(build, tmp_path):
    need(shutil.which("sha256sum") is not None and shutil.which("python3") is not None,
         "sha256sum and python3 are needed to run the README's command")
    folder = tmp_path / "unzipped"
    with zipfile.ZipFile(build()) as zf:
        zf.extractall(folder)
    command = f"{LIST_SUMS} | sha256sum -c"
    good = subprocess.run(["bash", "-c", command], cwd=folder, capture_output=True, text=True, check=False)
    assert good.returncode == 0, good.stderr
    assert sorted(good.stdout.splitlines()) == sorted(f"{p}: OK" for p in BLOBS)
    victim = folder / "evidence/REG-07/v1/acta.txt"
    victim.write_bytes(b"y")
    bad = subprocess.run(["bash", "-c", command], cwd=folder, capture_output=True, text=True, check=False)
    assert bad.returncode == 1 and "evidence/REG-07/v1/acta.txt: FAILED" in bad.stdout


def test_verify_names_every_problem_at_once(build, tmp_path):
    victims = ("evidence/REG-07/v1/acta.txt", "evidence/PR-ANT-02/Rev. 1/debida-diligencia.xlsx")

    def change(name: str, data: bytes) -> bytes | None:
        return None if name == victims[0] else flip_byte(data, 10) if name == victims[1] else data

    report = verify_bundle(rewrite(build(), tmp_path / "both.zip", change, add={"notes.txt": b"n"}))
    assert not report.ok
    assert report.missing == [victims[0]]
    assert [c.path for c in report.changed] == [victims[1]]
    assert report.unexpected == ["notes.txt"]
    assert report.checked == 2 + len(BLOBS)


def test_deflated_evidence_round_trips_too(build):
    path = build(evidence_compression=zipfile.ZIP_DEFLATED)
    with zipfile.ZipFile(path) as zf:
        assert {i.compress_type for i in zf.infolist() if i.filename.startswith("evidence/")} == {zipfile.ZIP_DEFLATED}
    assert verify_bundle(path).ok
    with zipfile.ZipFile(build("stored.zip")) as zf:  # the default: evidence stored, the small text files deflated
        kinds = {i.filename: i.compress_type for i in zf.infolist()}
    assert {kinds[p] for p in BLOBS} == {zipfile.ZIP_STORED}
    assert kinds["README.txt"] == kinds["manifest.json"] == zipfile.ZIP_DEFLATED
