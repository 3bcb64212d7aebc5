"""C2SP signed notes with Ed25519 keys, and the tlog-checkpoint text they carry.

A signed note is its text (ending in a newline), one blank line, then signature lines
``— <key name> <base64(key id || signature)>``. The text may itself hold blank lines, so
the signatures start after the *last* one. Key names follow the C2SP rules: non-empty,
no whitespace, no ``+``. Keys are stored in the golang.org/x/mod/sumdb/note form
(``PRIVATE+KEY+name+id+base64``) that every published test key uses.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

ED25519: Final = 0x01
EM_DASH: Final = "\u2014"
MAX_SIGNATURES: Final = 100
_NAME = re.compile(r"[^\s+]+")
_SIG_LINE = re.compile(r"\u2014 (\S+) (\S+)")


class NoteError(ValueError):
    """A note, key or checkpoint is malformed or its signature does not verify."""


def valid_key_name(name: str) -> bool:
    return bool(_NAME.fullmatch(name)) and name.isprintable()


def key_id(name: str, kind: int, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([kind]) + public).digest()[:4]


def _b64decode(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise NoteError(f"{what} is not valid base64") from None


@dataclass(frozen=True)
class Verifier:
    name: str
    public: bytes

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, ED25519, self.public)

    @property
    def vkey(self) -> str:
        """The verifier key as C2SP writes it: ``name+hex8+base64(0x01 || public key)``."""
        blob = base64.b64encode(bytes([ED25519]) + self.public).decode()
        return f"{self.name}+{self.key_id.hex()}+{blob}"

    @classmethod
    def parse(cls, vkey: str) -> Verifier:
        parts = vkey.strip().split("+", 2)  # base64 may hold "+" too
        if len(parts) != 3 or not valid_key_name(parts[0]):
            raise NoteError("a verifier key reads name+keyid+key")
        name, hex_id, blob = parts
        raw = _b64decode(blob, "the verifier key")
        if len(raw) != 33 or raw[0] != ED25519:
            raise NoteError("the verifier key is not an Ed25519 note key")
        verifier = cls(name, raw[1:])
        if len(hex_id) != 8 or verifier.key_id.hex() != hex_id.lower():
            raise NoteError("the verifier key's id does not match its name and key")
        return verifier

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public).verify(signature, message)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class Signer:
    name: str
    seed: bytes

    def __post_init__(self) -> None:
        if not valid_key_name(self.name):
            raise NoteError(f"{self.name!r} cannot name a key: no spaces, no '+'")
        if len(self.seed) != 32:
            raise NoteError("an Ed25519 seed is 32 bytes")

    @classmethod
    def generate(cls, name: str) -> Signer:
        key = Ed25519PrivateKey.generate()
        return cls(name, key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()))

    @classmethod
    def parse(cls, skey: str) -> Signer:
        parts = skey.strip().split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise NoteError("a signer key reads PRIVATE+KEY+name+keyid+key")
        raw = _b64decode(parts[4], "the signer key")
        if len(raw) != 33 or raw[0] != ED25519:
            raise NoteError("the signer key is not an Ed25519 note key")
        signer = cls(parts[2], raw[1:])
        if signer.verifier.key_id.hex() != parts[3].lower():
            raise NoteError("the signer key's id does not match its name and key")
        return signer

    @property
    def _private(self) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.from_private_bytes(self.seed)

    @property
    def verifier(self) -> Verifier:
        public = self._private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return Verifier(self.name, public)

    @property
    def skey(self) -> str:
        v = self.verifier
        blob = base64.b64encode(bytes([ED25519]) + self.seed).decode()
        return f"PRIVATE+KEY+{self.name}+{v.key_id.hex()}+{blob}"

    def sign(self, text: str) -> str:
        """The signed note: ``text``, a blank line, and this key's signature line."""
        check_text(text)
        signature = self._private.sign(text.encode())
        blob = base64.b64encode(self.verifier.key_id + signature).decode()
        return f"{text}\n{EM_DASH} {self.name} {blob}\n"


def check_text(text: str) -> None:
    if not text.endswith("\n"):
        raise NoteError("a note's text ends with a newline")
    if any((ord(c) < 0x20 and c != "\n") or c == "\x7f" for c in text):
        raise NoteError("a note's text holds a control character")


def open_note(note: str, verifiers: list[Verifier]) -> str:
    """The text of ``note`` once a known key's signature verifies; NoteError otherwise.

    Lines signed by unknown keys are skipped; a known key with a bad signature rejects the
    whole note, as golang.org/x/mod does.
    """
    cut = note.rfind("\n\n")
    if cut < 0:
        raise NoteError("the note has no signatures (no blank line)")
    text, sigs = note[:cut + 1], note[cut + 2:]
    check_text(text)
    if not sigs or not sigs.endswith("\n"):
        raise NoteError("the note's signature lines are missing or unterminated")
    lines = sigs[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"the note has more than {MAX_SIGNATURES} signatures")
    known = {(v.name, v.key_id): v for v in verifiers}
    verified = False
    for line in lines:
        match = _SIG_LINE.fullmatch(line)
        if match is None:
            raise NoteError("a signature line is malformed")
        raw = _b64decode(match[2], "a signature")
        if len(raw) < 5:
            raise NoteError("a signature is too short")
        verifier = known.get((match[1], raw[:4]))
        if verifier is None:
            continue
        if not verifier.verify(text.encode(), raw[4:]):
            raise NoteError(f"the signature of {verifier.name} does not verify")
        verified = True
    if not verified:
        raise NoteError("no signature by a known key")
    return text


@dataclass(frozen=True)
class CheckpointBody:
    """A c2sp.org/tlog-checkpoint: origin, tree size, root hash."""

    origin: str
    size: int
    root: bytes

    def text(self) -> str:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"

    @classmethod
    def parse(cls, text: str) -> CheckpointBody:
        lines = text.split("\n")
        if len(lines) < 4 or lines[-1] != "" or not lines[0]:
            raise NoteError("a checkpoint has an origin, a size and a root hash, one per line")
        if any(not line for line in lines[3:-1]):
            raise NoteError("a checkpoint's extension lines are empty")
        size_text = lines[1]
        if not size_text.isascii() or not size_text.isdigit() or (
                size_text.startswith("0") and size_text != "0"):
            raise NoteError("a checkpoint's tree size is not a plain decimal number")
        root = _b64decode(lines[2], "the checkpoint's root hash")
        if len(root) != 32:
            raise NoteError("a checkpoint's root hash is not 32 bytes")
        size = int(size_text) if len(size_text) <= 20 else 1 << 64
        if size >= 1 << 64:
            raise NoteError("a checkpoint's tree size does not fit in 64 bits")
        return cls(lines[0], size, root)
