"""`auditdocs certificates` and `auditdocs propose-sample`: the programme from the command line."""

from __future__ import annotations

from typing import Any

COMMANDS: tuple[Any, ...] = ()
