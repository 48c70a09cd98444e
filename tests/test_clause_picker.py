"""The clause picker through HTTP: the three forms render both standards as a tree of real checkboxes (so they work
without JavaScript) with the current mapping ticked, post the same fields as before, and refuse unknown clauses."""

from __future__ import annotations

import html
import re
from typing import Any

from sqlalchemy import func, select
from support import create_document, new_document

from auditdocs.extensions import db
from auditdocs.models import AuditEvent, Clause, Document, Standard

BOX = re.compile(r'<input class="form-check-input cp-box" type="checkbox" name="(\w+)" value="(\d+)" id="[\w-]+"\s*'
                 r'data-ref="([^"]+)"\s*(checked)?')


def page_of(resp: Any) -> str:
    return html.unescape(resp.get_data(as_text=True))


def boxes(body: str, name: str) -> dict[str, bool]:
    """Every picker checkbox of the field: ref -> ticked."""
    return {ref: bool(ticked) for n, _value, ref, ticked in BOX.findall(body) if n == name}


def ids(app: Any) -> dict[str, int]:
    with app.app_context():
        rows = db.session.execute(select(Clause.id, Standard.code, Clause.number).join(Standard)).all()
        db.session.remove()
    return {f"{code} {number}": cid for cid, code, number in rows}


def mapped(app: Any, code: str) -> list[str]:
    with app.app_context():
        doc = db.session.scalar(select(Document).where(Document.code == code))
        refs = sorted(c.ref for c in doc.clauses)
        db.session.remove()
    return refs


def mapping_events(app: Any) -> int:
    with app.app_context():
        n = db.session.scalar(select(func.count()).select_from(AuditEvent)
                              .where(AuditEvent.action == "document.clauses"))
        db.session.remove()
    return int(n or 0)


def test_the_new_document_form_offers_both_standards_as_a_tree_of_checkboxes(app, client, login_as):
    login_as("quality_officer")
    catalogue = ids(app)
    body = page_of(client.get("/documents/new"))
    offered = boxes(body, "clauses")
    assert set(offered) == set(catalogue), "every clause of both standards is offered, once"
    assert not any(offered.values())
    assert '<select' not in body.split('data-clause-picker')[1].split("</fieldset>\n<script")[0]
    # Grouped by standard and by clause: 8.5's sub-clauses sit in the list under it, not beside it.
    under = body.split(f'id="clauses-{catalogue["ISO 9001:2015 8.5"]}-sub"')[1].split("</ul>")[0]
    assert "ISO 9001:2015 8.5.1" in under and "ISO 9001:2015 8.5.6" in under and "ISO 9001:2015 8.6" not in under
    assert body.index('data-cp-standard="ISO 9001:2015"') < body.index('data-cp-standard="ISO 37001:2016"')
    # Each box has its own label; the script and its styles come from files (strict CSP).
    assert f'<label class="cp-label" for="clauses-{catalogue["ISO 37001:2016 8.7"]}">' in body
    assert 'src="/static/app/clause-picker.js"' in body and 'href="/static/app/clause-picker.css"' in body
    # The search tools are for the script to show; without it the tree alone works.
    assert re.search(r'<div class="cp-tools" data-cp-tools hidden>', body)


def test_titles_follow_the_language_and_the_other_language_is_searchable(app, client, login_as):
    login_as("quality_officer")
    client.post_form("/lang", {"lang": "es"}, page="/")
    body = page_of(client.get("/documents/new"))
    assert "Producción y provisión del servicio" in body
    assert 'data-alt="Production and service provision"' in body
    assert "Buscar una cláusula por número o por palabras" in body
    client.post_form("/lang", {"lang": "en"}, page="/")
    body = page_of(client.get("/documents/new"))
    assert '<span class="cp-title">Production and service provision</span>' in body
    assert 'data-alt="Producción y provisión del servicio"' in body


def test_the_document_page_ticks_the_current_mapping_and_saves_as_before(app, client, login_as):
    rosa = login_as("quality_officer")
    catalogue = ids(app)
    doc_id = new_document(client, rosa.id, clauses=[str(catalogue["ISO 9001:2015 7.5"]),
                                                    str(catalogue["ISO 37001:2016 8.7"])])
    ticked = {ref for ref, on in boxes(page_of(client.get(f"/documents/{doc_id}")), "clauses").items() if on}
    assert ticked == {"ISO 9001:2015 7.5", "ISO 37001:2016 8.7"}

    resp = client.post_form(f"/documents/{doc_id}/clauses",
                            {"clauses": [str(catalogue["ISO 9001:2015 7.5"]), str(catalogue["ISO 9001:2015 8.5"]),
                                         str(catalogue["ISO 37001:2016 8.7"])]}, page=f"/documents/{doc_id}")
    assert resp.status_code == 302
    assert mapped(app, "PR-QA-001") == ["ISO 37001:2016 8.7", "ISO 9001:2015 7.5", "ISO 9001:2015 8.5"]
    ticked = {ref for ref, on in boxes(page_of(client.get(f"/documents/{doc_id}")), "clauses").items() if on}
    assert ticked == {"ISO 9001:2015 7.5", "ISO 9001:2015 8.5", "ISO 37001:2016 8.7"}

    # Nothing ticked: the mapping is emptied (a form of checkboxes posts no field at all then).
    assert client.post_form(f"/documents/{doc_id}/clauses", {}, page=f"/documents/{doc_id}").status_code == 302
    assert mapped(app, "PR-QA-001") == []


def test_unknown_clauses_are_refused_in_the_users_language_and_change_nothing(app, client, login_as):
    rosa = login_as("quality_officer")
    catalogue = ids(app)
    client.post_form("/lang", {"lang": "es"}, page="/")
    doc_id = new_document(client, rosa.id, clauses=[str(catalogue["ISO 9001:2015 4.3"])])
    before = mapping_events(app)
    for bad in (["999999"], ["abc"], [str(catalogue["ISO 9001:2015 7.5"]), "-1"]):
        resp = client.post_form(f"/documents/{doc_id}/clauses", {"clauses": bad}, page=f"/documents/{doc_id}")
        assert resp.status_code == 400, bad
        body = page_of(resp)
        assert "Cláusula desconocida (" in body and "marque cláusulas de la lista." in body
        assert "Traceback" not in body
    assert mapped(app, "PR-QA-001") == ["ISO 9001:2015 4.3"]
    assert mapping_events(app) == before

    resp = create_document(client, rosa.id, code="PR-QA-009", clauses=["424242"])
    assert resp.status_code == 400
    assert "Cláusulas que atiende: Cláusula desconocida (424242)" in page_of(resp)
    with app.app_context():
        assert db.session.scalar(select(Document).where(Document.code == "PR-QA-009")) is None
        db.session.remove()


def test_the_register_offers_the_picker_for_bulk_mapping_and_adds_several_clauses(app, client, login_as):
    rosa = login_as("quality_officer")
    catalogue = ids(app)
    a = new_document(client, rosa.id, code="PR-A", clauses=[str(catalogue["ISO 9001:2015 4.3"])])
    b = new_document(client, rosa.id, code="PR-B")
    new_document(client, rosa.id, code="PR-C")
    offered = boxes(page_of(client.get("/documents/")), "clause")
    assert set(offered) == set(catalogue) and not any(offered.values())

    wanted = [str(catalogue["ISO 37001:2016 8.7"]), str(catalogue["ISO 9001:2015 4.3"])]
    resp = client.post_form("/documents/bulk-clauses", {"doc_ids": [str(a), str(b)], "clause": wanted},
                            page="/documents/")
    assert resp.status_code == 302
    assert "ISO 9001:2015 4.3, ISO 37001:2016 8.7 added to 2 documents." in page_of(client.get("/documents/"))
    assert mapped(app, "PR-A") == ["ISO 37001:2016 8.7", "ISO 9001:2015 4.3"]
    assert mapped(app, "PR-B") == ["ISO 37001:2016 8.7", "ISO 9001:2015 4.3"]
    assert mapped(app, "PR-C") == []
    assert mapping_events(app) == 2  # one per document that changed

    # An unknown clause among good ones: nothing is added, and the page says why.
    resp = client.post_form("/documents/bulk-clauses",
                            {"doc_ids": [str(a), str(b)], "clause": [str(catalogue["ISO 9001:2015 8.5"]), "777777"]},
                            page="/documents/")
    assert resp.status_code == 302
    assert "Unknown clause (777777): tick clauses from the list." in page_of(client.get("/documents/"))
    assert mapped(app, "PR-B") == ["ISO 37001:2016 8.7", "ISO 9001:2015 4.3"]
    # Documents ticked but no clause: the same warning as before.
    client.post_form("/documents/bulk-clauses", {"doc_ids": [str(a)]}, page="/documents/")
    assert "Tick at least one document and choose a clause." in page_of(client.get("/documents/"))
    assert mapping_events(app) == 2


def test_a_reader_without_the_mapping_right_gets_no_picker(app, client, login_as):
    login_as("auditor")
    assert "data-clause-picker" not in page_of(client.get("/documents/"))
