"""Media metadata, thumbnails and keyframes: what a file says about itself (camera, time,
GPS, streams), pictures derived without its metadata, and bad files refused with MediaError."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from media_samples import (
    CAMERA_JPEG,
    CLIP,
    GARBAGE,
    IMAGES,
    TONE,
    bomb_png,
    read,
    truncated,
)
from PIL import Image

from svidok.enrich.media import (
    MEDIA_VERSION,
    MediaError,
    av_metadata,
    image_metadata,
    keyframes,
    thumbnail,
)


def opened(jpeg: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(jpeg))
    assert image.format == "JPEG"
    return image


def test_media_version_is_recorded_with_artifacts() -> None:
    assert MEDIA_VERSION


# -- images ----------------------------------------------------------------------------------

def test_camera_time_device_and_gps_are_read_from_exif() -> None:
    found = image_metadata(read(CAMERA_JPEG))
    assert found["format"] == "JPEG"
    assert found["orientation"] == 6
    assert (found["width"], found["height"]) == (240, 320)  # as displayed: stored sideways
    assert found["taken_at"] == "2024-03-01T12:30:45.25+02:00"  # the camera's clock, as written
    assert found["device"] == {"make": "ExampleCam", "model": "EC-1 Mark II",
                               "software": "ExampleCam Firmware 1.0"}
    assert found["gps"] == {"latitude": pytest.approx(47.0951), "longitude":
                            pytest.approx(37.5413), "altitude": pytest.approx(95.5)}
    assert found["exif"]["DateTimeOriginal"] == "2024:03:01 12:30:45"
    assert found["exif_error"] is None


def test_a_picture_without_exif_has_no_time_device_or_gps() -> None:
    found = image_metadata(read(IMAGES / "rgb.jpeg"))
    assert (found["width"], found["height"], found["orientation"]) == (256, 256, None)
    assert found["taken_at"] is None and found["gps"] is None and found["exif"] == {}
    assert found["device"] == {"make": None, "model": None, "software": None}


def test_southern_and_western_coordinates_are_negative(tmp_path: Path) -> None:
    from PIL import ExifTags

    exif = Image.Exif()
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps.update({1: "S", 2: (33.0, 51.0, 0.0), 3: "W", 4: (151.0, 12.0, 36.0),
                5: b"\x01", 6: 10.0})
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, "JPEG", exif=exif)
    out.seek(0)
    found = image_metadata(out)["gps"]
    assert found == {"latitude": pytest.approx(-33.85), "longitude": pytest.approx(-151.21),
                     "altitude": -10.0}


def test_an_unknown_camera_date_is_not_a_date() -> None:
    from PIL import ExifTags

    exif = Image.Exif()
    exif[ExifTags.Base.DateTime] = "0000:00:00 00:00:00"
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, "JPEG", exif=exif)
    out.seek(0)
    assert image_metadata(out)["taken_at"] is None


def test_a_thumbnail_is_upright_small_and_carries_no_metadata() -> None:
    thumb = opened(thumbnail(read(CAMERA_JPEG), max_side=160))
    assert thumb.size == (120, 160)  # stored 320×240 sideways: displayed 240×320
    assert not thumb.getexif()  # no GPS travels with derived pictures


def test_a_large_picture_is_shrunk_to_its_longest_side() -> None:
    assert opened(thumbnail(read(IMAGES / "bridge-1-original.jpg"))).size == (320, 201)


def test_a_small_picture_is_not_enlarged() -> None:
    assert opened(thumbnail(read(IMAGES / "wee.jpg"))).size == (34, 42)


def test_transparent_pictures_are_flattened_on_white() -> None:
    out = io.BytesIO()
    Image.new("RGBA", (40, 40), (0, 0, 0, 0)).save(out, "PNG")
    out.seek(0)
    assert opened(thumbnail(out)).convert("RGB").getpixel((20, 20)) == (255, 255, 255)


@pytest.mark.parametrize("bad", [
    pytest.param(lambda: io.BytesIO(GARBAGE), id="garbage"),
    pytest.param(lambda: bomb_png(100_000, 100_000), id="bomb-10-gigapixels"),
    pytest.param(lambda: bomb_png(12_000, 10_000), id="bomb-120-megapixels"),
])
def test_unreadable_pictures_and_bombs_raise_media_error(bad: object) -> None:
    with pytest.raises(MediaError):
        image_metadata(bad())  # type: ignore[operator]
    with pytest.raises(MediaError):
        thumbnail(bad())  # type: ignore[operator]


def test_a_truncated_jpeg_still_gives_metadata_but_no_thumbnail() -> None:
    assert image_metadata(truncated(CAMERA_JPEG, 0.6))["device"]["make"] == "ExampleCam"
    with pytest.raises(MediaError, match="does not decode"):
        thumbnail(truncated(CAMERA_JPEG, 0.6))


# -- audio and video -------------------------------------------------------------------------

def test_video_metadata() -> None:
    found = av_metadata(str(CLIP))
    assert found["container"].startswith("mov,mp4")
    assert found["duration_s"] == pytest.approx(3.0, abs=0.1)
    assert found["bit_rate"] > 0
    assert found["creation_time"].startswith("2024-03-01T10:00:00")
    assert found["gps"] == {"latitude": 47.0951, "longitude": 37.5413, "altitude": None}
    video, audio = found["streams"]
    assert video == {"type": "video", "codec": "h264", "width": 160, "height": 120,
                     "fps": 10.0, "frames": 30}
    assert audio == {"type": "audio", "codec": "aac", "sample_rate": 44100, "channels": 1}


def test_audio_metadata() -> None:
    found = av_metadata(str(TONE))
    assert found["container"] == "ogg"
    assert found["duration_s"] == pytest.approx(1.0, abs=0.05)
    assert found["creation_time"] is None and found["gps"] is None
    assert found["streams"] == [{"type": "audio", "codec": "vorbis", "sample_rate": 44100,
                                 "channels": 1}]


def test_keyframes_once_a_second() -> None:
    frames = list(keyframes(str(CLIP)))
    assert [ms for ms, _ in frames] == [0, 1000, 2000]
    assert all(opened(jpeg).size == (160, 120) for _, jpeg in frames)


def test_keyframes_are_shrunk_and_limited() -> None:
    frames = list(keyframes(str(CLIP), every_s=0.5, max_side=80, limit=4))
    assert [ms for ms, _ in frames] == [0, 500, 1000, 1500]
    assert opened(frames[0][1]).size == (80, 60)


@pytest.mark.parametrize("content", [
    pytest.param(lambda: GARBAGE, id="garbage"),
    pytest.param(lambda: truncated(CLIP, 0.5).getvalue(), id="truncated-mp4"),
    pytest.param(lambda: CAMERA_JPEG.read_bytes(), id="a-picture"),
    pytest.param(lambda: b"ffconcat version 1.0\nfile clip.mp4\n", id="concat-playlist"),
])
def test_unreadable_audio_or_video_raises_media_error(tmp_path: Path, content: object) -> None:
    (tmp_path / "clip.mp4").write_bytes(CLIP.read_bytes())
    bad = tmp_path / "bad.bin"
    bad.write_bytes(content())  # type: ignore[operator]
    with pytest.raises(MediaError) as raised:
        av_metadata(str(bad))
    with pytest.raises(MediaError):
        list(keyframes(str(bad)))
    assert str(tmp_path) not in str(raised.value)


def test_a_missing_file_raises_media_error(tmp_path: Path) -> None:
    with pytest.raises(MediaError):
        av_metadata(str(tmp_path / "absent.mp4"))
