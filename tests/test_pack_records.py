"""The records a pack cites per clause (packs.load_records), read from a real database built through the services:
the period's edges, what each role is shown, the chosen sites, the registers' clauses, the counts, both languages,
and a number of queries that does not grow with the number of records."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest
from flask import Flask
from flask_babel import force_locale
from records_support import act, add_action, as_user, implemented, on_nc, raise_nc
from risks_support import approve, new_exercise, new_risk, reassess
from sqlalchemy import event, select

from auditdocs.db import write_transaction
from auditdocs.extensions import db
from auditdocs.models import BriberyRisk, Clause, DueDiligence, Gift, Nonconformity, Standard, User
from auditdocs.packs.content import HeatMapBlock, TableBlock
from auditdocs.packs.load_records import RecordEvidence, record_evidence
from auditdocs.packs.places import places_of
from auditdocs.packs.spec import PackSpec
from auditdocs.policy import AccessScope
from auditdocs.services import actions, due_diligence, gifts, nonconformities, org, programme
from auditdocs.services.due_diligence import DdInput
from auditdocs.services.gifts import GiftInput
from auditdocs.services.org import SiteData
from auditdocs.services.programme import AuditInput
from auditdocs.timeutil import replayed_at

ISO_9001, ISO_37001 = "ISO 9001:2015", "ISO 37001:2016"
START, END = date(2026, 3, 1), date(2026, 5, 31)
LATER = date(2026, 6, 10)  # "today" for every step: the period is over
CLAUSES = ((ISO_9001, "8.5.1"), (ISO_9001, "9.2"), (ISO_9001, "10.2"), (ISO_37001, "4.5"), (ISO_37001, "8.2"),
           (ISO_37001, "8.7"), (ISO_37001, "9.2"), (ISO_37001, "10.1"))
Key = tuple[str, str]


@dataclass
class World:
    """Ids of the people and places every test reads with."""

    admin: int
    quality: int
    compliance: int
    auditor: int
    sites: dict[str, int]


def _site(code: str, name: str, parent: int | None = None) -> int:
    return org.create_site(SiteData(code=code, name_es=name, name_en=f"{name} (en)", parent_id=parent)).id


@pytest.fixture
def world(app: Flask, make_user: Any) -> World:
    """Four roles, and a head office with two regions, one of which has a local office."""
    people = [make_user(role).id for role in ("admin", "quality_officer", "compliance_officer", "auditor")]
    with app.app_context(), write_transaction():
        lim = _site("LIM", "Sede central")
        cus = _site("CUS", "UT Cusco", lim)
        sites = {"LIM": lim, "CUS": cus, "CUS-01": _site("CUS-01", "Oficina Quillabamba", cus),
                 "ARE": _site("ARE", "UT Arequipa", lim)}
    return World(*people, sites=sites)


def clause_id(app: Flask, standard: str, number: str) -> int:
    with app.app_context():
        found = db.session.scalar(select(Clause.id).join(Standard, Standard.id == Clause.standard_id)
                                  .where(Standard.code == standard, Clause.number == number))
        assert found is not None
        return found


@dataclass
class Result:
    """What record_evidence gave, keyed by (standard, clause number)."""

    blocks: dict[Key, list[Any]]
    counts: dict[Key, int]

    def tables(self, key: Key) -> list[TableBlock]:
        return [b for b in self.blocks.get(key, []) if isinstance(b, TableBlock)]

    def column(self, key: Key, table: int = 0, column: int = 0) -> list[str]:
        """One column of one table of a clause: the references it cites, say."""
        found = self.tables(key)
        return [row[column] for row in found[table].rows] if len(found) > table else []


def evidence(app: Flask, user_id: int, *, sites: tuple[str, ...] = (), audit_id: int | None = None,
             lang: str = "en", clauses: tuple[Key, ...] = CLAUSES) -> Result:
    """Run record_evidence as the user would build the pack, in the pack's language."""
    spec = PackSpec(standards=(ISO_9001, ISO_37001), date_from=START, date_to=END, lang=lang, sites=sites,
                    audit_id=audit_id)
    with app.app_context(), force_locale(lang):
        rows = db.session.execute(select(Clause, Standard.code).join(Standard, Standard.id == Clause.standard_id)
                                  .order_by(Standard.sort_order, Clause.sort_key)).all()
        chosen = [(clause, (code, clause.number)) for clause, code in rows if (code, clause.number) in clauses]
        found = record_evidence(spec, AccessScope.of(db.session.get(User, user_id)), places_of(spec),
                                [c for c, _key in chosen])
        keys = {c.id: key for c, key in chosen}
        assert set(found.blocks) == set(found.counts)
        return Result({keys[i]: b for i, b in found.blocks.items()}, {keys[i]: n for i, n in found.counts.items()})


def closed_without_action(app: Flask, w: World, *, detected: date, closed: date, **fields: Any) -> int:
    """An observation closed on a day on the decision that no action is needed."""
    nc = raise_nc(app, w.quality, today=detected, detected_on=detected, grade="observation", **fields)
    on_nc(app, w.compliance, nc, nonconformities.close_nonconformity, today=closed, note="No requiere acción",
          no_action=True)
    return nc


def ref(app: Flask, model: Any, row_id: int) -> str:
    """A record's reference (NC-2026-0001, BR-0001...)."""
    with app.app_context():
        return str(db.session.get(model, row_id).reference)


def refs(app: Flask, model: Any, *ids: int) -> list[str]:
    """References in the order a pack prints them."""
    return sorted(ref(app, model, i) for i in ids)


# -- nonconformities and actions --------------------------------------------------------------------------------


def test_a_nonconformity_counts_while_open_in_the_period_and_both_registers_list_it(app: Flask, world: World):
    w, c851 = world, clause_id(app, ISO_9001, "8.5.1")
    closed_before = closed_without_action(app, w, detected=date(2026, 1, 10), closed=date(2026, 2, 28),
                                          clause_ids=[c851])
    closed_first_day = closed_without_action(app, w, detected=date(2026, 1, 10), closed=START, clause_ids=[c851])
    detected_last_day = raise_nc(app, w.quality, today=LATER, detected_on=END, clause_ids=[c851])
    detected_after = raise_nc(app, w.quality, today=LATER, detected_on=date(2026, 6, 1), clause_ids=[c851])

    found = evidence(app, w.auditor)

    expected = refs(app, Nonconformity, closed_first_day, detected_last_day)
    assert found.column((ISO_9001, "8.5.1")) == expected
    assert ref(app, Nonconformity, closed_before) not in found.column((ISO_9001, "10.2"))
    assert ref(app, Nonconformity, detected_after) not in found.column((ISO_9001, "10.2"))
    assert found.column((ISO_9001, "10.2")) == found.column((ISO_37001, "10.1")) == expected
    first = found.tables((ISO_9001, "8.5.1"))[0]
    assert first.columns == ("Reference", "Title", "Grade", "Site", "Detected on", "Status", "Closed on")
    assert first.rows[expected.index(ref(app, Nonconformity, closed_first_day))][4:] == (
        "2026-01-10", "Closed", "2026-03-01")
    assert found.counts == {(ISO_9001, "8.5.1"): 2, (ISO_9001, "10.2"): 2, (ISO_37001, "10.1"): 2}
    assert found.tables((ISO_9001, "10.2"))[0].caption != first.caption  # the register says it is the register


def test_the_actions_of_the_period_s_nonconformities_follow_them_with_their_effectiveness(app: Flask, world: World):
    w, c851 = world, clause_id(app, ISO_9001, "8.5.1")
    nc = raise_nc(app, w.quality, today=LATER, detected_on=date(2026, 4, 1), grade="minor", clause_ids=[c851],
                  site_id=w.sites["CUS-01"])
    first = add_action(app, w.quality, nc, w.quality, due=date(2026, 4, 30), today=date(2026, 4, 1))
    implemented(app, w.quality, first, today=date(2026, 4, 10))
    act(app, w.compliance, first, actions.record_check, today=date(2026, 4, 20), effective=True,
        evidence="Verificado en campo")
    add_action(app, w.quality, nc, w.compliance, due=date(2026, 7, 15), today=date(2026, 4, 21),
               description="Revisar el procedimiento de registro")

    found = evidence(app, w.auditor)

    nc_table, action_table = found.tables((ISO_9001, "8.5.1"))
    assert nc_table.rows[0][2:4] == ("Minor nonconformity", "CUS-01 — Oficina Quillabamba (en)")
    assert nc_table.rows[0][5] == "Actions in progress"
    assert action_table.columns == ("Nonconformity", "Action", "Owner", "Status", "Due", "Implemented on",
                                    "Effectiveness")
    reference = ref(app, Nonconformity, nc)
    with app.app_context():
        owners = [db.session.get(User, i).name for i in (w.quality, w.compliance)]  # type: ignore[union-attr]
    assert action_table.rows == [
        (reference, "A1: Capacitar al personal en el registro de obsequios", owners[0], "Effective", "2026-04-30",
         "2026-04-10", "Effective (2026-04-20)"),
        (reference, "A2: Revisar el procedimiento de registro", owners[1], "Planned", "2026-07-15", "", ""),
    ]
    assert found.counts[(ISO_9001, "8.5.1")] == 3  # one nonconformity and two actions: rows, not tables
    assert found.counts[(ISO_9001, "10.2")] == found.counts[(ISO_37001, "10.1")] == 3
    assert (ISO_9001, "9.2") not in found.blocks and (ISO_9001, "9.2") not in found.counts


def test_only_the_clauses_of_the_pack_get_blocks(app: Flask, world: World):
    c851 = clause_id(app, ISO_9001, "8.5.1")
    raise_nc(app, world.quality, today=LATER, detected_on=date(2026, 4, 1), clause_ids=[c851])
    found = evidence(app, world.auditor, clauses=((ISO_9001, "8.5.1"), (ISO_37001, "8.7")))
    assert list(found.counts) == [(ISO_9001, "8.5.1")]


def test_records_at_sites_outside_the_chosen_ones_are_left_out(app: Flask, world: World):
    w, c851 = world, clause_id(app, ISO_9001, "8.5.1")
    local = raise_nc(app, w.quality, today=LATER, detected_on=date(2026, 4, 1), clause_ids=[c851],
                     site_id=w.sites["CUS-01"])
    elsewhere = raise_nc(app, w.quality, today=LATER, detected_on=date(2026, 4, 2), clause_ids=[c851],
                         site_id=w.sites["ARE"])
    nowhere = raise_nc(app, w.quality, today=LATER, detected_on=date(2026, 4, 3), clause_ids=[c851])
    audit = as_user(app, w.quality, lambda actor: programme.create_audit(AuditInput(
        "internal", date(2026, 4, 20), "Equipo de auditoría interna", planned_end=date(2026, 4, 21),
        site_ids=[w.sites["ARE"]]), actor=actor, today=LATER).id)

    assert evidence(app, w.auditor).column((ISO_9001, "8.5.1")) == refs(app, Nonconformity, local, elsewhere,
                                                                           nowhere)
    cusco = evidence(app, w.auditor, sites=("CUS",))
    assert cusco.column((ISO_9001, "8.5.1")) == refs(app, Nonconformity, local, nowhere)
    assert cusco.column((ISO_9001, "10.2")) == refs(app, Nonconformity, local, nowhere)
    assert (ISO_9001, "9.2") not in cusco.blocks  # the only internal audit visited Arequipa
    one_audit = evidence(app, w.auditor, audit_id=audit)
    assert one_audit.column((ISO_9001, "8.5.1")) == refs(app, Nonconformity, elsewhere, nowhere)
    assert one_audit.counts[(ISO_9001, "9.2")] == 1


# -- the bribery-risk register (ISO 37001 4.5) ------------------------------------------------------------------


def _risks(app: Flask, w: World) -> dict[str, int]:
    """One approved risk in Cusco later reassessed (pending), one never approved, one approved in Arequipa."""
    exercise = new_exercise(app, w.quality)
    cusco = new_risk(app, w.quality, exercise, site_id=w.sites["CUS"], owner_id=w.quality)
    approve(app, w.compliance, cusco, today=date(2026, 3, 5))
    reassess(app, w.quality, cusco, exercise, today=date(2026, 3, 9), site_id=w.sites["CUS"], owner_id=w.quality,
             title="Cobro por agilizar trámites", inherent_likelihood=5, inherent_impact=5)
    pending = new_risk(app, w.quality, exercise, title="Riesgo aún sin aprobar")
    arequipa = new_risk(app, w.quality, exercise, site_id=w.sites["ARE"], title="Dádivas en la entrega de bonos",
                        inherent_likelihood=2, inherent_impact=2)
    approve(app, w.compliance, arequipa, today=date(2026, 3, 6))
    return {"cusco": cusco, "pending": pending, "arequipa": arequipa}


def test_auditors_see_each_risk_as_last_approved_and_staff_see_the_current_state(app: Flask, world: World):
    w = world
    risk = _risks(app, w)
    key = (ISO_37001, "4.5")

    auditor = evidence(app, w.auditor)
    table = auditor.tables(key)[0]
    assert table.columns == ("Reference", "Risk", "Process and site", "Inherent risk", "Residual risk", "Owner",
                             "Status", "Approved on")
    assert [r[0] for r in table.rows] == refs(app, BriberyRisk, risk["cusco"], risk["arequipa"])
    cusco = table.rows[0]
    assert cusco[1] == "Pago indebido a inspector municipal"  # not the reassessment waiting for approval
    assert cusco[2] == "CUS — UT Cusco (en)"
    assert cusco[3:5] == ("High (16)", "Medium (6)")
    assert cusco[6:] == ("Assessment approved", "2026-03-05")
    assert auditor.counts[key] == 2  # rows; the heat maps cite no record of their own

    heat = [b for b in auditor.blocks[key] if isinstance(b, HeatMapBlock)]
    assert [b.heatmap.which for b in heat] == ["inherent", "residual"]
    assert heat[0].heatmap.total == 2 and heat[0].heatmap.cell(4, 4).count == 1
    assert heat[0].words is not None and heat[0].words["high"] == "High"
    assert "version 1" in heat[0].caption

    staff = evidence(app, w.compliance)
    rows = staff.tables(key)[0].rows
    assert [r[0] for r in rows] == refs(app, BriberyRisk, *risk.values())
    assert rows[0][1] == "Cobro por agilizar trámites" and rows[0][3] == "Critical (25)"
    assert rows[0][6] == "Pending approval"
    assert next(b for b in staff.blocks[key] if isinstance(b, HeatMapBlock)).heatmap.cell(5, 5).count == 1

    assert [r[0] for r in evidence(app, w.auditor, sites=("CUS",)).tables(key)[0].rows] == [cusco[0]]


def test_no_risk_the_scope_may_see_no_block(app: Flask, world: World):
    exercise = new_exercise(app, world.quality)
    new_risk(app, world.quality, exercise)  # never approved: nothing for an auditor
    assert (ISO_37001, "4.5") not in evidence(app, world.auditor).blocks
    assert evidence(app, world.quality).counts[(ISO_37001, "4.5")] == 1


# -- due diligence (8.2) and gifts (8.7) --------------------------------------------------------------------------


def _file(app: Flask, w: World, opened: date, decided: date | None = None, site: str | None = None,
          name: str = "Transportes Illimani SRL", at: datetime | None = None) -> int:
    """A due-diligence file opened on a day (the clock replayed: 10:00 in Lima, or `at`), decided on another or not
    yet."""
    decision = {"result": "Sin observaciones", "decision": "proceed", "decided_on": decided,
                "reviewer_id": w.compliance, "next_review": date(2027, 3, 1)} if decided else {}
    data = DdInput(subject_type="business_associate", subject_name=name, category="supplier", risk_level="medium",
                   checks_performed="Consulta RUC y listas de sancionados",
                   site_id=w.sites[site] if site else None, **decision)
    with replayed_at(at or datetime(opened.year, opened.month, opened.day, 15, tzinfo=UTC)):
        return as_user(app, w.compliance, lambda actor: due_diligence.create_due_diligence(
            data, actor=actor, today=decided or opened).id)


def _gift(app: Flask, w: World, day: date, site: str | None = None) -> int:
    data = GiftInput(kind="gift", direction="received", internal_party="Jefatura de la UT Cusco",
                     counterparty="Constructora Andina SAC", counterparty_category="contractor", occurred_on=day,
                     value="80.00", currency="PEN", description="Canasta navideña", purpose="Fiestas de fin de año",
                     site_id=w.sites[site] if site else None)
    return as_user(app, w.quality, lambda actor: gifts.create_gift(data, actor=actor, today=LATER).id)


def test_due_diligence_files_worked_on_in_the_period_and_gifts_given_or_received_in_it(app: Flask, world: World):
    w = world
    _file(app, w, date(2026, 2, 1), decided=date(2026, 2, 20))  # decided before the period
    decided_in = _file(app, w, date(2026, 2, 1), decided=date(2026, 3, 15))
    still_open = _file(app, w, date(2026, 4, 10), site="CUS-01")
    _file(app, w, date(2026, 6, 5))  # opened after it
    late_evening = _file(app, w, END, at=datetime(2026, 6, 1, 4, 30, tzinfo=UTC))  # 23:30 on 31 May in Lima
    _file(app, w, LATER, at=datetime(2026, 6, 1, 5, 30, tzinfo=UTC))  # 00:30 on 1 June in Lima
    arequipa_file = _file(app, w, date(2026, 4, 10), site="ARE")
    _gift(app, w, date(2026, 2, 28))
    first_day = _gift(app, w, START, site="CUS")
    last_day = _gift(app, w, END)
    _gift(app, w, date(2026, 6, 1))
    arequipa_gift = _gift(app, w, date(2026, 4, 1), site="ARE")

    found = evidence(app, w.auditor)
    assert found.column((ISO_37001, "8.2")) == refs(app, DueDiligence, decided_in, still_open, arequipa_file,
                                                    late_evening)
    assert found.column((ISO_37001, "8.7")) == [ref(app, Gift, i) for i in (first_day, arequipa_gift, last_day)]
    dd = found.tables((ISO_37001, "8.2"))[0]
    assert dd.columns == ("Reference", "Subject", "Category", "Site", "Risk level", "Opened on", "Status",
                          "Decision", "Decided on")
    assert dd.rows[0][1:] == ("Transportes Illimani SRL", "Supplier", "", "Medium", "2026-02-01",
                              "Decided", "Proceed", "2026-03-15")
    assert dd.rows[1][5:8] == ("2026-04-10", "In progress", "Not decided yet")
    opened = {row[0]: row[5] for row in dd.rows}
    assert opened[ref(app, DueDiligence, late_evening)] == "2026-05-31"  # the day in Lima, not in UTC
    gift = found.tables((ISO_37001, "8.7"))[0]
    assert gift.rows[0][1:] == ("2026-03-01", "Gift", "Received", "Constructora Andina SAC", "CUS — UT Cusco (en)",
                                "80.00 PEN", "", "Waiting for approval")
    assert found.counts[(ISO_37001, "8.2")] == 4 and found.counts[(ISO_37001, "8.7")] == 3

    cusco = evidence(app, w.auditor, sites=("CUS",))
    assert cusco.column((ISO_37001, "8.2")) == refs(app, DueDiligence, decided_in, still_open, late_evening)
    assert cusco.column((ISO_37001, "8.7")) == [ref(app, Gift, i) for i in (first_day, last_day)]


# -- internal audits (9.2 of both standards) ------------------------------------------------------------------------


def _audit(app: Flask, w: World, start: date, end: date, sites: tuple[str, ...] = (), done: bool = False) -> int:
    dates: dict[str, Any] = {"actual_start": start, "actual_end": end, "status": "done"} if done else {}
    data = AuditInput("internal", start, "Equipo de auditoría interna", planned_end=end, lead_auditor="Ana Quispe",
                      site_ids=[w.sites[s] for s in sites], **dates)
    return as_user(app, w.quality, lambda actor: programme.create_audit(data, actor=actor, today=LATER).id)


def test_the_internal_audits_whose_days_meet_the_period_are_listed_on_both_9_2_clauses(app: Flask, world: World):
    w = world
    _audit(app, w, date(2026, 2, 1), date(2026, 2, 3))
    _audit(app, w, date(2026, 2, 27), START, sites=("CUS",), done=True)  # ends on the period's first day
    _audit(app, w, date(2026, 4, 20), date(2026, 4, 22), sites=("CUS-01", "LIM"))
    _audit(app, w, date(2026, 6, 1), date(2026, 6, 2))
    _audit(app, w, date(2026, 4, 1), date(2026, 4, 1), sites=("ARE",))
    _audit(app, w, END, END)  # placed at no site: the whole organisation's

    found = evidence(app, w.auditor)
    table = found.tables((ISO_9001, "9.2"))[0]
    assert found.tables((ISO_37001, "9.2")) == [table]
    assert table.columns == ("Dates", "Audit team", "Lead auditor", "Sites", "Processes", "Status")
    assert table.rows == [
        ("2026-02-27 – 2026-03-01", "Equipo de auditoría interna", "Ana Quispe", "CUS", "", "Done"),
        ("2026-04-01", "Equipo de auditoría interna", "Ana Quispe", "ARE", "", "Planned"),
        ("2026-04-20 – 2026-04-22", "Equipo de auditoría interna", "Ana Quispe", "CUS-01, LIM", "", "Planned"),
        ("2026-05-31", "Equipo de auditoría interna", "Ana Quispe", "", "", "Planned"),
    ]
    assert found.counts[(ISO_9001, "9.2")] == found.counts[(ISO_37001, "9.2")] == 4
    cusco = evidence(app, w.auditor, sites=("CUS",)).tables((ISO_9001, "9.2"))[0]
    assert [r[3] for r in cusco.rows] == ["CUS", "CUS-01, LIM", ""]


# -- languages, scope, queries ------------------------------------------------------------------------------------


def test_tables_are_printed_in_the_pack_s_language(app: Flask, world: World):
    w = world
    closed_without_action(app, w, detected=date(2026, 3, 2), closed=date(2026, 3, 20),
                          clause_ids=[clause_id(app, ISO_9001, "8.5.1")], site_id=w.sites["CUS"])
    _risks(app, w)
    _gift(app, w, date(2026, 4, 1))
    english, spanish = evidence(app, w.auditor, lang="en"), evidence(app, w.auditor, lang="es")

    nc_en, nc_es = english.tables((ISO_9001, "10.2"))[0], spanish.tables((ISO_9001, "10.2"))[0]
    assert nc_en.columns[:2] == ("Reference", "Title") and nc_es.columns[:2] == ("Referencia", "Título")
    assert nc_en.rows[0][2:] == ("Observation", "CUS — UT Cusco (en)", "2026-03-02", "Closed", "2026-03-20")
    assert nc_es.rows[0][2:] == ("Observación", "CUS — UT Cusco", "2026-03-02", "Cerrada", "2026-03-20")
    risk_en, risk_es = english.tables((ISO_37001, "4.5"))[0], spanish.tables((ISO_37001, "4.5"))[0]
    assert (risk_en.rows[0][3], risk_en.rows[0][6]) == ("High (16)", "Assessment approved")
    assert (risk_es.rows[0][3], risk_es.rows[0][6]) == ("Alto (16)", "Evaluación aprobada")
    heat_es = next(b for b in spanish.blocks[(ISO_37001, "4.5")] if isinstance(b, HeatMapBlock))
    assert heat_es.words is not None and heat_es.words["critical"] == "Crítico"
    gift_en, gift_es = english.tables((ISO_37001, "8.7"))[0], spanish.tables((ISO_37001, "8.7"))[0]
    assert gift_en.rows[0][2:4] == ("Gift", "Received") and gift_es.rows[0][2:4] == ("Obsequio", "Recibido")
    assert english.counts == spanish.counts


def test_a_scope_that_sees_nothing_gets_nothing(app: Flask, world: World):
    raise_nc(app, world.quality, today=LATER, detected_on=date(2026, 4, 1))
    _gift(app, world, date(2026, 4, 1))
    spec = PackSpec(standards=(ISO_9001, ISO_37001), date_from=START, date_to=END)
    with app.app_context():
        clauses = list(db.session.scalars(select(Clause)))
        found = record_evidence(spec, AccessScope(user_id=None), places_of(spec), clauses)
    assert found == RecordEvidence()


@contextmanager
def statements(app: Flask) -> Iterator[list[str]]:
    """Every SQL statement sent while the block runs."""
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def _many(app: Flask, w: World, count: int, clause_ids: list[int]) -> None:
    """Nonconformities at different sites, each with an action owned by someone different."""
    owners = [w.quality, w.compliance, w.admin]
    sites = list(w.sites.values())

    def work(actor: User) -> None:
        for n in range(count):
            nc = nonconformities.create_nonconformity(
                nonconformities.NcInput(title=f"Hallazgo {n}", description="Registro incompleto", source="other",
                                        grade="minor", detected_on=date(2026, 4, 1 + n % 28),
                                        detected_by_name="Equipo auditor", site_id=sites[n % len(sites)],
                                        clause_ids=clause_ids), actor=actor, today=LATER)
            actions.add_action(nc, actions.ActionInput("Corregir el registro", owners[n % 3], date(2026, 7, 1)),
                               actor=actor, today=LATER)

    as_user(app, w.quality, work)


def test_the_number_of_queries_does_not_grow_with_the_records(app: Flask, world: World):
    w = world
    clause_ids = [clause_id(app, ISO_9001, "8.5.1"), clause_id(app, ISO_37001, "8.7")]
    _risks(app, w)
    _gift(app, w, date(2026, 4, 1))
    _file(app, w, date(2026, 4, 1))
    _audit(app, w, date(2026, 4, 20), date(2026, 4, 22), sites=("CUS-01",))
    _many(app, w, 10, clause_ids)
    with statements(app) as ten:
        small = evidence(app, w.auditor)
    _many(app, w, 30, clause_ids)
    with statements(app) as forty:
        large = evidence(app, w.auditor)
    assert small.counts[(ISO_9001, "8.5.1")] == 20 and large.counts[(ISO_9001, "8.5.1")] == 80
    assert large.counts[(ISO_37001, "8.7")] == 80 + 1  # the gift, then the linked nonconformities and actions
    assert len(forty) == len(ten), "\n".join(forty)
    assert len(ten) <= 20
