"""The search corpus as real rows (documents, versions, extracted texts, clause and site links) written with bulk SQL,
and as the SearchDocs the index is fed.

Why real rows: the app's search function reads permissions from the database when the query runs (restricted
documents hidden from those they are not shared with, drafts hidden from auditors), so the rows must be there and
agree with the index. Why bulk SQL: 50,000 documents through the services would take longer than the benchmark;
the rows carry no revisions or audit events (`auditdocs verify` would report them as written behind the app's back).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from flask import Flask
from sqlalchemy import func, insert, select, text, update

from auditdocs.extensions import db
from auditdocs.models import Clause, Document, DocumentVersion, Process, Site, Standard, User
from auditdocs.search.types import SearchDoc
from auditdocs.textnorm import code_key, search_key
from benchmarks.search_corpus import CLAUSES, CorpusDoc, corpus

CHUNK = 2000  # rows per executemany
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@dataclass(frozen=True)
class Place:
    """Ids the rows point at, read once from the database the benchmark built."""

    first_doc: int  # document i has id first_doc + i
    first_version: int  # its only version has id first_version + i
    sites: tuple[tuple[int, str], ...]  # regional units (id, code), one per corpus region
    processes: tuple[tuple[int, str], ...]
    staff: tuple[tuple[int, str], ...]  # (id, name) of the accounts that own documents
    clauses: dict[tuple[str, str], int]  # (standard slug, number) -> clause id

    def doc_id(self, doc: CorpusDoc) -> int:
        return self.first_doc + doc.index

    def version_id(self, doc: CorpusDoc) -> int:
        return self.first_version + doc.index


def place(app: Flask) -> Place:
    """The sites, processes, staff and clauses of the fresh database, and where the new ids start."""
    with app.app_context():
        sites = tuple((i, c) for i, c in db.session.execute(select(Site.id, Site.code)
                                                            .where(Site.parent_id.is_not(None)).order_by(Site.code)))
        processes = tuple((i, c) for i, c in db.session.execute(select(Process.id, Process.code)
                                                                .order_by(Process.code)))
        staff = tuple((i, n) for i, n in db.session.execute(select(User.id, User.name).where(User.role != "auditor")
                                                            .order_by(User.id)))
        clauses = {(slug, number): cid for cid, slug, number in db.session.execute(
            select(Clause.id, Standard.slug, Clause.number).join(Standard).where(Standard.slug.in_(list(CLAUSES))))}
        first_doc = (db.session.scalar(select(func.max(Document.id))) or 0) + 1
        first_version = (db.session.scalar(select(func.max(DocumentVersion.id))) or 0) + 1
        db.session.remove()
    assert sites and processes and staff, "the benchmark needs the organisation and staff accounts first"
    return Place(first_doc, first_version, sites, processes, staff, clauses)


def _rows(doc: CorpusDoc, where: Place, now: datetime) -> dict[str, list[dict[str, Any]]]:
    doc_id, version_id = where.doc_id(doc), where.version_id(doc)
    owner = where.staff[doc.owner % len(where.staff)][0]
    uploaded = datetime.combine(doc.day, time(12), tzinfo=UTC)
    approved = not doc.draft
    clause_ids = sorted({where.clauses[c] for c in doc.clauses if c in where.clauses})
    return {
        "documents": [{
            "id": doc_id, "code": doc.code, "code_key": code_key(doc.code),
            "search_key": search_key(doc.code, doc.title), "title": doc.title, "kind": doc.kind,
            "description": None, "owner_id": owner, "language": doc.lang,
            "confidentiality": "restricted" if doc.restricted else "normal", "review_interval_months": 12,
            "next_review_date": None, "retention_years": None, "status": "active" if approved else "draft",
            "current_version_id": None, "created_at": uploaded, "created_by_id": owner}],
        "document_versions": [{
            "id": version_id, "document_id": doc_id, "number": 1, "revision_label": None,
            "original_filename": f"{doc.code}.docx", "mime_type": DOCX, "size": len(doc.body.encode("utf-8")),
            "sha256": doc.sha256, "uploaded_by_id": owner, "uploaded_at": uploaded, "change_note": None,
            "effective_date": doc.day if approved else None, "status": "approved" if approved else "draft",
            "approved_by_id": owner if approved else None, "approved_at": uploaded if approved else None}],
        "extracted_texts": [{"sha256": doc.sha256, "status": "ok", "chars": len(doc.body), "truncated": False,
                             "text": doc.body, "error": None, "extracted_at": now}],
        "document_clauses": [{"document_id": doc_id, "clause_id": c} for c in clause_ids],
        "document_sites": [{"document_id": doc_id, "site_id": where.sites[doc.region % len(where.sites)][0]}],
        "document_processes": [{"document_id": doc_id,
                                "process_id": where.processes[doc.process % len(where.processes)][0]}],
    }


def write_documents(app: Flask, n: int, seed: int, today: date) -> Place:
    """Write the n-document corpus as rows, CHUNK at a time; one approved version in force per document except
    drafts (DRAFT_SHARE), restricted ones not shared with anybody."""
    where = place(app)
    now = datetime.now(UTC)
    with app.app_context():
        engine = db.engine
        tables = db.metadata.tables
    order = ("documents", "document_versions", "extracted_texts", "document_clauses", "document_sites",
             "document_processes")
    pending: dict[str, list[dict[str, Any]]] = {name: [] for name in order}
    with engine.begin() as conn:
        for i, doc in enumerate(corpus(n, seed, today), 1):
            for name, rows in _rows(doc, where, now).items():
                pending[name] += rows
            if i % CHUNK == 0 or i == n:
                for name in order:
                    if pending[name]:
                        conn.execute(insert(tables[name]), pending[name])
                    pending[name] = []
        last = where.first_doc + n - 1
        delta = where.first_version - where.first_doc
        conn.execute(update(Document).where(Document.id.between(where.first_doc, last), Document.status == "active")
                     .values(current_version_id=Document.id + delta))
        if engine.dialect.name == "postgresql":
            for name in ("documents", "document_versions"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "  # noqa: S608
                                  f"(SELECT max(id) FROM {name}))"))
    with engine.begin() as conn:
        conn.execute(text("ANALYZE" if engine.dialect.name == "postgresql" else "PRAGMA optimize"))
    return where


def search_doc(doc: CorpusDoc, where: Place) -> SearchDoc:
    """The SearchDoc of document i's version, built straight from the corpus (what rows -> SearchDoc would give)."""
    approved = not doc.draft
    return SearchDoc(
        key=f"version:{where.version_id(doc)}", kind="version", object_id=where.version_id(doc),
        parent_id=where.doc_id(doc), title=f"{doc.code} – {doc.title}", body=doc.body, lang=doc.lang,  # type: ignore[arg-type]
        codes=(doc.code, "v1"), clauses=tuple(c for _s, c in doc.clauses) + tuple(f"{s}:{c}" for s, c in doc.clauses),
        standards=tuple(sorted({s for s, _c in doc.clauses})), groups=(f"document:{where.doc_id(doc)}",),
        doc_type=doc.kind, site=where.sites[doc.region % len(where.sites)][1],
        process=where.processes[doc.process % len(where.processes)][1],
        status="approved" if approved else "draft", owner=where.staff[doc.owner % len(where.staff)][1],
        year=doc.day.year, day=doc.day, in_force=approved, approved=approved, restricted=doc.restricted,
        text_state="ok")


def search_docs(n: int, seed: int, today: date, where: Place) -> Iterator[SearchDoc]:
    """Every document's SearchDoc, generated one at a time (the corpus is never held in memory)."""
    for doc in corpus(n, seed, today):
        yield search_doc(doc, where)
