"""The programme's due-diligence files (ISO 37001 8.2) and gifts register (8.7) over the last year.

Why this way: the registers, their filters, exports and task lists need every decision — files on suppliers,
contractors, donors, committees and staff in exposed positions that proceed, proceed with conditions, do not proceed
or are still being checked; gifts given and received in soles and dollars that were accepted, declined, returned or
donated, some above the demo thresholds (PEN 150, USD 50) approved by someone other than who recorded them, one
rejected and one still waiting. Steps go through the services on their day (demo/replay.py), after the risks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from ..extensions import db
from ..models import BriberyRisk, DueDiligence, Gift, Process, Site, User
from ..services import due_diligence as dds
from ..services import gift_thresholds, gifts
from ..timeutil import local_today
from .replay import Timeline

THRESHOLDS = (("PEN", "150", "Umbral de PO-ABS-003: regalos de S/ 150 o más requieren aprobación."),
              ("USD", "50", "Equivalente aproximado en dólares para delegaciones y cooperantes."))
LUIS, ROSA, CARMEN = "compliance_officer", "quality_officer", "admin"


@dataclass(frozen=True)
class DdSpec:
    """A due-diligence file: opened `ago` days ago, decided `decided` days ago (None: checks still under way)."""

    ago: int
    subject_type: str
    name: str
    category: str
    site: str
    process: str
    risk_level: str
    checks: str
    position: str | None = None
    result: str | None = None
    decision: str | None = None
    decided: int | None = None
    conditions: str | None = None
    review: int = 330  # next review, days after the decision
    risks: tuple[str, ...] = ()  # titles of demo risks


@dataclass(frozen=True)
class GiftSpec:
    """An entry of the gifts register; `approval`: (days later, approve?, note) by someone other than the recorder."""

    ago: int
    by: str
    kind: str
    direction: str
    ours: str
    other: str
    category: str
    site: str
    value: str
    currency: str
    description: str
    purpose: str
    decision: str
    note: str | None = None
    approval: tuple[int, bool, str] | None = None
    risks: tuple[str, ...] = ()


SUPPLIER_RISK = "Direccionamiento de la compra de alimentos a cambio de comisiones"
GIFT_RISK = "Canastas y atenciones de proveedores no registradas"
STORE_RISK = "Regalos de proveedores a responsables de almacén para influir en la recepción"
DONOR_RISK = "Donaciones de empresas privadas condicionadas a contrataciones futuras"

FILES = [
    DdSpec(150, "business_associate", "Distribuidora de Alimentos Cajamarca S.A.C.", "supplier", "UT-CAJAMARCA",
           "PS-01", "high", "Consulta RUC y RNP; declaración de beneficiarios finales; búsqueda en listas de "
           "sancionados del OSCE y en prensa; referencias de otras entidades.",
           result="Sin sanciones; un accionista fue servidor del programa hasta 2023.",
           decision="proceed_with_conditions", decided=120,
           conditions="Cláusula antisoborno en el contrato; pagos solo a la cuenta declarada; sin participación del "
                      "ex servidor en la relación con el programa.", review=180, risks=(SUPPLIER_RISK,)),
    DdSpec(200, "business_associate", "Transportes Rápidos del Centro E.I.R.L.", "contractor", "UT-HUANUCO", "PO-06",
           "medium", "Consulta RUC; antecedentes en el RNP; verificación de flota.", result="Sin observaciones.",
           decision="proceed", decided=190),
    DdSpec(95, "business_associate", "Consultora Andina de Servicios S.R.L.", "supplier", "SEDE-CENTRAL", "PS-01",
           "high", "Consulta RUC; beneficiarios finales; cruce con declaraciones juradas de intereses del personal.",
           result="Su gerente es cónyuge de un directivo del área usuaria; inhabilitación temporal del OSCE en 2024.",
           decision="do_not_proceed", decided=88),
    DdSpec(400, "business_associate", "Laboratorio Metrológico del Sur S.A.C.", "supplier", "UT-APURIMAC", "PS-01",
           "low", "Acreditación INACAL vigente; consulta RUC.", result="Acreditación vigente, sin observaciones.",
           decision="proceed", decided=380, review=360),
    DdSpec(60, "business_associate", "Corporación Agroindustrial Norte S.A.", "donor", "UT-LA-LIBERTAD", "PS-05",
           "medium", "Consulta de procesos de contratación con el programa; noticias; política antisoborno propia.",
           result="Participó como postor en 2025; la donación no tiene contraprestación.",
           decision="proceed_with_conditions", decided=52,
           conditions="La empresa no podrá ser postora en la UT durante un año; entrega con acta pública.",
           risks=(DONOR_RISK,)),
    DdSpec(170, "business_associate", "Comité de Gestión Amarilis", "partner", "UT-HUANUCO", "PO-02", "medium",
           "Verificación de la junta directiva en la asamblea; rendiciones anteriores.",
           result="Rendiciones completas y a tiempo.", decision="proceed", decided=160),
    DdSpec(220, "personnel", "María Elena Ccori Palomino", "personnel_position", "UT-ICA", "PS-01", "medium",
           "Declaración jurada de intereses; referencias laborales; antecedentes.",
           position="Responsable de abastecimiento", result="Sin conflictos declarados ni antecedentes.",
           decision="proceed", decided=210),
    DdSpec(110, "personnel", "Julio César Panduro Ríos", "personnel_position", "UT-LORETO", "PO-02", "high",
           "Declaración jurada de intereses; referencias; verificación de vínculos con comités de gestión.",
           position="Coordinador de gestión comunal", result="Pariente en segundo grado en un comité de gestión.",
           decision="proceed_with_conditions", decided=100,
           conditions="No revisa las rendiciones de ese comité; segunda firma en todas sus conformidades.",
           review=120),
    DdSpec(9, "personnel", "Renzo Alarcón Meza", "personnel_position", "SEDE-CENTRAL", "PS-01", "high",
           "Declaración jurada de intereses recibida; pendiente la verificación de referencias.",
           position="Especialista en contrataciones (postulante)"),
]

GIFTS = [
    GiftSpec(330, ROSA, "gift", "received", "Responsable de almacén, UT Arequipa", "Alimentos del Sur S.A.C.",
             "supplier", "UT-AREQUIPA", "180.00", "PEN", "Canasta navideña de víveres.", "Fiestas de fin de año",
             "returned", "Devuelta con carta que recuerda la política de regalos.",
             (2, True, "Devolución conforme a PO-ABS-003."), (GIFT_RISK,)),
    GiftSpec(300, LUIS, "hospitality", "received", "Jefe de la UT Cajamarca", "Distribuidora de Alimentos Cajamarca "
             "S.A.C.", "supplier", "UT-CAJAMARCA", "120.00", "PEN", "Invitación a almorzar.",
             "Presentación de productos", "declined", "Proceso de selección en curso.", None, (SUPPLIER_RISK,)),
    GiftSpec(260, ROSA, "hospitality", "given", "UT Cusco", "Madres cuidadoras de los comités de gestión",
             "beneficiary", "UT-CUSCO", "450.00", "PEN", "Refrigerio para 30 participantes del taller de capacitación.",
             "Taller de capacitación de actores comunales", "accepted", None,
             (3, True, "Gasto previsto en el plan de capacitación.")),
    GiftSpec(240, LUIS, "gift", "received", "Especialista de compras, Sede Central", "Papelera Lima S.A.",
             "supplier", "SEDE-CENTRAL", "35.00", "PEN", "Agenda y lapiceros con el logotipo del proveedor.",
             "Material promocional", "accepted", "Valor simbólico, por debajo del umbral."),
    GiftSpec(200, LUIS, "donation", "received", "Sede Central", "Corporación Agroindustrial Norte S.A.", "donor",
             "UT-LA-LIBERTAD", "12000.00", "PEN", "500 kg de menestras para los comités de la UT La Libertad.",
             "Donación para el servicio alimentario", "accepted", "Con debida diligencia del donante y acta pública.",
             (4, True, "Aceptada con las condiciones de la debida diligencia."), (DONOR_RISK,)),
    GiftSpec(180, LUIS, "gift", "received", "Director ejecutivo", "Consultor internacional de la cooperación",
             "other", "SEDE-CENTRAL", "80.00", "USD", "Botella de pisco de colección.", "Cortesía al cerrar la "
             "consultoría", "donated", "Donada al albergue infantil de San Juan de Lurigancho.",
             (1, True, "Conforme: donada con acta.")),
    GiftSpec(150, LUIS, "gift", "given", "Dirección ejecutiva", "Delegación del Ministerio de Desarrollo Social de "
             "Bolivia", "public_official", "SEDE-CENTRAL", "30.00", "USD", "Recuerdo institucional (libro del "
             "programa).", "Visita de intercambio de experiencias", "accepted"),
    GiftSpec(120, ROSA, "gift", "given", "UT Lima", "Inspector de Defensa Civil de la Municipalidad de Huacho",
             "public_official", "UT-LIMA", "60.00", "PEN", "Canasta propuesta por el responsable del local.",
             "Agradecimiento por la inspección", "declined",
             "PO-ABS-003 prohíbe obsequios a funcionarios que inspeccionan al programa.", None,
             ("Pago a inspectores municipales para obtener el certificado de Defensa Civil",)),
    GiftSpec(90, ROSA, "other_benefit", "received", "Responsable de almacén, UT Ayacucho", "Comercial Wari E.I.R.L.",
             "supplier", "UT-AYACUCHO", "300.00", "PEN", "Entradas y pasajes para un evento deportivo en Lima.",
             "Invitación del proveedor", "declined", "Rechazado por escrito.",
             (2, True, "Conforme con el rechazo."), (STORE_RISK,)),
    GiftSpec(70, ROSA, "hospitality", "received", "Coordinador de la UT Piura", "Hotel Costa Norte S.A.C.",
             "supplier", "UT-PIURA", "250.00", "PEN", "Cena para el equipo de la UT.", "Aniversario del hotel",
             "accepted", None, (3, False, "No procede: el hotel es proveedor de eventos de la UT; debe pagarse o "
                                          "devolverse.")),
    GiftSpec(40, LUIS, "gift", "received", "Especialista en abastecimiento, UT Junín", "Transportes Rápidos del "
             "Centro E.I.R.L.", "contractor", "UT-JUNIN", "95.00", "PEN", "Panetón y vino.", "Navidad", "returned",
             "Devuelto con la carta de la política.", None),
    GiftSpec(3, LUIS, "sponsorship", "received", "Sede Central", "Fundación Infancia Andina (ONG)", "donor",
             "SEDE-CENTRAL", "1500.00", "USD", "Auspicio del encuentro nacional de madres cuidadoras.",
             "Encuentro nacional", "accepted", "A la espera de la aprobación del oficial de cumplimiento."),
]


class Refs:
    """Sites, processes and risks by the codes and titles the demo uses."""

    def __init__(self, users: dict[str, User]) -> None:
        self.users = users
        self.sites = dict(db.session.execute(select(Site.code, Site.id)).all())
        self.processes = dict(db.session.execute(select(Process.code, Process.id)).all())
        self.risks = dict(db.session.execute(select(BriberyRisk.title, BriberyRisk.id)).all())

    def user(self, key: str) -> User:
        return self.users.get(key) or self.users["admin"]

    def risk_ids(self, titles: tuple[str, ...]) -> list[int]:
        return [self.risks[t] for t in titles if t in self.risks]


def create(users: dict[str, User]) -> None:
    """Set the thresholds, then play the files and the gifts; nothing when either register already has entries."""
    if db.session.scalar(select(func.count(DueDiligence.id))) or db.session.scalar(select(func.count(Gift.id))):
        return
    if not all(key in users for key in (LUIS, ROSA, CARMEN)):
        return
    today = local_today()
    timeline, refs = Timeline(today), Refs(users)
    timeline.at(365, lambda _day: [gift_thresholds.set_threshold(currency, amount, note, actor=refs.user(CARMEN))
                                   for currency, amount, note in THRESHOLDS])
    for spec in FILES:
        _file(timeline, refs, spec)
    for gift in GIFTS:
        _gift(timeline, refs, gift)
    timeline.play()


def _dd_input(refs: Refs, spec: DdSpec, decided_on: date | None) -> dds.DdInput:
    """The file as first opened (no decision), or with its decision on `decided_on`."""
    data = dds.DdInput(
        subject_type=spec.subject_type, subject_name=spec.name, category=spec.category, risk_level=spec.risk_level,
        checks_performed=spec.checks, position=spec.position, site_id=refs.sites.get(spec.site),
        process_id=refs.processes.get(spec.process), risk_ids=refs.risk_ids(spec.risks))
    if decided_on is not None:
        data.result, data.decision, data.decided_on, data.conditions = (spec.result, spec.decision, decided_on,
                                                                        spec.conditions)
        data.reviewer_id = refs.user(CARMEN if spec.risk_level == "high" else LUIS).id
        data.next_review = None if spec.decision == "do_not_proceed" else decided_on + timedelta(days=spec.review)
    return data


def _file(timeline: Timeline, refs: Refs, spec: DdSpec) -> None:
    rows: list[DueDiligence] = []
    timeline.at(spec.ago, lambda day: rows.append(dds.create_due_diligence(
        _dd_input(refs, spec, None), actor=refs.user(LUIS), today=day)))
    if spec.decided is not None:
        timeline.at(spec.decided, lambda day: dds.update_due_diligence(
            rows[0], _dd_input(refs, spec, day), actor=refs.user(LUIS), today=day, note="Decisión registrada."))


def _gift(timeline: Timeline, refs: Refs, spec: GiftSpec) -> None:
    rows: list[Gift] = []
    data = gifts.GiftInput(
        kind=spec.kind, direction=spec.direction, internal_party=spec.ours, counterparty=spec.other,
        counterparty_category=spec.category, occurred_on=timeline.day(spec.ago + 1), value=Decimal(spec.value),
        currency=spec.currency, description=spec.description, purpose=spec.purpose, decision=spec.decision,
        decision_note=spec.note, site_id=refs.sites.get(spec.site), risk_ids=refs.risk_ids(spec.risks))
    timeline.at(spec.ago, lambda day: rows.append(gifts.create_gift(data, actor=refs.user(spec.by), today=day)))
    if spec.approval is None:
        return
    later, approve, note = spec.approval
    approver = refs.user(CARMEN if spec.by == LUIS else LUIS)

    def decide(day: date) -> None:
        if approve:
            gifts.approve_gift(rows[0], actor=approver, today=day, note=note)
        else:
            gifts.reject_gift(rows[0], actor=approver, today=day, note=note)

    timeline.at(spec.ago - later, decide)
