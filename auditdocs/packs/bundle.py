"""The evidence bundle: the .docx, every evidence file at the version cited, both manifests and a README."""

from __future__ import annotations

from pathlib import Path

from ..storage import BlobStore
from .content import PackContent, Progress, no_progress


def write_bundle(target: Path, *, docx_path: Path, content: PackContent, evidence_manifest: bytes, store: BlobStore,
                 progress: Progress = no_progress) -> None:
    """Write the .zip to target, streaming the evidence from the store; the same inputs give the same bytes."""
    raise NotImplementedError("packs.bundle: being written (issue 14)")
