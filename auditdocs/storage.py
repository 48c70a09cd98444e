"""Content-addressed blob store for audit evidence (ISO 9001 7.5.3).

Why: documented information must never be lost or silently changed, and
identical bytes should be stored exactly once.  Objects live at
``<root>/ab/cd/<sha256>`` and are read-only; uploads are streamed to
``<root>/tmp/`` first and only renamed into place once complete and fsynced.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import os
import re
import secrets
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

CHUNK_SIZE = 1024 * 1024
HASH_CHUNK = 256 * 1024  # as fast as larger reads from the page cache, and less memory per object in flight
OBJECT_MODE = 0o444
TEMP_DIR_NAME = "tmp"
TEMP_SUFFIX = ".part"
TEMP_GRACE_SECONDS = 60.0

_HASH_RE = re.compile(r"[0-9a-f]{64}")


class UploadTooLarge(Exception):
    """Raised when a stream exceeds ``max_bytes``, so callers can answer 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"upload exceeds the limit of {limit} bytes")
        self.limit = limit


class StoreUnwritable(OSError):
    """The store could not take the bytes: disk full, quota reached, file too large for the filesystem, or I/O."""

    @property
    def out_of_space(self) -> bool:
        """Space (or a size limit) rather than a failing device: waiting or freeing space helps."""
        return self.errno in OUT_OF_SPACE


OUT_OF_SPACE = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
UNWRITABLE = OUT_OF_SPACE | {errno.EIO}


@contextlib.contextmanager
def _writing() -> Iterator[None]:
    """Report a full or failing disk as StoreUnwritable (keeping errno), anything else as it is."""
    try:
        yield
    except StoreUnwritable:
        raise
    except OSError as exc:
        if exc.errno in UNWRITABLE:
            raise StoreUnwritable(exc.errno, exc.strerror) from exc
        raise


class EmptyUpload(Exception):
    """Raised for a zero-byte stream, because empty evidence proves nothing."""

    def __init__(self) -> None:
        super().__init__("upload is empty")


@dataclass(frozen=True)
class TempFile:
    """A file in the temp area: its size, age and whether a live writer still holds it."""

    name: str
    size: int
    age_seconds: float
    locked: bool


@dataclass(frozen=True)
class StoredBlob:
    """Result of a put, so callers know the address and whether it was new."""

    sha256: str
    size: int
    # False when identical bytes were already stored.  Two workers racing with the
    # same new bytes may both see True (same content, so nothing is lost).
    created: bool


def _fsync_dir(path: Path) -> None:
    """Fsync a directory so a rename/creation inside it survives a crash."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _makedirs_durable(path: Path) -> None:
    """Create missing directories and fsync each parent, so they survive a crash."""
    missing: list[Path] = []
    current = path
    while not current.exists():
        missing.append(current)
        current = current.parent
    for directory in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another worker was faster
            directory.mkdir()
        _fsync_dir(directory.parent)


def _sorted_entries(path: str | Path) -> list[os.DirEntry[str]]:
    """A directory's entries by name; the type comes with the listing on Linux file systems (no stat each)."""
    with os.scandir(path) as entries:
        return sorted(entries, key=lambda entry: entry.name)


def hash_file(path: Path, buffer: bytearray | None = None) -> tuple[str, int]:
    """SHA-256 and size of a file in one streaming pass, read into one buffer (pass one to reuse it across files):
    no copy and no allocation per chunk, and hashlib lets go of the GIL on chunks this large, so several threads
    hash on several cores."""
    digest, size = hashlib.sha256(), 0
    if buffer is None:
        buffer = bytearray(HASH_CHUNK)
    view = memoryview(buffer)
    with Path(path).open("rb", buffering=0) as stream:
        while n := stream.readinto(buffer):
            digest.update(view[:n])
            size += n
    return digest.hexdigest(), size


class BlobStore:
    """Store blobs by SHA-256 so evidence is deduplicated and tamper-evident."""

    def __init__(self, root: Path) -> None:
        """Remember the root only; directories are created lazily on first write."""
        self.root = Path(root)
        self.temp_dir = self.root / TEMP_DIR_NAME

    # -- addressing -------------------------------------------------------

    def path_for(self, sha256: str) -> Path:
        """Map a hash to its object path, refusing anything that is not a hash."""
        if not isinstance(sha256, str) or not _HASH_RE.fullmatch(sha256):
            raise ValueError(f"not a lowercase hex sha256: {sha256!r}")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def exists(self, sha256: str) -> bool:
        """Tell whether an object is stored, to skip redundant work."""
        return self.path_for(sha256).is_file()

    def open(self, sha256: str) -> BinaryIO:
        """Open an object read-only for streaming; FileNotFoundError if missing."""
        return self.path_for(sha256).open("rb")

    def size_of(self, sha256: str) -> int:
        """Return the stored size without reading the object."""
        return self.path_for(sha256).stat().st_size

    def iter_hashes(self) -> Iterator[str]:
        """Yield every stored object hash in sorted order, for audits and integrity sweeps (verify merges it with
        rows sorted alike). One directory listing at a time; no stat per object (the listing tells files apart)."""
        if not self.root.is_dir():
            return
        for level1 in _sorted_entries(self.root):
            if level1.name == TEMP_DIR_NAME or not level1.is_dir():
                continue
            for level2 in _sorted_entries(level1.path):
                if not level2.is_dir():
                    continue
                for obj in _sorted_entries(level2.path):
                    name = obj.name
                    if (
                        _HASH_RE.fullmatch(name)
                        and name[:2] == level1.name
                        and name[2:4] == level2.name
                        and obj.is_file()
                    ):
                        yield name

    # -- writing ----------------------------------------------------------

    def writer(self, max_bytes: int | None = None) -> BlobWriter:
        """Open a hashing temp file in the store; the caller commits or discards it."""
        return BlobWriter(self, max_bytes)

    def put(self, stream: BinaryIO, max_bytes: int | None = None) -> StoredBlob:
        """Stream bytes into the store atomically, never holding them all in memory."""
        w = self.writer(max_bytes)
        try:
            while True:
                want = CHUNK_SIZE
                if max_bytes is not None:
                    # Read at most one byte past the limit: enough to detect it.
                    want = max(1, min(CHUNK_SIZE, max_bytes - w.size + 1))
                chunk = stream.read(want)
                if not chunk:
                    break
                w.write(chunk)
            return w.commit()
        except BaseException:
            w.discard()
            raise

    def put_path(self, path: Path, max_bytes: int | None = None) -> StoredBlob:
        """Store a local file, e.g. for imports and migrations."""
        with Path(path).open("rb") as stream:
            return self.put(stream, max_bytes=max_bytes)

    # -- integrity and housekeeping ------------------------------------------

    def verify(self, sha256: str) -> bool:
        """Re-hash an object to prove it is unchanged; False if missing or altered."""
        try:
            actual, _size = hash_file(self.path_for(sha256))
        except FileNotFoundError:
            return False
        return secrets.compare_digest(actual, sha256)

    def _temp_entries(self) -> Iterator[tuple[Path, int, os.stat_result]]:
        """Each regular temp file with an open descriptor (closed after the caller's step) and its stat."""
        if not self.temp_dir.is_dir():
            return
        for entry in self.temp_dir.iterdir():
            try:
                fd = os.open(entry, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
            except OSError:  # vanished meanwhile, or a symlink
                continue
            try:
                info = os.fstat(fd)
                if stat.S_ISREG(info.st_mode):
                    yield entry, fd, info
            finally:
                os.close(fd)

    @staticmethod
    def _writer_alive(fd: int) -> bool:
        """A writer holds an exclusive lock on its temp file until it commits or discards it."""
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False

    def temp_files(self) -> list[TempFile]:
        """What sits in the temp area: uploads in progress and leftovers of interrupted ones."""
        now = time.time()
        return [TempFile(entry.name, info.st_size, max(0.0, now - info.st_mtime), self._writer_alive(fd))
                for entry, fd, info in self._temp_entries()]

    def sweep_temp(self, max_age_seconds: float = TEMP_GRACE_SECONDS) -> int:
        """Delete temp files whose writer is gone (no lock on them), once older than a short grace period.

        The grace covers the instant between a writer creating its file and locking it; a crashed writer's lock
        goes with its process, so its leftovers are removed at the next start-up or gc, not a day later."""
        removed = 0
        now = time.time()
        for entry, fd, info in self._temp_entries():
            if now - info.st_mtime < max_age_seconds or self._writer_alive(fd):
                continue
            with contextlib.suppress(FileNotFoundError):
                entry.unlink()
                removed += 1
        return removed

    def quarantine(self, sha256: str, dest: Path) -> Path:
        """Move a suspect object aside for investigation; evidence is never deleted."""
        source = self.path_for(sha256)
        if not source.is_file():
            raise FileNotFoundError(source)
        dest = Path(dest)
        _makedirs_durable(dest)
        target = dest / sha256
        counter = 1
        while target.exists():  # never overwrite an earlier quarantined copy
            target = dest / f"{sha256}.{counter}"
            counter += 1
        os.replace(source, target)
        _fsync_dir(dest)
        _fsync_dir(source.parent)
        return target


class BlobWriter:
    """A temp file in the store that hashes and counts as it is written (also a Werkzeug upload stream)."""

    def __init__(self, store: BlobStore, max_bytes: int | None = None) -> None:
        """Create the temp file (never named after the client's file) and lock it against the sweeper."""
        self.store = store
        self.max_bytes = max_bytes
        self.placed = False  # these bytes were renamed into the store (a failed commit must withdraw them)
        self.stored_mtime_ns: int | None = None  # their time then: another upload reusing them refreshes it
        with _writing():
            _makedirs_durable(store.temp_dir)
        self.path = store.temp_dir / f"{secrets.token_hex(16)}{TEMP_SUFFIX}"
        with _writing():
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        self._file = os.fdopen(fd, "w+b")
        self._digest = hashlib.sha256()
        self.size = 0
        self._sealed = False
        self._synced = False
        self.result: StoredBlob | None = None

    def write(self, data: bytes) -> int:
        """Append bytes, refusing to grow past the limit."""
        if self._sealed:
            raise ValueError("blob writer is sealed")
        self._synced = False
        self.size += len(data)
        if self.max_bytes is not None and self.size > self.max_bytes:
            self.discard()
            raise UploadTooLarge(self.max_bytes)
        self._digest.update(data)
        with _writing():
            return self._file.write(data)

    def seek(self, offset: int, whence: int = 0) -> int:
        """Werkzeug rewinds a finished part; after that the content is sealed."""
        self._sealed = True
        return self._file.seek(offset, whence)

    def tell(self) -> int:
        return self._file.tell()

    def read(self, n: int = -1) -> bytes:
        self._sealed = True
        return self._file.read(n)

    def flush(self) -> None:
        with _writing():
            self._file.flush()

    def sync(self) -> None:
        """Flush the bytes to disk now, so the later commit is only a rename (short under a database lock)."""
        with _writing():
            self._file.flush()
            os.fsync(self._file.fileno())
        self._synced = True

    @property
    def sha256(self) -> str:
        """Hash of everything written so far."""
        return self._digest.hexdigest()

    @property
    def closed(self) -> bool:
        return self._file.closed

    def commit(self) -> StoredBlob:
        """Fsync and move into place (or, if the bytes were already stored, refresh their mtime and drop the temp)."""
        if self.result is not None:
            return self.result
        if self._file.closed:
            raise ValueError("blob writer was discarded")
        if self.size == 0:
            self.discard()
            raise EmptyUpload()
        try:
            if not self._synced:
                self.sync()
            sha256 = self.sha256
            final = self.store.path_for(sha256)
            reuse = self._touch_existing(final)
            with _writing():
                if reuse == "touched":
                    self.path.unlink()
                else:
                    os.chmod(self._file.fileno(), OBJECT_MODE)
                    _makedirs_durable(final.parent)
                    os.replace(self.path, final)
                    self.placed, self.stored_mtime_ns = True, os.fstat(self._file.fileno()).st_mtime_ns
                    _fsync_dir(final.parent)
            created = reuse == "absent"
        except BaseException:
            self.discard()
            raise
        self._file.close()  # releases the flock
        self.result = StoredBlob(sha256=sha256, size=self.size, created=created)
        return self.result

    @staticmethod
    def _touch_existing(final: Path) -> str:
        """Refresh the mtime of stored identical bytes, so gc's age check never takes them for an old orphan.

        "touched": reuse them. "absent" (or just quarantined by gc): store this copy. "foreign" (another owner's
        file, its time cannot be set): replace it with this copy of the same bytes.
        """
        try:
            os.utime(final)
        except FileNotFoundError:
            return "absent"
        except PermissionError:
            return "foreign"
        return "touched"

    def discard(self) -> None:
        """Remove the temp file; safe to call twice or after commit."""
        if self.result is None:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
        if not self._file.closed:
            with contextlib.suppress(OSError):  # close without flushing: the bytes are unwanted, and may not fit
                self._file.raw.close()

    def close(self) -> None:
        """Closing without commit discards (Werkzeug closes request files at the end)."""
        self.discard()
