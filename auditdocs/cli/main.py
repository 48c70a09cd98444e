"""Console entry point `auditdocs`: the command group with `run`, one-line errors instead of tracebacks."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext
from werkzeug.serving import run_simple

from ..app import create_app


@click.command("run")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535), help="Port.")
@with_appcontext
def run_command(host: str, port: int) -> None:
    """Serve the app (development server; use gunicorn in production)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    click.echo(f"auditdocs serving on http://{host}:{port}/  (Ctrl+C to stop)")
    run_simple(host, port, app, threaded=True, use_reloader=False, use_debugger=False)


cli = FlaskGroup(name="auditdocs", create_app=create_app, add_default_commands=False,
                 add_version_option=False, load_dotenv=False, help="auditdocs command line.")
cli.add_command(run_command)
for _param in cli.params:  # Flask's --app/--env-file/--debug mean nothing for this command
    if isinstance(_param, click.Option):
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
