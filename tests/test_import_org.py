"""`auditdocs import-org FILE.csv`: sites and processes from a spreadsheet, all or nothing, every bad row reported."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from support import audit_events

from auditdocs.extensions import db
from auditdocs.models import AuditEvent, Process, Site

HEADER = "type,code,name_es,name_en,parent_code,region,responsible_email,active,category"
GOOD = f"""{HEADER}
site,SEDE-CENTRAL,Sede Central (Lima),Head Office (Lima),,Lima,rosa@example.org,yes,
site,UT-QUILLABAMBA,Oficina de Enlace Quillabamba,,UT-CUSCO,Cusco,,yes,
site,UT-CUSCO,Unidad Territorial Cusco,Cusco Regional Unit,SEDE-CENTRAL,Cusco,jorge@example.org,sí,
site,UT-PUNO,Unidad Territorial Puno,Puno Regional Unit,SEDE-CENTRAL,Puno,,1,
process,PE-01,Planeamiento estratégico,Strategic planning,,,,yes,strategic
process,PO-01,Visitas domiciliarias,Home visits,,,rosa@example.org,,
process,PS-01,Compras y abastecimiento,Procurement,,,,true,support
"""


@pytest.fixture
def people(make_user: Any) -> dict[str, Any]:
    return {"rosa": make_user("quality_officer", email="rosa@example.org"),
            "jorge": make_user("quality_officer", email="jorge@example.org"),
            "ana": make_user("auditor", email="ana@example.org"),
            "old": make_user("compliance_officer", email="gone@example.org")}


def _csv(tmp_path: Path, text: str, *, name: str = "org.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def _run(runner: Any, path: Path, *extra: str) -> Any:
    return runner.invoke(args=["import-org", str(path), *extra])


def _state(app: Any) -> dict[str, Any]:
    """Sites (code -> parent code, active) and processes (code -> category, owner id), and the trail's length."""
    with app.app_context():
        sites = {s.code: (s.parent.code if s.parent else None, s.active, s.name_es)
                 for s in db.session.scalars(select(Site))}
        processes = {p.code: (p.category, p.owner_id, p.active) for p in db.session.scalars(select(Process))}
        events = db.session.scalar(select(func.count(AuditEvent.id)))
        db.session.remove()
    return {"sites": sites, "processes": processes, "events": events}


def test_import_creates_the_tree_with_parents_later_in_the_file(app, runner, tmp_path, people):
    result = _run(runner, _csv(tmp_path, GOOD))
    assert result.exit_code == 0, result.output
    assert "Sites:          4 created,     0 updated,     0 unchanged" in result.output
    assert "Processes:      3 created" in result.output
    state = _state(app)
    assert state["sites"] == {
        "SEDE-CENTRAL": (None, True, "Sede Central (Lima)"),
        "UT-CUSCO": ("SEDE-CENTRAL", True, "Unidad Territorial Cusco"),
        "UT-QUILLABAMBA": ("UT-CUSCO", True, "Oficina de Enlace Quillabamba"),
        "UT-PUNO": ("SEDE-CENTRAL", True, "Unidad Territorial Puno"),
    }
    assert state["processes"] == {"PE-01": ("strategic", None, True), "PO-01": ("operational", people["rosa"].id, True),
                                  "PS-01": ("support", None, True)}
    assert len(audit_events(app, "site.create")) == 4
    assert len(audit_events(app, "process.create")) == 3
    [summary] = audit_events(app, "org.import", ("new",))
    assert summary["new"]["sites"] == {"created": 4, "updated": 0, "unchanged": 0}
    assert summary["new"]["processes"] == {"created": 3, "updated": 0, "unchanged": 0}
    assert summary["new"]["file"] == "org.csv"


def test_rerun_updates_what_changed_and_counts_the_rest(app, runner, tmp_path, people):
    assert _run(runner, _csv(tmp_path, GOOD)).exit_code == 0
    again = _run(runner, _csv(tmp_path, GOOD))
    assert again.exit_code == 0, again.output
    assert "Sites:          0 created,     0 updated,     4 unchanged" in again.output
    assert audit_events(app, "site.update") == []

    moved = GOOD.replace("UT-QUILLABAMBA,Oficina de Enlace Quillabamba,,UT-CUSCO,Cusco,,yes,",
                         "ut-quillabamba,Oficina Quillabamba,,UT-PUNO,Puno,,no,")
    result = _run(runner, _csv(tmp_path, moved, name="moved.csv"))
    assert result.exit_code == 0, result.output
    assert "Sites:          0 created,     1 updated,     3 unchanged" in result.output
    assert _state(app)["sites"]["UT-QUILLABAMBA"] == ("UT-PUNO", False, "Oficina Quillabamba")
    [update] = audit_events(app, "site.update", ("old", "new"))
    assert set(update["old"]) == {"name_es", "parent_id", "region", "active"}
    assert update["old"]["active"] is True and update["new"]["active"] is False
    assert update["old"]["region"] == "Cusco" and update["new"]["region"] == "Puno"
    assert len(audit_events(app, "org.import")) == 3


def test_semicolon_file_with_bom_as_excel_in_spanish_saves_it(app, runner, tmp_path, people):
    text = ("\ufeffTYPE;Code;Name_ES;name_en;parent_code;region;responsible_email;active\r\n"
            "site;SEDE-CENTRAL;Sede Central (Lima);;;Lima;ROSA@example.org;Sí\r\n"
            "site;UT-ANCASH;Unidad Territorial Áncash;;SEDE-CENTRAL;Áncash;;si\r\n"
            "process;PO-02;Gestión comunal;Community management;;;;\r\n")
    result = _run(runner, _csv(tmp_path, text))
    assert result.exit_code == 0, result.output
    state = _state(app)
    assert state["sites"]["UT-ANCASH"] == ("SEDE-CENTRAL", True, "Unidad Territorial Áncash")
    assert state["processes"]["PO-02"] == ("operational", None, True)


def test_dry_run_counts_and_writes_nothing(app, runner, tmp_path, people):
    before = _state(app)
    result = _run(runner, _csv(tmp_path, GOOD), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "4 would be created" in result.output
    assert "nothing was written" in result.output
    assert _state(app) == before


HOSTILE = f"""{HEADER}
site,SEDE-CENTRAL,Sede Central,,,Lima,,yes,
site,UT-A,Unidad A,,UT-B,,,yes,
site,UT-B,Unidad B,,UT-A,,,yes,
bogus,X-1,Algo,,,,,yes,
site,UT-CUSCO,Unidad Cusco,,SEDE-CENTRAL,,,yes,
site,ut-cusco,Otra Cusco,,SEDE-CENTRAL,,,yes,
site,UT-SIN-NOMBRE,,,SEDE-CENTRAL,,,yes,
site,"=cmd|' /C calc'!A0",Fórmula,,SEDE-CENTRAL,,,yes,
site,UT-HUERFANA,Huérfana,,UT-NO-EXISTE,,,yes,
site,UT-BAJO-PROCESO,Bajo proceso,,PO-01,,,yes,
site,SEDE-DOS,Segunda sede central,,,Lima,,yes,
site,UT-X,Unidad X,,SEDE-CENTRAL,,nadie@example.org,yes,
site,UT-Y,Unidad Y,,SEDE-CENTRAL,,ana@example.org,yes,
site,UT-LARGO,{"L" * 201},,SEDE-CENTRAL,,,yes,
site,UT-CONTROL,Sede\x07 con campana,,SEDE-CENTRAL,,,yes,
site,UT-CAMPOS,Faltan campos
site,UT-ACTIVO,Activo raro,,SEDE-CENTRAL,,,quizás,
process,PO-01,Visitas,,SEDE-CENTRAL,Cusco,,yes,
process,PO-02,Gestión,,,,,yes,tactical
site,UT-NUL,Con nulo\x00,,SEDE-CENTRAL,,,yes,
site,UT-BIDI,Nombre \u202egnp.exe,,SEDE-CENTRAL,,,yes,
"""


def test_every_bad_row_is_reported_with_its_line_and_nothing_is_written(app, runner, tmp_path, people):
    before = _state(app)
    result = _run(runner, _csv(tmp_path, HOSTILE))
    assert result.exit_code == 1
    out = result.output
    assert "refused, nothing was imported" in out
    expected = {
        3: "loop (UT-A → UT-B → UT-A)",
        4: "loop (UT-B → UT-A → UT-B)",
        5: "unknown type “bogus”",
        7: "code ut-cusco: already on line 6",
        8: "name in Spanish is required",
        9: "Use letters, digits",
        10: "no site has the code UT-NO-EXISTE",
        11: "PO-01 is a process, not a site",
        12: "SEDE-CENTRAL is already the central function",
        13: "no account has the e-mail nadie@example.org",
        14: "external auditor cannot be responsible",
        15: "At most 200 characters (this has 201)",
        16: "control characters",
        17: "Expected 9 fields as in the header, found 3",
        18: "“quizás” is not yes or no",
        19: "parent_code: must be empty for a process",
        20: "“tactical” is not strategic, operational or support",
        21: "control characters",
        22: "control characters",
    }
    for line, reason in expected.items():
        matching = [row for row in out.splitlines() if row.strip().startswith(f"line {line}:")]
        assert any(reason in row for row in matching), f"line {line} should say {reason!r}:\n{out}"
    assert "line 2:" not in out and "line 6:" not in out, "good rows are not reported"
    assert "region: must be empty for a process" in out
    assert _state(app) == before


def test_central_function_keeps_its_place_on_a_second_import(app, runner, tmp_path, people):
    assert _run(runner, _csv(tmp_path, GOOD)).exit_code == 0
    before = _state(app)
    text = (f"{HEADER}\n"
            "site,SEDE-CENTRAL,Sede Central,,UT-CUSCO,Lima,,yes,\n"
            "site,UT-PUNO,Unidad Territorial Puno,,,Puno,,yes,\n"
            "site,UT-CUSCO,Unidad Territorial Cusco,,UT-QUILLABAMBA,Cusco,,yes,\n")
    result = _run(runner, _csv(tmp_path, text, name="bad.csv"))
    assert result.exit_code == 1
    assert "line 2: parent_code: SEDE-CENTRAL is the central function and cannot be placed under" in result.output
    assert "line 3: parent_code: empty, but SEDE-CENTRAL is already the central function" in result.output
    assert "line 4: parent_code: the sites would form a loop (UT-CUSCO → UT-QUILLABAMBA → UT-CUSCO)" in result.output
    off = f"{HEADER}\nsite,SEDE-CENTRAL,Sede Central,,,Lima,,no,\n"
    result = _run(runner, _csv(tmp_path, off, name="off.csv"))
    assert "line 2: active: the central function cannot be deactivated" in result.output
    assert _state(app) == before


def test_disabled_accounts_cannot_be_responsible(app, runner, tmp_path, people, login_as, client):
    login_as("admin")
    client.post_form(f"/admin/users/{people['old'].id}", {"role": "compliance_officer"}, page="/")
    text = f"{HEADER}\nsite,SEDE-CENTRAL,Sede Central,,,Lima,gone@example.org,yes,\n"
    result = _run(runner, _csv(tmp_path, text))
    assert result.exit_code == 1
    assert "line 2: responsible_email gone@example.org: Choose an enabled account." in result.output


@pytest.mark.parametrize(("header", "reason"), [
    ("type,code,name_es,name_en,parent_code,region,active", "Column “responsible_email” is missing."),
    (HEADER + ",colour", "Unknown column “colour”."),
    (HEADER.replace("region", "code"), "Column “code” appears more than once."),
])
def test_a_bad_header_is_refused_on_line_1(app, runner, tmp_path, people, header, reason):
    result = _run(runner, _csv(tmp_path, f"{header}\nsite,SEDE-CENTRAL,Sede,,,Lima,,yes,\n"))
    assert result.exit_code == 1
    assert f"line 1: {reason}" in result.output
    assert "The header must be: type,code,name_es,name_en,parent_code,region,responsible_email,active" in result.output


def test_a_file_that_is_not_utf8_names_the_line(app, runner, tmp_path, people):
    text = f"{HEADER}\nsite,SEDE-CENTRAL,Sede Central,,,Lima,,yes,\nsite,UT-ANCASH,Unidad Áncash,,SEDE-CENTRAL,,,yes,\n"
    result = _run(runner, _csv(tmp_path, text, encoding="latin-1"))
    assert result.exit_code == 1
    assert "line 3: The file is not UTF-8 text" in result.output
    assert _state(app)["sites"] == {}


def test_too_many_rows_or_too_large_a_file_is_refused(app, runner, tmp_path, people):
    rows = "\n".join(f"process,P-{n:05d},Proceso {n},,,,,yes," for n in range(10_001))
    result = _run(runner, _csv(tmp_path, f"{HEADER}\n{rows}\n"))
    assert result.exit_code == 1
    assert "line 10002: More than 10000 rows; split the file." in result.output
    big = tmp_path / "big.csv"
    big.write_bytes(HEADER.encode() + b"\n" + b"#" * (5 * 1024 * 1024))
    result = _run(runner, big)
    assert result.exit_code == 1
    assert "larger than 5 MB" in result.output
    assert _state(app)["processes"] == {}


def test_empty_files_and_quoted_line_breaks(app, runner, tmp_path, people):
    assert "The file is empty." in _run(runner, _csv(tmp_path, "\ufeff\n")).output
    assert "The file has a header but no rows." in _run(runner, _csv(tmp_path, HEADER + "\n\n")).output
    text = f'{HEADER}\nsite,SEDE-CENTRAL,"Sede\nCentral",,,Lima,,yes,\nsite,UT-X,Unidad X,,SEDE-CENTRAL,,,yes,\n'
    result = _run(runner, _csv(tmp_path, text, name="multi.csv"))
    assert result.exit_code == 1
    assert "line 2: name_es: Contains control characters" in result.output
    assert "line 4:" not in result.output


def test_help_documents_the_format_with_an_example(runner):
    result = runner.invoke(args=["import-org", "--help"])
    assert result.exit_code == 0
    assert "type,code,name_es,name_en,parent_code,region,responsible_email,active" in result.output
    assert "site,UT-CUSCO,Unidad Territorial Cusco" in result.output
    assert "--dry-run" in result.output
    assert "nothing is written" in result.output
