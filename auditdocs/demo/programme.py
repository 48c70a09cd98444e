"""Demo certification: an integrated scope, one certificate in the second year of its cycle, its audits so far.

Why: the programme pages, the expiry warning and site sampling need a cycle in progress to show anything: the
initial audit is done (stage 1 at the head office, stage 2 at the head office and five regional units), the first
surveillance is planned with no sample yet, and an internal audit is done. Everything goes through the services, so
the audit trail tells the same story. Run after `create_org`; running it again adds nothing.
"""

from __future__ import annotations

import tempfile
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import func, select

from ..extensions import db
from ..models import Audit, AuditSite, Certificate, Process, Site, User
from ..services import audit as trail
from ..services import certificates as certs
from ..services import programme as svc
from ..services.documents import add_months
from ..services.uploads import Checked, Incoming, ingest
from ..timeutil import local_today, utcnow
from .files import write_pdf

BODY = "Bureau de Certificación Andina S.A.C."
LEAD = "Ing. Marco Paredes Villanueva"
INTERNAL_TEAM = "Equipo de auditoría interna del SIG"
STATEMENT_ES = ("Gestión del servicio de acompañamiento familiar y cuidado diurno a niñas y niños menores de 36 meses "
                "y sus familias en zonas de pobreza y pobreza extrema, prestado desde la Sede Central (Lima) y 19 "
                "unidades territoriales; incluye la gestión de la calidad y la gestión antisoborno del Programa.")
STATEMENT_EN = ("Management of the family-support and day-care service for children under 36 months and their "
                "families in areas of poverty and extreme poverty, delivered from the head office (Lima) and 19 "
                "regional units; includes the programme's quality management and anti-bribery management.")
CENTRAL = "SEDE-CENTRAL"
INITIAL_SAMPLE = ("UT-CUSCO", "UT-PIURA", "UT-LORETO", "UT-AYACUCHO", "UT-LA-LIBERTAD")
INTERNAL_SITES = (CENTRAL, "UT-PUNO", "UT-CAJAMARCA")
INTERNAL_PROCESSES = ("PE-02", "PE-03", "PO-01", "PS-01")  # quality, anti-bribery, home visits, procurement
REASON_CENTRAL = "función central: se audita siempre"
REASON_INITIAL = "muestra inicial"


def _sites() -> dict[str, Site]:
    return {s.code: s for s in db.session.scalars(select(Site).where(Site.active.is_(True)))}


def _scope_processes() -> list[Process]:
    """The operational processes, plus quality management and anti-bribery management from the rest of the map."""
    rows = db.session.scalars(select(Process).where(Process.active.is_(True))
                              .order_by(Process.sort_order, Process.code)).all()
    wanted = ("gestión de la calidad", "gestión antisoborno")
    return [p for p in rows if p.category == "operational" or p.name_es.lower() in wanted]


def _write_scope(actor: User, sites: dict[str, Site], processes: list[Process]) -> None:
    current = svc.scope_for("integrated")
    if current is not None and (current.statement_es or current.statement_en):
        return
    in_scope = [s.id for code, s in sites.items() if code == CENTRAL or code.startswith("UT-")]
    svc.update_scope("integrated", statement_es=STATEMENT_ES, statement_en=STATEMENT_EN, site_ids=in_scope,
                     process_ids=[p.id for p in processes], actor=actor)


def _certificate(actor: User, issued: date) -> Certificate:
    data = certs.CertificateInput(number=f"SGI-{issued.year}-0412", scope_key="integrated", body=BODY,
                                  issued_on=issued, expires_on=add_months(issued, 36))
    with tempfile.TemporaryDirectory() as tmp:
        pdf = write_pdf(Path(tmp) / f"Certificado {data.number}.pdf", f"Certificado {data.number}", [
            BODY, "certifica que el Sistema Integrado de Gestión del Programa cumple",
            "ISO 9001:2015 e ISO 37001:2016.", f"Alcance: {STATEMENT_ES[:90]}...",
            f"Emitido: {issued.isoformat()}  Vence: {data.expires_on.isoformat() if data.expires_on else ''}"])

        def write(checked: Checked) -> int:
            cert = certs.create_certificate(data, actor=actor)
            certs.attach_file(cert, checked, actor=actor)
            return cert.id

        cert_id = ingest(Incoming.from_path(pdf), write)
    return db.session.get_one(Certificate, cert_id)


def _visit(item: Audit, sites: dict[str, Site], codes: tuple[str, ...], reasons: dict[str, str], actor: User,
           confirmed: date) -> None:
    """The sites an audit visited, as a confirmed sample would have recorded them."""
    for code in codes:
        if code in sites:
            item.sites.append(AuditSite(site=sites[code], reason=reasons.get(code, REASON_INITIAL)))
    if item.is_certification:
        item.sample_confirmed_at = utcnow() - timedelta(days=(local_today() - confirmed).days)
        item.sample_confirmed_by_id = actor.id
    db.session.flush()
    trail.record("audit.sample", "audit", item.id, actor=actor,
                 new={"sites": sorted(({"code": s.site.code, "reason": s.reason} for s in item.sites),
                                      key=lambda s: str(s["code"]))})


def create_programme(users: dict[str, User]) -> None:
    """The integrated scope, certificate SGI-<year>-0412 (issued about 10 months ago, so the first surveillance audit
    falls within its first year, as ISO/IEC 17021-1 asks) and its audits so far."""
    rosa = users["quality_officer"]
    jorge = users.get("approver", rosa)
    sites, processes = _sites(), _scope_processes()
    _write_scope(rosa, sites, processes)
    if db.session.scalar(select(func.count(Certificate.id)).where(Certificate.number.like("SGI-%-0412"))):
        return
    today = local_today()
    issued = add_months(today, -10)
    cert = _certificate(rosa, issued)
    process_ids = [p.id for p in processes]
    central = {CENTRAL: REASON_CENTRAL}
    for stage, start, days, codes in (("stage_1", issued - timedelta(75), 2, (CENTRAL,)),
                                      ("stage_2", issued - timedelta(40), 4, (CENTRAL, *INITIAL_SAMPLE))):
        end = start + timedelta(days - 1)
        item = svc.create_audit(svc.AuditInput(
            audit_type="initial", stage=stage, certificate_id=cert.id, planned_start=start, planned_end=end,
            actual_start=start, actual_end=end, auditing_body=BODY, lead_auditor=LEAD, status="done",
            process_ids=process_ids), actor=rosa, today=today)
        _visit(item, sites, codes, central, rosa, start - timedelta(20))
    surveillance = today + timedelta(45)
    svc.create_audit(svc.AuditInput(
        audit_type="surveillance_1", certificate_id=cert.id, planned_start=surveillance,
        planned_end=surveillance + timedelta(3), auditing_body=BODY, lead_auditor=LEAD, process_ids=process_ids,
        notes="Plan de auditoría pendiente de recibir del organismo de certificación."), actor=rosa, today=today)
    held = add_months(today, -4)
    svc.create_audit(svc.AuditInput(
        audit_type="internal", planned_start=held, planned_end=held + timedelta(2), actual_start=held,
        actual_end=held + timedelta(2), auditing_body=INTERNAL_TEAM, lead_auditor=jorge.name, status="done",
        process_ids=list(db.session.scalars(select(Process.id).where(Process.code.in_(INTERNAL_PROCESSES)))),
        site_ids=[sites[c].id for c in INTERNAL_SITES if c in sites],
        notes="Auditoría interna previa a la primera auditoría de seguimiento."), actor=rosa, today=today)
