"""Documents carry the sites and processes they concern; the register, the clause pages and the gap view filter by them.

The organisation here: the head office, the Cusco regional unit with its Sicuani office, the Puno regional unit and a
closed unit; home visits (operational), procurement (support) and quality management (strategic), and a retired
process. Sites and processes are written as rows: this module is about where documents belong, not about the
organisation pages.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, select, update
from support import audit_events, bulk_documents, create_document, new_document, pdf, seed_document, write

from auditdocs.db import write_transaction
from auditdocs.extensions import db
from auditdocs.models import Clause, Document, Process, Site, Standard, User
from auditdocs.services import documents as svc

ROW = re.compile(r'<td class="text-nowrap"><a href="/documents/\d+">([^<]+)</a>')


def build_org(app: Any) -> dict[str, int]:
    """The sites and processes of these tests, by short name -> id."""
    with app.app_context(), write_transaction():
        central = Site(code="SEDE-CENTRAL", name_es="Sede Central (Lima)", region="Lima")
        db.session.add(central)
        db.session.flush()
        cusco = Site(code="UT-CUSCO", name_es="Unidad Territorial Cusco", name_en="Cusco regional unit",
                     region="Cusco", parent_id=central.id)
        puno = Site(code="UT-PUNO", name_es="Unidad Territorial Puno", region="Puno", parent_id=central.id)
        closed = Site(code="UT-CERRADA", name_es="Unidad Territorial Cerrada", parent_id=central.id, active=False)
        db.session.add_all([cusco, puno, closed])
        db.session.flush()
        sicuani = Site(code="OF-SICUANI", name_es="Oficina Sicuani", region="Cusco", parent_id=cusco.id)
        visits = Process(code="PO-01", name_es="Visitas domiciliarias", name_en="Home visits", category="operational")
        buying = Process(code="PS-01", name_es="Abastecimiento", name_en="Procurement", category="support")
        quality = Process(code="PE-01", name_es="Gestión de la calidad", category="strategic")
        retired = Process(code="PS-09", name_es="Archivo central", category="support", active=False)
        db.session.add_all([sicuani, visits, buying, quality, retired])
        db.session.flush()
        ids = {"central": central.id, "cusco": cusco.id, "puno": puno.id, "closed": closed.id,
               "sicuani": sicuani.id, "visits": visits.id, "buying": buying.id, "quality": quality.id,
               "retired": retired.id}
    with app.app_context():
        db.session.remove()
    return ids


def text_of(resp: Any) -> str:
    return html.unescape(resp.get_data(as_text=True))


def placement_of(app: Any, doc_id: int) -> tuple[list[str], list[str]]:
    with app.app_context():
        doc = db.session.get(Document, doc_id)
        found = ([s.code for s in doc.sites], [p.code for p in doc.processes])
        db.session.remove()
    return found


def document_count(app: Any) -> int:
    with app.app_context():
        n = db.session.scalar(select(func.count(Document.id)))
        db.session.remove()
    return int(n or 0)


def clause_id(app: Any, slug: str, number: str) -> int:
    with app.app_context():
        found = db.session.scalar(select(Clause.id).join(Standard).where(Standard.slug == slug,
                                                                         Clause.number == number))
        db.session.remove()
    return int(found)


def edit_fields(client: Any, doc_id: int) -> dict[str, Any]:
    """The edit form as the page fills it (placement aside): what a person leaves untouched."""
    page = client.get(f"/documents/{doc_id}/edit").get_data(as_text=True)
    data: dict[str, Any] = {}
    for name in ("title", "review_interval_months", "retention_years"):
        found = re.search(rf'name="{name}"[^>]*value="([^"]*)"', page) or re.search(
            rf'value="([^"]*)"[^>]*name="{name}"', page)
        data[name] = html.unescape(found.group(1)) if found else ""
    for name in ("kind", "language", "confidentiality", "owner_id"):
        select_html = re.search(rf'<select[^>]*name="{name}".*?</select>', page, re.S)
        if select_html:
            data[name] = re.search(r'<option selected value="([^"]*)"|<option value="([^"]*)" selected',
                                   select_html.group(0)).group(1)
    data["description"] = ""
    return data


def codes_listed(client: Any, url: str) -> list[str]:
    return sorted(ROW.findall(client.get(url).get_data(as_text=True)))


# -- the forms ----------------------------------------------------------------------------------------------------


def test_the_new_document_form_offers_active_sites_as_a_tree_and_processes_by_category(app, client, login_as):
    ids = build_org(app)
    login_as("quality_officer")
    page = text_of(client.get("/documents/new"))
    sites = page.split('data-testid="placement-sites"')[1].split("</fieldset>")[0]
    assert "Tick none for the whole organisation." in sites
    order = re.findall(r'class="form-check (ms-\d)">\s*<input[^>]*name="sites" value="(\d+)"', sites)
    blocks = re.findall(r'<div class="(col-12|col-sm-6 col-xl-4)">', sites)
    assert blocks == ["col-12", "col-sm-6 col-xl-4", "col-sm-6 col-xl-4"]
    # The head office on its own row, each regional unit heading a block with its offices indented under it.
    assert order == [("ms-0", str(ids["central"])), ("ms-0", str(ids["cusco"])), ("ms-3", str(ids["sicuani"])),
                     ("ms-0", str(ids["puno"]))]  # the closed unit is not offered
    processes = page.split('data-testid="placement-processes"')[1].split("</fieldset>")[0]
    headings = re.findall(r'fw-semibold text-muted">([^<]+)<', processes)
    assert headings == ["Strategic processes", "Operational processes", "Support processes"]
    assert "Home visits" in processes and "PS-09" not in processes


def test_placement_at_registration_is_kept_audited_and_shown(app, client, login_as):
    ids = build_org(app)
    rosa = login_as("quality_officer")
    doc_id = new_document(client, rosa.id, code="PR-SAF-003", title="Visitas domiciliarias",
                          sites=[str(ids["cusco"]), str(ids["sicuani"])], processes=[str(ids["visits"])])
    assert placement_of(app, doc_id) == (["OF-SICUANI", "UT-CUSCO"], ["PO-01"])
    [created] = audit_events(app, "document.create")
    assert created["new"]["sites"] == ["OF-SICUANI", "UT-CUSCO"] and created["new"]["processes"] == ["PO-01"]

    page = text_of(client.get(f"/documents/{doc_id}"))
    shown = page.split('data-testid="doc-placement"')[1].split("</div>")[0]
    assert f'href="/org/sites/{ids["cusco"]}">Cusco regional unit</a>' in shown  # English name in English
    assert f'href="/org/sites/{ids["sicuani"]}">Oficina Sicuani</a>' in shown  # no English name: the Spanish one
    assert 'href="/org/processes' in shown and "Home visits" in shown
    assert "Whole organisation" not in shown


def test_nothing_ticked_means_the_whole_organisation(app, client, login_as):
    build_org(app)
    rosa = login_as("quality_officer")
    doc_id = new_document(client, rosa.id, code="PO-SIG-001")
    assert placement_of(app, doc_id) == ([], [])
    assert audit_events(app, "document.create")[0]["new"]["sites"] == []
    assert "Whole organisation" in text_of(client.get(f"/documents/{doc_id}")).split('data-testid="doc-placement"')[1]
    client.post_form("/lang", {"lang": "es", "next": "/"})
    page = text_of(client.get(f"/documents/{doc_id}"))
    assert "Toda la organización" in page.split('data-testid="doc-placement"')[1]


def test_editing_the_placement_is_audited_with_before_and_after(app, client, login_as):
    ids = build_org(app)
    rosa = login_as("quality_officer")
    doc_id = new_document(client, rosa.id, sites=[str(ids["cusco"])], processes=[str(ids["visits"])])
    form = edit_fields(client, doc_id)
    page = client.get(f"/documents/{doc_id}/edit").get_data(as_text=True)
    assert re.search(rf'name="sites" value="{ids["cusco"]}"[^>]*checked', page)  # the current placement ticked

    resp = client.post_form(f"/documents/{doc_id}/edit", {**form, "sites": [str(ids["puno"]), str(ids["sicuani"])],
                                                          "processes": [str(ids["visits"]), str(ids["buying"])]},
                            page=f"/documents/{doc_id}/edit")
    assert resp.status_code == 302, text_of(resp)[:2000]
    assert placement_of(app, doc_id) == (["OF-SICUANI", "UT-PUNO"], ["PO-01", "PS-01"])
    [event] = audit_events(app, "document.update")
    assert event["old"] == {"sites": ["UT-CUSCO"], "processes": ["PO-01"]}
    assert event["new"] == {"sites": ["OF-SICUANI", "UT-PUNO"], "processes": ["PO-01", "PS-01"]}

    resp = client.post_form(f"/documents/{doc_id}/edit", form, page=f"/documents/{doc_id}/edit")  # untick all
    assert resp.status_code == 302
    assert placement_of(app, doc_id) == ([], [])
    assert audit_events(app, "document.update")[-1]["new"] == {"sites": [], "processes": []}
    resp = client.post_form(f"/documents/{doc_id}/edit", form, page=f"/documents/{doc_id}/edit")
    assert len(audit_events(app, "document.update")) == 2  # saving without a change records nothing


def test_an_inactive_site_keeps_its_documents_but_takes_no_new_ones(app, client, login_as):
    ids = build_org(app)
    rosa = login_as("quality_officer")
    doc_id = new_document(client, rosa.id, sites=[str(ids["puno"])], processes=[str(ids["buying"])])
    with app.app_context(), write_transaction():
        db.session.execute(update(Site).where(Site.id == ids["puno"]).values(active=False))
        db.session.execute(update(Process).where(Process.id == ids["buying"]).values(active=False))
    form = edit_fields(client, doc_id)
    page = text_of(client.get(f"/documents/{doc_id}/edit"))
    assert re.search(rf'name="sites" value="{ids["puno"]}"[^>]*checked', page) and "inactive" in page
    assert f'name="sites" value="{ids["closed"]}"' not in page

    keep = {**form, "sites": [str(ids["puno"]), str(ids["cusco"])], "processes": [str(ids["buying"])]}
    assert client.post_form(f"/documents/{doc_id}/edit", keep, page=f"/documents/{doc_id}/edit").status_code == 302
    assert placement_of(app, doc_id) == (["UT-CUSCO", "UT-PUNO"], ["PS-01"])

    before = document_count(app)
    resp = create_document(client, rosa.id, code="PR-NEW-001", sites=[str(ids["puno"])])
    assert resp.status_code == 400
    assert f"Unknown or inactive site ({ids['puno']}): tick sites from the list." in text_of(resp)
    assert document_count(app) == before


def test_unknown_or_malformed_ids_are_refused_at_the_field_and_nothing_is_written(app, client, login_as):
    ids = build_org(app)
    rosa = login_as("quality_officer")
    for sites, processes, message in (
        (["999999"], [], "Unknown or inactive site (999999)"),
        (["<b>x</b>"], [], "Unknown or inactive site (<b>x</b>)"),
        ([str(ids["cusco"])], [str(ids["retired"])], f"Unknown or inactive process ({ids['retired']})"),
        ([], ["-1", "99999999999999999999"], "Unknown or inactive process (-1, 99999999999999999999)"),
    ):
        resp = create_document(client, rosa.id, code="PR-BAD-001", sites=sites, processes=processes)
        assert resp.status_code == 400
        body = resp.get_data(as_text=True)
        assert "<b>x</b>" not in body  # escaped, never markup
        assert message in html.unescape(body)
        assert 'class="invalid-feedback d-block"' in body
    assert document_count(app) == 0
    assert audit_events(app, "document.create") == []

    doc_id = new_document(client, rosa.id, sites=[str(ids["cusco"])])
    form = edit_fields(client, doc_id)
    resp = client.post_form(f"/documents/{doc_id}/edit", {**form, "title": "Otro título", "sites": ["abc"]},
                            page=f"/documents/{doc_id}/edit")
    assert resp.status_code == 400 and "Unknown or inactive site (abc)" in text_of(resp)
    assert placement_of(app, doc_id) == (["UT-CUSCO"], [])
    assert audit_events(app, "document.update") == []  # the title did not change either


def test_who_may_change_a_placement(app, client, login_as, make_user):
    ids = build_org(app)
    rosa = make_user("quality_officer")
    doc_id = seed_document(app, rosa.id, write(Path(app.config["DATA_DIR"]) / "a.pdf", pdf("a")), code="PR-A-001",
                           approver_id=make_user("admin").id, sites=[ids["cusco"]])
    login_as("auditor")
    resp = client.post_form(f"/documents/{doc_id}/edit", {"title": "x", "sites": [str(ids["puno"])]}, page="/")
    assert resp.status_code == 403
    page = client.get(f"/documents/{doc_id}").get_data(as_text=True)
    assert "Cusco regional unit" in page and f"/documents/{doc_id}/edit" not in page  # shown, not editable
    client.post_form("/logout", {}, page="/")
    login_as("compliance_officer")  # may register documents, but edits only their own
    resp = client.post_form(f"/documents/{doc_id}/edit", {"title": "x", "sites": [str(ids["puno"])]}, page="/")
    assert resp.status_code == 403
    assert placement_of(app, doc_id) == (["UT-CUSCO"], [])
    assert audit_events(app, "document.update") == []


# -- the register -------------------------------------------------------------------------------------------------


def _register_corpus(app: Any, client: Any, owner_id: int, ids: dict[str, int]) -> None:
    for code, sites, processes, kind in (
        ("DOC-CUSCO", ["cusco"], ["visits"], "procedure"),
        ("DOC-SICUANI", ["sicuani"], ["buying"], "record"),
        ("DOC-PUNO", ["puno"], ["visits"], "procedure"),
        ("DOC-ORG", [], [], "policy"),
        ("DOC-VISITS", [], ["visits"], "procedure"),
        ("DOC-CENTRAL", ["central"], ["quality"], "record"),
    ):
        new_document(client, owner_id, code=code, kind=kind, sites=[str(ids[s]) for s in sites],
                     processes=[str(ids[p]) for p in processes])


def test_the_register_filters_by_site_including_sites_under_it_and_organisation_wide_documents(app, client,
                                                                                               login_as):
    ids = build_org(app)
    rosa = login_as("quality_officer")
    _register_corpus(app, client, rosa.id, ids)
    assert codes_listed(client, f"/documents/?site={ids['cusco']}") == [
        "DOC-CUSCO", "DOC-ORG", "DOC-SICUANI", "DOC-VISITS"]
    assert codes_listed(client, f"/documents/?site={ids['sicuani']}") == ["DOC-ORG", "DOC-SICUANI", "DOC-VISITS"]
    assert codes_listed(client, f"/documents/?site={ids['central']}") == [  # the head office: the whole tree
        "DOC-CENTRAL", "DOC-CUSCO", "DOC-ORG", "DOC-PUNO", "DOC-SICUANI", "DOC-VISITS"]
    assert codes_listed(client, f"/documents/?site={ids['closed']}") == ["DOC-ORG", "DOC-VISITS"]
    page = text_of(client.get(f"/documents/?site={ids['cusco']}"))
    assert "plus organisation-wide documents" in page
    assert re.search(rf'<option value="{ids["cusco"]}" selected>\s*Cusco regional unit', page)
    assert "Whole organisation" in page.split(">DOC-ORG<")[1].split("</tr>")[0]


def test_the_register_filters_by_process_and_combines_with_the_other_filters(app, client, login_as):
    ids = build_org(app)
    rosa = login_as("quality_officer")
    _register_corpus(app, client, rosa.id, ids)
    assert codes_listed(client, f"/documents/?process={ids['visits']}") == [
        "DOC-CUSCO", "DOC-ORG", "DOC-PUNO", "DOC-VISITS"]
    assert codes_listed(client, f"/documents/?process={ids['buying']}") == ["DOC-ORG", "DOC-SICUANI"]
    assert codes_listed(client, f"/documents/?site={ids['cusco']}&process={ids['visits']}") == [
        "DOC-CUSCO", "DOC-ORG", "DOC-VISITS"]
    assert codes_listed(client, f"/documents/?site={ids['cusco']}&process={ids['visits']}&kind=procedure") == [
        "DOC-CUSCO", "DOC-VISITS"]
    assert codes_listed(client, f"/documents/?site={ids['puno']}&q=puno") == ["DOC-PUNO"]
    assert codes_listed(client, f"/documents/?site={ids['puno']}&owner={rosa.id}&status=draft&sort=title") == [
        "DOC-ORG", "DOC-PUNO", "DOC-VISITS"]


def test_a_site_or_process_that_does_not_exist_is_ignored_with_a_message(app, client, login_as):
    ids = build_org(app)
    rosa = login_as("quality_officer")
    _register_corpus(app, client, rosa.id, ids)
    everything = codes_listed(client, "/documents/")
    for query in ("site=999999", "site=abc", "site=-3", "process=0", "process=99999999999999999999"):
        resp = client.get(f"/documents/?{query}")
        assert resp.status_code == 200
        assert codes_listed(client, f"/documents/?{query}") == everything
        notes = re.findall(r'data-testid="placement-note">([^<]+)<', text_of(resp))
        assert notes in (["There is no such site: the site filter was ignored."],
                         ["There is no such process: the process filter was ignored."]), query


def test_register_pages_keep_the_site_filter(app, client, login_as):
    ids = build_org(app)
    rosa = login_as("quality_officer")
    with app.app_context(), write_transaction():
        me = db.session.get(User, rosa.id)
        for n in range(30):
            svc.create_document(code=f"CUS-{n:03d}", title="Registro Cusco", kind="record", owner=me, actor=me,
                                sites=["UT-CUSCO"] if n % 2 == 0 else ["UT-PUNO"])
    seen, url = [], f"/documents/?site={ids['cusco']}&sort=code"
    while url:
        page = client.get(url).get_data(as_text=True)
        seen += ROW.findall(page)
        found = re.search(r'href="(/documents/\?[^"]*)" rel="next"', page)
        url = html.unescape(found.group(1)) if found else ""
        if url:
            assert f"site={ids['cusco']}" in url
    assert seen == [f"CUS-{n:03d}" for n in range(0, 30, 2)]  # one page here: 15 rows, then no next link
    page = text_of(client.get(f"/documents/?site={ids['cusco']}"))
    assert "15 documents" in page


# -- the clause page and the gap view -----------------------------------------------------------------------------


def _approved(app: Any, owner: Any, approver: Any, code: str, clauses: list[str], **placement: Any) -> int:
    path = write(Path(app.config["DATA_DIR"]) / f"{code}.pdf", pdf(code))
    return seed_document(app, owner.id, path, code=code, approver_id=approver.id, clauses=clauses, **placement)


def test_the_clause_page_filters_its_lists_and_carries_the_filter_to_the_register(app, client, login_as, make_user):
    ids = build_org(app)
    approver = make_user("admin")
    rosa = login_as("quality_officer")
    _approved(app, rosa, approver, "REG-PUNO", ["ISO 9001:2015 7.5.1"], sites=["UT-PUNO"])
    _approved(app, rosa, approver, "REG-CUSCO", ["ISO 9001:2015 7.5.1"], sites=["UT-CUSCO"], processes=["PO-01"])
    whole = text_of(client.get("/clauses/iso9001_2015/7.5.1"))
    assert "REG-PUNO" in whole and "REG-CUSCO" in whole and 'data-testid="clause-gap"' not in whole

    cusco = text_of(client.get(f"/clauses/iso9001_2015/7.5.1?site={ids['cusco']}"))
    listed = cusco.split('data-testid="clause-documents"')[1]
    assert "REG-CUSCO" in listed and "REG-PUNO" not in listed
    assert 'data-testid="clause-gap"' not in cusco
    link = re.search(r'href="([^"]*)" data-testid="clause-register"', cusco).group(1)
    assert f"site={ids['cusco']}" in link and f"clause={clause_id(app, 'iso9001_2015', '7.5.1')}" in link
    assert codes_listed(client, link) == ["REG-CUSCO"]

    bought = text_of(client.get(f"/clauses/iso9001_2015/7.5.1?site={ids['cusco']}&process={ids['buying']}"))
    assert "REG-CUSCO" not in bought.split('data-testid="clause-documents"')[1]
    assert 'data-testid="clause-gap"' in bought  # nothing in force counts for Cusco's procurement
    assert "for the chosen site or process" in bought
    assert 'data-testid="placement-note"' in text_of(client.get("/clauses/iso9001_2015/7.5.1?site=424242"))


def _gaps(client: Any, query: str = "") -> int:
    page = client.get(f"/{query}").get_data(as_text=True)
    return int(re.search(r'data-testid="gaps-iso9001_2015">(\d+)<', page).group(1))


def test_the_gap_view_counts_only_the_evidence_that_concerns_the_site_and_process(app, client, login_as, make_user):
    ids = build_org(app)
    approver = make_user("admin")
    rosa = login_as("quality_officer")
    baseline = _gaps(client)
    _approved(app, rosa, approver, "EV-PUNO", ["ISO 9001:2015 4.3"], sites=["UT-PUNO"], processes=["PO-01"])
    _approved(app, rosa, approver, "EV-CUSCO", ["ISO 9001:2015 7.2"], sites=["UT-CUSCO"])
    _approved(app, rosa, approver, "EV-ORG", ["ISO 9001:2015 8.6"])
    assert _gaps(client) == baseline - 3  # every clause covered somewhere
    assert _gaps(client, f"?site={ids['puno']}") == baseline - 2  # Cusco's evidence does not count for Puno
    assert _gaps(client, f"?site={ids['cusco']}") == baseline - 2
    assert _gaps(client, f"?site={ids['sicuani']}") == baseline - 2  # its regional unit's evidence counts
    assert _gaps(client, f"?site={ids['central']}") == baseline - 1  # only organisation-wide evidence
    assert _gaps(client, f"?process={ids['buying']}") == baseline - 2  # EV-PUNO is home visits only
    assert _gaps(client, f"?site={ids['puno']}&process={ids['visits']}") == baseline - 2

    page = text_of(client.get(f"/?site={ids['central']}"))
    assert 'data-testid="gap-filter-active"' in page
    link = re.search(r'href="(/clauses/iso9001_2015/4\.3[?"][^"]*)"', page).group(1)
    assert f"site={ids['central']}" in link  # the clause page opens on the same site
    assert 'data-testid="clause-gap"' in text_of(client.get(link))
    assert _gaps(client, "?site=999999") == baseline - 3  # ignored, and said so
    assert 'data-testid="placement-note"' in client.get("/?site=999999").get_data(as_text=True)


# -- bounded pages and the demo -----------------------------------------------------------------------------------


def test_filtered_pages_bind_no_parameter_per_document(app, client, login_as, make_user):
    ids = build_org(app)
    owner = make_user("quality_officer")
    clause_75 = clause_id(app, "iso9001_2015", "7.5")
    bulk_documents(app, owner.id, clause_75, 2_000)  # organisation-wide: they match every site filter
    sizes: list[int] = []

    def seen(_conn: Any, _cursor: Any, _statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        sizes.append(len(parameters) if parameters else 0)

    login_as("admin")
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        pages = [client.get(url) for url in (
            f"/documents/?site={ids['cusco']}", f"/documents/?site={ids['central']}&process={ids['visits']}&last=1",
            f"/documents/?clause={clause_75}&site={ids['cusco']}&sort=title",
            f"/clauses/iso9001_2015/7.5?site={ids['cusco']}&process={ids['visits']}", f"/?site={ids['sicuani']}")]
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert [p.status_code for p in pages] == [200] * 5
    assert sizes and max(sizes) <= 200, max(sizes)
    body = pages[0].get_data(as_text=True)
    assert "More than 1,000 documents" in body, re.search(r"register-count.{0,200}", body, re.S).group(0)


def test_the_demo_places_regional_records_at_their_units(app, runner, client, login_as):
    assert runner.invoke(args=["demo-data"]).exit_code == 0
    login_as("admin")
    with app.app_context():
        cusco = db.session.scalar(select(Site.id).where(Site.code == "UT-CUSCO"))
        visits = db.session.scalar(select(Process.id).where(Process.code == "PO-01"))
        db.session.remove()
    listed = codes_listed(client, f"/documents/?site={cusco}")
    assert {"RG-SAF-108", "RG-QA-020", "PO-SIG-001"} <= set(listed)
    assert "RG-SAF-121" not in listed and "RG-ABS-031" not in listed
    assert "PR-ABS-002" not in codes_listed(client, f"/documents/?process={visits}")  # procurement's procedure
