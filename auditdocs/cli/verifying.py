"""`auditdocs verify-pack BUNDLE.zip`: check a pack bundle offline against its own manifests.

Exit codes: 0 every file verified, 1 something changed, went missing or was added, 2 not a bundle at all.
"""

from __future__ import annotations

import re
from pathlib import Path

import click
from flask.cli import with_appcontext
from flask_babel import gettext as _

from ..packs.verify import BundleReport, NotABundle, verify_bundle
from .common import progress

MIB = 1024 * 1024
NOT_A_BUNDLE = 2


class NotABundleError(click.ClickException):
    """One line on stderr and exit code 2, as for a usage error: there was nothing to verify."""

    exit_code = NOT_A_BUNDLE


def problem_lines(report: BundleReport) -> list[str]:
    """One line per problem, in the user's language, in a fixed order (the manifest's order within each kind)."""
    lines = []
    for c in report.changed:
        if c.actual_sha256 == "damaged":
            lines.append(_("CHANGED: %(path)s cannot be read from the zip (damaged entry)", path=c.path))
        else:
            lines.append(_("CHANGED: %(path)s (SHA-256 %(actual)s, %(size)s bytes; the manifest says %(expected)s, "
                           "%(expected_size)s bytes)", path=c.path, actual=c.actual_sha256, size=c.actual_size,
                           expected=c.expected_sha256, expected_size=c.expected_size))
    lines += [_("MISSING: %(path)s is listed in manifest.json but not in the bundle", path=p) for p in report.missing]
    lines += [_("UNEXPECTED: %(path)s is in the bundle but not listed in manifest.json", path=p)
              for p in report.unexpected]
    lines += [_("DUPLICATED: %(path)s appears more than once in the zip", path=p) for p in report.duplicated]
    for d in report.disagreements:
        if d.kind == "not_in_csv":
            lines.append(_("MISMATCH: %(path)s is evidence in manifest.json but has no row in evidence-manifest.csv",
                           path=d.path))
        elif d.kind == "csv_only":
            lines.append(_("MISMATCH: evidence-manifest.csv lists %(path)s, which manifest.json does not",
                           path=d.path))
        elif d.kind == "csv_differs":
            lines.append(_("MISMATCH: evidence-manifest.csv and manifest.json give %(path)s different hashes or "
                           "sizes", path=d.path))
        else:
            lines.append(_("MISMATCH: evidence-manifest.csv cannot be read"))
    if report.cover_shows_it is False:
        lines.append(_("COVER: the Word pack's cover does not show the SHA-256 of evidence-manifest.csv (%(sha)s)",
                       sha=report.evidence_manifest_sha256))
    return lines


def _sha256(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """Accept the hash as printed or pasted: any case, spaces between groups."""
    if value is None:
        return None
    digest = "".join(value.split()).lower()
    if not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise click.BadParameter(_("a SHA-256 is 64 hexadecimal digits"))
    return digest


@click.command("verify-pack")
@click.argument("bundle", type=click.Path(path_type=Path))
@click.option("--manifest-sha256", metavar="HASH", callback=_sha256,
              help="The evidence manifest's SHA-256 as printed on the cover or in the pack list, to check the "
                   "bundle against a hash kept outside it.")
@with_appcontext
def verify_pack_command(bundle: Path, manifest_sha256: str | None) -> None:
    """Re-hash every file of a pack bundle (.zip) against its manifest.json and evidence-manifest.csv, and name any
    file that changed, is missing or was added (exit 1; exit 2 when the file is not a pack bundle)."""
    try:
        size = bundle.stat().st_size if bundle.is_file() else 0
        with progress(_("Verifying"), size // MIB) as advance:
            shown = {"mib": 0}

            def tick(done: int, _total: int, _stage: str) -> None:
                mib = min(done // MIB, size // MIB)  # the bar counts the zip's size: near the bytes re-hashed
                if mib > shown["mib"]:
                    advance(mib - shown["mib"])
                    shown["mib"] = mib

            report = verify_bundle(bundle, tick)
    except NotABundle as exc:
        raise NotABundleError(str(exc)) from None
    lines = problem_lines(report)
    if manifest_sha256 and manifest_sha256 != report.evidence_manifest_sha256:
        lines.append(_("MANIFEST: evidence-manifest.csv has SHA-256 %(sha)s, not the %(expected)s given",
                       sha=report.evidence_manifest_sha256 or "?", expected=manifest_sha256))
    for line in lines:
        click.echo(line)
    if lines:
        click.echo(_("FAILED: %(problems)d problem(s) in pack %(pack)s; %(checked)d file(s) checked",
                     problems=len(lines), pack=report.pack_id, checked=report.checked))
        click.get_current_context().exit(1)
    click.echo(_("evidence-manifest.csv SHA-256: %(sha)s (the one on the cover)", sha=report.evidence_manifest_sha256))
    click.echo(_("OK: %(checked)d files verified (pack %(pack)s)", checked=report.checked, pack=report.pack_id))


COMMANDS = (verify_pack_command,)
