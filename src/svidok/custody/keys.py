"""The instance's log key: Ed25519, made by ``svidok init``, readable by its owner only.

The private key signs checkpoints; its verifier key (``svidok log key``) is what the
organisation publishes, so that anyone can check checkpoints and proofs without Svidok.
"""

from __future__ import annotations

import os
from pathlib import Path

from svidok.custody.note import NoteError, Signer, valid_key_name

KEY_FILE = Path("keys") / "log.key"


class LogKeyError(Exception):
    """The log key is missing, unreadable, too widely readable or does not fit the log."""


def key_path(home: Path) -> Path:
    return home / KEY_FILE


def create_key(home: Path, name: str) -> tuple[Signer, bool]:
    """The log key, made now if there is none; True if it was made."""
    path = key_path(home)
    if path.exists():
        return load_signer(home, name), False
    if not valid_key_name(name):
        raise LogKeyError(f"the instance name {name!r} cannot name a log: it must have no "
                        "spaces and no '+' (set instance_name in svidok.toml)")
    signer = Signer.generate(name)
    path.parent.mkdir(mode=0o700, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        os.write(fd, (signer.skey + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    # A link, not a rename, so that two inits at once never replace each other's key.
    try:
        os.link(tmp, path)
    except FileExistsError:
        tmp.unlink()
        return load_signer(home, name), False
    tmp.unlink()
    dir_fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return signer, True


def load_signer(home: Path, name: str) -> Signer:
    path = key_path(home)
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="ascii")
    except FileNotFoundError:
        raise LogKeyError(f"no log key at {path}; run 'svidok init' to make one") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise LogKeyError(f"cannot read the log key {path}: {exc}") from None
    if mode & 0o077:
        raise LogKeyError(f"the log key {path} can be read by others; "
                        f"run 'chmod 600 {path}' and check who has seen it")
    try:
        signer = Signer.parse(text)
    except NoteError as exc:
        raise LogKeyError(f"the log key {path} is damaged: {exc}") from None
    if signer.name != name:
        raise LogKeyError(f"the log key {path} is for {signer.name!r}, "
                        f"but this instance is {name!r}")
    return signer

