"""Files that cannot be preserved as they are get a clear message each, and nothing
half-stored.

A file that cannot be read, vanishes, or changes while it is read fails on its own: the
others are stored, the command names the file and why, and exits with status 1. Odd but
harmless things are stored or skipped with a reason, and the command exits 0: an empty
file, a name that is not UTF-8, a path longer than PATH_MAX, a socket, a named pipe, and
symbolic links that are broken, loop, or lead outside the folder being ingested.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from locker_checks import (
    Ran,
    assert_every_record_has_its_blob,
    blob_files,
    count_rows,
    part_files,
    sha256_of,
    svidok_command,
    svidok_in_process,
)
from sqlalchemy import Row, select

import svidok.locker.store as store_module
import svidok.locker.walk as walk_module
from svidok.db.schema import items
from svidok.home import Home
from svidok.locker.blobs import BlobStore
from svidok.locker.ingest import ingest
from svidok.locker.store import Failed, Stored, store_file
from svidok.locker.walk import Candidate, open_dir, open_file

PATH_MAX = 4096


def item(home: Home, rel_path: str) -> Row[Any]:
    with home.engine.connect() as conn:
        return conn.execute(select(items).where(items.c.rel_path == rel_path)).one()


def assert_nothing_half_stored(home: Home) -> None:
    """No partial write left, every record has its blob, and no blob lacks a record."""
    assert part_files(home) == []
    assert_every_record_has_its_blob(home)
    assert len(blob_files(home)) == count_rows(home, "originals")


def assert_not_stored(home: Home, data: bytes) -> None:
    assert not home.blobs.exists(sha256_of(data))


# -- files that fail ----------------------------------------------------------------------

# Not a real PDF (only its name says so): importers read nothing out of it.
LOCKED = b"statement of a witness, readable only by its owner"


def read_override_dropped(probe: Path) -> Sequence[str] | None:
    """A command prefix under which permission bits stop reading ``probe`` (mode 000):
    none for an ordinary user; for root, ``setpriv`` dropping the capabilities that let
    root read anything. None if neither works here."""
    if os.geteuid() != 0:
        return ()
    if shutil.which("setpriv") is None:
        return None
    prefix = ("setpriv", "--bounding-set=-dac_override,-dac_read_search")
    return prefix if errno_of_open(prefix, probe) == errno.EACCES else None


def errno_of_open(prefix: Sequence[str], probe: Path) -> int:
    """The errno of opening ``probe`` for reading under ``prefix`` (0: it opened)."""
    done = subprocess.run(
        [*prefix, sys.executable, "-c",
         f"import os\ntry: os.open({str(probe)!r}, os.O_RDONLY)\n"
         f"except OSError as e: raise SystemExit(e.errno)"],
        capture_output=True, check=False)
    return done.returncode


def test_unreadable_file_and_folder_are_named_and_the_run_fails(
        home: Home, env: dict[str, str], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A file the user running Svidok may not read (mode 000) is reported as 'permission
    denied' with what to do, and so is a folder it may not open; the readable file beside
    them is stored; the exit status is 1. After granting access, the same ingest stores
    what was refused.

    Tests run as root, whom mode 000 does not stop; so the command runs without the
    capabilities that let root read anything (setpriv). Only if that is impossible is the
    permission error injected, with a warning."""
    folder = tmp_path / "statements"
    folder.mkdir()
    (folder / "open-letter.txt").write_text("readable by anyone\n")
    locked = folder / "locked.pdf"
    locked.write_bytes(LOCKED)
    locked.chmod(0)
    private = folder / "private"
    private.mkdir()
    (private / "names.txt").write_bytes(b"names of witnesses")
    private.chmod(0)
    prefix = read_override_dropped(locked)

    def run(args: list[str]) -> Ran:
        if prefix is None:
            return svidok_in_process(args)
        return svidok_command(args, env, prefix)

    if prefix is None:
        warnings.warn("cannot drop root's read override here: the permission error is "
                      "injected", stacklevel=1)

        def refuse(root: str, parts: tuple[bytes, ...]) -> int:
            if parts[-1] == b"locked.pdf" and not locked.stat().st_mode & 0o444:
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))
            return open_file(root, parts)

        def refuse_folder(root: str, parts: tuple[bytes, ...]) -> int:
            if parts == (b"private",) and not private.stat().st_mode & 0o444:
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))
            return open_dir(root, parts)

        monkeypatch.setattr(store_module, "open_file", refuse)
        monkeypatch.setattr(walk_module, "open_dir", refuse_folder)

    first = run(["ingest", str(folder)])

    assert first.code == 1, first
    assert ["failed", "locked.pdf", "permission denied: the user running Svidok cannot read "
            "this file; grant read access and ingest again"] in first.rows
    assert ["failed", "private", "cannot open folder: Permission denied"] in first.rows
    assert "Some files were not stored; see the reasons above." in first.stderr
    assert item(home, "open-letter.txt").state == "stored"
    refused = item(home, "locked.pdf")
    assert refused.state == "failed" and refused.sha256 is None
    assert "permission denied" in refused.error
    assert_not_stored(home, LOCKED)
    assert_not_stored(home, b"names of witnesses")
    assert_nothing_half_stored(home)

    locked.chmod(0o644)
    private.chmod(0o755)
    second = run(["ingest", str(folder)])

    assert second.code == 0, second
    assert "2 stored" in second.said and "1 unchanged" in second.said
    assert home.blobs.exists(sha256_of(LOCKED))
    assert home.blobs.exists(sha256_of(b"names of witnesses"))
    assert_nothing_half_stored(home)


def test_file_that_vanishes_before_it_is_read(
        home: Home, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file deleted after it was listed but before it was read (a sync client tidying
    up) is named as vanished; the other file is stored; the exit status is 1."""
    folder = tmp_path / "synced"
    folder.mkdir()
    (folder / "kept.txt").write_text("still here\n")
    (folder / "gone.txt").write_text("deleted by the sync client\n")

    def delete_first(candidate: Candidate, blobs: BlobStore, **kwargs: Any) -> Stored | Failed:
        if candidate.name == "gone.txt":
            (folder / "gone.txt").unlink()
        return store_file(candidate, blobs, **kwargs)

    monkeypatch.setattr(store_module, "store_file", delete_first)

    ran = svidok_in_process(["ingest", str(folder)])

    assert ran.code == 1, ran
    assert ["failed", "gone.txt",
            "the file vanished before it could be read; nothing was stored"] in ran.rows
    assert "Some files were not stored" in ran.stderr
    assert item(home, "kept.txt").state == "stored"
    assert item(home, "gone.txt").state == "failed"
    assert_not_stored(home, b"deleted by the sync client\n")
    assert_nothing_half_stored(home)


class GrowsWhileRead:
    """Stands in for ``os`` inside ``svidok.locker.store`` only: right after the first read
    of ``target``, more bytes are appended to it, as by a download still in progress."""

    def __init__(self, target: Path, more: bytes) -> None:
        self.target = os.stat(target)
        self.path = target
        self.more = more
        self.appended = False
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        return getattr(os, name)

    def readv(self, fd: int, buffers: Sequence[bytearray]) -> int:
        n = os.readv(fd, buffers)
        st = os.fstat(fd)
        with self._lock:
            if (st.st_dev, st.st_ino) == (self.target.st_dev, self.target.st_ino) \
                    and not self.appended:
                with self.path.open("ab") as handle:
                    handle.write(self.more)
                self.appended = True
        return n


def test_file_that_changes_while_it_is_read(
        home: Home, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file that grows while Svidok reads it (still downloading) is not stored: neither
    the bytes before nor after the change. The message says to ingest it again when it is
    complete; the exit status is 1."""
    folder = tmp_path / "downloads"
    folder.mkdir()
    start = b"first half of a video" * 1000
    growing = folder / "video.part.mp4"
    growing.write_bytes(start)
    (folder / "done.txt").write_text("complete\n")
    grows = GrowsWhileRead(growing, b"second half")
    monkeypatch.setattr(store_module, "os", grows)

    ran = svidok_in_process(["ingest", str(folder)])

    assert grows.appended
    assert ran.code == 1, ran
    assert ["failed", "video.part.mp4", "the file changed while it was being read (it may "
            "still be downloading or copying); ingest it again when it is complete"] in ran.rows
    assert "Some files were not stored" in ran.stderr
    assert item(home, "video.part.mp4").state == "failed"
    assert item(home, "done.txt").state == "stored"
    assert_not_stored(home, start)
    assert_not_stored(home, start + b"second half")
    assert_nothing_half_stored(home)


# -- odd but harmless ---------------------------------------------------------------------


def test_zero_byte_file_is_stored_with_a_warning(home: Home, env: dict[str, str],
                                                  tmp_path: Path) -> None:
    """An empty file is stored (it may matter that it was empty) with a warning to check
    the copy is complete; nothing failed, so the exit status is 0."""
    folder = tmp_path / "chat-export"
    folder.mkdir()
    (folder / "attachments.txt").write_bytes(b"")
    (folder / "messages.txt").write_text("hello\n")

    ran = svidok_command(["ingest", str(folder)], env)

    assert ran.code == 0, ran
    assert ["stored", "attachments.txt", "zero-byte file: stored, but check that the copy "
            "received is complete"] in ran.rows
    empty = item(home, "attachments.txt")
    assert empty.state == "stored" and empty.size == 0
    assert empty.sha256 == sha256_of(b"") and "zero-byte" in empty.warning
    assert home.blobs.path_of(empty.sha256).stat().st_size == 0
    assert_nothing_half_stored(home)


RAW_NAME = b"bad-\xff\xfe.txt"
RAW_FOLDER = b"\xe9t\xe9"  # 'été' in Latin-1, from an old camera's card


def test_name_that_is_not_utf8_is_kept_byte_for_byte(home: Home, env: dict[str, str],
                                                     tmp_path: Path) -> None:
    """Names that are not valid UTF-8 are stored with their exact bytes kept, shown
    readably (undecodable bytes as \\xNN), and ``items list`` / ``items show`` work."""
    folder = tmp_path / "old-card"
    raw_root = os.fsencode(folder)
    os.makedirs(os.path.join(raw_root, RAW_FOLDER))
    with open(os.path.join(raw_root, RAW_NAME), "wb") as handle:
        handle.write(b"a note with a broken name")
    with open(os.path.join(raw_root, RAW_FOLDER, b"photo.jpg"), "wb") as handle:
        handle.write(b"\xff\xd8\xff\xe0 a photo in a Latin-1 folder")

    ran = svidok_command(["ingest", str(folder)], env)

    assert ran.code == 0, ran
    assert "bad-\\xff\\xfe.txt" in ran.stdout
    note = item(home, "bad-\\xff\\xfe.txt")
    assert note.state == "stored" and note.rel_path_bytes == RAW_NAME
    assert note.original_name == "bad-\\xff\\xfe.txt"
    photo = item(home, "\\xe9t\\xe9/photo.jpg")
    assert photo.state == "stored" and photo.rel_path_bytes == RAW_FOLDER + b"/photo.jpg"

    listed = svidok_command(["items", "list"], env)
    assert listed.code == 0, listed
    assert "bad-\\xff\\xfe.txt" in listed.stdout and "\\xe9t\\xe9/photo.jpg" in listed.stdout
    as_json = svidok_command(["items", "list", "--json"], env)
    assert as_json.code == 0, as_json
    assert {i["rel_path"] for i in json.loads(as_json.stdout)["items"]} == {
        "bad-\\xff\\xfe.txt", "\\xe9t\\xe9/photo.jpg"}

    shown = svidok_command(["items", "show", str(note.id)], env)
    assert shown.code == 0, shown
    assert RAW_NAME.hex() in shown.stdout
    shown_json = svidok_command(["items", "show", str(note.id), "--json"], env)
    assert shown_json.code == 0, shown_json
    assert bytes.fromhex(json.loads(shown_json.stdout)["rel_path_bytes"]) == RAW_NAME


def test_names_that_read_alike_are_both_kept(home: Home, tmp_path: Path) -> None:
    """Two different files whose names read the same once undecodable bytes are shown as
    \\xNN (one really named with the bytes, one with a literal backslash) are two pieces of
    evidence: both are stored, neither is silently dropped."""
    folder = tmp_path / "lookalikes"
    raw_root = os.fsencode(folder)
    os.makedirs(raw_root)
    with open(os.path.join(raw_root, b"bad-\xff.txt"), "wb") as handle:
        handle.write(b"named with the byte 0xff")
    with open(os.path.join(raw_root, b"bad-\\xff.txt"), "wb") as handle:
        handle.write(b"named with a backslash, x, f, f")

    report = ingest(home, [folder])

    assert report.ok
    dropped = [name for name, data in ((b"bad-\xff.txt", b"named with the byte 0xff"),
                                       (b"bad-\\xff.txt", b"named with a backslash, x, f, f"))
               if not home.blobs.exists(sha256_of(data))]
    assert dropped == [], f"silently not stored: {dropped}; outcomes: {report.outcomes}"
    assert report.count("stored") == 2


def test_path_longer_than_path_max_is_stored(home: Home, env: dict[str, str],
                                             tmp_path: Path) -> None:
    """A file nested so deep that its full path is longer than PATH_MAX (4096 bytes), as
    unpacked archives sometimes are, is stored like any other."""
    folder = tmp_path / "deep"
    folder.mkdir()
    level = b"d" * 200
    depth = PATH_MAX // len(level) + 1
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for _ in range(depth):
            os.mkdir(level, dir_fd=fd)
            child = os.open(level, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = child
        out = os.open(b"report.txt", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644, dir_fd=fd)
        os.write(out, b"found at the bottom of the archive")
        os.close(out)
    finally:
        os.close(fd)
    rel_path = "/".join(["d" * 200] * depth + ["report.txt"])
    assert len(os.fsencode(folder)) + 1 + len(rel_path) > PATH_MAX

    ran = svidok_command(["ingest", str(folder)], env)

    assert ran.code == 0, ran
    deep = item(home, rel_path)
    assert deep.state == "stored"
    assert deep.sha256 == sha256_of(b"found at the bottom of the archive")
    assert_nothing_half_stored(home)


def test_socket_fifo_and_links_that_lead_nowhere_are_skipped_with_a_reason(
        home: Home, env: dict[str, str], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Things that are not files holding evidence are skipped, each with its reason shown,
    and the command exits 0: a socket, a named pipe (never opened, so ingest cannot hang
    on it), a symbolic link leading outside the folder (whose target is not stored), and
    a broken symbolic link."""
    folder = tmp_path / "home-folder"
    folder.mkdir()
    (folder / "diary.txt").write_text("entry\n")
    os.mkfifo(folder / "pipe")
    outside = tmp_path / "not-evidence.txt"
    outside.write_text("private, outside the folder handed over\n")
    (folder / "to-outside").symlink_to(outside)
    (folder / "dangling").symlink_to(folder / "deleted-long-ago.txt")
    monkeypatch.chdir(folder)  # a socket's path must be short
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        listener.bind("agent.sock")
        ran = svidok_command(["ingest", str(folder)], env)
    finally:
        listener.close()

    assert ran.code == 0, ran
    reasons = {
        "agent.sock": "a socket; only regular files are evidence, skipped",
        "pipe": "a named pipe (FIFO); only regular files are evidence, skipped",
        "to-outside": "symbolic link leads outside the ingest root; not followed",
        "dangling": "broken symbolic link (its target does not exist)",
    }
    for rel_path, reason in reasons.items():
        assert ["skipped", rel_path, reason] in ran.rows
        skipped = item(home, rel_path)
        assert (skipped.state, skipped.warning, skipped.sha256) == ("skipped", reason, None)
    assert item(home, "diary.txt").state == "stored"
    assert_not_stored(home, outside.read_bytes())
    assert count_rows(home, "originals") == 1
    assert_nothing_half_stored(home)


def test_symbolic_link_loop_is_skipped_and_called_a_loop(home: Home, env: dict[str, str],
                                                         tmp_path: Path) -> None:
    """Two links pointing at each other are skipped, exit status 0, and the reason says
    they loop (not that a target is missing: both targets exist)."""
    folder = tmp_path / "loops"
    folder.mkdir()
    (folder / "a").symlink_to("b")
    (folder / "b").symlink_to("a")
    (folder / "real.txt").write_text("real\n")

    ran = svidok_command(["ingest", str(folder)], env)

    assert ran.code == 0, ran
    for name in ("a", "b"):
        looped = item(home, name)
        assert looped.state == "skipped"
        assert "symbolic link" in looped.warning and "loop" in looped.warning, looped.warning
    assert count_rows(home, "originals") == 1
