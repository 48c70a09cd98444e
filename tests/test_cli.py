"""The `auditdocs` commands, through Flask's CLI runner and through the real console script."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from auditdocs.extensions import db
from auditdocs.models import AuditEvent, Clause, CrossMap, Standard, User

PASSWORD = "a-long-enough-password-42"
ROLES = ("admin", "quality_officer", "compliance_officer", "auditor")
SCRIPT = Path(sys.executable).with_name("auditdocs")


def _counts(app: Any) -> tuple[int, int, int]:
    with app.app_context():
        out = (
            db.session.scalar(select(func.count(Standard.id))),
            db.session.scalar(select(func.count(Clause.id))),
            db.session.scalar(select(func.count(CrossMap.id))),
        )
        db.session.remove()
    return out


def _user(app: Any, email: str) -> User | None:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        if user is not None:
            db.session.expunge(user)
        db.session.remove()
    return user


def _one_line_error(result: Any) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert lines[0].startswith("Error:"), lines
    assert "Traceback" not in result.output
    return lines[0]


def test_init_is_idempotent(app, runner):
    before = _counts(app)
    assert before[0] == 2 and before[1] == 94 + 88 and before[2] > 50
    for _ in range(2):
        result = runner.invoke(args=["init"])
        assert result.exit_code == 0, result.output
        assert "2 standards, 0 clauses added, 0 updated, 0 cross-map links added" in result.output
    assert _counts(app) == before


def test_writer_commands_do_not_leave_write_mode_on(app, runner):
    """A command's BEGIN IMMEDIATE mode ends with the command (it must not leak into what runs next)."""
    from auditdocs.db import wants_immediate

    assert wants_immediate() is False
    assert runner.invoke(args=["init"]).exit_code == 0
    assert wants_immediate() is False
    failed = runner.invoke(args=["create-user", "bad", "--role", "admin", "--password-stdin"], input="x\n")
    assert failed.exit_code != 0
    assert wants_immediate() is False


def test_init_keeps_applicability_decisions(app, runner, client, login_as):
    login_as("quality_officer")
    client.post_form("/clauses/iso9001_2015/8.3/applicability",
                     {"applicable": "no", "reason": "We design no products or services of our own."}, page="/")
    assert runner.invoke(args=["init"]).exit_code == 0
    with app.app_context():
        clause = db.session.scalar(select(Clause).join(Standard).where(
            Standard.slug == "iso9001_2015", Clause.number == "8.3"))
        assert clause.applicable is False
        db.session.remove()


def test_create_user_reads_the_password_from_stdin(app, runner, client):
    result = runner.invoke(args=["create-user", "Rosa@Example.org", "--role", "quality_officer",
                                 "--name", "Rosa Huamán", "--password-stdin"], input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "Created rosa@example.org (quality_officer)."
    assert PASSWORD not in result.output
    user = _user(app, "rosa@example.org")
    assert user is not None and user.role == "quality_officer" and user.name == "Rosa Huamán"
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.create"))
        assert event.actor_id is None and event.actor_label == "cli"
        db.session.remove()
    resp = client.post_form("/login", {"email": "rosa@example.org", "password": PASSWORD})
    assert resp.status_code == 302


def test_create_user_prompts_twice_without_stdin_flag(app, runner):
    result = runner.invoke(args=["create-user", "jorge@example.org", "--role", "admin"],
                           input=f"{PASSWORD}\n{PASSWORD}-typo\n{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "do not match" in result.output
    assert _user(app, "jorge@example.org").role == "admin"


def test_create_user_refuses_a_duplicate_with_one_line(app, runner, make_user):
    existing = make_user("auditor")
    result = runner.invoke(args=["create-user", existing.email.upper(), "--role", "admin", "--password-stdin"],
                           input=PASSWORD + "\n")
    assert result.exit_code != 0
    assert _one_line_error(result) == f"Error: A user with the e-mail {existing.email} already exists."
    assert _user(app, existing.email).role == "auditor"


def test_create_user_refuses_a_bad_role(app, runner):
    result = runner.invoke(args=["create-user", "x@example.org", "--role", "wizard", "--password-stdin"],
                           input=PASSWORD + "\n")
    assert result.exit_code == 2
    assert "Invalid value for '--role'" in result.output
    assert "Traceback" not in result.output
    assert _user(app, "x@example.org") is None


def test_create_user_refuses_a_weak_password(app, runner):
    result = runner.invoke(args=["create-user", "x@example.org", "--role", "auditor", "--password-stdin"],
                           input="short\n")
    assert result.exit_code != 0
    assert "at least 10 characters" in _one_line_error(result)
    assert _user(app, "x@example.org") is None


def test_set_password_generates_one_shown_once_and_ends_the_old_sessions(app, runner, make_user):
    rosa = make_user("quality_officer", email="rosa@example.org")
    signed_in = app.test_client()
    assert signed_in.post_form("/login", {"email": rosa.email, "password": rosa.password}).status_code == 302
    assert signed_in.get("/documents/").status_code == 200
    result = runner.invoke(args=["set-password", "ROSA@example.org", "--generate"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0] == "New password set for rosa@example.org; its sessions have ended."
    shown = lines[1].split()[1]
    assert len(shown) >= 16 and shown != rosa.password
    # The session that was open ends; the old password no longer works; the printed one does.
    assert signed_in.get("/documents/").status_code == 302
    fresh = app.test_client()
    assert fresh.post_form("/login", {"email": rosa.email, "password": rosa.password}).status_code != 302
    assert fresh.post_form("/login", {"email": rosa.email, "password": shown}).status_code == 302
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.password"))
        assert event is not None and event.actor_label == "cli" and shown not in (event.new_values or "")
        db.session.remove()


def test_set_password_reads_stdin_and_refuses_weak_or_unknown(app, runner, make_user, client):
    jorge = make_user("admin", email="jorge@example.org")
    weak = runner.invoke(args=["set-password", jorge.email, "--password-stdin"], input="short\n")
    assert weak.exit_code != 0 and "at least 10 characters" in _one_line_error(weak)
    unknown = runner.invoke(args=["set-password", "nobody@example.org", "--password-stdin"], input=PASSWORD + "x\n")
    assert unknown.exit_code == 1
    assert _one_line_error(unknown) == "Error: no account with the e-mail 'nobody@example.org': see `auditdocs users`"
    both = runner.invoke(args=["set-password", jorge.email, "--password-stdin", "--generate"])
    assert both.exit_code == 2
    ok = runner.invoke(args=["set-password", jorge.email, "--password-stdin"], input="another-long-password-7\n")
    assert ok.exit_code == 0, ok.output
    assert "another-long-password-7" not in ok.output
    assert client.post_form("/login", {"email": jorge.email, "password": "another-long-password-7"}).status_code == 302


def test_users_lists_accounts_with_role_and_state(app, runner, make_user, client, login_as):
    result = runner.invoke(args=["users"])
    assert result.exit_code == 0
    assert "No users yet" in result.output

    officer = make_user("compliance_officer", name="Luis Mendoza")
    login_as("admin")
    client.post_form(f"/admin/users/{officer.id}", {"role": "compliance_officer"},
                     page=f"/admin/users/{officer.id}")  # disable
    result = runner.invoke(args=["users"])
    assert result.exit_code == 0
    lines = {line.split()[0]: line.split() for line in result.output.splitlines()}
    assert lines[officer.email][1:] == ["compliance_officer", "disabled", "Luis", "Mendoza"]
    assert len(lines) == 2
    assert any(parts[1:3] == ["admin", "active"] for parts in lines.values())


def _demo_accounts(output: str) -> dict[str, tuple[str, str]]:
    accounts = {}
    for line in output.splitlines():
        match = re.fullmatch(r"\s+(\w+)\s+(\S+@\S+)\s+(\S+)\s*", line)
        if match and match.group(1) in ROLES:
            accounts.setdefault(match.group(1), (match.group(2), match.group(3)))
    return accounts


def test_demo_data_prints_one_account_per_role(app, runner, client):
    result = runner.invoke(args=["demo-data"])
    assert result.exit_code == 0, result.output
    accounts = _demo_accounts(result.output)
    assert set(accounts) == set(ROLES), result.output
    passwords = [password for _email, password in accounts.values()]
    assert len(set(passwords)) == len(passwords), "demo passwords are random, one each"

    email, password = accounts["admin"]
    resp = client.post_form("/login", {"email": email, "password": password})
    assert resp.status_code == 302
    assert client.get("/admin/users").status_code == 200
    with app.app_context():
        design = db.session.scalar(select(Clause).join(Standard).where(
            Standard.slug == "iso9001_2015", Clause.number == "8.3"))
        assert design.applicable is False and design.not_applicable_reason
        db.session.remove()


def test_demo_data_refuses_a_second_run_unless_forced(app, runner):
    first = runner.invoke(args=["demo-data"])
    assert first.exit_code == 0, first.output
    with app.app_context():
        users = db.session.scalar(select(func.count(User.id)))
        db.session.remove()

    again = runner.invoke(args=["demo-data"])
    assert again.exit_code != 0
    assert "--force" in _one_line_error(again)

    quiet = runner.invoke(args=["demo-data", "--if-empty"])  # a second `make run`: nothing added, says how to log in
    assert quiet.exit_code == 0
    assert _demo_accounts(quiet.output) == {} and "set-password EMAIL --generate" in quiet.output

    forced = runner.invoke(args=["demo-data", "--force"])
    assert forced.exit_code == 0, forced.output
    with app.app_context():
        assert db.session.scalar(select(func.count(User.id))) == users, "--force does not duplicate accounts"
        db.session.remove()


def test_demo_data_force_adds_the_demo_beside_existing_data(app, runner, make_user):
    make_user("admin")
    refused = runner.invoke(args=["demo-data"])
    assert refused.exit_code != 0
    assert "--force" in _one_line_error(refused)
    skipped = runner.invoke(args=["demo-data", "--if-empty"])
    assert skipped.exit_code == 0 and _demo_accounts(skipped.output) == {}

    forced = runner.invoke(args=["demo-data", "--force"])
    assert forced.exit_code == 0, forced.output
    assert set(_demo_accounts(forced.output)) == set(ROLES)


def test_demo_data_if_empty_fills_an_empty_database(runner):
    result = runner.invoke(args=["demo-data", "--if-empty"])
    assert result.exit_code == 0
    assert set(_demo_accounts(result.output)) == set(ROLES)
    again = runner.invoke(args=["demo-data", "--if-empty"])  # `make run` the second time
    assert again.exit_code == 0 and _demo_accounts(again.output) == {}
    assert "auditdocs set-password EMAIL --generate" in again.output


# --- the real console script, as `make run` and an operator call it -------------------------------------


def _script_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUDITDOCS_", "FLASK_"))}
    env["AUDITDOCS_DATA_DIR"] = str(data_dir)
    return env


def _run(args: list[str], env: dict[str, str], cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(SCRIPT), *args], env=env, cwd=cwd, input=stdin, capture_output=True,
                          text=True, timeout=180, check=False)


@pytest.mark.sqlite_only
def test_console_script_gives_one_line_errors(tmp_path):
    assert SCRIPT.exists(), f"console script missing: {SCRIPT}"
    data_dir = tmp_path / "data"
    env = _script_env(data_dir)

    init = _run(["init"], env, tmp_path)
    assert init.returncode == 0, init.stderr
    assert "Database ready (sqlite)" in init.stdout
    assert "182 clauses added" in init.stdout
    assert (data_dir / "auditdocs.sqlite3").is_file()
    key = data_dir / "secret_key"
    assert key.is_file() and stat.S_IMODE(key.stat().st_mode) == 0o600

    bad_role = _run(["create-user", "x@example.org", "--role", "wizard", "--password-stdin"], env, tmp_path,
                    stdin=PASSWORD + "\n")
    assert bad_role.returncode != 0
    lines = bad_role.stderr.strip().splitlines()
    assert len(lines) == 1, bad_role.stderr
    assert lines[0].startswith("Error:")
    assert "--role" in lines[0]
    assert "Traceback" not in bad_role.stderr + bad_role.stdout

    ok = _run(["create-user", "ana@example.org", "--role", "auditor", "--password-stdin"], env, tmp_path,
              stdin=PASSWORD + "\n")
    assert ok.returncode == 0, ok.stderr
    dup = _run(["create-user", "ana@example.org", "--role", "auditor", "--password-stdin"], env, tmp_path,
               stdin=PASSWORD + "\n")
    assert dup.returncode != 0
    dup_lines = dup.stderr.strip().splitlines()
    assert len(dup_lines) == 1, dup.stderr
    assert dup_lines[0].startswith("Error:") and "ana@example.org" in dup_lines[0]

    listed = _run(["users"], env, tmp_path)
    assert listed.returncode == 0
    assert re.search(r"ana@example\.org\s+auditor\s+active", listed.stdout)

    again = _run(["init"], env, tmp_path)
    assert again.returncode == 0
    assert "0 clauses added" in again.stdout


@pytest.mark.sqlite_only
def test_console_script_unknown_command_is_one_line(tmp_path):
    result = _run(["no-such-command"], _script_env(tmp_path / "data"), tmp_path)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error:"), result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.sqlite_only
def test_console_script_help_lists_the_commands(tmp_path):
    result = _run(["--help"], _script_env(tmp_path / "data"), tmp_path)
    assert result.returncode == 0, result.stderr
    for command in ("init", "create-user", "users", "demo-data", "run"):
        assert re.search(rf"^\s+{re.escape(command)}\s", result.stdout, re.M), result.stdout
