"""Fixture paths and bad media made on the fly, shared by the media and fingerprint tests."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

DATA = Path(__file__).parent.parent / "data"
PDQ = DATA / "pdq"
IMAGES = PDQ / "images"
MEDIA = DATA / "media"
CAMERA_JPEG = MEDIA / "camera_gps.jpg"   # 320×240 stored sideways, orientation 6, GPS
CLIP = MEDIA / "clip.mp4"                # 3 s testsrc, 10 frames/s, with sound
TONE = MEDIA / "tone.ogg"                # 1 s sine


def read(path: Path) -> io.BytesIO:
    return io.BytesIO(path.read_bytes())


def bomb_png(width: int, height: int) -> io.BytesIO:
    """A 60-byte PNG whose header declares width×height pixels (its data is a few bytes)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(
            ">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return io.BytesIO(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                      + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


def truncated(path: Path, keep: float = 0.3) -> io.BytesIO:
    """The first part of a file, as an interrupted download leaves it."""
    data = path.read_bytes()
    return io.BytesIO(data[: int(len(data) * keep)])


GARBAGE = b"\x00\x01 this is not media " * 200
