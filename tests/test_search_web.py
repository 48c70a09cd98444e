"""The search page and its JSON endpoint: links to the exact version or record, facets, escaping, refusals, the
index being unusable, and what auditors may (not) find."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from search_web_support import VISITS, attach_file, corpus, index, version_doc, version_ids, version_number
from support import seed_document, text_of

from auditdocs.search.types import MAX_DEPTH, SearchDoc

HITS = re.compile(r'data-testid="hit" data-key="([a-z_]+:\d+)"')


def _keys(resp) -> list[str]:
    return HITS.findall(resp.get_data(as_text=True))


def _lang(client, lang: str) -> None:
    assert client.post_form("/lang", {"lang": lang}, page="/").status_code == 302


def test_staff_find_the_version_in_force_in_spanish_and_english(app, client, login_as, make_user, tmp_path):
    c = corpus(app, make_user, tmp_path)
    login_as("quality_officer")
    _lang(client, "es")
    resp = client.get("/search?q=visitas+domiciliarias")
    assert resp.status_code == 200
    page = text_of(resp)
    assert "Buscar" in page and "Cómo buscar" in page
    keys = _keys(resp)
    approved_key = c["docs"][0].key
    assert approved_key in keys
    assert c["docs"][1].key not in keys  # a draft is not shown without "include drafts"
    number = version_number(app, c["approved"])
    assert f'href="/documents/{c["approved"]}/versions/{number}/preview"' in resp.get_data(as_text=True)
    assert "<mark>" in resp.get_data(as_text=True)
    # An accentless query finds accented text, in English too.
    _lang(client, "en")
    resp = client.get("/search?q=evaluacion+socioeconomica")
    page = text_of(resp)
    assert resp.status_code == 200 and "How to search" in page and "Include drafts and older versions" in page
    assert approved_key in _keys(resp)


def test_records_link_to_their_pages_and_actions_to_their_anchor(app, client, login_as, make_user, tmp_path):
    c = corpus(app, make_user, tmp_path)
    login_as("compliance_officer")
    body = client.get("/search?q=capacitar").get_data(as_text=True)
    assert f'href="/nonconformities/{c["nc"]}#action-{c["action"]}"' in body
    body = client.get(f"/search?q={c['nc_ref']}").get_data(as_text=True)
    assert f'href="/nonconformities/{c["nc"]}"' in body


def test_drafts_for_staff_only_behind_the_option(app, client, login_as, make_user, tmp_path):
    c = corpus(app, make_user, tmp_path)
    login_as("quality_officer")
    resp = client.get("/search?q=visitas&all=1")
    assert c["docs"][1].key in _keys(resp)
    assert 'data-testid="badge-draft"' in resp.get_data(as_text=True)
    data = client.get("/search.json?q=visitas&all=1").get_json()
    assert c["docs"][1].key in {h["key"] for h in data["hits"]}
    assert data["include_all_versions"] is True


def test_auditors_see_no_draft_no_restricted_and_no_draft_option(app, client, login_as, make_user, tmp_path):
    c = corpus(app, make_user, tmp_path)
    login_as("auditor")
    for url in ("/search?q=visitas", "/search?q=visitas&all=1", "/search?q=", "/search?q=borrador&all=1"):
        resp = client.get(url)
        assert resp.status_code == 200
        keys = _keys(resp)
        assert c["docs"][1].key not in keys and c["docs"][2].key not in keys, url
        body = resp.get_data(as_text=True)
        assert 'name="all"' not in body and "PR-OP-002" not in body and "PR-OP-003" not in body
    data = client.get("/search.json?q=visitas&all=1&per_page=100").get_json()
    keys = {h["key"] for h in data["hits"]}
    assert c["docs"][0].key in keys and c["docs"][1].key not in keys and c["docs"][2].key not in keys
    assert data["include_all_versions"] is False
    # Facet counts equal the hits the auditor sees: each kind's count, and following a facet gives that many.
    assert data["total"] == len(data["hits"])
    assert sum(v["count"] for v in data["facets"]["kind"]) == data["total"]
    for value in data["facets"]["site"]:
        narrowed = client.get(f"/search.json?q=visitas&site={value['value']}&per_page=100").get_json()
        assert narrowed["total"] == value["count"] == len(narrowed["hits"])
    assert "UT-LIMA" not in {v["value"] for v in data["facets"].get("site", [])}  # only the draft is in Lima


def test_a_hit_the_database_no_longer_shows_is_dropped(app, client, login_as, make_user, tmp_path):
    """The index says the restricted document is open to all (a stale group): the page still hides it."""
    c = corpus(app, make_user, tmp_path)
    stale = version_doc(app, c["restricted"], VISITS, groups=())
    index(app, [*c["docs"][:2], stale])
    login_as("compliance_officer")  # not the owner, not shared with
    resp = client.get("/search?q=visitas")
    assert stale.key not in _keys(resp)
    assert c["docs"][0].key in _keys(resp)
    assert "reservadas" not in resp.get_data(as_text=True)
    assert stale.key not in {h["key"] for h in client.get("/search.json?q=visitas").get_json()["hits"]}


def test_facet_links_add_and_remove_filters(app, client, login_as, make_user, tmp_path):
    c = corpus(app, make_user, tmp_path)
    login_as("admin")
    body = client.get("/search?q=visitas&all=1").get_data(as_text=True)
    links = re.findall(r'<a href="([^"]+)"[^>]*data-testid="facet-link" data-facet="year" data-value="2025"', body)
    assert len(links) == 1
    href = links[0].replace("&amp;", "&")
    assert parse_qs(urlsplit(href).query) == {"q": ["visitas"], "all": ["1"], "year": ["2025"]}
    narrowed = client.get(href)
    assert _keys(narrowed) == [c["docs"][1].key]
    body = narrowed.get_data(as_text=True)
    remove = re.search(r'<a class="btn btn-sm btn-outline-secondary" href="([^"]+)" data-testid="filter-on-year"', body)
    assert remove and "year" not in parse_qs(urlsplit(remove.group(1).replace("&amp;", "&")).query)
    kinds = client.get("/search?q=visitas&kind=nonconformity")
    assert _keys(kinds) == [f"nonconformity:{c['nc']}"]


def test_hostile_text_in_a_document_comes_back_escaped(app, client, login_as, make_user, tmp_path):
    officer = make_user("quality_officer")
    approver = make_user("quality_officer")
    path = tmp_path / "x.txt"
    path.write_text("hostil", "utf-8")
    doc = seed_document(app, officer.id, path, code="PR-XSS-001", title="Hostil", approver_id=approver.id)
    hostile = 'visitas <script>alert("x")</script> <img src=x onerror=alert(1)> "comillas" & visitas'
    index(app, [version_doc(app, doc, hostile, title='<b onmouseover="alert(2)">Visitas</b>')])
    login_as("quality_officer")
    body = client.get("/search?q=visitas").get_data(as_text=True)
    assert "<script>alert" not in body and "<img src=x" not in body and "<b onmouseover" not in body
    assert "&lt;script&gt;" in body and "&lt;img src=x onerror=alert(1)&gt;" in body
    assert "&lt;b onmouseover=" in body
    data = client.get("/search.json?q=visitas").get_json()
    assert "<script>" not in data["hits"][0]["snippet_html"] and "&lt;script&gt;" in data["hits"][0]["snippet_html"]


def test_json_has_the_same_results_as_the_page(app, client, login_as, make_user, tmp_path):
    c = corpus(app, make_user, tmp_path)
    login_as("quality_officer")
    _lang(client, "es")
    page_keys = _keys(client.get("/search?q=visitas&sort=date"))
    data = client.get("/search.json?q=visitas&sort=date").get_json()
    assert [h["key"] for h in data["hits"]] == page_keys
    assert data["total"] == len(page_keys) and data["page"] == 1 and data["pages"] == 1 and data["ok"] is True
    first = next(h for h in data["hits"] if h["key"] == c["docs"][0].key)
    assert set(first) >= {"key", "kind", "title", "url", "snippet_html", "day", "in_force", "text_state"}
    assert first["url"] == f"/documents/{c['approved']}/versions/{version_number(app, c['approved'])}/preview"
    assert first["in_force"] is True and first["text_state"] == "ok" and first["day"] == "2026-03-01"
    assert {"kind", "site", "year", "type"} <= set(data["facets"])


def test_pagination_is_capped_and_linked(app, client, login_as, make_user, tmp_path):
    corpus(app, make_user, tmp_path)
    login_as("admin")
    data = client.get("/search.json?q=visitas&all=1&per_page=2").get_json()
    assert data["total"] == 5 and data["pages"] == 3
    body = client.get("/search?q=visitas&all=1&per_page=2&page=2").get_data(as_text=True)
    assert 'aria-current="page" data-testid="page-2"' in body and 'data-testid="page-3"' in body
    assert 'href="/search?q=visitas&amp;all=1&amp;per_page=2&amp;page=3"' in body  # the question is kept
    deep = client.get("/search.json?q=visitas&per_page=2&page=100000").get_json()
    assert "too_deep" in deep["notices"] and deep["page"] * 2 <= MAX_DEPTH and deep["hits"] == []
    assert client.get("/search?q=visitas&per_page=2&page=100000").status_code == 200


def test_bad_parameters_answer_400_with_the_message(app, client, login_as, make_user, tmp_path):
    corpus(app, make_user, tmp_path)
    login_as("quality_officer")
    _lang(client, "en")
    for url in ("/search?q=x&sort=sideways", "/search?q=x&page=0", "/search?q=x&page=abc",
                "/search?q=x&kind=spaceship", "/search?q=x&per_page=1000"):
        resp = client.get(url)
        assert resp.status_code == 400, url
        assert 'data-testid="search-refused"' in resp.get_data(as_text=True)
    assert "Unknown sort order." in text_of(client.get("/search?sort=sideways"))
    resp = client.get("/search.json?q=x&sort=sideways")
    assert resp.status_code == 400 and resp.get_json() == {"ok": False, "status": 400,
                                                          "error": "Unknown sort order."}


def test_malformed_queries_answer_200_with_a_notice(app, client, login_as, make_user, tmp_path):
    c = corpus(app, make_user, tmp_path)
    login_as("quality_officer")
    _lang(client, "es")
    for q in ('"visitas domiciliarias', "(visitas", "*", "visitas AND", "x" * 10_000, " OR ".join(["visitas"] * 1000),
              "nada:visitas"):
        resp = client.get("/search", query_string={"q": q})
        assert resp.status_code == 200, q[:40]
        assert 'data-testid="search-notice"' in resp.get_data(as_text=True), q[:40]
        assert client.get("/search.json", query_string={"q": q}).get_json()["notices"], q[:40]
    resp = client.get("/search", query_string={"q": '"visitas domiciliarias'})
    assert c["docs"][0].key in _keys(resp)


def test_nothing_found_says_so(app, client, login_as, make_user, tmp_path):
    corpus(app, make_user, tmp_path)
    login_as("quality_officer")
    _lang(client, "es")
    resp = client.get("/search?q=zzzqqqxxx")
    assert resp.status_code == 200 and 'data-testid="search-empty"' in resp.get_data(as_text=True)
    assert "0 resultados" in text_of(resp)


def test_did_you_mean_links_to_the_corrected_query(app, client, login_as, make_user, tmp_path):
    corpus(app, make_user, tmp_path)
    login_as("quality_officer")
    data = client.get("/search.json?q=domiciliaris").get_json()
    assert data["total"] == 0 and data["corrected"]
    body = client.get("/search?q=domiciliaris").get_data(as_text=True)
    assert 'data-testid="search-corrected"' in body
    href = re.search(r'data-testid="search-corrected">[^<]*<a href="([^"]+)"', body).group(1).replace("&amp;", "&")
    assert parse_qs(urlsplit(href).query)["q"] == [data["corrected"]]
    assert _keys(client.get(href))


def test_pending_and_unreadable_text_are_badged(app, client, login_as, make_user, tmp_path):
    c = corpus(app, make_user, tmp_path)
    index(app, [version_doc(app, c["approved"], "", text_state="pending"),
                version_doc(app, c["restricted"], "", text_state="unreadable")])
    login_as("admin")
    body = client.get("/search?q=visitas").get_data(as_text=True)
    assert 'data-testid="badge-pending"' in body and 'data-testid="badge-unreadable"' in body


def _index_dir(app) -> Path:
    return Path(app.config["INDEX_DIR"])


def test_an_absent_index_answers_503_and_the_rest_works(app, client, login_as):
    shutil.rmtree(_index_dir(app), ignore_errors=True)
    login_as("auditor")
    _lang(client, "es")
    resp = client.get("/search?q=visitas")
    assert resp.status_code == 503 and resp.headers["Retry-After"].isdigit()
    assert "reconstruyendo" in text_of(resp)
    assert 'id="search-q"' in resp.get_data(as_text=True)  # the box stays, to try again
    resp = client.get("/search.json?q=visitas")
    assert resp.status_code == 503 and resp.get_json()["ok"] is False and resp.get_json()["reason"] == "absent"
    assert client.get("/").status_code == 200 and client.get("/documents/").status_code == 200


def test_a_corrupt_index_answers_503(app, client, login_as, make_user, tmp_path):
    corpus(app, make_user, tmp_path)
    damaged = 0
    for path in _index_dir(app).rglob("*"):
        if path.is_file() and path.name != "SCHEMA.json":
            path.write_bytes(b"\x00garbage" * 7)
            damaged += 1
    assert damaged
    app.extensions.pop("auditdocs.search", None)  # as after a restart: nothing cached from the good index
    login_as("quality_officer")
    resp = client.get("/search?q=visitas")
    assert resp.status_code == 503 and "Retry-After" in resp.headers
    assert client.get("/search.json?q=visitas").status_code == 503
    assert client.get("/nonconformities/").status_code == 200


def test_every_role_has_search_in_the_menu(app, client, login_as):
    for role in ("admin", "quality_officer", "compliance_officer", "auditor"):
        login_as(role)
        assert 'href="/search"' in client.get("/").get_data(as_text=True), role
        assert client.post_form("/logout", page="/").status_code == 302


def test_an_index_with_only_records_serves_a_kind_the_role_may_read(app, client, login_as, make_user, tmp_path):
    """Auditors read nonconformities; a version of a document they cannot open is never among their hits."""
    c = corpus(app, make_user, tmp_path)
    extra = SearchDoc(key=f"version:{max(version_ids(app, c['draft']))}", kind="version",
                      object_id=max(version_ids(app, c["draft"])), parent_id=c["draft"], title="Borrador",
                      body="visitas", approved=True, in_force=True, groups=(f"document:{c['draft']}",))
    index(app, [*c["docs"], extra])  # the index wrongly says the draft is approved and in force
    login_as("auditor")
    keys = _keys(client.get("/search?q=visitas"))
    assert f"nonconformity:{c['nc']}" in keys and extra.key not in keys


def test_an_evidence_file_opens_its_record_at_the_files(app, client, login_as, make_user, tmp_path):
    c = corpus(app, make_user, tmp_path)
    path = tmp_path / "ficha.txt"
    path.write_text("Ficha de visita domiciliaria firmada", "utf-8")
    attachment = attach_file(app, c["nc"], c["officer"].id, path)
    missing = attachment + 1000  # an attachment row that does not exist: the index is stale, the page drops it
    index(app, [*c["docs"],
                SearchDoc(key=f"attachment:{attachment}", kind="attachment", object_id=attachment, parent_id=c["nc"],
                          title="ficha.txt", body="Ficha de visita domiciliaria firmada",
                          groups=(f"nonconformity:{c['nc']}",)),
                SearchDoc(key=f"attachment:{missing}", kind="attachment", object_id=missing, parent_id=c["nc"],
                          title="fantasma.txt", body="Ficha fantasma firmada")])
    login_as("auditor")
    resp = client.get("/search?q=firmada")
    assert _keys(resp) == [f"attachment:{attachment}"]
    assert f'href="/nonconformities/{c["nc"]}#files"' in resp.get_data(as_text=True)
    data = client.get("/search.json?q=firmada").get_json()
    assert [h["url"] for h in data["hits"]] == [f"/nonconformities/{c['nc']}#files"]
