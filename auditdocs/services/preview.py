"""Previews of stored versions: PDF pages rendered to PNG (capped, cached by content hash), text read escaped-ready,
images passed through; and the access receipt a preview leaves, like a download.

Why a cache keyed by the SHA-256: the same bytes always give the same pages, so a page is rendered once whoever
asks, and the cache is no evidence — it can be deleted at any time and is rebuilt on the next preview. Rendering
runs in a child process (auditdocs/pdfpages.py) with a time budget; the parent kills it past the budget.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import logging
import subprocess
import sys
import threading
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..models import AuditEvent, Document, DocumentVersion, User
from ..storage import CHUNK_SIZE
from ..timeutil import utcnow
from . import audit
from .uploads import get_store

logger = logging.getLogger(__name__)
WORKER = Path(__file__).resolve().parent.parent / "pdfpages.py"
MAX_PAGES = 20  # pages shown; the rest is in the download
MAX_PX = 1600  # the longer side of a page image
TIME_BUDGET = 20.0  # seconds one request may spend rendering
KILL_GRACE = 5.0  # past the budget, a child still drawing one page is killed
TEXT_BYTES = 256 * 1024  # the part of a text file shown
IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
TEXT_TYPES = frozenset({"text/plain", "text/csv", "text/markdown"})
PDF_TYPE = "application/pdf"
RECEIPT_WINDOW = timedelta(minutes=10)  # the page images of one preview leave one receipt, not one each
_RENDERERS = threading.BoundedSemaphore(2)  # at most two children drawing at once per worker process


def page_name(number: int) -> str:
    """The cache file of a page (1-based), as auditdocs/pdfpages.py writes it (that child imports nothing of ours)."""
    return f"page-{number:04d}.png"


def kind_of(mime: str) -> str:
    """How a stored type is previewed: "pdf", "image", "text" or "none" (offered as a download)."""
    if mime == PDF_TYPE:
        return "pdf"
    if mime in IMAGE_TYPES:
        return "image"
    if mime in TEXT_TYPES:
        return "text"
    return "none"


def cache_dir(sha256: str) -> Path:
    """Where the pages of these bytes are kept (under the data dir; safe to delete)."""
    root = Path(current_app.config.get("PREVIEW_CACHE_DIR") or Path(current_app.config["DATA_DIR"]) / "cache"
                / "previews")
    return root / sha256[:2] / sha256


def _limit(name: str, default: float) -> float:
    return float(current_app.config.get(name, default))


@dataclass
class PdfPreview:
    """What the preview page shows for a PDF: its page count, the pages shown, or why not."""

    pages: int = 0
    shown: int = 0
    error: str | None = None  # "encrypted", "broken", "timeout"


def _cached_info(folder: Path) -> dict[str, object] | None:
    try:
        info = json.loads((folder / "info.json").read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) else None


def _run_worker(sha256: str, first: int, last: int) -> dict[str, object] | None:
    """Render pages first..last in a child within the budget; None when the child had to be killed or failed."""
    folder = cache_dir(sha256)
    budget = _limit("PREVIEW_TIME_BUDGET", TIME_BUDGET)
    args = [sys.executable, str(WORKER), str(get_store().path_for(sha256)), str(folder), str(first), str(last),
            str(int(_limit("PREVIEW_MAX_PX", MAX_PX))), str(budget)]
    with _RENDERERS:
        try:
            done = subprocess.run(args, capture_output=True, timeout=budget + KILL_GRACE, check=False)
        except subprocess.TimeoutExpired:
            logger.warning("preview of %s: rendering pages %d-%d passed its time budget", sha256, first, last)
            return None
    if done.returncode != 0:
        logger.error("preview of %s failed: %s", sha256, done.stderr.decode("utf-8", "replace")[-2000:])
        return None
    try:
        summary = json.loads(done.stdout.decode("utf-8"))
    except ValueError:
        return None
    return summary if isinstance(summary, dict) else None


def pdf_preview(sha256: str) -> PdfPreview:
    """The first pages of a PDF, from the cache or rendered now; a broken or protected file says so."""
    cap = int(_limit("PREVIEW_MAX_PAGES", MAX_PAGES))
    folder = cache_dir(sha256)
    info = _cached_info(folder)
    if info is not None and info.get("error"):
        return PdfPreview(error=str(info["error"]))
    if info is not None:
        pages = int(str(info.get("pages", 0)))
        shown = min(pages, cap)
        if all((folder / page_name(n)).exists() for n in range(1, shown + 1)):
            return PdfPreview(pages, shown)
    summary = _run_worker(sha256, 1, cap)
    if summary is None:
        return PdfPreview(error="timeout")
    if summary.get("error"):
        return PdfPreview(error=str(summary["error"]))
    pages = int(str(summary.get("pages", 0)))
    return PdfPreview(pages, min(pages, cap))


def page_image(sha256: str, number: int) -> Path | None:
    """The PNG of one page (1-based) within the cap, rendering it if the first pass ran out of time."""
    cap = int(_limit("PREVIEW_MAX_PAGES", MAX_PAGES))
    if not 1 <= number <= cap:
        return None
    target = cache_dir(sha256) / page_name(number)
    if target.exists():
        return target
    info = _cached_info(cache_dir(sha256))
    if info is None or info.get("error") or number > int(str(info.get("pages", 0))):
        return None
    _run_worker(sha256, number, number)
    return target if target.exists() else None


def verified(sha256: str) -> bool:
    """The stored bytes still match their hash (checked before anything is drawn from them)."""
    digest = hashlib.sha256()
    try:
        with get_store().open(sha256) as fh:
            while chunk := fh.read(CHUNK_SIZE):
                digest.update(chunk)
    except FileNotFoundError:
        return False
    return digest.hexdigest() == sha256


def text_head(sha256: str) -> tuple[str, bool]:
    """The start of a text file decoded as UTF-8 (bad bytes replaced), and whether it was cut."""
    with get_store().open(sha256) as fh:
        head = fh.read(TEXT_BYTES + 1)
    cut = len(head) > TEXT_BYTES
    decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="replace")
    return decoder.decode(head[:TEXT_BYTES], final=not cut), cut


def previewed_recently(version: DocumentVersion, doc: Document, actor: User) -> bool:
    """This person's receipt for previewing this version is a moment old (a page and its images are one preview)."""
    recent = db.session.scalar(select(AuditEvent.id).where(
        AuditEvent.object_type == "document_version", AuditEvent.object_id == f"{doc.code}#{version.number}",
        AuditEvent.action == "version.preview", AuditEvent.actor_id == actor.id,
        AuditEvent.occurred_at >= utcnow() - RECEIPT_WINDOW).limit(1))
    return recent is not None


def record_preview(version: DocumentVersion, doc: Document, actor: User) -> bool:
    """Append a "version.preview" receipt, as a download leaves "version.download", unless one was just written;
    True when one was written (inside the caller's write transaction)."""
    if previewed_recently(version, doc, actor):
        return False
    audit.record("version.preview", "document_version", f"{doc.code}#{version.number}", actor=actor,
                 new={"sha256": version.sha256})
    return True
