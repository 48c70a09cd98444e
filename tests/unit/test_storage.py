"""Unit tests for the content-addressed blob store (auditdocs.storage)."""

from __future__ import annotations

import fcntl
import hashlib
import io
import os
import stat
import time
from pathlib import Path

import pytest

from auditdocs.storage import (
    CHUNK_SIZE,
    BlobStore,
    EmptyUpload,
    StoredBlob,
    UploadTooLarge,
)


@pytest.fixture()
def store(tmp_path: Path) -> BlobStore:
    return BlobStore(tmp_path / "data" / "objects")


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class RecordingStream(io.RawIOBase):
    """A stream that records how much was requested/returned per read."""

    def __init__(self, data: bytes, on_read=None) -> None:
        self._buf = io.BytesIO(data)
        self.requests: list[int] = []
        self.total = 0
        self._on_read = on_read

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        self.requests.append(size)
        if self._on_read is not None:
            self._on_read(self)
        chunk = self._buf.read(size)
        self.total += len(chunk)
        return chunk


def temp_files(store: BlobStore) -> list[Path]:
    return list(store.temp_dir.iterdir()) if store.temp_dir.exists() else []


def test_root_is_created_lazily(store: BlobStore) -> None:
    assert not store.root.exists()
    assert list(store.iter_hashes()) == []
    assert store.sweep_temp() == 0
    assert not store.root.exists()


def test_put_stores_read_only_object(store: BlobStore) -> None:
    data = b"%PDF-1.7 evidence"
    blob = store.put(io.BytesIO(data))
    assert blob == StoredBlob(sha256=sha(data), size=len(data), created=True)
    path = store.path_for(blob.sha256)
    assert path == store.root / blob.sha256[:2] / blob.sha256[2:4] / blob.sha256
    assert path.read_bytes() == data
    assert stat.S_IMODE(path.stat().st_mode) & 0o222 == 0
    assert store.exists(blob.sha256)
    assert store.size_of(blob.sha256) == len(data)
    with store.open(blob.sha256) as fh:
        assert fh.read() == data
    assert temp_files(store) == []


def test_put_dedupes_identical_bytes(store: BlobStore) -> None:
    first = store.put(io.BytesIO(b"same bytes"))
    second = store.put(io.BytesIO(b"same bytes"))
    assert first.created is True
    assert second.created is False
    assert second.sha256 == first.sha256 and second.size == first.size
    assert list(store.iter_hashes()) == [first.sha256]
    assert temp_files(store) == []


def test_put_streams_in_chunks(store: BlobStore) -> None:
    data = os.urandom(CHUNK_SIZE * 2 + 123)
    stream = RecordingStream(data)
    blob = store.put(stream)
    assert blob.sha256 == sha(data) and blob.size == len(data)
    assert max(stream.requests) <= CHUNK_SIZE
    assert all(r > 0 for r in stream.requests)  # never read(-1): whole file in memory
    assert store.verify(blob.sha256)


def test_put_path(store: BlobStore, tmp_path: Path) -> None:
    src = tmp_path / "source.bin"
    src.write_bytes(b"from disk")
    blob = store.put_path(src)
    assert blob.sha256 == sha(b"from disk") and blob.created


def test_exact_limit_is_accepted(store: BlobStore) -> None:
    blob = store.put(io.BytesIO(b"x" * 10), max_bytes=10)
    assert blob.size == 10


def test_too_large_raises_and_leaves_no_temp(store: BlobStore) -> None:
    data = b"y" * (CHUNK_SIZE * 3)
    stream = RecordingStream(data)
    with pytest.raises(UploadTooLarge) as excinfo:
        store.put(stream, max_bytes=1000)
    assert excinfo.value.limit == 1000
    assert stream.total <= 1001  # stopped reading right after the limit
    assert temp_files(store) == []
    assert list(store.iter_hashes()) == []


def test_empty_raises_and_leaves_nothing(store: BlobStore) -> None:
    with pytest.raises(EmptyUpload):
        store.put(io.BytesIO(b""))
    assert temp_files(store) == []
    assert list(store.iter_hashes()) == []


def test_any_exception_removes_temp(store: BlobStore) -> None:
    def explode(stream: RecordingStream) -> None:
        if len(stream.requests) == 2:
            raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        store.put(RecordingStream(b"z" * (CHUNK_SIZE + 5), on_read=explode))
    assert temp_files(store) == []
    assert list(store.iter_hashes()) == []


def test_verify_detects_flipped_byte(store: BlobStore) -> None:
    blob = store.put(io.BytesIO(b"evidence that must not change"))
    assert store.verify(blob.sha256) is True
    path = store.path_for(blob.sha256)
    path.chmod(0o644)
    raw = bytearray(path.read_bytes())
    raw[3] ^= 0x01
    path.write_bytes(bytes(raw))
    assert store.verify(blob.sha256) is False


def test_verify_missing_is_false(store: BlobStore) -> None:
    assert store.verify("a" * 64) is False


def test_open_missing_raises(store: BlobStore) -> None:
    with pytest.raises(FileNotFoundError):
        store.open("b" * 64)
    with pytest.raises(FileNotFoundError):
        store.size_of("b" * 64)
    assert store.exists("b" * 64) is False


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "abc",
        "A" * 64,
        "g" * 64,
        "a" * 63,
        "a" * 65,
        "../" + "a" * 61,
        "a" * 62 + "/x",
        " " + "a" * 63,
        "a" * 64 + "\n",
    ],
)
def test_path_for_rejects_bad_hashes(store: BlobStore, bad: str) -> None:
    with pytest.raises(ValueError):
        store.path_for(bad)
    with pytest.raises(ValueError):
        store.exists(bad)


def test_iter_hashes_skips_temp_and_junk(store: BlobStore) -> None:
    blobs = {store.put(io.BytesIO(f"doc {i}".encode())).sha256 for i in range(3)}
    store.temp_dir.mkdir(parents=True, exist_ok=True)
    (store.temp_dir / ("c" * 64)).write_bytes(b"temp")
    some = next(iter(blobs))
    (store.path_for(some).parent / "notes.txt").write_text("junk")
    (store.root / "ab" / "cd").mkdir(parents=True, exist_ok=True)
    (store.root / "ab" / "cd" / ("e" * 64)).write_text("misplaced")  # wrong fan-out dir
    (store.root / "README").write_text("junk")
    assert set(store.iter_hashes()) == blobs


def _make_temp(store: BlobStore, name: str, age: float) -> Path:
    store.temp_dir.mkdir(parents=True, exist_ok=True)
    path = store.temp_dir / name
    path.write_bytes(b"partial upload")
    stamp = time.time() - age
    os.utime(path, (stamp, stamp))
    return path


def test_sweep_temp_removes_only_stale_unlocked(store: BlobStore) -> None:
    stale = _make_temp(store, "stale.part", age=120)  # its writer is gone: no need to wait a day
    fresh = _make_temp(store, "fresh.part", age=10)  # within the grace: a writer may be about to lock it
    locked = _make_temp(store, "locked.part", age=3 * 86400)
    with locked.open("rb") as holder:
        fcntl.flock(holder.fileno(), fcntl.LOCK_EX)
        assert store.sweep_temp() == 1
        assert not stale.exists()
        assert fresh.exists()
        assert locked.exists()
    assert store.sweep_temp() == 1  # lock released: now it goes
    assert not locked.exists()
    assert fresh.exists()
    assert store.sweep_temp(max_age_seconds=0) == 1
    assert temp_files(store) == []


def test_sweep_does_not_touch_upload_in_progress(store: BlobStore) -> None:
    seen: list[int] = []

    def sweep_midway(stream: RecordingStream) -> None:
        if len(stream.requests) == 2:
            assert len(temp_files(store)) == 1
            seen.append(store.sweep_temp(max_age_seconds=0))
            assert len(temp_files(store)) == 1

    data = b"w" * (CHUNK_SIZE + 10)
    blob = store.put(RecordingStream(data, on_read=sweep_midway))
    assert seen == [0]
    assert store.verify(blob.sha256)
    assert temp_files(store) == []


def test_quarantine_moves_not_deletes(store: BlobStore, tmp_path: Path) -> None:
    data = b"suspicious evidence"
    blob = store.put(io.BytesIO(data))
    dest = tmp_path / "quarantine" / "2024"
    moved = store.quarantine(blob.sha256, dest)
    assert moved == dest / blob.sha256
    assert moved.read_bytes() == data
    assert not store.exists(blob.sha256)
    assert list(store.iter_hashes()) == []
    # Same bytes quarantined again never overwrite the first copy.
    store.put(io.BytesIO(data))
    again = store.quarantine(blob.sha256, dest)
    assert again != moved
    assert moved.read_bytes() == data and again.read_bytes() == data


def test_quarantine_missing_raises(store: BlobStore, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        store.quarantine("d" * 64, tmp_path / "q")


def _age(path: Path, seconds: float = 7200) -> None:
    old = time.time() - seconds
    os.utime(path, (old, old))


def test_commit_of_existing_bytes_refreshes_their_mtime(store: BlobStore) -> None:
    """An old orphan reused by a new upload must look fresh to gc's age check until the row commits."""
    first = store.put(io.BytesIO(b"reused evidence"))
    path = store.path_for(first.sha256)
    _age(path)
    again = store.put(io.BytesIO(b"reused evidence"))
    assert again.created is False
    assert time.time() - path.stat().st_mtime < 60
    assert stat.S_IMODE(path.stat().st_mode) == 0o444
    assert path.read_bytes() == b"reused evidence"
    assert temp_files(store) == []


def test_commit_stores_its_copy_when_the_object_vanishes_meanwhile(store: BlobStore, monkeypatch) -> None:
    """gc quarantined the object between the writer's look and its touch: the writer stores its own copy."""
    first = store.put(io.BytesIO(b"moved away"))
    path = store.path_for(first.sha256)
    real_utime = os.utime

    def moved_by_gc(target, *args, **kwargs):
        if Path(target) == path:
            path.unlink()
        return real_utime(target, *args, **kwargs)

    monkeypatch.setattr(os, "utime", moved_by_gc)
    again = store.put(io.BytesIO(b"moved away"))
    assert again.created is True
    assert path.read_bytes() == b"moved away"
    assert stat.S_IMODE(path.stat().st_mode) == 0o444
    assert temp_files(store) == []


def test_commit_replaces_an_object_it_may_not_touch(store: BlobStore, monkeypatch) -> None:
    """Another owner's object (after a restore as another user): replaced by this identical, fresh copy."""
    first = store.put(io.BytesIO(b"restored by root"))
    path = store.path_for(first.sha256)
    _age(path)
    inode = path.stat().st_ino

    def not_owner(*_args, **_kwargs):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "utime", not_owner)
    again = store.put(io.BytesIO(b"restored by root"))
    assert again.created is False
    assert path.stat().st_ino != inode
    assert time.time() - path.stat().st_mtime < 60
    assert path.read_bytes() == b"restored by root"
    assert temp_files(store) == []
