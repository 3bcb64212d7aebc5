"""Content-addressed, write-once storage of originals.

A blob is streamed to a temporary file on the same file system, hashed as it is written,
fsynced, made read-only and renamed into ``sha256/ab/cd/<hash>``. The rename is atomic, so
a reader or a crash sees either no blob or the whole blob, never part of one. A record in the
database is written only after :meth:`BlobWriter.commit` returned, so no record ever points to
a blob that is not there.
"""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

HEX64 = re.compile(r"[0-9a-f]{64}")
READ_ONLY = 0o444


@dataclass(frozen=True)
class Blob:
    sha256: str
    size: int
    # False when identical bytes were already stored and this copy was discarded.
    new: bool


class BlobWriter(Protocol):
    def write(self, data: bytes | memoryview) -> None: ...
    def commit(self) -> Blob: ...
    def abort(self) -> None: ...


class BlobStore(Protocol):
    """What the locker needs from a store of originals (filesystem now, S3 later)."""

    def writer(self) -> BlobWriter: ...
    def exists(self, sha256: str) -> bool: ...
    def open(self, sha256: str) -> BinaryIO: ...
    def clean_temp(self) -> int: ...


def _check_hash(sha256: str) -> str:
    if not HEX64.fullmatch(sha256):
        raise ValueError("not a lowercase hex SHA-256")
    return sha256


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class FilesystemBlobWriter:
    def __init__(self, store: FilesystemBlobStore) -> None:
        self._store = store
        self._hash = hashlib.sha256()
        self._size = 0
        self._tmp = store.temp_dir / f"{uuid.uuid4().hex}.part"
        self._fd: int | None = os.open(
            self._tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600
        )

    def write(self, data: bytes | memoryview) -> None:
        if self._fd is None:
            raise ValueError("blob writer is closed")
        self._hash.update(data)
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]
        self._size += len(data)

    def commit(self) -> Blob:
        if self._fd is None:
            raise ValueError("blob writer is closed")
        sha = self._hash.hexdigest()
        final = self._store.path_of(sha)
        try:
            if final.exists():
                self.abort()
                return Blob(sha, self._size, new=False)
            if self._store.fsync:
                os.fsync(self._fd)
            os.fchmod(self._fd, READ_ONLY)
            os.close(self._fd)
            self._fd = None
            self._store.ensure_dir(final.parent)
            os.rename(self._tmp, final)
            if self._store.fsync:
                _fsync_dir(final.parent)
        except BaseException:
            self.abort()
            raise
        return Blob(sha, self._size, new=True)

    def abort(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        self._tmp.unlink(missing_ok=True)


class FilesystemBlobStore:
    def __init__(self, root: Path, fsync: bool = True) -> None:
        self.root = root
        self.fsync = fsync
        self.objects = root / "sha256"
        self.temp_dir = root / "tmp"

    def create(self) -> None:
        for folder in (self.root, self.objects, self.temp_dir):
            folder.mkdir(mode=0o700, exist_ok=True)

    def path_of(self, sha256: str) -> Path:
        _check_hash(sha256)
        return self.objects / sha256[:2] / sha256[2:4] / sha256

    def ensure_dir(self, folder: Path) -> None:
        if folder.is_dir():
            return
        for level in (folder.parent, folder):
            try:
                level.mkdir(mode=0o700)
            except FileExistsError:
                continue
            # A new folder's name lives in its parent; sync that so the blob can be found.
            if self.fsync:
                _fsync_dir(level.parent)

    def writer(self) -> FilesystemBlobWriter:
        return FilesystemBlobWriter(self)

    def exists(self, sha256: str) -> bool:
        return self.path_of(sha256).is_file()

    def open(self, sha256: str) -> BinaryIO:
        return self.path_of(sha256).open("rb")

    def clean_temp(self) -> int:
        """Remove leftovers of writes a crash interrupted; call only while holding the lock."""
        removed = 0
        for leftover in self.temp_dir.glob("*.part"):
            leftover.unlink(missing_ok=True)
            removed += 1
        return removed
