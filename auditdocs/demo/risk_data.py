"""The demo programme's bribery risks: the annual assessment of last year and what this year's one changed so far.

Why data apart: the scenarios are long Spanish texts; demo/risks.py plays them through the services. Levels are
(likelihood, impact) on the default 5x5 matrix; `review` is the next review in days from today (negative: past).
"""

from __future__ import annotations

from dataclasses import dataclass

LUIS, ROSA = "compliance_officer", "quality_officer"


@dataclass(frozen=True)
class RiskSpec:
    """One risk as last year's exercise assessed it (or this year's, for the new ones)."""

    title: str
    scenario: str
    category: str
    detail: str
    process: str
    activity: str
    site: str | None  # None: organisation-wide
    inherent: tuple[int, int]
    residual: tuple[int, int]
    controls: str
    documents: tuple[str, ...] = ()
    effectiveness: str = "partially_effective"
    treatment: str | None = None
    review: int = 200
    by: str = LUIS


@dataclass(frozen=True)
class Reassessment:
    """What this year's exercise changed in a risk of last year's (index into LAST_YEAR)."""

    index: int
    ago: int
    inherent: tuple[int, int]
    residual: tuple[int, int]
    note: str
    controls: str | None = None
    effectiveness: str | None = None
    treatment: str | None = None
    actions: tuple[tuple[str, int], ...] = ()  # (start of the nonconformity's title, action number)
    review: int = 330
    approve: bool = True


POLICY, DD, GIFTS = "PO-SIG-001", "PR-ABS-002", "PO-ABS-003"

LAST_YEAR: list[RiskSpec] = [
    RiskSpec("Direccionamiento de la compra de alimentos a cambio de comisiones",
             "Un proveedor de alimentos ofrece al comité de selección de la UT un porcentaje del contrato para que "
             "las especificaciones técnicas favorezcan sus productos o para que se descalifique a otros postores.",
             "supplier", "Proveedores de alimentos (menestras, cereales, conservas)", "PS-01",
             "Compra de insumos alimentarios", "UT-CAJAMARCA", (5, 5), (4, 5),
             "Debida diligencia previa de proveedores; comité de selección de tres miembros; declaración jurada "
             "de intereses de los miembros del comité.", (POLICY, DD), "ineffective",
             "Auditar las compras de alimentos del año y reforzar la debida diligencia.", 180),
    RiskSpec("Pago al responsable de almacén para dar conformidad a raciones incompletas",
             "El proveedor entrega menos raciones de las facturadas y paga al responsable de almacén para que firme "
             "la conformidad de la recepción por la cantidad completa.",
             "supplier", "Proveedores y transportistas de raciones", "PO-06", "Recepción de raciones en almacén",
             "UT-HUANUCO", (3, 4), (2, 4), "Recepción con dos firmas; conteo aleatorio por el supervisor.",
             (POLICY,), review=240),
    RiskSpec("Cobro por favorecer la selección de facilitadores comunitarios",
             "Un miembro del comité de selección pide dinero o favores a postulantes a facilitador comunitario "
             "para asignarles mayor puntaje en la entrevista.",
             "personnel_position", "Comité de selección de facilitadores", "PS-02",
             "Convocatoria y selección de facilitadores", "UT-PUNO", (3, 4), (2, 3),
             "Entrevistas con rúbrica publicada y un veedor de la Sede Central.", (POLICY,), review=-20),
    RiskSpec("Pedido de dinero a comités de gestión para aprobar su rendición de cuentas",
             "Un coordinador territorial condiciona la conformidad de la rendición de cuentas de las transferencias "
             "al comité de gestión a un pago en efectivo o a la contratación de un allegado.",
             "partner", "Comités de gestión (transferencias de recursos)", "PO-02",
             "Revisión de rendiciones de cuentas", "UT-LORETO", (4, 5), (4, 4),
             "Revisión de rendiciones por el coordinador y muestreo trimestral de la Sede Central.", (POLICY,),
             "ineffective", "Segunda revisión independiente de las rendiciones observadas.", 150),
    RiskSpec("Sobrevaloración de gastos de comités de gestión con devolución al coordinador",
             "El comité de gestión declara compras sobrevaloradas con comprobantes de favor y devuelve la "
             "diferencia al coordinador que aprueba la rendición.",
             "partner", "Comités de gestión", "PO-02", "Ejecución de transferencias a comités", "UT-LAMBAYEQUE",
             (3, 5), (3, 4), "Verificación de comprobantes en SUNAT; visitas de supervisión sin aviso.",
             (POLICY,), review=-45, by=ROSA),
    RiskSpec("Pago a inspectores municipales para obtener el certificado de Defensa Civil",
             "Para acelerar la inspección de seguridad de un local de cuidado diurno, el responsable del local "
             "ofrece un pago al inspector municipal o acepta uno que este sugiere.",
             "public_official", "Inspectores de las municipalidades", "PO-03", "Inspecciones de locales",
             "UT-LIMA", (3, 3), (2, 3), "Trámites solo por mesa de partes virtual; prohibición expresa en la "
             "política.", (POLICY,), review=260),
    RiskSpec("Donaciones de empresas privadas condicionadas a contrataciones futuras",
             "Una empresa dona alimentos o equipos al programa esperando a cambio un trato preferente en los "
             "procesos de contratación de la UT.",
             "donor", "Empresas privadas donantes", "PS-05", "Recepción de donaciones", None, (2, 5), (2, 3),
             "Aceptación de donaciones solo por la Sede Central con debida diligencia del donante.",
             (POLICY, GIFTS, DD), review=300),
    RiskSpec("Regalos de proveedores a responsables de almacén para influir en la recepción",
             "Los proveedores entregan regalos (canastas, electrodomésticos) al personal de almacén para que no "
             "observe la calidad de los productos entregados.",
             "supplier", "Proveedores de alimentos", "PS-01", "Recepción de bienes", "UT-AYACUCHO", (4, 3), (2, 3),
             "Registro de regalos y hospitalidad revisado cada mes; umbral de aprobación.",
             (GIFTS, "RG-ABS-031"), "effective", review=210),
    RiskSpec("Canastas y atenciones de proveedores no registradas",
             "El personal de abastecimiento acepta canastas y atenciones de proveedores en fechas festivas sin "
             "registrarlas ni pedir aprobación.",
             "supplier", "Proveedores de alimentos y limpieza", "PS-01", "Relación con proveedores", "UT-AREQUIPA",
             (4, 3), (3, 3), "Política de regalos comunicada al personal.", (GIFTS,), review=120),
    RiskSpec("Pago para afiliar a familias que no cumplen los criterios de focalización",
             "Un facilitador o un gestor local cobra a familias fuera del ámbito o sin los criterios de "
             "focalización para afiliarlas al servicio.",
             "personnel_position", "Facilitadores y gestores locales", "PO-05", "Afiliación de familias",
             "UT-PIURA", (3, 4), (2, 4), "Cruce de padrones con el SISFOH; verificación de una muestra en campo.",
             (POLICY,), review=190, by=ROSA),
    RiskSpec("Pagos a facilitadores para registrar visitas domiciliarias no realizadas",
             "Un acompañante técnico recibe parte del incentivo del facilitador a cambio de validar visitas "
             "domiciliarias que no se hicieron.",
             "personnel_position", "Acompañantes técnicos y facilitadores", "PO-01", "Registro de visitas",
             "UT-CUSCO", (3, 3), (2, 3), "Fichas de visita firmadas por la familia; registro en tablet con "
             "geolocalización.", ("IT-SAF-007", "PR-SAF-003"), review=-10, by=ROSA),
    RiskSpec("Pagos de transportistas para evitar penalidades por retraso",
             "El transportista de raciones paga al responsable de la UT para que no registre los retrasos que "
             "darían lugar a penalidades.",
             "contractor", "Transportistas de raciones", "PO-06", "Distribución de raciones", "UT-JUNIN",
             (3, 3), (2, 2), "Guías de remisión con fecha y hora firmadas por el comité receptor.", (POLICY,),
             "effective", review=280),
    RiskSpec("Cobro al personal por la renovación de su contrato",
             "Un jefe de unidad condiciona la renovación del contrato CAS de personal a su cargo a una parte de "
             "la remuneración.",
             "personnel_position", "Jefes de unidad", "PS-02", "Renovación de contratos", None, (3, 4), (2, 3),
             "Evaluación de desempeño documentada; canal de denuncias anónimo.", (POLICY,), review=230),
    RiskSpec("Pago a funcionarios judiciales o fiscales para favorecer al programa",
             "Un abogado externo propone pagar a personal judicial para acelerar o favorecer un proceso en el que "
             "el programa es parte.",
             "public_official", "Personal del Poder Judicial y del Ministerio Público", "PS-06",
             "Defensa judicial del programa", "SEDE-CENTRAL", (1, 5), (1, 4),
             "Cláusula antisoborno en los contratos de abogados externos.", (POLICY, DD), "effective", review=320),
    RiskSpec("Pago indebido para agilizar transferencias presupuestales",
             "Personal de finanzas ofrece un pago a funcionarios de otra entidad pública para que prioricen una "
             "modificación presupuestal del programa.",
             "public_official", "Funcionarios de otras entidades públicas", "PS-05", "Gestión presupuestal",
             "SEDE-CENTRAL", (2, 4), (1, 4), "Trámites documentados en el sistema de gestión documental.",
             (POLICY,), "effective", review=310),
    RiskSpec("Sobornos en la contratación de servicios de conectividad para las UT",
             "Un proveedor de internet satelital ofrece beneficios al área usuaria para que sus requerimientos "
             "técnicos solo los cumpla su servicio.",
             "supplier", "Proveedores de telecomunicaciones", "PS-03", "Contratación de servicios de TI",
             "SEDE-CENTRAL", (2, 4), (2, 3), "Estudio de mercado con al menos tres cotizaciones.", (POLICY, DD),
             review=250),
    RiskSpec("Pago para archivar denuncias o revelar la identidad del denunciante",
             "Un servidor del área de atención al ciudadano recibe dinero del denunciado para archivar una denuncia "
             "o revelarle quién la presentó.",
             "personnel_position", "Personal de atención de denuncias", "PS-07", "Gestión de denuncias",
             "SEDE-CENTRAL", (2, 5), (1, 5), "Acceso restringido al registro de denuncias; registro de accesos.",
             (POLICY,), "effective", review=-5),
    RiskSpec("Cobro a actores comunales por certificados de capacitación",
             "Un capacitador cobra a madres cuidadoras y actores comunales por entregar certificados de cursos "
             "que no completaron.",
             "beneficiary", "Actores comunales", "PO-07", "Capacitación de actores comunales",
             "UT-HUANCAVELICA", (2, 2), (1, 2), "Certificados emitidos por la Sede Central según asistencia "
             "registrada.", (), "effective", review=-60, by=ROSA),
    RiskSpec("Cobros indebidos a familias por el acceso al cuidado diurno",
             "Personal del local de cuidado diurno pide dinero a familias para asignar vacantes a sus niños.",
             "beneficiary", "Familias usuarias", "PO-03", "Asignación de vacantes", "UT-AMAZONAS", (3, 3), (2, 2),
             "Lista de vacantes publicada en el local; supervisión mensual.", (POLICY,), review=200, by=ROSA),
    RiskSpec("Pago a un laboratorio para emitir certificados de calibración sin calibrar",
             "El laboratorio contratado ofrece emitir certificados sin calibrar los equipos a cambio de un pago "
             "al responsable del contrato.",
             "supplier", "Laboratorios de calibración", "PS-01", "Calibración de balanzas e infantómetros",
             "UT-APURIMAC", (2, 3), (1, 3), "Verificación de balanzas con pesas patrón después de cada "
             "calibración.", ("PR-CAL-004", DD), "effective", review=270),
    RiskSpec("Servidores de abastecimiento con vínculos no declarados con proveedores",
             "Servidores que intervienen en las compras tienen parientes o socios en empresas proveedoras y "
             "favorecen sus ofertas a cambio de beneficios.",
             "personnel_position", "Servidores de abastecimiento", "PS-01", "Compras y contrataciones", "UT-ICA",
             (4, 4), (3, 4), "Declaración jurada anual de intereses.", (POLICY, DD), "partially_effective",
             "Completar las declaraciones pendientes y cruzarlas con el registro de proveedores.", 90),
    RiskSpec("Gestores que ofrecen agilizar pagos a proveedores a cambio de un porcentaje",
             "Un intermediario ofrece a los proveedores acelerar sus pagos en la UT a cambio de un porcentaje que "
             "comparte con personal de tesorería.",
             "agent_intermediary", "Gestores e intermediarios", "PS-05", "Pago a proveedores", "UT-LA-LIBERTAD",
             (3, 4), (3, 3), "Pagos en orden de llegada publicados en el portal; trato directo con proveedores.",
             (POLICY,), review=160),
    RiskSpec("Pagos a autoridades locales para permitir el acceso a comunidades",
             "Una autoridad local exige un pago o un regalo para permitir que los facilitadores ingresen a la "
             "comunidad.",
             "public_official", "Autoridades comunales y locales", "PO-01", "Visitas en comunidades nativas",
             "UT-MADRE-DE-DIOS", (2, 3), (2, 2), "Convenios con las federaciones nativas; reporte de todo pedido "
             "al coordinador.", (POLICY,), review=220, by=ROSA),
    RiskSpec("Intérpretes comunitarios que cobran a familias por incluirlas en las visitas",
             "Un intérprete comunitario cobra a familias awajún por programar sus visitas domiciliarias.",
             "agent_intermediary", "Intérpretes comunitarios", "PO-01", "Visitas con intérprete",
             "UT-SAN-MARTIN", (2, 3), (1, 3), "Programación de visitas por el coordinador, no por el intérprete.",
             ("PR-SAF-015",), review=240, by=ROSA),
]

RETIRED = (23, 30, "Desde este año los intérpretes son servidores contratados por el programa y las visitas se "
                   "programan en el sistema: el escenario ya no aplica; lo cubre el riesgo de cobros de facilitadores.")

THIS_YEAR: list[Reassessment] = [
    Reassessment(0, 66, (5, 5), (3, 4), "Debida diligencia concluida y pagos retenidos hasta concluirla: el "
                 "riesgo residual baja de crítico a alto.",
                 controls="Debida diligencia obligatoria antes de toda orden de compra; comité de selección de tres "
                          "miembros; declaración jurada de beneficiarios finales del proveedor.",
                 effectiveness="partially_effective",
                 treatment="Acciones correctivas de la no conformidad de la UT Cajamarca.",
                 actions=(("Proveedor de alimentos contratado sin la debida diligencia", 1),
                          ("Proveedor de alimentos contratado sin la debida diligencia", 2))),
    Reassessment(3, 12, (5, 5), (4, 5), "Denuncia por el canal de denuncias: el control no funcionó; el riesgo "
                 "residual sube a crítico.", effectiveness="ineffective",
                 treatment="Apartar al coordinador denunciado de las rendiciones y revisar todas las del año."),
    Reassessment(8, 40, (4, 3), (3, 3), "Se mantiene la calificación; tratamiento vinculado a la no conformidad.",
                 treatment="Recordar la política de regalos a los proveedores con cada orden de compra.",
                 actions=(("Canasta de víveres de un proveedor aceptada sin registro", 1),)),
    Reassessment(1, 62, (3, 4), (2, 4), "Sin cambios en la calificación."),
    Reassessment(5, 58, (3, 3), (2, 3), "Sin cambios en la calificación."),
    Reassessment(7, 55, (4, 3), (2, 3), "Sin cambios en la calificación."),
    Reassessment(12, 50, (3, 4), (2, 3), "Sin cambios en la calificación."),
    Reassessment(20, 8, (4, 4), (2, 4), "Declaraciones presentadas y alerta anual configurada: propone bajar el "
                 "residual a medio.", effectiveness="effective",
                 actions=(("Puestos expuestos al soborno sin declaración jurada", 1),), approve=False),
]

NEW_THIS_YEAR: list[RiskSpec] = [
    RiskSpec("Pago a auditores de control para omitir observaciones",
             "Un servidor ofrece beneficios a la comisión de control concurrente para que no incluya observaciones "
             "sobre las compras de la UT en su informe.",
             "public_official", "Comisiones de control", "PE-05", "Atención de servicios de control", None,
             (2, 5), (2, 4), "Atención de la comisión solo por el enlace designado; actas de cada reunión.",
             (POLICY,), review=330),
    RiskSpec("Donaciones de alimentos a cambio de publicidad en los locales",
             "Una empresa dona alimentos a cambio de colocar publicidad en los locales y de acceso a datos de las "
             "familias usuarias.",
             "donor", "Empresas de alimentos donantes", "PO-06", "Recepción de donaciones en especie", "UT-LIMA",
             (3, 3), (2, 3), "Convenio tipo de donación sin contraprestación; debida diligencia del donante.",
             (GIFTS, DD), review=300),
    RiskSpec("Sobornos en la adquisición de tablets para facilitadores",
             "Un proveedor de equipos ofrece un viaje al área usuaria para que el requerimiento exija una marca que "
             "solo él distribuye.",
             "supplier", "Proveedores de equipos informáticos", "PS-01", "Compra de tablets", "SEDE-CENTRAL",
             (3, 4), (2, 4), "Requerimientos técnicos revisados por un segundo especialista; debida diligencia.",
             (POLICY, DD), review=310),
    RiskSpec("Alquileres sobrevalorados de locales comunales para el cuidado diurno",
             "El comité de gestión alquila un local de un pariente del coordinador a un precio sobrevalorado y "
             "comparte la diferencia.",
             "partner", "Comités de gestión y arrendadores", "PO-03", "Alquiler de locales", "UT-AREQUIPA",
             (3, 4), (3, 3), "Tasación referencial; visita de verificación antes de firmar.", (POLICY,),
             review=290),
    RiskSpec("Contratación de consultores recomendados a cambio de beneficios",
             "Un directivo recomienda a un consultor para un servicio y recibe a cambio una parte de sus honorarios.",
             "personnel_position", "Directivos y áreas usuarias", "PS-02", "Contratación de consultores",
             "SEDE-CENTRAL", (3, 5), (3, 4), "Términos de referencia publicados; evaluación por comité.",
             (POLICY, DD), "partially_effective", "Publicar todas las órdenes de servicio con el área que las "
             "pidió y revisar las de los últimos dos años.", 300),
    RiskSpec("Hospitalidad de proveedores en eventos de capacitación",
             "Un proveedor financia almuerzos o alojamiento de participantes en un evento de capacitación del "
             "programa esperando ser invitado a cotizar.",
             "supplier", "Proveedores de servicios de eventos", "PO-07", "Eventos de capacitación", "UT-CUSCO",
             (4, 2), (2, 2), "Registro de hospitalidad; eventos financiados solo con presupuesto propio.",
             (GIFTS,), "effective", review=320, by=ROSA),
]
