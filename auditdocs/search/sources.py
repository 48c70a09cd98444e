"""Rows as search documents: document versions (with their extracted text), nonconformities, corrective actions and
record attachments here; risks, due diligence and gifts in sources_risks. Each loader takes a batch of ids and
loads what the batch needs in a fixed number of queries (no query per row).

Why the rules live here and not in the index: what a version is (in force, ever approved, restricted) comes from
services.lifecycle and the rows, the same rules every page uses; the index only stores the answer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, cast

from sqlalchemy import Select, func, select
from sqlalchemy.orm import joinedload, selectinload

from .. import extract
from ..extensions import db
from ..models import Attachment, Clause, CorrectiveAction, Document, DocumentVersion, Nonconformity, Standard
from ..models.documents import EVER_APPROVED
from ..services import lifecycle
from ..timeutil import local_today
from . import sources_risks
from .lang import guess_lang
from .sources_common import BATCH, OWNER_KIND_GROUP, RECORD_KINDS, Lookups, clause_terms, day_of, joined, places
from .types import KINDS, Lang, SearchDoc, TextState

Loader = Callable[[Sequence[int], Lookups], list[SearchDoc]]


def _text(texts: dict[str, extract.ExtractedText], sha256: str) -> tuple[str, TextState]:
    reading = texts.get(sha256)
    state = cast(TextState, extract.text_state(reading.status if reading is not None else None))
    return (reading.text or "") if reading is not None else "", state


def version_docs(ids: Sequence[int], look: Lookups) -> list[SearchDoc]:
    """Versions with their document's metadata, placement, clauses and extracted text."""
    versions = db.session.scalars(select(DocumentVersion).where(DocumentVersion.id.in_(ids)).options(
        joinedload(DocumentVersion.document).options(
            joinedload(Document.owner),
            selectinload(Document.clauses).joinedload(Clause.standard).lazyload(Standard.clauses),
            selectinload(Document.sites), selectinload(Document.processes), selectinload(Document.versions)),
    )).unique().all()
    texts = extract.texts_of(v.sha256 for v in versions)
    today = local_today()
    out = []
    for v in versions:
        doc = v.document
        text, state = _text(texts, v.sha256)
        clauses, standards = clause_terms(doc.clauses)
        day = v.effective_date or day_of(v.uploaded_at)
        lang: Lang = cast(Lang, doc.language) if doc.language in ("es", "en") else guess_lang(text)
        out.append(SearchDoc(
            key=f"version:{v.id}", kind="version", object_id=v.id, parent_id=doc.id,
            title=f"{doc.code} · {doc.title} ({v.label})", body=joined(doc.description, v.change_note, text),
            lang=lang, codes=(doc.code, v.label), clauses=clauses, standards=standards,
            groups=(f"document:{doc.id}",), doc_type=doc.kind, site=places(s.code for s in doc.sites),
            process=places(p.code for p in doc.processes), status=lifecycle.version_state(v, doc, today).key,
            owner=doc.owner.name, year=day.year if day else None, day=day,
            in_force=lifecycle.in_force(doc, today) is v, approved=v.status in EVER_APPROVED,
            restricted=doc.confidentiality != "normal", text_state=state))
    return out


def nonconformity_docs(ids: Sequence[int], look: Lookups) -> list[SearchDoc]:
    """Nonconformities: reference, title, description, analysis, root cause, clauses, site, process, grade."""
    rows = db.session.scalars(select(Nonconformity).where(Nonconformity.id.in_(ids)).options(
        selectinload(Nonconformity.clauses).joinedload(Clause.standard).lazyload(Standard.clauses))).all()
    out = []
    for nc in rows:
        clauses, standards = clause_terms(nc.clauses)
        body = joined(nc.description, nc.correction, nc.analysis, nc.root_cause, nc.closure_note, nc.reopen_reason,
                      nc.grade, nc.detected_by_name)
        out.append(SearchDoc(
            key=f"nonconformity:{nc.id}", kind="nonconformity", object_id=nc.id, title=f"{nc.reference} {nc.title}",
            body=body, lang=guess_lang(joined(nc.title, body)), codes=(nc.reference,), clauses=clauses,
            standards=standards, site=look.site(nc.site_id), process=look.process(nc.process_id), status=nc.status,
            owner=look.user(nc.detected_by_id), year=nc.year, day=nc.detected_on, text_state="none"))
    return out


def action_docs(ids: Sequence[int], look: Lookups) -> list[SearchDoc]:
    """Corrective actions, named "NC-2026-0001 / A2", placed where their nonconformity is."""
    rows = db.session.scalars(select(CorrectiveAction).where(CorrectiveAction.id.in_(ids)).options(
        joinedload(CorrectiveAction.nonconformity).selectinload(Nonconformity.clauses).joinedload(Clause.standard).lazyload(Standard.clauses),
    )).unique().all()
    look.want_users(a.owner_id for a in rows)
    out = []
    for action in rows:
        nc = action.nonconformity
        clauses, standards = clause_terms(nc.clauses)
        body = joined(action.description, action.completion_note, action.check_evidence, action.cancel_reason)
        out.append(SearchDoc(
            key=f"corrective_action:{action.id}", kind="corrective_action", object_id=action.id, parent_id=nc.id,
            title=f"{action.code} {action.description[:120]}", body=body, lang=guess_lang(body),
            codes=(action.code, nc.reference), clauses=clauses, standards=standards,
            groups=(f"nonconformity:{nc.id}",), site=look.site(nc.site_id), process=look.process(nc.process_id),
            status=action.status, owner=look.user(action.owner_id), year=action.due_date.year,
            day=action.due_date, text_state="none"))
    return out


def attachment_docs(ids: Sequence[int], look: Lookups) -> list[SearchDoc]:
    """Evidence files of records: filename and extracted text, hidden with their record; an auditor may read the
    file of any record they may read (a risk's: once the risk was approved)."""
    rows = [a for a in db.session.scalars(select(Attachment).where(Attachment.id.in_(ids)))
            if a.owner_type in RECORD_KINDS]
    owners = _owners(rows)
    texts = extract.texts_of(a.sha256 for a in rows)
    out = []
    for a in rows:
        owner = owners.get((a.owner_type, a.owner_id))
        if owner is None:
            continue
        reference, approved, site, process = owner
        text, state = _text(texts, a.sha256)
        day = day_of(a.uploaded_at)
        out.append(SearchDoc(
            key=f"attachment:{a.id}", kind="attachment", object_id=a.id, parent_id=a.owner_id,
            title=f"{a.original_filename} ({reference})", body=joined(a.original_filename, text),
            lang=guess_lang(text), codes=(reference,), groups=(f"{a.owner_type}:{a.owner_id}",
                                                               OWNER_KIND_GROUP.format(a.owner_type)),
            doc_type=a.owner_type, site=site, process=process, status=a.owner_type, owner=look.user(a.uploaded_by_id),
            year=day.year if day else None, day=day, approved=approved, text_state=state))
    return out


Owner = tuple[str, bool, str | None, str | None]  # reference, an auditor may read it, site, process


def _owners(rows: Iterable[Attachment]) -> dict[tuple[str, int], Owner]:
    """The record each attachment belongs to, one query per record type."""
    wanted: dict[str, set[int]] = {}
    for a in rows:
        wanted.setdefault(a.owner_type, set()).add(a.owner_id)
    found: dict[tuple[str, int], Owner] = {}
    if ids := wanted.get("corrective_action"):
        for action in db.session.scalars(select(CorrectiveAction).where(CorrectiveAction.id.in_(ids))
                                         .options(joinedload(CorrectiveAction.nonconformity))):
            found[("corrective_action", action.id)] = (action.code, True, None, None)
    if ids := wanted.get("nonconformity"):
        for nc in db.session.scalars(select(Nonconformity).where(Nonconformity.id.in_(ids))):
            found[("nonconformity", nc.id)] = (nc.reference, True, None, None)
    found.update(sources_risks.owners(wanted))
    return found


LOADERS: dict[str, Loader] = {
    "version": version_docs, "nonconformity": nonconformity_docs, "corrective_action": action_docs,
    "bribery_risk": sources_risks.risk_docs, "due_diligence": sources_risks.due_diligence_docs,
    "gift": sources_risks.gift_docs, "attachment": attachment_docs,
}
MODELS: dict[str, Any] = {
    "version": DocumentVersion, "nonconformity": Nonconformity, "corrective_action": CorrectiveAction,
    **sources_risks.MODELS, "attachment": Attachment,
}


def ids_of(kind: str) -> Select[Any]:
    """Every id of a kind that is indexed (attachments: those of records)."""
    model = MODELS[kind]
    query = select(model.id)
    if kind == "attachment":
        query = query.where(Attachment.owner_type.in_(RECORD_KINDS))
    return query


def db_counts() -> dict[str, int]:
    """How many search documents the database holds per kind (what `verify` compares with the index)."""
    return {kind: int(db.session.scalar(select(func.count()).select_from(ids_of(kind).subquery())) or 0)
            for kind in KINDS}


def docs_for(keys: Iterable[str]) -> tuple[list[SearchDoc], list[str]]:
    """The documents for these keys, and the keys whose rows are gone (to delete from the index)."""
    by_kind: dict[str, list[int]] = {}
    for key in keys:
        kind, _, raw = key.partition(":")
        if kind in LOADERS and raw.isdigit():
            by_kind.setdefault(kind, []).append(int(raw))
    docs: list[SearchDoc] = []
    look = Lookups()
    for kind, ids in by_kind.items():
        for start in range(0, len(ids), BATCH):
            docs.extend(LOADERS[kind](ids[start:start + BATCH], look))
    built = {doc.key for doc in docs}
    gone = [f"{kind}:{i}" for kind, ids in by_kind.items() for i in ids if f"{kind}:{i}" not in built]
    return docs, gone


def all_docs(batch: int = BATCH) -> Iterator[SearchDoc]:
    """Every search document, kind by kind in id order, a batch at a time (bounded memory for the reindex)."""
    for kind in KINDS:
        last = 0
        while True:
            model = MODELS[kind]
            ids = list(db.session.scalars(ids_of(kind).where(model.id > last).order_by(model.id).limit(batch)))
            if not ids:
                break
            yield from LOADERS[kind](ids, Lookups())
            last = ids[-1]
