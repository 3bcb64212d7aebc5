"""Finding the files under an ingest root, without ever leaving it.

Folders are opened one component at a time relative to the root with ``O_NOFOLLOW``, so a
folder swapped for a symbolic link mid-ingest cannot lead outside, and paths longer than
``PATH_MAX`` still work. Names are kept as the exact bytes the file system gave.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass

DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NOCTTY | os.O_NONBLOCK


def display(raw: bytes) -> tuple[str, bytes | None]:
    """Readable text for a name, plus its exact bytes when they are not valid UTF-8."""
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError:
        return raw.decode("utf-8", "backslashreplace"), raw


@dataclass(frozen=True, slots=True)
class Found:
    """Something found under an ingest root, named by its exact path bytes."""

    root: str
    # Where it was seen, relative to the root, as the file system names it.
    seen_parts: tuple[bytes, ...]

    @property
    def root_text(self) -> str:
        return display(os.fsencode(self.root))[0]

    @property
    def rel_path_bytes(self) -> bytes:
        """The exact path: two names that read alike are still two files."""
        return b"/".join(self.seen_parts)

    @property
    def rel_path(self) -> str:
        return display(self.rel_path_bytes)[0] or "."

    @property
    def name(self) -> str:
        return display(self.seen_parts[-1])[0] if self.seen_parts else self.root_text


@dataclass(frozen=True, slots=True)
class Candidate(Found):
    """A regular file found under a root, to be stored."""

    # Path of the bytes to read, relative to the root (for a followed link: its target).
    parts: tuple[bytes, ...]
    size: int
    mtime_ns: int
    ctime_ns: int
    atime_ns: int
    warning: str | None = None


@dataclass(frozen=True, slots=True)
class Skipped(Found):
    """Something under a root that is not stored, and why; ``failed`` if it is a problem."""

    reason: str
    failed: bool = False


def open_dir(root: str, parts: tuple[bytes, ...]) -> int:
    """Open the folder ``root/parts`` one component at a time, refusing symbolic links."""
    fd = os.open(root, DIR_FLAGS)
    try:
        for part in parts:
            child = os.open(part, DIR_FLAGS, dir_fd=fd)
            os.close(fd)
            fd = child
    except BaseException:
        os.close(fd)
        raise
    return fd


def open_file(root: str, parts: tuple[bytes, ...]) -> int:
    """Open the file ``root/parts`` for reading, never following a symbolic link."""
    parent = open_dir(root, parts[:-1])
    try:
        return os.open(parts[-1], FILE_FLAGS, dir_fd=parent)
    finally:
        os.close(parent)


def _special_kind(mode: int) -> str | None:
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode) or stat.S_ISLNK(mode):
        return None
    return "not a regular file"


def _candidate(root: str, parts: tuple[bytes, ...], seen: tuple[bytes, ...],
               st: os.stat_result, warning: str | None = None) -> Candidate:
    return Candidate(root=root, seen_parts=seen, parts=parts, size=st.st_size,
                     mtime_ns=st.st_mtime_ns, ctime_ns=st.st_ctime_ns, atime_ns=st.st_atime_ns,
                     warning=warning)


def _follow_link(root: str, parts: tuple[bytes, ...]) -> Candidate | Skipped:
    """Follow a symbolic link only when it ends at a regular file inside the root."""
    root_b = os.fsencode(root)
    link = os.path.join(root_b, *parts)
    try:
        target = os.path.realpath(link, strict=True)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return Skipped(root, parts, "symbolic link loop (it leads back to itself); skipped")
        return Skipped(root, parts, "broken symbolic link (its target does not exist)")
    except RuntimeError:  # Python < 3.13 reports some loops this way
        return Skipped(root, parts, "symbolic link loop (it leads back to itself); skipped")
    prefix = root_b.rstrip(b"/") + b"/"
    if not target.startswith(prefix):
        return Skipped(root, parts, "symbolic link leads outside the ingest root; not followed")
    target_parts = tuple(p for p in target[len(prefix):].split(b"/") if p)
    try:
        st = os.stat(target, follow_symlinks=False)
    except OSError as exc:
        return Skipped(root, parts, f"cannot read symbolic link target: {exc.strerror}", True)
    if stat.S_ISDIR(st.st_mode):
        return Skipped(root, parts, "symbolic link to a folder; its files are ingested from "
                       "their real place, not through the link")
    kind = _special_kind(st.st_mode)
    if kind:
        return Skipped(root, parts, f"symbolic link to {kind}; skipped")
    shown = display(b"/".join(target_parts))[0]
    return _candidate(root, target_parts, parts, st, f"symbolic link to {shown} inside the root")


def scan(root: str, only: bytes | None = None) -> Iterator[Candidate | Skipped]:
    """Yield every file under ``root`` (or just ``root/only``) in a stable order."""
    if only is not None:
        for found in _entry(root, (), only):
            if not isinstance(found, tuple):
                yield found
        return
    stack: list[tuple[bytes, ...]] = [()]
    while stack:
        folder = stack.pop()
        try:
            fd = open_dir(root, folder)
        except OSError as exc:
            yield Skipped(root, folder, f"cannot open folder: {exc.strerror}", failed=True)
            continue
        listed: list[tuple[bytes, os.stat_result | OSError]] = []
        try:
            with os.scandir(fd) as entries:
                for entry in entries:
                    name = os.fsencode(entry.name)
                    try:
                        listed.append((name, entry.stat(follow_symlinks=False)))
                    except OSError as exc:
                        listed.append((name, exc))
        except OSError as exc:
            yield Skipped(root, folder, f"cannot list folder: {exc.strerror}", failed=True)
            continue
        finally:
            os.close(fd)
        subfolders: list[tuple[bytes, ...]] = []
        for name, st in sorted(listed, key=lambda pair: pair[0]):
            for found in _classify(root, (*folder, name), st):
                if isinstance(found, tuple):
                    subfolders.append(found)
                else:
                    yield found
        stack.extend(reversed(subfolders))


def _entry(root: str, folder: tuple[bytes, ...], name: bytes
           ) -> Iterator[Candidate | Skipped | tuple[bytes, ...]]:
    try:
        fd = open_dir(root, folder)
        try:
            st: os.stat_result | OSError = os.stat(name, dir_fd=fd, follow_symlinks=False)
        finally:
            os.close(fd)
    except OSError as exc:
        st = exc
    yield from _classify(root, (*folder, name), st)


def _classify(root: str, parts: tuple[bytes, ...], st: os.stat_result | OSError
              ) -> Iterator[Candidate | Skipped | tuple[bytes, ...]]:
    """A folder to descend into (as its parts), a file to store, or a reason to skip."""
    if isinstance(st, FileNotFoundError):
        yield Skipped(root, parts, "vanished while the folder was being read", failed=True)
    elif isinstance(st, OSError):
        yield Skipped(root, parts, f"cannot read file information: {st.strerror}", True)
    elif stat.S_ISDIR(st.st_mode):
        yield parts
    elif stat.S_ISLNK(st.st_mode):
        yield _follow_link(root, parts)
    elif (kind := _special_kind(st.st_mode)) is not None:
        yield Skipped(root, parts, f"{kind}; only regular files are evidence, skipped")
    else:
        yield _candidate(root, parts, parts, st)
