"""Bounded decoding of untrusted images and videos, shared by media metadata and fingerprints.

Everything here treats its input as hostile: a collected file may be corrupt, truncated, a
decompression bomb (a few KB declaring gigapixels), a playlist that makes FFmpeg open other
files or URLs, or a video whose timestamps never end. So:

* images: the pixel count is checked from the header, before any pixel is decoded, against
  Pillow's limit (89.5 MP unless a program changed it; Pillow only warns below twice that,
  here it is an error) and against :data:`MAX_PIXELS` should a program have raised Pillow's;
* videos: only ordinary media demuxers are allowed (no HLS, concat, image sequences: they read
  other files), only the ``file`` protocol, at most :data:`MAX_VIDEO_SECONDS` of media and
  :data:`MAX_DECODED_FRAMES` decoded frames, one frame in memory at a time;
* every failure is a :class:`MediaError` whose message says what failed and the library's
  error class, never the library's message (it may quote a path or metadata).
"""

from __future__ import annotations

import math
import struct
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from PIL import Image, ImageOps

MAX_PIXELS = 100_000_000          # an image or a video frame; beyond any camera
MAX_VIDEO_SECONDS = 4 * 3600      # media time decoded from one video
MAX_DECODED_FRAMES = 1_000_000    # 4 h at 60 fps is 864,000
MAX_SAMPLED_FRAMES = 14_400       # frames handed out: 4 h at 1 frame/s

# Demuxer names as FFmpeg spells them; anything else (hls, concat, image2, tee …) is refused
# before it can open a nested file or URL.
AV_FORMATS = ("mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,avi,flv,mpegts,mpeg,ogg,wav,mp3,aac,"
              "flac,asf,amr,gif,caf,aiff,m4v,h264,hevc,3gp,ivf,w64,wv")
_AV_OPTIONS = {"format_whitelist": AV_FORMATS, "protocol_whitelist": "file"}

# What Pillow's decoders raise on malformed input (plugins differ); programming errors aside,
# these all mean "this file is bad".
_PIL_ERRORS = (OSError, ValueError, SyntaxError, EOFError, IndexError, KeyError, TypeError,
               ZeroDivisionError, struct.error, Image.DecompressionBombError,
               Image.DecompressionBombWarning)


class MediaError(Exception):
    """An image or video that cannot be read within limits; the message names no content."""


def _fail(what: str, exc: BaseException) -> MediaError:
    return MediaError(f"{what} ({type(exc).__name__})")


def open_image(data: BinaryIO) -> Image.Image:
    """The image's header read and its size checked; pixels are decoded later, on demand."""
    try:
        with warnings.catch_warnings():
            # Pillow only warns between its limit and twice that; a bomb is an error here
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(data)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise MediaError("image refused: more pixels than the decompression-bomb limit") from exc
    except _PIL_ERRORS as exc:
        raise _fail("not a readable image", exc) from exc
    width, height = image.size
    if width <= 0 or height <= 0:
        raise MediaError("image has no pixels")
    if width * height > MAX_PIXELS:
        raise MediaError(f"image refused: {width}x{height} is more than {MAX_PIXELS} pixels")
    return image


def rgb_image(data: BinaryIO, draft_side: int | None = None) -> Image.Image:
    """The first frame decoded, turned upright by its EXIF orientation, as RGB.

    ``draft_side`` lets a JPEG decode at 1/2, 1/4 or 1/8 scale while both sides stay at least
    that long — 3–4 times less work for a picture that is about to be shrunk anyway.
    """
    image = open_image(data)
    try:
        if draft_side is not None and image.format == "JPEG":
            image.draft("RGB", (draft_side, draft_side))
        image.load()
        # In place: otherwise an upright picture (most are) is copied whole for nothing.
        ImageOps.exif_transpose(image, in_place=True)
        return _to_rgb(image)
    except Image.DecompressionBombError as exc:
        raise MediaError("image refused: more pixels than the decompression-bomb limit") from exc
    except _PIL_ERRORS as exc:
        raise _fail("image does not decode", exc) from exc


def luma_or_rgb_image(data: BinaryIO, side: int) -> Image.Image:
    """A JPEG with a side over ``side`` px as its luma ("L"), otherwise :func:`rgb_image`.

    For perceptual hashing, which reads luma only: the JPEG's own Y channel is decoded at a
    draft scale with no chroma upsampling or colour conversion (a third less time), and Y is
    the luma PDQ computes from RGB (0.299 R + 0.587 G + 0.114 B) before the rounding of a
    round trip through RGB: hashes agree within 2 bits. Pictures of ``side`` px or less go
    through RGB so that they hash exactly as the reference tools do.
    """
    image = open_image(data)
    if image.format != "JPEG" or max(image.size) <= side:
        data.seek(0)
        return rgb_image(data, draft_side=side)
    try:
        image.draft("L", (side, side))
        image.load()
        ImageOps.exif_transpose(image, in_place=True)
        return image if image.mode == "L" else _to_rgb(image)  # CMYK cannot draft to L
    except Image.DecompressionBombError as exc:
        raise MediaError("image refused: more pixels than the decompression-bomb limit") from exc
    except _PIL_ERRORS as exc:
        raise _fail("image does not decode", exc) from exc


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode == "RGB":
        return image
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit greyscale (scans, TIFF): keep the top 8 bits, not a clipped white picture
        image = image.point(lambda v: v / 256).convert("L")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return image.convert("RGB")


# -- video ----------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Frame:
    """A decoded video frame, upright, RGB, at its own resolution."""

    position_ms: int
    image: Image.Image


def open_av(path: str) -> Any:
    """An opened PyAV container (close it), limited to ordinary media demuxers and local files."""
    import av  # loaded only by the enrichers that read audio or video

    try:
        return av.open(path, options=dict(_AV_OPTIONS))
    except (av.FFmpegError, OSError, ValueError, EOFError) as exc:
        raise _fail("not a readable audio or video file", exc) from exc


def video_frames(path: str, every_s: float = 1.0, limit: int = MAX_SAMPLED_FRAMES,
                 only_keyframes: bool = False, notes: list[str] | None = None
                 ) -> Iterator[Frame]:
    """The first frame at or after every ``every_s`` seconds of the first video stream.

    The video is decoded once, in order, one frame at a time; callers that want keyframe JPEGs
    and frame hashes take both from the same frames. ``only_keyframes`` decodes I-frames only
    (about 5 times faster, for bulk backfill) and then samples among them. When decoding
    stops at :data:`MAX_VIDEO_SECONDS` or :data:`MAX_DECODED_FRAMES` with more video left,
    a line saying so goes to ``notes``: the caller records that the rest was not looked at.
    """
    if not every_s > 0:
        raise ValueError("every_s must be positive")
    import av

    container = open_av(path)
    try:
        if not container.streams.video:
            raise MediaError("no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        if only_keyframes:
            stream.codec_context.skip_frame = "NONKEY"
        yield from _sample(container.decode(stream), stream, every_s, limit,
                           [] if notes is None else notes)
    except MediaError:
        raise
    except (av.FFmpegError, OSError, ValueError, EOFError, MemoryError) as exc:
        raise _fail("video does not decode", exc) from exc
    finally:
        container.close()


def _sample(frames: Iterator[Any], stream: Any, every_s: float, limit: int, notes: list[str]
            ) -> Iterator[Frame]:
    start = stream.start_time or 0
    time_base = float(stream.time_base) if stream.time_base else None
    rate = float(stream.average_rate) if stream.average_rate else None
    next_s = 0.0
    handed = 0
    for decoded, frame in enumerate(frames):
        if decoded >= MAX_DECODED_FRAMES:
            notes.append(f"the video was decoded for its first {MAX_DECODED_FRAMES:,} "
                         "frames only")
            return
        if frame.pts is not None and time_base is not None:
            seconds = (frame.pts - start) * time_base
        elif rate:
            seconds = decoded / rate  # no timestamps: count frames
        else:
            raise MediaError("video frames carry no time")
        if seconds > MAX_VIDEO_SECONDS:
            notes.append(f"the video was decoded for its first {MAX_VIDEO_SECONDS / 3600:g} "
                         "hours only")
            return
        if handed >= limit:
            return
        if seconds < next_s - 0.0005:
            continue
        if frame.width * frame.height > MAX_PIXELS:
            raise MediaError(f"video frame refused: more than {MAX_PIXELS} pixels")
        yield Frame(max(0, round(seconds * 1000)), frame.to_image())
        handed += 1
        next_s = (math.floor(seconds / every_s + 1e-6) + 1) * every_s
