"""What the due-diligence and gifts pages share: their labels, refusals answered at the fields, the register
filters from the query string, evidence files, exports, and the revision timeline of one record."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import IO, Any

from flask import Response, abort, current_app, flash, redirect, stream_with_context, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select

from ...db import write_transaction
from ...ddg_labels import (
    ASSOCIATE_CATEGORY_LABELS,
    DD_DECISION_LABELS,
    DD_STATUS_LABELS,
    DD_SUBJECT_TYPE_LABELS,
    GIFT_DECISION_LABELS,
    GIFT_DIRECTION_LABELS,
    GIFT_KIND_LABELS,
    GIFT_STATUS_LABELS,
    RISK_LEVEL_LABELS,
)
from ...extensions import db
from ...models import Attachment, BriberyRisk, Clause, Process, RecordRevision, Site, User
from ...models.records import id_list
from ...models.revisions import Revisioned
from ...policy import current_scope
from ...services import ServiceError, exports, revisions, uploads
from ...services.attachments import attach, record_download
from ...services.ddg_common import RegisterFilters
from ...timeutil import local_today
from ..blobs import send_blob
from ..forms import form_refused, report
from ..helpers import current_lang, fmt_date
from ..params import MAX_YEAR, MIN_YEAR, int_or_none
from ..security import actor
from ..upload_stream import incoming

DDG_LABELS = {
    "associate_category_labels": ASSOCIATE_CATEGORY_LABELS, "risk_level_labels": RISK_LEVEL_LABELS,
    "dd_subject_type_labels": DD_SUBJECT_TYPE_LABELS, "dd_decision_labels": DD_DECISION_LABELS,
    "dd_status_labels": DD_STATUS_LABELS, "gift_kind_labels": GIFT_KIND_LABELS,
    "gift_direction_labels": GIFT_DIRECTION_LABELS, "gift_decision_labels": GIFT_DECISION_LABELS,
    "gift_status_labels": GIFT_STATUS_LABELS, "dd_state_labels": {**DD_STATUS_LABELS, **DD_DECISION_LABELS},
}
FILTER_NAMES = {"site": _l("site"), "category": _l("category"), "state": _l("status"), "year": _l("year"),
                "q": _l("search text")}
MAX_TEXT = 200
CHUNK_BYTES = 256 * 1024


def risk_links(risks: list[BriberyRisk]) -> list[tuple[str, str | None]]:
    """Linked risks as (label, link): the title only for a risk the reader sees (auditors: approved ones), a link
    when the risk pages are installed."""
    scope = current_scope()
    page = "risks.detail" if "risks.detail" in current_app.view_functions else None
    out: list[tuple[str, str | None]] = []
    for risk in risks:
        seen = scope.sees_risk(risk)
        out.append((f"{risk.reference} — {risk.title}" if seen else risk.reference,
                    url_for(page, risk_id=risk.id) if page and seen else None))
    return out




def refuse_unless_allowed(refusal: Any) -> None:
    """403 (the friendly page) before any form is read, when the policy says no."""
    if refusal is not None:
        abort(403)


# -- the register filters ----------------------------------------------------------------------------------------


def _refuse(key: str) -> ServiceError:
    return ServiceError(_l("The filter “%(name)s” has a value that is not valid. Clear the filters and try again.",
                           name=FILTER_NAMES[key]), 400)


def filters_from_args(args: Mapping[str, str], states: tuple[str, ...]) -> RegisterFilters:
    """A register's filters from the query string; empty means "any", a forged value answers 400."""
    raw = {k: (args.get(k) or "").strip() for k in FILTER_NAMES}
    site = int_or_none(raw["site"]) if raw["site"] else None
    if raw["site"] and site is None:
        raise _refuse("site")
    if raw["category"] and raw["category"] not in ASSOCIATE_CATEGORY_LABELS:
        raise _refuse("category")
    if raw["state"] and raw["state"] not in states:
        raise _refuse("state")
    year = int_or_none(raw["year"]) if raw["year"] else None
    if raw["year"] and (year is None or not MIN_YEAR <= year <= MAX_YEAR):
        raise _refuse("year")
    if len(raw["q"]) > MAX_TEXT:
        raise _refuse("q")
    return RegisterFilters(site_id=site, category=raw["category"] or None, state=raw["state"] or None, year=year,
                           text=raw["q"] or None)


def filter_args(filters: RegisterFilters) -> dict[str, str]:
    """The filters back as query parameters (only those set), for links that keep them: pages, exports."""
    values = {"site": filters.site_id, "category": filters.category, "state": filters.state, "year": filters.year,
              "q": filters.text}
    return {k: str(v) for k, v in values.items() if v not in (None, "")}


# -- exports -----------------------------------------------------------------------------------------------------


def download(spec: exports.Register[Any], filters: RegisterFilters, fmt: str) -> ResponseReturnValue:
    """The register in the format, as an attachment with a dated name (CSV streamed, XLSX from a temporary file)."""
    scope, today = current_scope(), local_today()
    name = exports.file_name(spec.kind, fmt, today)
    columns = spec.columns(today)
    rows = spec.rows(scope, filters, today)
    headers = {"Content-Disposition": f"attachment; filename={name}", "Cache-Control": "no-store"}
    if fmt == "csv":
        return Response(stream_with_context(exports.iter_csv(columns, rows)), mimetype=exports.CSV_MIME,
                        headers=headers)
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - it outlives this function: _sent closes it
    try:
        exports.write_xlsx(columns, rows, spool, title=str(spec.title))
        size = spool.seek(0, os.SEEK_END)
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    return Response(_sent(spool), mimetype=exports.XLSX_MIME, headers={**headers, "Content-Length": str(size)})


def _sent(spool: IO[bytes]) -> Iterator[bytes]:
    try:
        while chunk := spool.read(CHUNK_BYTES):
            yield chunk
    finally:
        spool.close()


# -- evidence files ----------------------------------------------------------------------------------------------


def add_file(record: Revisioned, form: FlaskForm, page: Callable[[int, FlaskForm], ResponseReturnValue],
             endpoint: str, **ids: int) -> ResponseReturnValue:
    """Attach the form's file to the record (checked like any upload); files are never removed."""
    if not form.validate_on_submit():
        return page(form_refused(), form)
    try:
        uploads.ingest(incoming(form.file.data), lambda checked: attach(record, checked, actor=actor()).id)
    except ServiceError as exc:
        if exc.status == 403:
            report(exc)
        form.file.errors = [*form.file.errors, str(exc.message)]
        return page(exc.status, form)
    flash(_("File added."), "success")
    values: dict[str, Any] = {**ids, "_anchor": "files"}
    return redirect(url_for(endpoint, **values))


def send_file_of(record: Revisioned, attachment_id: int) -> ResponseReturnValue:
    """Download one of the record's files, verified against its hash, with an access receipt; else 404."""
    row = db.session.get(Attachment, attachment_id)
    if row is None or (row.owner_type, row.owner_id) != (record.__entity_type__, record.id):
        abort(404)
    sha, size, name, mime = row.sha256, row.size, row.original_filename, row.mime_type

    def receipt() -> None:
        with write_transaction():
            record_download(row, actor())

    return send_blob(sha, size, name, mime, before_send=receipt)


# -- the history -------------------------------------------------------------------------------------------------


@dataclass
class Change:
    """One field's change, written for a person."""

    field: str
    label: str
    old: str
    new: str


@dataclass
class Entry:
    """One revision on the timeline."""

    revision: RecordRevision
    changes: list[Change]


class Names:
    """Ids and codes in revisions shown as people read them, each kind of row read once per page."""

    def __init__(self, snapshots: list[dict[str, Any]], codes: Mapping[str, Mapping[str, Any]],
                 users: tuple[str, ...], dates: tuple[str, ...]) -> None:
        def ids(name: str) -> set[int]:
            return {int(s[name]) for s in snapshots if isinstance(s.get(name), int)}

        def listed(name: str) -> set[int]:
            return {n for s in snapshots for n in id_list(s.get(name) if isinstance(s.get(name), str) else None)}

        lang = current_lang()
        self.codes, self.user_fields, self.dates = codes, users, dates
        self.users = _load(User, set().union(*(ids(f) for f in users)), lambda u: u.name)
        self.sites = _load(Site, ids("site_id"), lambda s: f"{s.code} — {s.name(lang)}")
        self.processes = _load(Process, ids("process_id"), lambda p: f"{p.code} — {p.name(lang)}")
        self.clauses = _load(Clause, listed("clause_ids"), lambda c: c.ref)
        self.risks = _load(BriberyRisk, listed("risk_ids"), lambda r: r.reference)

    def show(self, name: str, value: Any) -> str:
        """A stored value as a person reads it."""
        if value is None or value == "":
            return "—"
        if isinstance(value, bool):
            return str(_("Yes") if value else _("No"))
        lookups = {"site_id": self.sites, "process_id": self.processes, **dict.fromkeys(self.user_fields, self.users)}
        if name in lookups:
            return lookups[name].get(int(value), f"#{value}")
        if name in ("clause_ids", "risk_ids"):
            found = self.clauses if name == "clause_ids" else self.risks
            return ", ".join(found.get(n, f"#{n}") for n in id_list(str(value))) or "—"
        if name in self.codes:
            return str(self.codes[name].get(str(value), value))
        if name in self.dates:
            try:
                return fmt_date(date.fromisoformat(str(value)))
            except ValueError:
                return str(value)
        return str(value)


def _load(model: Any, ids: set[int], label: Callable[[Any], str]) -> dict[int, str]:
    if not ids:
        return {}
    return {row.id: str(label(row)) for row in db.session.scalars(select(model).where(model.id.in_(ids)))}


def timeline(record: Revisioned, labels: Mapping[str, Any], codes: Mapping[str, Mapping[str, Any]],
             users: tuple[str, ...], dates: tuple[str, ...]) -> tuple[list[Entry], Names]:
    """Every revision of the record, oldest first, with each field's old and new value."""
    revs = revisions.history(record.__entity_type__, record.id)
    names = Names([revisions.fields_of(r) for r in revs], codes, users, dates)
    entries: list[Entry] = []
    previous = None
    for rev in revs:
        changes = [Change(c.field, str(labels.get(c.field, c.field)), names.show(c.field, c.old),
                          names.show(c.field, c.new)) for c in revisions.diff(previous, rev)]
        entries.append(Entry(rev, changes))
        previous = rev
    return entries, names


def state_on(record: Revisioned, day: date, labels: Mapping[str, Any],
             names: Names) -> tuple[RecordRevision, list[tuple[str, str]]] | None:
    """The record's fields as they stood at the end of that day (None: it did not exist yet)."""
    rev = revisions.as_of(record.__entity_type__, record.id, day)
    if rev is None:
        return None
    return rev, [(str(labels.get(k, k)), names.show(k, v)) for k, v in revisions.fields_of(rev).items()]
