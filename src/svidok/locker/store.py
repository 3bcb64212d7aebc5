"""Preserving one file: read it once, hashing while copying into the blob store.

Runs in worker threads. It touches no database; the caller records the outcome only after
the blob is durable, so a record never points at a blob that is not there.
"""

from __future__ import annotations

import errno
import os
import stat
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

from svidok.locker import mediatype
from svidok.locker.blobs import BlobStore, PendingBlob
from svidok.locker.walk import Candidate, open_file

CHUNK = 1024 * 1024

_local = threading.local()


def _buffer(size: int) -> bytearray:
    # One buffer per worker thread: allocating (and zeroing) a fresh megabyte for every
    # small file cost more than reading the file.
    buffer: bytearray | None = getattr(_local, "buffer", None)
    if buffer is None or len(buffer) != size:
        buffer = bytearray(size)
        _local.buffer = buffer
    return buffer


class StoreError(Exception):
    """Writing to the data folder failed; no file can be stored until it is fixed."""


class DiskFull(StoreError):
    """The blob store's file system is full; the batch stops so it can be resumed later."""


@contextmanager
def writing() -> Iterator[None]:
    """Turn an OSError from writing into the data folder into a :class:`StoreError`."""
    try:
        yield
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise DiskFull("the disk holding the data folder is full; free space and run "
                           "the same ingest again to finish the batch") from exc
        raise StoreError(f"cannot write to the data folder: {exc.strerror or exc}") from exc


@dataclass(frozen=True, slots=True)
class Stored:
    """Read and hashed; the blob waits in ``tmp/`` until the batch publishes it."""

    candidate: Candidate
    blob: PendingBlob
    media_type: str
    stat: os.stat_result
    warning: str | None


@dataclass(frozen=True, slots=True)
class Failed:
    candidate: Candidate
    error: str


def _explain(exc: OSError) -> str:
    code = exc.errno
    if code == errno.ENOENT:
        return "the file vanished before it could be read; nothing was stored"
    if code in (errno.EACCES, errno.EPERM):
        return ("permission denied: the user running Svidok cannot read this file; "
                "grant read access and ingest again")
    if code == errno.ELOOP:
        return "the file was replaced by a symbolic link during ingest; nothing was stored"
    if code == errno.ENAMETOOLONG:
        return "a name in this path is longer than the file system allows"
    if code == errno.EIO:
        return ("input/output error while reading: the disk or medium may be failing; "
                "copy what can be read elsewhere and ingest again")
    name = errno.errorcode.get(code or 0, "error")
    return f"could not read the file: {exc.strerror or exc} ({name})"


def _changed(before: os.stat_result, after: os.stat_result, read: int) -> bool:
    return (read != before.st_size or after.st_size != before.st_size
            or after.st_mtime_ns != before.st_mtime_ns)


class StopFlag(Protocol):
    """A threading or multiprocessing Event: set when the batch is stopping."""

    def is_set(self) -> bool: ...
    def set(self) -> None: ...


class Interrupted(Exception):
    """The batch is stopping; this file was not finished and left nothing behind."""


def store_file(candidate: Candidate, blobs: BlobStore, chunk: int = CHUNK,
               stop: StopFlag | None = None) -> Stored | Failed:
    """Copy one file into the blob store. A problem with the file is returned as
    :class:`Failed`; a problem with the data folder raises :class:`StoreError`."""
    try:
        fd = open_file(candidate.root, candidate.parts)
    except OSError as exc:
        return Failed(candidate, _explain(exc))
    try:
        before = os.fstat(fd)
        if not stat.S_ISREG(before.st_mode):
            return Failed(candidate, "is no longer a regular file; nothing was stored")
        # O_NONBLOCK (so a FIFO swapped in after listing cannot hang the open) has no
        # effect on reading a regular file, so it is left set.
        with writing():
            writer = blobs.writer()
        buffer = _buffer(chunk)
        view = memoryview(buffer)
        head = b""
        read = 0
        try:
            while True:
                try:
                    n = os.readv(fd, [buffer])
                except OSError as exc:
                    writer.abort()
                    return Failed(candidate, _explain(exc))
                if n == 0:
                    break
                if stop is not None and stop.is_set():
                    raise Interrupted
                if not head:
                    head = bytes(view[: min(n, mediatype.SNIFF_BYTES)])
                with writing():
                    writer.write(view[:n])
                read += n
            if _changed(before, os.fstat(fd), read):
                writer.abort()
                return Failed(candidate, "the file changed while it was being read (it may "
                              "still be downloading or copying); ingest it again when it "
                              "is complete")
            with writing():
                blob = writer.finish()
        except BaseException:
            writer.abort()
            raise
    finally:
        os.close(fd)
    warnings = [w for w in (candidate.warning,) if w]
    if read == 0:
        warnings.append("zero-byte file: stored, but check that the copy received is complete")
    return Stored(candidate, blob, mediatype.detect(head), before, "; ".join(warnings) or None)


def store_files(candidates: Sequence[Candidate], blobs: BlobStore,
                stop: StopFlag | None = None
                ) -> tuple[list[Stored | Failed], StoreError | None]:
    """Store a run of files (one task for a worker, so small files do not each pay for a
    round trip through the pool); stops at the first data-folder error or when ``stop``
    is set, returning what it finished."""
    done: list[Stored | Failed] = []
    for candidate in candidates:
        if stop is not None and stop.is_set():
            break
        try:
            done.append(store_file(candidate, blobs, stop=stop))
        except Interrupted:
            break
        except StoreError as exc:
            return done, exc
    return done, None
