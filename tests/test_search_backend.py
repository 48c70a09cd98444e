"""Search through the SearchBackend interface: Spanish and English relevance, exact codes and clauses, permissions
(an empty scope, auditors, hidden documents, facets equal to visible hits), malformed queries and hostile text."""

from __future__ import annotations

import pytest
from search_support import AUDITOR, STAFF, corpus, find, keys, make_backend, record, version

from auditdocs.search.types import (
    KINDS,
    MAX_DEPTH,
    MAX_QUERY_CHARS,
    Allow,
    QueryRefused,
    SearchQuery,
)


@pytest.fixture()
def engine(tmp_path):
    engine = make_backend(tmp_path / "index")
    engine.index_docs(corpus())
    yield engine
    engine.close()


# -- relevance -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("accion", "version:1"),  # no accent finds "acción"
    ("ACCIÓN", "version:1"),
    ("correctivas", "version:1"),  # plural and feminine: Spanish stem
    ("correctiva", "version:1"),
    ("auditoria", "nonconformity:14"),
    ("organizacion", "version:2"),
    ("audits", "version:3"),  # English stem
    ("reviewed", "version:3"),
])
def test_spanish_and_english_words_find_their_forms(engine, text, expected):
    assert expected in keys(find(engine, text))


def test_an_english_plural_finds_the_singular_and_a_phrase_keeps_order(engine):
    assert keys(find(engine, "audit")) == keys(find(engine, "audits"))
    assert "version:1" in keys(find(engine, '"acción correctiva"'))
    assert "version:1" not in keys(find(engine, '"correctiva acción"'))


@pytest.mark.parametrize(("text", "expected"), [
    ("PR-QA-001", ["version:1"]),
    ("pr-qa-001", ["version:1"]),
    ("NC-2026-0014", ["nonconformity:14"]),
    ("code:PR-OP-002", ["version:2"]),
    ("código:nc-2026-0014", ["nonconformity:14"]),
    ("clause:8.5.2", ["version:2"]),
    ("clause:9.2", ["nonconformity:14"]),
])
def test_codes_and_clause_numbers_match_exactly(engine, text, expected):
    assert keys(find(engine, text)) == expected


def test_a_clause_number_is_not_split_into_its_digits(engine):
    found = keys(find(engine, "8.5.2"))
    assert found[0] == "version:2"  # the clause field outranks a mention in the text
    assert set(found) == {"version:1", "version:2"}  # both mention 8.5.2; nothing with only an 8, a 5 or a 2
    assert keys(find(engine, "8.5")) == []
    assert keys(find(engine, "clause:8.5")) == []
    assert keys(find(engine, "clause:8.5*")) == ["version:2"]


def test_a_word_inside_a_hyphenated_word_is_found_but_a_code_is_not_found_by_its_part(engine):
    engine.index_docs([record("gift", 8, "Registro", "Cumple la política anti-soborno, ver FO-AB-777.")])
    assert set(keys(find(engine, "soborno"))) == {"gift:8", "bribery_risk:7"}
    assert keys(find(engine, "anti-soborno")) == ["gift:8"]
    assert keys(find(engine, "FO-AB-777")) == ["gift:8"]
    assert keys(find(engine, "PR-QA")) == []


def test_friendly_fields_prefixes_and_boolean_operators(engine):
    assert keys(find(engine, "site:ut-lima kind:gift")) == ["gift:2"]
    assert set(keys(find(engine, "owner:perez manual"))) == {"version:5"}
    assert set(keys(find(engine, "audit* NOT type:procedure"))) == {"corrective_action:3", "nonconformity:14"}
    assert set(keys(find(engine, "zafiro OR wine"))) == {"version:9", "gift:2"}
    assert set(keys(find(engine, "year:2025 AND auditoria"))) == {"nonconformity:14"}


def test_versions_not_in_force_only_on_request(engine):
    assert keys(find(engine, "manual")) == ["version:5"]
    assert set(keys(find(engine, "manual", include_all_versions=True))) == {"version:5", "version:6"}


def test_sort_by_date_newest_first_and_pages(engine):
    everything = find(engine, "", sort="date")
    days = [hit.day for hit in everything.hits]
    assert days == sorted(days, reverse=True)
    first = engine.search(SearchQuery(text="", per_page=3, page=1), STAFF)
    second = engine.search(SearchQuery(text="", per_page=3, page=2), STAFF)
    assert first.total == second.total == everything.total
    assert first.pages == -(-everything.total // 3)
    assert not set(keys(first)) & set(keys(second))
    assert keys(first) + keys(second) == keys(everything)[:6]


def test_a_page_past_the_depth_cap_is_clamped_with_a_notice(engine):
    results = engine.search(SearchQuery(text="", per_page=10, page=MAX_DEPTH), STAFF)
    assert results.page == MAX_DEPTH // 10
    assert "too_deep" in results.notices and results.notice


def test_impossible_parameters_are_refused_with_400():
    for bad in ({"sort": "size"}, {"page": 0}, {"per_page": 1000}, {"kinds": frozenset({"user"})},
                {"filters": {"password": "x"}}):
        with pytest.raises(QueryRefused) as refused:
            SearchQuery(**bad)
        assert refused.value.status == 400


# -- permissions -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["*", "", "accion", "manual OR zafiro", "kind:version"])
def test_an_allow_that_allows_nothing_returns_nothing(engine, text):
    for nothing in (Allow.nothing(), Allow(kinds=frozenset()), Allow(kinds=frozenset({"no_such_kind"}))):
        results = engine.search(SearchQuery(text=text, include_all_versions=True), nothing)
        assert results.total == 0 and results.hits == () and results.corrected is None
        assert not any(results.facets.values())


def test_auditors_never_see_drafts_unapproved_risks_or_hidden_documents(engine):
    seen = set(keys(find(engine, "", AUDITOR, include_all_versions=True)))
    assert {"version:4", "bribery_risk:7", "version:9"}.isdisjoint(seen)
    assert {"version:1", "version:6", "nonconformity:14", "gift:2"} <= seen
    for text in ("borrador", "PO-AB-004", "soborno", "RS-2026-0007", "zafiro", "code:PL-RH-009", "document:9"):
        assert find(engine, text, AUDITOR, include_all_versions=True).total == 0, text
    assert find(engine, "zafiro", STAFF).total == 1
    assert find(engine, "borrador", STAFF, include_all_versions=True).total == 1


def test_a_hidden_record_hides_what_belongs_to_it(engine):
    allow = Allow(kinds=frozenset(KINDS), approved_only=False, hidden=frozenset({"nonconformity:14"}))
    seen = set(keys(find(engine, "", allow)))
    assert {"nonconformity:14", "corrective_action:3"}.isdisjoint(seen) and "gift:2" in seen


def test_kinds_limit_what_is_seen(engine):
    only_records = Allow(kinds=frozenset({"nonconformity", "corrective_action"}), approved_only=False)
    assert set(keys(find(engine, "", only_records))) == {"nonconformity:14", "corrective_action:3"}
    assert find(engine, "zafiro", only_records).total == 0


def test_everything_sees_everything(engine):
    assert set(keys(find(engine, "", Allow.all(), include_all_versions=True))) == {d.key for d in corpus()}


@pytest.mark.parametrize("allow", [AUDITOR, STAFF, Allow.all()], ids=["auditor", "staff", "all"])
def test_facet_counts_equal_the_visible_hits(engine, allow):
    results = find(engine, "", allow, include_all_versions=True)
    visible = [d for d in corpus() if d.key in set(keys(results))]
    assert results.total == len(visible)
    assert sum(count for _, count in results.facets["kind"]) == results.total
    assert dict(results.facets["type"]) == _count(d.facet_type for d in visible)
    assert dict(results.facets["site"]) == _count(d.site for d in visible if d.site)
    assert dict(results.facets["year"]) == _count(str(d.year) for d in visible if d.year)
    assert dict(results.facets["clause"]) == _count(c for d in visible for c in d.clauses)
    assert dict(results.facets["owner"]) == _count(d.owner for d in visible if d.owner)


def _count(values):
    out: dict[str, int] = {}
    for value in values:
        out[value] = out.get(value, 0) + 1
    return out


def test_facet_filters_narrow_by_the_displayed_value(engine):
    results = engine.search(SearchQuery(text="", filters={"site": "UT-LIMA"}, per_page=50), STAFF)
    assert {hit.key for hit in results.hits} == {"version:3", "nonconformity:14", "corrective_action:3", "gift:2",
                                                 "bribery_risk:7"}
    assert dict(results.facets["site"]) == {"UT-LIMA": 5}
    assert keys(engine.search(SearchQuery(filters={"owner": "María Pérez", "clause": "8.5.2"}), STAFF)) == ["version:2"]


def test_did_you_mean_comes_only_from_what_the_user_may_see(engine):
    assert find(engine, "procedimeinto", AUDITOR).corrected == "procedimiento"
    assert find(engine, "confidencal", STAFF).corrected == "confidencial"
    assert find(engine, "confidencal", AUDITOR).corrected is None  # only a hidden document's title has it
    assert find(engine, "borador", AUDITOR, include_all_versions=True).corrected is None  # only a draft has it


# -- malformed queries and hostile text ----------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "notice"), [
    ('"acción correctiva', "unbalanced_quotes"),
    ("(accion OR audit", "unbalanced_brackets"),
    ("accion) OR [audit", "unbalanced_brackets"),
    ("*", "lone_wildcard"),
    ("a* accion", "lone_wildcard"),
    ("AND accion OR", "dangling_operator"),
    ("accion AND NOT", "dangling_operator"),
    ("x" * 10_000, "truncated"),
    (" OR ".join(["accion"] * 1000), "too_many_terms"),
    ("password:secret accion", "unknown_field"),
])
def test_malformed_queries_are_repaired_with_a_notice(engine, text, notice):
    results = find(engine, text)
    assert notice in results.notices
    assert results.notice and isinstance(results.notice, str)
    assert len(results.query) <= MAX_QUERY_CHARS


@pytest.mark.parametrize("text", ['"', "(((", ")))", "[", "{a TO", "NOT NOT", "year:[2020 TO", "::::", "code:",
                                  "a\x00b", "title:(", '"" ""', "*:*", "?*?", "^2", "accion^", "~", "\\", "'"])
def test_odd_input_never_raises(engine, text):
    results = find(engine, text)
    assert results.total >= 0


def test_repaired_queries_still_find_what_they_can(engine):
    assert "version:1" in keys(find(engine, '"acción correctiva'))
    assert "version:1" in keys(find(engine, "(accion"))
    assert "version:1" in keys(find(engine, " OR ".join(["accion"] * 1000)))


def test_hostile_text_comes_back_escaped_with_only_mark_as_markup(tmp_path):
    engine = make_backend(tmp_path / "index")
    hostile = '<script>alert("x")</script> <img src=x onerror=alert(1)> & accion <b>bold</b>'
    engine.index_docs([record("gift", 1, "<i>Regalo</i> sospechoso", hostile)])
    for text in ("accion", "script", "img", "bold", "regalo"):
        [hit] = find(engine, text).hits
        html = hit.snippet_html
        assert "<script" not in html and "<img" not in html and "<b>" not in html
        assert html.replace("<mark>", "").replace("</mark>", "").count("<") == 0
        assert "&lt;script&gt;" in html or "&lt;" in html
        assert hit.title == "<i>Regalo</i> sospechoso"  # plain text: the template escapes it
    assert "<mark>accion</mark>" in find(engine, "acción").hits[0].snippet_html
    engine.close()


def test_update_replaces_and_delete_removes(engine):
    engine.index_docs([version(1, "Procedimiento renovado", "Texto nuevo sobre zanahorias.", code="PR-QA-001")])
    assert keys(find(engine, "PR-QA-001")) == ["version:1"]
    assert find(engine, "correctivas").total == 0
    assert keys(find(engine, "zanahorias")) == ["version:1"]
    assert engine.count_by_kind()["version"] == 7
    assert engine.delete(["version:1", "version:999"]) == 2
    assert find(engine, "zanahorias").total == 0
    assert "version:1" not in set(engine.keys())
    assert engine.count_by_kind()["version"] == 6


def test_repeated_updates_and_a_key_twice_in_one_batch_leave_one_document(engine):
    """The writer's kept segment readers must still find a key rewritten in a newer segment; the batch's last wins."""
    for n in range(4):
        engine.index_docs([version(1, f"Procedimiento {n}", f"Texto palabra{n}.", code="PR-QA-001")])
    engine.index_docs([version(1, "Primero", "Texto rabanos.", code="PR-QA-001"),
                       version(1, "Segundo", "Texto nabos.", code="PR-QA-001")])
    assert keys(find(engine, "PR-QA-001")) == ["version:1"]
    assert find(engine, "rabanos").total == 0 and find(engine, "palabra3").total == 0
    assert keys(find(engine, "nabos")) == ["version:1"]
    assert engine.count_by_kind()["version"] == 7


def test_hits_say_what_the_page_needs(engine):
    [hit] = find(engine, "PR-QA-003").hits
    assert (hit.kind, hit.object_id, hit.parent_id, hit.lang, hit.in_force, hit.text_state) == (
        "version", 3, 3, "en", True, "ok")
    assert hit.score > 0 and hit.day is not None


def test_facets_and_hidden_documents_follow_updates_across_segments(engine):
    """The facet values and hidden docnums cached per segment / searcher must not outlive the documents."""
    before = find(engine, "", AUDITOR, include_all_versions=True)
    assert "version:9" not in keys(before)
    engine.index_docs([version(1, "Procedimiento de acción correctiva", "Texto nuevo.", site="UT-PIURA"),
                       version(20, "Otro documento", "Texto.", document=9, site="UT-PIURA"),
                       record("gift", 8, "Regalo nuevo", "Una caja de chocolates.", site="UT-PIURA")])
    engine.delete(["gift:2"])
    after = find(engine, "", AUDITOR, include_all_versions=True)
    visible = set(keys(after))
    assert "gift:8" in visible and "gift:2" not in visible
    assert "version:20" not in visible  # a new version of the hidden document 9, in a new segment
    assert after.total == len(visible) == before.total
    assert dict(after.facets["site"])["UT-PIURA"] == 2
    assert sum(count for _, count in after.facets["kind"]) == after.total
    assert dict(after.facets["kind"])["gift"] == 1
