"""A year of nonconformities and corrective actions of the programme, across its regional units and both standards.

Why this way: the register, the dashboard, the history pages and the point-in-time view need findings in every
state with a believable past — raised by audits, complaints, monitoring, management review and anti-bribery
concerns; actions planned, started, implemented, checked effective or not effective, cancelled; nonconformities
closed, closed on a "no action needed" decision, reopened. Every step goes through the services (numbering,
rules, revisions, audit trail, attachments checked as uploads), each on the day it happened: the steps of all the
stories run in date order under `timeutil.replayed_at`, so references follow the detection order within each year
and each revision, audit event and attachment carries the time of its step. Run after the organisation, the
documents and the programme; a database that already holds nonconformities gets none.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import partial
from pathlib import Path

from sqlalchemy import func, select

from ..extensions import db
from ..models import Audit, Clause, CorrectiveAction, Document, Nonconformity, Process, Site, Standard, User
from ..services import actions as act
from ..services import nonconformities as ncs
from ..services.attachments import attach
from ..services.uploads import Incoming, ingest
from ..timeutil import local_today, org_tz, replayed_at
from .files import write_pdf

Q, C = "iso9001_2015", "iso37001_2016"
CB_LEAD = "Ing. Marco Paredes Villanueva (Bureau de Certificación Andina S.A.C.)"  # the demo programme's auditor


@dataclass
class Refs:
    """Ids of the demo organisation's rows by the codes the stories use (missing ones read as None)."""

    sites: dict[str, int]
    processes: dict[str, int]
    clauses: dict[tuple[str, str], int]
    documents: dict[str, int]
    users: dict[str, User]
    external_audit: Audit | None
    internal_audit: Audit | None


@dataclass(order=True)
class Step:
    """One thing that happened on a day; `order` keeps a story's steps of the same day in sequence."""

    day: date
    order: int
    run: Callable[[date], None] = field(compare=False)


class Plan:
    """The stories' steps, gathered first and then played back in date order."""

    def __init__(self, today: date, refs: Refs, folder: Path) -> None:
        self.today, self.refs, self.folder = today, refs, folder
        self.steps: list[Step] = []

    def at(self, ago: int, run: Callable[[date], None]) -> None:
        self.steps.append(Step(self.today - timedelta(days=ago), len(self.steps), run))

    def story(self) -> Story:
        return Story(self)

    def play(self) -> None:
        """Run every step on its day, a few minutes apart, with the clock set to that moment."""
        per_day: dict[date, int] = {}
        for step in sorted(self.steps):
            k = per_day[step.day] = per_day.get(step.day, -1) + 1
            moment = datetime.combine(step.day, time(8, 30), org_tz()) + timedelta(minutes=9 * k)
            with replayed_at(moment):
                step.run(step.day)


class Story:
    """One nonconformity and its actions, told as steps `days ago`."""

    def __init__(self, plan: Plan) -> None:
        self.plan, self.refs = plan, plan.refs
        self.nc: Nonconformity | None = None
        self.actions: dict[int, CorrectiveAction] = {}  # by the order the story raises them
        self.planned = 0

    def _user(self, key: str) -> User:
        users = self.refs.users
        return users.get(key) or users["quality_officer"]

    def _nc(self) -> Nonconformity:
        assert self.nc is not None, "a story starts by raising its nonconformity"
        return self.nc

    def raised(self, ago: int, by: str, *, title: str, description: str, source: str, grade: str, detected: int,
               site: str | None, process: str | None, clauses: list[tuple[str, str]], documents: tuple[str, ...] = (),
               detected_by: str | None = None, detected_by_name: str | None = None, audit: Audit | None = None,
               correction: str | None = None, method: str | None = None, category: str | None = None,
               analysis: str | None = None, root_cause: str | None = None) -> Story:
        refs = self.refs
        data = ncs.NcInput(
            title=title, description=description, source=source, grade=grade,
            detected_on=self.plan.today - timedelta(days=detected),
            detected_by_id=self._user(detected_by).id if detected_by else None, detected_by_name=detected_by_name,
            audit_id=audit.id if audit is not None else None, site_id=refs.sites.get(site or ""),
            process_id=refs.processes.get(process or ""),
            clause_ids=[refs.clauses[c] for c in clauses if c in refs.clauses],
            document_ids=[refs.documents[d] for d in documents if d in refs.documents],
            correction=correction, root_cause_method=method, ishikawa_category=category, analysis=analysis,
            root_cause=root_cause)

        def run(day: date) -> None:
            self.nc = ncs.create_nonconformity(data, actor=self._user(by), today=day)

        self.plan.at(ago, run)
        return self

    def action(self, ago: int, by: str, *, owner: str, due: int, description: str) -> int:
        """Raise an action due `due` days ago (negative: in the future); returns its index in the story."""
        index, self.planned = self.planned, self.planned + 1

        def run(day: date) -> None:
            data = act.ActionInput(description=description, owner_id=self._user(owner).id,
                                   due_date=self.plan.today - timedelta(days=due))
            self.actions[index] = act.add_action(self._nc(), data, actor=self._user(by), today=day)

        self.plan.at(ago, run)
        return index

    def started(self, ago: int, by: str, index: int) -> None:
        self.plan.at(ago, lambda day: act.start_action(self.actions[index], actor=self._user(by), today=day))

    def implemented(self, ago: int, by: str, index: int, evidence: str) -> None:
        self.plan.at(ago, lambda day: act.implement_action(self.actions[index], actor=self._user(by), today=day,
                                                           evidence=evidence))

    def scheduled(self, ago: int, by: str, index: int, *, check_in: int, checker: str | None) -> None:
        """Schedule the check `check_in` days after the step's day."""
        def run(day: date) -> None:
            act.schedule_check(self.actions[index], actor=self._user(by), due=day + timedelta(days=check_in),
                               checker_id=self._user(checker).id if checker else None)

        self.plan.at(ago, run)

    def checked(self, ago: int, by: str, index: int, *, effective: bool, evidence: str) -> None:
        self.plan.at(ago, lambda day: act.record_check(self.actions[index], actor=self._user(by), today=day,
                                                       effective=effective, evidence=evidence))

    def cancelled(self, ago: int, by: str, index: int, reason: str) -> None:
        self.plan.at(ago, lambda _day: act.cancel_action(self.actions[index], actor=self._user(by), reason=reason))

    def closed(self, ago: int, by: str, note: str, *, no_action: bool = False) -> None:
        self.plan.at(ago, lambda day: ncs.close_nonconformity(self._nc(), actor=self._user(by), today=day,
                                                              note=note, no_action=no_action))

    def reopened(self, ago: int, by: str, reason: str) -> None:
        self.plan.at(ago, lambda _day: ncs.reopen_nonconformity(self._nc(), actor=self._user(by), reason=reason))

    def attached(self, ago: int, by: str, filename: str, lines: list[str], index: int | None = None) -> None:
        """A small generated PDF of evidence on the nonconformity, or on one of its actions."""
        def run(_day: date) -> None:
            record: Nonconformity | CorrectiveAction = self._nc() if index is None else self.actions[index]
            path = write_pdf(self.plan.folder / filename, filename.removesuffix(".pdf"), lines)
            ingest(Incoming.from_path(path), partial(attach, record, actor=self._user(by)))

        self.plan.at(ago, run)


def _refs(users: dict[str, User]) -> Refs:
    clauses = {(slug, number): cid for slug, number, cid in db.session.execute(
        select(Standard.slug, Clause.number, Clause.id).join(Standard).where(Standard.slug.in_((Q, C))))}
    audits = list(db.session.scalars(select(Audit).where(Audit.status == "done", Audit.actual_end.is_not(None))
                                     .order_by(Audit.actual_end)))
    return Refs(
        sites=dict(db.session.execute(select(Site.code, Site.id).where(Site.active.is_(True))).all()),
        processes=dict(db.session.execute(select(Process.code, Process.id).where(Process.active.is_(True))).all()),
        clauses=clauses,
        documents=dict(db.session.execute(select(Document.code, Document.id)).all()),
        users=users,
        external_audit=next((a for a in reversed(audits) if a.audit_type != "internal" and a.stage != "stage_1"),
                            None),
        internal_audit=next((a for a in reversed(audits) if a.audit_type == "internal"), None))


def _days_ago(today: date, audit: Audit | None, default: int) -> int:
    """How long ago an audit ended, within the demo's year (the stories fall back to `default` without one)."""
    if audit is None or audit.actual_end is None:
        return default
    return max(20, min(355, (today - audit.actual_end).days))


def create(users: dict[str, User]) -> list[Nonconformity]:
    """Play the year of nonconformities through the services; nothing when the register already holds some."""
    if db.session.scalar(select(func.count(Nonconformity.id))):
        return []
    if not all(key in users for key in ("quality_officer", "compliance_officer")):
        return []
    today = local_today()
    refs = _refs(users)
    with tempfile.TemporaryDirectory(prefix="auditdocs-demo-nc-") as tmp:
        plan = Plan(today, refs, Path(tmp))
        stories(plan)
        plan.play()
    return list(db.session.scalars(select(Nonconformity).order_by(Nonconformity.id)))


def stories(plan: Plan) -> None:
    """The year, story by story (days ago; users by their demo key: quality_officer is Rosa, approver Jorge,
    compliance_officer Luis, admin Carmen)."""
    refs = plan.refs
    rosa, jorge, luis, carmen = "quality_officer", "approver", "compliance_officer", "admin"
    ext = _days_ago(plan.today, refs.external_audit, 335)  # stage 2 of the initial certification audit
    intl = _days_ago(plan.today, refs.internal_audit, 120)  # the internal audit before the first surveillance

    # 1. External audit, major, closed after an effective action (ISO 9001 7.1.5.2).
    s = plan.story().raised(
        ext - 2, rosa, title="Balanzas pediátricas sin certificado de calibración vigente en la UT Cusco",
        description="En la auditoría de etapa 2 se verificó que 12 de las 31 balanzas pediátricas usadas en las "
                    "visitas domiciliarias de la UT Cusco tenían el certificado de calibración vencido hace más de "
                    "tres meses; las mediciones de peso de ese periodo no tienen trazabilidad.",
        source="external_audit", audit=refs.external_audit, grade="major", detected=ext,
        detected_by_name=CB_LEAD, site="UT-CUSCO", process="PO-01",
        clauses=[(Q, "7.1.5.2"), (Q, "7.1.5.1")], documents=("PR-CAL-004",),
        correction="Se retiraron de uso las 12 balanzas y la UT Apurímac prestó balanzas calibradas mientras "
                   "tanto; se repitieron las mediciones de los niños con riesgo de desnutrición.",
        method="five_whys",
        analysis="¿Por qué vencieron? Nadie programó la calibración. ¿Por qué? El cronograma lo llevaba la Sede "
                 "Central. ¿Por qué? PR-CAL-004 no asignaba responsable regional.",
        root_cause="El procedimiento de calibración no asignaba a un responsable en cada unidad territorial.")
    s.attached(ext - 2, rosa, "Hallazgo 1 - auditoria etapa 2.pdf",
               ["Bureau de Certificacion Andina - Auditoria inicial, etapa 2",
                "Hallazgo 1 (no conformidad mayor) - ISO 9001:2015 7.1.5.2",
                "12 balanzas pediatricas de la UT Cusco con calibracion vencida."])
    a = s.action(ext - 4, rosa, owner=jorge, due=ext - 64,
                 description="Actualizar PR-CAL-004 para asignar al especialista de cada UT el cronograma de "
                             "calibración, y calibrar las balanzas de las 19 unidades territoriales.")
    s.started(ext - 6, jorge, a)
    s.implemented(ext - 52, jorge, a, "PR-CAL-004 v2 aprobado; 19 cronogramas regionales; 412 balanzas calibradas "
                                      "por laboratorio acreditado (certificados adjuntos).")
    s.attached(ext - 52, jorge, "Certificados de calibracion UT Cusco.pdf",
               ["Laboratorio de metrologia acreditado por INACAL", "31 balanzas pediatricas - UT Cusco",
                "Resultado: conforme, incertidumbre dentro de tolerancia."], index=a)
    s.scheduled(ext - 53, rosa, a, check_in=30, checker=luis)
    s.checked(ext - 84, luis, a, effective=True,
              evidence="Muestreo en 5 UT (Cusco, Puno, Piura, Loreto, Ayacucho): 100 % de balanzas con certificado "
                       "vigente y cronograma al día.")
    s.closed(ext - 86, jorge, "Acción eficaz verificada en cinco unidades territoriales.")

    # 2. External audit, minor (ISO 37001 8.7): closed, then reopened when the internal audit found it again.
    s = plan.story().raised(
        ext - 3, luis, title="Ofrecimientos de regalos registrados fuera del plazo de 48 horas en la UT Piura",
        description="De 9 ofrecimientos de regalos de proveedores registrados en la UT Piura, 4 se registraron "
                    "entre 5 y 12 días después, contra las 48 horas que exige PO-ABS-003.",
        source="external_audit", audit=refs.external_audit, grade="minor", detected=ext,
        detected_by_name=CB_LEAD, site="UT-PIURA", process="PE-03", clauses=[(C, "8.7")],
        documents=("PO-ABS-003",), method="other",
        root_cause="El personal desconocía el plazo; el registro se llenaba solo en la reunión mensual.")
    a = s.action(ext - 5, luis, owner=luis, due=ext - 50,
                 description="Capacitar al personal de la UT Piura en PO-ABS-003 y enviar un recordatorio mensual.")
    s.started(ext - 10, luis, a)
    s.implemented(ext - 40, luis, a, "Capacitación a 46 servidores (lista de asistencia); recordatorios enviados.")
    s.scheduled(ext - 41, luis, a, check_in=60, checker=rosa)
    s.checked(ext - 102, rosa, a, effective=True,
              evidence="Revisión del registro de 3 meses: 11 ofrecimientos, todos registrados dentro de 48 horas.")
    s.closed(ext - 104, luis, "Registro al día durante tres meses seguidos.")
    s.reopened(intl - 3, luis, "La auditoría interna encontró otra vez dos ofrecimientos registrados con 6 días de "
                               "retraso en la UT Piura: la capacitación sola no bastó.")
    a = s.action(intl - 4, luis, owner=luis, due=-25,
                 description="Registro de regalos en línea con alerta automática al oficial de cumplimiento cuando "
                             "un ofrecimiento pasa de 24 horas sin registrar.")
    s.started(intl - 20, luis, a)

    # 3. External audit, observation closed on a "no action needed" decision.
    s = plan.story().raised(
        ext - 3, rosa, title="Actas de capacitación de actores comunales sin la duración de la sesión",
        description="Las actas de capacitación de madres cuidadoras de la UT Loreto no indican la duración de "
                    "cada sesión.",
        source="external_audit", audit=refs.external_audit, grade="observation", detected=ext,
        detected_by_name=CB_LEAD, site="UT-LORETO", process="PO-07", clauses=[(Q, "7.2")])
    s.closed(ext - 20, rosa, "Analizada: la duración consta en el plan de capacitación aprobado, al que remite "
                             "cada acta; no se requiere acción correctiva. Se comunicó a las UT en la reunión "
                             "mensual.", no_action=True)

    # 4. External audit, opportunity for improvement: its action cancelled, then closed on a decision.
    s = plan.story().raised(
        ext - 3, jorge, title="Oportunidad de mejora: tablero de indicadores regionales en línea",
        description="El organismo de certificación sugiere publicar los indicadores de cada UT en un tablero "
                    "consultable por los coordinadores.",
        source="external_audit", audit=refs.external_audit, grade="improvement_opportunity", detected=ext,
        detected_by_name=CB_LEAD, site="SEDE-CENTRAL", process="PE-05", clauses=[(Q, "9.1.3")])
    a = s.action(ext - 8, jorge, owner=carmen, due=ext - 120,
                 description="Desarrollar un tablero de indicadores regionales.")
    s.cancelled(ext - 60, jorge, a, "El Ministerio implementará un tablero nacional para todos sus programas; "
                                    "desarrollar uno propio duplicaría el esfuerzo.")
    s.closed(ext - 61, jorge, "Se adopta el tablero nacional del Ministerio; no se requiere acción propia.",
             no_action=True)

    # 5. Complaint of a citizen (ISO 9001 8.5.1): a second nonconformity after a reclamación.
    s = plan.story().raised(
        280, rosa, title="Trato inadecuado a una familia usuaria en un centro de cuidado diurno de la UT La Libertad",
        description="Una madre usuaria reclamó por la línea gratuita que una cuidadora le negó el ingreso a su "
                    "hijo por llegar 10 minutos tarde y le habló de manera ofensiva.",
        source="complaint", grade="minor", detected=282,
        detected_by_name="Sra. Marleni Castillo (madre usuaria), por la línea gratuita", site="UT-LA-LIBERTAD",
        process="PO-03", clauses=[(Q, "8.2.1"), (Q, "9.1.2")],
        correction="La coordinadora se comunicó con la familia el mismo día y se recibió al niño.",
        method="ishikawa", category="people",
        analysis="Personas: cuidadora nueva sin el taller de buen trato; métodos: horario de ingreso rígido.",
        root_cause="La inducción de cuidadoras nuevas no incluía el taller de buen trato.")
    a = s.action(278, rosa, owner=rosa, due=230,
                 description="Incluir el taller de buen trato en la inducción de cuidadoras y dictarlo en la UT.")
    s.started(270, rosa, a)
    s.implemented(235, rosa, a, "Taller dictado a 58 cuidadoras; módulo añadido a la inducción.")
    s.scheduled(235, rosa, a, check_in=40, checker=jorge)
    s.checked(193, jorge, a, effective=True, evidence="Sin reclamos por trato en 3 meses; encuesta a 30 familias "
                                                       "con 97 % de satisfacción con el trato.")
    s.closed(190, jorge, "Acción eficaz.")

    # 6. Anti-bribery concern (ISO 37001 8.9, 8.10): investigated, two effective actions, closed.
    s = plan.story().raised(
        240, luis, title="Cobro indebido a familias para su afiliación al servicio en la UT Ayacucho",
        description="Una madre denunció que un promotor le pidió S/ 50 para afiliar a su hija al servicio, que "
                    "es gratuito. La investigación confirmó tres casos en dos distritos.",
        source="anti_bribery_concern", grade="major", detected=243,
        detected_by_name="Denuncia de una madre usuaria ante la UT Ayacucho", site="UT-AYACUCHO", process="PO-05",
        clauses=[(C, "8.9"), (C, "8.10"), (C, "7.3")],
        correction="El promotor fue separado de la afiliación; se devolvió el dinero a las tres familias.",
        method="five_whys", root_cause="La afiliación la hacía una sola persona sin verificación de un segundo "
                                       "servidor, y las familias no sabían que el servicio es gratuito.")
    s.attached(238, luis, "Informe de investigacion - resumen.pdf",
               ["Oficial de cumplimiento - investigacion conforme a ISO 37001 8.10",
                "Tres casos confirmados; medidas disciplinarias en curso.",
                "Documento de acceso restringido: resumen sin datos personales."])
    a1 = s.action(238, luis, owner=luis, due=200,
                  description="Concluir la investigación y aplicar el procedimiento disciplinario.")
    a2 = s.action(237, luis, owner=rosa, due=190,
                  description="Afiches y mensajes radiales en quechua y castellano sobre la gratuidad del servicio; "
                              "doble verificación de cada afiliación.")
    s.started(236, luis, a1)
    s.started(230, rosa, a2)
    s.implemented(205, luis, a1, "Investigación concluida; sanción aplicada; denuncia ante la Fiscalía.")
    s.implemented(195, rosa, a2, "Campaña difundida en 11 provincias; formato de afiliación con doble firma.")
    s.checked(180, jorge, a1, effective=True, evidence="Expediente disciplinario concluido; sin nuevas denuncias.")
    s.scheduled(194, luis, a2, check_in=30, checker=luis)
    s.checked(160, luis, a2, effective=True, evidence="Muestreo de 60 afiliaciones: todas con doble firma; "
                                                       "encuesta: 92 % sabe que el servicio es gratuito.")
    s.closed(158, luis, "Investigación concluida y controles eficaces.")

    # 7. External control body without an audit of the programme (ISO 37001 8.3), closed.
    s = plan.story().raised(
        170, luis, title="Pagos a proveedores sin la segunda firma exigida por los controles financieros",
        description="El Órgano de Control Institucional encontró 7 pagos de la UT Lima aprobados por una sola "
                    "persona.", source="external_audit", grade="minor", detected=172,
        detected_by_name="Órgano de Control Institucional", site="UT-LIMA", process="PS-05",
        clauses=[(C, "8.3")], root_cause="El sistema de pagos permitía la aprobación simple.")
    a = s.action(168, luis, owner=carmen, due=120, description="Configurar la doble aprobación obligatoria en el "
                                                                "sistema de pagos.")
    s.implemented(140, carmen, a, "Doble aprobación activa desde el cierre de mes; prueba de 20 pagos.")
    s.checked(110, luis, a, effective=True, evidence="Revisión de 150 pagos: todos con dos aprobaciones.")
    s.closed(105, luis, "Control financiero eficaz.")

    # 8. Process monitoring: not effective, reopened, a new action in progress (ISO 9001 8.5.1).
    s = plan.story().raised(
        205, rosa, title="Frecuencia de visitas domiciliarias por debajo de la meta en la UT Puno",
        description="El cumplimiento de la visita semanal fue 89 % el último mes, frente a la meta de 95 %.",
        source="process_monitoring", grade="minor", detected=206, detected_by="quality_officer", site="UT-PUNO",
        process="PO-01", clauses=[(Q, "8.5.1"), (Q, "9.1.1")], documents=("RG-SAF-121", "PR-SAF-003"),
        method="ishikawa", category="environment",
        analysis="Entorno: heladas y lluvias; métodos: rutas fijas; personas: facilitadores a pie.",
        root_cause="Las heladas impiden el traslado a las comunidades altoandinas en las rutas habituales.")
    a = s.action(203, rosa, owner=jorge, due=160,
                 description="Reprogramar las visitas con rutas alternativas en los días sin helada.")
    s.started(195, jorge, a)
    s.implemented(152, jorge, a, "Nuevas rutas aprobadas por la coordinación; calendario ajustado.")
    s.scheduled(151, rosa, a, check_in=30, checker=luis)
    s.checked(118, luis, a, effective=False,
              evidence="El cumplimiento del último mes fue 87 %: la reprogramación no compensó los días perdidos.")
    a = s.action(110, rosa, owner=jorge, due=-20,
                 description="Contratar dos facilitadores itinerantes con movilidad para Azángaro y El Collao.")
    s.started(100, jorge, a)

    # 9. Process monitoring, major: checked not effective days ago, no new action yet (action required).
    s = plan.story().raised(
        62, jorge, title="Alimentos con fecha de vencimiento superada en el almacén de la UT Apurímac",
        description="En la supervisión se hallaron 140 kg de alimentos vencidos listos para su distribución a "
                    "los comités de gestión.", source="process_monitoring", grade="major", detected=63,
        detected_by_name="Especialista de seguimiento de la UT Apurímac", site="UT-APURIMAC", process="PO-06",
        clauses=[(Q, "8.5.4"), (Q, "8.7.1")],
        correction="Se inmovilizaron los alimentos y el proveedor los repuso.", method="five_whys",
        root_cause="No se aplicaba el método PEPS (primero en entrar, primero en salir) en el almacén.")
    s.attached(62, jorge, "Acta de inmovilizacion de alimentos.pdf",
               ["Acta de inmovilizacion - almacen UT Apurimac", "140 kg de alimentos vencidos inmovilizados.",
                "Firmado por el especialista y el responsable del almacen."])
    a = s.action(61, jorge, owner=rosa, due=30,
                 description="Control semanal de fechas de vencimiento y ordenamiento del almacén por el método "
                             "PEPS.")
    s.started(58, rosa, a)
    s.implemented(31, rosa, a, "Almacén reordenado; formato de control semanal en uso.")
    s.scheduled(30, jorge, a, check_in=20, checker=jorge)
    s.checked(6, jorge, a, effective=False,
              evidence="La visita de control encontró 20 kg vencidos: el control semanal no se llenó dos semanas.")

    # 10. Complaint (ISO 9001 8.5.1, 8.4.2): implemented, waiting for its scheduled effectiveness check.
    s = plan.story().raised(
        74, jorge, title="Entrega tardía de raciones en tres comités de gestión de la UT Huánuco",
        description="Tres comités recibieron las raciones del mes con 6 a 9 días de retraso.",
        source="complaint", grade="minor", detected=75,
        detected_by_name="Presidenta del comité de gestión de Amarilis, por la línea gratuita",
        site="UT-HUANUCO", process="PO-06", clauses=[(Q, "8.5.1"), (Q, "8.4.2")],
        correction="Entrega de emergencia desde el almacén de la UT.",
        root_cause="El contrato con el transportista no fijaba penalidades por retraso.")
    a = s.action(72, jorge, owner=jorge, due=30,
                 description="Adenda al contrato de transporte con plazos y penalidades; seguimiento semanal.")
    s.started(70, jorge, a)
    s.implemented(20, jorge, a, "Adenda firmada; guías de remisión del mes entregadas a tiempo (adjuntas).")
    s.attached(20, jorge, "Guias de remision - entregas del mes.pdf",
               ["Guias de remision de raciones - UT Huanuco", "14 comites de gestion, entregas dentro del plazo."],
               index=a)
    s.scheduled(19, rosa, a, check_in=35, checker=luis)

    # 11. Internal audit, major (ISO 37001 8.2): three actions, implemented / in progress and overdue / planned.
    s = plan.story().raised(
        intl - 2, luis,
        title="Proveedor de alimentos contratado sin la debida diligencia exigida por PR-ABS-002 en la UT Cajamarca",
        description="El proveedor de alimentos de la UT Cajamarca fue contratado sin la evaluación de riesgo de "
                    "soborno ni la declaración de beneficiarios finales.",
        source="internal_audit", audit=refs.internal_audit, grade="major", detected=intl, detected_by="approver",
        site="UT-CAJAMARCA", process="PS-01", clauses=[(C, "8.2"), (C, "8.5")], documents=("PR-ABS-002",),
        method="five_whys", root_cause="La orden de compra no exigía adjuntar la debida diligencia.")
    a1 = s.action(intl - 3, luis, owner=luis, due=intl - 30,
                  description="Completar la debida diligencia del proveedor y retener pagos hasta concluirla.")
    a2 = s.action(intl - 3, luis, owner=rosa, due=10,
                  description="Incluir la verificación de la debida diligencia en la lista de control previa a "
                              "toda orden de compra.")
    s.action(intl - 5, luis, owner=luis, due=-7,
             description="Capacitar en PR-ABS-002 a los 19 responsables de abastecimiento de las UT.")
    s.started(intl - 4, luis, a1)
    s.implemented(intl - 28, luis, a1, "Debida diligencia concluida: riesgo medio, con cláusula antisoborno.")
    s.started(intl - 15, rosa, a2)

    # 12. Internal audit (ISO 9001 7.5.3): one action cancelled for a better one, which was effective; closed.
    s = plan.story().raised(
        intl - 1, jorge, title="Fichas de visita en papel del instructivo retirado IT-SAF-007 aún en uso en la UT "
                               "Puno",
        description="Facilitadores de dos provincias llenaban la ficha en papel retirada, no el registro en tablet.",
        source="internal_audit", audit=refs.internal_audit, grade="minor", detected=intl, detected_by="approver",
        site="UT-PUNO", process="PO-01", clauses=[(Q, "7.5.3.2"), (Q, "7.5.3")],
        documents=("IT-SAF-007", "PR-SAF-003"), method="other",
        root_cause="La UT no tenía tablets suficientes para todos los facilitadores.")
    a1 = s.action(intl - 2, jorge, owner=jorge, due=intl - 20,
                  description="Recoger los formatos en papel de la UT Puno.")
    s.cancelled(intl - 12, rosa, a1, "Sin tablets los facilitadores no tendrían cómo registrar: se reemplaza por "
                                     "la acción A2, que ataca la causa.")
    a2 = s.action(intl - 12, rosa, owner=jorge, due=intl - 50,
                  description="Entregar tablets a los 34 facilitadores de la UT Puno y retirar los formatos en papel.")
    s.started(intl - 13, jorge, a2)
    s.implemented(intl - 45, jorge, a2, "34 tablets entregadas con acta; formatos en papel recogidos.")
    s.attached(intl - 45, jorge, "Acta de entrega de tablets UT Puno.pdf",
               ["Acta de entrega - 34 tablets a facilitadores de la UT Puno", "Formatos en papel recogidos: 410."],
               index=a2)
    s.checked(intl - 70, luis, a2, effective=True, evidence="Supervisión en 3 provincias: 100 % de visitas "
                                                             "registradas en tablet.")
    s.closed(intl - 72, rosa, "Acción eficaz; la acción cancelada queda en el historial.")

    # 13. Internal audit, observation (ISO 9001 9.2.2): its action planned and overdue.
    s = plan.story().raised(
        intl - 2, rosa, title="El programa de auditoría interna no registra los criterios de selección de las UT",
        description="No consta por qué se eligieron las UT Puno y Cajamarca para la auditoría interna.",
        source="internal_audit", audit=refs.internal_audit, grade="observation", detected=intl,
        detected_by="approver", site="SEDE-CENTRAL", process="PE-02", clauses=[(Q, "9.2.2")])
    s.action(intl - 6, rosa, owner=rosa, due=20,
             description="Añadir al programa de auditoría los criterios de selección de sitios y sus resultados.")

    # 14. Internal audit (ISO 37001 7.2.2): implemented, check scheduled with a named checker.
    s = plan.story().raised(
        intl - 2, luis, title="Puestos expuestos al soborno sin declaración jurada de conflicto de intereses",
        description="5 de 12 servidores de abastecimiento de la UT Ica no presentaron la declaración anual.",
        source="internal_audit", audit=refs.internal_audit, grade="minor", detected=intl, detected_by="approver",
        site="UT-ICA", process="PS-02", clauses=[(C, "7.2.2"), (C, "7.2.2.1")])
    a = s.action(intl - 3, luis, owner=luis, due=15,
                 description="Obtener las declaraciones pendientes y alertar cada año por el sistema de personal.")
    s.implemented(12, luis, a, "12 declaraciones presentadas; alerta anual configurada.")
    s.scheduled(11, luis, a, check_in=25, checker=rosa)

    # 15. Process monitoring, closed after an effective action (ISO 9001 8.5.1, Amazonian communities).
    s = plan.story().raised(
        150, rosa, title="Visitas en comunidades amazónicas sin intérprete en la UT San Martín",
        description="En 9 de 40 visitas a familias awajún no participó intérprete, como exige PR-SAF-015.",
        source="process_monitoring", grade="minor", detected=152, detected_by="quality_officer",
        site="UT-SAN-MARTIN", process="PO-01", clauses=[(Q, "8.5.1")], documents=("PR-SAF-015",),
        root_cause="Solo había un intérprete para toda la provincia de Moyobamba.")
    a = s.action(149, rosa, owner=jorge, due=100, description="Convocar a tres intérpretes comunitarios.")
    s.started(145, jorge, a)
    s.implemented(105, jorge, a, "Tres intérpretes contratados y capacitados.")
    s.scheduled(104, rosa, a, check_in=30, checker=rosa)
    s.checked(70, rosa, a, effective=True, evidence="40 visitas revisadas: todas con intérprete.")
    s.closed(66, rosa, "Acción eficaz.")

    # 16. Management review, opportunity for improvement: its action planned, due within two weeks.
    s = plan.story().raised(
        44, jorge, title="Oportunidad de mejora: digitalizar las fichas de seguimiento del acompañamiento familiar",
        description="La revisión por la dirección acordó evaluar la digitalización de las fichas de seguimiento.",
        source="management_review", grade="improvement_opportunity", detected=45,
        detected_by_name="Revisión por la dirección (acta RG-QA-040)", site="SEDE-CENTRAL", process="PO-04",
        clauses=[(Q, "9.3.3"), (Q, "10.3")], documents=("RG-QA-040",))
    s.action(40, jorge, owner=rosa, due=-10, description="Presentar a la dirección una propuesta de fichas "
                                                          "digitales con costos y cronograma.")

    # 17. Management review: in progress, due within two weeks (ISO 9001 9.1.2).
    s = plan.story().raised(
        42, rosa, title="Resultados de satisfacción no desagregados por región ni por lengua materna",
        description="La encuesta de satisfacción no permite ver diferencias entre regiones ni entre familias "
                    "quechuahablantes, aimaras y amazónicas.", source="management_review", grade="minor",
        detected=45, detected_by_name="Revisión por la dirección (acta RG-QA-040)", site="SEDE-CENTRAL",
        process="PE-05", clauses=[(Q, "9.1.2"), (Q, "9.1.3")], documents=("EV-QA-031",))
    a = s.action(41, rosa, owner=rosa, due=-5, description="Rediseñar la muestra y los reportes de la encuesta.")
    s.started(30, rosa, a)

    # 18. Process monitoring: planned action overdue, never started (ISO 9001 9.1.1).
    s = plan.story().raised(
        90, jorge, title="Informes mensuales de supervisión remitidos fuera de plazo por la UT Amazonas",
        description="Los informes de tres meses llegaron entre 10 y 18 días tarde.", source="process_monitoring",
        grade="minor", detected=92, detected_by="approver", site="UT-AMAZONAS", process="PE-05",
        clauses=[(Q, "9.1.1")])
    s.action(88, jorge, owner=jorge, due=25, description="Fijar un calendario de cierre mensual con la UT y "
                                                          "seguirlo en la reunión de coordinación.")

    # 19. Other source (ISO 9001 7.1.3): in progress (owner: the administrator).
    s = plan.story().raised(
        35, carmen, title="Computadoras de la UT Junín sin copia de respaldo de los registros de visitas",
        description="Un disco dañado obligó a reconstruir dos semanas de registros desde las fichas físicas.",
        source="other", grade="minor", detected=36, detected_by_name="Soporte informático (ticket 4821)",
        site="UT-JUNIN", process="PS-03", clauses=[(Q, "7.1.3"), (Q, "7.5.3.1")])
    a = s.action(34, carmen, owner=carmen, due=-25, description="Copia de respaldo diaria al servidor central.")
    s.started(28, carmen, a)

    # 20. Complaint (ISO 9001 8.4.2): an action in progress with a later due date.
    s = plan.story().raised(
        100, jorge, title="Proveedor de raciones sin verificación de registro sanitario en la UT Áncash",
        description="Un comité de gestión reclamó por un lote de menestras sin rotulado sanitario.",
        source="complaint", grade="minor", detected=101, detected_by_name="Comité de gestión de Huaraz",
        site="UT-ANCASH", process="PO-06", clauses=[(Q, "8.4.2"), (Q, "8.4.1")],
        correction="Lote retirado y reemplazado.")
    a = s.action(98, jorge, owner=jorge, due=-30, description="Verificar el registro sanitario de cada lote antes "
                                                               "de aceptarlo en almacén.")
    s.started(90, jorge, a)

    # 21. Process monitoring, observation: a planned action due in two weeks (ISO 9001 7.1.4).
    s = plan.story().raised(
        24, rosa, title="Temperatura elevada en salas de cuidado diurno de la UT Madre de Dios",
        description="Se registraron 33 °C en dos salas durante la tarde.", source="process_monitoring",
        grade="observation", detected=25, detected_by="quality_officer", site="UT-MADRE-DE-DIOS",
        process="PO-03", clauses=[(Q, "7.1.4")])
    s.action(23, rosa, owner=jorge, due=-12, description="Instalar ventiladores y mallas de sombra en las salas.")

    # 22. Process monitoring (ISO 37001 8.7): a gift accepted and not registered; action in progress.
    s = plan.story().raised(
        57, luis, title="Canasta de víveres de un proveedor aceptada sin registro en la UT Arequipa",
        description="La revisión mensual del registro de regalos no encontró la canasta que un proveedor de "
                    "alimentos entregó al responsable de almacén, vista en las fotos de la actividad.",
        source="process_monitoring", grade="minor", detected=58, detected_by="compliance_officer",
        site="UT-AREQUIPA", process="PS-01", clauses=[(C, "8.7"), (C, "7.3")], documents=("PO-ABS-003",),
        correction="La canasta se devolvió al proveedor con una carta que recuerda la política.")
    a = s.action(55, luis, owner=luis, due=-20,
                 description="Recordar la política de regalos a los proveedores con cada orden de compra.")
    s.started(40, luis, a)

    # 23. Process monitoring (ISO 37001 4.5, 8.2): a planned action, not due yet.
    s = plan.story().raised(
        33, luis, title="Comités de gestión sin evaluación de riesgo de soborno actualizada en la UT Lambayeque",
        description="La evaluación de riesgo de soborno de 14 comités de gestión tiene más de dos años.",
        source="process_monitoring", grade="minor", detected=34, detected_by="compliance_officer",
        site="UT-LAMBAYEQUE", process="PE-04", clauses=[(C, "4.5"), (C, "8.2")], documents=("RG-ABS-010",))
    s.action(32, luis, owner=rosa, due=-30, description="Actualizar la evaluación de riesgo de los 14 comités "
                                                         "con el formato de RG-ABS-010.")

    # 24–25. Just raised: nothing done yet (one from the whistleblowing channel, ISO 37001 8.9).
    plan.story().raised(
        1, luis, title="Denuncia: presunto pedido de dinero a un comité de gestión para aprobar su rendición de "
                       "cuentas",
        description="Se denunció que un coordinador pidió dinero a un comité de gestión de la UT Loreto para dar "
                    "conformidad a su rendición de cuentas.", source="anti_bribery_concern", grade="major",
        detected=2, detected_by_name="Denuncia anónima (canal de denuncias)", site="UT-LORETO", process="PO-02",
        clauses=[(C, "8.9"), (C, "8.10")],
        correction="El coordinador fue apartado de la revisión de rendiciones mientras dure la investigación.")
    plan.story().raised(
        1, rosa, title="Dos facilitadores de la UT Huancavelica sin la inducción obligatoria registrada",
        description="Los legajos de dos facilitadores contratados el mes pasado no tienen el registro de "
                    "inducción.", source="process_monitoring", grade="minor", detected=3,
        detected_by="quality_officer", site="UT-HUANCAVELICA", process="PS-02", clauses=[(Q, "7.2")])
