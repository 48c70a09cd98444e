"""First-run and upgrade steps shared by `auditdocs init`, `make run` and the tests."""

from __future__ import annotations

from flask_migrate import upgrade

from .extensions import db
from .standards import LoadSummary, load_catalogue


def initialise() -> LoadSummary:
    """Migrate to head and load the catalogue; idempotent and never overwrites admin corrections."""
    upgrade()
    summary = load_catalogue()
    db.session.commit()
    return summary
