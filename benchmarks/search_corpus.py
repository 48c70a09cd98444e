"""A synthetic bilingual document corpus for the search benchmark: the same N documents every run for one seed.

Why generated, and why per document from its own seed: the benchmark must be repeatable on any machine without
shipping 100 MB of text, and document i can be regenerated on demand (for the database, for the index, for FTS5)
so the corpus never sits in memory and the peak memory measured is the indexer's, not the generator's.

Each document is a procedure, form, policy... of a social programme in Peru (70 % Spanish, 30 % English), about
TARGET_CHARS of prose from a main topic and a second one, with codes (PR-QA-0001), clause numbers (8.5.2), regions
and figures; a topic's words reach a few percent of the documents, generic ones most of them (as in a real register).
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

TARGET_CHARS = 2000
SPANISH_SHARE = 0.7
RESTRICTED_SHARE = 0.03  # confidential documents: hidden from those they are not shared with
DRAFT_SHARE = 0.08  # documents never approved: their only version is a draft (auditors never see it)
YEARS = 6
KINDS = (("procedure", 35), ("form", 25), ("work_instruction", 15), ("record", 10), ("policy", 5), ("evidence", 5),
         ("other", 5))
PREFIX = {"procedure": "PR", "form": "FO", "work_instruction": "IT", "record": "RG", "policy": "PO",
          "evidence": "EV", "other": "DO"}
AREAS = ("QA", "OPS", "ADM", "LOG", "RH", "TI", "CMP", "MON", "SAF", "FIN")
CLAUSES = {"iso9001_2015": ("4.4", "7.1.5.2", "7.2", "7.5.3", "8.4.2", "8.5.1", "8.5.2", "8.5.4", "8.7", "9.1.1",
                            "9.2", "10.2"),
           "iso37001_2016": ("4.5", "5.2", "7.2.2", "7.3", "8.2", "8.3", "8.5", "8.7", "8.9", "8.10", "9.2")}
REGIONS = ("Amazonas", "Áncash", "Apurímac", "Arequipa", "Ayacucho", "Cajamarca", "Cusco", "Huancavelica", "Huánuco",
           "Ica", "Junín", "La Libertad", "Lambayeque", "Lima", "Loreto", "Piura", "Puno", "San Martín", "Ucayali")
PEOPLE = ("María Quispe", "José Huamán", "Rosa Mamani", "Luis Flores", "Carmen Rojas", "Jorge Vargas",
          "Ana Chávez", "Pedro Ramírez", "Lucía Torres", "Miguel Castillo", "Elena Gutiérrez", "Raúl Mendoza")

# Topic: (title words, the phrases its sentences talk about), per language.
TOPICS_ES = (
    ("visitas domiciliarias", ("las visitas domiciliarias", "la ficha de visita domiciliaria", "el registro de visitas",
                               "la meta mensual de visitas", "las familias usuarias visitadas")),
    ("capacitación de cuidadoras", ("la capacitación de cuidadoras", "el plan anual de capacitación",
                                    "la asistencia a los talleres", "la evaluación de la capacitación")),
    ("acciones correctivas", ("las acciones correctivas", "el análisis de causa raíz", "la verificación de la eficacia",
                              "las no conformidades detectadas", "el plazo de cierre de la acción correctiva")),
    ("auditoría interna", ("el programa de auditoría interna", "los hallazgos de auditoría", "el informe de auditoría",
                           "la competencia de los auditores internos", "el plan de auditoría")),
    ("calibración de balanzas", ("la calibración de balanzas", "el certificado de calibración",
                                 "los equipos de medición", "la verificación de balanzas pediátricas")),
    ("debida diligencia de proveedores", ("la debida diligencia de proveedores", "la evaluación de proveedores",
                                          "el cuestionario antisoborno del proveedor", "los socios de negocio")),
    ("regalos y hospitalidad", ("el registro de regalos y hospitalidad", "los regalos recibidos",
                                "el umbral de regalos", "la hospitalidad ofrecida por terceros")),
    ("conflicto de intereses", ("la declaración de conflicto de intereses", "los conflictos de intereses",
                                "la declaración jurada del personal")),
    ("entrega de raciones", ("las raciones entregadas", "la entrega de raciones", "el acta de entrega de alimentos",
                             "los alimentos vencidos en almacén", "el control de almacén")),
    ("gestión de reclamos", ("los reclamos de usuarios", "el libro de reclamaciones", "la respuesta al reclamo",
                             "el trato inadecuado denunciado")),
    ("control de documentos", ("el control de documentos", "la lista maestra de documentos",
                               "los documentos obsoletos", "la aprobación de documentos")),
    ("riesgos de soborno", ("la matriz de riesgos de soborno", "la evaluación del riesgo de soborno",
                            "los controles antisoborno", "la función de cumplimiento")),
    ("pagos y tesorería", ("los pagos con doble firma", "la conciliación bancaria", "la caja chica",
                           "las órdenes de pago")),
    ("seguridad de la información", ("la copia de respaldo", "las contraseñas del sistema",
                                     "el acceso a la información de usuarios", "el incidente de seguridad")),
    ("monitoreo de indicadores", ("los indicadores del proceso", "el tablero de monitoreo",
                                  "el informe mensual de gestión", "la revisión por la dirección")),
)
TOPICS_EN = (
    ("home visits", ("the home visits", "the home visit form", "the visit register", "the monthly visit target",
                     "the families visited")),
    ("caregiver training", ("the caregiver training", "the annual training plan", "workshop attendance",
                            "the training evaluation")),
    ("corrective actions", ("the corrective actions", "the root cause analysis", "the effectiveness check",
                            "the nonconformities found", "the corrective action deadline")),
    ("internal audits", ("the internal audit programme", "the audit findings", "the audit report",
                         "the competence of internal auditors", "the audit plan")),
    ("scale calibration", ("the scale calibration", "the calibration certificate", "the measuring equipment",
                           "the check of infant scales")),
    ("supplier due diligence", ("the supplier due diligence", "the supplier evaluation",
                                "the supplier anti-bribery questionnaire", "the business associates")),
    ("gifts and hospitality", ("the gifts and hospitality register", "the gifts received", "the gift threshold",
                               "the hospitality offered by third parties")),
    ("conflicts of interest", ("the conflict of interest declaration", "the conflicts of interest",
                               "the staff sworn statement")),
    ("ration delivery", ("the rations delivered", "the ration delivery", "the food delivery record",
                         "the expired food in the warehouse", "the warehouse control")),
    ("complaint handling", ("the user complaints", "the complaints book", "the reply to the complaint",
                            "the reported mistreatment")),
    ("document control", ("the document control", "the master list of documents", "the obsolete documents",
                          "the approval of documents")),
    ("bribery risks", ("the bribery risk matrix", "the bribery risk assessment", "the anti-bribery controls",
                       "the compliance function")),
)
SUBJECTS_ES = ("El coordinador de la unidad territorial", "La responsable de calidad", "El equipo de acompañamiento",
               "La cuidadora", "El especialista de monitoreo", "El comité de ética", "La oficina de cumplimiento",
               "El auditor interno", "La jefa de logística", "El personal de campo", "La dirección ejecutiva",
               "El dueño del proceso")
VERBS_ES = ("registra", "verifica", "revisa", "aprueba", "archiva", "comunica", "documenta", "evalúa", "supervisa",
            "actualiza", "controla", "consolida")
TAILS_ES = ("antes del cierre de mes", "en el sistema de información", "según el procedimiento {code}",
            "conforme al numeral {clause} de la norma", "de acuerdo con el requisito {clause}",
            "en presencia del supervisor", "cada trimestre", "dentro de los cinco días hábiles",
            "en la unidad territorial de {region}", "con el formato {code}", "y conserva la evidencia",
            "cuando se detecta una desviación", "para la revisión por la dirección", "sin excepción")
EXTRA_ES = ("Se programaron {n} actividades y se ejecutaron {m} en {region}.",
            "La responsable, {person}, firma el acta y la remite a la sede central.",
            "Los registros se conservan durante cinco años en el archivo de la unidad.",
            "Toda modificación requiere la aprobación del dueño del proceso.",
            "Este documento aplica a todas las unidades territoriales del programa.")
SUBJECTS_EN = ("The regional unit coordinator", "The quality manager", "The support team", "The caregiver",
               "The monitoring specialist", "The ethics committee", "The compliance office", "The internal auditor",
               "The logistics lead", "Field staff", "Senior management", "The process owner")
VERBS_EN = ("records", "checks", "reviews", "approves", "files", "reports", "documents", "assesses", "supervises",
            "updates", "controls", "consolidates")
TAILS_EN = ("before the month closes", "in the information system", "following procedure {code}",
            "as clause {clause} requires", "under requirement {clause}", "with the supervisor present",
            "every quarter", "within five working days", "in the {region} regional unit", "on form {code}",
            "and keeps the evidence", "whenever a deviation is found", "for the management review",
            "without exception")
EXTRA_EN = ("{n} activities were planned and {m} carried out in {region}.",
            "The person in charge, {person}, signs the record and sends it to head office.",
            "Records are kept for five years in the unit's archive.",
            "Any change needs the approval of the process owner.",
            "This document applies to every regional unit of the programme.")


@dataclass(frozen=True, slots=True)
class CorpusDoc:
    """Document i of the corpus: what the database rows, the index and FTS5 are built from."""

    index: int
    code: str
    title: str
    kind: str
    lang: str
    body: str
    clauses: tuple[tuple[str, str], ...]  # (standard slug, clause number)
    region: int  # index into the regional units
    process: int  # index into the processes
    owner: int  # index into the staff accounts
    day: date
    restricted: bool
    draft: bool

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.body.encode("utf-8")).hexdigest()


def code_of(i: int, kind: str, area: str) -> str:
    return f"{PREFIX[kind]}-{area}-{i + 1:04d}"


def _kind(rng: random.Random) -> str:
    return rng.choices([k for k, _w in KINDS], weights=[w for _k, w in KINDS])[0]


def _area(i: int) -> str:
    return AREAS[(i * 7) % len(AREAS)]


def any_code(rng: random.Random, n: int) -> str:
    """The code of another document of the corpus (so cited codes exist)."""
    j = rng.randrange(n)
    return code_of(j, _kind(random.Random(j)), _area(j))


def document(i: int, n: int, seed: int, today: date) -> CorpusDoc:
    """Document i of an n-document corpus; the same for the same (i, seed) whatever n is, except cited codes."""
    rng = random.Random(seed * 1_000_003 + i)
    kind = _kind(random.Random(i))
    code = code_of(i, kind, _area(i))
    lang = "es" if rng.random() < SPANISH_SHARE else "en"
    topics = TOPICS_ES if lang == "es" else TOPICS_EN
    main, second = rng.sample(range(len(topics)), 2)
    standard = rng.choice(tuple(CLAUSES))
    clauses = tuple((standard, c) for c in rng.sample(CLAUSES[standard], rng.randint(1, 3)))
    region = rng.randrange(len(REGIONS))
    label = {"es": {"procedure": "Procedimiento de", "form": "Formato de", "work_instruction": "Instructivo de",
                    "record": "Registro de", "policy": "Política de", "evidence": "Evidencia de",
                    "other": "Documento de"},
             "en": {"procedure": "Procedure for", "form": "Form for", "work_instruction": "Instruction for",
                    "record": "Record of", "policy": "Policy on", "evidence": "Evidence of",
                    "other": "Document on"}}[lang][kind]
    title = f"{label} {topics[main][0]} – {REGIONS[region]}"
    body = _body(rng, lang, topics[main][1], topics[second][1], [c for _s, c in clauses], REGIONS[region], n)
    day = today - timedelta(days=rng.randrange(YEARS * 365))
    return CorpusDoc(index=i, code=code, title=title, kind=kind, lang=lang, body=body, clauses=clauses,
                     region=region, process=rng.randrange(1000), owner=rng.randrange(1000), day=day,
                     restricted=rng.random() < RESTRICTED_SHARE, draft=rng.random() < DRAFT_SHARE)


def _body(rng: random.Random, lang: str, main: tuple[str, ...], second: tuple[str, ...], clauses: list[str],
          region: str, n: int) -> str:
    """About TARGET_CHARS of sentences: mostly the main topic, some the second, a few general ones."""
    subjects, verbs, tails, extra = ((SUBJECTS_ES, VERBS_ES, TAILS_ES, EXTRA_ES) if lang == "es"
                                     else (SUBJECTS_EN, VERBS_EN, TAILS_EN, EXTRA_EN))
    target = TARGET_CHARS + rng.randint(-300, 300)
    parts: list[str] = []
    size = 0
    while size < target:
        roll = rng.random()
        if roll < 0.12:
            sentence = rng.choice(extra)
        else:
            objects = main if roll < 0.75 else second
            sentence = f"{rng.choice(subjects)} {rng.choice(verbs)} {rng.choice(objects)} {rng.choice(tails)}."
        if "{" in sentence:
            m = rng.randint(5, 400)
            sentence = sentence.format(code=any_code(rng, n), clause=rng.choice(clauses), region=region,
                                       person=rng.choice(PEOPLE), n=m + rng.randint(0, 40), m=m)
        parts.append(sentence)
        size += len(sentence) + 1
    return " ".join(parts)


def corpus(n: int, seed: int, today: date) -> Iterator[CorpusDoc]:
    """The n documents in order, generated one at a time."""
    for i in range(n):
        yield document(i, n, seed, today)
