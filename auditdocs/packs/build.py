"""One pack from inputs to file: load once, write the .docx, and for a bundle stream the evidence beside it.

Why one function for the CLI, the worker thread and `auditdocs worker`: the same inputs and generation metadata must
give the same bytes whichever way a pack was asked for.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from flask import current_app
from flask_babel import force_locale

from ..models import User
from ..policy import CAPABILITIES, AccessScope
from ..storage import BlobStore, hash_file
from . import bundle, document, load, manifest
from .content import Progress, no_progress
from .spec import PackSpec, pack_identifier

# The operator at the server's console builds from everything approved, restricted documents included, read only.
# user_id 0 is no account (ids start at 1): it only makes the scope's conditions apply instead of seeing nothing.
OPERATOR = AccessScope(user_id=0, capabilities=frozenset(CAPABILITIES))
OPERATOR_NAME = "auditdocs (console)"


def generated_by_of(user: User) -> str:
    """The author line of a pack a person built: their name and e-mail, as the audit trail names them."""
    return f"{user.name} <{user.email}>"


@dataclass(frozen=True)
class PackResult:
    """What a build produced: the identifier and the hashes the pack list and the audit trail record."""

    pack_id: str
    path: Path
    file_name: str
    file_sha256: str
    size: int
    docx_sha256: str
    manifest_sha256: str
    evidence_files: int
    evidence_bytes: int


def file_stem(spec: PackSpec, pack_id: str) -> str:
    """"ISO-9001-2015_ISO-37001-2016_PK-…": the standards and the identifier, safe on every file system."""
    names = "_".join(code.replace(" ", "-").replace(":", "-") for code in spec.standards)
    return f"{names}_{pack_id}"


def _store() -> BlobStore:
    store: BlobStore = current_app.extensions["auditdocs.store"]
    return store


def build_pack(spec: PackSpec, scope: AccessScope, *, generated_by: str, generated_at: datetime, out_dir: Path,
               progress: Progress = no_progress) -> PackResult:
    """Build the pack into out_dir (the .docx, or the .zip bundle holding it); nothing half-written is left there."""
    pack_id = pack_identifier(spec, generated_at, generated_by)
    stem = file_stem(spec, pack_id)
    out_dir.mkdir(parents=True, exist_ok=True)
    with force_locale(spec.lang):
        content = load.load_content(spec, scope, generated_by=generated_by, generated_at=generated_at,
                                    pack_id=pack_id, progress=progress)
        evidence_manifest = manifest.evidence_manifest_bytes(content.evidence)
        manifest_sha = hashlib.sha256(evidence_manifest).hexdigest()
        with tempfile.TemporaryDirectory(dir=out_dir, prefix=".building-") as work:
            docx_path = Path(work) / f"{stem}.docx"
            document.write_docx(content, manifest_sha, docx_path, progress=progress)
            docx_sha, _ = hash_file(docx_path)
            if spec.bundle:
                built = Path(work) / f"{stem}.zip"
                bundle.write_bundle(built, docx_path=docx_path, content=content,
                                    evidence_manifest=evidence_manifest, store=_store(), progress=progress)
            else:
                built = docx_path
            file_sha, size = hash_file(built)
            final = out_dir / built.name
            os.replace(built, final)
    return PackResult(pack_id=pack_id, path=final, file_name=final.name, file_sha256=file_sha, size=size,
                      docx_sha256=docx_sha, manifest_sha256=manifest_sha, evidence_files=len(content.evidence),
                      evidence_bytes=sum(f.size for f in content.evidence))
