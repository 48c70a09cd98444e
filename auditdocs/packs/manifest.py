"""The bundle's manifests: evidence-manifest.csv (its hash is on the cover) and manifest.json (everything else)."""

from __future__ import annotations

from .content import EvidenceFile


def evidence_manifest_bytes(files: list[EvidenceFile]) -> bytes:
    """evidence-manifest.csv: path, document, version, size, SHA-256 of each evidence file, in path order."""
    raise NotImplementedError("packs.manifest: being written (issue 14)")
