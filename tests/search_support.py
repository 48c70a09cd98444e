"""A small bilingual corpus of SearchDocs and the backend under test, shared by the search tests.

Why SearchDocs fed directly: the tests judge the SearchBackend interface, so a later engine (PostgreSQL full-text
search) can be put in `make_backend` and must pass the same relevance and permission tests.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from auditdocs.search.backend import SearchBackend
from auditdocs.search.types import KINDS, Allow, SearchDoc, SearchQuery, SearchResults
from auditdocs.search.whoosh_backend import WhooshBackend

AUDITOR = Allow(kinds=frozenset(KINDS), approved_only=True, hidden=frozenset({"document:9"}))
STAFF = Allow(kinds=frozenset(KINDS), approved_only=False)


def make_backend(path: Path, lock_timeout: float = 5.0) -> SearchBackend:
    """The engine under test, with an empty index."""
    engine = WhooshBackend(path, lock_timeout=lock_timeout)
    engine.reindex([])
    return engine


def version(n: int, title: str, body: str, lang: str = "es", *, document: int | None = None, code: str = "",
            clauses: tuple[str, ...] = (), approved: bool = True, in_force: bool = True, restricted: bool = False,
            year: int = 2026, site: str | None = "UT-CUSCO", owner: str | None = "María Pérez",
            day: date | None = None) -> SearchDoc:
    document = document if document is not None else n
    return SearchDoc(key=f"version:{n}", kind="version", object_id=n, parent_id=document, title=title, body=body,
                     lang=lang, codes=(code,) if code else (), clauses=clauses, standards=("iso9001_2015",),
                     groups=(f"document:{document}",), doc_type="procedure", site=site, process="Calidad",
                     status="approved" if approved else "draft", owner=owner, year=year,
                     day=day or date(year, 1, 1 + n % 27), in_force=in_force, approved=approved,
                     restricted=restricted, text_state="ok")


def record(kind: str, n: int, title: str, body: str, lang: str = "es", *, code: str = "", approved: bool = True,
           clauses: tuple[str, ...] = (), year: int = 2025, site: str | None = "UT-LIMA",
           groups: tuple[str, ...] = ()) -> SearchDoc:
    return SearchDoc(key=f"{kind}:{n}", kind=kind, object_id=n, title=title, body=body, lang=lang,
                     codes=(code,) if code else (), clauses=clauses, groups=groups, site=site, status="open",
                     owner="John Smith", year=year, day=date(year, 6, 1 + n % 27), approved=approved)


def corpus() -> list[SearchDoc]:
    """Spanish and English documents, codes and clauses, a draft, a restricted document and an unapproved risk."""
    return [
        version(1, "Procedimiento de acción correctiva", "Las acciones correctivas eliminan la causa de una no "
                "conformidad detectada. Ver requisito 8.5.2 de la norma.", code="PR-QA-001", clauses=("10.2",)),
        version(2, "Control de la producción", "La organización controla la producción y la provisión del servicio "
                "según la cláusula 8.5.2 y su identificación y trazabilidad.", code="PR-OP-002",
                clauses=("8.5.2",)),
        version(3, "Design review", "Design reviews and internal audits are recorded. The audit programme covers "
                "every process.", lang="en", code="PR-QA-003", clauses=("8.3.4",), site="UT-LIMA"),
        version(4, "Borrador de política antisoborno", "Texto preliminar sobre regalos y hospitalidad.",
                document=4, approved=False, in_force=False, code="PO-AB-004"),
        version(5, "Manual de calidad", "Manual vigente. Alcance del sistema de gestión.", document=5,
                code="MA-QA-005", clauses=("4.3",)),
        version(6, "Manual de calidad", "Manual anterior, ya sustituido. Alcance antiguo.", document=5,
                code="MA-QA-005", clauses=("4.3",), in_force=False),
        version(9, "Plan confidencial de sucesión", "Documento restringido con la palabra zafiro.", document=9,
                restricted=True, code="PL-RH-009"),
        record("nonconformity", 14, "Auditoría interna vencida", "La auditoría interna del proceso de compras "
               "no se realizó en la fecha planificada.", code="NC-2026-0014", clauses=("9.2",)),
        record("corrective_action", 3, "Replan the internal audits", "Plan the overdue audits and train auditors.",
               lang="en", groups=("nonconformity:14",)),
        record("bribery_risk", 7, "Riesgo de soborno en compras", "Pagos de facilitación a funcionarios.",
               approved=False, code="RS-2026-0007"),
        record("gift", 2, "Gift from a supplier", "A bottle of wine received at the year-end.", lang="en"),
    ]


def keys(results: SearchResults) -> list[str]:
    return [hit.key for hit in results.hits]


def find(engine: SearchBackend, text: str, allow: Allow = STAFF, **kwargs: object) -> SearchResults:
    return engine.search(SearchQuery(text=text, per_page=50, **kwargs), allow)  # type: ignore[arg-type]
