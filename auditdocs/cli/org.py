"""`auditdocs import-org`: sites and processes from a spreadsheet."""

from __future__ import annotations

from typing import Any

COMMANDS: tuple[Any, ...] = ()
