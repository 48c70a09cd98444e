"""Store commands: verify, checkpoint, gc, backup, restore — thin wrappers over services.integrity and .backup."""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import click
from flask.cli import with_appcontext

from ..extensions import db
from ..provision import initialise
from ..services import audit, integrity
from ..services import backup as bk
from ..services import restore as rs
from ..services.rehash import DEFAULT_SAMPLE, Advance, ScanOptions
from .common import PROGRESS_MIN, progress, writes

BAR_MIN_BYTES = 500_000_000  # a few large objects take long enough for a bar too
BAR_REFRESH_SECONDS = 0.2


@contextlib.contextmanager
def scan_progress(label: str, objects: int, total_bytes: int) -> Iterator[Advance]:
    """The object scan's bar on stderr, with its rate in MB/s (of bytes rehashed) and objects/s."""
    if objects <= PROGRESS_MIN and total_bytes < BAR_MIN_BYTES:
        yield lambda _n, _b: None
        return
    start = last = time.monotonic()
    done = {"objects": 0, "bytes": 0, "unshown": 0}

    def rate(_item: object) -> str:
        elapsed = max(time.monotonic() - start, 1e-3)
        return f"{done['bytes'] / elapsed / 1e6:.0f} MB/s, {done['objects'] / elapsed:.0f} objects/s"

    with click.progressbar(length=objects, label=label, file=sys.stderr, item_show_func=rate) as bar:

        def advance(n: int, hashed: int) -> None:
            nonlocal last
            done["objects"] += n
            done["bytes"] += hashed
            done["unshown"] += n
            now = time.monotonic()
            if now - last >= BAR_REFRESH_SECONDS:  # drawing the bar for every small object would cost more than it
                bar.update(done["unshown"])
                done["unshown"], last = 0, now

        yield advance
        bar.update(done["unshown"])


def _checkpoint(_ctx: click.Context, _param: click.Parameter, value: str | None) -> tuple[int, str] | None:
    """Parse --checkpoint SEQ:HASH into a usage error when malformed."""
    if value is None:
        return None
    try:
        return integrity.parse_checkpoint(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _day(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    """Parse --since YYYY-MM-DD into a usage error when it is not a date."""
    if value is None:
        return None
    try:
        return datetime.strptime(value.strip(), "%Y-%m-%d").date()
    except ValueError:
        example = (date.today() - timedelta(days=1)).isoformat()
        raise click.BadParameter(f"{value!r} is not a date written YYYY-MM-DD (for example {example})") from None


@click.command("verify")
@click.option("--strict", is_flag=True, help="Treat warnings (orphan objects) as errors.")
@click.option("--checkpoint", metavar="SEQ:HASH", callback=_checkpoint,
              help="Prove the audit chain still passes through a head printed earlier by `auditdocs checkpoint`.")
@click.option("--since", metavar="YYYY-MM-DD", callback=_day,
              help="Quick check: rehash only the objects stored or changed since this day (in the organisation's "
                   "time zone) and a random sample of the rest; check every other object's presence and size.")
@click.option("--sample", type=click.IntRange(min=0), metavar="N",
              help=f"With --since: how many other objects to rehash at random (default {DEFAULT_SAMPLE}; 0: none).")
@click.option("--workers", type=click.IntRange(min=1), metavar="N",
              help="Threads hashing objects (default: one per core).")
@with_appcontext
def verify_command(strict: bool, checkpoint: tuple[int, str] | None, since: date | None, sample: int | None,
                   workers: int | None) -> None:
    """Re-hash every stored object against its rows (or, with --since, the new and changed ones and a sample),
    cross-check the rows against the audit trail and walk the audit chain (exit 1 on any error)."""
    if sample is not None and since is None:
        raise click.BadOptionUsage("sample", "--sample goes with --since (without it every object is rehashed)")
    options = ScanOptions(since=since, sample=DEFAULT_SAMPLE if sample is None else sample, workers=workers)
    report = integrity.verify_store(checkpoint, progress, options, scan_progress)
    for line in report.lines(strict):
        click.echo(line)
    if report.failed(strict):
        click.get_current_context().exit(1)


@click.command("checkpoint")
@with_appcontext
def checkpoint_command() -> None:
    """Print the audit chain head as SEQ:HASH, to keep outside the system."""
    seq, digest = audit.head()
    if seq == 0:
        raise click.ClickException("the audit trail is empty: there is no head to keep yet")
    click.echo(f"{seq}:{digest}")
    click.echo("Keep this line outside auditdocs (printed, or e-mailed to your auditor); "
               "`auditdocs verify --checkpoint SEQ:HASH` later proves the trail still passes through it.", err=True)


@click.command("gc")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--min-age", type=click.FloatRange(min=0), default=integrity.GC_MIN_AGE_MINUTES, show_default=True,
              metavar="MINUTES", help="Leave orphans younger than this (an upload may be about to commit its row).")
@with_appcontext
@writes
def gc_command(yes: bool, min_age: float) -> None:
    """Move orphan objects to <data dir>/quarantine/<UTC time>/ (never deletes) and sweep stale temp files."""
    plan = integrity.plan_gc(min_age)
    db.session.rollback()  # never hold the SQLite write lock while someone reads the prompt
    for sha in plan.too_young:
        click.echo(f"Left in place (younger than {min_age:g} minutes): {sha}")
    if plan.moved and not yes:
        click.confirm(f"Move {len(plan.moved)} orphan object(s) to {plan.folder}?", abort=True, err=True)
    result = integrity.run_gc(plan)
    db.session.commit()
    for sha in result.kept:
        click.echo(f"Not moved (referenced, reused or gone since the plan): {sha}")
    if result.moved:
        click.echo(f"Moved {len(result.moved)} orphan object(s) to {result.folder}:")
        for sha, size in result.moved:
            click.echo(f"  {sha}  {integrity.human_size(size)}")
    else:
        click.echo("No orphan objects to move.")
    click.echo(f"Removed {result.temp_removed} stale temp file(s).")


@click.command("backup")
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@with_appcontext
def backup_command(dest: Path) -> None:
    """Copy the database (first), the objects it references, the secret key and a manifest into a new DEST."""
    try:
        manifest = bk.backup(dest, progress)
    except bk.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    for gone in manifest["missing_objects"]:
        click.echo(f"ERROR: object {gone['sha256']} not backed up: {gone['reason']}")
    counts, head = manifest["counts"], manifest["audit_head"]
    click.echo(f"Backup written to {dest}: {manifest['backend']} database "
               f"({integrity.human_size(manifest['database']['size'])}), {counts['documents']} documents, "
               f"{counts['objects']} objects ({integrity.human_size(counts['object_bytes'])}), "
               f"{counts['audit_events']} audit events, chain head {head['seq']}:{head['hash'][:16]}…"
               f"{'' if manifest['secret_key'] else ' (no secret key file: it comes from the environment)'}")
    if manifest["missing_objects"]:
        click.get_current_context().exit(1)


@click.command("restore")
@click.argument("src", type=click.Path(exists=True, file_okay=False, path_type=Path))
@with_appcontext
@writes
def restore_command(src: Path) -> None:
    """Restore a backup into an empty data dir and database (app stopped), migrate, then verify."""
    try:
        manifest = rs.read_manifest(src)
        reason = rs.target_not_empty()
        if reason:
            raise bk.BackupError(f"{reason}: restore needs an empty data dir and database; nothing was changed")
        problems = rs.check_backup(src, manifest, progress)
        for problem in problems:
            click.echo(f"ERROR: {problem}", err=True)
        if problems:
            raise bk.BackupError(f"the backup is damaged ({len(problems)} problem(s)); nothing was restored")
        restored = rs.restore(src, manifest, progress)
    except bk.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Restored the {manifest['backend']} database of {manifest['created_at']} and {restored.objects} "
               f"objects ({integrity.human_size(restored.bytes)}) from {src}.")
    for note in restored.notes:
        click.echo(note)
    summary = initialise()
    click.echo(f"Database migrated to head; catalogue: {summary.clauses_added} clauses added, "
               f"{summary.clauses_updated} updated.")
    rebuilt = rs.rebuild_derived()
    click.echo(f"Rebuilt: {', '.join(rebuilt)}." if rebuilt else "Nothing derived to rebuild yet (no search index).")
    report = integrity.verify_store(None, progress, scan_progress=scan_progress)
    for line in report.lines():
        click.echo(line)
    if report.failed():
        click.get_current_context().exit(1)


COMMANDS = (verify_command, checkpoint_command, gc_command, backup_command, restore_command)
