"""Originals are written once, atomically, read-only, addressed by their SHA-256."""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from pathlib import Path

import pytest

from svidok.locker.blobs import FilesystemBlobStore


@pytest.fixture
def store(tmp_path: Path) -> FilesystemBlobStore:
    created = FilesystemBlobStore(tmp_path / "blobs")
    created.create()
    return created


def _put(store: FilesystemBlobStore, data: bytes) -> str:
    writer = store.writer()
    writer.write(data)
    return writer.commit().sha256


def test_blob_lands_in_fan_out_folder_read_only(store: FilesystemBlobStore) -> None:
    sha = _put(store, b"witness statement")
    assert sha == hashlib.sha256(b"witness statement").hexdigest()
    path = store.path_of(sha)
    assert path.parent.name == sha[:2] and path.parent.parent == store.objects
    assert path.read_bytes() == b"witness statement"
    assert stat.S_IMODE(path.stat().st_mode) == 0o444
    assert list(store.temp_dir.iterdir()) == []


def test_same_bytes_twice_keep_one_blob(store: FilesystemBlobStore) -> None:
    first = store.writer()
    first.write(b"same")
    assert first.commit().new is True
    second = store.writer()
    second.write(b"same")
    assert second.commit().new is False
    assert list(store.temp_dir.iterdir()) == []


def test_abort_leaves_nothing(store: FilesystemBlobStore) -> None:
    writer = store.writer()
    writer.write(b"half")
    writer.abort()
    assert list(store.temp_dir.iterdir()) == []
    assert not any(p.is_file() for p in store.objects.rglob("*"))


def test_full_disk_during_write_leaves_no_partial_blob(
        store: FilesystemBlobStore, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(fd: int, data: bytes) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    writer = store.writer()
    monkeypatch.setattr(os, "write", full)
    with pytest.raises(OSError, match="No space"):
        writer.write(b"x" * 10)
    writer.abort()
    assert list(store.temp_dir.iterdir()) == []


def test_short_writes_are_completed(store: FilesystemBlobStore,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    real_write = os.write

    def dribble(fd: int, data: bytes) -> int:
        return real_write(fd, bytes(data[:3]))

    monkeypatch.setattr(os, "write", dribble)
    sha = _put(store, b"0123456789")
    assert store.path_of(sha).read_bytes() == b"0123456789"


def test_clean_temp_removes_leftovers_of_a_crash(store: FilesystemBlobStore) -> None:
    (store.temp_dir / "deadbeef.part").write_bytes(b"partial")
    assert store.clean_temp() == 1
    assert list(store.temp_dir.iterdir()) == []


@pytest.mark.parametrize("bad", ["", "../../etc/passwd", "A" * 64, "0" * 63])
def test_hash_from_outside_is_validated(store: FilesystemBlobStore, bad: str) -> None:
    with pytest.raises(ValueError):
        store.path_of(bad)
