"""`auditdocs pack`: an audit-ready Word pack (or its evidence bundle) built at the console, as the web's worker does.

Why the same build function as the worker: a pack rebuilt at the console with the same inputs and `--generated-at`
must give the same bytes as the one an auditor downloaded, so anyone can check it was not altered.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select

from ..extensions import db
from ..models import User
from ..packs import spec as pack_spec
from ..packs.build import OPERATOR, OPERATOR_NAME, build_pack, generated_by_of
from ..packs.content import Progress
from ..policy import AccessScope
from ..services import audit
from .common import writes

HELP = """Build an audit-ready Word pack for one standard, or both as an integrated pack.

\b
--standard: "ISO 9001:2015" or "ISO 37001:2016" (or their short names); twice for an
integrated pack joined through the cross-map.
--clause NUMBER: only these clauses, each with its sub-clauses (8.5 includes 8.5.1 ...).
--audit ID: one audit of the programme (its sites and processes, and its last day as the
period's end); or --site CODE (repeatable): those sites and the sites under them.
--from/--to DATE: the audit period (both days included; default: the year up to --to).
--lang es|en: the pack's language. --bundle: a .zip with the .docx, every evidence file at
the version cited, evidence-manifest.csv, manifest.json and a README on checking the hashes.
--generated-at ISO-DATETIME (or the SOURCE_DATE_EPOCH variable) fixes the generation time:
the same inputs and time give the same bytes and the same pack identifier.
--as EMAIL: build what that account may see (an auditor's pack); default: the console
operator, who sees every approved document.

\b
FILE is written beside itself under a temporary name and appears only when complete; an
existing FILE is never replaced (a pack is evidence): choose another name.

\b
Example:
  auditdocs pack --standard "ISO 37001:2016" --clause 8.2 --from 2026-01-01 --to 2026-06-30 \\
      --lang es --bundle --out /srv/packs/antisoborno-8.2.zip
"""


def generation_time(given: datetime | None) -> datetime:
    """--generated-at, else SOURCE_DATE_EPOCH (reproducible builds' convention), else now; aware UTC, whole seconds."""
    if given is not None:
        moment = given if given.tzinfo else given.replace(tzinfo=UTC)
    elif os.environ.get("SOURCE_DATE_EPOCH", "").strip():
        raw = os.environ["SOURCE_DATE_EPOCH"].strip()
        if not raw.isdigit():
            raise click.BadParameter(f"SOURCE_DATE_EPOCH must be whole seconds since 1970, not {raw!r}")
        moment = datetime.fromtimestamp(int(raw), UTC)
    else:
        moment = datetime.now(UTC)
    return moment.astimezone(UTC).replace(microsecond=0)


def _target(out: str, bundle: bool) -> Path:
    """The file to write, refused before any work if it cannot be written or already exists."""
    path = Path(out).expanduser().absolute()
    wanted = ".zip" if bundle else ".docx"
    if path.suffix.lower() != wanted:
        raise click.BadParameter(f"a {'bundle' if bundle else 'pack'} is a {wanted} file: name FILE *{wanted}",
                                 param_hint="--out")
    if path.is_dir():
        raise click.BadParameter(f"{out} is a directory; name a file in it", param_hint="--out")
    if not path.parent.is_dir():
        raise click.BadParameter(f"the directory {path.parent} does not exist", param_hint="--out")
    if path.exists():
        raise click.BadParameter(f"{out} exists; a pack is never written over another: choose another name",
                                 param_hint="--out")
    return path


def _builder(email: str | None) -> tuple[AccessScope, str, User | None]:
    """The scope the pack is built with and the name printed as its author."""
    if email is None:
        return OPERATOR, OPERATOR_NAME, None
    user = db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    if user is None or not user.active:
        raise click.BadParameter(f"no active account {email!r}", param_hint="--as")
    return AccessScope.of(user), generated_by_of(user), user


@contextmanager
def _bars() -> Iterator[Progress]:
    """One bar per stage on stderr (stdout stays for the result line); a stage's total is known when it starts."""
    state: dict[str, object] = {}

    def report(done: int, total: int, stage: str) -> None:
        bar = state.get("bar")
        if state.get("stage") != stage:
            if bar is not None:
                bar.__exit__(None, None, None)  # type: ignore[attr-defined]
            bar = click.progressbar(length=max(total, 1), label=f"{stage:<9}", file=sys.stderr)
            bar.__enter__()
            state.update(stage=stage, bar=bar, done=0)
        step = done - int(state["done"])  # type: ignore[call-overload]
        if step > 0:
            bar.update(step)  # type: ignore[attr-defined]
            state["done"] = done

    try:
        yield report
    finally:
        bar = state.get("bar")
        if bar is not None:
            bar.__exit__(None, None, None)  # type: ignore[attr-defined]


@click.command("pack", help=HELP, short_help="Build an audit-ready Word pack or evidence bundle.")
@click.option("--standard", "standards", multiple=True, required=True, metavar="CODE", help="A standard (twice: both).")
@click.option("--clause", "clauses", multiple=True, metavar="NUMBER", help="Only this clause and its sub-clauses.")
@click.option("--audit", "audit_id", type=int, metavar="ID", help="One audit of the programme.")
@click.option("--site", "sites", multiple=True, metavar="CODE", help="Only this site and those under it.")
@click.option("--from", "date_from", type=click.DateTime(["%Y-%m-%d"]), metavar="DATE", help="First day.")
@click.option("--to", "date_to", type=click.DateTime(["%Y-%m-%d"]), metavar="DATE", help="Last day.")
@click.option("--lang", type=click.Choice(pack_spec.LANGS), default="es", show_default=True,
              help="The pack's language.")
@click.option("--bundle", is_flag=True, help="A .zip with the evidence files and manifests.")
@click.option("--generated-at", "generated_at", type=click.DateTime(["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S",
                                                                     "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"]),
              metavar="ISO-DATETIME", help="The generation time printed (default: SOURCE_DATE_EPOCH or now).")
@click.option("--as", "as_email", metavar="EMAIL", help="Build what this account may see.")
@click.option("--out", required=True, metavar="FILE", help="The .docx (or .zip with --bundle) to write.")
@with_appcontext
@writes
def pack_command(standards: tuple[str, ...], clauses: tuple[str, ...], audit_id: int | None, sites: tuple[str, ...],
                 date_from: datetime | None, date_to: datetime | None, lang: str, bundle: bool,
                 generated_at: datetime | None, as_email: str | None, out: str) -> None:
    """Check every input, build into a temporary directory beside FILE, rename it onto FILE, record it."""
    target = _target(out, bundle)
    moment = generation_time(generated_at)
    scope, author, user = _builder(as_email)
    spec = pack_spec.resolve(standards, clauses=clauses, audit_id=audit_id, sites=sites,
                             date_from=_day(date_from), date_to=_day(date_to), lang=lang, bundle=bundle)
    db.session.rollback()  # nothing read so far needs holding: the build reads in its own snapshot
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=f".{target.name}.") as work:
        with _bars() as report:
            result = build_pack(spec, scope, generated_by=author, generated_at=moment, out_dir=Path(work),
                                progress=report)
        try:
            os.link(result.path, target)  # fails if FILE appeared meanwhile: never written over
        except FileExistsError:
            raise click.ClickException(f"{out} appeared while the pack was built; nothing was written over it") \
                from None
        except OSError:
            shutil.copyfile(result.path, target)
    audit.record("pack.build", "pack", result.pack_id, actor=user, actor_label=None if user else OPERATOR_NAME,
                 new={"spec": spec.to_json(), "file": target.name, "file_sha256": result.file_sha256,
                      "docx_sha256": result.docx_sha256, "manifest_sha256": result.manifest_sha256,
                      "evidence_files": result.evidence_files, "via": "cli"})
    db.session.commit()
    click.echo(f"Pack {result.pack_id} written to {target} ({result.size:,} bytes, {result.evidence_files} evidence "
               f"files).")
    click.echo(f"SHA-256 {result.file_sha256}  {target.name}")
    click.echo(f"Evidence manifest SHA-256 {result.manifest_sha256}")


def _day(value: datetime | None) -> date | None:
    return value.date() if value is not None else None


COMMANDS = (pack_command,)
