"""Read everything one pack prints from the database, once, into plain values (packs.content)."""

from __future__ import annotations

from datetime import datetime

from ..policy import AccessScope
from .content import PackContent, Progress, no_progress
from .spec import PackSpec


def load_content(spec: PackSpec, scope: AccessScope, *, generated_by: str, generated_at: datetime, pack_id: str,
                 progress: Progress = no_progress) -> PackContent:
    """The pack's whole content as the scope may see it; the builder makes no query after this."""
    raise NotImplementedError("packs.load: being written (issue 14)")
