"""Render PDF pages to PNG files in a child process: `python pdfpages.py SOURCE OUT_DIR FIRST LAST MAX_PX SECONDS`.

Why a separate process run by file path: PDFium must not be called from several threads at once, a hostile or
huge PDF must not hold a web worker past its time budget (the parent kills the child), and a crash in the C
library ends only the child. It imports nothing of the app. Each page goes to OUT_DIR/page-NNNN.png through a temp
file and a rename, so a reader never sees half a PNG; OUT_DIR/info.json says how many pages the file has, or why
it could not be opened. The summary is printed as one JSON line.
"""

from __future__ import annotations

import json
import os
import resource
import struct
import sys
import tempfile
import time
import zlib
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium

MEMORY_LIMIT = 1536 * 1024 * 1024  # address space of the child: a decompression bomb fails instead of swapping
MAX_SCALE = 3.0  # a tiny page is not blown up past three times its size
PASSWORD_ERROR = 4  # FPDF_ERR_PASSWORD


def png(width: int, height: int, stride: int, pixels: bytes) -> bytes:
    """An RGB PNG of the rows (no library needed: a zlib stream of filter-0 scanlines)."""
    row = width * 3
    raw = b"".join(b"\x00" + pixels[y * stride:y * stride + row] for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 6))
            + chunk(b"IEND", b""))


def write_atomic(path: Path, data: bytes) -> None:
    """Write to a temp file beside the target, then rename: readers see the whole file or none."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def page_name(number: int) -> str:
    """The cache file of a page (1-based)."""
    return f"page-{number:04d}.png"


def render(source: str, out_dir: Path, first: int, last: int, max_px: int, seconds: float) -> dict[str, Any]:
    """Render pages first..last (1-based, inclusive, clipped to the document) until the time budget runs out."""
    deadline = time.monotonic() + seconds
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        pdf = pdfium.PdfDocument(source)
    except pdfium.PdfiumError as exc:
        info: dict[str, Any] = {"pages": 0, "error": "encrypted" if getattr(exc, "err_code", None) == PASSWORD_ERROR
                                else "broken"}
        write_atomic(out_dir / "info.json", json.dumps(info).encode())
        return {**info, "rendered": []}
    try:
        count = len(pdf)
        write_atomic(out_dir / "info.json", json.dumps({"pages": count, "error": None}).encode())
        rendered: list[int] = []
        for number in range(max(first, 1), min(last, count) + 1):
            if rendered and time.monotonic() > deadline:
                break  # at least one page per run: a page asked for alone is always drawn (or the parent kills us)
            target = out_dir / page_name(number)
            if target.exists():
                rendered.append(number)
                continue
            page = pdf[number - 1]
            try:
                width, height = page.get_size()
                scale = min(MAX_SCALE, max_px / max(width, height, 1.0))
                bitmap = page.render(scale=scale, rev_byteorder=True)
                try:
                    data = png(bitmap.width, bitmap.height, bitmap.stride, bytes(bitmap.buffer))
                finally:
                    bitmap.close()
            except (pdfium.PdfiumError, ValueError):
                break  # a page that cannot be drawn: the ones before it are shown, the rest is left to the download
            finally:
                page.close()
            write_atomic(target, data)
            rendered.append(number)
        return {"pages": count, "error": None, "rendered": rendered}
    finally:
        pdf.close()


def main(argv: list[str]) -> int:
    """Entry point of the child process."""
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    source, out_dir, first, last, max_px, seconds = argv
    summary = render(source, Path(out_dir), int(first), int(last), int(max_px), float(seconds))
    sys.stdout.write(json.dumps(summary) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
