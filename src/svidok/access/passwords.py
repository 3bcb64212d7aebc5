"""Password hashing with Argon2id (argon2-cffi's defaults, RFC 9106's second choice), and
one-time passwords for new and reset accounts."""

from __future__ import annotations

import functools
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from svidok.access.errors import AccessError

MIN_LENGTH = 12
# Argon2 hashes any length, but a megabyte "password" would only cost the server time.
MAX_LENGTH = 1024

_hasher = PasswordHasher()  # type ID by default: Argon2id

# No 0/O, 1/l/I: a one-time password is read off a screen and typed on a phone.
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def check_strength(password: str) -> None:
    """AccessError unless the password is long enough (length is what matters most)."""
    if len(password) < MIN_LENGTH:
        raise AccessError(f"the password is too short: use at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise AccessError(f"the password is too long: use at most {MAX_LENGTH} characters")


def hash_password(password: str) -> str:
    check_strength(password)
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> tuple[bool, str | None]:
    """(matches, new hash): the new hash is given when the stored one was made with weaker
    parameters than today's, so the caller can store it while it knows the password."""
    if len(password) > MAX_LENGTH:
        return False, None
    try:
        _hasher.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False, None
    if _hasher.check_needs_rehash(stored_hash):
        return True, _hasher.hash(password)
    return True, None


# Verified against when a name is unknown, so that answering takes as long as for a known
# name and the time does not tell which names exist.
# Made on first use: hashing costs a twentieth of a second every command would pay.
@functools.cache
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_hex(16))


def waste_time(password: str) -> None:
    verify_password(_dummy_hash(), password)


def generate_password() -> str:
    """A random one-time password: 4 groups of 5 from 31 symbols, about 99 bits."""
    groups = ("".join(secrets.choice(_ALPHABET) for _ in range(5)) for _ in range(4))
    return "-".join(groups)
