"""Exports of the nonconformity register and its actions: CSV and XLSX re-read with the csv module and openpyxl,
with the list filters applied, formula injection neutralised, headers in the reader's language; the same from
`auditdocs export`, which never leaves a half-written file and refuses bad arguments with exit code 2."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet._writer import ALL_TEMP_FILES
from records_support import DAY, add_action, clause_id, implemented, raise_nc

from auditdocs.db import write_transaction
from auditdocs.services import exports, org
from auditdocs.services.exports import Column
from auditdocs.timeutil import local_today

INJECTIONS = ["=1+1", "+SUM(A1:A9)", "-2", "@cmd", "\t=1+1", "\r=1+1"]


@pytest.fixture
def people(make_user) -> dict[str, Any]:
    return {"quality": make_user("quality_officer", name="Rosa Huamán").id,
            "owner": make_user("compliance_officer", name="Luis Quispe").id}


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    """A directory of its own for exported files (the app's data lives beside it)."""
    path = tmp_path / "exports"
    path.mkdir()
    return path


@pytest.fixture
def register(app, people) -> dict[str, Any]:
    """Two sites (Cusco with an office under it, Puno) and three nonconformities; one carries formula bait."""
    with app.app_context(), write_transaction():
        head = org.create_site(org.SiteData(code="SEDE", name_es="Sede Central"))
        cusco = org.create_site(org.SiteData(code="UT-CUSCO", name_es="UT Cusco", parent_id=head.id))
        office = org.create_site(org.SiteData(code="OE-QUILLA", name_es="OE Quillabamba", parent_id=cusco.id))
        puno = org.create_site(org.SiteData(code="UT-PUNO", name_es="UT Puno", parent_id=head.id))
        ids: dict[str, Any] = {"cusco": cusco.id, "puno": puno.id, "office": office.id}
    q = people["quality"]
    ids["bait"] = raise_nc(app, q, grade="major", site_id=ids["office"], title="=1+1", description="+SUM(A1:A9)",
                           detected_by_name="@cmd", root_cause="-2 registros sin firma",
                           clause_ids=[clause_id(app, "iso37001_2016", "8.7")])
    ids["late"] = raise_nc(app, q, grade="minor", site_id=ids["cusco"], title="Visitas fuera de plazo")
    ids["puno_nc"] = raise_nc(app, q, grade="major", site_id=ids["puno"], title="Acta sin firma")
    ids["a1"] = add_action(app, q, ids["late"], people["owner"], description="Reprogramar las visitas")
    ids["a2"] = add_action(app, q, ids["late"], people["owner"], description="=HYPERLINK(\"http://x\")")
    implemented(app, people["owner"], ids["a2"])
    ids["a3"] = add_action(app, q, ids["puno_nc"], people["owner"], description="Firmar el acta")
    return ids


def _today(app: Any) -> date:
    with app.app_context():
        return local_today()


def _csv(resp: Any) -> list[list[str]]:
    data = resp.get_data()
    assert data.startswith("\ufeff".encode())  # the BOM: Excel reads UTF-8
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def _xlsx(data: bytes) -> list[list[Any]]:
    book = load_workbook(io.BytesIO(data))
    sheet = book.active
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row), "no formula cell, ever"
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


def _column(rows: list[list[Any]], header: str) -> list[Any]:
    index = rows[0].index(header)
    return [row[index] for row in rows[1:]]


# -- the web downloads ------------------------------------------------------------------------------------------


def test_csv_export_applies_the_list_filters(app, client, login_as, register):
    login_as("quality_officer")
    resp = client.get(f"/nonconformities/export.csv?status=not_closed&site={register['cusco']}&sort=x")
    assert resp.status_code == 200
    assert resp.mimetype == "text/csv"
    assert resp.headers["Content-Disposition"] == (
        f"attachment; filename=auditdocs-nonconformities-{_today(app).isoformat()}.csv")
    rows = _csv(resp)
    assert rows[0][:4] == ["Reference", "Title", "Description", "Grade"]
    # Cusco and the office under it, newest first; Puno filtered out.
    assert _column(rows, "Reference") == ["NC-2026-0002", "NC-2026-0001"]
    late = dict(zip(rows[0], rows[1], strict=True))
    assert late["Site"] == "UT-CUSCO — UT Cusco"
    assert late["Detected on"] == DAY.isoformat()
    assert late["Days open"] == str((_today(app) - DAY).days)
    assert late["Actions"] == "2"
    assert late["Status"] == "Actions in progress"

    only_major = _csv(client.get("/nonconformities/export.csv?grade=major&q=acta"))
    assert _column(only_major, "Reference") == ["NC-2026-0003"]


def test_xlsx_export_is_typed_and_filtered(app, client, login_as, register):
    login_as("quality_officer")
    resp = client.get("/nonconformities/export.xlsx?grade=major")
    assert resp.status_code == 200
    assert resp.mimetype == exports.XLSX_MIME
    assert f"auditdocs-nonconformities-{_today(app).isoformat()}.xlsx" in resp.headers["Content-Disposition"]
    rows = _xlsx(resp.get_data())
    assert _column(rows, "Reference") == ["NC-2026-0003", "NC-2026-0001"]
    puno = dict(zip(rows[0], rows[1], strict=True))
    assert puno["Detected on"] == datetime(2026, 3, 2)  # a real date cell, not text
    assert puno["Days open"] == (_today(app) - DAY).days and puno["Actions"] == 1
    assert puno["Grade"] == "Major nonconformity" and puno["Closed on"] is None


def test_formula_bait_is_neutralised_in_both_formats(app, client, login_as, register):
    login_as("quality_officer")
    csv_rows = _csv(client.get("/nonconformities/export.csv?grade=major"))
    bait = dict(zip(csv_rows[0], csv_rows[2], strict=True))
    assert (bait["Title"], bait["Description"], bait["Detected by"], bait["Root cause"]) == (
        "'=1+1", "'+SUM(A1:A9)", "'@cmd", "'-2 registros sin firma")
    assert bait["Clauses"] == "ISO 37001:2016 8.7"
    xlsx_rows = _xlsx(client.get("/nonconformities/export.xlsx?grade=major").get_data())
    bait_x = dict(zip(xlsx_rows[0], xlsx_rows[2], strict=True))
    assert (bait_x["Title"], bait_x["Description"], bait_x["Detected by"]) == ("'=1+1", "'+SUM(A1:A9)", "'@cmd")
    actions = _xlsx(client.get("/nonconformities/actions/export.xlsx").get_data())
    assert "'=HYPERLINK(\"http://x\")" in _column(actions, "Description")


def test_actions_export_lists_the_filtered_nonconformities_actions(app, client, login_as, register):
    login_as("quality_officer")
    resp = client.get(f"/nonconformities/actions/export.csv?site={register['cusco']}")
    assert resp.status_code == 200
    assert f"auditdocs-actions-{_today(app).isoformat()}.csv" in resp.headers["Content-Disposition"]
    rows = _csv(resp)
    assert [(r[0], r[1]) for r in rows[1:]] == [("NC-2026-0002", "1"), ("NC-2026-0002", "2")]
    first, second = (dict(zip(rows[0], r, strict=True)) for r in rows[1:])
    assert first["Owner"] == "Luis Quispe" and first["Status"] == "Planned" and first["Due"] == "2026-04-30"
    assert first["Overdue"] == ("Yes" if _today(app) > date(2026, 4, 30) else "No")
    assert second["Status"] == "Implemented" and second["Implemented on"] == DAY.isoformat()
    xlsx = _xlsx(client.get("/nonconformities/actions/export.xlsx").get_data())
    assert _column(xlsx, "Nonconformity") == ["NC-2026-0003", "NC-2026-0002", "NC-2026-0002"]
    assert _column(xlsx, "Action number") == [1, 1, 2]
    assert _column(xlsx, "Due")[0] == datetime(2026, 4, 30)


def test_headers_and_labels_follow_the_readers_language(app, client, login_as, register):
    login_as("quality_officer")
    assert client.post_form("/lang", {"lang": "es"}, page="/").status_code == 302
    rows = _csv(client.get("/nonconformities/export.csv?grade=minor"))
    assert rows[0] == ["Referencia", "Título", "Descripción", "Grado", "Estado", "Origen", "Sede", "Proceso",
                       "Cláusulas", "Detectada el", "Detectado por", "Causa raíz", "Cerrada el", "Días abierta",
                       "Acciones"]
    assert rows[1][3:6] == ["No conformidad menor", "Acciones en curso", "Auditoría interna"]
    actions = _xlsx(client.get("/nonconformities/actions/export.xlsx").get_data())
    assert actions[0][:6] == ["No conformidad", "N.º de acción", "Descripción", "Responsable", "Vence", "Estado"]


@pytest.mark.parametrize("role", ["admin", "quality_officer", "compliance_officer", "auditor"])
def test_everyone_who_reads_the_register_may_export_it(app, client, login_as, register, role):
    login_as(role)  # an auditor reads (and so exports), never writes
    for url in ("/nonconformities/export.csv", "/nonconformities/export.xlsx",
                "/nonconformities/actions/export.csv", "/nonconformities/actions/export.xlsx"):
        resp = client.get(url)
        assert resp.status_code == 200, (role, url)
        assert resp.headers["Content-Disposition"].startswith("attachment;")


def test_anonymous_goes_to_login(client, register):
    resp = client.get("/nonconformities/export.xlsx")
    assert resp.status_code == 302 and "/login" in resp.location


@pytest.mark.parametrize("query", ["status=deleted", "site=abc", "grade=Major", "overdue=maybe", "clause=-1"])
def test_a_forged_filter_is_a_translated_400_not_a_file(app, client, login_as, register, query):
    login_as("quality_officer")
    assert client.post_form("/lang", {"lang": "es"}, page="/").status_code == 302
    for url in ("/nonconformities/export.csv", "/nonconformities/actions/export.xlsx"):
        resp = client.get(f"{url}?{query}")
        assert resp.status_code == 400
        assert "Content-Disposition" not in resp.headers
        assert "no es válido" in resp.get_data(as_text=True)


# -- the generic module: what later registers rely on ----------------------------------------------------------


@pytest.mark.parametrize("bait", INJECTIONS)
def test_every_formula_start_is_neutralised(app, bait):
    columns = [Column("text", "Text", lambda r: r[0]), Column("number", "Number", lambda r: r[1])]
    with app.app_context():
        text = "".join(exports.iter_csv(columns, [(bait, -2)]))
        buffer = io.BytesIO()
        exports.write_xlsx(columns, [(bait, -2)], buffer, title="Prueba")
    row = list(csv.reader(io.StringIO(text.removeprefix(exports.BOM), newline="")))[1]
    assert row == ["'" + bait, "-2"]  # the number stays a plain number in CSV too
    sheet = load_workbook(io.BytesIO(buffer.getvalue())).active
    text_cell, number_cell = sheet["A2"], sheet["B2"]
    assert text_cell.data_type == "s" and text_cell.value == "'" + bait
    assert number_cell.data_type == "n" and number_cell.value == -2


def test_harmless_text_and_typed_values_are_left_alone(app):
    columns = [Column("a", "A", lambda r: r[0]), Column("b", "B", lambda r: r[1]), Column("c", "C", lambda r: r[2]),
               Column("d", "D", lambda r: r[3])]
    row = ("Fuga de información en la mesa de partes", date(2026, 5, 1), 3.5, None)
    with app.app_context():
        text = "".join(exports.iter_csv(columns, [row]))
        buffer = io.BytesIO()
        exports.write_xlsx(columns, [row], buffer, title="A:B/C*?[x]")
    assert text.splitlines()[1] == "Fuga de información en la mesa de partes,2026-05-01,3.5,"
    book = load_workbook(io.BytesIO(buffer.getvalue()))
    assert book.sheetnames == ["ABCx"]
    assert [c.value for c in book.active[2]] == [row[0], datetime(2026, 5, 1), 3.5, None]


# -- the command line -------------------------------------------------------------------------------------------


def test_cli_exports_csv_with_status_and_site(app, runner, register, out_dir):
    out = out_dir / "ncs.csv"
    result = runner.invoke(args=["export", "nonconformities", "--format", "csv", "--out", str(out),
                                 "--status", "not_closed", "--site", "ut-cusco"])
    assert result.exit_code == 0, result.output
    assert "Exported 2 nonconformities" in result.output
    assert out.read_bytes().startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(out.read_text("utf-8-sig"), newline="")))
    assert [r[0] for r in rows[1:]] == ["NC-2026-0002", "NC-2026-0001"]
    assert rows[2][1] == "'=1+1"
    assert sorted(p.name for p in out_dir.iterdir()) == ["ncs.csv"]  # no temporary file left beside it


def test_cli_exports_actions_as_xlsx_by_the_actions_status(app, runner, register, out_dir):
    out = out_dir / "acciones.xlsx"
    result = runner.invoke(args=["export", "actions", "--out", str(out), "--status", "planned"])  # format from name
    assert result.exit_code == 0, result.output
    rows = _xlsx(out.read_bytes())
    assert [(r[0], r[1]) for r in rows[1:]] == [("NC-2026-0003", 1), ("NC-2026-0002", 1)]
    result = runner.invoke(args=["export", "actions", "--format", "xlsx", "--out", str(out), "--site", "UT-PUNO"])
    assert result.exit_code == 0, result.output
    assert [r[0] for r in _xlsx(out.read_bytes())[1:]] == ["NC-2026-0003"]  # replaced whole


def test_cli_writes_csv_to_stdout_and_follows_the_terminal_language(app, runner, register):
    result = runner.invoke(args=["export", "nonconformities", "--format", "csv", "--out", "-", "--status", "open"],
                           env={"LC_ALL": "es_PE.UTF-8"})
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout, newline="")))
    assert rows[0][:3] == ["Referencia", "Título", "Descripción"]  # no BOM on a pipe
    assert [r[0] for r in rows[1:]] == ["NC-2026-0001"]


@pytest.mark.parametrize(("args", "message"), [
    (["--format", "pdf"], "'pdf' is not one of"),
    (["--format", "csv", "--status", "deleted"], "not the nonconformity's status"),
    (["--format", "csv", "--site", "UT-NOWHERE"], "no site with the code"),
    (["--format", "xlsx", "--out", "-"], "only CSV"),
    (["--format", "csv", "--out", "missing/dir/ncs.csv"], "does not exist"),
    (["--out", "ncs.ods"], "--format"),
])
def test_cli_bad_arguments_exit_2_and_write_nothing(app, runner, register, out_dir, monkeypatch, args, message):
    monkeypatch.chdir(out_dir)
    full = ["export", "nonconformities", *args]
    if "--out" not in args:
        full += ["--out", "ncs.csv"]
    result = runner.invoke(args=full)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert list(out_dir.iterdir()) == []


def test_cli_refuses_an_unknown_kind(app, runner, out_dir):
    result = runner.invoke(args=["export", "bananas", "--format", "csv", "--out", str(out_dir / "x.csv")])
    assert result.exit_code == 2 and "'bananas' is not one of actions, " in result.output
    assert list(out_dir.iterdir()) == []


def test_a_failure_midway_leaves_the_previous_file_whole(app, runner, out_dir, monkeypatch):
    """A later register joins by registering its spec; if its rows fail halfway, FILE keeps its old content."""

    def rows(_scope: Any, _filters: Any, _today: date) -> Iterator[tuple[str]]:
        yield ("primera fila",)
        raise RuntimeError("the database went away")

    spec = exports.Register(kind="later", title="Later", columns=lambda _d: [Column("what", "What", lambda r: r[0])],
                            rows=rows, count=lambda *_a: 2, cli_filters=lambda status, site: None)
    monkeypatch.setitem(exports.KINDS, "later", spec)
    openpyxl_temp = list(ALL_TEMP_FILES)
    for fmt in ("csv", "xlsx"):
        out = out_dir / f"later.{fmt}"
        out.write_bytes(b"previous export")
        result = runner.invoke(args=["export", "later", "--out", str(out)])
        assert result.exit_code != 0
        assert out.read_bytes() == b"previous export"
    assert sorted(p.name for p in out_dir.iterdir()) == ["later.csv", "later.xlsx"]
    assert list(ALL_TEMP_FILES) == openpyxl_temp  # openpyxl's own temporary sheet file is gone too


def test_the_bom_and_dated_names(app):
    assert exports.file_name("nonconformities", "xlsx", date(2026, 12, 1)) == \
        "auditdocs-nonconformities-2026-12-01.xlsx"
    assert exports.neutralise("Normal") == "Normal" and exports.neutralise("-") == "'-"
