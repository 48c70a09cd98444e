"""Previewing a version without downloading it: PDF pages as images, images, text; everything else is downloaded.

Why these rules: only bytes the server made (PNG pages) or checked at upload (PNG/JPEG by their magic bytes) are
ever sent inline, with nosniff and a sandboxing CSP; the original of any other type is only ever an attachment
(the download route). Who may preview is exactly who may download, and an auditor's preview leaves a receipt.
"""

from __future__ import annotations

from typing import Any

from flask import Response, abort, make_response, render_template, send_file
from flask.typing import ResponseReturnValue

from ...db import write_transaction
from ...models import Document, DocumentVersion
from ...policy import current_scope
from ...services import blobhealth
from ...services import preview as svc
from ..blobs import send_blob
from ..security import actor
from .blueprint import bp, document_or_404, version_or_404

IMAGE_CSP = "default-src 'none'; sandbox"
PAGE_CACHE = "private, max-age=600"


def _receipt(version: DocumentVersion, doc: Document) -> None:
    """An auditor's preview is recorded like a download (once per preview, not per page image)."""
    if current_scope().records_access and not svc.previewed_recently(version, doc, actor()):
        with write_transaction():
            svc.record_preview(version, doc, actor())


def _inline(resp: Response, filename: str) -> Response:
    """The headers of an image we may show in the page: inline, never sniffed, no script even if opened alone."""
    resp.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Content-Security-Policy"] = IMAGE_CSP
    return resp


def _failed_integrity(sha256: str) -> None:
    with write_transaction():
        blobhealth.record_failure(sha256, "preview", "content does not match its hash")


@bp.route("/<int:doc_id>/versions/<int:number>/preview")
def preview(doc_id: int, number: int) -> ResponseReturnValue:
    """The preview page: what can be shown of this version, with the download beside it."""
    doc = document_or_404(doc_id)
    version = version_or_404(doc, number)
    sha = version.sha256
    ctx: dict[str, Any] = {"doc": doc, "version": version, "kind": svc.kind_of(version.mime_type), "problem": None}
    if blobhealth.failing([sha]):
        ctx["problem"] = "integrity"
    elif ctx["kind"] == "pdf":
        if not svc.cache_dir(sha).joinpath("info.json").exists() and not svc.verified(sha):
            _failed_integrity(sha)
            ctx["problem"] = "integrity"
        else:
            ctx["pdf"] = svc.pdf_preview(sha)
            ctx["problem"] = ctx["pdf"].error
    elif ctx["kind"] == "text":
        if svc.verified(sha):
            ctx["text"], ctx["cut"] = svc.text_head(sha)
        else:
            _failed_integrity(sha)
            ctx["problem"] = "integrity"
    html = render_template("documents/preview.html", **ctx, text_kb=svc.TEXT_BYTES // 1024)
    if ctx["problem"] != "integrity" and ctx["kind"] != "none":
        _receipt(version, doc)
    return html


@bp.route("/<int:doc_id>/versions/<int:number>/preview/page-<int:page>.png")
def preview_page(doc_id: int, number: int, page: int) -> ResponseReturnValue:
    """One rendered page of a PDF (within the cap), from the cache."""
    doc = document_or_404(doc_id)
    version = version_or_404(doc, number)
    if svc.kind_of(version.mime_type) != "pdf" or blobhealth.failing([version.sha256]):
        abort(404)
    path = svc.page_image(version.sha256, page)
    if path is None:
        abort(404)
    _receipt(version, doc)
    resp = send_file(path, mimetype="image/png", conditional=True, etag=True, max_age=600)
    resp.headers["Cache-Control"] = PAGE_CACHE
    return _inline(resp, f"page-{page}.png")


@bp.route("/<int:doc_id>/versions/<int:number>/preview/image")
def preview_image(doc_id: int, number: int) -> ResponseReturnValue:
    """An image version's own bytes (PNG/JPEG, checked by their magic bytes at upload), verified against the hash."""
    doc = document_or_404(doc_id)
    version = version_or_404(doc, number)
    if svc.kind_of(version.mime_type) != "image" or blobhealth.failing([version.sha256]):
        abort(404)
    resp = make_response(send_blob(version.sha256, version.size, version.original_filename, version.mime_type,
                                   before_send=lambda: _receipt(version, doc)))
    if "Content-Disposition" in resp.headers:  # sent (a refused object gets the error page instead)
        _inline(resp, "preview." + version.mime_type.rsplit("/", 1)[-1])
    return resp
