"""Serving stored evidence: always as an attachment, and never as good evidence unless its bytes match their hash.

Small files (and every range request) are hashed in full before the first byte is sent; a mismatch is refused with
a page that says so. Large files are hashed while they stream and the last chunk is held back until the hash is
known: a mismatch cuts the response short of its Content-Length, so no client takes it for a complete download.
Either way the object is marked as failing (the version page and `verify` show it) and the incident is audited.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import time
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import BinaryIO
from urllib.parse import quote

from flask import Response, abort, current_app, request, stream_with_context
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from werkzeug.wsgi import wrap_file

from ..db import write_transaction
from ..services import blobhealth
from ..services.uploads import get_store
from ..storage import CHUNK_SIZE
from .errors import render_error

VERIFY_BEFORE_SEND_BYTES = 16 * 1024 * 1024  # below this a download is hashed before it starts (about 30 ms)
VERIFIED_FOR_SECONDS = 600.0
VERIFIED_REMEMBERED = 512
logger = logging.getLogger(__name__)
_UNSAFE_IN_FALLBACK = re.compile(r"[^A-Za-z0-9 ._()+,-]")


class IntegrityCut(Exception):
    """A streamed download whose bytes did not match their hash: raised to end the response before its end."""


def ascii_fallback(name: str) -> str:
    """A readable ASCII file name for clients that ignore filename* ("documento.pdf", never ".pdf")."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    plain = " ".join(_UNSAFE_IN_FALLBACK.sub("_", plain).split())
    stem, dot, ext = plain.rpartition(".")
    if not dot:
        stem, ext = plain, ""
    if not stem.strip(" ._-"):
        stem = _("document")
    return f"{stem}.{ext}" if ext else stem


def content_disposition(name: str) -> str:
    """attachment with an ASCII fallback and the exact UTF-8 name (RFC 6266 / 5987)."""
    return f"attachment; filename=\"{ascii_fallback(name)}\"; filename*=UTF-8''{quote(name, safe='')}"


def _digest(fh: BinaryIO) -> str:
    sha = hashlib.sha256()
    while chunk := fh.read(CHUNK_SIZE):
        sha.update(chunk)
    return sha.hexdigest()


def _refusal_page() -> ResponseReturnValue:
    return render_error(500, _("This file failed its integrity check and was not sent: the stored copy no longer "
                               "matches the fingerprint recorded when it was uploaded. Your administrator has been "
                               "told and can restore it from a backup."), _("Integrity check failed"))


def _refuse(sha256: str, detail: str) -> ResponseReturnValue:
    """The object failed: mark it, audit the incident once, and tell the person plainly."""
    with write_transaction():
        blobhealth.record_failure(sha256, "download", detail)
    return _refusal_page()


def _verified_chunks(fh: BinaryIO, sha256: str) -> Iterator[bytes]:
    """Stream while hashing; hold the last chunk back until the hash is known."""
    digest = hashlib.sha256()
    held = b""
    try:
        while chunk := fh.read(CHUNK_SIZE):
            if held:
                yield held
            digest.update(chunk)
            held = chunk
        if digest.hexdigest() != sha256:
            with write_transaction():
                blobhealth.record_failure(sha256, "download", "content does not match its hash (found while "
                                                              "streaming; the response was cut short)")
            raise IntegrityCut(sha256)
        yield held
    finally:
        fh.close()


def _verified_recently(sha256: str, identity: tuple[int, int, int]) -> bool:
    """A recent full check of these very bytes (same inode, time and size): resumed downloads ask range after
    range, and each would otherwise read the whole file again."""
    seen: OrderedDict[tuple[str, int, int, int], float] = current_app.extensions.setdefault(
        "auditdocs.verified", OrderedDict())
    when = seen.get((sha256, *identity))
    return when is not None and time.monotonic() - when < VERIFIED_FOR_SECONDS


def _remember_verified(sha256: str, identity: tuple[int, int, int]) -> None:
    seen: OrderedDict[tuple[str, int, int, int], float] = current_app.extensions.setdefault(
        "auditdocs.verified", OrderedDict())
    seen[(sha256, *identity)] = time.monotonic()
    seen.move_to_end((sha256, *identity))
    while len(seen) > VERIFIED_REMEMBERED:
        seen.popitem(last=False)


def _before_send(fh: BinaryIO, before_send: Callable[[], None] | None) -> None:
    """Run the receipt callback; if it fails (a full disk, say) the open file goes with the refusal."""
    if before_send is None:
        return
    try:
        before_send()
    except BaseException:
        fh.close()
        raise


def send_blob(sha256: str, size: int, name: str, mime: str,
              before_send: Callable[[], None] | None = None) -> ResponseReturnValue:
    """An attachment response for a stored object, verified as described above; `before_send` (an access receipt)
    runs once the bytes are known good, or, for a large file, as it starts to stream."""
    try:
        fh = get_store().open(sha256)
    except FileNotFoundError:
        abort(410)
    info = os.fstat(fh.fileno())
    if info.st_size != size:  # the row and the object disagree: not served; verify names the row
        fh.close()
        logger.error("stored object %s holds %d bytes where %d were recorded", sha256, info.st_size, size)
        return _refusal_page()
    identity = (info.st_ino, info.st_mtime_ns, info.st_size)
    limit = int(current_app.config.get("VERIFY_BEFORE_SEND_BYTES", VERIFY_BEFORE_SEND_BYTES))
    resp: Response
    if size <= limit or request.range is not None or _verified_recently(sha256, identity):
        if not _verified_recently(sha256, identity):
            if _digest(fh) != sha256:
                fh.close()
                return _refuse(sha256, "content does not match its hash")
            _remember_verified(sha256, identity)
            if blobhealth.failing([sha256]):
                with write_transaction():
                    blobhealth.record_success(sha256, "download")
        fh.seek(0)
        _before_send(fh, before_send)
        resp = Response(wrap_file(request.environ, fh), mimetype=mime, direct_passthrough=True)
        resp.content_length = size
        resp.set_etag(sha256)
        resp.make_conditional(request, accept_ranges=True, complete_length=size)  # 206 for a range, 304 if cached
    else:
        _before_send(fh, before_send)
        resp = Response(stream_with_context(_verified_chunks(fh, sha256)), mimetype=mime, direct_passthrough=True)
        resp.content_length = size
        resp.set_etag(sha256)
        resp.headers["Accept-Ranges"] = "bytes"
        resp.make_conditional(request)
        if resp.status_code == 304 or request.method == "HEAD":  # the stream will not start: close the file now
            fh.close()
    resp.headers["Content-Disposition"] = content_disposition(name)
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    resp.headers["X-Content-SHA256"] = sha256
    resp.headers["Cache-Control"] = "private, no-store"
    return resp
