"""`auditdocs export KIND`: a register as CSV or XLSX, the same spec the web download uses (services.exports).

Why a temporary file beside FILE then a rename: a script that reads FILE must never find half of it — after a full
disk, a crash or Ctrl+C, FILE is either the previous one or the whole new one. Later registers add their kind by
calling services.exports.register(...); this command lists whatever is registered.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select

from ..extensions import db
from ..models import Site
from ..policy import CAPABILITIES, AccessScope
from ..services import exports
from ..timeutil import local_today
from .common import PROGRESS_MIN

# The operator at the server's console reads every register, as the backup does; read only.
OPERATOR = AccessScope(user_id=None, capabilities=frozenset(CAPABILITIES))

HELP = """Export a register (KIND) as CSV or XLSX to FILE, with the same columns as the web download.

\b
KIND: nonconformities (one row per nonconformity), actions (one row per corrective action),
due-diligence (one row per due-diligence file), gifts (one row per gift or hospitality entry),
risks (one row per bribery risk: each risk's approved state, as auditors see it); later
registers add theirs.
--format: csv (UTF-8 with a byte-order mark, so Excel shows accents) or xlsx; when omitted,
taken from FILE's extension. --out - writes CSV to standard output (without the byte-order
mark, for pipes).
--status: nonconformities: open, in_progress, closed or not_closed; actions: the action's
own status (planned, in_progress, implemented, effective, not_effective, cancelled).
due-diligence: in_progress, decided, pending (not decided) or a decision (proceed,
proceed_with_conditions, do_not_proceed); gifts: recorded, pending_approval, approved, rejected;
risks: approved or retired (the retired risks, which the register leaves out).
--site CODE: only that site and the sites under it (for actions: their nonconformity's site;
for risks: that site only, as on the register page).

\b
Headers and labels follow the terminal's language (LANG=es_PE.UTF-8 for Spanish). A text cell
that a spreadsheet would run as a formula (starting with =, +, -, @, tab or CR) is prefixed with
an apostrophe. FILE is written beside itself under a temporary name and renamed when complete:
it is never left half-written. Bad arguments: exit code 2 and nothing is written.

\b
Example:
  auditdocs export nonconformities --format xlsx --out /srv/exports/ncs.xlsx --status not_closed
"""


class KindType(click.ParamType[exports.Register[Any], Any]):
    """The registered kinds, read when the command runs (registers join at app creation, after import)."""

    name = "KIND"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> exports.Register[Any]:
        if isinstance(value, exports.Register):
            return value
        spec = exports.KINDS.get(str(value))
        if spec is None:
            self.fail(f"{value!r} is not one of {', '.join(sorted(exports.KINDS)) or 'the registered kinds'}",
                      param, ctx)
        return spec


def _format(fmt: str | None, out: str) -> str:
    if fmt is None:
        fmt = Path(out).suffix.lower().lstrip(".")
        if out == "-" or fmt not in exports.FORMATS:
            raise click.UsageError("say --format csv or --format xlsx (FILE's extension does not tell)")
    if out == "-" and fmt != "csv":
        raise click.BadParameter("only CSV can go to standard output: give a file name for XLSX", param_hint="--out")
    return fmt


def _target(out: str) -> Path | None:
    """The file to write (None for standard output), refused before anything is written if it cannot be."""
    if out == "-":
        return None
    path = Path(out).expanduser()
    if path.is_dir():
        raise click.BadParameter(f"{out} is a directory; name a file in it", param_hint="--out")
    if not path.parent.is_dir():
        raise click.BadParameter(f"the directory {path.parent} does not exist", param_hint="--out")
    return path.absolute()


def _site_id(code: str | None) -> int | None:
    if code is None:
        return None
    site_id = db.session.scalar(select(Site.id).where(func.lower(Site.code) == code.strip().lower()))
    if site_id is None:
        raise click.BadParameter(f"no site with the code {code!r}", param_hint="--site")
    return int(site_id)


@contextlib.contextmanager
def _bar(total: int) -> Iterator[Callable[[int], None] | None]:
    """A progress bar on stderr for large registers (stdout may carry the CSV itself)."""
    if total <= PROGRESS_MIN:
        yield None
        return
    with click.progressbar(length=total, label="Exporting", file=sys.stderr) as bar:
        yield bar.update


@contextlib.contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """A temporary file beside `path`, renamed onto it only when the block ends without an error."""
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    os.close(fd)
    temp = Path(name)
    try:
        yield temp
        with temp.open("rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


@click.command("export", help=HELP, short_help="Export a register as CSV or XLSX.")
@click.argument("spec", metavar="KIND", type=KindType())
@click.option("--format", "fmt", type=click.Choice(exports.FORMATS), help="csv or xlsx (default: from FILE).")
@click.option("--out", required=True, metavar="FILE", help="Where to write; - for standard output (CSV only).")
@click.option("--status", metavar="STATUS", help="Only rows with this status (see above).")
@click.option("--site", "site_code", metavar="CODE", help="Only this site and the sites under it.")
@with_appcontext
def export_command(spec: exports.Register[Any], fmt: str | None, out: str, status: str | None,
                   site_code: str | None) -> None:
    """Check every argument, then stream the rows into a temporary file and rename it onto FILE."""
    fmt = _format(fmt, out)
    if status is not None and status not in spec.statuses:
        raise click.BadParameter(f"{status!r} is not {spec.status_help}", param_hint="--status")
    target = _target(out)
    filters = spec.cli_filters(status, _site_id(site_code))
    today = local_today()
    columns = spec.columns(today)
    total = spec.count(OPERATOR, filters, today)
    rows = spec.rows(OPERATOR, filters, today)
    with _bar(total) as advance:
        if target is None:
            stream = sys.stdout.buffer  # exact UTF-8 whatever the terminal's encoding
            for chunk in exports.iter_csv(columns, rows, bom=False, progress=advance):
                stream.write(chunk.encode("utf-8"))
            stream.flush()
            return
        with replacing(target) as temp:
            if fmt == "csv":
                with temp.open("w", encoding="utf-8", newline="") as fh:
                    for chunk in exports.iter_csv(columns, rows, progress=advance):
                        fh.write(chunk)
            else:
                exports.write_xlsx(columns, rows, str(temp), title=str(spec.title), progress=advance)
    click.echo(f"Exported {total} {spec.kind} to {target}.")


COMMANDS = (export_command,)
