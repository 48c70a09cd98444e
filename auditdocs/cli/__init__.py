"""The `auditdocs` command group: one module per area, attached to the app by create_app."""

from __future__ import annotations

from flask import Flask

from . import (
    accounts,
    database,
    exporting,
    importing,
    indexing,
    org,
    pack_worker,
    packs,
    programme,
    reminders,
    searching,
    store,
    verifying,
)

AREAS = (database, accounts, store, importing, org, programme, exporting, reminders, indexing, searching, packs,
         verifying, pack_worker)


def register(app: Flask) -> None:
    """Attach every command to app.cli (also reachable as `flask --app auditdocs ...`)."""
    for area in AREAS:
        for command in area.COMMANDS:
            app.cli.add_command(command)
