"""Setup for the search page tests: real rows through the services, indexed through the SearchBackend interface.

Why SearchDocs are built here and not by the sources: the page's tests are about what the page does with whatever
the index answers (links, escaping, badges, the database re-check), so they index exactly the documents they need,
including ones the index alone would wrongly let through.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from support import seed_document

from auditdocs.db import write_transaction
from auditdocs.extensions import db
from auditdocs.models import Document, DocumentVersion, Nonconformity, User
from auditdocs.search import backend
from auditdocs.search.types import SearchDoc
from auditdocs.services.actions import ActionInput, add_action
from auditdocs.services.attachments import attach
from auditdocs.services.nonconformities import NcInput, create_nonconformity
from auditdocs.services.uploads import Incoming, ingest
from auditdocs.timeutil import local_today

VISITS = ("Procedimiento de visitas domiciliarias. El trabajador social realiza la visita domiciliaria, registra "
          "la evaluación socioeconómica y la acción correctiva cuando corresponde.")


def text_file(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, "utf-8")
    return path


def version_doc(app: Any, doc_id: int, body: str, *, title: str | None = None, groups: tuple[str, ...] | None = None,
                year: int = 2026, site: str | None = "UT-CUSCO", text_state: str = "ok") -> SearchDoc:
    """The SearchDoc of the document's latest version as the sources would build it (groups may be falsified)."""
    with app.app_context():
        doc = db.session.get(Document, doc_id)
        version = max(doc.versions, key=lambda v: v.number)
        approved = version.status in ("approved", "superseded", "obsolete")
        return SearchDoc(
            key=f"version:{version.id}", kind="version", object_id=version.id, parent_id=doc.id,
            title=title if title is not None else f"{doc.code} · {doc.title}", body=body, lang="es",
            codes=(doc.code,), clauses=("8.5.1",), standards=("iso9001_2015",),
            groups=groups if groups is not None else (f"document:{doc.id}",), doc_type=doc.kind, site=site,
            process="Atención social", status=version.status, owner=doc.owner.name, year=year, day=date(year, 3, 1),
            in_force=doc.current_version_id == version.id, approved=approved,
            restricted=doc.confidentiality != "normal", text_state=text_state)  # type: ignore[arg-type]


def index(app: Any, docs: list[SearchDoc]) -> None:
    """Build the index from these documents (as `auditdocs reindex` would)."""
    with app.app_context():
        backend().reindex(docs)


def corpus(app: Any, make_user: Any, tmp_path: Path) -> dict[str, Any]:
    """An approved procedure, a draft-only document, a restricted one and a nonconformity with an action, indexed."""
    officer = make_user("quality_officer", name="Rosa Quispe")
    approver = make_user("quality_officer", name="Ana Flores")
    path = text_file(tmp_path, "visitas.txt", VISITS)
    approved = seed_document(app, officer.id, path, code="PR-OP-001", title="Visitas domiciliarias",
                             approver_id=approver.id)
    draft = seed_document(app, officer.id, path, code="PR-OP-002", title="Visitas domiciliarias (borrador)")
    restricted = seed_document(app, officer.id, path, code="PR-OP-003", title="Visitas domiciliarias reservadas",
                               approver_id=approver.id, confidentiality="restricted")
    with app.app_context():
        with write_transaction():
            actor = db.session.get(User, officer.id)
            today = local_today()
            nc = create_nonconformity(NcInput(
                title="Visita domiciliaria sin registro", description="Falta la ficha de visita", source="complaint",
                grade="minor", detected_on=today, detected_by_name="Ciudadano"), actor=actor, today=today)
            action = add_action(nc, ActionInput("Capacitar en visitas domiciliarias", officer.id, today), actor=actor,
                                today=today)
            ids = {"nc": nc.id, "nc_ref": nc.reference, "action": action.id}
        db.session.remove()
    docs = [version_doc(app, approved, VISITS), version_doc(app, draft, VISITS, year=2025, site="UT-LIMA"),
            version_doc(app, restricted, VISITS),
            SearchDoc(key=f"nonconformity:{ids['nc']}", kind="nonconformity", object_id=ids["nc"],
                      title=f"{ids['nc_ref']} · Visita domiciliaria sin registro", body="Falta la ficha de visita",
                      codes=(ids["nc_ref"],), status="open", site="UT-CUSCO", year=2026, day=date(2026, 2, 1)),
            SearchDoc(key=f"corrective_action:{ids['action']}", kind="corrective_action", object_id=ids["action"],
                      parent_id=ids["nc"], title="Capacitar en visitas domiciliarias",
                      body="Capacitar en visitas domiciliarias", status="planned", year=2026, day=date(2026, 2, 2))]
    index(app, docs)
    return {"officer": officer, "approver": approver, "approved": approved, "draft": draft,
            "restricted": restricted, "docs": docs, "path": path, **ids}


def version_number(app: Any, doc_id: int) -> int:
    with app.app_context():
        return max(v.number for v in db.session.get(Document, doc_id).versions)


def version_ids(app: Any, doc_id: int) -> list[int]:
    with app.app_context():
        return [v.id for v in db.session.scalars(
            db.select(DocumentVersion).where(DocumentVersion.document_id == doc_id))]


def attach_file(app: Any, nc_id: int, actor_id: int, path: Path) -> int:
    """An evidence file on a nonconformity, through the one upload operation; its attachment id."""
    with app.app_context():
        with write_transaction():
            nc = db.session.get(Nonconformity, nc_id)
            row = ingest(Incoming.from_path(path), lambda checked: attach(nc, checked,
                                                                          actor=db.session.get(User, actor_id)))
            attachment_id = row.id
        db.session.remove()
    return attachment_id
