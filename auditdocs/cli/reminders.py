"""`auditdocs remind`: one e-mail digest per owner of overdue or soon-due corrective actions (services.reminders)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from ..db import end_read, write_transaction
from ..services import mail, reminders
from ..timeutil import local_today

HELP = """E-mail each owner of corrective actions that are overdue or due within 14 days ONE digest
listing them, in the owner's language (their saved preference, else the default language).

\b
Meant for cron on working days, e.g.:
  0 7 * * 1-5  cd /srv/auditdocs && .venv/bin/auditdocs remind
Every run reminds again whatever is still overdue or due soon (a daily reminder, not a one-off):
nothing is suppressed because an earlier run sent it.

\b
Needs the SMTP settings (AUDITDOCS_SMTP_HOST...): without them it says so and exits 1.
Each digest the SMTP server accepts is recorded in the audit trail ("reminder.sent", with the
actions it named); one it refuses, or an unreachable server, is reported, recorded nowhere and
sent again by the next run. Exit code 1 when any digest could not be sent.
--dry-run prints the digests and sends and records nothing (no SMTP needed).
"""


def _print(digest: reminders.Digest) -> None:
    message = digest.message
    click.echo(f"To: {message.to}\nSubject: {message.subject}\n\n{message.body}\n{'-' * 72}")


@click.command("remind", help=HELP, short_help="E-mail owners a digest of overdue and soon-due actions.")
@click.option("--dry-run", is_flag=True, help="Print the digests; send and record nothing.")
@with_appcontext
def remind_command(dry_run: bool) -> None:
    """Plan the digests, then send each one and record it once the server has accepted it."""
    if not dry_run and not mail.enabled():
        raise click.ClickException("e-mail is not configured: set AUDITDOCS_SMTP_HOST (see the README). Nothing "
                                   "was sent; `auditdocs remind --dry-run` shows what would be.")
    plan = reminders.plan(local_today())
    end_read()  # no transaction stays open while the SMTP server answers
    for note in plan.skipped:
        click.echo(f"Not sent: {note}", err=True)
    if not plan.digests:
        click.echo("No overdue or soon-due corrective actions with a reachable owner: nothing to send.")
        return
    if dry_run:
        for digest in plan.digests:
            _print(digest)
        click.echo(f"Dry run: {len(plan.digests)} digest(s) shown; nothing was sent or recorded.")
        return
    failed = 0
    for digest in plan.digests:
        try:
            mail.send([digest.message])
        except mail.MailError as exc:
            failed += 1
            click.echo(f"Not sent to {digest.email}: {exc}. It will be sent again on the next run.", err=True)
            continue
        try:
            with write_transaction():
                reminders.record_sent(digest)
        except Exception as exc:  # the mail left but the database refused the record (busy, full): say so
            failed += 1
            click.echo(f"Sent to {digest.email}, but not recorded in the audit trail: {exc.__class__.__name__}: "
                       f"{str(exc).splitlines()[0] if str(exc) else ''}. The next run sends it again.", err=True)
            continue
        click.echo(f"Sent to {digest.email}: {digest.overdue} overdue, {digest.due_soon} due soon.")
    click.echo(f"{len(plan.digests) - failed} of {len(plan.digests)} digest(s) sent.")
    if failed:
        raise click.ClickException(f"{failed} digest(s) could not be sent or recorded; nothing was recorded for them.")


COMMANDS = (remind_command,)
