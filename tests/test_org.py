"""The site tree and the process map through the web: who reads, who writes, the rules, the audit trail, the demo."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import func, select
from support import audit_events

from auditdocs.db import write_transaction
from auditdocs.extensions import db
from auditdocs.models import AuditEvent, Process, Site
from auditdocs.services import org as svc

ROLES = ("admin", "quality_officer", "compliance_officer", "auditor")
WRITERS = ("admin", "quality_officer")


@pytest.fixture
def tree(app: Any) -> dict[str, int]:
    """A head office, two regional units and an office under Cusco; one process per category."""
    with app.app_context(), write_transaction():
        head = svc.create_site(svc.SiteData(code="SEDE-CENTRAL", name_es="Sede Central (Lima)", region="Lima"))
        cusco = svc.create_site(svc.SiteData(code="UT-CUSCO", name_es="Unidad Territorial Cusco",
                                             name_en="Cusco Regional Unit", region="Cusco", parent_id=head.id))
        puno = svc.create_site(svc.SiteData(code="UT-PUNO", name_es="Unidad Territorial Puno", region="Puno",
                                            parent_id=head.id))
        office = svc.create_site(svc.SiteData(code="OE-QUILLABAMBA", name_es="Oficina de Enlace Quillabamba",
                                              region="Cusco", parent_id=cusco.id))
        for code, name, category in (("PE-01", "Gestión de la calidad", "strategic"),
                                     ("PO-01", "Visitas domiciliarias", "operational"),
                                     ("PS-01", "Compras y abastecimiento", "support")):
            svc.create_process(svc.ProcessData(code=code, name_es=name, category=category))
        ids = {"head": head.id, "cusco": cusco.id, "puno": puno.id, "office": office.id,
               "process": db.session.scalar(select(Process.id).where(Process.code == "PO-01"))}
    return ids


def _count(app: Any) -> tuple[int, int, int]:
    with app.app_context():
        out = (db.session.scalar(select(func.count(Site.id))), db.session.scalar(select(func.count(Process.id))),
               db.session.scalar(select(func.count(AuditEvent.id)).where(~AuditEvent.action.like("auth.%"),
                                                                           ~AuditEvent.action.like("access.%"))))
        db.session.remove()
    return out


def _site(app: Any, site_id: int) -> dict[str, Any]:
    with app.app_context():
        s = db.session.get(Site, site_id)
        out = {"code": s.code, "name_es": s.name_es, "parent_id": s.parent_id, "active": s.active,
               "responsible_id": s.responsible_id, "region": s.region}
        db.session.remove()
    return out


def _site_form(**fields: Any) -> dict[str, Any]:
    data = {"code": "OE-SICUANI", "name_es": "Oficina de Enlace Sicuani", "name_en": "", "region": "Cusco",
            "address": "Jr. Dos de Mayo 120, Sicuani", "parent_id": "0", "responsible_id": "0", "active": "y"}
    data.update({k: str(v) for k, v in fields.items()})
    return {k: v for k, v in data.items() if v is not None and not (k == "active" and v == "")}


@pytest.mark.parametrize("role", ROLES)
def test_every_role_reads_the_tree_the_site_and_the_process_map(app, client, login_as, tree, role):
    login_as(role)
    page = client.get("/org/sites")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    depths = dict(re.findall(r'data-testid="site-([A-Z-]+)" data-depth="(\d)"', html))
    assert depths == {"SEDE-CENTRAL": "0", "UT-CUSCO": "1", "OE-QUILLABAMBA": "2", "UT-PUNO": "1"}
    assert html.index("UT-CUSCO") < html.index("OE-QUILLABAMBA") < html.index("UT-PUNO"), "offices under their unit"
    assert ('data-testid="new-site"' in html) is (role in WRITERS)
    site = client.get(f"/org/sites/{tree['cusco']}").get_data(as_text=True)
    assert "Oficina de Enlace Quillabamba" in site and 'data-testid="site-children"' in site
    assert f'href="/documents/?site={tree["cusco"]}"' in site
    assert ('data-testid="edit-site"' in site) is (role in WRITERS)
    processes = client.get("/org/processes")
    assert processes.status_code == 200
    body = processes.get_data(as_text=True)
    for category, code in (("strategic", "PE-01"), ("operational", "PO-01"), ("support", "PS-01")):
        section = body.split(f'data-testid="processes-{category}"')[1].split("</section>")[0]
        assert f'data-testid="process-{code}"' in section


@pytest.mark.parametrize("role", ROLES)
def test_only_admins_and_quality_officers_open_the_forms(app, client, login_as, tree, role):
    login_as(role)
    expected = 200 if role in WRITERS else 403
    for url in ("/org/sites/new", f"/org/sites/{tree['cusco']}/edit", "/org/processes/new",
                f"/org/processes/{tree['process']}/edit"):
        assert client.get(url).status_code == expected, url


@pytest.mark.parametrize("role", ["compliance_officer", "auditor"])
def test_refused_writes_change_nothing(app, client, login_as, tree, role):
    login_as(role)
    before = _count(app)
    posts = {"/org/sites/new": _site_form(parent_id=tree["cusco"]),
             f"/org/sites/{tree['cusco']}/edit": _site_form(code="UT-CUSCO", parent_id=tree["head"]),
             "/org/processes/new": {"code": "PO-09", "name_es": "Nuevo", "category": "operational", "owner_id": "0"},
             f"/org/processes/{tree['process']}/edit": {"code": "PO-01", "name_es": "Cambiado",
                                                         "category": "support", "owner_id": "0"}}
    for url, data in posts.items():
        resp = client.post_form(url, data, page="/org/sites")
        assert resp.status_code == 403, url
        assert "Nothing was changed" in resp.get_data(as_text=True)
    assert _count(app) == before


def test_unknown_ids_answer_404(app, client, login_as, tree):
    login_as("quality_officer")
    for url in ("/org/sites/999999", "/org/sites/999999/edit", "/org/processes/999999/edit"):
        assert client.get(url).status_code == 404, url


def test_a_quality_officer_adds_an_office_and_the_trail_says_who_and_what(app, client, login_as, tree):
    rosa = login_as("quality_officer")
    form = client.get(f"/org/sites/new?parent={tree['cusco']}").get_data(as_text=True)
    assert re.search(rf'<option selected value="{tree["cusco"]}">', form), "the parent is preselected"
    resp = client.post_form("/org/sites/new", _site_form(parent_id=tree["cusco"], responsible_id=rosa.id),
                            page="/org/sites/new")
    assert resp.status_code == 302
    site_id = int(resp.location.rsplit("/", 1)[1])
    assert _site(app, site_id) == {"code": "OE-SICUANI", "name_es": "Oficina de Enlace Sicuani",
                                   "parent_id": tree["cusco"], "active": True, "responsible_id": rosa.id,
                                   "region": "Cusco"}
    [event] = audit_events(app, "site.create")[-1:]
    assert event["actor_id"] == rosa.id and event["object_id"] == str(site_id)
    assert event["new"]["code"] == "OE-SICUANI" and event["new"]["parent_id"] == tree["cusco"]
    assert "Site OE-SICUANI created." in client.get(resp.location).get_data(as_text=True)


def test_editing_records_only_what_changed_before_and_after(app, client, login_as, tree):
    rosa = login_as("quality_officer")
    resp = client.post_form(f"/org/sites/{tree['office']}/edit",
                            _site_form(code="OE-QUILLABAMBA", name_es="Oficina Quillabamba", parent_id=tree["puno"],
                                       region="Cusco", address="", active=""), page="/org/sites")
    assert resp.status_code == 302
    assert _site(app, tree["office"])["active"] is False
    [event] = audit_events(app, "site.update")
    assert event["actor_id"] == rosa.id
    assert set(event["old"]) == {"name_es", "parent_id", "active"}
    assert event["old"]["parent_id"] == tree["cusco"] and event["new"]["parent_id"] == tree["puno"]
    assert event["new"]["active"] is False and event["new"]["name_es"] == "Oficina Quillabamba"
    again = client.post_form(f"/org/sites/{tree['office']}/edit",
                             _site_form(code="OE-QUILLABAMBA", name_es="Oficina Quillabamba", parent_id=tree["puno"],
                                        region="Cusco", address="Jr. Dos de Mayo 120, Sicuani", active=""),
                             page="/org/sites")
    assert again.status_code == 302
    assert len(audit_events(app, "site.update")) == 2


@pytest.mark.parametrize(("fields", "message"), [
    ({"code": "bad code!"}, "Use letters, digits"),
    ({"code": "ut-cusco"}, "Another site already has the code ut-cusco."),
    ({"name_es": ""}, "This field is required."),
    ({"name_es": "Sede\u202eexe"}, "Contains control characters"),
    ({"parent_id": "0"}, "Not a valid choice"),  # a second central function is not even offered
    ({"responsible_id": "AUDITOR"}, "Not a valid choice"),  # nor an external auditor
    ({"region": "R" * 101}, "Field cannot be longer than 100 characters."),
])
def test_bad_input_is_shown_at_the_field_and_nothing_is_written(app, client, login_as, make_user, tree, fields,
                                                               message):
    auditor = make_user("auditor")
    login_as("quality_officer")
    fields = {k: (auditor.id if v == "AUDITOR" else v) for k, v in fields.items()}
    before = _count(app)
    resp = client.post_form("/org/sites/new", _site_form(**{"parent_id": tree["cusco"], **fields}),
                            page="/org/sites/new")
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert re.search(r'class="invalid-feedback d-block">[^<]*' + re.escape(message), html), html[-3000:]
    assert _count(app) == before


def test_the_central_function_stays_active_and_at_the_top(app, client, login_as, tree):
    login_as("admin")
    resp = client.post_form(f"/org/sites/{tree['head']}/edit",
                            _site_form(code="SEDE-CENTRAL", name_es="Sede Central (Lima)", active=""),
                            page="/org/sites")
    assert resp.status_code == 400
    assert "The central function cannot be deactivated." in resp.get_data(as_text=True)
    form = client.get(f"/org/sites/{tree['head']}/edit").get_data(as_text=True)
    parent_select = form.split('id="parent_id"')[1].split("</select>")[0]
    assert parent_select.count("<option") == 1, "the central function cannot be placed under another site"
    cusco_form = client.get(f"/org/sites/{tree['cusco']}/edit").get_data(as_text=True)
    cusco_parents = cusco_form.split('id="parent_id"')[1].split("</select>")[0]
    assert "OE-QUILLABAMBA" not in cusco_parents and "UT-CUSCO" not in cusco_parents, "no loop is offered"
    assert _site(app, tree["head"])["active"] is True


def test_the_services_refuse_loops_and_a_second_central_function(app, tree):
    with app.app_context():
        cusco = db.session.get(Site, tree["cusco"])
        head = db.session.get(Site, tree["head"])
        cases = [(lambda: svc.update_site(cusco, svc.SiteData(code="UT-CUSCO", name_es="Cusco",
                                                              parent_id=tree["office"])), "parent_id",
                  "cannot be placed under itself or one of its own offices"),
                 (lambda: svc.create_site(svc.SiteData(code="SEDE-2", name_es="Otra sede")), "parent_id",
                  "SEDE-CENTRAL is already the central function"),
                 (lambda: svc.update_site(head, svc.SiteData(code="SEDE-CENTRAL", name_es="Sede",
                                                             parent_id=tree["cusco"])), "parent_id",
                  "cannot be placed under another site"),
                 (lambda: svc.create_process(svc.ProcessData(code="PO-02", name_es="X", category="tactical")),
                  "category", "strategic, operational or support")]
        for action, field, text in cases:
            with pytest.raises(svc.FieldErrors) as refused:
                action()
            assert text in str(refused.value.errors[field][0])
        db.session.rollback()
        db.session.remove()


def test_names_are_escaped(app, client, login_as, tree):
    login_as("quality_officer")
    resp = client.post_form("/org/sites/new", _site_form(name_es="<script>alert(1)</script>", parent_id=tree["head"]),
                            page="/org/sites/new")
    assert resp.status_code == 302
    html = client.get("/org/sites").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_the_site_page_shows_what_is_known_today(app, client, login_as, tree):
    login_as("auditor")
    html = client.get(f"/org/sites/{tree['office']}").get_data(as_text=True)
    coverage = re.search(r'data-testid="coverage">(\d+) of (\d+) clauses<', html)
    assert coverage and int(coverage[1]) == 0 and int(coverage[2]) > 0
    assert re.search(r'data-testid="gaps">\d+ clauses without evidence in force<', html)
    assert 'data-testid="last-audited">Not audited yet<' in html
    assert 'data-testid="open-ncs">0<' in html  # counted since issue 11


def test_processes_are_created_and_changed_with_their_owner(app, client, login_as, make_user, tree):
    owner = make_user("compliance_officer")
    rosa = login_as("quality_officer")
    resp = client.post_form("/org/processes/new", {"code": "PE-03", "name_es": "Gestión antisoborno",
                                                   "name_en": "Anti-bribery management", "category": "strategic",
                                                   "owner_id": owner.id, "active": "y"}, page="/org/processes/new")
    assert resp.status_code == 302
    [created] = [e for e in audit_events(app, "process.create") if e["new"]["code"] == "PE-03"]
    assert created["actor_id"] == rosa.id and created["new"]["owner_id"] == owner.id
    bad = client.post_form(f"/org/processes/{tree['process']}/edit",
                           {"code": "pe-03", "name_es": "Visitas", "category": "operational", "owner_id": "0",
                            "active": "y"}, page="/org/processes")
    assert bad.status_code == 400
    assert "Another process already has the code pe-03." in bad.get_data(as_text=True)
    ok = client.post_form(f"/org/processes/{tree['process']}/edit",
                          {"code": "PO-01", "name_es": "Visitas domiciliarias", "category": "operational",
                           "owner_id": owner.id}, page="/org/processes")
    assert ok.status_code == 302
    [update] = audit_events(app, "process.update")
    assert update["old"] == {"owner_id": None, "active": True} and update["new"] == {"owner_id": owner.id,
                                                                                      "active": False}
    body = client.get("/org/processes").get_data(as_text=True)
    strategic = body.split('data-testid="processes-strategic"')[1].split("</section>")[0]
    assert "Anti-bribery management" in strategic and "(Gestión antisoborno)" in strategic
    assert 'data-testid="process-PO-01"' in body.split('data-testid="processes-operational"')[1]


def test_pages_in_spanish(app, client, login_as, tree):
    login_as("quality_officer")
    client.post_form("/lang", {"lang": "es"}, page="/")
    html = client.get("/org/sites").get_data(as_text=True)
    assert "Sedes" in html and "Nueva sede" in html and "Función central" in html
    assert "Mapa de procesos" in client.get("/org/processes").get_data(as_text=True)


def test_demo_organisation_is_believable_and_idempotent(app, runner):
    assert runner.invoke(args=["demo-data"]).exit_code == 0
    with app.app_context():
        sites = {s.code: s for s in db.session.scalars(select(Site))}
        assert len(sites) == 20
        assert sites["SEDE-CENTRAL"].parent_id is None and sites["SEDE-CENTRAL"].name_es == "Sede Central (Lima)"
        assert sites["UT-ANCASH"].name_es == "Unidad Territorial Áncash"
        assert sites["UT-SAN-MARTIN"].region == "San Martín"
        assert all(s.parent_id == sites["SEDE-CENTRAL"].id for c, s in sites.items() if c != "SEDE-CENTRAL")
        assert all(s.responsible_id for s in sites.values())
        categories = {p.category for p in db.session.scalars(select(Process))}
        assert categories == {"strategic", "operational", "support"}
        names = {p.name_es for p in db.session.scalars(select(Process))}
        assert {"Visitas domiciliarias", "Gestión comunal", "Gestión antisoborno", "Compras y abastecimiento",
                "Recursos humanos"} <= names
        db.session.remove()
    before = _count(app)
    assert runner.invoke(args=["demo-data", "--force"]).exit_code == 0
    after = _count(app)
    assert after[:2] == before[:2], "a re-run adds no site or process"
    assert len(audit_events(app, "site.create")) == 20
