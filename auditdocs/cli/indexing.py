"""`auditdocs index --pending`: read the text of stored files that have none yet, with a progress bar."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from .. import extract
from ..db import end_read
from .common import writes

HELP = """Read the text of every stored file (document versions and record attachments) that has not been
read yet, so search can find it. Each file is read once per content, in a separate process within
AUDITDOCS_EXTRACT_TIME_LIMIT seconds; a file that cannot be read is recorded as such (searchable by its
details only) and not tried again. Safe to run again: a second run finds nothing to do.

\b
The web app does the same in the background (AUDITDOCS_EXTRACT_WORKER=thread, the default); with the
worker off, run this from cron, e.g.:
  */5 * * * *  cd /srv/auditdocs && .venv/bin/auditdocs index --pending
"""


@click.command("index", help=HELP, short_help="Read the text of stored files for search.")
@click.option("--pending", "only_pending", is_flag=True, help="Read the files whose text has not been read yet.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Read at most this many files.")
@with_appcontext
@writes
def index_command(only_pending: bool, limit: int | None) -> None:
    """Read pending files with a progress bar on stderr; print what was read, by outcome."""
    if not only_pending:
        raise click.UsageError("say what to index: --pending (files whose text has not been read yet)")
    total = extract.pending_count()
    end_read()
    if limit is not None:
        total = min(total, limit)
    if total == 0:
        click.echo("Nothing to read: every stored file's text has been read.")
        return
    with click.progressbar(length=total, label="Reading text", file=sys.stderr) as bar:
        summary = extract.run_pending(limit, bar.update)
    counts = ", ".join(f"{status} {n}" for status, n in sorted(summary.counts.items()))
    click.echo(f"Read {summary.total} file(s): {counts}.")


COMMANDS = (index_command,)
