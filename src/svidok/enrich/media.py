"""Media metadata and pictures derived from media: EXIF and GPS, device, audio and video
streams, image thumbnails and video keyframes.

Metadata is what the file says about itself (camera clock, GPS fix, device), which a person
weighs against the capture context; nothing here corrects or interprets it beyond turning
it into plain values: EXIF dates become ISO text with the offset the camera wrote (no time
zone is guessed), GPS rationals become signed decimal degrees, and anything malformed is
left out rather than guessed. Thumbnails and keyframes are JPEGs without metadata, so a
derived picture never carries the original's GPS position further.

Decoding limits (bombs, hostile containers, endless videos) live in
:mod:`svidok.enrich.media_decoding`; every failure is a :class:`MediaError`.
"""

from __future__ import annotations

import io
import json
import math
import re
from collections.abc import Iterator
from typing import Any, BinaryIO

from PIL import ExifTags, Image

from svidok.enrich.enricher import Annotation, Artifact, EnrichError, Output, Subject
from svidok.enrich.media_decoding import (
    MAX_SAMPLED_FRAMES,
    Frame,
    MediaError,
    open_av,
    open_image,
    rgb_image,
    video_frames,
)

__all__ = ["MEDIA_VERSION", "Frame", "MediaEnricher", "MediaError", "av_metadata",
           "frame_jpeg", "image_metadata", "keyframes", "thumbnail", "video_frames"]

MEDIA_VERSION = "1"
JPEG_QUALITY = 85
_MAX_TEXT = 256   # one metadata value
_MAX_TAGS = 64    # container tags kept

# EXIF tags kept as text: when, with what, by whom the file says it was made.
_BASE_TAGS = {0x010F: "Make", 0x0110: "Model", 0x0131: "Software", 0x0132: "DateTime",
              0x010E: "ImageDescription", 0x013B: "Artist", 0x8298: "Copyright",
              0x0112: "Orientation"}
_EXIF_TAGS = {0x9003: "DateTimeOriginal", 0x9004: "DateTimeDigitized",
              0x9010: "OffsetTime", 0x9011: "OffsetTimeOriginal", 0x9291: "SubSecTimeOriginal",
              0xA433: "LensMake", 0xA434: "LensModel", 0xA431: "BodySerialNumber",
              0xA420: "ImageUniqueID", 0x829A: "ExposureTime", 0x829D: "FNumber",
              0x8827: "ISOSpeedRatings", 0x920A: "FocalLength", 0x9209: "Flash",
              0xA002: "PixelXDimension", 0xA003: "PixelYDimension"}
_GPS_TAGS = {1: "GPSLatitudeRef", 2: "GPSLatitude", 3: "GPSLongitudeRef", 4: "GPSLongitude",
             5: "GPSAltitudeRef", 6: "GPSAltitude", 7: "GPSTimeStamp", 29: "GPSDateStamp"}

_EXIF_DATE = re.compile(r"(\d{4}):(\d{2}):(\d{2})[ T](\d{2}):(\d{2}):(\d{2})")
_OFFSET = re.compile(r"[+-]\d{2}:\d{2}")
_APPLE_LOCATION = "com.apple.quicktime.location.ISO6709"
_ISO6709 = re.compile(r"([+-]\d+(?:\.\d+)?)([+-]\d+(?:\.\d+)?)([+-]\d+(?:\.\d+)?)?")


# -- images ---------------------------------------------------------------------------------

def image_metadata(data: BinaryIO) -> dict[str, Any]:
    """Size (as displayed, EXIF orientation applied), format, camera time, device, GPS, EXIF.

    Reads the header and metadata only; pixels are not decoded, so a picture whose pixel data
    is damaged still gives its metadata. A malformed EXIF block leaves ``exif`` empty and
    says so in ``exif_error``.
    """
    image = open_image(data)
    width, height = image.size
    exif: dict[str, str] = {}
    gps_tags: dict[str, Any] = {}
    exif_error = None
    try:
        exif, gps_tags = _read_exif(image)
    except (OSError, ValueError, SyntaxError, EOFError, IndexError, KeyError, TypeError,
            ZeroDivisionError) as exc:
        exif_error = f"EXIF does not parse ({type(exc).__name__})"
    orientation = _int(exif.get("Orientation"))
    if orientation in (5, 6, 7, 8):  # stored on its side
        width, height = height, width
    return {
        "width": width,
        "height": height,
        "format": image.format,
        "orientation": orientation,
        "taken_at": _taken_at(exif),
        "device": {"make": exif.get("Make"), "model": exif.get("Model"),
                   "software": exif.get("Software")},
        "gps": _gps(gps_tags),
        "exif": exif,
        "exif_error": exif_error,
    }


def _read_exif(image: Image.Image) -> tuple[dict[str, str], dict[str, Any]]:
    raw = image.getexif()
    exif = {name: _text(raw[tag]) for tag, name in _BASE_TAGS.items() if tag in raw}
    sub = raw.get_ifd(ExifTags.IFD.Exif)
    exif.update({name: _text(sub[tag]) for tag, name in _EXIF_TAGS.items() if tag in sub})
    gps = raw.get_ifd(ExifTags.IFD.GPSInfo)
    gps_tags = {name: gps[tag] for tag, name in _GPS_TAGS.items() if tag in gps}
    exif.update({name: _text(value) for name, value in gps_tags.items()})
    return {k: v for k, v in exif.items() if v}, gps_tags


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    elif isinstance(value, tuple):
        value = " ".join(_text(v) for v in value)
    return str(value).replace("\x00", "").strip()[:_MAX_TEXT]


def _int(value: str | None) -> int | None:
    return int(value) if value is not None and value.isdigit() else None


def _taken_at(exif: dict[str, str]) -> str | None:
    """The camera's clock as ISO 8601 text, with sub-seconds and offset when the file has them."""
    for tag, subsec, offset in (("DateTimeOriginal", "SubSecTimeOriginal", "OffsetTimeOriginal"),
                                ("DateTimeDigitized", None, "OffsetTime"),
                                ("DateTime", None, "OffsetTime")):
        match = _EXIF_DATE.fullmatch(exif.get(tag, ""))
        if match is None or match.group(1) == "0000" or match.group(2) == "00":
            continue  # "0000:00:00 00:00:00" is how cameras write "unknown"
        y, mo, d, h, mi, s = match.groups()
        text = f"{y}-{mo}-{d}T{h}:{mi}:{s}"
        fraction = exif.get(subsec or "", "")
        if fraction.isdigit():
            text += f".{fraction}"
        zone = exif.get(offset, "")
        if _OFFSET.fullmatch(zone):
            text += zone
        return text
    return None


def _gps(tags: dict[str, Any]) -> dict[str, float | None] | None:
    latitude = _degrees(tags.get("GPSLatitude"), tags.get("GPSLatitudeRef"), "S", 90)
    longitude = _degrees(tags.get("GPSLongitude"), tags.get("GPSLongitudeRef"), "W", 180)
    if latitude is None or longitude is None:
        return None
    altitude = _float(tags.get("GPSAltitude"))
    if altitude is not None and tags.get("GPSAltitudeRef") in (1, b"\x01"):
        altitude = -altitude  # below sea level
    return {"latitude": latitude, "longitude": longitude, "altitude": altitude}


def _degrees(value: Any, ref: Any, negative: str, bound: float) -> float | None:
    if not isinstance(value, tuple) or len(value) != 3:
        return None
    parts = [_float(v) for v in value]
    if any(p is None for p in parts):
        return None
    d, m, s = (p or 0.0 for p in parts)
    degrees = d + m / 60 + s / 3600
    if isinstance(ref, bytes):
        ref = ref.decode("ascii", "replace")
    if isinstance(ref, str) and ref.strip("\x00 ").upper() == negative:
        degrees = -degrees
    return round(degrees, 7) if abs(degrees) <= bound else None


def _float(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return number if math.isfinite(number) else None


def thumbnail(data: BinaryIO, max_side: int = 320) -> bytes:
    """A JPEG of the picture upright, its longest side at most ``max_side``, no metadata."""
    if max_side <= 0:
        raise ValueError("max_side must be positive")
    return frame_jpeg(rgb_image(data, draft_side=max_side), max_side)


def frame_jpeg(image: Image.Image, max_side: int = 640) -> bytes:
    """An RGB picture shrunk to ``max_side`` and encoded as a JPEG without metadata."""
    small = image.copy()
    small.thumbnail((max_side, max_side), Image.Resampling.BILINEAR)
    out = io.BytesIO()
    try:
        small.save(out, "JPEG", quality=JPEG_QUALITY)
    except (OSError, ValueError) as exc:
        raise MediaError(f"JPEG encoding failed ({type(exc).__name__})") from exc
    return out.getvalue()


# -- audio and video ------------------------------------------------------------------------

def av_metadata(path: str) -> dict[str, Any]:
    """Container, duration, bit rate, creation time, tags, GPS and streams of audio or video.

    Reads the container's header only (FFmpeg probes the first few MB); nothing is decoded.
    """
    import av

    container = open_av(path)
    try:
        tags = _tags(container.metadata)
        streams = [_stream(s) for s in container.streams]
        creation = tags.get("creation_time") or next(
            (s["tags"]["creation_time"] for s in streams if "creation_time" in s["tags"]), None)
        duration = container.duration
        return {
            "container": container.format.name,
            "duration_s": round(duration / 1_000_000, 3) if duration else None,
            "bit_rate": container.bit_rate or None,
            "creation_time": creation,
            "tags": tags,
            "gps": _iso6709(tags.get("location") or tags.get(_APPLE_LOCATION)),
            "streams": [{k: v for k, v in s.items() if k != "tags"} for s in streams],
        }
    except (av.FFmpegError, OSError, ValueError, AttributeError) as exc:
        raise MediaError(f"audio or video header does not read ({type(exc).__name__})") from exc
    finally:
        container.close()


def _tags(metadata: Any) -> dict[str, str]:
    items = list(dict(metadata).items())[:_MAX_TAGS]
    return {_text(k)[:64]: _text(v) for k, v in items}


def _stream(stream: Any) -> dict[str, Any]:
    context = stream.codec_context
    found: dict[str, Any] = {"type": stream.type, "codec": context.name if context else None,
                             "tags": _tags(stream.metadata)}
    if stream.type == "video":
        rate = stream.average_rate or stream.guessed_rate
        found.update(width=context.width or None, height=context.height or None,
                     fps=round(float(rate), 3) if rate else None, frames=stream.frames or None)
    elif stream.type == "audio":
        found.update(sample_rate=context.sample_rate or None,
                     channels=context.layout.nb_channels or None)
    return found


def _iso6709(text: str | None) -> dict[str, float | None] | None:
    """"+47.0951+037.5413+150.000/" (as phones tag videos) in decimal degrees."""
    match = _ISO6709.match(text or "")
    if match is None:
        return None
    latitude, longitude = float(match.group(1)), float(match.group(2))
    if abs(latitude) > 90 or abs(longitude) > 180:
        return None
    altitude = float(match.group(3)) if match.group(3) else None
    return {"latitude": latitude, "longitude": longitude, "altitude": altitude}


def keyframes(path: str, every_s: float = 1.0, max_side: int = 640,
              limit: int = MAX_SAMPLED_FRAMES) -> Iterator[tuple[int, bytes]]:
    """(time in ms, JPEG) for the first frame at or after every ``every_s`` seconds."""
    for frame in video_frames(path, every_s, limit):
        yield frame.position_ms, frame_jpeg(frame.image, max_side)


def keyframe(frame: Frame, max_side: int = 640) -> tuple[int, bytes]:
    """One sampled frame as a keyframe artifact, for callers that also hash the same frames."""
    return frame.position_ms, frame_jpeg(frame.image, max_side)


# -- the enricher ----------------------------------------------------------------------------

THUMBNAIL_SIDE = 320
KEYFRAME_SIDE = 480
# Keyframes kept per video: an hour at 1 frame/s (about 100 MB of JPEGs). A longer video's
# frames are still all hashed by the fingerprints enricher; only their pictures stop here.
MAX_KEYFRAMES = 3_600
_NOT_DECODED = frozenset({"image/svg+xml", "image/vnd.djvu", "image/x-icon"})


class MediaEnricher:
    """What an image, a video or a sound file says about itself, a thumbnail, and keyframes
    of a video at one a second."""

    name = "media"
    version = MEDIA_VERSION
    needs: tuple[str, ...] = ()

    def accepts(self, subject: Subject) -> bool:
        return subject.blob_path is not None and _media_kind(subject.media_type) is not None

    def run(self, subject: Subject) -> Output:
        try:
            return self._read(subject)
        except MediaError as exc:
            raise EnrichError(str(exc)) from None

    def _read(self, subject: Subject) -> Output:
        assert subject.blob_path is not None
        kind = _media_kind(subject.media_type)
        output = Output()
        if kind == "image":
            with subject.open() as fh:
                facts = image_metadata(fh)
            output.artifacts.append(_facts(facts))
            try:
                with subject.open() as fh:
                    output.artifacts.append(Artifact("thumbnail", "image/jpeg",
                                                     data=thumbnail(fh, THUMBNAIL_SIDE)))
            except MediaError as exc:
                # The header read, the pixels did not: the facts are still worth keeping.
                output.notes.append(f"no thumbnail: {exc}")
        else:
            facts = av_metadata(subject.blob_path)
            output.artifacts.append(_facts(facts))
            if kind == "video":
                self._keyframes(subject.blob_path, output)
        output.annotations += _claims(facts)
        return output

    def _keyframes(self, path: str, output: Output) -> None:
        count = 0
        try:
            for frame in video_frames(path, 1.0, MAX_KEYFRAMES + 1):
                if count == MAX_KEYFRAMES:
                    output.notes.append(f"keyframes kept for the first {MAX_KEYFRAMES:,} "
                                        "seconds only")
                    break
                if count == 0:
                    output.artifacts.append(Artifact(
                        "thumbnail", "image/jpeg", data=frame_jpeg(frame.image,
                                                                   THUMBNAIL_SIDE)))
                output.artifacts.append(Artifact(
                    "keyframe", "image/jpeg", data=frame_jpeg(frame.image, KEYFRAME_SIDE),
                    position_ms=frame.position_ms))
                count += 1
        except MediaError as exc:
            if count == 0:
                raise
            output.notes.append(f"keyframes stop at {count} s: {exc}")


def _media_kind(media_type: str | None) -> str | None:
    if media_type is None or media_type in _NOT_DECODED:
        return None
    for kind in ("image", "video", "audio"):
        if media_type.startswith(kind + "/"):
            return kind
    return None


def _facts(facts: dict[str, Any]) -> Artifact:
    return Artifact("metadata", "application/json",
                    content=json.dumps(facts, ensure_ascii=False, sort_keys=True, default=str))


def _claims(facts: dict[str, Any]) -> list[Annotation]:
    """What the file claims about when and where it was made, as suggestions to weigh."""
    found = []
    gps = facts.get("gps")
    if gps and gps.get("latitude") is not None and gps.get("longitude") is not None:
        found.append(Annotation("gps", f"{gps['latitude']:.6f},{gps['longitude']:.6f}",
                                data={"claimed_by": "file metadata", **gps}))
    taken = facts.get("taken_at") or facts.get("creation_time")
    if taken:
        found.append(Annotation("taken-at", str(taken), data={"claimed_by": "file metadata"}))
    device = facts.get("device") or {}
    named = " ".join(str(v) for v in (device.get("make"), device.get("model")) if v)
    if named:
        found.append(Annotation("device", named, data={"claimed_by": "file metadata"}))
    return found
