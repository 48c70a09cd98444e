"""Certification scope, certificates and the audit programme, through HTTP as each role meets them.

Rosa (quality officer) and Luis (compliance officer) keep the scope and the programme; Ana (external auditor) reads
every page, downloads the certificate (the download is recorded) and can change nothing.
"""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from support import audit_events, pdf, post_in_memory

from auditdocs.db import write_transaction
from auditdocs.extensions import db
from auditdocs.models import Attachment, Audit, AuditSite, Certificate, Process, Scope, Site
from auditdocs.timeutil import local_today

ROLES = ("admin", "quality_officer", "compliance_officer", "auditor")
MANAGERS = ("admin", "quality_officer", "compliance_officer")
CERT_URL = re.compile(r"/certificates/(\d+)$")
AUDIT_URL = re.compile(r"/audits/(\d+)$")


# -- setup ------------------------------------------------------------------------------------------------------


def make_org(app: Any) -> dict[str, int]:
    """A head office, three regional units and three processes (setup, not under test): ids by code."""
    with app.app_context():
        with write_transaction():
            head = Site(code="SEDE-CENTRAL", name_es="Sede Central (Lima)", region="Lima")
            db.session.add(head)
            db.session.flush()
            for code, region in (("UT-CUSCO", "Cusco"), ("UT-PUNO", "Puno"), ("UT-PIURA", "Piura")):
                db.session.add(Site(code=code, name_es=f"Unidad Territorial {region}", region=region,
                                    parent_id=head.id))
            for n, (code, name, category) in enumerate((("PE-02", "Gestión de la calidad", "strategic"),
                                                        ("PO-01", "Visitas domiciliarias", "operational"),
                                                        ("PS-01", "Compras y abastecimiento", "support"))):
                db.session.add(Process(code=code, name_es=name, category=category, sort_order=n))
        ids = {s.code: s.id for s in db.session.scalars(select(Site))}
        ids |= {p.code: p.id for p in db.session.scalars(select(Process))}
        db.session.remove()
    return ids


def today(app: Any) -> date:
    with app.app_context():
        return local_today()


def certificate_form(client: Any, **fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"number": "SGI-2025-0412", "scope": "integrated",
                            "body": "Bureau de Certificación Andina S.A.C.", "issued_on": "2025-09-01",
                            "expires_on": "2028-08-31", "csrf_token": client.csrf_token("/certificates/new")}
    data.update(fields)
    return data


def new_certificate(client: Any, **fields: Any) -> int:
    resp = post_in_memory(client, "/certificates/new", certificate_form(client, **fields))
    assert resp.status_code == 302, resp.get_data(as_text=True)[:3000]
    match = CERT_URL.search(resp.headers["Location"])
    assert match
    return int(match.group(1))


def audit_form(client: Any, **fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"audit_type": "surveillance_1", "stage": "single", "certificate": "0",
                            "planned_start": "2026-03-09", "planned_end": "2026-03-12",
                            "auditing_body": "Bureau de Certificación Andina S.A.C.", "lead_auditor": "Marco Paredes",
                            "status": "planned", "notes": "", "csrf_token": client.csrf_token("/audits/new")}
    data.update(fields)
    return data


def new_audit(client: Any, **fields: Any) -> int:
    resp = client.post("/audits/new", data=audit_form(client, **fields))
    assert resp.status_code == 302, resp.get_data(as_text=True)[:3000]
    match = AUDIT_URL.search(resp.headers["Location"])
    assert match
    return int(match.group(1))


def field_error(resp: Any, message: str) -> bool:
    """The message appears as a field's error (under the field, not only in a banner)."""
    return bool(re.search(r'invalid-feedback d-block">[^<]*' + re.escape(message), resp.get_data(as_text=True)))


def count(app: Any, model: Any) -> int:
    with app.app_context():
        n = db.session.scalar(select(func.count()).select_from(model))
        db.session.remove()
    return int(n or 0)


# -- pages per role ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_every_role_reads_the_programme_only_managers_see_write_buttons(app, client, login_as, make_user, role):
    rosa = make_user("quality_officer")
    client.post_form("/login", {"email": rosa.email, "password": rosa.password})
    cert_id = new_certificate(client)
    audit_id = new_audit(client, certificate=str(cert_id))
    client.post_form("/logout", page="/")
    login_as(role)
    manager = role in MANAGERS
    for url, button in (("/programme", "new-audit"), ("/scope", "edit-scope-integrated"),
                        (f"/certificates/{cert_id}", "edit-certificate"), (f"/audits/{audit_id}", "edit-audit")):
        resp = client.get(url)
        assert resp.status_code == 200, url
        assert (f'data-testid="{button}"' in resp.get_data(as_text=True)) is manager, url
    for url in ("/audits/new", f"/audits/{audit_id}/edit", "/certificates/new", f"/certificates/{cert_id}/edit",
                "/scope/integrated/edit"):
        assert client.get(url).status_code == (200 if manager else 403), url


def test_the_auditor_cannot_change_the_programme(app, client, login_as, make_user):
    rosa = make_user("quality_officer")
    client.post_form("/login", {"email": rosa.email, "password": rosa.password})
    cert_id = new_certificate(client)
    audit_id = new_audit(client, certificate=str(cert_id))
    client.post_form("/logout", page="/")
    login_as("auditor")
    token = client.csrf_token("/")
    posts = {"/scope/integrated/edit": {"statement_es": "Alcance cambiado"},
             "/certificates/new": {"number": "X-1", "scope": "integrated", "body": "B", "issued_on": "2025-01-01",
                                   "expires_on": "2028-01-01"},
             f"/certificates/{cert_id}/edit": {"number": "X-2"},
             f"/certificates/{cert_id}/files": {"file": (io.BytesIO(pdf("x")), "c.pdf")},
             "/audits/new": {"audit_type": "internal", "planned_start": "2026-01-01", "auditing_body": "Equipo"},
             f"/audits/{audit_id}/edit": {"status": "cancelled", "notes": "Cancelada por la auditora"}}
    before = [count(app, m) for m in (Certificate, Audit, Attachment, Scope)]
    for url, data in posts.items():
        resp = post_in_memory(client, url, {**data, "csrf_token": token})
        assert resp.status_code == 403, url
        assert "Nothing was changed" in resp.get_data(as_text=True)
    assert [count(app, m) for m in (Certificate, Audit, Attachment, Scope)] == before
    assert audit_events(app, "audit.update") == []


def test_unknown_objects_answer_404(client, login_as):
    login_as("quality_officer")
    for url in ("/certificates/999", "/certificates/999/edit", "/audits/999", "/audits/999/edit",
                "/scope/iso14001_2015/edit", "/certificates/999/files/1"):
        assert client.get(url).status_code == 404, url


# -- scope ------------------------------------------------------------------------------------------------------


def test_scope_statement_sites_and_processes_are_saved_and_audited(app, client, login_as):
    ids = make_org(app)
    rosa = login_as("quality_officer")
    resp = client.post_form("/scope/integrated/edit", {
        "statement_es": "Gestión del servicio de acompañamiento familiar y cuidado diurno.",
        "statement_en": "Management of the family-support and day-care service.",
        "sites": [str(ids["SEDE-CENTRAL"]), str(ids["UT-CUSCO"])], "processes": [str(ids["PO-01"])]},
        page="/scope/integrated/edit")
    assert resp.status_code == 302
    page = client.get("/scope").get_data(as_text=True)
    assert "Management of the family-support and day-care service." in page
    assert "UT-CUSCO" in page and "UT-PUNO" not in page and "PO-01" in page
    client.post_form("/lang", {"lang": "es"}, page="/")
    assert "Gestión del servicio de acompañamiento familiar" in client.get("/scope").get_data(as_text=True)

    resp = client.post_form("/scope/integrated/edit", {
        "statement_es": "Gestión del servicio de acompañamiento familiar y cuidado diurno.",
        "statement_en": "Management of the family-support and day-care service.",
        "sites": [str(ids["SEDE-CENTRAL"]), str(ids["UT-PUNO"])], "processes": [str(ids["PO-01"])]},
        page="/scope/integrated/edit")
    assert resp.status_code == 302
    events = audit_events(app, "scope.update")
    assert len(events) == 2
    assert events[0]["actor_id"] == rosa.id and events[0]["object_id"] == "integrated"
    assert events[0]["new"]["sites"] == ["SEDE-CENTRAL", "UT-CUSCO"] and events[0]["old"]["sites"] == []
    assert events[1]["old"] == {"sites": ["SEDE-CENTRAL", "UT-CUSCO"]}
    assert events[1]["new"] == {"sites": ["SEDE-CENTRAL", "UT-PUNO"]}


def test_a_scope_needs_a_statement_and_real_sites(app, client, login_as):
    ids = make_org(app)
    login_as("compliance_officer")
    resp = client.post_form("/scope/iso37001_2016/edit", {"statement_es": "  ", "statement_en": ""},
                            page="/scope/iso37001_2016/edit")
    assert resp.status_code == 400
    assert field_error(resp, "Write the scope statement in Spanish, English or both.")
    resp = client.post_form("/scope/iso37001_2016/edit", {"statement_es": "Alcance", "sites": ["999999"]},
                            page="/scope/iso37001_2016/edit")
    assert resp.status_code == 400
    assert count(app, Scope) == 0 and audit_events(app, "scope.update") == []
    with app.app_context(), write_transaction():
        db.session.get(Site, ids["UT-PIURA"]).active = False
    resp = client.post_form("/scope/iso37001_2016/edit", {"statement_es": "Alcance", "sites": [str(ids["UT-PIURA"])]},
                            page="/scope/iso37001_2016/edit")
    assert resp.status_code == 400  # an inactive site is not offered, and a forged choice is refused


def test_the_scope_page_lists_exclusions_with_their_justification(app, client, login_as):
    login_as("quality_officer")
    reason = "El programa presta un servicio definido por norma; no diseña servicios propios."
    assert client.post_form("/clauses/iso9001_2015/8.3/applicability", {"applicable": "no", "reason": reason},
                            page="/").status_code == 302
    client.post_form("/scope/integrated/edit", {"statement_es": "Alcance integrado"}, page="/scope/integrated/edit")
    login_as("auditor")
    page = client.get("/scope").get_data(as_text=True)
    table = page.split('data-testid="excluded-iso9001_2015"')[1].split("</table>")[0]
    assert "8.3" in table and reason in table
    assert "Every clause of this standard applies." in page.split('data-testid="excluded-iso37001_2016"')[1]


# -- certificates -----------------------------------------------------------------------------------------------


def test_a_certificate_with_its_file_is_registered_downloaded_and_audited(app, client, login_as, runner):
    rosa = login_as("quality_officer")
    content = pdf("certificado")
    cert_id = new_certificate(client, file=(io.BytesIO(content), "Certificado SGI-2025-0412.pdf"))
    page = client.get(f"/certificates/{cert_id}").get_data(as_text=True)
    assert "Certificado SGI-2025-0412.pdf" in page and "Bureau de Certificación Andina S.A.C." in page

    with app.app_context():
        file_id = db.session.scalar(select(Attachment.id).where(Attachment.owner_type == "certificate"))
        db.session.remove()
    login_as("auditor")
    with client.get(f"/certificates/{cert_id}/files/{file_id}") as resp:
        assert resp.status_code == 200 and resp.data == content
        assert resp.headers["Content-Disposition"].startswith("attachment;")
        assert 'filename="Certificado SGI-2025-0412.pdf"' in resp.headers["Content-Disposition"]
        assert resp.headers["X-Content-Type-Options"] == "nosniff"

    created = audit_events(app, "certificate.create")
    assert created[0]["actor_id"] == rosa.id and created[0]["object_id"] == "SGI-2025-0412"
    assert created[0]["new"]["expires_on"] == "2028-08-31" and created[0]["new"]["scope"] == "integrated"
    attached = audit_events(app, "certificate.attach")
    assert attached[0]["new"]["filename"] == "Certificado SGI-2025-0412.pdf"
    downloads = audit_events(app, "certificate.download")
    assert len(downloads) == 1 and downloads[0]["new"]["attachment"] == file_id
    result = runner.invoke(args=["verify", "--strict"])
    assert result.exit_code == 0, result.output  # the file's row, blob and trail agree


def test_a_later_file_is_added_and_becomes_the_current_one(app, client, login_as):
    login_as("quality_officer")
    cert_id = new_certificate(client, file=(io.BytesIO(pdf("v1")), "certificado-2025.pdf"))
    resp = post_in_memory(client, f"/certificates/{cert_id}/files", {
        "csrf_token": client.csrf_token(f"/certificates/{cert_id}"),
        "file": (io.BytesIO(pdf("v2")), "certificado-corregido.pdf")})
    assert resp.status_code == 302
    page = client.get(f"/certificates/{cert_id}").get_data(as_text=True)
    files = page.split('data-testid="certificate-files"')[1].split("</table>")[0]
    assert files.index("certificado-corregido.pdf") < files.index("certificado-2025.pdf")
    assert files.split("certificado-corregido.pdf")[1].split("</div>")[0].count(">current<") == 1
    assert count(app, Attachment) == 2


def test_a_refused_file_registers_nothing(app, client, login_as):
    login_as("quality_officer")
    resp = post_in_memory(client, "/certificates/new", certificate_form(
        client, file=(io.BytesIO(b"MZ\x90\x00 not a pdf at all"), "certificado.pdf")))
    assert resp.status_code == 400
    assert 'name="file"' in resp.get_data(as_text=True) and "is-invalid" in resp.get_data(as_text=True)
    assert count(app, Certificate) == 0 and count(app, Attachment) == 0
    assert audit_events(app, "certificate.create") == []


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"expires_on": "2025-08-31"}, "expires_on", "The expiry date must come after the issue date."),
    ({"expires_on": "2025-09-01"}, "expires_on", "The expiry date must come after the issue date."),
    ({"issued_on": "1925-09-01"}, "issued_on", "Enter a date between 1990 and 2100."),
    ({"expires_on": "2125-09-01"}, "expires_on", "Enter a date between 1990 and 2100."),
    ({"number": "   "}, "number", "This field is required."),
    ({"scope": "iso14001_2015"}, "scope", "Not a valid choice"),
])
def test_certificate_validation_answers_at_the_field(app, client, login_as, fields, field, message):
    login_as("quality_officer")
    resp = post_in_memory(client, "/certificates/new", certificate_form(
        client, file=(io.BytesIO(pdf("c")), "c.pdf"), **fields))
    assert resp.status_code == 400
    assert field_error(resp, message), resp.get_data(as_text=True)[:4000]
    assert count(app, Certificate) == 0 and count(app, Attachment) == 0


def test_certificate_numbers_are_unique_whatever_the_case(app, client, login_as):
    login_as("quality_officer")
    first = new_certificate(client)
    resp = post_in_memory(client, "/certificates/new", certificate_form(client, number="sgi-2025-0412"))
    assert resp.status_code == 400
    assert field_error(resp, "Another certificate already has the number sgi-2025-0412.")
    second = new_certificate(client, number="SGI-2028-0001", issued_on="2028-09-01", expires_on="2031-08-31")
    resp = client.post_form(f"/certificates/{second}/edit", {
        "number": "SGI-2025-0412", "scope": "integrated", "body": "B", "issued_on": "2028-09-01",
        "expires_on": "2031-08-31"}, page=f"/certificates/{second}/edit")
    assert resp.status_code == 400 and count(app, Certificate) == 2
    resp = client.post_form(f"/certificates/{first}/edit", {
        "number": "SGI-2025-0412", "scope": "iso9001_2015", "body": "Bureau de Certificación Andina S.A.C.",
        "issued_on": "2025-09-01", "expires_on": "2028-09-01"}, page=f"/certificates/{first}/edit")
    assert resp.status_code == 302
    update = audit_events(app, "certificate.update")[0]
    assert update["old"] == {"scope": "integrated", "expires_on": "2028-08-31"}
    assert update["new"] == {"scope": "iso9001_2015", "expires_on": "2028-09-01"}


# -- audits -----------------------------------------------------------------------------------------------------


def test_a_surveillance_audit_is_planned_and_placed_in_its_cycle_year(app, client, login_as):
    ids = make_org(app)
    rosa = login_as("quality_officer")
    cert_id = new_certificate(client)
    audit_id = new_audit(client, certificate=str(cert_id), processes=[str(ids["PO-01"]), str(ids["PE-02"])])
    page = client.get(f"/audits/{audit_id}").get_data(as_text=True)
    assert "First surveillance" in page and "PO-01" in page and "No site sample confirmed yet." in page
    assert 'data-testid="propose-sample"' in page  # the sampling page exists: the officer goes there next
    timeline = client.get("/programme").get_data(as_text=True)
    year1 = timeline.split('data-testid="cycle-SGI-2025-0412-year-1"')[1].split('data-testid="cycle-SGI-2025-0412'
                                                                                 '-year-2"')[0]
    assert f'data-testid="timeline-audit-{audit_id}"' in year1
    assert 'data-testid="expected-SGI-2025-0412-surveillance_2"' in timeline
    assert 'data-testid="expected-SGI-2025-0412-surveillance_1"' not in timeline
    created = audit_events(app, "audit.create")[0]
    assert created["actor_id"] == rosa.id and created["object_id"] == str(audit_id)
    assert created["new"]["certificate"] == "SGI-2025-0412" and created["new"]["processes"] == ["PE-02", "PO-01"]


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"status": "done"}, "actual_start", "A done audit needs the day it actually started."),
    ({"status": "done", "actual_start": "2026-03-09"}, "actual_end", "A done audit needs the day it actually ended."),
    ({"status": "cancelled"}, "notes", "Say why the audit is cancelled."),
    ({"stage": "stage_1"}, "stage", "Stages 1 and 2 are for initial certification audits only."),
    ({"certificate": "0"}, "certificate", "A certification audit belongs to a certificate: choose one."),
    ({"planned_start": ""}, "planned_start", "Enter the planned start date."),
    ({"planned_end": "2026-03-01"}, "planned_end", "The planned end cannot be before the planned start."),
    ({"planned_start": "2226-03-09", "planned_end": ""}, "planned_start", "Enter a date between 1990 and 2100."),
    ({"auditing_body": ""}, "auditing_body", "Name the certification body or the internal audit team."),
    ({"actual_start": "2026-03-10", "actual_end": "2026-03-09"}, "actual_end",
     "The actual end cannot be before the actual start."),
])
def test_audit_validation_answers_at_the_field(app, client, login_as, fields, field, message):
    login_as("quality_officer")
    cert_id = new_certificate(client)
    resp = client.post("/audits/new", data=audit_form(client, **{"certificate": str(cert_id), **fields}))
    assert resp.status_code == 400
    assert field_error(resp, message), resp.get_data(as_text=True)[:4000]
    assert count(app, Audit) == 0 and audit_events(app, "audit.create") == []


def test_done_cannot_be_in_the_future_and_a_cycle_audit_is_not_planned_twice(app, client, login_as):
    login_as("quality_officer")
    cert_id = new_certificate(client)
    later = (today(app) + timedelta(days=3)).isoformat()
    resp = client.post("/audits/new", data=audit_form(client, certificate=str(cert_id), status="done",
                                                      planned_start=later, planned_end=later, actual_start=later,
                                                      actual_end=later))
    assert resp.status_code == 400
    assert field_error(resp, "An audit cannot have actually started in the future.")
    new_audit(client, certificate=str(cert_id))
    resp = client.post("/audits/new", data=audit_form(client, certificate=str(cert_id)))
    assert resp.status_code == 400
    assert field_error(resp, "This certificate already has such an audit planned or done")
    assert count(app, Audit) == 1


def test_an_audit_is_done_then_cancelled_with_every_change_audited(app, client, login_as):
    login_as("compliance_officer")
    cert_id = new_certificate(client)
    start, end = (today(app) - timedelta(days=n) for n in (30, 28))
    audit_id = new_audit(client, certificate=str(cert_id), planned_start=start.isoformat(), planned_end="")
    edit = f"/audits/{audit_id}/edit"
    done = audit_form(client, certificate=str(cert_id), planned_start=start.isoformat(), planned_end="",
                      status="done", actual_start=start.isoformat(), actual_end=end.isoformat())
    assert client.post(edit, data=done).status_code == 302
    resp = client.post(edit, data={**done, "status": "cancelled", "notes": ""})
    assert resp.status_code == 400 and field_error(resp, "Say why the audit is cancelled.")
    resp = client.post(edit, data={**done, "status": "cancelled",
                                   "notes": "El organismo de certificación reprogramó la auditoría."})
    assert resp.status_code == 302
    page = client.get(f"/audits/{audit_id}").get_data(as_text=True)
    assert "Cancelled" in page and "reprogramó la auditoría" in page
    updates = audit_events(app, "audit.update")
    assert updates[0]["old"] == {"status": "planned", "actual_start": None, "actual_end": None}
    assert updates[0]["new"] == {"status": "done", "actual_start": start.isoformat(), "actual_end": end.isoformat()}
    assert updates[1]["old"]["status"] == "done" and updates[1]["new"]["status"] == "cancelled"
    assert updates[1]["new"]["notes"] == "El organismo de certificación reprogramó la auditoría."
    # once cancelled, the slot in the cycle is free again
    new_audit(client, certificate=str(cert_id))


def test_internal_audits_name_their_sites_certification_audits_do_not(app, client, login_as):
    ids = make_org(app)
    login_as("quality_officer")
    cert_id = new_certificate(client)
    internal = new_audit(client, audit_type="internal", certificate=str(cert_id), auditing_body="Equipo SIG",
                         sites=[str(ids["SEDE-CENTRAL"]), str(ids["UT-PUNO"])])
    with app.app_context():
        row = db.session.get(Audit, internal)
        assert row.certificate_id is None  # internal audits belong to no certificate
        assert sorted(s.site.code for s in row.sites) == ["SEDE-CENTRAL", "UT-PUNO"]
        db.session.remove()
    timeline = client.get("/programme").get_data(as_text=True)
    assert f'data-testid="internal-audit-{internal}"' in timeline and "SEDE-CENTRAL, UT-PUNO" in timeline
    resp = client.post("/audits/new", data=audit_form(client, certificate=str(cert_id), sites=[str(ids["UT-PUNO"])]))
    assert resp.status_code == 400
    assert field_error(resp, "The sites of a certification audit are chosen on its site-sample page.")
    resp = client.post(f"/audits/{internal}/edit", data=audit_form(
        client, audit_type="internal", auditing_body="Equipo SIG", sites=[str(ids["UT-CUSCO"])]))
    assert resp.status_code == 302
    assert audit_events(app, "audit.update")[0]["new"] == {"sites": ["UT-CUSCO"]}
    resp = client.post(f"/audits/{internal}/edit", data=audit_form(client, certificate=str(cert_id)))
    assert resp.status_code == 400
    assert field_error(resp, "An internal audit cannot become a certification audit, nor the reverse")


def test_the_audit_page_shows_the_sample_with_its_reasons(app, client, login_as):
    ids = make_org(app)
    login_as("quality_officer")
    audit_id = new_audit(client, certificate=str(new_certificate(client)))
    with app.app_context(), write_transaction():
        item = db.session.get(Audit, audit_id)
        item.sites.append(AuditSite(site_id=ids["SEDE-CENTRAL"], reason="central function"))
        item.sites.append(AuditSite(site_id=ids["UT-CUSCO"], reason="never visited in this cycle"))
    login_as("auditor")
    table = client.get(f"/audits/{audit_id}").get_data(as_text=True).split('data-testid="audit-sites"')[1]
    assert "UT-CUSCO" in table and "never visited in this cycle" in table and "central function" in table


# -- the dashboard warning --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("days", "shown", "expired"), [(89, True, False), (90, True, False), (91, False, False),
                                                        (-1, True, True)])
def test_the_dashboard_warns_before_a_certificate_expires(app, client, login_as, days, shown, expired):
    login_as("quality_officer")
    expires = today(app) + timedelta(days=days)
    new_certificate(client, issued_on=(expires - timedelta(days=1095)).isoformat(), expires_on=expires.isoformat())
    login_as("auditor")
    page = client.get("/").get_data(as_text=True)
    assert ('data-testid="certificate-expiry-SGI-2025-0412"' in page) is shown
    if shown:
        warning = page.split('data-testid="certificate-expiry-SGI-2025-0412"')[0].rsplit("<div", 1)[1]
        assert ("alert-danger" in warning) is expired and ("alert-warning" in warning) is not expired
    if shown and not expired:
        assert f"in {days} days" in page


def test_a_renewed_certificate_silences_the_old_ones_warning(app, client, login_as):
    login_as("quality_officer")
    day = today(app)
    new_certificate(client, issued_on=(day - timedelta(days=1100)).isoformat(),
                    expires_on=(day - timedelta(days=5)).isoformat())
    assert 'data-testid="certificate-expiry-SGI-2025-0412"' in client.get("/").get_data(as_text=True)
    new_certificate(client, number="SGI-2028-0107", issued_on=(day - timedelta(days=10)).isoformat(),
                    expires_on=(day + timedelta(days=1085)).isoformat())
    page = client.get("/").get_data(as_text=True)
    assert 'data-testid="certificate-expiry-SGI-2025-0412"' not in page
    assert 'data-testid="certificate-expiry-SGI-2028-0107"' not in page


def test_the_warning_is_in_spanish(app, client, login_as):
    login_as("quality_officer")
    expires = today(app) + timedelta(days=30)
    new_certificate(client, issued_on=(expires - timedelta(days=1095)).isoformat(), expires_on=expires.isoformat())
    client.post_form("/lang", {"lang": "es"}, page="/")
    assert "vence el" in client.get("/").get_data(as_text=True)


# -- demo data --------------------------------------------------------------------------------------------------


def test_the_demo_shows_a_cycle_in_progress_and_adds_nothing_the_second_time(app, client, runner, make_user):
    assert runner.invoke(args=["demo-data"]).exit_code == 0

    def state() -> dict[str, Any]:
        with app.app_context():
            audits = db.session.scalars(select(Audit).order_by(Audit.id)).all()
            out = {"certificates": [(c.number, c.body, c.expires_on.year - c.issued_on.year == 3)
                                    for c in db.session.scalars(select(Certificate))],
                   "files": db.session.scalar(select(func.count(Attachment.id)).where(
                       Attachment.owner_type == "certificate")),  # the demo's records bring attachments too
                   "audits": [(a.audit_type, a.stage, a.status, sorted((s.site.code, s.reason) for s in a.sites))
                              for a in audits],
                   "scope": sorted(s.code for s in db.session.scalars(select(Scope)).one().sites)}
            db.session.remove()
        return out

    first = state()
    assert [c[0].startswith("SGI-") and c[0].endswith("-0412") and c[2] for c in first["certificates"]] == [True]
    assert first["files"] == 1
    assert len(first["scope"]) == 20 and "SEDE-CENTRAL" in first["scope"]
    kinds = [(t, stage, status) for t, stage, status, _s in first["audits"]]
    assert kinds == [("initial", "stage_1", "done"), ("initial", "stage_2", "done"),
                     ("surveillance_1", "single", "planned"), ("internal", "single", "done")]
    stage_2 = first["audits"][1][3]
    assert len(stage_2) == 6 and ("SEDE-CENTRAL", "función central: se audita siempre") in stage_2
    assert first["audits"][2][3] == []  # the first surveillance has no sample yet
    assert runner.invoke(args=["demo-data", "--force"]).exit_code == 0
    assert state() == first

    ana = make_user("auditor")
    client.post_form("/login", {"email": ana.email, "password": ana.password})
    timeline = client.get("/programme").get_data(as_text=True)
    assert "First surveillance" in timeline and "Stage 2" in timeline and "Equipo de auditoría interna" in timeline
