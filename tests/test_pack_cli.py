"""`auditdocs pack` at the console: the same inputs give the same bytes, bad input writes nothing, a build is
audited, and `auditdocs verify-pack` catches a bundle that was altered (issue 14, points 3 and 4)."""

from __future__ import annotations

import json
import re
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from auditdocs.extensions import db
from auditdocs.models import AuditEvent
from auditdocs.timeutil import as_utc

NINE, THIRTY_SEVEN = "ISO 9001:2015", "ISO 37001:2016"
AT = "2026-11-30T15:00:00Z"


@pytest.fixture
def demo(runner):  # type: ignore[no-untyped-def]
    result = runner.invoke(args=["demo-data"])
    assert result.exit_code == 0, result.output
    return runner


def _pack(runner, out: Path, *args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return runner.invoke(args=["pack", *args, "--out", str(out)], env=env)


def _pack_id(output: str) -> str:
    found = re.search(r"^Pack (PK-[0-9A-F]{12}) written", output, re.M)
    assert found, output
    return found[1]


def _names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def test_same_inputs_and_generation_time_give_the_same_bytes(demo, tmp_path: Path) -> None:
    args = ("--standard", THIRTY_SEVEN, "--clause", "8", "--from", "2026-01-01", "--to", "2026-11-30", "--lang", "es",
            "--bundle", "--generated-at", AT)
    first, second = _pack(demo, tmp_path / "a.zip", *args), _pack(demo, tmp_path / "b.zip", *args)
    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()
    pack_id = _pack_id(first.output)
    assert pack_id == _pack_id(second.output)
    later = _pack(demo, tmp_path / "d.zip", *args[:-1], "2026-11-30T15:00:01Z")
    assert later.exit_code == 0 and _pack_id(later.output) != pack_id
    assert (tmp_path / "d.zip").read_bytes() != (tmp_path / "a.zip").read_bytes()


def test_source_date_epoch_fixes_the_generation_time(demo, tmp_path: Path) -> None:
    epoch = str(int(datetime(2026, 11, 30, 15, 0, tzinfo=UTC).timestamp()))
    args = ("--standard", NINE, "--clause", "7.5", "--from", "2026-01-01", "--to", "2026-11-30")
    by_env = _pack(demo, tmp_path / "env.docx", *args, env={"SOURCE_DATE_EPOCH": epoch})
    by_option = _pack(demo, tmp_path / "opt.docx", *args, "--generated-at", AT)
    assert by_env.exit_code == 0 and by_option.exit_code == 0, by_env.output + by_option.output
    assert (tmp_path / "env.docx").read_bytes() == (tmp_path / "opt.docx").read_bytes()
    bad = _pack(demo, tmp_path / "bad.docx", *args, env={"SOURCE_DATE_EPOCH": "yesterday"})
    assert bad.exit_code != 0 and "SOURCE_DATE_EPOCH" in bad.output


@pytest.mark.parametrize(("args", "message"), [
    (("--standard", "ISO 14001:2015"), "Unknown standard"),
    (("--standard", NINE, "--clause", "99.9"), "No clause 99.9"),
    (("--standard", NINE, "--site", "NOPE"), "Unknown site: NOPE"),
    (("--standard", NINE, "--audit", "999"), "There is no audit 999"),
    (("--standard", NINE, "--from", "2026-05-01", "--to", "2026-04-01"), "starts after it ends"),
    (("--standard", NINE, "--lang", "fr"), "'fr' is not one of"),
])
def test_bad_input_says_what_is_wrong_and_writes_nothing(demo, tmp_path: Path, args, message) -> None:
    result = _pack(demo, tmp_path / "p.docx", *args)
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    assert _names(tmp_path) == ["data"]


def test_an_existing_file_is_never_written_over_and_the_extension_must_fit(demo, tmp_path: Path) -> None:
    kept = tmp_path / "kept.docx"
    kept.write_bytes(b"an earlier pack")
    result = _pack(demo, kept, "--standard", NINE)
    assert result.exit_code == 2 and "exists" in result.output
    assert kept.read_bytes() == b"an earlier pack"
    wrong = _pack(demo, tmp_path / "p.docx", "--standard", NINE, "--bundle")
    assert wrong.exit_code == 2 and ".zip" in wrong.output
    assert _names(tmp_path) == ["data", "kept.docx"]


def test_a_build_is_audited_with_its_hashes(demo, app, tmp_path: Path) -> None:
    result = _pack(demo, tmp_path / "p.docx", "--standard", NINE, "--clause", "8.5", "--generated-at", AT)
    assert result.exit_code == 0, result.output
    pack_id = _pack_id(result.output)
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "pack.build")).one()
        assert event.object_id == pack_id and event.actor_label == "auditdocs (console)"
        new = json.loads(event.new_values or "{}")
        assert new["file_sha256"] in result.output and json.loads(new["spec"])["clauses"] == ["8.5"]
        assert as_utc(event.occurred_at) <= datetime.now(UTC)
        db.session.remove()


def test_an_auditor_builds_a_pack_of_what_they_may_see(demo, app, tmp_path: Path) -> None:
    args = ("--standard", NINE, "--standard", THIRTY_SEVEN, "--generated-at", AT, "--bundle")
    operator = _pack(demo, tmp_path / "all.zip", *args)
    auditor = _pack(demo, tmp_path / "auditor.zip", *args, "--as", "ana.auditora@demo.auditdocs.test")
    assert operator.exit_code == 0 and auditor.exit_code == 0, operator.output + auditor.output
    with zipfile.ZipFile(tmp_path / "all.zip") as zf_all, zipfile.ZipFile(tmp_path / "auditor.zip") as zf_aud:
        seen_all = {n for n in zf_all.namelist() if n.startswith("evidence/")}
        seen_auditor = {n for n in zf_aud.namelist() if n.startswith("evidence/")}
    assert seen_auditor < seen_all, "the demo's restricted documents stay out of the auditor's bundle"
    nobody = _pack(demo, tmp_path / "x.zip", *args, "--as", "nobody@example.org")
    assert nobody.exit_code == 2 and "no active account" in nobody.output


def _rewrite(source: Path, target: Path, *, drop: str | None = None, flip: str | None = None) -> None:
    """A copy of the bundle with one entry dropped or one byte of it changed (as tampering would)."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w") as zout:
        for info in zin.infolist():
            if info.filename == drop:
                continue
            data = zin.read(info)
            if info.filename == flip:
                data = bytes([data[0] ^ 0x01]) + data[1:]
            zout.writestr(info, data)


def test_verify_pack_names_a_changed_byte_and_a_missing_file(demo, tmp_path: Path) -> None:
    built = _pack(demo, tmp_path / "b.zip", "--standard", THIRTY_SEVEN, "--bundle", "--generated-at", AT)
    assert built.exit_code == 0, built.output
    good = demo.invoke(args=["verify-pack", str(tmp_path / "b.zip")])
    assert good.exit_code == 0, good.output
    with zipfile.ZipFile(tmp_path / "b.zip") as zf:
        evidence = sorted(n for n in zf.namelist() if n.startswith("evidence/"))
        docx = next(n for n in zf.namelist() if n.endswith(".docx"))
    assert len(evidence) >= 2
    _rewrite(tmp_path / "b.zip", tmp_path / "changed.zip", flip=evidence[0])
    changed = demo.invoke(args=["verify-pack", str(tmp_path / "changed.zip")])
    assert changed.exit_code == 1 and evidence[0] in changed.output and evidence[1] not in changed.output
    _rewrite(tmp_path / "b.zip", tmp_path / "missing.zip", drop=evidence[1])
    missing = demo.invoke(args=["verify-pack", str(tmp_path / "missing.zip")])
    assert missing.exit_code == 1 and evidence[1] in missing.output and evidence[0] not in missing.output
    _rewrite(tmp_path / "b.zip", tmp_path / "docx.zip", flip=docx)
    word = demo.invoke(args=["verify-pack", str(tmp_path / "docx.zip")])
    assert word.exit_code == 1 and docx in word.output
