"""Content-addressed, write-once storage of originals.

Storing is two steps, so that durability costs two file-system syncs per group of blobs
instead of two fsyncs per file:

1. A writer streams the bytes into ``tmp/``, hashing as it goes, and :meth:`finish` closes
   the file read-only: a *pending* blob, not yet under its name.
2. :meth:`publish` takes many pending blobs: it syncs the file system (their bytes are now on
   disk), renames each to ``sha256/ab/<hash>`` (or drops it if those bytes are already
   there), and syncs again (the names are now on disk).

One level of 256 folders, made up front: a second level (65,536 folders) made every new
blob also create a folder, which cost more than the rename itself, while ext4 and XFS
index large folders well (10 million originals are 40,000 names a folder).

A rename is atomic and happens only after the bytes are durable, so a reader, a crash or a
power cut finds either no blob or the whole blob under a name, never part of one. The locker
records a blob only after ``publish`` returned, so no record points at a missing blob.
Leftover pending files are deleted by :meth:`clean_temp` when the next ingest starts.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import hashlib
import itertools
import os
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

HEX64 = re.compile(r"[0-9a-f]{64}")
READ_ONLY = 0o444


@dataclass(frozen=True, slots=True)
class PendingBlob:
    """Bytes written and hashed, waiting in ``tmp/`` to be published."""

    sha256: str
    size: int
    temp: str


@dataclass(frozen=True, slots=True)
class Blob:
    sha256: str
    size: int
    # False when identical bytes were already stored and this copy was discarded.
    new: bool


class BlobWriter(Protocol):
    def write(self, data: bytes | memoryview) -> None: ...
    def finish(self) -> PendingBlob: ...
    def abort(self) -> None: ...


class BlobStore(Protocol):
    """What the locker needs from a store of originals (filesystem now, S3 later)."""

    def writer(self) -> BlobWriter: ...
    def publish(self, pending: Sequence[PendingBlob]) -> list[Blob]: ...
    def exists(self, sha256: str) -> bool: ...
    def open(self, sha256: str) -> BinaryIO: ...
    def clean_temp(self) -> int: ...


def _check_hash(sha256: str) -> str:
    if not HEX64.fullmatch(sha256):
        raise ValueError("not a lowercase hex SHA-256")
    return sha256


_libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
_syncfs: Callable[[int], int] | None = getattr(_libc, "syncfs", None)
_renameat2: Callable[[int, bytes, int, bytes, int], int] | None = getattr(
    _libc, "renameat2", None)
# Unique temp names without a random-number system call per file: a random prefix, the
# process id (forked processes share the prefix), then a counter (atomic under the GIL).
_TEMP_PREFIX = secrets.token_hex(8)
_temp_numbers = itertools.count()
AT_FDCWD = -100
RENAME_NOREPLACE = 1


def _rename_new(source: str, target: str) -> bool:
    """Rename unless ``target`` exists (one system call where the C library has
    ``renameat2``); False if it existed."""
    if _renameat2 is None:
        if os.path.exists(target):
            return False
        os.rename(source, target)
        return True
    if _renameat2(AT_FDCWD, os.fsencode(source), AT_FDCWD, os.fsencode(target),
                  RENAME_NOREPLACE) == 0:
        return True
    code = ctypes.get_errno()
    if code == errno.EEXIST:
        return False
    if code in (errno.EINVAL, errno.ENOSYS):  # file system without RENAME_NOREPLACE
        if os.path.exists(target):
            return False
        os.rename(source, target)
        return True
    raise OSError(code, os.strerror(code), source)


def _sync_filesystem(folder: Path) -> None:
    """Flush everything written on the file system holding ``folder`` (Linux ``syncfs``)."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        if _syncfs is None:
            os.sync()
        elif _syncfs(fd) != 0:
            code = ctypes.get_errno()
            raise OSError(code, os.strerror(code))
    finally:
        os.close(fd)


class FilesystemBlobWriter:
    def __init__(self, store: FilesystemBlobStore) -> None:
        self._store = store
        self._hash = hashlib.sha256()
        self._size = 0
        name = f"{_TEMP_PREFIX}-{os.getpid()}-{next(_temp_numbers)}.part"
        self._tmp = os.path.join(store.temp_dir, name)
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

    def finish(self) -> PendingBlob:
        if self._fd is None:
            raise ValueError("blob writer is closed")
        try:
            os.fchmod(self._fd, READ_ONLY)
            os.close(self._fd)
            self._fd = None
        except BaseException:
            self.abort()
            raise
        return PendingBlob(self._hash.hexdigest(), self._size, self._tmp)

    def commit(self) -> Blob:
        """Finish and publish this one blob (for callers that store a single file)."""
        pending = self.finish()
        return self._store.publish([pending])[0]

    def abort(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._tmp)


class FilesystemBlobStore:
    def __init__(self, root: Path, fsync: bool = True) -> None:
        self.root = root
        self.fsync = fsync
        self.objects = root / "sha256"
        self.temp_dir = root / "tmp"
        self._objects = str(self.objects)

    def create(self) -> None:
        for folder in (self.root, self.objects, self.temp_dir):
            folder.mkdir(mode=0o700, exist_ok=True)
        for prefix in range(256):
            (self.objects / f"{prefix:02x}").mkdir(mode=0o700, exist_ok=True)

    def _path(self, sha256: str) -> str:
        return os.path.join(self._objects, sha256[:2], sha256)

    def path_of(self, sha256: str) -> Path:
        return Path(self._path(_check_hash(sha256)))

    def writer(self) -> FilesystemBlobWriter:
        return FilesystemBlobWriter(self)

    def publish(self, pending: Sequence[PendingBlob]) -> list[Blob]:
        """Make pending blobs durable under their names; see the module's docstring."""
        if not pending:
            return []
        if self.fsync:
            _sync_filesystem(self.temp_dir)
        published: list[Blob] = []
        renamed = False
        for blob in pending:
            final = self._path(_check_hash(blob.sha256))
            try:
                new = _rename_new(blob.temp, final)
            except FileNotFoundError:
                # Published by an earlier call that was cut short; nothing left to do.
                new = False
            if not new:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(blob.temp)
            renamed = renamed or new
            published.append(Blob(blob.sha256, blob.size, new=new))
        if renamed and self.fsync:
            _sync_filesystem(self.objects)
        return published

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
