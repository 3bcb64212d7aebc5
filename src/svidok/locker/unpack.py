"""Unpacking an uploaded export archive (a ZIP) into staging, so it is ingested as a folder.

A Telegram Desktop export is a folder (``result.json`` beside ``photos/``, ``files/``...);
sent through a browser it arrives zipped, and the importers read folders, not ZIPs of them.
A ZIP that an importer reads as it is (a WhatsApp chat, a WACZ, a DOCX) is never unpacked.

The archive is hostile until checked, and it is checked whole before one byte is written:
a member named absolutely, with ``..``, a drive or a backslash, a symbolic link or other
special file, an encrypted member, two members of one name, more members than
:data:`MAX_MEMBERS`, a member expanding beyond :data:`MAX_RATIO` times its compressed size,
or all members together beyond the cap or the free space: any of these refuses the whole
archive with a message naming it, and nothing is unpacked. While unpacking, a member that
expands beyond the size its header declared is refused too (headers can lie), files are
created only anew (``O_EXCL | O_NOFOLLOW``) inside the destination, and whatever was
written is removed when anything fails.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from svidok.locker.mediatype import detect
from svidok.sources.importer import Container
from svidok.sources.importers import choose

MAX_MEMBERS = 200_000
MAX_RATIO = 200  # uncompressed / compressed size of one member (as for WACZ)
MAX_NAME_BYTES = 255  # one path component, as Linux file systems allow
RESERVE_BYTES = 256 * 1024 * 1024  # left free on the disk, for the records and the ingest
CHUNK = 1024 * 1024
FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


class UnpackError(Exception):
    """The archive cannot be unpacked safely; nothing of it was kept. Shown as it is."""


@dataclass(frozen=True)
class Unpacked:
    folder: Path
    files: int
    size: int


def is_export_archive(path: Path, name: str) -> bool:
    """Whether an uploaded file is a ZIP to unpack: named .zip, a ZIP inside, and no
    importer reading it as it is."""
    if not name.lower().endswith(".zip") or not zipfile.is_zipfile(path):
        return False
    with path.open("rb") as fh:
        head = fh.read(64 * 1024)
    container = Container(path=path, name=name, media_type=detect(head),
                          size=path.stat().st_size)
    return choose(container) is None


def unpack(archive: Path, name: str, dest: Path, max_total: int,
           max_ratio: float = MAX_RATIO, max_members: int = MAX_MEMBERS) -> Unpacked:
    """Unpack ``archive`` (shown to people as ``name``) into the new folder ``dest``."""
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, ValueError, EOFError):
        raise UnpackError(f"{name} is not a ZIP archive that can be read") from None
    with zf:
        members, total = _checked(zf, name, max_total, max_ratio, max_members)
        free = shutil.disk_usage(dest.parent).free
        if total + RESERVE_BYTES > free:
            raise UnpackError(f"{name} unpacks to {total:,} bytes, more than the "
                              f"{max(0, free - RESERVE_BYTES):,} the disk can spare; nothing "
                              "was unpacked")
        dest.mkdir(mode=0o700)
        try:
            for info, parts in members:
                _extract(zf, info, parts, dest, name)
        except BaseException:
            shutil.rmtree(dest, ignore_errors=True)
            raise
    return Unpacked(dest, sum(1 for info, _ in members if not info.is_dir()), total)


def _checked(zf: zipfile.ZipFile, name: str, max_total: int, max_ratio: float,
             max_members: int) -> tuple[list[tuple[zipfile.ZipInfo, tuple[str, ...]]], int]:
    infos = zf.infolist()
    if len(infos) > max_members:
        raise UnpackError(f"{name} holds {len(infos):,} members, more than the "
                          f"{max_members:,} an upload may unpack; nothing was unpacked")
    seen: set[tuple[str, ...]] = set()
    members = []
    total = 0
    for info in infos:
        shown = _shown(info.filename)
        parts = _safe_parts(info.filename)
        if parts is None:
            raise UnpackError(f"{name} holds a member named {shown!r}, which would be "
                              "written outside the folder (an absolute path, '..', a drive "
                              "or a backslash); nothing was unpacked")
        if parts in seen:
            raise UnpackError(f"{name} holds two members named {shown!r}; nothing was "
                              "unpacked")
        seen.add(parts)
        kind = stat.S_IFMT(info.external_attr >> 16)
        if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
            what = "a symbolic link" if kind == stat.S_IFLNK else "a special file"
            raise UnpackError(f"{name} holds {what} ({shown!r}); nothing was unpacked")
        if info.flag_bits & 0x1:
            raise UnpackError(f"{name} holds an encrypted member ({shown!r}); unpack it "
                              "yourself and upload the files")
        if info.is_dir():
            members.append((info, parts))
            continue
        if info.file_size > max_ratio * max(info.compress_size, 1):
            raise UnpackError(f"{name}: the member {shown!r} expands to {info.file_size:,} "
                              f"bytes from {info.compress_size:,} (over {max_ratio:g} times): "
                              "a ZIP bomb is likely; nothing was unpacked")
        total += info.file_size
        if total > max_total:
            raise UnpackError(f"{name} unpacks to more than {max_total:,} bytes, the cap for "
                              "one upload (upload_unpack_max_bytes); nothing was unpacked")
        members.append((info, parts))
    return members, total


def _safe_parts(member: str) -> tuple[str, ...] | None:
    """The member's path components, or None when it could leave the folder."""
    if not member or "\x00" in member or "\\" in member or member.startswith("/"):
        return None
    if re.match(r"[A-Za-z]:", member):
        return None
    parts = tuple(member.rstrip("/").split("/"))
    if any(p in ("", ".", "..") for p in parts) or ".." in PurePosixPath(member).parts:
        return None
    if any(len(p.encode("utf-8", "surrogateescape")) > MAX_NAME_BYTES for p in parts):
        return None
    return parts


def _shown(member: str) -> str:
    return member.encode("unicode_escape").decode("ascii")[:200]


def _extract(zf: zipfile.ZipFile, info: zipfile.ZipInfo, parts: tuple[str, ...],
             dest: Path, name: str) -> None:
    folder = dest
    for part in parts[:-1] if not info.is_dir() else parts:
        folder = folder / part
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:
            # Only a folder made by this unpacking may be entered; never a link.
            if folder.is_symlink() or not folder.is_dir():
                raise UnpackError(f"{name}: {_shown(info.filename)!r} needs a folder where a "
                                  "file of that name is; nothing was kept") from None
    if info.is_dir():
        return
    target = folder / parts[-1]
    try:
        fd = os.open(target, FILE_FLAGS, 0o600)
    except FileExistsError:
        raise UnpackError(f"{name}: {_shown(info.filename)!r} is there twice (as a file and "
                          "a folder); nothing was kept") from None
    written = 0
    try:
        with os.fdopen(fd, "wb") as out, zf.open(info) as member:
            while chunk := member.read(CHUNK):
                written += len(chunk)
                if written > info.file_size:
                    raise UnpackError(f"{name}: {_shown(info.filename)!r} expands beyond the "
                                      "size its header declares; nothing was kept")
                out.write(chunk)
    except (zipfile.BadZipFile, EOFError, ValueError, RuntimeError) as exc:
        raise UnpackError(f"{name}: {_shown(info.filename)!r} cannot be read "
                          f"({type(exc).__name__}); the archive is damaged; nothing was "
                          "kept") from None
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise UnpackError(f"the disk filled up while unpacking {name}; nothing was "
                              "kept; free space and upload it again") from None
        raise UnpackError(f"{name}: could not write {_shown(info.filename)!r} "
                          f"({exc.strerror or type(exc).__name__}); nothing was kept") from None
