"""`auditdocs import DIR`: a shared drive moves in — names, versions, validation, duplicates, approval, audit."""

from __future__ import annotations

import json
import os
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from support import docx, office, pdf, write

from auditdocs.extensions import db
from auditdocs.models import AuditEvent, Document, User
from auditdocs.services.import_plan import derived_code, guess_language, kind_for, parse_name

VISITAS = "Procesos/SAF/PR-SAF-003 Visitas domiciliarias"
POLITICA = "Procesos/Antisoborno/PO-ABS-001 Política antisoborno"
REGISTRO = "Registros/Registro de capacitación 2025"


def _xlsx(path: Path, marker: str) -> None:
    """A realistic OOXML workbook package (the importer checks the package, never parses cells)."""
    sheet = f"<worksheet><!-- {marker} --></worksheet>".encode()
    write(path, office("xlsx", extra={"xl/worksheets/sheet1.xml": sheet}))


def build_share(root: Path) -> Path:
    """A realistic shared drive: one folder per process, revisions, junk, bad files, a duplicate."""
    saf = root / "Procesos" / "SAF"
    abs_ = root / "Procesos" / "Antisoborno"
    reg = root / "Registros"
    copies = root / "Copias"
    for folder in (saf, abs_, reg, copies, root / ".git"):
        folder.mkdir(parents=True)
    write(saf / "PR-SAF-003 Visitas domiciliarias v3.docx", docx("Visitas domiciliarias, versión 3"))
    write(saf / "PR-SAF-003 Visitas domiciliarias v4.docx", docx("Visitas domiciliarias, versión 4"))
    (saf / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (saf / "~$-SAF-003 Visitas domiciliarias v4.docx").write_bytes(b"lock")
    write(abs_ / "PO-ABS-001 Política antisoborno Rev. 10.pdf", pdf("politica rev 10"))
    write(abs_ / "PO-ABS-001 Política antisoborno Rev. 2.pdf", pdf("politica rev 2"))
    (abs_ / "Informe de auditoría.pdf").write_text("this is plain text pretending to be a PDF\n")
    _xlsx(reg / "Registro de capacitación 2025.xlsx", "first")
    _xlsx(reg / "Registro de capacitación 2025 v2.xlsx", "second")
    (reg / "Asistencia talleres.csv").write_text("fecha;region;asistentes\n2025-03-01;Cusco;23\n", encoding="utf-8")
    (reg / "vacío.txt").write_bytes(b"")
    (reg / "Thumbs.db").write_bytes(b"\xd0\xcf\x11\xe0junk")
    (reg / "desktop.ini").write_text("[.ShellClassInfo]\n")
    (root / "FO-SAF-010 Ficha de visita.txt").write_text("Ficha de visita: nombre, fecha, región\n")
    (root / "programa.exe").write_bytes(b"MZ\x90\x00")
    (root / ".git" / "config").write_text("[core]\n")
    (copies / "Copia de visitas.docx").write_bytes((saf / "PR-SAF-003 Visitas domiciliarias v4.docx").read_bytes())
    return root


def _import(runner: Any, folder: Path, *args: str) -> Any:
    return runner.invoke(args=["import", str(folder), *args])


def _n(output: str, name: str) -> int:
    """A count from the summary block ("  versions imported:      8  (...)")."""
    match = re.search(rf"^  {re.escape(name)}: +(\d+)", output, re.MULTILINE)
    assert match, f"no “{name}” count in:\n{output}"
    return int(match.group(1))


def _docs(app: Any) -> dict[str, dict[str, Any]]:
    """Every document with its versions (oldest first), clauses and current label."""
    with app.app_context():
        out = {}
        for doc in db.session.scalars(select(Document).order_by(Document.code)):
            versions = sorted(doc.versions, key=lambda v: v.number)
            out[doc.code] = {
                "title": doc.title, "kind": doc.kind, "language": doc.language, "status": doc.status,
                "labels": [v.label for v in versions], "statuses": [v.status for v in versions],
                "files": [v.original_filename for v in versions], "sha": [v.sha256 for v in versions],
                "notes": [v.change_note for v in versions], "owner": doc.owner.email,
                "current": doc.current_version.label if doc.current_version else None,
                "clauses": [c.ref for c in doc.clauses],
            }
        db.session.remove()
    return out


def _count(app: Any, model: Any, *where: Any) -> int:
    with app.app_context():
        n = db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0
        db.session.remove()
    return n


def _blobs(app: Any) -> set[str]:
    root = Path(app.config["DATA_DIR"]) / "objects"
    return {p.name for p in root.glob("??/??/*")} if root.is_dir() else set()


def _temp_files(app: Any) -> list[Path]:
    tmp = Path(app.config["DATA_DIR"]) / "objects" / "tmp"
    return list(tmp.iterdir()) if tmp.is_dir() else []


def _events(app: Any, action: str) -> list[dict[str, Any]]:
    with app.app_context():
        rows = db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq))
        out = [{"actor": e.actor_label, "object": e.object_id, "new": json.loads(e.new_values or "null")}
               for e in rows]
        db.session.remove()
    return out


@pytest.fixture
def share(tmp_path: Path) -> Path:
    return build_share(tmp_path / "share")


def test_import_creates_documents_versions_and_reports_rejections(app, runner, make_user, share):
    admin = make_user("admin")
    result = _import(runner, share)
    out = result.output
    assert result.exit_code == 1, out  # some files were rejected

    docs = _docs(app)
    visitas, politica = docs["PR-SAF-003"], docs["PO-ABS-001"]
    assert visitas["title"] == "Visitas domiciliarias" and visitas["kind"] == "procedure"
    assert visitas["language"] == "es" and visitas["owner"] == admin.email
    assert visitas["labels"] == ["v3", "v4"] and visitas["statuses"] == ["draft", "draft"]
    assert visitas["current"] is None and visitas["status"] == "draft"
    assert visitas["files"] == ["PR-SAF-003 Visitas domiciliarias v3.docx", "PR-SAF-003 Visitas domiciliarias v4.docx"]
    assert visitas["notes"][0] == f"Imported from {VISITAS} v3.docx"
    assert politica["title"] == "Política antisoborno" and politica["kind"] == "policy"
    assert politica["labels"] == ["Rev. 2", "Rev. 10"]  # natural order, labels as written
    assert docs["FO-SAF-010"]["kind"] == "form"

    # A file without a code: a stable derived code, the stem as title, revisions still grouped.
    registro_code = derived_code("Registros", "Registro de capacitación 2025")
    registro = docs[registro_code]
    assert registro_code.startswith("IMP-REGISTRO-DE-CAPACITACION-")
    assert registro["title"] == "Registro de capacitación 2025" and registro["kind"] == "evidence"
    assert registro["labels"] == ["v1", "v2"]  # the unmarked file first, then "v2" as written
    assert derived_code("Registros", "Asistencia talleres") in docs
    assert len(docs) == 5

    # Rejections: reported with path and reason; no row, no blob, no temp file for them.
    assert ("Procesos/Antisoborno/Informe de auditoría.pdf: "
            "The file “Informe de auditoría.pdf” is not a valid PDF") in out
    assert "Registros/vacío.txt: The file “vacío.txt” is empty." in out
    assert "programa.exe: Files of type “.exe” are not accepted" in out
    assert "Copias/Copia de visitas.docx  =  PR-SAF-003 v4" in out  # same bytes as v4: skipped
    for junk in (".DS_Store", "~$", "Thumbs.db", "desktop.ini", ".git", "config"):
        assert junk not in out
    assert (_n(out, "documents created"), _n(out, "versions imported")) == (5, 8)
    assert (_n(out, "skipped as duplicate"), _n(out, "rejected"), _n(out, "ignored")) == (1, 3, 4)
    assert "3 file(s) rejected" in out
    stored = {sha for d in docs.values() for sha in d["sha"]}
    assert _blobs(app) == stored and len(stored) == 8
    assert _temp_files(app) == []

    # The same audit events as the web, by the uploader.
    uploads = _events(app, "version.upload")
    assert len(uploads) == 8 and {e["actor"] for e in uploads} == {admin.email}
    assert {"PR-SAF-003#1", "PR-SAF-003#2"} <= {e["object"] for e in uploads}
    assert next(e for e in uploads if e["object"] == "PO-ABS-001#2")["new"]["label"] == "Rev. 10"
    assert len(_events(app, "document.create")) == 5
    assert _events(app, "version.approve") == []


def test_rerun_skips_duplicates_and_appends_only_new_bytes(app, runner, make_user, share):
    make_user("admin")
    assert _import(runner, share).exit_code == 1
    before = _docs(app)
    events = _count(app, AuditEvent)

    again = _import(runner, share)
    assert again.exit_code == 1  # the same bad files are still there
    assert _docs(app) == before
    assert _count(app, AuditEvent) == events
    assert (_n(again.output, "documents created"), _n(again.output, "versions imported")) == (0, 0)
    assert _n(again.output, "skipped as duplicate") == 9

    # A new revision appears on the share: only it is added, as version 3 of the same document.
    write(share / "Procesos" / "SAF" / "PR-SAF-003_Visitas_domiciliarias_v5.docx", docx("versión 5"))
    for bad in ("programa.exe", "Registros/vacío.txt", "Procesos/Antisoborno/Informe de auditoría.pdf"):
        (share / bad).unlink()
    third = _import(runner, share)
    assert third.exit_code == 0, third.output
    after = _docs(app)
    assert after["PR-SAF-003"]["labels"] == ["v3", "v4", "v5"]
    assert {k: v for k, v in after.items() if k != "PR-SAF-003"} == {
        k: v for k, v in before.items() if k != "PR-SAF-003"}
    assert (_n(third.output, "documents created"), _n(third.output, "versions imported")) == (0, 1)
    assert _n(third.output, "rejected") == 0 and "Rejected (" not in third.output


def test_approve_as_makes_latest_revision_current(app, runner, make_user, share):
    admin = make_user("admin")
    officer = make_user("quality_officer")
    result = _import(runner, share, "--as", admin.email, "--approve-as", officer.email)
    assert result.exit_code == 1, result.output
    docs = _docs(app)
    assert docs["PR-SAF-003"]["current"] == "v4"
    assert docs["PR-SAF-003"]["statuses"] == ["superseded", "approved"]
    assert docs["PO-ABS-001"]["current"] == "Rev. 10" and docs["PO-ABS-001"]["status"] == "active"
    approvals = _events(app, "version.approve")
    assert len(approvals) == 8 and {e["actor"] for e in approvals} == {officer.email}
    assert "8 approved by" in result.output

    # An older revision found later stays a draft instead of replacing the approved one.
    write(share / "Procesos" / "Antisoborno" / "PO-ABS-001 Política antisoborno Rev. 9.pdf", pdf("rev 9 found late"))
    later = _import(runner, share, "--as", admin.email, "--approve-as", officer.email)
    politica = _docs(app)["PO-ABS-001"]
    assert politica["labels"] == ["Rev. 2", "Rev. 10", "Rev. 9"] and politica["current"] == "Rev. 10"
    assert politica["statuses"][-1] == "draft"
    assert "left as draft: Rev. 10 is already approved" in later.output


def test_approver_must_differ_from_uploader(app, runner, make_user, share):
    admin = make_user("admin")
    result = _import(runner, share, "--as", admin.email, "--approve-as", admin.email.upper())
    assert result.exit_code == 2
    assert "segregation of duties" in result.output
    assert _count(app, Document) == 0 and _blobs(app) == set()


@pytest.mark.parametrize(("args", "message"), [
    (["--as", "nobody@example.org"], "no active account with the e-mail nobody@example.org"),
    (["--approve-as", "{auditor}"], "may not approve documents"),
    (["--as", "{auditor}"], "may not upload documents"),
])
def test_bad_accounts_are_usage_errors(app, runner, make_user, share, args, message):
    make_user("admin")
    auditor = make_user("auditor")
    result = _import(runner, share, *[a.format(auditor=auditor.email) for a in args])
    assert result.exit_code == 2 and message in result.output
    assert _count(app, Document) == 0


def test_no_admin_to_default_to(app, runner, share):
    result = _import(runner, share)
    assert result.exit_code == 2 and "no administrator account exists" in result.output


def test_mapping_csv_sets_codes_titles_kinds_and_clauses(app, runner, make_user, share, tmp_path):
    make_user("admin")
    mapping = tmp_path / "mapa.csv"
    mapping.write_text(
        "path_or_code,code,title,clauses,kind\n"
        'PR-SAF-003,,,"ISO 9001:2015 8.5.1; ISO 9001:2015 7.5.3",\n'
        f"{REGISTRO}.xlsx,RG-CAP-001,Registro de capacitación,ISO 37001:2016 7.3,record\n"
        f"{REGISTRO} v2.xlsx,RG-CAP-001,,,\n"
        "PO-ABS-001,,Política antisoborno y de regalos,ISO  37001:2016   8.7,\n"
        "XX-NOPE-1,,,,\n", encoding="utf-8")
    result = _import(runner, share, "--clauses", str(mapping))
    assert result.exit_code == 1, result.output
    docs = _docs(app)
    assert docs["PR-SAF-003"]["clauses"] == ["ISO 9001:2015 7.5.3", "ISO 9001:2015 8.5.1"]
    assert docs["RG-CAP-001"]["title"] == "Registro de capacitación" and docs["RG-CAP-001"]["kind"] == "record"
    assert docs["RG-CAP-001"]["labels"] == ["v1", "v2"] and docs["RG-CAP-001"]["clauses"] == ["ISO 37001:2016 7.3"]
    assert docs["PO-ABS-001"]["title"] == "Política antisoborno y de regalos"
    assert docs["PO-ABS-001"]["clauses"] == ["ISO 37001:2016 8.7"]
    assert not any(code.startswith("IMP-REGISTRO") for code in docs)
    assert "mapa.csv line 6: “XX-NOPE-1” matches no file or code" in result.output
    created = _events(app, "document.create")
    assert next(e for e in created if e["object"] == "PO-ABS-001")["new"]["clauses"] == ["ISO 37001:2016 8.7"]

    # Re-running with a richer mapping adds missing clauses to existing documents (audited), nothing else.
    mapping.write_text("path_or_code;clauses\nPR-SAF-003;ISO 37001:2016 8.7\n", encoding="utf-8")
    again = _import(runner, share, "--clauses", str(mapping))
    assert "Clauses added to existing PR-SAF-003: ISO 37001:2016 8.7" in again.output
    assert _docs(app)["PR-SAF-003"]["clauses"] == ["ISO 9001:2015 7.5.3", "ISO 9001:2015 8.5.1", "ISO 37001:2016 8.7"]
    assert [e["object"] for e in _events(app, "document.clauses")] == ["PR-SAF-003"]


@pytest.mark.parametrize(("content", "message"), [
    ("path_or_code,clauses\nPR-SAF-003,ISO 9001:2015 7.5.3; ISO 9001:2015 99.9\n",
     "mapa.csv line 2: Unknown clause “ISO 9001:2015 99.9”"),
    ("path_or_code,clauses\nPR-SAF-003,7.5.3\n", "write it with its edition"),
    ("code,clauses\nPR-SAF-003,ISO 9001:2015 7.5.3\n", "header with path_or_code"),
    ("path_or_code,clause\nPR-SAF-003,ISO 9001:2015 7.5.3\n", "unknown column “clause”"),
    ("path_or_code,kind\nPR-SAF-003,manual\n", "unknown kind “manual”"),
    ("path_or_code,code\nPR-SAF-003,PR SAF 003\n", "is not a valid code"),
    ("path_or_code\nPR-SAF-003\npr-saf-003\n", "line 3: path_or_code is repeated"),
])
def test_bad_mapping_stops_before_anything_is_written(app, runner, make_user, share, tmp_path, content, message):
    make_user("admin")
    events = _count(app, AuditEvent)
    mapping = tmp_path / "mapa.csv"
    mapping.write_text(content, encoding="utf-8")
    result = _import(runner, share, "--clauses", str(mapping))
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
    assert _count(app, Document) == 0 and _count(app, AuditEvent) == events
    assert _blobs(app) == set()


def test_dry_run_prints_the_plan_and_writes_nothing(app, runner, make_user, share):
    make_user("admin")
    events = _count(app, AuditEvent)
    result = _import(runner, share, "--dry-run")
    out = result.output
    assert result.exit_code == 1  # it would reject files
    assert "PR-SAF-003  Visitas domiciliarias  (procedure, es; new)" in out
    assert f"v3         {VISITAS} v3.docx  [import]" in out
    assert f"Rev. 10    {POLITICA} Rev. 10.pdf  [import]" in out
    assert "Copias/Copia de visitas.docx  [skip: duplicate of PR-SAF-003 v4]" in out
    assert "Registros/vacío.txt: The file “vacío.txt” is empty." in out
    assert _n(out, "documents would be created") == 5 and _n(out, "versions would be imported") == 8
    assert _n(out, "would be rejected") == 3 and "Dry run: nothing was written." in out
    assert _count(app, Document) == 0 and _count(app, AuditEvent) == events
    assert _blobs(app) == set() and _temp_files(app) == []


def test_kind_option_and_links_out_of_the_folder(app, runner, make_user, tmp_path):
    make_user("admin")
    share = tmp_path / "share"
    (share / "sub").mkdir(parents=True)
    secret = tmp_path / "outside"
    secret.mkdir()
    (secret / "passwd.txt").write_text("root:x:0:0\n")
    (share / "PR-QA-001 Control de documentos.txt").write_text("procedimiento\n")
    os.symlink(secret / "passwd.txt", share / "sub" / "enlace.txt")
    os.symlink(secret, share / "carpeta")
    os.symlink(share / "PR-QA-001 Control de documentos.txt", share / "sub" / "atajo.txt")
    result = _import(runner, share, "--kind", "record")
    assert result.exit_code == 1, result.output
    assert "sub/enlace.txt: symbolic link to a place outside the imported folder: not followed" in result.output
    assert "carpeta: symbolic link to a place outside" in result.output
    docs = _docs(app)
    assert list(docs) == ["PR-QA-001"] and docs["PR-QA-001"]["kind"] == "record"
    assert len(_blobs(app)) == 1


def test_hostile_files_leave_nothing_behind(app, runner, make_user, tmp_path):
    make_user("admin")
    share = tmp_path / "share"
    share.mkdir()
    with zipfile.ZipFile(share / "PR-QA-002 Bomba.docx", "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", "<document/>")
        for i in range(2001):
            zf.writestr(f"word/media/{i}.xml", "")
    with zipfile.ZipFile(share / "PR-QA-003 Sin documento.docx", "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
    (share / "PR-QA-004 Grande.txt").write_text("x" * (1024 * 1024 + 1))
    os.mkfifo(share / "tubería.txt")
    weird = os.fsencode(share) + b"/Acta\xff\nfalsa v2.txt"
    with open(weird, "wb") as fh:
        fh.write(b"acta con nombre raro\n")
    app.config.update(MAX_UPLOAD_MB=1, MAX_UPLOAD_BYTES=1024 * 1024)
    dry = _import(runner, share, "--dry-run")
    assert dry.exit_code == 1 and _n(dry.output, "would be rejected") == 4
    assert _blobs(app) == set() and _temp_files(app) == []
    result = _import(runner, share)
    out = result.output
    assert result.exit_code == 1, out
    for line in out.splitlines():
        if line.startswith("  PR-QA") or line.startswith("  tuber"):
            assert line in dry.output  # the dry run predicted every rejection, with the same reason
    assert "PR-QA-002 Bomba.docx: The file “PR-QA-002 Bomba.docx” was refused because it would unpack" in out
    assert "PR-QA-003 Sin documento.docx: The file “PR-QA-003 Sin documento.docx” is not a valid DOCX" in out
    assert "PR-QA-004 Grande.txt: The file is larger than the limit of 1 MB. Nothing was saved." in out
    assert "tubería.txt: not a regular file" in out
    docs = _docs(app)
    assert len(docs) == 1 and _n(out, "rejected") == 4
    (imported,) = docs.values()
    assert imported["files"] == ["Acta\ufffdfalsa v2.txt"] and imported["labels"] == ["v2"]
    assert imported["notes"] == ["Imported from Acta\ufffd\\x0afalsa v2.txt"]  # one line, byte replaced
    assert len(_blobs(app)) == 1 and _temp_files(app) == []


def test_withdrawn_document_takes_no_new_versions(app, runner, make_user, share):
    make_user("admin")
    officer = make_user("quality_officer")
    assert _import(runner, share).exit_code == 1
    from auditdocs.db import write_transaction
    from auditdocs.services.documents import withdraw

    with app.app_context(), write_transaction():
        doc = db.session.scalar(select(Document).where(Document.code == "PR-SAF-003"))
        withdraw(doc, actor=db.session.get(User, officer.id), reason="Replaced by PR-SAF-010")
    blobs = _blobs(app)
    write(share / "Procesos" / "SAF" / "PR-SAF-003 Visitas domiciliarias v5.docx", docx("versión 5"))
    result = _import(runner, share)
    assert "PR-SAF-003 Visitas domiciliarias v5.docx: The document PR-SAF-003 was withdrawn" in result.output
    assert _docs(app)["PR-SAF-003"]["labels"] == ["v3", "v4"] and _blobs(app) == blobs


def test_usage_errors_exit_2(app, runner, make_user, tmp_path):
    make_user("admin")
    assert _import(runner, tmp_path / "missing").exit_code == 2
    assert runner.invoke(args=["import", str(tmp_path), "--kind", "novel"]).exit_code == 2
    (tmp_path / "empty").mkdir()
    empty = runner.invoke(args=["import", str(tmp_path / "empty")])
    assert empty.exit_code == 0 and _n(empty.output, "documents created") == 0
    assert "Naming rules" in runner.invoke(args=["import", "--help"]).output
    for inside in (tmp_path, tmp_path / "data", tmp_path / "data" / "objects"):
        inside.mkdir(exist_ok=True)
        refused = runner.invoke(args=["import", str(inside)])
        assert refused.exit_code == 2 and "data folder" in refused.output


@pytest.mark.parametrize(("name", "code", "title", "label", "rev"), [
    ("PR-SAF-003 Visitas domiciliarias v4.docx", "PR-SAF-003", "Visitas domiciliarias", "v4", (4,)),
    ("pr-saf-003_Visitas_domiciliarias_V2.docx", "PR-SAF-003", "Visitas domiciliarias", "V2", (2,)),
    ("PR-SAF-003 - Visitas domiciliarias v2.1.docx", "PR-SAF-003", "Visitas domiciliarias", "v2.1", (2, 1)),
    ("PO-ABS-001 Política antisoborno Rev. 3.pdf", "PO-ABS-001", "Política antisoborno", "Rev. 3", (3,)),
    ("PO-ABS-001 Política antisoborno rev3.pdf", "PO-ABS-001", "Política antisoborno", "rev3", (3,)),
    ("FO-01 Ficha R3.xlsx", "FO-01", "Ficha", "R3", (3,)),
    ("Manual de calidad (v2).pdf", None, "Manual de calidad", "v2", (2,)),
    ("Plan anual versión 3.docx", None, "Plan anual", "versión 3", (3,)),
    ("Plan anual version 12.docx", None, "Plan anual", "version 12", (12,)),
    ("Informe-v2.pdf", None, "Informe", "v2", (2,)),
    ("Registro de capacitación 2025.xlsx", None, "Registro de capacitación 2025", None, ()),
    ("PR-SAF-003-Visitas domiciliarias.docx", "PR-SAF-003", "Visitas domiciliarias", None, ()),
    ("PR-SAF-003 v4.docx", "PR-SAF-003", "PR-SAF-003", "v4", (4,)),
    ("Política.pdf", None, "Política", None, ()),
    ("Acta 2025-03-01.pdf", None, "Acta 2025-03-01", None, ()),
    ("v4.pdf", None, "v4", None, ()),
])
def test_name_rules(name, code, title, label, rev):
    parts = parse_name(name)
    assert (parts.code, parts.title, parts.label, parts.rev) == (code, title, label, rev)


def test_name_rules_helpers():
    assert derived_code("A", "Registro de capacitación") == derived_code("A", "registro  de CAPACITACION")
    assert derived_code("A", "Registro") != derived_code("B", "Registro")
    assert [kind_for(c) for c in ("PR-X-1", "POL-1", "F-2", "REG-9", "IT-3", "ACTA-2025")] == [
        "procedure", "policy", "form", "record", "work_instruction", "evidence"]
    assert guess_language("Training procedure for the regions") == "en"
    assert guess_language("Visitas domiciliarias") == "es" and guess_language("Plan") == "es"
