"""The demo organisation's site tree and process map: a head office in Lima, 19 regional units, a family-support
early-childhood service's processes.

Why these: the certification journeys (site sampling with x = 19, evidence per region) need a believable multi-site
programme; the codes are the ones the other demo modules and the tests rely on.
"""

from __future__ import annotations

from sqlalchemy import func, select

from ..extensions import db
from ..models import Process, Site, User
from ..services.org import ProcessData, SiteData, central, create_process, create_site

CENTRAL = ("SEDE-CENTRAL", "Sede Central (Lima)", "Head Office (Lima)", "Lima",
           "Av. Arequipa 2450, Lince, Lima")
# code suffix, region as written in Spanish, the city where the unit sits, street address
REGIONS = (
    ("AMAZONAS", "Amazonas", "Jr. Ortiz Arrieta 588, Chachapoyas"),
    ("ANCASH", "Áncash", "Av. Luzuriaga 734, Huaraz"),
    ("APURIMAC", "Apurímac", "Jr. Arequipa 215, Abancay"),
    ("AREQUIPA", "Arequipa", "Calle Mercaderes 310, Arequipa"),
    ("AYACUCHO", "Ayacucho", "Jr. 28 de Julio 262, Huamanga"),
    ("CAJAMARCA", "Cajamarca", "Jr. Amalia Puga 651, Cajamarca"),
    ("CUSCO", "Cusco", "Av. de la Cultura 1020, Wanchaq, Cusco"),
    ("HUANCAVELICA", "Huancavelica", "Jr. Virrey Toledo 335, Huancavelica"),
    ("HUANUCO", "Huánuco", "Jr. General Prado 812, Huánuco"),
    ("ICA", "Ica", "Av. San Martín 455, Ica"),
    ("JUNIN", "Junín", "Jr. Puno 560, Huancayo"),
    ("LA-LIBERTAD", "La Libertad", "Av. España 1150, Trujillo"),
    ("LAMBAYEQUE", "Lambayeque", "Av. Balta 980, Chiclayo"),
    ("LIMA", "Lima", "Av. Grau 245, Huacho"),
    ("LORETO", "Loreto", "Calle Próspero 470, Iquitos"),
    ("MADRE-DE-DIOS", "Madre de Dios", "Av. León Velarde 690, Puerto Maldonado"),
    ("PIURA", "Piura", "Av. Grau 1320, Piura"),
    ("PUNO", "Puno", "Jr. Lima 345, Puno"),
    ("SAN-MARTIN", "San Martín", "Jr. Pedro Canga 420, Moyobamba"),
)
# code, Spanish name, English name, owner (key of the demo users)
PROCESSES = {
    "strategic": (
        ("PE-01", "Planeamiento estratégico", "Strategic planning", "admin"),
        ("PE-02", "Gestión de la calidad", "Quality management", "approver"),
        ("PE-03", "Gestión antisoborno", "Anti-bribery management", "compliance_officer"),
        ("PE-04", "Gestión de riesgos de soborno", "Bribery-risk management", "compliance_officer"),
        ("PE-05", "Seguimiento y evaluación", "Monitoring and evaluation", "approver"),
    ),
    "operational": (
        ("PO-01", "Visitas domiciliarias", "Home visits", "quality_officer"),
        ("PO-02", "Gestión comunal", "Community management", "quality_officer"),
        ("PO-03", "Cuidado diurno", "Day care", "quality_officer"),
        ("PO-04", "Acompañamiento familiar", "Family support", "quality_officer"),
        ("PO-05", "Focalización y afiliación de familias", "Targeting and enrolment of families", "approver"),
        ("PO-06", "Servicio alimentario", "Food service", "approver"),
        ("PO-07", "Capacitación de actores comunales", "Training of community volunteers", "quality_officer"),
    ),
    "support": (
        ("PS-01", "Compras y abastecimiento", "Procurement and supply", "compliance_officer"),
        ("PS-02", "Recursos humanos", "Human resources", "admin"),
        ("PS-03", "Tecnologías de la información", "Information technology", "admin"),
        ("PS-04", "Gestión documental", "Document management", "quality_officer"),
        ("PS-05", "Gestión financiera", "Financial management", "admin"),
        ("PS-06", "Asesoría legal", "Legal advice", "compliance_officer"),
        ("PS-07", "Atención al ciudadano y denuncias", "Citizen service and whistleblowing", "compliance_officer"),
    ),
}
# Regional units answer to the quality officers in turn (the compliance officer keeps a few of the larger ones).
REGIONAL_RESPONSIBLES = ("quality_officer", "approver", "compliance_officer")


def _exists(model: type[Site] | type[Process], code: str) -> bool:
    return db.session.scalar(select(model.id).where(func.lower(model.code) == code.lower())) is not None


def _id(users: dict[str, User], key: str) -> int | None:
    user = users.get(key) or users.get("admin")
    return user.id if user else None


def create_org(users: dict[str, User]) -> None:
    """Create the head office, the 19 regional units and the process map; what already exists is left alone."""
    actor = users.get("admin")
    code, name_es, name_en, region, address = CENTRAL
    head = db.session.scalar(select(Site).where(Site.code == code)) or central()  # demo data added to a real tree
    if head is None:
        head = create_site(SiteData(code=code, name_es=name_es, name_en=name_en, region=region, address=address,
                                    responsible_id=_id(users, "approver")), actor=actor)
    for n, (suffix, region, address) in enumerate(REGIONS):
        unit = f"UT-{suffix}"
        if _exists(Site, unit):
            continue
        create_site(SiteData(code=unit, name_es=f"Unidad Territorial {region}", name_en=f"{region} Regional Unit",
                             region=region, address=address, parent_id=head.id,
                             responsible_id=_id(users, REGIONAL_RESPONSIBLES[n % len(REGIONAL_RESPONSIBLES)])),
                    actor=actor)
    for category, rows in PROCESSES.items():
        for pcode, pname_es, pname_en, owner in rows:
            if not _exists(Process, pcode):
                create_process(ProcessData(code=pcode, name_es=pname_es, name_en=pname_en, category=category,
                                           owner_id=_id(users, owner)), actor=actor)
