"""`auditdocs import-org`: sites and processes from a spreadsheet."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from ..db import write_transaction
from ..services.org_import import MAX_BYTES, MAX_ROWS, ImportRefused, Outcome, Problem, run_import
from .common import writes

HELP = f"""Create or update sites and processes from FILE.csv (a spreadsheet saved as CSV).

\b
Header (names in any case and order):
  type,code,name_es,name_en,parent_code,region,responsible_email,active
  plus, optionally, category (process rows: strategic, operational or support; default operational).
\b
  type               site or process
  code               letters, digits, ".", "_", "-" (up to 40, starting with a letter or digit);
                     unique per type, ignoring case; an existing code is updated
  name_es, name_en   names in Spanish (required) and English (optional)
  parent_code        sites: the site it belongs to (may come later in the file); empty for the
                     central function (head office), the one site without a parent; processes: empty
  region             sites: the region; processes: empty
  responsible_email  the account responsible for the site / owning the process (enabled, not an
                     external auditor); empty for none
  active             yes/no, true/false, 1/0, sí/si, y/n; empty means yes. Nothing is ever deleted:
                     deactivate instead.

\b
Example (UTF-8, with or without BOM; "," or ";" as Excel in Spanish saves it):
  type,code,name_es,name_en,parent_code,region,responsible_email,active,category
  site,SEDE-CENTRAL,Sede Central (Lima),Head Office (Lima),,Lima,rosa@example.org,yes,
  site,UT-CUSCO,Unidad Territorial Cusco,Cusco Regional Unit,SEDE-CENTRAL,Cusco,,yes,
  process,PO-01,Visitas domiciliarias,Home visits,,,,yes,operational

\b
Every row is checked first; if any row is bad, each bad row is listed with its line number and the
reason, and nothing is written (exit code 1). At most {MAX_ROWS:,} rows and {MAX_BYTES // 2**20} MB.
Re-running the same file updates what changed and reports created / updated / unchanged counts.
"""


def _problem_line(problem: Problem) -> str:
    where = f"line {problem.line}" if problem.line else "file"
    return f"  {where}: {problem.message}"


def _summary(outcome: Outcome) -> None:
    would = "would be " if outcome.dry_run else ""
    for label, counts in (("sites", outcome.sites), ("processes", outcome.processes)):
        click.echo(f"{label.capitalize() + ':':<11} {counts.created:>5} {would}created, {counts.updated:>5} "
                   f"{would}updated, {counts.unchanged:>5} unchanged")
    if outcome.dry_run:
        click.echo(f"Dry run: {outcome.rows} rows checked, nothing was written.")
    else:
        click.echo(f"Imported {outcome.rows} rows.")


@click.command("import-org", help=HELP, short_help="Import sites and processes from a CSV file.")
@click.argument("file", metavar="FILE.csv", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the file and show the counts; write nothing.")
@with_appcontext
@writes
def import_org_command(file: Path, dry_run: bool) -> None:
    """Read the file (refusing an over-large one before reading it), check every row, write all or nothing."""
    if file.stat().st_size > MAX_BYTES:
        raise click.ClickException(f"{file.name} is larger than {MAX_BYTES // 2**20} MB; split it. Nothing was "
                                   "imported.")
    data = file.read_bytes()
    try:
        with write_transaction():
            outcome = run_import(data, filename=file.name, dry_run=dry_run)
    except ImportRefused as exc:
        bad_lines = len({p.line for p in exc.problems})
        click.echo(f"{file.name}: refused, nothing was imported ({bad_lines} line(s) with problems):", err=True)
        for problem in exc.problems:
            click.echo(_problem_line(problem), err=True)
        click.get_current_context().exit(1)
    _summary(outcome)


COMMANDS = (import_org_command,)
