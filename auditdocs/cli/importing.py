"""`auditdocs import DIR`: move a shared drive into the register; the work is in services.importer."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from ..extensions import db
from ..models.documents import KINDS
from ..services import import_plan, importer
from ..services.import_plan import Plan, Summary

HELP = """Import every file under DIR as controlled documents (one document per file, revisions as versions).

\b
Naming rules (from the file name; a --clauses CSV overrides them):
  PR-SAF-003 Visitas domiciliarias v4.docx -> code PR-SAF-003, title "Visitas domiciliarias", label v4
  - code: a leading token like PR-SAF-003 (1-5 letters, then 1-3 parts of 1-8 letters/digits joined
    by "-"), upper-cased, separated from the title by a space, "_" or " - ".
  - no code: the code is IMP-<TITLE SLUG>-<8-hex hash of folder and title>, the title is the name
    without extension; stable, so a re-run finds the same document (the dry run shows it).
  - revision marks at the end of the name: v4, _v2, -v2, v2.1, Rev. 3, rev3, R3, (v2), versión 3.
    Files differing only by the mark (same code; or same title in the same folder when there is
    no code) become versions of one document, oldest mark first (no mark sorts first), each
    labelled as written.
  - kind: the CSV's kind, else --kind, else by code prefix: PR procedure, PO/POL policy,
    FO/FR/F form, RG/REG record, IT work_instruction, anything else evidence.
  - language: the CSV's, else "en" only when the title has more English words than Spanish
    words and accents, else "es".
  - skipped silently: hidden files and folders (.*), Office locks (~$*), Thumbs.db,
    desktop.ini, $RECYCLE.BIN, __MACOSX. Symbolic links are never followed: one that
    points outside DIR (or nowhere) is reported as rejected.

\b
--clauses FILE.csv: header path_or_code,code,title,clauses[,kind,language] (',' or ';'
delimited). path_or_code is a path relative to DIR or a document code; non-empty code/title
replace the derived ones; clauses are ';'-separated refs with their edition, e.g.
"ISO 9001:2015 7.5.3; ISO 37001:2016 8.7". Any error in the file stops the import before
anything is written. A document that already exists (same code) keeps its metadata: it only
gets versions for new bytes and the clauses it lacks.

\b
Every file is validated like a web upload (read, hashed, checked and fsynced before any
database lock), with the same audit events. Checked files are written 50 to a transaction,
each in its own savepoint, so a refused file loses only itself. Bytes already stored as a
version of any document are skipped as duplicates, so a re-run, after an interruption too,
continues where the last one stopped. Exit code: 0 when nothing was rejected,
1 when some files were rejected, 2 for usage errors.
"""


@click.command("import", help=HELP, short_help="Import a folder tree of documents (shared drive).")
@click.argument("folder", metavar="DIR", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--kind", type=click.Choice(KINDS), help="Kind for every new document (instead of by code prefix).")
@click.option("--clauses", "mapping", metavar="FILE.csv", help="CSV mapping files/codes to code, title, clauses.",
              type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--as", "as_email", metavar="EMAIL", help="Uploader and owner (default: the first admin).")
@click.option("--approve-as", "approver_email", metavar="EMAIL",
              help="Approve every imported version as this person (not the uploader). Default: leave drafts.")
@click.option("--dry-run", is_flag=True, help="Show the plan and what would be rejected; write nothing.")
@with_appcontext
def import_command(folder: Path, kind: str | None, mapping: Path | None, as_email: str | None,
                   approver_email: str | None, dry_run: bool) -> None:
    """Parse options, run the importer with a progress bar, print the summary."""
    folder = folder.resolve()
    data_dir = Path(current_app.config["DATA_DIR"]).resolve()
    if folder == data_dir or data_dir in folder.parents or folder in data_dir.parents:
        raise click.BadParameter(f"{folder} holds or is inside the data folder {data_dir}; import a copy of the "
                                 "shared drive from elsewhere", param_hint="'DIR'")
    try:
        rows = import_plan.load_mapping(mapping) if mapping else []
        uploader_id, approver_id = importer.resolve_actors(as_email, approver_email)
    except import_plan.SetupError as exc:
        db.session.rollback()
        raise click.BadParameter(str(exc.message), param_hint=f"'{exc.option}'") from None
    db.session.commit()
    plan = import_plan.plan_import(folder, rows=rows, kind=kind)
    label = "Checking" if dry_run else "Importing"
    with click.progressbar(length=plan.file_count, label=label, file=sys.stderr) as bar:
        summary = importer.run_import(plan, uploader_id=uploader_id, approver_id=approver_id,
                                      dry_run=dry_run, progress=bar.update)
    if dry_run:
        _print_plan(plan, summary)
    _print_summary(folder, summary, approver_email)
    if summary.having("rejected") or summary.stopped:
        click.get_current_context().exit(1)


def _print_plan(plan: Plan, summary: Summary) -> None:
    """The dry run's plan: each document with its versions and what would happen to each file."""
    by_rel = {r.rel: r for r in summary.results}
    click.echo(f"Plan ({plan.file_count} files, {len(plan.documents)} documents):")
    for doc in plan.documents:
        state = "exists, new versions appended" if doc.code in summary.existing else "new"
        clauses = f"; clauses: {', '.join(doc.clauses)}" if doc.clauses else ""
        click.echo(f"  {doc.code}  {doc.title}  ({doc.kind}, {doc.language}; {state}{clauses})")
        for f in doc.files:
            result = by_rel[f.rel]
            what = {"imported": "import", "duplicate": f"skip: duplicate of {result.detail}",
                    "rejected": f"reject: {result.detail}"}[result.status]
            click.echo(f"    {f.label or '-':<10} {f.rel}  [{what}]")


def _print_summary(folder: Path, summary: Summary, approver_email: str | None) -> None:
    """Counts, duplicates, notes and rejections (one per line, with the reason)."""
    would = "would be " if summary.dry_run else ""
    imported, duplicates, rejected = (summary.having(s) for s in ("imported", "duplicate", "rejected"))
    if duplicates and not summary.dry_run:
        click.echo("Skipped as duplicate (these bytes are already a stored version):")
        for r in duplicates:
            click.echo(f"  {r.rel}  =  {r.detail}")
    for r in imported:
        if r.detail.startswith("left as draft"):
            click.echo(f"Note: {r.rel} ({r.code} {r.label}) {r.detail}")
    for code, refs in summary.mapped:
        click.echo(f"Clauses {would}added to existing {code}: {', '.join(refs)}")
    for warning in summary.warnings:
        click.echo(f"Warning: {warning}")
    approved = sum(1 for r in imported if r.detail == "approved")
    state = (f"{approved} approved by {approver_email}" if approver_email and not summary.dry_run
             else "approved as they are imported" if approver_email else "drafts awaiting approval")
    counts = [(f"documents {would}created", len(summary.created), ""),
              (f"versions {would}imported", len(imported), f"  ({state})"),
              ("skipped as duplicate", len(duplicates), ""), (f"{would}rejected", len(rejected), ""),
              ("ignored", summary.ignored, "  (hidden and system files, links inside DIR)")]
    width = max(len(name) for name, _n, _x in counts)
    click.echo(f"{'Dry run of' if summary.dry_run else 'Import from'} {folder}:")
    for name, n, extra in counts:
        click.echo(f"  {name + ':':<{width + 1}} {n:>5}{extra}")
    if rejected:
        click.echo(f"Rejected ({len(rejected)}):")
        for r in rejected:
            click.echo(f"  {r.rel}: {r.detail}")
        click.echo(f"{len(rejected)} file(s) {would}rejected; the others are not affected. Fix or remove the "
                   "rejected files and run the import again: files already imported are skipped.")
    if summary.stopped:
        click.echo(f"STOPPED before the end: {summary.stopped}")
    if summary.dry_run:
        click.echo("Dry run: nothing was written.")


COMMANDS = (import_command,)
