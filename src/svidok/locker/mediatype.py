"""Media type of an original, decided from its bytes (libmagic), never from its name."""

from __future__ import annotations

import threading

import magic

# libmagic needs far less than this for every format we meet; zip-based office files need
# the most, as the marker member can sit a few kilobytes in.
SNIFF_BYTES = 64 * 1024
UNKNOWN = "application/octet-stream"

_local = threading.local()


def _detector() -> magic.Magic:
    # A libmagic handle is not safe to share between threads.
    det = getattr(_local, "magic", None)
    if det is None:
        det = magic.Magic(mime=True)
        _local.magic = det
    return det


def detect(head: bytes) -> str:
    """Return the media type of a file whose first bytes are ``head``."""
    if not head:
        return "application/x-empty"
    try:
        found = _detector().from_buffer(head[:SNIFF_BYTES])
    except magic.MagicException:
        return UNKNOWN
    return str(found) if found else UNKNOWN
