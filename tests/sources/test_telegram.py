"""Telegram Desktop JSON exports: the real tg2md sample, exports written here in the current
format, and broken ones. Fixtures: tests/data/sources/telegram (see its PROVENANCE.md)."""

from __future__ import annotations

import json
import os
import tracemalloc
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from svidok.sources.telegram import ExportError, Message, Problem, read_export

DATA = Path(__file__).parents[1] / "data" / "sources" / "telegram"
TG2MD = DATA / "tg2md_private_channel"
KYIV = ZoneInfo("Europe/Kyiv")
MOSCOW = ZoneInfo("Europe/Moscow")


def messages(found: list[Message | Problem]) -> list[Message]:
    return [m for m in found if isinstance(m, Message)]


def problems(found: list[Message | Problem]) -> list[Problem]:
    return [p for p in found if isinstance(p, Problem)]


def write_export(folder: Path, root: dict[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "result.json"
    path.write_text(json.dumps(root, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def msg(msg_id: int, unix: int | None = None, **fields: Any) -> dict[str, Any]:
    """A message in the current format; a minute apart from the one before, unless told."""
    unix = 1_657_186_467 + 60 * msg_id if unix is None else unix
    base: dict[str, Any] = {"id": msg_id, "type": "message", "date": "2022-07-07T12:35:27",
                            "date_unixtime": str(unix), "from": "Kharkiv news",
                            "from_id": "channel1001", "text": ""}
    base.update(fields)
    return base


# -- the real export (2020-2021, local times only) ------------------------------------


def test_an_export_without_utc_times_needs_the_exporters_time_zone() -> None:
    with pytest.raises(ExportError, match="--tz Europe/Kyiv"):
        list(read_export(TG2MD / "result.json"))


def test_the_tg2md_channel_export() -> None:
    found = list(read_export(TG2MD / "result.json", tz=MOSCOW))
    assert problems(found) == []
    read = messages(found)
    # Ids 6, 12 and 16-20 were deleted before the export: gaps, not errors.
    assert [m.id for m in read] == [1, 2, 3, 4, 5, 7, 8, 9, 10, 11, 13, 14, 15, 21, 22, 23, 24,
                                    25, 26]
    first = read[0]
    assert (first.kind, first.action, first.sender_id) == ("service", "create_channel",
                                                            "channel1292077344")
    assert first.chat.id == 1292077344 and first.chat.type == "private_channel"
    assert first.time.isoformat() == "2020-11-12T09:53:52+00:00"  # 12:53:52 Moscow time
    assert first.time_source == "local"
    links = next(m for m in read if m.id == 14)
    assert links.links == ("http://example.com/", "example.com")
    assert links.text.startswith("text link\n\nexample.com")
    assert next(m for m in read if m.id == 21).text == "тестирование utf-8."
    assert next(m for m in read if m.id == 5).edited is not None
    document = next(m for m in read if m.id == 22)
    assert [(x.field, x.path, x.mime_type) for x in document.media] == [
        ("file", "files/dice.svg", "image/svg+xml"),
        ("thumbnail", "files/dice.svg_thumb.jpg", None)]
    assert [m.album for m in read if m.id in (22, 23, 24, 25, 26)] == [None, 23, 23, 23, None]
    voice = next(m for m in read if m.id == 7).media[0]
    assert (voice.media_type, voice.mime_type) == ("voice_message", "audio/ogg")
    assert read[1].post_link == "https://t.me/c/1292077344/2"


def test_the_older_export_of_the_same_channel_decodes_numeric_ids() -> None:
    read = messages(list(read_export(TG2MD / "result_2020-11-12_older_export.json", tz=MOSCOW)))
    assert {m.sender_id for m in read} == {"channel1292077344"}
    assert {m.chat.id for m in read} == {1292077344}


def test_hand_written_fixtures_without_ids_are_problems_not_crashes() -> None:
    for name in ("single_export_minimal.json", "full_export_minimal.json"):
        found = list(read_export(DATA / "chat-miner_minimal" / name, tz=KYIV))
        assert messages(found) == []
        assert {p.message for p in problems(found)} == {"a message has no numeric id"}


# -- the current format ---------------------------------------------------------------


def test_current_format_with_utc_times_entities_and_placeholders(tmp_path: Path) -> None:
    folder = tmp_path / "ChatExport_2022-07-07"
    (folder / "photos").mkdir(parents=True)
    (folder / "photos" / "photo_1@07-07-2022_12-35-27.jpg").write_bytes(b"jpeg")
    path = write_export(folder, {"name": "Kharkiv news", "type": "public_channel", "id": 1001,
                                 "messages": [
        msg(1, text=[{"type": "bold", "text": "Checkpoint"}, " at the bridge"],
            text_entities=[{"type": "bold", "text": "Checkpoint"},
                           {"type": "plain", "text": " at the bridge, "},
                           {"type": "text_link", "text": "video", "href": "https://e.example/v"}]),
        msg(2, photo="photos/photo_1@07-07-2022_12-35-27.jpg", photo_file_size=4),
        msg(3, photo="(File not included. Change data exporting settings to download.)"),
        msg(4, file="../../etc/passwd", media_type="video_file"),
        msg(5, file="/etc/passwd"),
        msg(6, file="photos/never-exported.mp4"),
        msg(7, reply_to_message_id=1, forwarded_from="Someone", via_bot="@bot",
            edited="2022-07-07T12:40:00", edited_unixtime="1657186800"),
        {"id": 8, "type": "service", "date": "2022-07-07T12:36:00",
         "date_unixtime": "1657186560", "actor": "Kharkiv news", "actor_id": "channel1001",
         "action": "pin_message", "message_id": 1, "text": ""},
        {"id": 9, "type": "unsupported", "date": "2022-07-07T12:37:00",
         "date_unixtime": "1657186620"},
    ]})
    found = list(read_export(path))  # UTC times: no time zone needed
    assert problems(found) == []
    read = {m.id: m for m in messages(found)}
    assert read[1].text == "Checkpoint at the bridge, video"
    assert read[1].links == ("https://e.example/v",)
    assert read[1].time.isoformat() == "2022-07-07T09:35:27+00:00"  # 12:35:27 in Kyiv
    assert read[1].time_source == "utc"
    assert read[2].media[0].path == "photos/photo_1@07-07-2022_12-35-27.jpg"
    assert read[2].media[0].size == 4
    assert read[3].media[0].path is None
    assert (read[3].media[0].missing or "").startswith("not in the export: File not included")
    assert "leaves the export folder" in (read[4].media[0].missing or "")
    assert "leaves the export folder" in (read[5].media[0].missing or "")
    assert read[6].media[0].missing == "listed in the export but not found in its folder"
    assert (read[7].reply_to, read[7].forwarded_from, read[7].via_bot) == (1, "Someone", "@bot")
    assert read[7].edited is not None
    assert read[7].edited.isoformat() == "2022-07-07T09:40:00+00:00"
    assert (read[8].kind, read[8].action, read[8].sender_id) == ("service", "pin_message",
                                                                 "channel1001")
    assert read[9].kind == "unsupported"
    assert all(m.album is None for m in read.values())  # different seconds: no album


def test_a_media_link_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "secret.txt"
    outside.write_text("not evidence")
    folder = tmp_path / "export"
    (folder / "files").mkdir(parents=True)
    os.symlink(outside, folder / "files" / "linked.txt")
    path = write_export(folder, {"id": 5, "type": "personal_chat",
                                 "messages": [msg(1, file="files/linked.txt")]})
    (media,) = messages(list(read_export(path)))[0].media
    assert media.path is None and "through a link" in (media.missing or "")


def test_a_full_export_reads_chats_and_left_chats(tmp_path: Path) -> None:
    path = write_export(tmp_path / "DataExport", {
        "about": "...", "personal_information": {"first_name": "X"},
        "chats": {"about": "", "list": [
            {"name": "A", "type": "private_group", "id": 1, "messages": [msg(1), msg(2)]},
            {"name": "B", "type": "personal_chat", "id": 2, "messages": [msg(1)]}]},
        "left_chats": {"about": "", "list": [
            {"name": "Banned channel", "type": "public_channel", "id": 3, "messages": [msg(9)]}]},
    })
    read = messages(list(read_export(path)))
    assert [(m.chat.name, m.chat.left, m.id) for m in read] == [
        ("A", False, 1), ("A", False, 2), ("B", False, 1), ("Banned channel", True, 9)]


def test_albums_are_grouped_by_sender_and_second_at_most_ten(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    (folder / "photos").mkdir(parents=True)
    (folder / "photos" / "p.jpg").write_bytes(b"x")
    second = 1_657_186_527
    same = [msg(i, second, photo="photos/p.jpg") for i in range(1, 13)]  # twelve in a second
    other = msg(13, second, photo="photos/p.jpg", from_id="user7")  # same second, other sender
    text = msg(14)
    path = write_export(folder, {"id": 1, "type": "public_channel",
                                 "messages": [*same, other, text]})
    albums = [m.album for m in messages(list(read_export(path)))]
    assert albums == [1] * 10 + [11, 11] + [None, None]


def test_local_times_around_clock_changes_are_marked(tmp_path: Path) -> None:
    old = {"type": "message", "from_id": "user1", "text": ""}
    path = write_export(tmp_path / "e", {"id": 1, "type": "personal_chat", "messages": [
        {**old, "id": 1, "date": "2021-10-31T03:30:00"},   # the clocks went back at 04:00
        {**old, "id": 2, "date": "2021-03-28T03:30:00"},   # 03:00 to 04:00 never happened
        {**old, "id": 3, "date": "2021-07-01T12:00:00"}]})
    read = messages(list(read_export(path, tz=KYIV)))
    assert "ambiguous" in (read[0].time_note or "")
    assert "did not exist" in (read[1].time_note or "")
    assert read[2].time_note is None and read[2].time.isoformat() == "2021-07-01T09:00:00+00:00"


# -- broken input ---------------------------------------------------------------------


def test_a_truncated_export_keeps_what_came_before(tmp_path: Path) -> None:
    path = write_export(tmp_path / "e", {"id": 1, "type": "personal_chat",
                                         "messages": [msg(i, text=f"m{i}") for i in range(1, 50)]})
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    found = list(read_export(path))
    read = messages(found)
    assert 10 < len(read) < 49 and [m.id for m in read] == list(range(1, len(read) + 1))
    (problem,) = problems(found)
    assert "malformed or ends early" in problem.message


@pytest.mark.parametrize("content", [
    b"", b"{", b"[1, 2]", b"\xff\xfe{", b'{"id": 1, "messages": [{"id": 1, "text": "\xff"}]}'])
def test_garbage_gives_a_problem_or_a_clear_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "result.json"
    path.write_bytes(content)
    try:
        found = list(read_export(path, tz=KYIV))
    except ExportError as exc:
        assert "not a Telegram Desktop JSON export" in str(exc)
    else:
        assert messages(found) == [] and problems(found)


def test_bad_fields_in_one_message_cost_only_that_message(tmp_path: Path) -> None:
    path = write_export(tmp_path / "e", {"id": 1, "type": "personal_chat", "messages": [
        msg(1), {"id": "two", "type": "message"}, msg(3, date_unixtime="soon"),
        msg(4, type="story"), [1, 2], msg(6)]})
    found = list(read_export(path))
    assert [m.id for m in messages(found)] == [1, 6]
    assert [p.where for p in problems(found)] == ["message #2 of the file", "message 3",
                                                  "message 4", "message #5 of the file"]


def test_a_large_export_is_read_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "result.json"
    count = 60_000
    with path.open("w", encoding="utf-8") as out:  # about 20 MB, written as a stream too
        out.write('{"name": "big", "type": "public_channel", "id": 9, "messages": [\n')
        for i in range(count):
            sep = "," if i else ""
            out.write(sep + json.dumps(msg(i + 1, unix=1_600_000_000 + i,
                                           text="Повідомлення про примусову мобілізацію " * 6)))
        out.write("]}")
    assert path.stat().st_size > 15_000_000
    tracemalloc.start()
    read = 0
    for found in read_export(path):
        read += isinstance(found, Message)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert read == count
    assert peak < 5_000_000, f"peak {peak:,} bytes while reading {path.stat().st_size:,}"


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["id", "type", "date", "date_unixtime", "text", "text_entities",
                         "photo", "file", "from_id", "from", "edited", "messages", "x"]),
        inner, max_size=6),
    max_leaves=20)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(messages_=st.lists(JSONISH, max_size=6), cut=st.integers(0, 10_000),
       flip=st.integers(0, 10_000))
def test_malformed_exports_never_crash(tmp_path: Path, messages_: list[Any], cut: int,
                                       flip: int) -> None:
    path = tmp_path / "result.json"
    data = bytearray(json.dumps({"id": 1, "type": "personal_chat",
                                 "messages": [msg(1), *messages_]}).encode())
    if flip < len(data):
        data[flip] ^= 0x5A
    if cut > 20:
        del data[cut:]
    path.write_bytes(bytes(data))
    try:
        for found in read_export(path, tz=KYIV):
            assert isinstance(found, Message | Problem)
    except ExportError:
        pass
