"""Nonconformities through the services: references numbered per year without gaps or duplicates, validation,
who may do what, closing on a no-action decision, reopening with a reason, the revision history and the view on a
past day, the register's filters counted in the database, the site signal, and verify with records present."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from typing import Any

import pytest
from records_support import DAY, add_action, as_user, clause_id, nc_input, on_nc, raise_nc, state
from sqlalchemy import func, select, text
from support import seed_document, write

from auditdocs.db import write_transaction
from auditdocs.extensions import db
from auditdocs.models import Audit, Document, Nonconformity, RecordRevision, User
from auditdocs.policy import AccessScope
from auditdocs.services import Forbidden, ServiceError, org, revisions, site_signals
from auditdocs.services import nonconformities as svc
from auditdocs.services.nc_queries import NcFilters, days_to_close, filtered, open_nonconformities_query
from auditdocs.services.programme import InvalidInput


@pytest.fixture
def people(make_user):
    return {"quality": make_user("quality_officer").id, "compliance": make_user("compliance_officer").id,
            "admin": make_user("admin").id, "auditor": make_user("auditor").id}


def _references(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(Nonconformity.reference).order_by(Nonconformity.id)))


def test_references_are_numbered_per_year(app, people):
    for day in (date(2026, 1, 5), date(2026, 12, 31), date(2027, 1, 1)):
        raise_nc(app, people["quality"], today=day, detected_on=day)
    assert _references(app) == ["NC-2026-0001", "NC-2026-0002", "NC-2027-0001"]


def test_a_rolled_back_creation_gives_its_number_back(app, people):
    raise_nc(app, people["quality"])
    with app.app_context(), pytest.raises(RuntimeError), write_transaction():
        actor = db.session.get(User, people["quality"])
        assert svc.create_nonconformity(nc_input(), actor=actor, today=DAY).reference == "NC-2026-0002"
        raise RuntimeError("the request failed after the number was taken")
    with pytest.raises(InvalidInput):  # refused input takes no number either
        raise_nc(app, people["quality"], title="")
    raise_nc(app, people["quality"])
    assert _references(app) == ["NC-2026-0001", "NC-2026-0002"]


def test_concurrent_creations_never_share_or_skip_a_number(app, people):
    errors: list[BaseException] = []

    def recorder(user_id: int) -> None:
        try:
            for _ in range(5):
                raise_nc(app, user_id)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=recorder, args=(people[r],)) for r in ("quality", "compliance")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(_references(app)) == [f"NC-2026-{n:04d}" for n in range(1, 11)]


def test_bad_values_are_reported_per_field_and_nothing_is_written(app, people):
    with pytest.raises(InvalidInput) as invalid:
        raise_nc(app, people["quality"], title=" ", description="", source="rumour", grade="critical",
                 detected_on=DAY + timedelta(days=1), detected_by_name=None, root_cause_method="ishikawa",
                 ishikawa_category="weather", audit_id=999999, site_id=999999, clause_ids=[999999])
    assert set(invalid.value.errors) == {"title", "description", "source", "grade", "detected_on",
                                         "detected_by_name", "ishikawa_category", "audit_id", "site_id",
                                         "clause_ids"}
    with pytest.raises(InvalidInput) as wrong_source:
        raise_nc(app, people["quality"], source="complaint", audit_id=1)
    assert "audit_id" in wrong_source.value.errors
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Nonconformity)) == 0
        assert db.session.scalar(select(func.count()).select_from(RecordRevision)) == 0


def test_auditors_read_but_never_write(app, people):
    nc = raise_nc(app, people["quality"])
    with pytest.raises(Forbidden):
        raise_nc(app, people["auditor"])
    with pytest.raises(Forbidden):
        as_user(app, people["auditor"], lambda actor: svc.update_nonconformity(
            db.session.get(Nonconformity, nc), nc_input(title="Cambiado"), actor=actor, today=DAY))
    with app.app_context():
        scope = AccessScope.of(db.session.get(User, people["auditor"]))
        assert svc.get_nonconformity(scope, nc).id == nc
        assert db.session.scalars(open_nonconformities_query(scope)).all()[0].id == nc
        with pytest.raises(ServiceError) as missing:
            svc.get_nonconformity(scope, nc + 1000)
        assert missing.value.status == 404


def test_an_observation_closes_on_a_recorded_decision_that_no_action_is_needed(app, people):
    observation = raise_nc(app, people["quality"], grade="observation")
    major = raise_nc(app, people["quality"], grade="major")
    with pytest.raises(InvalidInput) as invalid:
        on_nc(app, people["quality"], observation, svc.close_nonconformity, today=DAY, note="", no_action=True)
    assert set(invalid.value.errors) == {"closure_note"}
    with pytest.raises(Forbidden):  # administrators do not close: compliance and quality officers do
        on_nc(app, people["admin"], observation, svc.close_nonconformity, today=DAY, note="No procede",
              no_action=True)
    with pytest.raises(ServiceError) as refused:
        on_nc(app, people["quality"], major, svc.close_nonconformity, today=DAY, note="No procede", no_action=True)
    assert refused.value.status == 409
    on_nc(app, people["quality"], observation, svc.close_nonconformity, today=DAY,
          note="Riesgo aceptado por la dirección; se vigilará en la próxima auditoría", no_action=True)
    with app.app_context():
        row = db.session.get(Nonconformity, observation)
        assert (row.status, row.no_action_decision, row.closed_on) == ("closed", True, DAY)


def test_an_observation_with_an_action_waits_for_it(app, people):
    nc = raise_nc(app, people["quality"], grade="improvement_opportunity")
    add_action(app, people["quality"], nc, people["compliance"])
    with pytest.raises(ServiceError) as refused:
        on_nc(app, people["quality"], nc, svc.close_nonconformity, today=DAY, note="No procede", no_action=True)
    assert refused.value.status == 409


def test_a_closed_nonconformity_reopens_with_a_reason_and_is_edited_only_then(app, people):
    nc = raise_nc(app, people["quality"], grade="observation")
    on_nc(app, people["compliance"], nc, svc.close_nonconformity, today=DAY, note="Sin acción", no_action=True)
    with pytest.raises(ServiceError) as closed:
        as_user(app, people["quality"], lambda actor: svc.update_nonconformity(
            db.session.get(Nonconformity, nc), nc_input(grade="observation", title="Otro"), actor=actor, today=DAY))
    assert closed.value.status == 409
    with pytest.raises(InvalidInput):
        on_nc(app, people["compliance"], nc, svc.reopen_nonconformity, reason=" ")
    with pytest.raises(Forbidden):
        on_nc(app, people["admin"], nc, svc.reopen_nonconformity, reason="Reincidencia")
    on_nc(app, people["compliance"], nc, svc.reopen_nonconformity, reason="Reincidencia en la auditoría de junio")
    assert state(app, nc) == ("open", False, [])
    with pytest.raises(ServiceError) as again:
        on_nc(app, people["compliance"], nc, svc.reopen_nonconformity, reason="Otra vez")
    assert again.value.status == 409
    with app.app_context():
        history = revisions.history("nonconformity", nc)
        assert [revisions.fields_of(r)["status"] for r in history] == ["open", "closed", "open"]
        assert history[-1].change_note == "Reincidencia en la auditoría de junio"
        reopened = {c.field: (c.old, c.new) for c in revisions.diff(history[1], history[2])}
        assert reopened["status"] == ("closed", "open")
        assert reopened["closure_note"] == ("Sin acción", None)
        assert reopened["reopen_reason"] == (None, "Reincidencia en la auditoría de junio")


def test_every_change_is_a_revision_and_the_past_stays_readable(app, people):
    clause = clause_id(app, "iso9001_2015", "10.2")
    nc = raise_nc(app, people["quality"], clause_ids=[clause])
    with app.app_context():
        first = revisions.latest("nonconformity", nc)
        assert first is not None
        created = first.created_at
    changed = as_user(app, people["compliance"], lambda actor: svc.update_nonconformity(
        db.session.get(Nonconformity, nc), nc_input(grade="major", clause_ids=[], root_cause_method="five_whys",
                                                     root_cause="No hay responsable del registro"),
        actor=actor, today=DAY, note="Análisis de causa"))
    unchanged = as_user(app, people["compliance"], lambda actor: svc.update_nonconformity(
        db.session.get(Nonconformity, nc), nc_input(grade="major", root_cause_method="five_whys",
                                                     root_cause="No hay responsable del registro"),
        actor=actor, today=DAY))
    assert (changed, unchanged) == (True, False)
    with app.app_context():
        history = revisions.history("nonconformity", nc)
        assert [(r.number, r.author_id) for r in history] == [(1, people["quality"]), (2, people["compliance"])]
        changes = {c.field: (c.old, c.new) for c in revisions.diff(history[0], history[1])}
        assert changes == {"grade": ("minor", "major"), "clause_ids": (str(clause), ""),
                           "root_cause_method": (None, "five_whys"),
                           "root_cause": (None, "No hay responsable del registro")}
        then = revisions.as_of("nonconformity", nc, created)
        assert then is not None and revisions.fields_of(then)["grade"] == "minor"
        assert revisions.as_of("nonconformity", nc, DAY - timedelta(days=400)) is None
        row = db.session.get(Nonconformity, nc)
        assert (row.revision, row.clauses, row.reference) == (2, [], "NC-2026-0001")


def test_links_to_documents_are_only_to_documents_the_person_sees(app, people, make_user, tmp_path):
    author = make_user("quality_officer")
    doc = seed_document(app, author.id, write(tmp_path / "PR-GA-002.txt", b"Registro de obsequios\n"),
                        code="PR-GA-002", title="Obsequios", approver_id=people["quality"])
    with app.app_context(), write_transaction():
        db.session.get(Document, doc).confidentiality = "restricted"
    with pytest.raises(InvalidInput) as hidden:
        raise_nc(app, people["compliance"], document_ids=[doc])
    assert set(hidden.value.errors) == {"document_ids"}
    nc = raise_nc(app, author.id, document_ids=[doc])  # the owner sees it
    with app.app_context():
        row = db.session.get(Nonconformity, nc)
        assert ([d.id for d in row.documents], row.document_ids) == ([doc], str(doc))


@pytest.fixture
def register(app, people) -> dict[str, Any]:
    """Sites (Cusco with an office under it, Puno), a process, and four nonconformities across them."""
    with app.app_context(), write_transaction():
        head = org.create_site(org.SiteData(code="SEDE", name_es="Sede Central"))
        cusco = org.create_site(org.SiteData(code="UT-CUSCO", name_es="UT Cusco", parent_id=head.id))
        office = org.create_site(org.SiteData(code="OE-QUILLA", name_es="OE Quillabamba", parent_id=cusco.id))
        puno = org.create_site(org.SiteData(code="UT-PUNO", name_es="UT Puno", parent_id=head.id))
        process = org.create_process(org.ProcessData(code="PO-01", name_es="Visitas domiciliarias"))
        ids = {"site_cusco": cusco.id, "site_office": office.id, "site_puno": puno.id, "process": process.id}
    clause = clause_id(app, "iso37001_2016", "8.7")
    q = people["quality"]
    ids["gifts"] = raise_nc(app, q, grade="major", site_id=ids["site_office"], clause_ids=[clause],
                            source="anti_bribery_concern", title="Obsequio no declarado en Quillabamba")
    ids["late"] = raise_nc(app, q, grade="major", site_id=ids["site_cusco"], process_id=ids["process"],
                           title="Visitas fuera de plazo")
    ids["puno"] = raise_nc(app, q, grade="minor", site_id=ids["site_puno"], title="Acta sin firma")
    ids["obs"] = raise_nc(app, q, grade="observation", site_id=ids["site_puno"], title="Mejorar la señalética")
    add_action(app, q, ids["late"], people["compliance"], due=DAY + timedelta(days=5))
    on_nc(app, q, ids["obs"], svc.close_nonconformity, today=DAY, note="Sin acción", no_action=True)
    ids["clause"] = clause
    return ids


@pytest.mark.parametrize(("filters", "expected"), [
    (NcFilters(), {"gifts", "late", "puno", "obs"}),
    (NcFilters(status="not_closed"), {"gifts", "late", "puno"}),
    (NcFilters(status="in_progress"), {"late"}),
    (NcFilters(status="closed", grade="observation"), {"obs"}),
    (NcFilters(grade="major"), {"gifts", "late"}),
    (NcFilters(source="anti_bribery_concern"), {"gifts"}),
    (NcFilters(text="QUILLABAMBA obsequio"), set()),  # the whole phrase, not words
    (NcFilters(text="obsequio no declarado"), {"gifts"}),
    (NcFilters(text="senaletica"), {"obs"}),  # accents folded
    (NcFilters(text="nc-2026-0003"), {"puno"}),
    (NcFilters(text="100%_"), set()),  # LIKE wildcards are literal
    (NcFilters(status="bogus"), set()),
    (NcFilters(grade="bogus"), set()),
])
def test_register_filters(app, people, register, filters, expected):
    with app.app_context():
        scope = AccessScope.of(db.session.get(User, people["auditor"]))
        rows = {row.id for row in db.session.scalars(filtered(scope, filters, DAY))}
        found = {name for name in ("gifts", "late", "puno", "obs") if register[name] in rows}
    assert found == expected


def test_register_filters_by_site_subtree_process_clause_and_overdue(app, people, register):
    def names(filters: NcFilters, today: date = DAY) -> set[str]:
        with app.app_context():
            scope = AccessScope.of(db.session.get(User, people["quality"]))
            rows = {row.id for row in db.session.scalars(filtered(scope, filters, today))}
        return {name for name in ("gifts", "late", "puno", "obs") if register[name] in rows}

    assert names(NcFilters(site_id=register["site_cusco"])) == {"gifts", "late"}  # Cusco and its office
    assert names(NcFilters(site_id=register["site_office"])) == {"gifts"}
    assert names(NcFilters(process_id=register["process"])) == {"late"}
    assert names(NcFilters(clause_id=register["clause"])) == {"gifts"}
    assert names(NcFilters(overdue=True)) == set()
    assert names(NcFilters(overdue=True), today=DAY + timedelta(days=6)) == {"late"}


def test_open_major_nonconformities_are_a_site_signal(app, register):
    with app.app_context():
        assert site_signals.tracked(site_signals.OPEN_MAJOR_NONCONFORMITIES)
        found = site_signals.signals([register["site_cusco"], register["site_office"], register["site_puno"]], DAY)
        assert {k: v.open_major_nonconformities for k, v in found.items()} == {
            register["site_cusco"]: 1, register["site_office"]: 1, register["site_puno"]: 0}


def test_verify_is_clean_with_records_and_finds_a_row_changed_by_hand(app, people, register, runner):
    result = runner.invoke(args=["verify"])
    assert result.exit_code == 0, result.output
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(text("UPDATE nonconformities SET grade = 'minor' WHERE id = :id"), {"id": register["gifts"]})
    result = runner.invoke(args=["verify"])
    assert result.exit_code == 1
    assert (f"nonconformity {register['gifts']}: grade is 'minor' in the row but 'major' in revision 1"
            in result.output)


@pytest.mark.parametrize("table", ["nonconformities", "corrective_actions", "record_counters"])
def test_the_database_refuses_deleting_records(app, people, register, table):
    with app.app_context(), pytest.raises(Exception, match="kept for ever"), db.engine.begin() as conn:
        conn.execute(text(f"DELETE FROM {table}"))  # noqa: S608 - a name from the parameter list
    assert len(_references(app)) == 4


def _audit(app, user_id: int, audit_type: str) -> int:
    with app.app_context(), write_transaction():
        item = Audit(audit_type=audit_type, planned_start=DAY, auditing_body="Equipo auditor", created_by_id=user_id)
        db.session.add(item)
        db.session.flush()
        return item.id


def test_a_finding_from_an_audit_names_an_audit_of_the_same_kind(app, people):
    internal, external = _audit(app, people["quality"], "internal"), _audit(app, people["quality"], "initial")
    for source, audit_id in (("internal_audit", external), ("external_audit", internal), ("complaint", internal)):
        with pytest.raises(InvalidInput) as invalid:
            raise_nc(app, people["quality"], source=source, audit_id=audit_id)
        assert set(invalid.value.errors) == {"audit_id"}
    nc = raise_nc(app, people["quality"], source="external_audit", audit_id=external)
    with app.app_context():
        assert db.session.get(Nonconformity, nc).audit.id == external


def test_days_from_detection_to_closure_are_counted_in_the_database(app, people):
    nc = raise_nc(app, people["quality"], grade="observation", detected_on=DAY - timedelta(days=40))
    still_open = raise_nc(app, people["quality"])
    on_nc(app, people["quality"], nc, svc.close_nonconformity, today=DAY, note="Sin acción", no_action=True)
    with app.app_context():
        days = dict(db.session.execute(select(Nonconformity.id, days_to_close())).all())
    assert days == {nc: 40, still_open: None}
