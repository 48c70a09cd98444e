"""`auditdocs reindex` (rebuild the search index) and `auditdocs search QUERY [--as EMAIL] [--json]`."""

from __future__ import annotations

import html
import json
import re
import sys
import time
from dataclasses import asdict
from typing import Any

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from ..extensions import db
from ..models import User
from ..policy import AccessScope
from ..search import indexing, service
from ..search.types import KINDS, SORTS, SearchError, SearchQuery, SearchResults
from ..services.users import normalise_email

REINDEX_HELP = """Rebuild the search index from the database: every document version (with its extracted
text), nonconformity, corrective action, risk, due-diligence file, gift and record attachment. The new index
is built in a new directory in batches and swapped in at the end, so search keeps answering meanwhile.
Run it after a restore, when `auditdocs verify` reports the index behind the database, or to recover from a
corrupt index. Text not read yet is indexed by its details; `auditdocs index --pending` reads it."""

SEARCH_HELP = """Search as the web does. Without --as the search sees EVERYTHING (no permission filter, and
the output says so); with --as EMAIL it applies that account's permissions, exactly as the search page would
(an auditor: approved evidence only, no restricted documents not shared with them)."""
_MARK = re.compile(r"</?mark>")


@click.command("reindex", help=REINDEX_HELP, short_help="Rebuild the search index from the database.")
@with_appcontext
def reindex_command() -> None:
    """Rebuild with a progress bar on stderr; print the count and the rate."""
    started = time.monotonic()
    try:
        with click.progressbar(length=max(1, indexing.db_total()), label="Indexing", file=sys.stderr) as bar:
            done = indexing.rebuild(lambda n: bar.update(n - bar.pos))
    except SearchError as exc:
        raise click.ClickException(str(exc.message)) from None
    seconds = max(time.monotonic() - started, 1e-6)
    click.echo(f"Indexed {done} document(s) in {seconds:.1f} s ({done / seconds:.0f}/s); the new index is in use.")


def _scope_of(email: str) -> tuple[AccessScope, str]:
    user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        raise click.ClickException(f"no account with the e-mail {email!r}: see `auditdocs users`")
    return AccessScope.of(user), f"{user.email} ({user.role}{'' if user.is_active else ', disabled'})"


def _plain(snippet_html: str) -> str:
    return html.unescape(_MARK.sub("", snippet_html.replace("<mark>", "«").replace("</mark>", "»")))


def _as_json(results: SearchResults, who: str | None) -> dict[str, Any]:
    hits = [{**asdict(hit), "day": hit.day.isoformat() if hit.day else None} for hit in results.hits]
    return {"as": who, "everything": who is None, "total": results.total, "page": results.page,
            "pages": results.pages, "query": results.query, "corrected": results.corrected,
            "notices": list(results.notices), "notice": results.notice, "hits": hits,
            "facets": {name: [list(pair) for pair in values] for name, values in results.facets.items()}}


@click.command("search", help=SEARCH_HELP, short_help="Search documents and records.")
@click.argument("query", nargs=-1)
@click.option("--as", "as_email", metavar="EMAIL", help="Apply this account's permissions.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (hits, facets, totals).")
@click.option("--kind", "kinds", multiple=True, type=click.Choice(KINDS), help="Only this kind (repeatable).")
@click.option("--all-versions", is_flag=True, help="Also drafts and superseded versions (when permitted).")
@click.option("--sort", type=click.Choice(SORTS), default="relevance", show_default=True)
@click.option("--page", type=click.IntRange(min=1), default=1)
@click.option("--per-page", type=click.IntRange(1, 100), default=10, show_default=True)
@with_appcontext
def search_command(query: tuple[str, ...], as_email: str | None, as_json: bool, kinds: tuple[str, ...],
                   all_versions: bool, sort: str, page: int, per_page: int) -> None:
    """Print the hits (key, title, snippet) and totals, or the same as JSON."""
    scope, who = _scope_of(as_email) if as_email else (None, None)
    try:
        asked = SearchQuery(text=" ".join(query), kinds=frozenset(kinds), include_all_versions=all_versions,
                            sort=sort, page=page, per_page=per_page)  # type: ignore[arg-type]
        results = service.search_for(scope, asked) if scope is not None else service.search_everything(asked)
    except SearchError as exc:
        raise click.ClickException(str(exc.message)) from None
    if as_json:
        click.echo(json.dumps(_as_json(results, who), ensure_ascii=False, indent=2))
        return
    click.echo(f"Searching as {who}: their permissions apply." if who else
               "Searching everything: no --as, so no permission filter applies.")
    if results.notice:
        click.echo(f"Note: {results.notice}")
    click.echo(f"{results.total} result(s); page {results.page} of {max(results.pages, 1)}.")
    for hit in results.hits:
        click.echo(f"{hit.key:<24} {hit.title}")
        if snippet := _plain(hit.snippet_html).strip():
            click.echo(f"{'':<24} {snippet}")
    if results.corrected:
        click.echo(f"Did you mean: {results.corrected}")


COMMANDS = (reindex_command, search_command)
