"""Demo documents for the programme: procedures, policies, records and evidence in Spanish and English,
in every workflow state (current, superseded, awaiting approval, overdue review, restricted, withdrawn), placed in
the processes they serve and, for regional records and procedures, at the regional units they concern."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from pathlib import Path

from sqlalchemy import select

from ..extensions import db
from ..models import Document, Process, Site, User
from ..services import documents as svc
from ..services.uploads import Incoming, ingest
from ..timeutil import local_today
from .files import write_docx, write_pdf, write_text

Q, C = "ISO 9001:2015", "ISO 37001:2016"


@dataclass
class DemoDoc:
    """One demo document and its versions: (filename, label, note, effective N days ago or None = draft)."""

    code: str
    title: str
    kind: str
    language: str
    clauses: list[str]
    versions: list[tuple[str, str, str, int | None]]
    body: list[str] = field(default_factory=list)
    owner: str = "quality_officer"
    confidentiality: str = "normal"
    review_months: int = 12
    withdraw: str | None = None
    sites: list[str] = field(default_factory=list)  # codes; none: the whole organisation
    processes: list[str] = field(default_factory=list)


DOCS = [
    DemoDoc("PO-SIG-001", "Política del Sistema Integrado de Gestión (calidad y antisoborno)", "policy", "es",
            [f"{Q} 5.2", f"{Q} 5.2.1", f"{Q} 5.2.2", f"{C} 5.2"],
            [("PO-SIG-001 Politica SIG v1.docx", "v1", "Primera emisión.", 600),
             ("PO-SIG-001 Politica SIG v2.docx", "v2", "Incorpora la prohibición expresa del soborno.",
              280)],
            ["El Programa se compromete a brindar servicios de cuidado diurno y acompañamiento a familias con "
             "calidad, y prohíbe el soborno en todas sus formas.",
             "## Compromisos", "Cumplir los requisitos legales, mejorar continuamente y denunciar de buena fe."],
            processes=["PE-02", "PE-03"]),
    DemoDoc("PR-QA-001", "Control de la información documentada", "procedure", "es",
            [f"{Q} 7.5", f"{Q} 7.5.2", f"{Q} 7.5.3", f"{C} 7.5"],
            [("PR-QA-001 Control de informacion documentada v3.docx", "Rev. 3",
              "Actualiza la codificación de documentos.", 540)],
            ["Establece cómo se elaboran, revisan, aprueban, distribuyen y conservan los documentos y registros.",
             "## Aprobación", "Toda versión nueva es aprobada por una persona distinta de quien la elaboró."],
            processes=["PS-04", "PE-02"]),
    DemoDoc("PR-SAF-003", "Visitas domiciliarias", "procedure", "es", [f"{Q} 8.5.1", f"{Q} 8.1"],
            [("PR-SAF-003 Visitas domiciliarias v3.docx", "v3", "Ajuste de la frecuencia de visitas.",
              400),
             ("PR-SAF-003 Visitas domiciliarias v4.docx", "v4", "Incluye el registro de visitas en tablet.",
              320),
             ("PR-SAF-003 Visitas domiciliarias v5.docx", "v5",
              "Agrega el protocolo de visitas en zonas rurales de difícil acceso.", None)],
            ["Describe la visita domiciliaria semanal del facilitador a las familias usuarias.",
             "## Registro", "Cada visita se registra el mismo día con la firma del cuidador principal."],
            processes=["PO-01"]),
    DemoDoc("PR-CAL-004", "Calibración de balanzas e infantómetros", "procedure", "es",
            [f"{Q} 7.1.5", f"{Q} 7.1.5.2"],
            [("PR-CAL-004 Calibracion de balanzas v2.docx", "v2", "Frecuencia de calibración semestral.",
              90)],
            ["Las balanzas pediátricas y los infantómetros se calibran cada seis meses con patrones trazables.",
             "## Registro de calibración", "El certificado de calibración se conserva cinco años."],
            processes=["PO-01", "PO-03"]),
    DemoDoc("PR-ABS-002", "Debida diligencia de socios de negocio", "procedure", "es",
            [f"{C} 8.2", f"{C} 8.5"],
            [("PR-ABS-002 Debida diligencia v1.docx", "v1", "Primera emisión.", 200)],
            ["Antes de contratar proveedores de alimentos se evalúa su riesgo de soborno.",
             "## Alcance", "Aplica a proveedores, comités de gestión y entidades ejecutoras."],
            owner="compliance_officer", processes=["PS-01", "PE-04"]),
    DemoDoc("PO-ABS-003", "Regalos, hospitalidad, donaciones y beneficios similares", "policy", "es",
            [f"{C} 8.7"],
            [("PO-ABS-003 Regalos y hospitalidad v1.pdf", "v1", "Primera emisión.", 150)],
            ["Ningún servidor puede aceptar regalos de proveedores o familias usuarias.",
             "Todo ofrecimiento se registra en el registro de regalos dentro de 48 horas."],
            owner="compliance_officer", processes=["PE-03"]),
    DemoDoc("RG-ABS-010", "Evaluación de riesgos de soborno 2025", "record", "es", [f"{C} 4.5", f"{C} 4.5.4"],
            [("RG-ABS-010 Evaluacion de riesgos de soborno 2025.csv", "2025", "Evaluación anual.",
              60)],
            [], owner="compliance_officer", confidentiality="restricted", processes=["PE-04"]),
    DemoDoc("RG-QA-020", "Informe de auditoría interna 2025 — Unidades Territoriales Lima y Cusco", "record", "es",
            [f"{Q} 9.2", f"{Q} 9.2.2", f"{C} 9.2"],
            [("RG-QA-020 Informe de auditoria interna 2025.pdf", "v1", "Informe final.", 40)],
            ["Alcance: visitas domiciliarias y abastecimiento de alimentos en las unidades territoriales de Lima y "
             "Cusco.",
             "Hallazgo 1 (menor): en dos regiones los regalos se registraron fuera de plazo (ISO 37001:2016 8.7).",
             "Hallazgo 2 (observación): los registros de calibración de las balanzas estaban completos."],
            sites=["UT-LIMA", "UT-CUSCO"], processes=["PE-02", "PO-01", "PO-06"]),
    DemoDoc("EV-QA-031", "Resultados de la encuesta de satisfacción de usuarios 2025", "evidence", "es",
            [f"{Q} 9.1.2"],
            [("EV-QA-031 Encuesta de satisfaccion 2025.csv", "2025", "Encuesta a 1 240 familias.", 30)],
            [], processes=["PE-05", "PO-01"]),
    DemoDoc("RG-QA-040", "Acta de revisión por la dirección 2025", "record", "es", [f"{Q} 9.3.3", f"{C} 9.3"],
            [("RG-QA-040 Acta de revision por la direccion 2025.pdf", "v1", "Acta firmada.",
              20)],
            ["Acuerdos: reforzar la capacitación antisoborno y revisar la frecuencia de visitas."],
            processes=["PE-01", "PE-02"]),
    DemoDoc("IT-SAF-007", "Registro de visitas en papel (instructivo)", "work_instruction", "es", [f"{Q} 8.5.1"],
            [("IT-SAF-007 Registro en papel v2.docx", "v2", "Última versión en papel.", 900)],
            ["Instrucciones para llenar la ficha de visita en papel."],
            withdraw="Reemplazado por el registro en tablet descrito en PR-SAF-003 v4.", processes=["PO-01"]),
    DemoDoc("FO-SAF-012", "Ficha de visita domiciliaria", "form", "es", [f"{Q} 8.5.2"],
            [("FO-SAF-012 Ficha de visita.md", "v1", "Borrador para revisión.", None)],
            ["# Ficha de visita", "", "| Campo | Valor |", "|---|---|", "| Familia | |", "| Fecha | |"],
            processes=["PO-01"]),
    # Regional evidence: what a site sample finds (or misses) region by region.
    DemoDoc("RG-SAF-108", "Registro de visitas domiciliarias — Unidad Territorial Cusco 2025", "record", "es",
            [f"{Q} 8.5.1", f"{Q} 8.5.2"],
            [("RG-SAF-108 Registro de visitas Cusco 2025.pdf", "2025", "Consolidado anual.", 25)],
            ["Visitas realizadas en las provincias de Cusco, Canchis y La Convención.",
             "Cumplimiento de la frecuencia semanal: 94 %."],
            sites=["UT-CUSCO"], processes=["PO-01"]),
    DemoDoc("RG-SAF-121", "Registro de visitas domiciliarias — Unidad Territorial Puno 2025", "record", "es",
            [f"{Q} 8.5.1", f"{Q} 8.5.2"],
            [("RG-SAF-121 Registro de visitas Puno 2025.pdf", "2025", "Consolidado anual.", 25)],
            ["Visitas realizadas en las provincias de Puno, Azángaro y El Collao.",
             "Cumplimiento de la frecuencia semanal: 89 %; heladas de junio y julio."],
            sites=["UT-PUNO"], processes=["PO-01"]),
    DemoDoc("PR-SAF-015", "Visitas domiciliarias en comunidades amazónicas", "procedure", "es", [f"{Q} 8.5.1"],
            [("PR-SAF-015 Visitas en comunidades amazonicas v1.docx", "v1",
              "Traslado fluvial y visitas con intérprete.", 120)],
            ["Complementa PR-SAF-003 para comunidades a las que se llega por río.",
             "## Intérpretes", "La visita se realiza en la lengua de la familia con un intérprete de la comunidad."],
            sites=["UT-LORETO", "UT-AMAZONAS", "UT-MADRE-DE-DIOS", "UT-SAN-MARTIN"], processes=["PO-01"]),
    DemoDoc("RG-ABS-031", "Registro de regalos y hospitalidad — Unidad Territorial Ayacucho 2025", "record", "es",
            [f"{C} 8.7"],
            [("RG-ABS-031 Registro de regalos Ayacucho 2025.pdf", "2025", "Registro anual.", 15)],
            ["Tres ofrecimientos registrados y rechazados; ninguno aceptado."],
            owner="compliance_officer", sites=["UT-AYACUCHO"], processes=["PE-03"]),
]

CSV_BODIES = {
    "RG-ABS-010": "proceso,riesgo,probabilidad,impacto,riesgo_inherente,control,riesgo_residual\n"
                  "Compras de alimentos,Pago indebido a proveedor,3,4,12,Debida diligencia PR-ABS-002,6\n"
                  "Selección de personal,Favorecimiento a cambio de beneficios,2,4,8,Declaración jurada,4\n",
    "EV-QA-031": "region,familias_encuestadas,satisfechas_pct\nLima,520,91.2\nCusco,410,88.7\nPuno,310,86.1\n",
}


def _write(folder: Path, spec: DemoDoc, filename: str, label: str) -> Path:
    path = folder / filename
    title = f"{spec.code} {spec.title} ({label})"
    if filename.endswith(".docx"):
        return write_docx(path, title, spec.body)
    if filename.endswith(".pdf"):
        return write_pdf(path, title, spec.body)
    if filename.endswith(".csv"):
        return write_text(path, CSV_BODIES[spec.code])
    return write_text(path, "\n".join(spec.body) + "\n")


def _existing(model: type[Site] | type[Process], wanted: list[str]) -> list[str]:
    """The codes the demo organisation holds (a database without it still gets its documents, unplaced)."""
    if not wanted:
        return []
    found = set(db.session.scalars(select(model.code).where(model.code.in_(wanted), model.active.is_(True))))
    return [code for code in wanted if code in found]


def create(users: dict[str, User]) -> list[Document]:
    """Create the demo documents through the same services as the web (audited, validated)."""
    uploader = users["quality_officer"]  # Rosa
    approver = next(u for role, u in users.items() if role == "approver") if "approver" in users else users["admin"]
    created = []
    with tempfile.TemporaryDirectory(prefix="auditdocs-demo-") as tmp:
        folder = Path(tmp)
        for spec in DOCS:
            if db.session.scalar(select(Document.id).where(Document.code == spec.code)):
                continue  # demo-data --force on a database that already holds the demo
            owner = users.get(spec.owner, uploader)
            author = owner if spec.owner == "compliance_officer" else uploader
            doc = svc.create_document(code=spec.code, title=spec.title, kind=spec.kind, owner=owner, actor=author,
                                      language=spec.language, confidentiality=spec.confidentiality,
                                      review_interval_months=spec.review_months, clauses=spec.clauses,
                                      sites=_existing(Site, spec.sites), processes=_existing(Process, spec.processes))
            for filename, label, note, effective in spec.versions:
                upload = Incoming.from_path(_write(folder, spec, filename, label))
                version = ingest(upload, partial(svc.add_version, doc, actor=author, change_note=note,
                                                 revision_label=label))
                if effective is not None:
                    svc.approve(version, actor=approver, effective_date=local_today() - timedelta(days=effective))
            if spec.withdraw:
                svc.withdraw(doc, actor=approver, reason=spec.withdraw)
            created.append(doc)
    return created
