"""Pack jobs through the web and the queue: queueing, the claim race, progress seen mid-build, reloads, failures,
downloads, who sees what, CSRF, and refusals in the person's language (issue 14 point 4)."""

from __future__ import annotations

import hashlib
import io
import json
import threading
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from docx import Document as WordDocument
from flask import Flask
from sqlalchemy import func, select, update
from support import PASSWORD, CSRFClient, browser, pdf, seed_document, today_of, twin_app, write

import config
from auditdocs import create_app
from auditdocs.db import write_transaction
from auditdocs.extensions import db
from auditdocs.models import AuditEvent, Clause, PackJob, Standard, User
from auditdocs.packs import worker
from auditdocs.packs.spec import resolve
from auditdocs.services import pack_jobs
from auditdocs.timeutil import utcnow

DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
FORM = {"standards": "ISO 9001:2015", "clauses": "", "audit": "", "sites": "", "date_from": "2026-01-01",
        "date_to": "2026-06-30", "lang": "es"}


def _queue_http(client: CSRFClient, **changes: Any) -> int:
    """POST the packs form as a browser would; the job id from the redirect."""
    resp = client.post_form("/packs", {**FORM, **changes}, page="/packs")
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    path = urlsplit(resp.location).path
    assert path.startswith("/packs/")
    return int(path.rsplit("/", 1)[1])


def _queue_direct(app: Flask, user_id: int, *standards: str) -> int:
    with app.app_context():
        with write_transaction():
            user = db.session.get_one(User, user_id)
            job_id = pack_jobs.queue(resolve(list(standards) or ["ISO 9001:2015"]), user).id
        db.session.remove()
    return job_id


def _row(app: Flask, job_id: int) -> dict[str, Any]:
    with app.app_context():
        job = db.session.get_one(PackJob, job_id)
        data = {c.name: getattr(job, c.name) for c in PackJob.__table__.columns}
        db.session.remove()
    return data


def _events(app: Flask, action: str) -> list[AuditEvent]:
    with app.app_context():
        found = list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                        .order_by(AuditEvent.seq)))
        for ev in found:
            db.session.expunge(ev)
        db.session.remove()
    return found


def _claim(app: Flask, job_id: int, name: str = "test-worker") -> bool:
    with app.app_context():
        try:
            return pack_jobs.claim(job_id, name)
        finally:
            db.session.remove()


# -- queueing ---------------------------------------------------------------------------------------------------


def test_queue_through_the_form_then_the_page_and_status_read_the_row(app, client, login_as):
    user = login_as("quality_officer")
    job_id = _queue_http(client, clauses="8.5, 9.2", bundle="y")

    row = _row(app, job_id)
    assert row["status"] == "queued"
    assert row["created_by_id"] == user.id
    spec = json.loads(row["spec"])
    assert spec["standards"] == ["ISO 9001:2015"]
    assert spec["clauses"] == ["8.5", "9.2"]
    assert spec["lang"] == "es" and spec["bundle"] is True
    assert (spec["date_from"], spec["date_to"]) == ("2026-01-01", "2026-06-30")
    queued = _events(app, "pack.queue")
    assert [(e.object_type, e.object_id, e.actor_id) for e in queued] == [("pack_job", str(job_id), user.id)]

    page = client.get(f"/packs/{job_id}")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert 'data-testid="pack-progress"' in body and 'aria-live="polite"' in body
    assert "Queued" in body
    assert 'data-testid="pack-refresh"' in body  # the no-script way to see the progress
    status = client.get(f"/packs/{job_id}/status").get_json()
    assert status["status"] == "queued" and status["percent"] == 0 and status["download_url"] is None

    listing = client.get("/packs").get_data(as_text=True)
    assert f'data-testid="pack-row-{job_id}"' in listing
    assert "Only the latest" not in listing  # one pack: nothing left out


def test_the_language_defaults_to_the_page_language(app, client, login_as):
    login_as("quality_officer")
    body = client.get("/packs").get_data(as_text=True)
    assert '<option selected value="en">' in body
    client.post_form("/lang", {"lang": "es"}, page="/")
    body = client.get("/packs").get_data(as_text=True)
    assert '<option selected value="es">' in body


def test_auditors_may_queue_packs_of_what_they_see(app, client, login_as):
    auditor = login_as("auditor")
    job_id = _queue_http(client)
    assert _row(app, job_id)["created_by_id"] == auditor.id
    assert client.get(f"/packs/{job_id}").status_code == 200


def test_csrf_is_enforced(app, client, login_as):
    login_as("quality_officer")
    resp = client.post("/packs", data=FORM)
    assert resp.status_code == 400
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(PackJob)) == 0
        db.session.remove()


def test_anonymous_visitors_go_to_the_login_page(app, client, make_user):
    owner = make_user("quality_officer")
    job_id = _queue_direct(app, owner.id)
    for url in ("/packs", f"/packs/{job_id}", f"/packs/{job_id}/status", f"/packs/{job_id}/download"):
        resp = client.get(url)
        assert resp.status_code == 302 and urlsplit(resp.location).path == "/login", url
    token = client.csrf_token("/login")
    resp = client.post("/packs", data={**FORM, "csrf_token": token})
    assert resp.status_code == 302 and urlsplit(resp.location).path == "/login"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(PackJob)) == 1
        db.session.remove()


@pytest.mark.parametrize(("changes", "status", "spanish"), [
    ({"standards": "ISO 9999:2030"}, 400, "Norma desconocida: ISO 9999:2030"),
    ({"standards": ""}, 400, "Elija al menos una norma."),
    ({"clauses": "8.5 99.9"}, 400, "No existe la cláusula 99.9 en ISO 9001:2015."),
    ({"sites": "NO-SUCH-SITE"}, 400, "Sede desconocida: NO-SUCH-SITE."),
    ({"date_from": "2026-07-01", "date_to": "2026-06-30"}, 400, "El periodo empieza después de terminar."),
    ({"audit": "4242"}, 404, "No existe la auditoría 4242."),
])
def test_bad_input_is_refused_in_spanish(app, client, login_as, changes, status, spanish):
    login_as("quality_officer")
    assert client.post_form("/lang", {"lang": "es"}, page="/").status_code == 302
    resp = client.post_form("/packs", {**FORM, **changes}, page="/packs")
    assert resp.status_code == status
    body = resp.get_data(as_text=True)
    assert spanish in body
    assert 'data-testid="pack-form"' in body  # the form is shown again, as filled in
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(PackJob)) == 0
        db.session.remove()


def test_a_date_out_of_range_is_refused_at_its_field(app, client, login_as):
    login_as("quality_officer")
    resp = client.post_form("/packs", {**FORM, "date_from": "1800-01-01"}, page="/packs")
    assert resp.status_code == 400
    assert "Enter a date between 1990 and 2100." in resp.get_data(as_text=True)


# -- who sees which job -----------------------------------------------------------------------------------------


def test_another_persons_job_is_not_found_but_admins_see_every_job(app, client, login_as, make_user):
    owner = make_user("quality_officer")
    job_id = _queue_direct(app, owner.id)
    login_as("compliance_officer")
    for url in (f"/packs/{job_id}", f"/packs/{job_id}/status", f"/packs/{job_id}/download"):
        assert client.get(url).status_code == 404, url
    assert f'data-testid="pack-row-{job_id}"' not in client.get("/packs").get_data(as_text=True)

    client.post_form("/logout", page="/")
    login_as("admin")
    assert client.get(f"/packs/{job_id}").status_code == 200
    assert client.get(f"/packs/{job_id}/status").get_json()["status"] == "queued"
    listing = client.get("/packs").get_data(as_text=True)
    assert f'data-testid="pack-row-{job_id}"' in listing
    assert client.get(f"/packs/{job_id}/download").status_code == 404  # not built yet
    assert client.get("/packs/2147483647").status_code == 404


# -- the queue ----------------------------------------------------------------------------------------------------


def test_two_workers_racing_for_one_job_only_one_wins(app, make_user):
    owner = make_user("quality_officer")
    job_id = _queue_direct(app, owner.id)
    start = threading.Barrier(2)
    results: dict[str, bool] = {}
    errors: list[BaseException] = []

    def _worker(name: str) -> None:
        try:
            start.wait()
            results[name] = _claim(app, job_id, name)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=_worker, args=(f"w{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(results.values()) == [False, True]
    winner = next(name for name, won in results.items() if won)
    row = _row(app, job_id)
    assert row["status"] == "running" and row["worker"] == winner
    assert _claim(app, job_id, "late") is False


def test_claim_next_takes_the_oldest_queued_job_and_then_nothing(app, make_user):
    owner = make_user("quality_officer")
    first, second = _queue_direct(app, owner.id), _queue_direct(app, owner.id)
    with app.app_context():
        got = [pack_jobs.claim_next("w1"), pack_jobs.claim_next("w2"), pack_jobs.claim_next("w3")]
        ids = [j.id if j else None for j in got]
        db.session.remove()
    assert ids == [first, second, None]


def test_progress_written_mid_build_is_seen_by_another_session(app, client, login_as):
    login_as("quality_officer")
    job_id = _queue_http(client)
    written, checked = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def _builder() -> None:
        """A worker thread mid-build: its session holds the loader's read transaction open while it reports."""
        try:
            with app.app_context():
                job = pack_jobs.claim_next("builder")
                assert job is not None and job.id == job_id
                assert db.session.scalar(select(func.count()).select_from(User)) >= 1  # the build's open read
                pack_jobs.progress(job_id, 40, 100, "writing")
                written.set()
                checked.wait(30)
                db.session.remove()
        except BaseException as exc:  # reported below
            errors.append(exc)
            written.set()

    thread = threading.Thread(target=_builder)
    thread.start()
    try:
        assert written.wait(30)
        assert errors == []
        status = client.get(f"/packs/{job_id}/status").get_json()
        # Writing fills 40-95 % of the bar of a .docx pack: 40 of 100 clauses written is 62 %.
        assert (status["status"], status["done"], status["total"], status["stage"], status["percent"]) == \
            ("running", 40, 100, "writing", 62)
        assert status["text"] == "Being built: 62 % (writing the clauses)."
        page = client.get(f"/packs/{job_id}").get_data(as_text=True)
        assert 'value="62"' in page
    finally:
        checked.set()
        thread.join()
    assert errors == []


def test_progress_is_throttled_and_moves_the_heartbeat(app, make_user):
    owner = make_user("quality_officer")
    job_id = _queue_direct(app, owner.id)
    assert _claim(app, job_id)
    old = utcnow() - timedelta(hours=1)
    with app.app_context():
        with write_transaction():
            db.session.execute(update(PackJob).where(PackJob.id == job_id).values(heartbeat_at=old))
        report = pack_jobs.Throttled(job_id, interval=3600)
        report(1, 10, "loading")
        report(9, 10, "writing")  # within the interval: not written
        db.session.remove()
    row = _row(app, job_id)
    assert (row["progress_done"], row["progress_total"], row["stage"]) == (1, 10, "loading")
    assert row["heartbeat_at"].replace(tzinfo=None) > old.replace(tzinfo=None)
    with app.app_context():
        every = pack_jobs.Throttled(job_id, interval=0)
        every(3, 10, "writing")
        every(7, 10, "saving")
        db.session.remove()
    assert (_row(app, job_id)["progress_done"], _row(app, job_id)["stage"]) == (7, "saving")


def test_a_job_survives_a_reload_and_a_new_app_instance(app, client, login_as):
    owner = login_as("quality_officer")
    job_id = _queue_http(client)
    assert _claim(app, job_id)
    with app.app_context():
        pack_jobs.progress(job_id, 3, 4, "loading")
        db.session.remove()
    first = client.get(f"/packs/{job_id}/status").get_json()
    again = client.get(f"/packs/{job_id}/status").get_json()
    assert first == again and first["percent"] == 30  # loading fills the first 40 % of the bar
    page1 = client.get(f"/packs/{job_id}").get_data(as_text=True)
    page2 = client.get(f"/packs/{job_id}").get_data(as_text=True)
    assert 'value="30"' in page1 and 'value="30"' in page2

    keys = ("DATA_DIR", "SQLALCHEMY_DATABASE_URI", "SQLALCHEMY_ENGINE_OPTIONS", "TIMEZONE", "DEFAULT_LANGUAGE")
    other = create_app(config.TestConfig, {k: app.config[k] for k in keys})
    other.test_client_class = CSRFClient
    try:
        second: CSRFClient = other.test_client()  # type: ignore[assignment]
        resp = second.post_form("/login", {"email": owner.email, "password": PASSWORD})
        assert resp.status_code == 302
        assert second.get(f"/packs/{job_id}/status").get_json() == first
    finally:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


def test_a_stale_running_job_is_failed_when_a_worker_looks_for_work(app, client, login_as):
    login_as("quality_officer")
    job_id = _queue_http(client)
    assert _claim(app, job_id, "dead-worker")
    with app.app_context():
        with write_transaction():
            db.session.execute(update(PackJob).where(PackJob.id == job_id)
                               .values(heartbeat_at=utcnow() - timedelta(minutes=60)))
        assert pack_jobs.claim_next("live-worker") is None
        db.session.remove()
    row = _row(app, job_id)
    assert row["status"] == "failed" and "ask for the pack again" in row["error"]
    assert [e.object_id for e in _events(app, "pack.fail")] == [str(job_id)]
    status = client.get(f"/packs/{job_id}/status").get_json()
    assert status["status"] == "failed" and status["error"] == row["error"]


# -- failures -----------------------------------------------------------------------------------------------------


def test_a_build_that_raises_ends_failed_with_a_sentence_not_a_traceback(app, client, login_as):
    login_as("quality_officer")
    job_id = _queue_http(client)
    # A file already where this job would write: the worker must refuse to overwrite it, and say so plainly.
    blocker = Path(app.config["PACKS_DIR"]) / f"job-{job_id}" / "earlier.docx"
    blocker.parent.mkdir(parents=True)
    blocker.write_bytes(b"an earlier pack")
    ended = worker.run_once(app, "w")
    assert ended is not None and ended.id == job_id and ended.status == "failed"
    assert blocker.read_bytes() == b"an earlier pack"
    row = _row(app, job_id)
    assert row["status"] == "failed" and row["finished_at"] is not None
    # The pack was asked for in Spanish: the sentence is Spanish too, and carries no traceback.
    assert f"(trabajo de paquete {job_id})" in row["error"]
    assert "Traceback" not in row["error"] and "RuntimeError" not in row["error"]
    page = client.get(f"/packs/{job_id}").get_data(as_text=True)
    assert row["error"] in page and 'data-testid="pack-download"' in page
    assert client.get(f"/packs/{job_id}/download").status_code == 404
    assert [e.object_id for e in _events(app, "pack.fail")] == [str(job_id)]


def test_a_pack_asked_for_by_an_account_since_disabled_fails(app, client, login_as):
    user = login_as("quality_officer")
    job_id = _queue_http(client, lang="en")
    with app.app_context():
        with write_transaction():
            db.session.execute(update(User).where(User.id == user.id).values(active=False))
        db.session.remove()
    ended = worker.run_once(app, "w")
    assert ended is not None and ended.id == job_id and ended.status == "failed"
    assert ended.error == "The account that asked for this pack is no longer active."


def test_the_worker_cli_with_once_reports_an_empty_queue(app, runner):
    result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "No pack job was queued." in result.output


# -- success (needs the builder's parts) ----------------------------------------------------------------------------


def test_a_built_pack_is_downloaded_as_an_audited_attachment(app, client, login_as):
    user = login_as("quality_officer")
    job_id = _queue_http(client, clauses="4.4")
    ended = worker.run_once(app, "w")
    assert ended is not None and ended.status == "done", ended and ended.error
    row = _row(app, job_id)
    assert row["file_path"] == f"job-{job_id}/{row['file_name']}"
    on_disk = Path(app.config["PACKS_DIR"]) / row["file_path"]
    assert row["file_name"].endswith(".docx") and row["pack_id"].startswith("PK-")
    assert row["file_size"] == on_disk.stat().st_size
    assert row["generated_at"].microsecond == 0

    status = client.get(f"/packs/{job_id}/status").get_json()
    assert status["status"] == "done" and status["percent"] == 100
    assert status["download_url"] == f"/packs/{job_id}/download"
    with client.get(status["download_url"]) as resp:
        assert resp.status_code == 200
        assert resp.mimetype == DOCX_MIME
        assert resp.headers["Content-Disposition"].startswith("attachment;")
        assert row["file_name"] in resp.headers["Content-Disposition"]
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        data = resp.get_data()
    assert hashlib.sha256(data).hexdigest() == row["file_sha256"] == row["docx_sha256"]
    word = WordDocument(io.BytesIO(data))
    assert any(row["pack_id"] in p.text for p in word.paragraphs) or any(
        row["pack_id"] in p.text for s in word.sections for p in s.header.paragraphs)

    built = _events(app, "pack.build")
    assert [(e.object_id, e.actor_id) for e in built] == [(str(job_id), user.id)]
    assert json.loads(built[0].new_values)["sha256"] == row["file_sha256"]
    downloads = _events(app, "pack.download")
    assert [(e.object_id, e.actor_id) for e in downloads] == [(str(job_id), user.id)]
    page = client.get(f"/packs/{job_id}").get_data(as_text=True)
    assert row["file_sha256"] in page and row["manifest_sha256"] in page


def test_a_bundle_is_served_as_a_zip(app, client, login_as):
    login_as("auditor")
    job_id = _queue_http(client, bundle="y", lang="en")
    ended = worker.run_once(app, "w")
    assert ended is not None and ended.status == "done", ended and ended.error
    with client.get(f"/packs/{job_id}/download") as resp:
        assert resp.status_code == 200 and resp.mimetype == "application/zip"
        assert resp.headers["Content-Disposition"].startswith("attachment;")
        data = resp.get_data()
    with zipfile.ZipFile(io.BytesIO(data)) as bundle:
        names = bundle.namelist()
    assert "manifest.json" in names and "evidence-manifest.csv" in names
    assert any(n.endswith(".docx") for n in names)


def _docx_text(data: bytes) -> str:
    word = WordDocument(io.BytesIO(data))
    parts = [p.text for p in word.paragraphs]
    parts += [cell.text for table in word.tables for row in table.rows for cell in row.cells]
    return "\n".join(parts)


def test_each_pack_holds_what_the_person_who_asked_may_see(app, client, login_as, make_user, tmp_path):
    """The worker builds with the scope of the job's creator: an auditor's pack leaves out a restricted document
    that its owner's pack lists."""
    owner = make_user("quality_officer")
    approver = make_user("quality_officer")
    with app.app_context():
        clause_id = db.session.scalar(select(Clause.id).join(Standard).where(Standard.code == "ISO 9001:2015",
                                                                              Clause.number == "4.4"))
        db.session.remove()
    for code, confidentiality in (("PR-OPEN-001", "normal"), ("PR-REST-001", "restricted")):
        seed_document(app, owner.id, write(tmp_path / f"{code}.pdf", pdf(code)), code=code,
                      approver_id=approver.id, clauses=[clause_id], confidentiality=confidentiality)
    today = today_of(app).isoformat()
    texts = {}
    for who in (owner, make_user("auditor")):
        signed_in = browser(app, who)
        job_id = _queue_http(signed_in, clauses="4.4", date_from="", date_to=today)
        ended = worker.run_once(app, "w")
        assert ended is not None and ended.id == job_id and ended.status == "done", ended and ended.error
        with signed_in.get(f"/packs/{job_id}/download") as resp:
            assert resp.status_code == 200
            texts[who.role] = _docx_text(resp.get_data())
    assert "PR-OPEN-001" in texts["quality_officer"] and "PR-REST-001" in texts["quality_officer"]
    assert "PR-OPEN-001" in texts["auditor"] and "PR-REST-001" not in texts["auditor"]


def test_the_worker_command_builds_what_is_queued(app, client, login_as, runner):
    login_as("quality_officer")
    job_id = _queue_http(client)
    result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    row = _row(app, job_id)
    assert row["status"] == "done", row["error"]
    assert f"Pack job {job_id}: {row['file_name']}" in result.output
    assert "Built 1 pack job(s)." in result.output


def test_a_pack_whose_file_went_missing_says_so(app, client, login_as):
    login_as("quality_officer")
    job_id = _queue_http(client)
    assert worker.run_once(app, "w") is not None
    row = _row(app, job_id)
    moved = Path(app.config["PACKS_DIR"]) / row["file_path"]
    moved.rename(moved.with_suffix(".moved"))
    resp = client.get(f"/packs/{job_id}/download")
    assert resp.status_code == 410
    assert "no longer where it was built" in resp.get_data(as_text=True)
    assert _events(app, "pack.download") == []


def test_admins_download_others_packs_and_the_download_names_them(app, client, login_as, make_user):
    owner = make_user("compliance_officer")
    job_id = _queue_direct(app, owner.id)
    assert worker.run_once(app, "w") is not None
    admin = login_as("admin")
    with client.get(f"/packs/{job_id}/download") as resp:
        assert resp.status_code == 200
        assert resp.headers["Content-Disposition"].startswith("attachment;")
    assert [(e.object_id, e.actor_id) for e in _events(app, "pack.download")] == [(str(job_id), admin.id)]


def test_the_worker_thread_setting(app):
    assert worker.worker_of(app) is None  # tests turn it off
    threaded = twin_app(app, PACK_WORKER="thread")
    try:
        assert isinstance(worker.worker_of(threaded), worker.Worker)
    finally:
        with threaded.app_context():
            db.session.remove()
            db.engine.dispose()
    with pytest.raises(ValueError, match="AUDITDOCS_PACK_WORKER"):
        twin_app(app, PACK_WORKER="celery")
