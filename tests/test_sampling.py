"""IAF MD 1 site sampling: the sample size formula, reproducible proposals, the confirmation, the page and the CLI."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from fractions import Fraction
from typing import Any

import pytest
from sqlalchemy import insert, select
from support import audit_events, pdf, seed_document, write

from auditdocs.db import write_transaction
from auditdocs.extensions import db
from auditdocs.models import Audit, AuditSite, Certificate, Clause, Scope, Site, User, document_clauses, document_sites
from auditdocs.services import sampling
from auditdocs.services.sampling import SampleRefused, kind_of, minimum_sample

REGIONS = ["AMAZONAS", "ANCASH", "APURIMAC", "AREQUIPA", "AYACUCHO", "CAJAMARCA", "CUSCO", "HUANCAVELICA", "HUANUCO",
           "ICA", "JUNIN", "LA-LIBERTAD", "LAMBAYEQUE", "LIMA", "LORETO", "MADRE-DE-DIOS", "PIURA", "PUNO",
           "SAN-MARTIN"]
CODES = [f"UT-{r}" for r in REGIONS]
NUMBER = "SGI-2025-0412"
FACTOR = {"initial": Fraction(1), "surveillance": Fraction(3, 5), "recertification": Fraction(4, 5)}


# -- the formula --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("x", "initial", "surveillance", "recertification"), [
    (0, 0, 0, 0), (1, 1, 1, 1), (2, 2, 1, 2), (4, 2, 2, 2), (19, 5, 3, 4), (26, 6, 4, 5), (100, 10, 6, 8),
])
def test_minimum_sample_sizes(x, initial, surveillance, recertification):
    assert (minimum_sample(x, "initial"), minimum_sample(x, "surveillance"),
            minimum_sample(x, "recertification")) == (initial, surveillance, recertification)


def test_minimum_sample_is_the_least_whole_number_not_below_f_times_root_x():
    """Exactly: y² ≥ f²·x and (y-1)² < f²·x, for every x up to 2000 (perfect squares such as 25 or 100 included,
    where a float product like 0.6 × √25 = 3.0000000000000004 would round up wrongly)."""
    for x in range(1, 2001):
        for kind, f in FACTOR.items():
            y = minimum_sample(x, kind)
            assert y * y >= f * f * x and (y - 1) * (y - 1) < f * f * x and y <= x, (x, kind, y)
    assert minimum_sample(25, "surveillance") == 3 and minimum_sample(25, "recertification") == 4


def test_audit_types_map_to_formulas():
    assert [kind_of(t) for t in ("initial", "surveillance_1", "surveillance_2", "recertification", "internal")] == [
        "initial", "surveillance", "surveillance", "recertification", None]
    assert sampling.formula(19, "surveillance") == "y = ⌈0.6 × √19⌉ = 3"
    assert sampling.formula(19, "recertification", ",") == "y = ⌈0,8 × √19⌉ = 4"
    assert sampling.formula(19, "initial") == "y = ⌈√19⌉ = 5"


# -- data: a head office, regional units, a certificate and its audits, as model rows -----------------------------


def build(app: Any, owner_id: int, codes: list[str] = CODES, scope_codes: list[str] | None = None) -> int:
    """The central function, one regional unit per code, an integrated scope and its certificate; the cert id."""
    with app.app_context(), write_transaction():
        central = Site(code="SEDE-CENTRAL", name_es="Sede Central (Lima)", region="Lima")
        db.session.add(central)
        db.session.flush()
        units = [Site(code=c, name_es=f"Unidad Territorial {c[3:].title()}", region=c[3:].title(),
                      parent_id=central.id) for c in codes]
        db.session.add_all(units)
        named = [s for s in [central, *units] if scope_codes is None or s.code in scope_codes]
        scope = Scope(key="integrated", statement_es="Servicio de acompañamiento familiar", sites=named)
        cert = Certificate(number=NUMBER, scope=scope, body="Bureau de Certificación Andina S.A.C.",
                           issued_on=date.today() - timedelta(days=450),
                           expires_on=date.today() - timedelta(days=450) + timedelta(days=3 * 365),
                           created_by_id=owner_id)
        db.session.add(cert)
        db.session.flush()
        cert_id = cert.id
    return cert_id


def add_audit(app: Any, owner_id: int, cert_id: int | None, audit_type: str = "surveillance_1",
              status: str = "planned", visited: tuple[str, ...] | list[str] = ()) -> int:
    """An audit of the certificate; a done one visited the given sites."""
    with app.app_context(), write_transaction():
        start = date.today() + timedelta(days=60) if status == "planned" else date.today() - timedelta(days=480)
        audit = Audit(certificate_id=cert_id, audit_type=audit_type, planned_start=start, status=status,
                      actual_start=start if status == "done" else None, actual_end=start if status == "done" else None,
                      auditing_body="Bureau de Certificación Andina S.A.C.", created_by_id=owner_id)
        for code in visited:
            audit.sites.append(AuditSite(site=db.session.scalar(select(Site).where(Site.code == code)),
                                         reason="initial sample"))
        db.session.add(audit)
        db.session.flush()
        return audit.id


def site_ids(app: Any, codes: list[str]) -> list[int]:
    with app.app_context():
        ids = [db.session.scalar(select(Site.id).where(Site.code == c)) for c in codes]
        db.session.remove()
    return ids


def proposal(app: Any, kind: str = "surveillance", seed: int | None = 123456) -> dict[str, Any]:
    """A proposal as plain data (the CLI's JSON shape, through the service)."""
    with app.app_context():
        cert = sampling.certificate_by_number(NUMBER)
        p = sampling.propose(cert, kind, seed)
        out = {"x": p.x, "y": p.y, "seed": p.seed, "central": p.central.code, "drawn": p.drawn,
               "sample": [(pk.site.code, str(pk.reason), pk.drawn) for pk in p.picks]}
        db.session.remove()
    return out


@pytest.fixture
def rosa(make_user):
    return make_user("quality_officer", name="Rosa Huamán")


@pytest.fixture
def cert_id(app, rosa):
    return build(app, rosa.id)


# -- the proposal -------------------------------------------------------------------------------------------------


def test_proposal_has_the_central_function_apart_and_y_sites(app, cert_id):
    for kind, y in (("initial", 5), ("surveillance", 3), ("recertification", 4)):
        p = proposal(app, kind)
        assert (p["x"], p["y"], p["central"]) == (19, y, "SEDE-CENTRAL")
        codes = [code for code, _, _ in p["sample"]]
        assert len(codes) == len(set(codes)) == y and "SEDE-CENTRAL" not in codes
        assert set(codes) <= set(CODES)
        drawn = [code for code, reason, is_drawn in p["sample"] if is_drawn]
        assert len(drawn) == p["drawn"] >= -(-y // 4) and len(drawn) * 4 >= y
        assert all("drawn at random (seed 123456)" in reason for _, reason, d in p["sample"] if d)


def test_the_same_seed_gives_the_same_proposal_and_other_seeds_vary(app, cert_id):
    first = proposal(app, seed=424242)
    assert proposal(app, seed=424242) == first
    samples = {tuple(code for code, _, _ in proposal(app, seed=s)["sample"]) for s in range(100_000, 100_030)}
    assert len(samples) > 1, "the random part must depend on the seed"
    fresh = proposal(app, seed=None)
    assert 100_000 <= fresh["seed"] <= 999_999


def test_sites_never_visited_in_the_cycle_come_first(app, rosa, cert_id):
    visited = CODES[:17]  # only Puno and San Martín are left unvisited
    add_audit(app, rosa.id, cert_id, "initial", "done", ["SEDE-CENTRAL", *visited])
    add_audit(app, rosa.id, None, "internal", "done", ["UT-PUNO"])  # internal audits are not the cycle
    for seed in (1, 2, 3, 777777):
        sample = proposal(app, seed=seed)["sample"]
        assert {code for code, _, _ in sample} >= {"UT-PUNO", "UT-SAN-MARTIN"}, sample
        first_two = [(code, reason) for code, reason, _ in sample[:2]]
        assert all("never visited in this cycle" in reason for _, reason in first_two), first_two
        third = sample[2]
        assert third[0] in visited and third[2] is True and "never visited" not in third[1]


def test_never_visited_sites_fill_the_random_part_when_enough_remain(app, rosa, cert_id):
    add_audit(app, rosa.id, cert_id, "initial", "done", ["SEDE-CENTRAL", *CODES[:5]])
    for seed in range(10):
        sample = proposal(app, seed=seed)["sample"]
        assert not {code for code, _, _ in sample} & set(CODES[:5])


def test_evidence_gaps_rank_sites_and_are_named_in_the_reason(app, rosa, make_user, tmp_path, cert_id):
    """A site whose own evidence closes gaps drops behind the sites that still lack it."""
    jorge = make_user("quality_officer")
    doc_id = seed_document(app, rosa.id, write(tmp_path / "acta.pdf", pdf("amazonas")), code="RG-AMZ-001",
                           approver_id=jorge.id)
    with app.app_context(), write_transaction():
        clauses = db.session.scalars(select(Clause.id).where(Clause.documented_information != "none").limit(3))
        db.session.execute(insert(document_clauses), [{"document_id": doc_id, "clause_id": c} for c in clauses])
        amazonas = db.session.scalar(select(Site.id).where(Site.code == "UT-AMAZONAS"))
        db.session.execute(insert(document_sites).values(document_id=doc_id, site_id=amazonas))
    p = proposal(app, kind="initial")
    ranked = [(code, reason) for code, reason, drawn in p["sample"] if not drawn]
    assert [code for code, _ in ranked] == ["UT-ANCASH", "UT-APURIMAC", "UT-AREQUIPA"]
    match = re.search(r"never visited in this cycle; (\d+) evidence gaps", ranked[0][1])
    assert match and int(match.group(1)) > 0
    with app.app_context():
        cert = sampling.certificate_by_number(NUMBER)
        by_code = {c.site.code: c.signals for c in sampling.propose(cert, "initial", 1).candidates}
        assert by_code["UT-AMAZONAS"].gaps < by_code["UT-ANCASH"].gaps
        assert by_code["UT-AMAZONAS"].covered > 0


def test_x_counts_active_sites_in_scope_only(app, rosa):
    build(app, rosa.id, CODES[:6], scope_codes=["SEDE-CENTRAL", *CODES[:5]])
    with app.app_context(), write_transaction():
        db.session.scalar(select(Site).where(Site.code == CODES[0])).active = False
    p = proposal(app, kind="initial")
    assert (p["x"], p["y"]) == (4, 2)
    assert {code for code, _, _ in p["sample"]} <= set(CODES[1:5])


# -- the command line ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("count", "expected"), [(1, (1, 1, 1)), (2, (2, 1, 2)), (4, (2, 2, 2)), (26, (6, 4, 5))])
def test_cli_sample_sizes(app, runner, rosa, count, expected):
    build(app, rosa.id, [f"UT-S{n:03d}" for n in range(count)])
    for kind, y in zip(("initial", "surveillance", "recertification"), expected, strict=True):
        result = runner.invoke(args=["propose-sample", "--certificate", NUMBER, "--audit-type", kind, "--json"])
        assert result.exit_code == 0, result.output
        data = json.loads(result.output)
        assert set(data) == {"sites_besides_central", "minimum_sample", "formula", "seed", "central", "sample"}
        assert (data["sites_besides_central"], data["minimum_sample"], data["central"]) == (count, y, "SEDE-CENTRAL")
        assert len(data["sample"]) == y and all(set(s) == {"code", "reason"} for s in data["sample"])
        assert data["formula"].endswith(f"√{count}⌉ = {y}")


def test_cli_same_seed_same_json_and_human_output(app, runner, cert_id):
    args = ["propose-sample", "--certificate", NUMBER, "--audit-type", "surveillance", "--seed", "31337", "--json"]
    first, second = runner.invoke(args=args), runner.invoke(args=args)
    assert first.exit_code == 0 and first.output == second.output
    data = json.loads(first.output)
    assert data["seed"] == 31337 and data["formula"] == "y = ⌈0.6 × √19⌉ = 3"
    assert [s["code"] for s in data["sample"]] == [code for code, _, _ in proposal(app, seed=31337)["sample"]]
    human = runner.invoke(args=args[:-1])
    assert human.exit_code == 0
    assert "x = 19 sites besides the central function; minimum sample y = ⌈0.6 × √19⌉ = 3" in human.output
    assert "Seed: 31337" in human.output and "SEDE-CENTRAL" in human.output
    for s in data["sample"]:
        assert s["code"] in human.output


def test_cli_lists_certificates_and_refuses_unknown_ones(app, runner, cert_id):
    listed = runner.invoke(args=["certificates"])
    assert listed.exit_code == 0 and listed.output.split()[0] == NUMBER
    assert "Bureau de Certificación Andina S.A.C." in listed.output
    unknown = runner.invoke(args=["propose-sample", "--certificate", "NOPE-1", "--audit-type", "initial"])
    assert unknown.exit_code == 1 and "no certificate numbered 'NOPE-1'" in unknown.output
    bad = runner.invoke(args=["propose-sample", "--certificate", NUMBER, "--audit-type", "yearly"])
    assert bad.exit_code == 2


def test_cli_lists_nothing_politely(app, runner):
    result = runner.invoke(args=["certificates"])
    assert result.exit_code == 0 and "No certificates yet." in result.output


# -- confirming a sample ------------------------------------------------------------------------------------------


def confirm(app: Any, audit_id: int, codes: list[str], seed: int, note: str | None, actor_id: int) -> None:
    ids = site_ids(app, codes)
    with app.app_context(), write_transaction():
        audit = db.session.get(Audit, audit_id)
        sampling.confirm(audit, ids, seed, note, db.session.get(User, actor_id))


def sample_of(app: Any, audit_id: int) -> dict[str, str | None]:
    with app.app_context():
        audit = db.session.get(Audit, audit_id)
        out = {s.site.code: s.reason for s in audit.sites}
        db.session.remove()
    return out


def test_confirm_records_the_sample_and_an_audited_choice(app, rosa, cert_id):
    audit_id = add_audit(app, rosa.id, cert_id)
    proposed = [code for code, _, _ in proposal(app, seed=5)["sample"]]
    confirm(app, audit_id, ["SEDE-CENTRAL", *proposed], 5, None, rosa.id)
    sample = sample_of(app, audit_id)
    assert set(sample) == {"SEDE-CENTRAL", *proposed}
    assert sample["SEDE-CENTRAL"] == "central function: audited every time"
    with app.app_context():
        audit = db.session.get(Audit, audit_id)
        assert (audit.sample_seed, audit.sample_confirmed_by_id, audit.sample_note) == (5, rosa.id, None)
        assert audit.sample_confirmed_at is not None
        db.session.remove()
    [event] = audit_events(app, "audit.sample")
    assert event["actor_id"] == rosa.id and event["object_id"] == str(audit_id) and event["old"] is None
    new = event["new"]
    assert (new["seed"], new["minimum_sample"], new["sites_besides_central"]) == (5, 3, 19)
    assert [p["code"] for p in new["proposed"]] == proposed
    assert {s["code"] for s in new["sites"]} == {"SEDE-CENTRAL", *proposed}
    assert new["added"] == [] and new["removed"] == []


def test_a_swap_needs_a_reason_and_replaces_the_sample(app, rosa, cert_id):
    audit_id = add_audit(app, rosa.id, cert_id)
    proposed = [code for code, _, _ in proposal(app, seed=8)["sample"]]
    confirm(app, audit_id, ["SEDE-CENTRAL", *proposed], 8, "", rosa.id)
    other = next(c for c in CODES if c not in proposed)
    swapped = ["SEDE-CENTRAL", *proposed[:-1], other]
    with pytest.raises(SampleRefused) as refused:
        confirm(app, audit_id, swapped, 8, "   ", rosa.id)
    assert refused.value.field == "note" and "differs from the proposal for seed 8" in str(refused.value.message)
    confirm(app, audit_id, swapped, 8, "Heladas en la sierra: la visita a la sede no es posible en marzo.", rosa.id)
    sample = sample_of(app, audit_id)
    assert proposed[-1] not in sample
    assert sample[other] == "chosen by the officer: Heladas en la sierra: la visita a la sede no es posible en marzo."
    events = audit_events(app, "audit.sample")
    assert len(events) == 2
    assert {s["code"] for s in events[1]["old"]["sites"]} == {"SEDE-CENTRAL", *proposed}
    assert events[1]["new"]["added"] == [other] and events[1]["new"]["removed"] == [proposed[-1]]
    assert events[1]["new"]["note"].startswith("Heladas en la sierra")


def test_too_few_sites_or_no_central_function_are_refused_and_nothing_is_written(app, rosa, cert_id):
    audit_id = add_audit(app, rosa.id, cert_id)
    proposed = [code for code, _, _ in proposal(app, seed=9)["sample"]]
    with pytest.raises(SampleRefused) as few:
        confirm(app, audit_id, ["SEDE-CENTRAL", *proposed[:2]], 9, "Sólo dos", rosa.id)
    assert few.value.field == "sites"
    assert "at least 3 sites besides the central function (y = ⌈0.6 × √19⌉ = 3)" in str(few.value.message)
    with pytest.raises(SampleRefused) as central:
        confirm(app, audit_id, proposed, 9, "Sin sede central", rosa.id)
    assert "SEDE-CENTRAL" in str(central.value.message)
    outside = next(c for c in CODES if c not in proposed)
    with app.app_context(), write_transaction():
        db.session.scalar(select(Site).where(Site.code == outside)).active = False
    with pytest.raises(SampleRefused, match="Only active sites in the certificate's scope"):
        confirm(app, audit_id, ["SEDE-CENTRAL", *proposed, outside], 9, "Una más", rosa.id)
    assert sample_of(app, audit_id) == {} and audit_events(app, "audit.sample") == []


def test_only_planned_certification_audits_are_sampled(app, rosa, cert_id):
    internal = add_audit(app, rosa.id, None, "internal")
    done = add_audit(app, rosa.id, cert_id, "initial", "done", ["SEDE-CENTRAL"])
    proposed = [code for code, _, _ in proposal(app, seed=3)["sample"]]
    with pytest.raises(SampleRefused, match="Only certification audits"):
        confirm(app, internal, ["SEDE-CENTRAL", *proposed], 3, None, rosa.id)
    with pytest.raises(SampleRefused, match="no longer planned") as refused:
        confirm(app, done, ["SEDE-CENTRAL", *proposed], 3, None, rosa.id)
    assert refused.value.status == 409
    assert sample_of(app, done) == {"SEDE-CENTRAL": "initial sample"}


# -- the page -----------------------------------------------------------------------------------------------------

CHECKED = re.compile(r'name="sites" value="(\d+)" id="site-\d+"\s+checked')


def checked_codes(app: Any, body: str) -> set[str]:
    """The regional sites whose box is ticked on the sample page."""
    ids = {int(i) for i in CHECKED.findall(body)}
    with app.app_context():
        codes = set(db.session.scalars(select(Site.code).where(Site.id.in_(ids))))
        db.session.remove()
    return codes


def form_for(app: Any, body: str, codes: list[str], note: str = "") -> dict[str, Any]:
    """What the browser posts: the page's CSRF token and seed, the ticked sites (the central function's hidden)."""
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', body)
    seed = re.search(r'id="seed" name="seed" type="hidden" value="(\d+)"', body)
    assert token and seed, body[:3000]
    return {"csrf_token": token.group(1), "seed": seed.group(1), "note": note,
            "sites": [str(i) for i in site_ids(app, ["SEDE-CENTRAL", *codes])]}


def after_confirm(app: Any, audit_id: int) -> str:
    return f"/audits/{audit_id}" if "programme.audit" in app.view_functions else f"/audits/{audit_id}/sample"


def test_the_page_shows_the_formula_the_seed_and_every_candidate(app, client, login_as, rosa, cert_id):
    audit_id = add_audit(app, rosa.id, cert_id)
    add_audit(app, rosa.id, cert_id, "initial", "done", ["SEDE-CENTRAL", "UT-CUSCO"])
    login_as("quality_officer")
    resp = client.get(f"/audits/{audit_id}/sample?seed=123456")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "x = 19 sites besides the central function; minimum sample y = ⌈0.6 × √19⌉ = 3" in body
    assert 'data-testid="seed">123456<' in body
    for code in ["SEDE-CENTRAL", *CODES]:
        assert f'data-testid="site-{code}"' in body
    assert checked_codes(app, body) == {code for code, _, _ in proposal(app, seed=123456)["sample"]}
    assert "central function: audited every time" in body
    assert "not tracked yet" not in body  # open major nonconformities are counted since issue 11
    assert "visited in this cycle" in body and re.search(r"<span title=\"[^\"]+\">\d+/\d+</span>", body)
    assert re.search(r'href="/audits/\d+/sample\?seed=\d+" data-testid="draw-again"', body)
    again = client.get(f"/audits/{audit_id}/sample?seed=123456").get_data(as_text=True)
    assert checked_codes(app, again) == checked_codes(app, body)


def test_the_page_speaks_spanish(app, client, login_as, rosa, cert_id):
    audit_id = add_audit(app, rosa.id, cert_id)
    login_as("quality_officer")
    client.post_form("/lang", {"lang": "es", "next": "/"}, page="/")
    body = client.get(f"/audits/{audit_id}/sample?seed=55").get_data(as_text=True)
    assert "x = 19 sedes además de la función central; muestra mínima y = ⌈0,6 × √19⌉ = 3" in body
    assert "Confirmar muestra" in body and re.search(r"nunca visitada en este ciclo; \d+ brechas de evidencia", body)


def test_confirming_the_proposal_on_the_page(app, client, login_as, rosa, cert_id):
    audit_id = add_audit(app, rosa.id, cert_id)
    login_as("compliance_officer")
    body = client.get(f"/audits/{audit_id}/sample?seed=2024").get_data(as_text=True)
    proposed = sorted(checked_codes(app, body))
    resp = client.post(f"/audits/{audit_id}/sample", data=form_for(app, body, proposed))
    assert resp.status_code == 302 and resp.location.endswith(after_confirm(app, audit_id))
    assert set(sample_of(app, audit_id)) == {"SEDE-CENTRAL", *proposed}
    [event] = audit_events(app, "audit.sample")
    assert event["new"]["seed"] == 2024
    page = client.get(f"/audits/{audit_id}/sample").get_data(as_text=True)  # the confirmed seed comes back
    assert 'data-testid="seed">2024<' in page and 'data-testid="sample-confirmed"' in page
    assert checked_codes(app, page) == set(proposed)


def test_page_refusals_are_shown_at_the_field_and_write_nothing(app, client, login_as, rosa, cert_id):
    audit_id = add_audit(app, rosa.id, cert_id)
    login_as("quality_officer")
    body = client.get(f"/audits/{audit_id}/sample?seed=77").get_data(as_text=True)
    proposed = sorted(checked_codes(app, body))
    other = next(c for c in CODES if c not in proposed)

    swap = client.post(f"/audits/{audit_id}/sample", data=form_for(app, body, [*proposed[:-1], other]))
    assert swap.status_code == 400
    text = swap.get_data(as_text=True)
    assert "differs from the proposal for seed 77" in text and "is-invalid" in text
    assert checked_codes(app, text) == {*proposed[:-1], other}  # the person's choice is kept on the page

    few = client.post(f"/audits/{audit_id}/sample", data=form_for(app, body, proposed[:2], "sólo dos"))
    assert few.status_code == 400
    assert "Choose at least 3 sites besides the central function (y = ⌈0.6 × √19⌉ = 3)." in few.get_data(as_text=True)

    junk = form_for(app, body, proposed)
    junk["sites"].append("abc")
    assert client.post(f"/audits/{audit_id}/sample", data=junk).status_code == 400
    tampered = {**form_for(app, body, proposed), "seed": "-4"}
    assert client.post(f"/audits/{audit_id}/sample", data=tampered).status_code == 400
    long_note = form_for(app, body, [*proposed[:-1], other], "x" * 1001)
    assert client.post(f"/audits/{audit_id}/sample", data=long_note).status_code == 400
    assert sample_of(app, audit_id) == {} and audit_events(app, "audit.sample") == []

    ok = client.post(f"/audits/{audit_id}/sample", data=form_for(app, body, [*proposed[:-1], other],
                                                                 "La sede está cerrada por obras."))
    assert ok.status_code == 302
    assert sample_of(app, audit_id)[other] == "chosen by the officer: La sede está cerrada por obras."


def test_who_may_open_the_page_and_which_audits_have_one(app, client, login_as, make_user, rosa, cert_id):
    planned = add_audit(app, rosa.id, cert_id)
    internal = add_audit(app, rosa.id, None, "internal")
    done = add_audit(app, rosa.id, cert_id, "initial", "done", ["SEDE-CENTRAL"])
    login_as("auditor")
    assert client.get(f"/audits/{planned}/sample").status_code == 403
    token = client.csrf_token("/")
    assert client.post(f"/audits/{planned}/sample", data={"csrf_token": token, "seed": "1",
                                                          "sites": ["1", "2", "3", "4"]}).status_code == 403
    client.post_form("/logout", page="/")
    login_as("quality_officer")
    assert client.get("/audits/999999/sample").status_code == 404
    refused = client.get(f"/audits/{internal}/sample")
    assert refused.status_code == 400 and "Only certification audits" in refused.get_data(as_text=True)
    assert client.get(f"/audits/{planned}/sample?seed=abc").status_code == 400
    locked = client.get(f"/audits/{done}/sample")
    assert locked.status_code == 200 and 'data-testid="sample-locked"' in locked.get_data(as_text=True)
    assert 'data-testid="confirm-sample"' not in locked.get_data(as_text=True)
    body = client.get(f"/audits/{planned}/sample?seed=1").get_data(as_text=True)
    late = client.post(f"/audits/{done}/sample", data=form_for(app, body, sorted(checked_codes(app, body))))
    assert late.status_code == 409
    assert sample_of(app, done) == {"SEDE-CENTRAL": "initial sample"} and audit_events(app, "audit.sample") == []
