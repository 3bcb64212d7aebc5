"""Regenerates the media fixtures of this folder (see PROVENANCE.md): python make_fixtures.py.

Synthetic content only — no photograph of anyone or anywhere. Needs Pillow, numpy and the
ffmpeg command line.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
from PIL import ExifTags, Image

HERE = Path(__file__).parent


def picture(width: int, height: int) -> Image.Image:
    """Smooth shapes and a gradient: textured enough for a PDQ quality of 100."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    red = 128 + 100 * np.sin(x / 17.0) * np.cos(y / 23.0)
    green = 255 * x / width
    blue = 128 + 120 * np.sin((x + 2 * y) / 31.0)
    rgb = np.stack([red, green, blue], axis=2)
    rgb[height // 4: height // 2, width // 5: width // 2] = (240, 30, 30)
    return Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8))


def camera_jpeg() -> None:
    """320×240 stored sideways (orientation 6), with camera, time and a GPS fix in EXIF."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "ExampleCam"
    exif[ExifTags.Base.Model] = "EC-1 Mark II"
    exif[ExifTags.Base.Software] = "ExampleCam Firmware 1.0"
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.DateTime] = "2024:03:01 12:30:45"
    sub = exif.get_ifd(ExifTags.IFD.Exif)
    sub[ExifTags.Base.DateTimeOriginal] = "2024:03:01 12:30:45"
    sub[ExifTags.Base.OffsetTimeOriginal] = "+02:00"
    sub[ExifTags.Base.SubsecTimeOriginal] = "25"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (47.0, 5.0, 42.36)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (37.0, 32.0, 28.68)
    gps[ExifTags.GPS.GPSAltitudeRef] = b"\x00"
    gps[ExifTags.GPS.GPSAltitude] = 95.5
    picture(320, 240).save(HERE / "camera_gps.jpg", "JPEG", quality=85, exif=exif)


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True)


def clip() -> None:
    """3 s, 160×120, 10 frames/s, H.264 and AAC, with creation time and an ISO 6709 location."""
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=160x120:rate=10", "-f", "lavfi",
           "-i", "sine=frequency=440", "-t", "3", "-pix_fmt", "yuv420p", "-c:v", "libx264",
           "-g", "10", "-c:a", "aac", "-b:a", "32k", "-metadata",
           "creation_time=2024-03-01T10:00:00Z", "-metadata", "location=+47.0951+037.5413/",
           "-map_metadata", "-1", "-fflags", "+bitexact", str(HERE / "clip.mp4"))


def tone() -> None:
    """1 s of a 440 Hz sine, Ogg Vorbis."""
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=1", "-c:a", "libvorbis",
           "-fflags", "+bitexact", str(HERE / "tone.ogg"))


if __name__ == "__main__":
    camera_jpeg()
    clip()
    tone()
