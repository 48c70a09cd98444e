"""Exports of the due-diligence files and the gifts register: CSV and XLSX re-read with the csv module and
openpyxl, with the page's filters, typed values, formula bait neutralised, Spanish headers; the same from
`auditdocs export due-diligence|gifts`."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from ddg_support import DD, GIFTS, NEW_DD, NEW_GIFT, dd_form, gift_form, login, new_id, set_threshold, today
from openpyxl import load_workbook

from auditdocs.db import write_transaction
from auditdocs.services import org

BAIT = ["=1+1", "+SUM(A1:A9)", "-2", "@cmd"]


@pytest.fixture
def registers(app, client, make_user) -> dict[str, Any]:
    """Two gifts (one of them formula bait, one at Puno) and two due-diligence files (one bait, one decided)."""
    carla = make_user("compliance_officer", name="Carla Compliance")
    admin = make_user("admin", name="Ada Admin")
    with app.app_context(), write_transaction():
        puno = org.create_site(org.SiteData(code="UT-PUNO", name_es="UT Puno")).id
    set_threshold(app, admin.id, "PEN", "100")
    login(client, carla)
    ids: dict[str, Any] = {"puno": puno, "carla": carla}
    ids["bait_gift"] = new_id(client.post_form(NEW_GIFT, gift_form(
        app, counterparty=BAIT[0], description=BAIT[1], purpose=BAIT[2], internal_party=BAIT[3], value="1250.5"),
        page=NEW_GIFT))
    ids["puno_gift"] = new_id(client.post_form(NEW_GIFT, gift_form(
        app, counterparty="Municipalidad de Puno", site_id=str(puno), value="40", kind="hospitality"),
        page=NEW_GIFT))
    ids["bait_dd"] = new_id(client.post_form(NEW_DD, dd_form(subject_name=BAIT[0], checks_performed=BAIT[1]),
                                             page=NEW_DD))
    day = today(app)
    ids["decided_dd"] = new_id(client.post_form(NEW_DD, dd_form(
        subject_name="Transportes Illimani SRL", result="Sin observaciones", decision="proceed",
        decided_on=day.isoformat(), reviewer_id=str(carla.id), next_review=(day + timedelta(days=365)).isoformat(),
        site_id=str(puno)), page=NEW_DD))
    return ids


def _csv(data: bytes) -> list[list[str]]:
    assert data.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def _xlsx(data: bytes) -> list[list[Any]]:
    sheet = load_workbook(io.BytesIO(data)).active
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row), "no formula cell, ever"
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


def test_gifts_csv_and_xlsx_are_filtered_typed_and_formula_safe(app, client, registers):
    year = today(app).year
    resp = client.get(f"{GIFTS}export.csv")
    assert resp.status_code == 200 and "auditdocs-gifts-" in resp.headers["Content-Disposition"]
    rows = _csv(resp.get_data())
    header = rows[0]
    assert header[:4] == ["Reference", "Kind", "Given or received", "Date"]
    bait = next(r for r in rows[1:] if r[0] == f"GH-{year}-0001")
    assert bait[header.index("Other party")] == "'=1+1" and bait[header.index("Description")] == "'+SUM(A1:A9)"
    assert bait[header.index("Purpose")] == "'-2" and bait[header.index("Our side")] == "'@cmd"
    assert bait[header.index("Value")] == "1250.50" and bait[header.index("Requires approval")] == "Yes"
    assert bait[header.index("Status")] == "Waiting for approval"

    book = _xlsx(client.get(f"{GIFTS}export.xlsx?site={registers['puno']}").get_data())
    assert len(book) == 2  # the header and the Puno entry only
    head, row = book
    assert row[head.index("Reference")] == f"GH-{year}-0002"
    assert row[head.index("Value")] == 40 and isinstance(row[head.index("Value")], (int, float, Decimal))
    assert row[head.index("Date")].date() == today(app)
    assert row[head.index("Requires approval")] is False
    whole = _xlsx(client.get(f"{GIFTS}export.xlsx").get_data())
    bait_row = next(r for r in whole[1:] if r[0] == f"GH-{year}-0001")
    assert bait_row[whole[0].index("Other party")] == "'=1+1"
    assert client.get(f"{GIFTS}export.csv?state=forged").status_code == 400


def test_due_diligence_exports_with_spanish_headers(app, client, registers):
    client.post_form("/lang", {"lang": "es"}, page="/")
    rows = _csv(client.get(f"{DD}export.csv").get_data())
    assert rows[0][:3] == ["Referencia", "Tipo de sujeto", "Sujeto"]
    assert {r[2] for r in rows[1:]} == {"'=1+1", "Transportes Illimani SRL"}
    decided = _xlsx(client.get(f"{DD}export.xlsx?state=proceed").get_data())
    assert len(decided) == 2
    head, row = decided
    assert row[head.index("Decisión")] == "Proceder" and row[head.index("Revisor")] == "Carla Compliance"
    assert row[head.index("Próxima revisión")].date() == today(app) + timedelta(days=365)


def test_everyone_who_reads_the_registers_may_export_them(app, client, registers, make_user):
    login(client, make_user("auditor"))
    for url in (f"{GIFTS}export.csv", f"{GIFTS}export.xlsx", f"{DD}export.csv", f"{DD}export.xlsx"):
        assert client.get(url).status_code == 200, url


def test_the_command_line_exports_both(app, runner, registers, tmp_path):
    out = tmp_path / "gifts.xlsx"
    result = runner.invoke(args=["export", "gifts", "--out", str(out), "--status", "pending_approval"])
    assert result.exit_code == 0, result.output
    assert "Exported 1 gifts" in result.output
    rows = _xlsx(out.read_bytes())
    assert [r[0] for r in rows[1:]] == [f"GH-{today(app).year}-0001"]
    assert rows[1][rows[0].index("Other party")] == "'=1+1"
    out = tmp_path / "dd.csv"
    result = runner.invoke(args=["export", "due-diligence", "--format", "csv", "--out", str(out), "--site",
                                 "UT-PUNO"])
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(out.read_text("utf-8-sig"), newline="")))
    assert [r[2] for r in rows[1:]] == ["Transportes Illimani SRL"]
    result = runner.invoke(args=["export", "gifts", "--out", str(out), "--status", "lost"])
    assert result.exit_code == 2 and "the entry's status" in result.output
