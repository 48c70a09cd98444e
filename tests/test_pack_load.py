"""The pack loader against a real database: which versions a period cites, what a scope and the places let through,
the coverage states, the titles in each language, evidence paths, and a statement count that does not grow with
the documents."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_babel import force_locale
from records_support import on_nc, raise_nc
from sqlalchemy import event, select
from support import version_from_file

from auditdocs.db import write_transaction
from auditdocs.extensions import db
from auditdocs.models import AuditEvent, Clause, Document, Nonconformity, Standard, User
from auditdocs.models.programme import INTEGRATED, Audit, AuditSite, Scope
from auditdocs.packs import spec as pack_spec
from auditdocs.packs.build import OPERATOR, OPERATOR_NAME
from auditdocs.packs.content import COVERED, GAP, NOT_APPLICABLE, NOT_ASKED, PackContent, TableBlock
from auditdocs.packs.load import load_content
from auditdocs.packs.load_documents import safe_part
from auditdocs.policy import AccessScope
from auditdocs.services import clauses as clause_svc
from auditdocs.services import documents as svc
from auditdocs.services.nonconformities import close_nonconformity
from auditdocs.services.org import SiteData, create_site
from auditdocs.timeutil import replayed_at

Q = "ISO 9001:2015"
START, END = date(2025, 1, 1), date(2025, 6, 30)
AT = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
NOBODY = 10_000  # an id no account has


@pytest.fixture
def people(app: Flask, make_user: Any) -> dict[str, int]:
    return {"author": make_user("quality_officer", name="Ana Autora").id,
            "approver": make_user("quality_officer", name="Rosa Huamán").id,
            "auditor": make_user("auditor", name="Ext Auditor").id}


def _file(tmp_path: Path, name: str, body: bytes) -> Path:
    path = tmp_path / f"{len(list(tmp_path.iterdir()))}-{name}"
    path.write_bytes(b"%PDF-1.4\n" + body + b"\n%%EOF\n")
    return path


def document(app: Flask, tmp_path: Path, people: dict[str, int], code: str, effective: list[date | None], *,
             clauses: tuple[str, ...] = (f"{Q} 8.5.1",), filename: str = "procedimiento.pdf", **fields: Any) -> int:
    """A document whose versions are approved effective on the given days (None: left a draft)."""
    with app.app_context(), write_transaction():
        author, approver = db.session.get(User, people["author"]), db.session.get(User, people["approver"])
        doc = svc.create_document(code=code, title=f"Procedimiento {code}", kind="procedure", owner=author,
                                  actor=author, clauses=list(clauses), **fields)
        for day in effective:
            version = version_from_file(doc, _file(tmp_path, filename, f"{code} {day}".encode()), actor=author,
                                        filename=filename)
            if day is not None:
                with replayed_at(datetime(day.year, day.month, day.day, 15, tzinfo=UTC)):
                    svc.approve(version, actor=approver, effective_date=day)
        return doc.id


def load(app: Flask, scope: AccessScope | None = None, lang: str = "es", at: datetime = AT,
         **asked: Any) -> PackContent:
    asked.setdefault("standards", [Q])
    asked.setdefault("date_from", START)
    asked.setdefault("date_to", END)
    with app.app_context(), force_locale(lang):
        spec = pack_spec.resolve(lang=lang, **asked)
        return load_content(spec, scope or OPERATOR, generated_by=OPERATOR_NAME, generated_at=at, pack_id="PK-TEST")


def auditor_scope(app: Flask, user_id: int) -> AccessScope:
    with app.app_context():
        return AccessScope.of(db.session.get(User, user_id))


def section(content: PackContent, number: str, standard: str = Q) -> Any:
    return next(s for s in content.sections if s.number == number and s.standard == standard)


def listed(content: PackContent, number: str = "8.5.1") -> list[tuple[str, str]]:
    tables = [b for b in section(content, number).blocks if isinstance(b, TableBlock)]
    return [(row[0], row[2]) for t in tables for row in t.rows]


def test_the_versions_in_force_during_the_period_and_no_others(app: Flask, tmp_path: Path,
                                                                people: dict[str, int]) -> None:
    document(app, tmp_path, people, "PR-MID", [date(2024, 6, 1), date(2025, 3, 1), None])  # v3 a draft
    document(app, tmp_path, people, "PR-OLD", [date(2024, 1, 1), date(2024, 6, 1)])
    document(app, tmp_path, people, "PR-DRAFT", [None])
    document(app, tmp_path, people, "PR-LATER", [date(2025, 7, 1)])
    content = load(app, lang="en")
    assert listed(content) == [("PR-MID", "v1"), ("PR-MID", "v2"), ("PR-OLD", "v2")]
    rows = next(b for b in section(content, "8.5.1").blocks if isinstance(b, TableBlock)).rows
    assert rows[0][3:6] == ("2024-06-01", "Rosa Huamán", "2024-06-01")
    assert rows[0][7] == "Superseded on 2025-03-01" and rows[1][7] == "In force"
    assert section(content, "8.5.1").evidence_count == 3
    assert [f.path for f in content.evidence] == ["evidence/PR-MID/v1/procedimiento.pdf",
                                                  "evidence/PR-MID/v2/procedimiento.pdf",
                                                  "evidence/PR-OLD/v2/procedimiento.pdf"]
    with app.app_context():
        doc = db.session.scalar(select(Document).where(Document.code == "PR-MID"))
        assert doc is not None
        by_number = {v.number: v for v in doc.versions}
        assert content.evidence[1].sha256 == by_number[2].sha256 and content.evidence[1].size == by_number[2].size
        assert rows[1][6] == by_number[2].sha256[:12]


def test_a_restricted_document_is_hidden_from_an_auditor_but_not_from_the_operator(
        app: Flask, tmp_path: Path, people: dict[str, int]) -> None:
    document(app, tmp_path, people, "PR-OPEN", [date(2024, 6, 1)])
    document(app, tmp_path, people, "PR-SECRET", [date(2024, 6, 1)], confidentiality="restricted")
    assert [c for c, _v in listed(load(app))] == ["PR-OPEN", "PR-SECRET"]
    seen = load(app, auditor_scope(app, people["auditor"]))
    assert [c for c, _v in listed(seen)] == ["PR-OPEN"]
    assert [f.document for f in seen.evidence] == ["PR-OPEN"]
    trail_objects = [row[3] for row in seen.trail.rows]
    assert not any("PR-SECRET" in o for o in trail_objects)


def test_the_sites_and_the_audit_decide_which_documents_concern_the_pack(app: Flask, tmp_path: Path,
                                                                        people: dict[str, int]) -> None:
    with app.app_context(), write_transaction():
        head = create_site(SiteData(code="HQ", name_es="Sede central", name_en="Head office"))
        lima = create_site(SiteData(code="LIM", name_es="Sede Lima", name_en="Lima office", parent_id=head.id))
        create_site(SiteData(code="CUS", name_es="Sede Cusco", name_en="Cusco office", parent_id=head.id))
        lima_id = lima.id
    document(app, tmp_path, people, "PR-ALL", [date(2024, 6, 1)])
    document(app, tmp_path, people, "PR-LIM", [date(2024, 6, 1)], sites=["LIM"])
    document(app, tmp_path, people, "PR-CUS", [date(2024, 6, 1)], sites=["CUS"])
    assert [c for c, _v in listed(load(app, sites=["LIM"]))] == ["PR-ALL", "PR-LIM"]
    cusco = load(app, sites=["CUS"], lang="en")
    assert [c for c, _v in listed(cusco)] == ["PR-ALL", "PR-CUS"]
    assert cusco.cover.sites == ["CUS — Cusco office"]
    with app.app_context(), write_transaction():
        audit = Audit(audit_type="internal", planned_start=date(2025, 5, 5), planned_end=date(2025, 5, 6),
                      auditing_body="Equipo interno", created_by_id=people["approver"])
        audit.sites.append(AuditSite(site_id=lima_id))
        db.session.add(audit)
        db.session.flush()
        audit_id = audit.id
    one_audit = load(app, audit_id=audit_id)
    assert [c for c, _v in listed(one_audit)] == ["PR-ALL", "PR-LIM"]
    assert one_audit.cover.sites == ["LIM — Sede Lima"]
    assert one_audit.cover.audit == "Auditoría interna, 2025-05-05 – 2025-05-06, Equipo interno"


def test_a_chosen_clause_brings_its_sub_clauses_and_nothing_else(app: Flask) -> None:
    content = load(app, clauses=["8.5"], lang="en")
    with app.app_context():
        expected = list(db.session.scalars(select(Clause.number).join(Standard).where(
            Standard.code == Q, (Clause.number == "8.5") | Clause.number.like("8.5.%")).order_by(Clause.sort_key)))
    assert [s.number for s in content.sections] == expected
    assert expected[:2] == ["8.5", "8.5.1"] and len(expected) > 3
    assert [s.level for s in content.sections[:2]] == [2, 3]
    assert [r.number for r in content.coverage] == expected
    assert content.crossmap is None


def test_coverage_states(app: Flask, tmp_path: Path, people: dict[str, int]) -> None:
    document(app, tmp_path, people, "PR-PROD", [date(2024, 6, 1)])
    with app.app_context(), write_transaction():
        design = db.session.scalar(select(Clause).join(Standard).where(Standard.code == Q, Clause.number == "8.3"))
        assert design is not None
        clause_svc.set_applicability(design, False, "No diseñamos productos: los servicios los define la ley.",
                                     db.session.get(User, people["approver"]))
    content = load(app, clauses=["8.3", "8.5", "10.2", "7.1.1"])
    rows = {r.number: r for r in content.coverage}
    assert rows["8.3"].state == NOT_APPLICABLE and rows["8.3"].note.startswith("No diseñamos")
    assert rows["8.3.2"].state == NOT_APPLICABLE and "8.3" in rows["8.3.2"].note  # under a clause not applicable
    assert rows["10.2"].state == GAP  # the product keeps the register; nothing in the period
    assert rows["8.5.1"].state == COVERED and rows["8.5.1"].evidence_count == 1
    assert rows["8.5"].state == COVERED and rows["8.5"].evidence_count == 0  # covered through its sub-clause
    assert rows["8.5.2"].state == GAP  # asks to retain records, has none
    assert rows["7.1.1"].state == NOT_ASKED
    hint = section(content, "8.5.2").blocks[-1]
    assert hint.kind == "hint" and "trazabilidad" in hint.text.lower()
    hints = {s.number for s in content.sections for b in s.blocks if getattr(b, "kind", "") == "hint"}
    assert "8.5.1" not in hints and "8.5" not in hints and "8.3" not in hints and "8.5.2" in hints
    assert section(content, "8.3").blocks[-1].text == "No aplicable: " + rows["8.3"].note


def test_titles_and_words_in_the_pack_language(app: Flask, tmp_path: Path, people: dict[str, int]) -> None:
    document(app, tmp_path, people, "PR-ES", [date(2024, 6, 1)])
    es, en = load(app, clauses=["8.5"], lang="es"), load(app, clauses=["8.5"], lang="en")
    assert section(en, "8.5").title == "Production and service provision"
    assert section(es, "8.5").title == "Producción y provisión del servicio"
    assert en.cover.standards == ["ISO 9001:2015 — Quality management systems — Requirements"]
    assert es.cover.standards == ["ISO 9001:2015 — Sistemas de gestión de la calidad — Requisitos"]
    table_es = next(b for b in section(es, "8.5.1").blocks if isinstance(b, TableBlock))
    assert table_es.columns[0] == "Código" and table_es.rows[0][7] == "Vigente"
    assert es.cover.generated_at == AT and es.cover.organisation


def test_an_integrated_pack_carries_the_cross_map(app: Flask) -> None:
    content = load(app, standards=[Q, "ISO 37001:2016"], clauses=["8.5"], lang="en")
    assert {s.standard for s in content.sections} == {Q, "ISO 37001:2016"}
    assert content.sections[0].standard == Q  # catalogue order: 9001 first
    assert content.crossmap is not None and content.crossmap.columns[:2] == (Q, "ISO 37001:2016")
    assert content.crossmap.rows and all(r[0].startswith("8.5") or r[1].startswith("8.5")
                                         for r in content.crossmap.rows)


def test_the_trail_lists_the_approvals_of_the_period(app: Flask, tmp_path: Path, people: dict[str, int]) -> None:
    document(app, tmp_path, people, "PR-T", [date(2024, 6, 1), date(2025, 2, 1)])
    content = load(app, lang="en")
    assert [(r[1], r[2], r[3]) for r in content.trail.rows] == [("Rosa Huamán", "Version approved", "PR-T v2")]
    assert content.trail.rows[0][0] == "2025-02-01 15:00:00"
    assert content.trail_head.startswith("event ") and "SHA-256" in content.trail_head


def test_evidence_paths_are_unique_and_safe(app: Flask, tmp_path: Path, people: dict[str, int]) -> None:
    document(app, tmp_path, people, "PR-A", [date(2024, 6, 1)], filename="Informe final.pdf")
    document(app, tmp_path, people, "PR-B", [date(2024, 6, 1)], filename="Cafe\u0301: final?.pdf")
    content = load(app)
    paths = [f.path for f in content.evidence]
    assert paths == ["evidence/PR-A/v1/Informe final.pdf", "evidence/PR-B/v1/Café_ final_.pdf"]
    assert paths == sorted(paths) and len({p.casefold() for p in paths}) == len(paths)
    for path in paths:
        parts = path.split("/")
        assert parts[0] == "evidence" and len(parts) == 4 and "\\" not in path and ".." not in parts
        assert unicodedata.is_normalized("NFC", path)


@pytest.mark.parametrize(("raw", "safe"), [
    ("a/b\\c.pdf", "a_b_c.pdf"), ("..", "_"), ("CON.txt", "_CON.txt"), ("x\x00y\n.pdf", "x_y_.pdf"),
    ("Cafe\u0301.pdf", "Café.pdf"), ("name. ", "name"), ("a:b?.pdf", "a_b_.pdf"),
])
def test_path_parts_are_safe_everywhere(raw: str, safe: str) -> None:
    assert safe_part(raw) == safe


def test_a_clash_gets_a_number(app: Flask, tmp_path: Path, people: dict[str, int]) -> None:
    document(app, tmp_path, people, "PR/X", [date(2024, 6, 1)], filename="f.pdf")
    document(app, tmp_path, people, "PR_X", [date(2024, 6, 1)], filename="F.pdf")
    paths = [f.path for f in load(app).evidence]
    assert paths == ["evidence/PR_X/v1/F (2).pdf", "evidence/PR_X/v1/f.pdf"]  # PR/X comes first, keeps its name


@contextmanager
def statements(app: Flask) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _many(app: Flask, tmp_path: Path, people: dict[str, int], first: int, n: int) -> None:
    numbers = ["8.5.1", "8.5.2", "7.5.3", "9.2", "10.2"]
    for i in range(first, first + n):
        document(app, tmp_path, people, f"PR-{i:03d}", [date(2024, 6, 1), date(2025, 3, 1)],
                 clauses=(f"{Q} {numbers[i % len(numbers)]}", f"{Q} 4.4"),
                 confidentiality="restricted" if i % 7 == 0 else "normal")


def test_the_statements_do_not_grow_with_the_documents(app: Flask, tmp_path: Path, people: dict[str, int]) -> None:
    scope = auditor_scope(app, people["auditor"])
    _many(app, tmp_path, people, 0, 30)
    with statements(app) as few:
        small = load(app, scope)
    _many(app, tmp_path, people, 30, 30)
    with statements(app) as more:
        large = load(app, scope)
    assert len(large.evidence) > len(small.evidence) > 30
    assert len(more) == len(few), "\n".join(more)


def test_the_trail_names_closures_and_leaves_out_other_saves(app: Flask, make_user: Any) -> None:
    officer = make_user("compliance_officer", name="Carla Cumplimiento").id
    day = date(2025, 4, 10)
    with replayed_at(datetime(2025, 4, 9, 14, tzinfo=UTC)):
        nc = raise_nc(app, officer, today=date(2025, 4, 9), grade="observation", detected_on=date(2025, 4, 9))
    with replayed_at(datetime(2025, 4, 10, 16, tzinfo=UTC)):
        on_nc(app, officer, nc, close_nonconformity, today=day, note="Observación atendida sin acción.",
              no_action=True)
    with app.app_context():
        row = db.session.get(Nonconformity, nc)
        assert row is not None
        reference = row.reference
    content = load(app, lang="en")
    assert [r[1:] for r in content.trail.rows] == [("Carla Cumplimiento", "Nonconformity: Closed", reference)]
    assert content.trail.rows[0][0] == "2025-04-10 16:00:00"
    blind = AccessScope(user_id=NOBODY, capabilities=frozenset({"see_risks"}))
    assert load(app, blind, lang="en").trail.rows == []  # a scope that reads no nonconformities sees no closure
    assert load(app, lang="en", date_to=date(2025, 4, 9)).trail.rows == []  # closed after the period


def test_progress_runs_once_per_clause_to_the_total(app: Flask) -> None:
    calls: list[tuple[int, int, str]] = []
    with app.app_context(), force_locale("en"):
        spec = pack_spec.resolve([Q], clauses=["8.5", "9.2"], date_from=START, date_to=END, lang="en")
        content = load_content(spec, OPERATOR, generated_by=OPERATOR_NAME, generated_at=AT, pack_id="PK-TEST",
                               progress=lambda done, total, stage: calls.append((done, total, stage)))
    total = len(content.sections)
    assert [c[0] for c in calls] == list(range(total + 1)) and {c[1:] for c in calls} == {(total, "loading")}


def test_a_document_withdrawn_before_the_period_is_not_cited_one_withdrawn_during_it_is(
        app: Flask, tmp_path: Path, people: dict[str, int]) -> None:
    before = document(app, tmp_path, people, "PR-GONE", [date(2024, 6, 1)])
    during = document(app, tmp_path, people, "PR-ENDS", [date(2024, 6, 1)])
    for doc_id, moment in ((before, datetime(2024, 12, 20, 15, tzinfo=UTC)),
                           (during, datetime(2025, 5, 20, 15, tzinfo=UTC))):
        with replayed_at(moment), app.app_context(), write_transaction():
            doc, approver = db.session.get(Document, doc_id), db.session.get(User, people["approver"])
            assert doc is not None and approver is not None
            svc.withdraw(doc, actor=approver, reason="Proceso suprimido")
    content = load(app, lang="en")
    assert listed(content) == [("PR-ENDS", "v1")]
    rows = next(b for b in section(content, "8.5.1").blocks if isinstance(b, TableBlock)).rows
    assert rows[0][7] == "Withdrawn on 2025-05-20"
    assert [(r[2], r[3]) for r in content.trail.rows] == [("Document withdrawn", "PR-ENDS")]


def test_the_cover_names_the_certification_scope(app: Flask, make_user: Any) -> None:
    with app.app_context(), write_transaction():
        db.session.add(Scope(key="iso9001_2015", statement_es="Gestión de servicios de cuidado diurno",
                             statement_en="Management of day-care services"))
        db.session.add(Scope(key=INTEGRATED, statement_es="Servicios de cuidado diurno, calidad y antisoborno"))
    assert load(app, lang="en").cover.scope == ["Management of day-care services"]
    assert load(app, standards=["ISO 37001:2016"], lang="es").cover.scope == [
        "Servicios de cuidado diurno, calidad y antisoborno"]
    both = load(app, standards=[Q, "ISO 37001:2016"], lang="en").cover
    assert both.scope == ["Servicios de cuidado diurno, calidad y antisoborno"]  # the only words it has
    assert (both.date_from, both.date_to) == (START, END)


def test_the_chain_head_and_the_trail_stop_at_the_generation_time(app: Flask, tmp_path: Path,
                                                                   people: dict[str, int]) -> None:
    document(app, tmp_path, people, "PR-H", [date(2024, 6, 1), date(2025, 2, 1), date(2025, 5, 1)])
    with app.app_context():
        approvals = list(db.session.execute(select(AuditEvent.seq, AuditEvent.hash).where(
            AuditEvent.action == "version.approve").order_by(AuditEvent.seq)))
    first = load(app, lang="en")
    assert first.trail_head == f"event {approvals[-1].seq}, SHA-256 {approvals[-1].hash}"
    document(app, tmp_path, people, "PR-LATER", [None])  # events of today, after the generation time
    assert load(app, lang="en") == first  # rebuilt alike, whatever the trail gained since
    before_may = load(app, lang="en", at=datetime(2025, 3, 1, tzinfo=UTC))
    assert [r[3] for r in before_may.trail.rows] == ["PR-H v2"]
    assert before_may.trail_head == f"event {approvals[1].seq}, SHA-256 {approvals[1].hash}"
