"""`auditdocs worker`: build queued Word packs in a process of its own, for deployments with several web workers."""

from __future__ import annotations

import threading

import click
from flask import current_app
from flask.cli import with_appcontext

from ..models import PackJob
from ..packs import worker

HELP = """Build the Word packs people queue on the packs page, in this process, until stopped (Ctrl+C).

\b
The web app builds them in a thread of each web process by default; with several web workers, or to keep
long builds off the web processes, set AUDITDOCS_PACK_WORKER=off and run one or more of these instead, e.g.
  cd /srv/auditdocs && .venv/bin/auditdocs worker
Any number may run at once: each job is claimed by exactly one of them.
"""


def _report(job: PackJob) -> None:
    if job.status == "done":
        click.echo(f"Pack job {job.id}: {job.file_name} ({job.file_size} bytes, SHA-256 {job.file_sha256}).")
    else:
        click.echo(f"Pack job {job.id} failed: {job.error}", err=True)


@click.command("worker", help=HELP, short_help="Build queued Word packs (foreground).")
@click.option("--once", is_flag=True, help="Build what is queued now, then exit.")
@click.option("--poll", type=click.FloatRange(min=0.1), default=None,
              help="Seconds between looks at the queue when idle (default AUDITDOCS_PACK_POLL_SECONDS).")
@with_appcontext
def worker_command(once: bool, poll: float | None) -> None:
    """Drain the queue, then (unless --once) wait for more until interrupted."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    wait = poll or float(app.config.get("PACK_POLL_SECONDS") or worker.POLL)
    stopping = threading.Event()
    built = worker.drain(app, stopping.is_set, _report)
    if once:
        click.echo(f"Built {built} pack job(s)." if built else "No pack job was queued.")
        return
    click.echo(f"Waiting for pack jobs (every {wait:g} s; Ctrl+C to stop).")
    try:
        while not stopping.wait(wait):
            worker.drain(app, stopping.is_set, _report)
    except KeyboardInterrupt:
        stopping.set()
        click.echo("Stopped.")


COMMANDS = (worker_command,)
