"""Two annual bribery-risk assessments of the programme (ISO 37001 4.5): last year's, closed and approved, and this
year's, in progress.

Why this way: the register, the heat maps, the point-in-time register, "what changed since" and the review flags
need a believable past: ~30 risks across the regional units and processes, assessed by the compliance officer (or
a quality officer) and approved by someone else, a few reassessed this year with changed ratings, one waiting for
approval, one retired, some past their review date, controls linked to the demo's controlled documents and
treatments linked to the demo's corrective actions. Every step goes through the services on the day it happened
(demo/replay.py). Run after the nonconformities; a database that already holds risks gets none.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from ..extensions import db
from ..models import BriberyRisk, CorrectiveAction, Document, Nonconformity, Process, RiskExercise, Site, User
from ..services import risks as svc
from ..timeutil import local_today
from .replay import Timeline
from .risk_data import LAST_YEAR, NEW_THIS_YEAR, RETIRED, THIS_YEAR, Reassessment, RiskSpec

LAST_START, LAST_CLOSE, THIS_START = 400, 362, 75  # days ago


class Register:
    """The demo organisation's rows the risks name, and the risks as the story creates them."""

    def __init__(self, users: dict[str, User], today: date) -> None:
        self.users, self.today = users, today
        self.sites = dict(db.session.execute(select(Site.code, Site.id)).all())
        self.owners = dict(db.session.execute(select(Process.code, Process.owner_id)).all())
        self.processes = dict(db.session.execute(select(Process.code, Process.id)).all())
        self.documents = dict(db.session.execute(select(Document.code, Document.id)).all())
        self.risks: dict[int, BriberyRisk] = {}
        self.exercises: dict[str, RiskExercise] = {}

    def user(self, key: str) -> User:
        return self.users.get(key) or self.users["admin"]

    def approver_for(self, assessor: str) -> User:
        """Segregation of duties: the administrator approves the compliance officer's assessments, and the
        compliance officer everybody else's."""
        return self.user("admin" if assessor == "compliance_officer" else "compliance_officer")

    def action_ids(self, wanted: tuple[tuple[str, int], ...]) -> list[int]:
        found = []
        for title, number in wanted:
            action = db.session.scalar(select(CorrectiveAction).join(Nonconformity).where(
                Nonconformity.title.startswith(title), CorrectiveAction.number == number))
            if action is not None:
                found.append(action.id)
        return found

    def data(self, spec: RiskSpec) -> svc.RiskInput:
        return svc.RiskInput(
            title=spec.title, scenario=spec.scenario, associate_category=spec.category,
            inherent_likelihood=spec.inherent[0], inherent_impact=spec.inherent[1],
            residual_likelihood=spec.residual[0], residual_impact=spec.residual[1],
            process_id=self.processes.get(spec.process), activity=spec.activity,
            site_id=self.sites.get(spec.site) if spec.site else None, associate_detail=spec.detail,
            control_document_ids=[self.documents[c] for c in spec.documents if c in self.documents],
            controls_description=spec.controls, control_effectiveness=spec.effectiveness, treatment=spec.treatment,
            owner_id=self.owners.get(spec.process), next_review=self.today + timedelta(days=spec.review))

    def changed(self, risk: BriberyRisk, change: Reassessment) -> svc.RiskInput:
        """This year's assessment of a risk: last year's answers with what changed."""
        return svc.RiskInput(
            title=risk.title, scenario=risk.scenario, associate_category=risk.associate_category,
            inherent_likelihood=change.inherent[0], inherent_impact=change.inherent[1],
            residual_likelihood=change.residual[0], residual_impact=change.residual[1],
            process_id=risk.process_id, activity=risk.activity, site_id=risk.site_id,
            associate_detail=risk.associate_detail, control_document_ids=[d.id for d in risk.controls],
            controls_description=change.controls or risk.controls_description,
            control_effectiveness=change.effectiveness or risk.control_effectiveness,
            treatment=change.treatment or risk.treatment,
            treatment_action_ids=self.action_ids(change.actions) or [a.id for a in risk.treatments],
            owner_id=risk.owner_id, next_review=self.today + timedelta(days=change.review))


def create(users: dict[str, User]) -> list[BriberyRisk]:
    """Play both exercises through the services; nothing when the register already holds risks."""
    if db.session.scalar(select(func.count(BriberyRisk.id))):
        return []
    if not all(key in users for key in ("admin", "quality_officer", "compliance_officer")):
        return []
    today = local_today()
    timeline, reg = Timeline(today), Register(users, today)
    story(timeline, reg)
    timeline.play()
    return list(db.session.scalars(select(BriberyRisk).order_by(BriberyRisk.number)))


def _exercise(timeline: Timeline, reg: Register, key: str, ago: int, year: int, name: str, ends: int,
              scope: str) -> None:
    def run(_day: date) -> None:
        reg.exercises[key] = svc.create_exercise(svc.ExerciseInput(
            name=name, year=year, scope=scope,
            method="Talleres por proceso con los responsables de las UT; matriz de 5 x 5 (probabilidad por impacto); "
                   "controles evaluados con evidencia de auditorías internas y del canal de denuncias.",
            participants="Luis Mendoza (oficial de cumplimiento), Carmen Quispe (administración), responsables de "
                         "abastecimiento, recursos humanos y gestión comunal de las UT.",
            starts_on=timeline.day(ago), ends_on=timeline.day(ends)), actor=reg.user("compliance_officer"))

    timeline.at(ago, run)


def _identify(timeline: Timeline, reg: Register, index: int, spec: RiskSpec, exercise: str, ago: int,
              approve_ago: int | None) -> None:
    def run(day: date) -> None:
        reg.risks[index] = svc.create_risk(reg.data(spec), reg.exercises[exercise], actor=reg.user(spec.by),
                                           today=day)

    timeline.at(ago, run)
    if approve_ago is not None:
        timeline.at(approve_ago, lambda day: svc.approve_risk(
            reg.risks[index], actor=reg.approver_for(spec.by), today=day, note="Aprobado en la revisión del "
                                                                                "registro."))


def _reassess(timeline: Timeline, reg: Register, change: Reassessment) -> None:
    def run(day: date) -> None:
        risk = reg.risks[change.index]
        svc.assess_risk(risk, reg.changed(risk, change), reg.exercises["this"], actor=reg.user("compliance_officer"),
                        today=day, note=change.note)

    timeline.at(change.ago, run)
    if change.approve:
        timeline.at(change.ago - 2, lambda day: svc.approve_risk(
            reg.risks[change.index], actor=reg.user("admin"), today=day, note="Reevaluación revisada."))


def story(timeline: Timeline, reg: Register) -> None:
    """Last year's exercise from start to close, then this year's so far (days ago)."""
    this_year = timeline.day(THIS_START).year
    _exercise(timeline, reg, "last", LAST_START, this_year - 1,
              f"Evaluación anual de riesgos de soborno {this_year - 1}", LAST_CLOSE,
              "Todos los procesos del programa en la Sede Central y las 19 unidades territoriales.")
    for index, spec in enumerate(LAST_YEAR):
        _identify(timeline, reg, index, spec, "last", LAST_START - 5 - index, LAST_START - 30 - index // 4)
    timeline.at(LAST_CLOSE, lambda _day: svc.close_exercise(
        reg.exercises["last"], actor=reg.user("compliance_officer"),
        note="Registro aprobado; resultados presentados en la revisión por la dirección."))
    _exercise(timeline, reg, "this", THIS_START, this_year, f"Evaluación anual de riesgos de soborno {this_year}",
              -30, "Todos los procesos; prioridad a compras, transferencias a comités de gestión y donaciones.")
    for n, spec in enumerate(NEW_THIS_YEAR):
        index = len(LAST_YEAR) + n
        _identify(timeline, reg, index, spec, "this", THIS_START - 3 - 2 * n, THIS_START - 20 - n)
    for change in THIS_YEAR:
        _reassess(timeline, reg, change)
    index, ago, reason = RETIRED
    timeline.at(ago, lambda _day: svc.retire_risk(reg.risks[index], actor=reg.user("compliance_officer"),
                                                  reason=reason))
