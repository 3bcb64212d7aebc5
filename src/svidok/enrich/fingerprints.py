"""PDQ perceptual hashes of images and video frames, for finding re-uploads and re-encodes.

PDQ (Meta's ThreatExchange) gives a 256-bit hash and a quality 0–100; the same picture after
recompression, resizing or a colour change stays within 31 bits, unrelated pictures land
near 128. The preprocessing decides whether our hashes agree with everyone else's, so it is
fixed and named by :data:`PDQ_PREPROCESS` (research note media-matching.md §3.1, §5):

1. decode (a JPEG over 512 px as its luma only, at 1/2–1/8 scale with sides kept ≥ 512 —
   a third faster, same result within 2 bits; anything else as RGB), turn upright by EXIF
   orientation;
2. unletterbox: trim near-black or near-white bars from the edges (a repost with bars is
   otherwise ~130 bits away: unrelated). The hash of the untrimmed picture is kept too when it
   differs, because a bar-like edge may be part of the picture;
3. if the longest side is over 512 px, resize to 512×512, bilinear, as the C++ reference tool
   does — then our hash equals the reference hashes exactly for pictures of 512 px or less
   and within a few bits for larger ones (the ports themselves differ by up to 10);
4. ``pdqhash.compute``.

Rotations and mirrors change the hash completely; :func:`pdq_dihedral` gives the hashes of
all 8 rotations and flips at almost no cost, for queries (index only the primary hash).

Video follows vPDQ: the first frame at or after each second, the same preprocessing, and a
frame is dropped when its hash is within 2 bits of the last one kept (a still scene).
Low-quality hashes (under 50) are kept and marked by their quality; matching decides.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np
import pdqhash
from PIL import Image

from svidok.dedup.text_similarity import TEXT_SIMILARITY_VERSION, signature
from svidok.enrich.enricher import EnrichError, Fingerprint, Output, Subject
from svidok.enrich.media import frame_jpeg
from svidok.enrich.media_decoding import (
    MAX_SAMPLED_FRAMES,
    Frame,
    MediaError,
    luma_or_rgb_image,
    video_frames,
)

__all__ = ["FINGERPRINTS_VERSION", "PDQ_PREPROCESS", "FingerprintsEnricher", "MediaError",
           "PdqHash", "hamming", "letterbox", "pdq_dihedral", "pdq_frames", "pdq_image",
           "pdq_image_and_variants", "pdq_video", "video_keyframes_and_pdq"]

FINGERPRINTS_VERSION = "1"
PDQ_PREPROCESS = "pdq:v2:pil-bilinear512:unletterbox:jpeg-luma"
PDQ_SIDE = 512
PRUNE_DISTANCE = 2      # consecutive video frames this close are one scene

# Unletterboxing. A bar pixel is near black (every channel ≤ 40: JPEG ringing beside a bar
# reaches ~30) or near white (every channel ≥ 215); a bar line is one where 98% of pixels are
# (noise, a channel logo in the bar). Bars are trimmed only if at least 10% of each side
# remains: a dark or blank picture is a picture, not a bar.
_DARK = 40
_LIGHT = 215
_BAR_SHARE = 0.98
_MIN_KEEP = 0.10


@dataclass(frozen=True, slots=True)
class PdqHash:
    hash: bytes        # 32 bytes, the bit order of the reference implementations' hex
    quality: int       # 0..100; under 50 is unreliable
    position_ms: int | None = None   # video frame time
    trimmed: bool = False            # borders were trimmed before hashing


def hamming(a: bytes, b: bytes) -> int:
    """Bits that differ between two hashes of the same length."""
    if len(a) != len(b):
        raise ValueError("hashes of different lengths")
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).bit_count()


def pdq_image(data: BinaryIO) -> list[PdqHash]:
    """The primary hash first (bars trimmed); the untrimmed one second when trimming changed it."""
    image = _decoded(data)
    box = letterbox(image)
    primary = _pdq(_prepared(image, box), trimmed=box is not None)
    if box is None:
        return [primary]
    whole = _pdq(_prepared(image, None))
    return [primary] if whole.hash == primary.hash else [primary, whole]


def pdq_dihedral(data: BinaryIO) -> list[bytes]:
    """The primary hash of each of the 8 rotations and flips, the primary hash itself first."""
    image = _decoded(data)
    prepared = _prepared(image, letterbox(image))
    try:
        vectors, _quality = pdqhash.compute_dihedral(prepared)
    except (ValueError, RuntimeError) as exc:
        raise MediaError(f"PDQ failed ({type(exc).__name__})") from exc
    return [_bytes(v) for v in vectors]


def pdq_frames(frames: Iterable[Frame]) -> Iterator[PdqHash]:
    """Hashes of video frames, a frame dropped when within 2 bits of the last one kept."""
    last: bytes | None = None
    for frame in frames:
        found = _frame_hash(frame)
        if last is None or hamming(found.hash, last) > PRUNE_DISTANCE:
            last = found.hash
            yield found


def pdq_video(path: str, every_s: float = 1.0, notes: list[str] | None = None
              ) -> list[PdqHash]:
    """vPDQ-style hashes: one frame per ``every_s`` seconds, still scenes pruned; ``notes``
    is told when the video is longer than what is decoded of it."""
    return list(pdq_frames(video_frames(path, every_s, notes=notes)))


def video_keyframes_and_pdq(path: str, every_s: float = 1.0, max_side: int = 640,
                            limit: int = MAX_SAMPLED_FRAMES
                            ) -> Iterator[tuple[int, bytes, PdqHash | None]]:
    """Keyframe JPEGs and frame hashes from one decode: (time in ms, JPEG, hash or None).

    The hash is None for a frame pruned as within 2 bits of the last hash kept, so the hashes
    given are exactly :func:`pdq_video`'s and the JPEGs exactly ``media.keyframes``'.
    """
    last: bytes | None = None
    for frame in video_frames(path, every_s, limit):
        found = _frame_hash(frame)
        kept = last is None or hamming(found.hash, last) > PRUNE_DISTANCE
        if kept:
            last = found.hash
        yield frame.position_ms, frame_jpeg(frame.image, max_side), found if kept else None


def letterbox(picture: np.ndarray | Image.Image) -> tuple[int, int, int, int] | None:
    """(left, top, right, bottom) of the picture inside bars, or None when there are none.

    Only the lines from each edge inward are looked at, until the first that is not a bar
    line: a picture without bars costs a few lines per side, not a pass over every pixel
    (and a PIL image is not copied whole into an array for it)."""
    if isinstance(picture, Image.Image):
        width, height = picture.size
    else:
        height, width = picture.shape[:2]

    def lines(start: int, end: int, rows: bool) -> np.ndarray:
        if isinstance(picture, Image.Image):
            return np.asarray(picture.crop((0, start, width, end) if rows
                                           else (start, 0, end, height)))
        return picture[start:end] if rows else picture[:, start:end]

    # Bar lines at the left, top, right, bottom.
    left, top, right, bottom = (
        _run(lines, height if rows else width, rows, from_end)
        for rows, from_end in ((False, False), (True, False), (False, True), (True, True)))
    if not left + top + right + bottom:
        return None
    if width - left - right < _MIN_KEEP * width or height - top - bottom < _MIN_KEEP * height:
        return None
    return left, top, width - right, height - bottom


def _run(lines: Callable[[int, int, bool], np.ndarray], length: int, rows: bool,
         from_end: bool) -> int:
    """How many lines (rows or columns) from one edge are bar lines: the longer run of dark
    ones or of light ones.

    Lines are taken in blocks that double in size, so a long bar costs few numpy calls."""
    runs: dict[bool, int] = {}  # dark or light: where its run ended
    done, block = 0, 4
    while done < length and len(runs) < 2:
        end = min(length, done + block)
        pixels = lines(length - end, length - done, rows) if from_end \
            else lines(done, end, rows)
        for dark in (True, False):
            if dark in runs:
                continue
            # Each line's share of bar pixels: a mean of 0s and 1s, exact in any order.
            bars = _bar_pixels(pixels, dark).mean(axis=1 if rows else 0) >= _BAR_SHARE
            misses = np.flatnonzero(~(bars[::-1] if from_end else bars))
            if misses.size:
                runs[dark] = done + int(misses[0])
        done, block = end, block * 2
    return max(runs.get(True, length), runs.get(False, length))


def _bar_pixels(pixels: np.ndarray, dark: bool) -> np.ndarray:
    """Near-black pixels (every channel <= _DARK) or near-white ones (every one >= _LIGHT).
    Channel by channel: numpy's max over a last axis of 3 is ten times slower."""
    channels = [pixels[..., c] for c in range(pixels.shape[2])] if pixels.ndim == 3 \
        else [pixels]
    found: np.ndarray = (np.maximum.reduce(channels) <= _DARK if dark
                         else np.minimum.reduce(channels) >= _LIGHT)
    return found


def _decoded(data: BinaryIO) -> Image.Image:
    return luma_or_rgb_image(data, PDQ_SIDE)


def _prepared(image: Image.Image, box: tuple[int, int, int, int] | None) -> np.ndarray:
    # Cropped and resized as a PIL image: the same pixels as through numpy, two copies fewer.
    if box is not None:
        image = image.crop(box)
    if max(image.size) > PDQ_SIDE:
        image = image.resize((PDQ_SIDE, PDQ_SIDE), Image.Resampling.BILINEAR)
    pixels = np.asarray(image)
    # pdqhash takes RGB only; three equal channels give back exactly this luma.
    return np.stack((pixels,) * 3, axis=2) if pixels.ndim == 2 else pixels


def _pdq(array: np.ndarray, trimmed: bool = False, position_ms: int | None = None) -> PdqHash:
    try:
        vector, quality = pdqhash.compute(array)
    except (ValueError, RuntimeError) as exc:
        raise MediaError(f"PDQ failed ({type(exc).__name__})") from exc
    return PdqHash(_bytes(vector), int(quality), position_ms, trimmed)


def _frame_hash(frame: Frame) -> PdqHash:
    image = frame.image.convert("RGB")
    box = letterbox(image)
    return _pdq(_prepared(image, box), trimmed=box is not None, position_ms=frame.position_ms)


def _bytes(vector: np.ndarray) -> bytes:
    return np.packbits(np.asarray(vector, dtype=np.uint8)).tobytes()


def pdq_image_and_variants(data: BinaryIO) -> tuple[list[PdqHash], list[bytes]]:
    """:func:`pdq_image`'s hashes and the primary's 7 other rotations and flips, from one
    decode: what an image's fingerprints are made of."""
    image = _decoded(data)
    box = letterbox(image)
    try:
        vectors, quality = pdqhash.compute_dihedral(_prepared(image, box))
    except (ValueError, RuntimeError) as exc:
        raise MediaError(f"PDQ failed ({type(exc).__name__})") from exc
    hashes = [_bytes(v) for v in vectors]
    primary = PdqHash(hashes[0], int(quality), None, box is not None)
    found = [primary]
    if box is not None:
        whole = _pdq(_prepared(image, None))
        if whole.hash != primary.hash:
            found.append(whole)
    return found, hashes[1:]


# -- the enricher ----------------------------------------------------------------------------

IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/tiff", "image/webp", "image/bmp",
                         "image/gif", "image/x-ms-bmp", "image/avif"})


class FingerprintsEnricher:
    """PDQ of images (with their rotations and flips) and of video frames; MinHash of texts."""

    name = "fingerprints"
    # The preprocessing and shingling decide which hashes agree: part of the version, as a
    # digest (the records keep 64 characters of a version).
    version = f"{FINGERPRINTS_VERSION}+" + hashlib.sha256(
        f"{PDQ_PREPROCESS}\n{TEXT_SIMILARITY_VERSION}".encode()).hexdigest()[:12]
    needs: tuple[str, ...] = ("text", "ocr")

    def accepts(self, subject: Subject) -> bool:
        return bool(subject.text and subject.text.strip()) or (
            subject.blob_path is not None and _picture_kind(subject.media_type) is not None)

    def run(self, subject: Subject) -> Output:
        output = Output()
        picture = _picture_kind(subject.media_type) if subject.blob_path else None
        try:
            if picture == "image":
                with subject.open() as fh:
                    hashes, variants = pdq_image_and_variants(fh)
                output.fingerprints += [Fingerprint("pdq", h.hash, h.quality) for h in hashes]
                output.fingerprints.append(Fingerprint("pdq-variants", b"".join(variants)))
            elif picture == "video":
                assert subject.blob_path is not None
                output.fingerprints += [Fingerprint("pdq-frame", h.hash, h.quality,
                                                    h.position_ms)
                                        for h in pdq_video(subject.blob_path,
                                                           notes=output.notes)]
        except MediaError as exc:
            raise EnrichError(str(exc)) from None
        if subject.text and subject.text.strip():
            output.fingerprints.append(Fingerprint("minhash", signature(subject.text)))
        return output


def _picture_kind(media_type: str | None) -> str | None:
    if media_type in IMAGE_TYPES:
        return "image"
    if media_type is not None and media_type.startswith("video/"):
        return "video"
    return None
