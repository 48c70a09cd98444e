"""The pack's .docx: cover, table of contents, coverage, one section per clause, annexes."""

from __future__ import annotations

from pathlib import Path

from .content import PackContent, Progress, no_progress


def write_docx(content: PackContent, manifest_sha256: str, target: Path, *, progress: Progress = no_progress) -> None:
    """Write the pack's .docx to target, the same bytes for the same content."""
    raise NotImplementedError("packs.document: being written (issue 14)")
