"""The `auditdocs` command group: run, init, demo-data, users; store commands live in cli_store."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy import select

from .db import set_write_mode
from .extensions import db
from .models import ROLES, User
from .services import ServiceError


def writes(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a command as a writer: every transaction begins IMMEDIATE on SQLite; errors roll back."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        set_write_mode(True)
        try:
            return fn(*args, **kwargs)
        except ServiceError as exc:
            db.session.rollback()
            raise click.ClickException(str(exc.message)) from None
        except BaseException:
            db.session.rollback()
            raise
        finally:
            set_write_mode(False)  # the mode ends with the command (tests run commands in-process)

    return wrapper


@click.command("init")
@with_appcontext
@writes
def init_command() -> None:
    """Apply migrations and load the clause catalogue (safe to run again)."""
    from .setup import initialise

    summary = initialise()
    click.echo(
        f"Database ready ({db.engine.dialect.name}); catalogue: {summary.standards} standards, "
        f"{summary.clauses_added} clauses added, {summary.clauses_updated} updated, "
        f"{summary.crossmap_added} cross-map links added."
    )


@click.command("create-user")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice(ROLES), help="Role of the new account.")
@click.option("--name", default="", help="Full name (default: the part of the e-mail before @).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_appcontext
@writes
def create_user_command(email: str, role: str, name: str, password_stdin: bool) -> None:
    """Create an account."""
    from .services.users import create_user

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    user = create_user(email, name, role, password)
    db.session.commit()
    click.echo(f"Created {user.email} ({user.role}).")


@click.command("users")
@with_appcontext
def users_command() -> None:
    """List accounts with role and state."""
    rows = db.session.scalars(select(User).order_by(User.email)).all()
    if not rows:
        click.echo("No users yet: run `auditdocs create-user EMAIL --role admin`.")
        return
    width = max(len(u.email) for u in rows)
    for u in rows:
        state = "active" if u.active else "disabled"
        click.echo(f"{u.email:<{width}}  {u.role:<18}  {state:<8}  {u.name}")


@click.command("demo-data")
@click.option("--force", is_flag=True, help="Add demo data even if documents already exist.")
@click.option("--if-empty", is_flag=True, help="Do nothing (exit 0) when the database already has data.")
@with_appcontext
@writes
def demo_data_command(force: bool, if_empty: bool) -> None:
    """Create a believable demo organisation with one account per role (passwords printed once)."""
    from .demo import create_demo, has_data

    if has_data() and not force:
        if if_empty:
            return
        raise click.ClickException("the database already holds data; use --force to add demo data anyway")
    accounts = create_demo()
    db.session.commit()
    click.echo("Demo data created. Demo accounts (passwords are shown only this once):")
    width = max((len(email) for email, _r, _p in accounts), default=0)
    for email, role, password in accounts:
        click.echo(f"  {role:<18}  {email:<{width}}  {password}")


@click.command("run")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535), help="Port.")
@with_appcontext
def run_command(host: str, port: int) -> None:
    """Serve the app (development server; use gunicorn in production)."""
    from werkzeug.serving import run_simple

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    click.echo(f"auditdocs serving on http://{host}:{port}/  (Ctrl+C to stop)")
    run_simple(host, port, app, threaded=True, use_reloader=False, use_debugger=False)


def register(app: Flask) -> None:
    """Attach every command to app.cli (also reachable as `flask --app auditdocs ...`)."""
    from . import cli_import, cli_store

    for command in (init_command, create_user_command, users_command, demo_data_command):
        app.cli.add_command(command)
    cli_store.register(app)
    cli_import.register(app)


def _create_app() -> Flask:
    from . import create_app

    return create_app()


cli = FlaskGroup(name="auditdocs", create_app=_create_app, add_default_commands=False,
                 add_version_option=False, load_dotenv=False, help="auditdocs command line.")
cli.add_command(run_command)
for _param in cli.params:  # Flask's --app/--env-file/--debug mean nothing for this command
    _param.hidden = True


def main() -> None:
    """Console entry point: one-line errors and a non-zero exit instead of tracebacks."""
    try:
        rv = cli.main(prog_name="auditdocs", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(1)
    except click.UsageError as exc:
        click.echo(f"Error: {exc.format_message()} (see `auditdocs {exc.ctx.info_name if exc.ctx else ''} "
                   f"--help`)".replace("  ", " "), err=True)
        sys.exit(2)
    except click.ClickException as exc:
        click.echo(f"Error: {exc.format_message()}", err=True)
        sys.exit(exc.exit_code)
    sys.exit(rv if isinstance(rv, int) else 0)
