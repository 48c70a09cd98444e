"""Account commands: `create-user`, `set-password` and `users`."""

from __future__ import annotations

import secrets
import sys

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from ..db import write_transaction
from ..extensions import db
from ..models import ROLES, User
from ..services.users import create_user, new_password, normalise_email, set_password
from .common import writes


def _read_password(from_stdin: bool, prompt: str) -> str:
    """A password from one line of stdin (scripts), else typed twice at a hidden prompt."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(click.prompt(prompt, hide_input=True, confirmation_prompt=True))


@click.command("create-user")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice(ROLES), help="Role of the new account.")
@click.option("--name", default="", help="Full name (default: the part of the e-mail before @).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_appcontext
@writes
def create_user_command(email: str, role: str, name: str, password_stdin: bool) -> None:
    """Create an account."""
    secret = new_password(_read_password(password_stdin, "Password"))
    with write_transaction():
        user = create_user(email, name, role, secret)
        created = f"Created {user.email} ({user.role})."
    click.echo(created)


@click.command("set-password")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the new password from standard input.")
@click.option("--generate", is_flag=True, help="Make up a random password and print it once (e.g. for a demo account).")
@with_appcontext
@writes
def set_password_command(email: str, password_stdin: bool, generate: bool) -> None:
    """Give an account a new password (asked twice unless --password-stdin or --generate); its sessions end."""
    if password_stdin and generate:
        raise click.UsageError("choose --password-stdin or --generate, not both")
    password = secrets.token_urlsafe(12) if generate else _read_password(password_stdin, "New password")
    secret = new_password(password)
    with write_transaction():
        user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
        if user is None:
            raise click.ClickException(f"no account with the e-mail {email!r}: see `auditdocs users`")
        set_password(user, secret)
        address = user.email
    click.echo(f"New password set for {address}; its sessions have ended.")
    if generate:
        click.echo(f"  {address}  {password}   (shown only this once)")


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


COMMANDS = (create_user_command, set_password_command, users_command)
