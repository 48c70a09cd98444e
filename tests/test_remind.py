"""`auditdocs remind` against a real SMTP server on a local port (aiosmtpd): one digest per owner, in their language,
listing overdue and soon-due actions; --dry-run prints and sends nothing; a server that is down is reported, records
nothing, and the next run sends; every run reminds again whatever is still due."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from flask import url_for
from records_support import act, add_action, implemented, raise_nc
from smtp_box import Mailbox, free_port, smtp_config, smtp_server
from sqlalchemy import select

from auditdocs.db import write_transaction
from auditdocs.extensions import db
from auditdocs.models import AuditEvent, CorrectiveAction, User
from auditdocs.services import actions
from auditdocs.timeutil import local_today


@pytest.fixture
def box() -> Iterator[Mailbox]:
    with smtp_server() as mailbox:
        yield mailbox


def _today(app: Any) -> date:
    with app.app_context():
        return local_today()


def _set(app: Any, user_id: int, **values: Any) -> None:
    with app.app_context(), write_transaction():
        user = db.session.get_one(User, user_id)
        for key, value in values.items():
            setattr(user, key, value)


@pytest.fixture
def plan(app, make_user) -> dict[str, Any]:
    """Rosa (Spanish) owns an overdue, a soon-due, a later and an implemented overdue action; John (English) owns
    one due in exactly 14 days; Ana owns one due in 15 days only; Pedro's account is disabled."""
    quality = make_user("quality_officer", name="Carla Recorder").id
    rosa = make_user("quality_officer", name="Rosa Huamán", email="rosa@example.org").id
    john = make_user("compliance_officer", name="John Smith", email="john@example.org").id
    ana = make_user("compliance_officer", name="Ana Torres", email="ana@example.org").id
    pedro = make_user("compliance_officer", name="Pedro Ríos", email="pedro@example.org").id
    _set(app, rosa, language="es")
    _set(app, john, language="en")
    today = _today(app)
    long_ago = today - timedelta(days=60)  # when the actions were planned, so past due dates were allowed then
    nc = raise_nc(app, quality, today=long_ago, detected_on=long_ago, title="Registro de obsequios incompleto")
    other = raise_nc(app, quality, today=long_ago, detected_on=long_ago, title="Visitas fuera de plazo")
    ids = {"today": today, "year": long_ago.year, "rosa": rosa, "john": john, "ana": ana, "pedro": pedro}
    ids["overdue"] = add_action(app, quality, nc, rosa, due=today - timedelta(days=3), today=long_ago,
                                description="Capacitar al personal en el registro")
    ids["soon"] = add_action(app, quality, other, rosa, due=today + timedelta(days=5), today=long_ago,
                             description="Reprogramar las visitas pendientes")
    ids["later"] = add_action(app, quality, other, rosa, due=today + timedelta(days=30), today=long_ago)
    ids["done"] = add_action(app, quality, nc, rosa, due=today - timedelta(days=1), today=long_ago)
    implemented(app, rosa, ids["done"], today=long_ago)
    ids["edge"] = add_action(app, quality, nc, john, due=today + timedelta(days=14), today=long_ago,
                             description="Update the gifts register form")
    ids["started"] = add_action(app, quality, nc, john, due=today - timedelta(days=1), today=long_ago,
                                description="Review the register weekly")
    act(app, john, ids["started"], actions.start_action, today=long_ago)  # in progress still needs its owner
    ids["beyond"] = add_action(app, quality, other, ana, due=today + timedelta(days=15), today=long_ago)
    ids["orphan"] = add_action(app, quality, other, pedro, due=today - timedelta(days=2), today=long_ago)
    _set(app, pedro, active=False)
    return ids


def _events(app: Any) -> list[dict[str, Any]]:
    with app.app_context():
        rows = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "reminder.sent")
                                  .order_by(AuditEvent.seq)).all()
        return [{"user": int(e.object_id or 0), "actor": e.actor_label, **json.loads(e.new_values or "{}")}
                for e in rows]


def test_one_digest_per_owner_in_their_language(app, runner, box, plan):
    nc1, nc2 = f"NC-{plan['year']}-0001", f"NC-{plan['year']}-0002"
    app.config.update(smtp_config(box))
    result = runner.invoke(args=["remind"])
    assert result.exit_code == 0, result.output
    assert box.recipients == ["john@example.org", "rosa@example.org"]  # Ana's is beyond 14 days; Pedro is disabled
    assert "pedro@example.org: account disabled" in result.stderr and f"{nc2} / A4" in result.stderr

    (rosa,) = box.to("rosa@example.org")
    assert rosa.subject == "[auditdocs] Sus acciones correctivas — vencidas: 1, vencen en 14 días: 1"
    body = rosa.body.replace("\r\n", "\n")
    assert body.startswith("Estimado(a) Rosa Huamán:")
    assert f"Vencidas:\n- {nc1} / A1, venció el" in body and "(3 días de retraso)" in body
    assert "Capacitar al personal en el registro" in body
    assert "No conformidad: Registro de obsequios incompleto" in body
    assert f"Vencen en los próximos 14 días:\n- {nc2} / A1, vence el" in body
    assert f"{nc2} / A2" not in body and f"{nc1} / A2" not in body  # later; implemented
    assert body.index("Vencidas:") < body.index("Vencen en los próximos")

    (john,) = box.to("john@example.org")
    john_body = john.body.replace("\r\n", "\n")
    assert john.subject == "[auditdocs] Your corrective actions — overdue: 1, due within 14 days: 1"
    assert f"Overdue:\n- {nc1} / A4, due" in john_body and "(1 day late)" in john_body
    assert f"{nc1} / A3" in john_body  # due in exactly 14 days counts

    events = _events(app)
    assert sorted((e["user"], e["actor"]) for e in events) == sorted([(plan["rosa"], "cli"), (plan["john"], "cli")])
    by_user = {e["user"]: e for e in events}
    assert sorted(by_user[plan["rosa"]]["action_ids"]) == sorted([plan["overdue"], plan["soon"]])
    assert sorted(by_user[plan["john"]]["action_ids"]) == sorted([plan["edge"], plan["started"]])
    assert by_user[plan["rosa"]]["overdue"] == 1 and by_user[plan["rosa"]]["due_soon"] == 1


def test_every_run_reminds_again_what_is_still_due(app, runner, box, plan):
    app.config.update(smtp_config(box))
    assert runner.invoke(args=["remind"]).exit_code == 0
    assert runner.invoke(args=["remind"]).exit_code == 0
    assert len(box.to("rosa@example.org")) == 2 and len(_events(app)) == 4


def test_dry_run_prints_the_digests_and_sends_nothing(app, runner, box, plan):
    app.config.update(smtp_config(box))
    result = runner.invoke(args=["remind", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "To: rosa@example.org\nSubject: [auditdocs] Sus acciones correctivas" in result.stdout
    assert "To: john@example.org" in result.stdout and "(1 day late)" in result.stdout
    assert "Dry run: 2 digest(s) shown; nothing was sent or recorded." in result.stdout
    assert box.received == [] and _events(app) == []


def test_dry_run_needs_no_smtp(app, runner, plan):
    app.config.update(SMTP_HOST=None)
    result = runner.invoke(args=["remind", "--dry-run"])
    assert result.exit_code == 0 and "To: rosa@example.org" in result.stdout


def test_without_smtp_it_says_so_and_fails(app, runner, plan):
    app.config.update(SMTP_HOST=None)
    result = runner.invoke(args=["remind"])
    assert result.exit_code == 1
    assert "e-mail is not configured: set AUDITDOCS_SMTP_HOST" in result.output
    assert _events(app) == []


def test_a_server_that_is_down_is_reported_records_nothing_and_the_next_run_sends(app, runner, plan):
    down = {**smtp_config(Mailbox(free_port())), "SMTP_TIMEOUT": 2}  # nobody listens on that port
    app.config.update(down)
    result = runner.invoke(args=["remind"])
    assert result.exit_code == 1
    assert "Not sent to rosa@example.org" in result.stderr and "sent again on the next run" in result.stderr
    assert "2 digest(s) could not be sent or recorded; nothing was recorded for them." in result.output
    assert _events(app) == []

    with smtp_server() as box:
        app.config.update(smtp_config(box))
        again = runner.invoke(args=["remind"])
        assert again.exit_code == 0, again.output
        assert box.recipients == ["john@example.org", "rosa@example.org"]
    assert len(_events(app)) == 2


def test_nothing_due_sends_nothing(app, runner, box, make_user):
    app.config.update(smtp_config(box))
    make_user("quality_officer")
    result = runner.invoke(args=["remind"])
    assert result.exit_code == 0 and "nothing to send" in result.output
    assert box.received == []


def test_the_audit_log_reads_the_reminder(app, client, runner, box, plan, login_as):
    app.config.update(smtp_config(box))
    assert runner.invoke(args=["remind"]).exit_code == 0
    login_as("admin")
    page = client.get("/audit/?action=reminder.").get_data(as_text=True)
    sentences = [re.sub(r"<[^>]+>", "", s) for s in re.findall(r'data-testid="sentence">(.*?)</span>', page)]
    assert ("The command line e-mailed Rosa Huamán a reminder of their overdue and soon-due corrective actions"
            in sentences)


def test_digests_link_each_action_when_the_base_url_is_set(app, runner, box, plan):
    if "nonconformities.detail" not in app.view_functions:
        pytest.skip("the register's pages (nonconformities.detail) are not in this build")
    app.config.update({**smtp_config(box), "BASE_URL": "https://docs.example.org"})
    assert runner.invoke(args=["remind"]).exit_code == 0
    with app.test_request_context(base_url="https://docs.example.org"):
        with app.app_context():
            nc_id = db.session.get_one(CorrectiveAction, plan["overdue"]).nonconformity_id
        link = url_for("nonconformities.detail", nc_id=nc_id, _external=True)
    (rosa,) = box.to("rosa@example.org")
    assert f"{link}#action-{plan['overdue']}" in rosa.body
