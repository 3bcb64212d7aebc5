"""Media type of an original, decided from its bytes (libmagic), never from its name."""

from __future__ import annotations

import os
import queue
import threading

import magic

# libmagic needs far less than this for every format we meet; zip-based office files need
# the most, as the marker member can sit a few kilobytes in.
SNIFF_BYTES = 64 * 1024
UNKNOWN = "application/octet-stream"

# A libmagic handle is not safe to share between threads, and each costs several MB, so a
# few are pooled: detection is CPU work, more handles than cores would only cost memory.
_POOL_SIZE = max(1, min(4, os.cpu_count() or 1))
_pool: queue.SimpleQueue[magic.Magic] = queue.SimpleQueue()
_created = 0
_creating = threading.Lock()


def _borrow() -> magic.Magic:
    global _created
    try:
        return _pool.get_nowait()
    except queue.Empty:
        pass
    with _creating:
        make = _created < _POOL_SIZE
        _created += make
    return magic.Magic(mime=True) if make else _pool.get()


def detect(head: bytes) -> str:
    """Return the media type of a file whose first bytes are ``head``."""
    if not head:
        return "application/x-empty"
    detector = _borrow()
    try:
        found = detector.from_buffer(head[:SNIFF_BYTES])
    except magic.MagicException:
        return UNKNOWN
    finally:
        _pool.put(detector)
    return str(found) if found else UNKNOWN
