"""`auditdocs certificates` and `auditdocs propose-sample`: the programme from the command line."""

from __future__ import annotations

import json
from typing import Any

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from ..extensions import db
from ..models import Certificate
from ..services import ServiceError, sampling
from ..services.sampling import KINDS, MAX_SEED, Proposal

SAMPLE_HELP = """Propose the sites a certification audit of a certificate visits, by IAF MD 1.

\b
With x active sites in the certificate's scope besides the central function (the site without
a parent), the minimum sample is y = ⌈√x⌉ for an initial audit, ⌈0.6 × √x⌉ for a surveillance
audit and ⌈0.8 × √x⌉ for a recertification audit; the central function is audited every time.
Sites never visited by a done audit of the certificate's cycle come first, then the highest
risk (open major nonconformities, high residual bribery risks, evidence gaps), then the code;
at least a quarter of the y sites are drawn at random from the seed. The same seed on the same
data gives the same proposal: pass --seed to reproduce one. Nothing is written: confirm the
sample on the audit's "Site sample" page.

\b
--json prints {"sites_besides_central": x, "minimum_sample": y, "formula", "seed",
"central": code, "sample": [{"code", "reason"}, ...]} (y sites, the central function apart).
Unknown certificate: exit code 1.
"""


@click.command("certificates")
@with_appcontext
def certificates_command() -> None:
    """List the certificates: number, expiry date and certification body, one per line."""
    rows = db.session.scalars(select(Certificate).order_by(Certificate.expires_on, Certificate.number)).all()
    if not rows:
        click.echo("No certificates yet.")
        return
    width = max(len(c.number) for c in rows)
    for c in rows:
        click.echo(f"{c.number:<{width}}  expires {c.expires_on.isoformat()}  {c.body}")


@click.command("propose-sample", help=SAMPLE_HELP, short_help="Propose the sites an audit visits (IAF MD 1).")
@click.option("--certificate", "number", required=True, metavar="NUMBER", help="The certificate's number.")
@click.option("--audit-type", "kind", required=True, type=click.Choice(KINDS), help="Which formula applies.")
@click.option("--seed", type=click.IntRange(0, MAX_SEED), help="Reproduce the proposal of this seed.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@with_appcontext
def propose_sample_command(number: str, kind: str, seed: int | None, as_json: bool) -> None:
    """Compute the proposal (read only) and print it."""
    certificate = sampling.certificate_by_number(number)
    if certificate is None:
        raise click.ClickException(f"no certificate numbered {number!r}: see `auditdocs certificates`")
    try:
        proposal = sampling.propose(certificate, kind, seed)
    except ServiceError as exc:
        raise click.ClickException(str(exc.message)) from None
    if as_json:
        click.echo(json.dumps(as_data(proposal), ensure_ascii=False, indent=2))
        return
    click.echo(f"Certificate {certificate.number} ({certificate.body}), {kind} audit")
    click.echo(f"x = {proposal.x} sites besides the central function; minimum sample {proposal.formula()}")
    click.echo(f"Seed: {proposal.seed} (reproduce with --seed {proposal.seed})")
    click.echo(f"Central function: {proposal.central.code}  {proposal.central.name_es} — audited every time")
    click.echo("Sample:")
    width = max((len(p.site.code) for p in proposal.picks), default=0)
    for p in proposal.picks:
        click.echo(f"  {p.site.code:<{width}}  {p.site.name_es} — {p.reason}")


def as_data(proposal: Proposal) -> dict[str, Any]:
    """The proposal as the JSON output documents it."""
    return {"sites_besides_central": proposal.x, "minimum_sample": proposal.y, "formula": proposal.formula(),
            "seed": proposal.seed, "central": proposal.central.code,
            "sample": [{"code": p.site.code, "reason": str(p.reason)} for p in proposal.picks]}


COMMANDS = (certificates_command, propose_sample_command)
