"""The packs page: ask for a Word pack, watch it being built, download it; the list of past packs with their hashes.

Why the page reads only the job row: the build runs elsewhere (a thread of some web process, or `auditdocs worker`),
so a reload, another tab or another server worker shows the same state. Every page works without JavaScript
(a Refresh link); static/app/packs.js polls the status as JSON and moves the bar.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import Blueprint, current_app, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..db import write_transaction
from ..extensions import db
from ..models import Audit, PackJob
from ..packs import worker as pack_worker
from ..packs.spec import resolve
from ..policy import current_scope
from ..services import ServiceError, pack_jobs
from .blobs import content_disposition
from .helpers import current_lang
from .packs_forms import LANG_LABELS, PackForm, audit_label
from .security import actor

bp = Blueprint("packs", __name__)

LISTED = 100  # past packs shown on the page, newest first
MIMETYPES = {".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
             ".zip": "application/zip"}
STATUS_LABELS = {"queued": _l("Queued"), "running": _l("Being built"), "done": _l("Ready"), "failed": _l("Failed")}
STAGE_LABELS = {"queued": _l("starting"), "loading": _l("reading the records"), "writing": _l("writing the clauses"),
                "saving": _l("saving"), "evidence": _l("adding the evidence files"), "done": _l("done")}
# The builder counts each stage from 0 to its own total; the bar shows the whole build, so each stage fills its band
# of it (in percent), in the order the stages run. A bundle spends most of its time streaming the evidence.
BANDS = {False: {"loading": (0, 40), "writing": (40, 95), "saving": (95, 100)},
         True: {"loading": (0, 25), "writing": (25, 55), "saving": (55, 60), "evidence": (60, 100)}}


@dataclass(frozen=True)
class JobView:
    """A job as the page and the status JSON show it."""

    job: PackJob
    standards: list[str]
    clauses: list[str]
    period: tuple[date, date] | None
    place: str
    lang: str
    bundle: bool

    @property
    def percent(self) -> int:
        """0-100 from the row (100 once done)."""
        if self.job.status == "done":
            return 100
        total, done = self.job.progress_total or 0, self.job.progress_done or 0
        start, end = BANDS[self.bundle].get(self.job.stage or "", (0, 100))
        part = min(done, total) / total if total > 0 else 0.0
        return min(99, int(start + (end - start) * part))  # 100 only once the file is recorded

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS.get(self.job.status, self.job.status))

    @property
    def stage_label(self) -> str:
        stage = self.job.stage or "queued"
        return str(STAGE_LABELS.get(stage, stage))

    @property
    def text(self) -> str:
        """One sentence for people and screen readers: where the build is."""
        job = self.job
        if job.status == "queued":
            return str(_("Queued: the pack will be built as soon as a worker is free."))
        if job.status == "running":
            return str(_("Being built: %(percent)d %% (%(stage)s).", percent=self.percent, stage=self.stage_label))
        if job.status == "done":
            return str(_("Ready: the pack can be downloaded."))
        return str(_("Failed: %(reason)s", reason=job.error or _("no reason was recorded.")))


def _everyone() -> bool:
    return current_scope().can("see_all_packs")


def _view(job: PackJob, audits: dict[int, str]) -> JobView:
    try:
        spec = json.loads(job.spec)
        period: tuple[date, date] | None = (date.fromisoformat(spec["date_from"]), date.fromisoformat(spec["date_to"]))
    except (ValueError, KeyError, TypeError):
        spec, period = {}, None
    audit_id = spec.get("audit_id")
    if audit_id is not None:
        place = audits.get(audit_id) or _("audit %(id)s", id=audit_id)
    elif spec.get("sites"):
        place = ", ".join(spec["sites"])
    else:
        place = _("the whole organisation")
    return JobView(job=job, standards=list(spec.get("standards") or []), clauses=list(spec.get("clauses") or []),
                   period=period, place=place, lang=str(LANG_LABELS.get(spec.get("lang", ""), spec.get("lang", ""))),
                   bundle=bool(spec.get("bundle")))


def _audit_labels(jobs: list[PackJob]) -> dict[int, str]:
    ids = set()
    for job in jobs:
        try:
            audit_id = json.loads(job.spec).get("audit_id")
        except ValueError:
            continue
        if isinstance(audit_id, int):
            ids.add(audit_id)
    if not ids:
        return {}
    return {a.id: audit_label(a) for a in db.session.scalars(select(Audit).where(Audit.id.in_(sorted(ids))))}


def _visible(job_id: int) -> PackJob:
    return pack_jobs.job_for(job_id, actor(), everyone=_everyone())


@bp.route("/packs", methods=["GET", "POST"])
def index() -> ResponseReturnValue:
    """The form and the past packs; POST queues a pack and goes to its page."""
    form = PackForm()
    form.fill(current_lang())
    if request.method == "POST":
        return _queue(form)
    return _render(form)


def _queue(form: PackForm) -> ResponseReturnValue:
    if not form.validate_on_submit():
        return _render(form), 400
    try:
        with write_transaction():
            spec = resolve(form.standard_codes(), clauses=form.clause_numbers(), audit_id=form.audit_id(),
                           sites=form.site_codes(), date_from=form.date_from.data, date_to=form.date_to.data,
                           lang=form.lang.data or current_lang(), bundle=bool(form.bundle.data))
            job_id = pack_jobs.queue(spec, actor()).id
    except ServiceError as exc:
        return _render(form, refusal=str(exc.message)), exc.status
    pack_worker.notify(current_app._get_current_object())  # type: ignore[attr-defined]
    flash(_("Pack %(id)s queued: this page shows its progress.", id=job_id), "success")
    return redirect(url_for("packs.job", job_id=job_id))


def _render(form: PackForm, refusal: str | None = None) -> str:
    everyone = _everyone()
    jobs = list(db.session.scalars(pack_jobs.visible_jobs(actor(), everyone=everyone).limit(LISTED + 1)))
    audits = _audit_labels(jobs[:LISTED])
    return render_template("packs/index.html", form=form, refusal=refusal, everyone=everyone,
                           jobs=[_view(j, audits) for j in jobs[:LISTED]], truncated=len(jobs) > LISTED)


@bp.route("/packs/<int:job_id>")
def job(job_id: int) -> ResponseReturnValue:
    """One pack: what it covers, its progress (kept moving by packs.js), then its file and hashes."""
    found = _visible(job_id)
    return render_template("packs/job.html", v=_view(found, _audit_labels([found])), everyone=_everyone())


def status_data(v: JobView) -> dict[str, Any]:
    """What the page's script needs to show the state without a reload."""
    job = v.job
    return {"id": job.id, "status": job.status, "status_label": v.status_label, "done": job.progress_done or 0,
            "total": job.progress_total or 0, "stage": job.stage or "queued", "stage_label": v.stage_label,
            "percent": v.percent, "text": v.text, "error": job.error if job.status == "failed" else None,
            "download_url": url_for("packs.download", job_id=job.id) if job.status == "done" else None,
            "file_name": job.file_name if job.status == "done" else None}


@bp.route("/packs/<int:job_id>/status")
def status(job_id: int) -> ResponseReturnValue:
    """The job's state as JSON, read from its row (polled by packs.js)."""
    try:
        found = _visible(job_id)
    except ServiceError as exc:
        return jsonify(ok=False, error=str(exc.message), status=exc.status), exc.status
    return jsonify(status_data(_view(found, {})))


@bp.route("/packs/<int:job_id>/download")
def download(job_id: int) -> ResponseReturnValue:
    """The built file, always as an attachment; the download is audited."""
    found = _visible(job_id)
    if found.status != "done":
        raise ServiceError(_l("This pack is not ready yet."), 404)
    path = pack_jobs.file_of(found)
    if path is None or path.stat().st_size != found.file_size:
        raise ServiceError(_l("The file of this pack is no longer where it was built. Ask your administrator to "
                              "restore it from a backup, or build the pack again."), 410)
    with write_transaction():
        pack_jobs.record_download(db.session.get_one(PackJob, job_id), actor())
    name = found.file_name or path.name
    resp = send_file(path, mimetype=MIMETYPES.get(path.suffix.lower(), "application/octet-stream"),
                     as_attachment=True, download_name=name, conditional=False, max_age=0)
    resp.headers["Content-Disposition"] = content_disposition(name)
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp
