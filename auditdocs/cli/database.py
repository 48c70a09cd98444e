"""Commands that prepare a database: `init` (migrate, clause catalogue, search index) and `demo-data`."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from ..db import write_transaction
from ..demo import create_demo, has_data
from ..extensions import db
from ..provision import initialise
from ..search import backend, indexing
from .common import writes


@click.command("init")
@with_appcontext
@writes
def init_command() -> None:
    """Apply migrations, load the clause catalogue and create the search index when missing (safe to run again)."""
    summary = initialise()
    click.echo(
        f"Database ready ({db.engine.dialect.name}); catalogue: {summary.standards} standards, "
        f"{summary.clauses_added} clauses added, {summary.clauses_updated} updated, "
        f"{summary.crossmap_added} cross-map links added."
    )
    health = backend().health()
    if health.needs_rebuild:  # a fresh install (or an index left corrupt): build it from what the database holds
        click.echo(f"Search index built: {indexing.rebuild()} document(s) ({health.status} before).")
    else:
        click.echo(f"Search index {health.status}: {health.docs} document(s).")


@click.command("demo-data")
@click.option("--force", is_flag=True, help="Add demo data even if documents already exist.")
@click.option("--if-empty", is_flag=True, help="Do nothing (exit 0) when the database already has data.")
@with_appcontext
@writes
def demo_data_command(force: bool, if_empty: bool) -> None:
    """Create a believable demo organisation with one account per role (passwords printed once)."""
    if has_data() and not force:
        if if_empty:
            click.echo("The database already holds data; the demo accounts were shown on the first run.\n"
                       "  `auditdocs users` lists the accounts; `auditdocs set-password EMAIL --generate` gives one "
                       "a new password.")
            return
        raise click.ClickException("the database already holds data; use --force to add demo data anyway")
    with write_transaction():  # all of it or nothing
        accounts = create_demo()
    click.echo("Demo data created. Demo accounts (passwords are shown only this once):")
    width = max((len(email) for email, _r, _p in accounts), default=0)
    for email, role, password in accounts:
        click.echo(f"  {role:<18}  {email:<{width}}  {password}")


COMMANDS = (init_command, demo_data_command)
