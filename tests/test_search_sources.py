"""Search over real rows: documents found by their extracted text in Spanish and English, drafts and restricted
documents kept from those who may not see them (hits, totals and facets), records found by their references."""

from __future__ import annotations

from ddg_support import NEW_GIFT, gift_form, login, new_id
from extract_support import pdf_with
from records_support import raise_nc
from risks_support import approve as approve_risk
from risks_support import new_exercise, new_risk
from search_app_support import find, keys
from support import approve, browser, new_document

from auditdocs.extensions import db
from auditdocs.models import Document


def _version_id(app, doc_id):
    with app.app_context():
        vid = db.session.get(Document, doc_id).versions[0].id
        db.session.remove()
        return vid


def test_an_approved_document_is_found_by_its_text_in_spanish_and_english(app, make_user, runner):
    rosa, quique = make_user("quality_officer"), make_user("quality_officer")
    aurora = make_user("auditor")
    c = browser(app, rosa)
    es = new_document(c, rosa.id, code="PR-CAL-010", title="Tratamiento de hallazgos",
                      content=pdf_with("Las acciones correctivas se registran en el sistema de gestión."))
    en = new_document(c, rosa.id, code="PR-ENG-020", title="Supplier review", language="en",
                      content=pdf_with("Internal audits verify every supplier contract."))
    checker = browser(app, quique)
    for doc_id in (es, en):
        assert approve(checker, doc_id, 1).status_code == 302
    assert find(app, aurora.id, "acción correctiva").total == 0  # the text is not read yet: metadata only
    assert runner.invoke(args=["index", "--pending"]).exit_code == 0

    spanish = find(app, aurora.id, "accion correctiva")  # no accent, singular: folding and the Spanish stemmer
    assert keys(spanish) == {f"version:{_version_id(app, es)}"}
    assert spanish.hits[0].text_state == "ok" and "<mark>" in spanish.hits[0].snippet_html
    english = find(app, aurora.id, "audit suppliers")  # singular/plural both ways: the English stemmer
    assert keys(english) == {f"version:{_version_id(app, en)}"}
    assert keys(find(app, aurora.id, "PR-CAL-010")) == keys(spanish)  # the exact code


def test_drafts_are_invisible_to_auditors_and_behind_a_filter_for_staff(app, make_user):
    rosa, luis, aurora = make_user("quality_officer"), make_user("compliance_officer"), make_user("auditor")
    doc_id = new_document(browser(app, rosa), rosa.id, code="PR-DRF-001", title="Borrador de cuaderno de obra")
    assert find(app, luis.id, "cuaderno").total == 0  # not in force: hidden by default
    assert find(app, luis.id, "cuaderno", include_all_versions=True).total == 1
    assert find(app, aurora.id, "cuaderno", include_all_versions=True).total == 0
    assert find(app, aurora.id, "", include_all_versions=True).total == 0  # not even by browsing
    assert approve(browser(app, luis), doc_id, 1).status_code == 403  # compliance officers do not approve
    assert find(app, None, "cuaderno", include_all_versions=True).total == 1


def test_a_restricted_document_is_hidden_from_hits_totals_and_facets(app, make_user):
    rosa, luis = make_user("quality_officer"), make_user("compliance_officer")
    ada, aurora = make_user("admin"), make_user("auditor")
    c = browser(app, rosa)
    secret = new_document(c, rosa.id, code="PR-RES-001", title="Investigación de denuncia confidencial",
                          confidentiality="restricted")
    public = new_document(c, rosa.id, code="PR-PUB-001", title="Investigación de quejas")
    boss = browser(app, ada)
    for doc_id in (secret, public):
        assert approve(boss, doc_id, 1).status_code == 302

    for reader in (luis.id, aurora.id):
        seen = find(app, reader, "investigacion")
        assert keys(seen) == {f"version:{_version_id(app, public)}"}
        assert seen.total == 1 and dict(seen.facets["kind"]) == {"version": 1}
        assert find(app, reader, "PR-RES-001").total == 0
        assert find(app, reader, "confidencial", include_all_versions=True).total == 0
    assert find(app, rosa.id, "investigacion").total == 2  # the owner
    assert find(app, ada.id, "investigacion").total == 2  # administrators see everything


def test_records_are_found_by_reference_and_unapproved_risks_only_by_staff(app, make_user, client):
    luis, cesar = make_user("compliance_officer"), make_user("compliance_officer")
    aurora = make_user("auditor")
    nc_id = raise_nc(app, luis.id, title="Obsequio no registrado en la UT Cusco")
    ex = new_exercise(app, luis.id)
    approved = new_risk(app, luis.id, ex, title="Pago indebido a inspector")
    pending = new_risk(app, luis.id, ex, title="Soborno en licitaciones de obra")
    approve_risk(app, cesar.id, approved)
    login(client, luis)
    gift_id = new_id(client.post_form(NEW_GIFT, gift_form(app, description="Canasta con vinos"), page=NEW_GIFT))

    nc_hits = find(app, aurora.id, "NC-2026-0001")
    assert keys(nc_hits) == {f"nonconformity:{nc_id}"}
    assert keys(find(app, aurora.id, "BR-0001")) == {f"bribery_risk:{approved}"}
    assert find(app, aurora.id, "BR-0002").total == 0  # never approved: not for auditors
    assert keys(find(app, luis.id, "BR-0002")) == {f"bribery_risk:{pending}"}
    gifts = find(app, aurora.id, "vinos", kinds=frozenset({"gift"}))
    assert keys(gifts) == {f"gift:{gift_id}"}
    assert keys(find(app, aurora.id, gifts.hits[0].title.split()[0])) == {f"gift:{gift_id}"}
