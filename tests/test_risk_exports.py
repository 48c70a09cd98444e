"""The bribery-risk register exported as CSV and XLSX (re-read with the csv module and openpyxl): every field, the
register page's filters, the register as it stood at an exercise, auditors' approved view, formula bait kept as
text, Spanish labels; the same from `auditdocs export risks`."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import date, timedelta
from typing import Any

import pytest
from openpyxl import load_workbook
from records_support import as_user
from risks_support import approve, new_exercise, new_risk, reassess

from auditdocs.db import write_transaction
from auditdocs.extensions import db
from auditdocs.models import BriberyRisk, RiskExercise
from auditdocs.services import org, risks

BAIT = "=HYPERLINK(\"http://evil.example\",\"clic\")"
CSV_URL, XLSX_URL = "/risks/export.csv", "/risks/export.xlsx"


@pytest.fixture
def register(app, make_user) -> dict[str, Any]:
    """Last year's exercise (closed): a Puno risk with formula bait, a Cusco risk rated high; this year's: the Cusco
    risk reassessed to low (pending) and a new risk never approved."""
    luis = make_user("compliance_officer", name="Luis Mendoza")
    carmen = make_user("admin", name="Carmen Quispe")
    with app.app_context(), write_transaction():
        puno = org.create_site(org.SiteData(code="UT-PUNO", name_es="Unidad Territorial Puno", name_en="Puno")).id
        cusco = org.create_site(org.SiteData(code="UT-CUSCO", name_es="Unidad Territorial Cusco", name_en="Cusco",
                                             parent_id=puno)).id
        buying = org.create_process(org.ProcessData(code="PS-01", name_es="Compras", name_en="Procurement")).id
    last = new_exercise(app, luis.id, name="Evaluación 2025", year=2025)
    bait = new_risk(app, luis.id, last, title="Cobro por afiliar familias", scenario=BAIT, site_id=puno,
                    process_id=buying, inherent_likelihood=5, inherent_impact=5, residual_likelihood=2,
                    residual_impact=3, owner_id=luis.id, next_review=date(2026, 1, 10), activity="Afiliación")
    high = new_risk(app, luis.id, last, title="Comisiones en la compra de alimentos", site_id=cusco,
                    residual_likelihood=4, residual_impact=4)
    approve(app, carmen.id, bait)
    approve(app, carmen.id, high)
    as_user(app, luis.id, lambda actor: risks.close_exercise(db.session.get(RiskExercise, last), actor=actor))
    this = new_exercise(app, luis.id, name="Evaluación 2026", year=2026)
    reassess(app, luis.id, high, this, title="Comisiones en la compra de alimentos", site_id=cusco,
             residual_likelihood=2, residual_impact=2)
    fresh = new_risk(app, luis.id, this, title="Regalos de proveedores sin registrar")
    return {"luis": luis, "carmen": carmen, "puno": puno, "cusco": cusco, "last": last, "this": this,
            "bait": bait, "high": high, "fresh": fresh, "buying": buying}


def _csv(data: bytes) -> list[list[str]]:
    assert data.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def _xlsx(data: bytes) -> list[list[Any]]:
    sheet = load_workbook(io.BytesIO(data)).active
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row), "no formula cell, ever"
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


def _get(client, url: str, **params: str) -> bytes:
    resp = client.get(url, query_string=params)
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    return resp.data


def _by_title(rows: list[list[Any]]) -> dict[str, dict[str, Any]]:
    header = rows[0]
    return {row[1]: dict(zip(header, row, strict=True)) for row in rows[1:]}


def test_csv_and_xlsx_hold_every_field_typed_and_formula_safe(app, client, login_as, register):
    login_as("quality_officer")
    rows = _csv(_get(client, CSV_URL))
    assert [r[0] for r in rows[1:]] == ["BR-0001", "BR-0002", "BR-0003"]
    bait = _by_title(rows)["Cobro por afiliar familias"]
    assert bait["Bribery scenario"] == "'" + BAIT, "a scenario starting with = stays text"
    assert (bait["Inherent score"], bait["Inherent rating"], bait["Residual score"]) == ("25", "Critical", "6")
    assert bait["Site"] == "UT-PUNO — Puno" and bait["Process"] == "PS-01 — Procurement"
    assert bait["Owner"] == "Luis Mendoza" and bait["Approved by"] == "Carmen Quispe"
    assert bait["Next review"] == "2026-01-10" and bait["Review overdue"] == "Yes"
    assert bait["Assessment exercise"].endswith("— Evaluación 2025")

    sheet = _xlsx(_get(client, XLSX_URL))
    assert sheet[0] == rows[0]
    row = _by_title(sheet)["Cobro por afiliar familias"]
    assert row["Bribery scenario"] == "'" + BAIT
    assert row["Inherent score"] == 25 and row["Residual impact"] == 3 and row["Risk matrix version"] == 1
    assert row["Next review"].date() == date(2026, 1, 10)
    assert _by_title(sheet)["Comisiones en la compra de alimentos"]["Status"] == "Pending approval"


def test_filters_follow_the_register_page_and_forged_values_answer_400(app, client, login_as, register):
    login_as("compliance_officer")
    only = lambda **p: [r[1] for r in _csv(_get(client, CSV_URL, **p))[1:]]  # noqa: E731
    assert only(site=str(register["puno"])) == ["Cobro por afiliar familias"]
    assert only(process=str(register["buying"])) == ["Cobro por afiliar familias"]
    assert only(rating="low") == ["Comisiones en la compra de alimentos"]  # the residual rating, as reassessed
    assert only(status="pending_approval") == ["Comisiones en la compra de alimentos",
                                                "Regalos de proveedores sin registrar"]
    assert only(q="regalos") == ["Regalos de proveedores sin registrar"]
    assert only(category="supplier") == []
    for bad in ({"rating": "enorme"}, {"site": "UT-PUNO"}, {"status": "closed"}, {"exercise": "x"}, {"q": "a" * 201}):
        assert client.get(CSV_URL, query_string=bad).status_code == 400, bad
    assert client.get(XLSX_URL, query_string={"exercise": "99999"}).status_code == 404


def test_an_exercise_exports_the_register_as_it_stood_then(app, client, login_as, register):
    login_as("compliance_officer")
    rows = _by_title(_csv(_get(client, CSV_URL, exercise=str(register["last"]))))
    assert sorted(rows) == ["Cobro por afiliar familias", "Comisiones en la compra de alimentos"]
    then = rows["Comisiones en la compra de alimentos"]
    assert (then["Residual score"], then["Residual rating"], then["Status"]) == ("16", "High", "Assessment approved")
    now = _by_title(_csv(_get(client, CSV_URL, exercise=str(register["this"]))))
    assert now == rows, "nothing approved in 2026 yet: both risks carried forward as approved in 2025"


def test_auditors_export_the_approved_state_only(app, client, login_as, register):
    login_as("auditor")
    rows = _by_title(_xlsx(_get(client, XLSX_URL)))
    assert sorted(rows) == ["Cobro por afiliar familias", "Comisiones en la compra de alimentos"]
    assert rows["Comisiones en la compra de alimentos"]["Residual rating"] == "High", "not the pending reassessment"
    assert client.post(CSV_URL).status_code in (400, 403, 405)  # nothing to write here


def test_anonymous_visitors_are_sent_to_sign_in(app, client, register):
    resp = client.get(CSV_URL)
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_spanish_headers_and_the_matrix_words(app, client, login_as, register):
    login_as("quality_officer")
    assert client.post_form("/lang", {"lang": "es"}, page="/").status_code == 302
    rows = _csv(_get(client, CSV_URL))
    assert rows[0][:4] == ["Referencia", "Título", "Estado", "Ejercicio de evaluación"]
    bait = _by_title(rows)["Cobro por afiliar familias"]
    assert bait["Nivel inherente"] == "Crítico" and bait["Estado"] == "Evaluación aprobada"
    assert bait["Sede"] == "UT-PUNO — Unidad Territorial Puno"


def test_retired_risks_leave_the_register_and_export_on_their_own(app, client, login_as, register):
    as_user(app, register["luis"].id, lambda actor: risks.retire_risk(
        db.session.get(BriberyRisk, register["bait"]), actor=actor, reason="Ya no aplica"))
    login_as("compliance_officer")
    assert "Cobro por afiliar familias" not in _by_title(_csv(_get(client, CSV_URL)))
    retired = _by_title(_csv(_get(client, CSV_URL, status="retired")))
    assert list(retired) == ["Cobro por afiliar familias"]
    assert retired["Cobro por afiliar familias"]["Why retired"] == "Ya no aplica"


def test_the_command_line_exports_the_approved_register(app, runner, register, tmp_path):
    result = runner.invoke(args=["export", "risks", "--format", "csv", "--out", "-"])
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.output)))
    assert [r[0] for r in rows[1:]] == ["BR-0001", "BR-0002"] and rows[0][0] == "Reference"  # never approved: out
    out = tmp_path / "riesgos.xlsx"
    result = runner.invoke(args=["export", "risks", "--out", str(out), "--site", "UT-CUSCO", "--status", "approved"])
    assert result.exit_code == 0, result.output
    sheet = _by_title(_xlsx(out.read_bytes()))
    assert list(sheet) == ["Comisiones en la compra de alimentos"]
    assert sheet["Comisiones en la compra de alimentos"]["Residual rating"] == "High", "the approved state"
    bad = runner.invoke(args=["export", "risks", "--format", "csv", "--out", str(tmp_path / "x.csv"),
                              "--status", "pending_approval"])
    assert bad.exit_code == 2 and not (tmp_path / "x.csv").exists()


def test_an_overdue_review_is_judged_on_the_day_of_the_export(app, client, login_as, register):
    with app.app_context():
        future = date.today() + timedelta(days=400)
    as_user(app, register["luis"].id, lambda actor: risks.assess_risk(
        db.session.get(BriberyRisk, register["bait"]), risks.RiskInput(
            title="Cobro por afiliar familias", scenario="Escenario", associate_category="beneficiary",
            inherent_likelihood=5, inherent_impact=5, residual_likelihood=2, residual_impact=3,
            next_review=future), db.session.get(RiskExercise, register["this"]), actor=actor, today=date(2026, 3, 2)))
    login_as("compliance_officer")
    row = _by_title(_csv(_get(client, CSV_URL)))["Cobro por afiliar familias"]
    assert row["Review overdue"] == "No" and row["Next review"] == future.isoformat()


def test_the_register_page_links_to_the_export_of_what_it_shows(app, client, login_as, register):
    login_as("compliance_officer")
    page = client.get("/risks/", query_string={"process": str(register["buying"]), "rating": "bogus"})
    body = page.get_data(as_text=True)
    link = re.search(r'href="([^"]+)" data-testid="export-csv"', body)
    assert page.status_code == 200 and link, "the register offers its export"
    assert "process=" not in html.unescape(link[1]), "a forged filter on the page gives a link without filters"
    page = client.get("/risks/", query_string={"process": str(register["buying"])})
    href = html.unescape(re.search(r'href="([^"]+)" data-testid="export-csv"', page.get_data(as_text=True))[1])
    assert href == f"/risks/export.csv?process={register['buying']}"
    with client.get(href) as exported:
        assert exported.status_code == 200
        assert [r[1] for r in _csv(exported.get_data())[1:]] == ["Cobro por afiliar familias"]
