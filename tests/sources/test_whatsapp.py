"""WhatsApp chat exports: the line formats, the day/month decision, and bad input.

The small chats written out below are documentation as much as tests: each shows one shape of
export line as WhatsApp writes it. The real samples under tests/data/sources/whatsapp are
described in their PROVENANCE.md.
"""

from __future__ import annotations

import stat
import struct
import tempfile
import warnings
import zipfile
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from svidok.sources.whatsapp import (
    ChatMessage,
    ChatResult,
    DateOrder,
    DateOrderUnknown,
    ExportError,
    ExportLimits,
    decide_date_order,
    match_attachments,
    parse_chat,
    read_export,
)

SAMPLES = Path(__file__).parent.parent / "data" / "sources" / "whatsapp"
LRM = "\u200e"  # LEFT-TO-RIGHT MARK
NNBSP = "\u202f"  # NARROW NO-BREAK SPACE, before AM/PM in newer exports


def only(text: str, date_order: DateOrder | None = None) -> ChatMessage:
    result = parse_chat(text, date_order=date_order)
    assert result.problems == []
    assert len(result.messages) == 1
    return result.messages[0]


# --- the real samples ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "platform", "clock", "order"),
    [
        ("chat-miner_android_ddmmyy_24h.txt", "android", "24h", DateOrder.DAY_FIRST),
        ("chat-miner_android_mmddyyyy_12h_es.txt", "android", "12h", DateOrder.MONTH_FIRST),
        ("chat-miner_ios_brackets_mmddyy_24h.txt", "ios", "24h", DateOrder.MONTH_FIRST),
    ],
)
def test_samples(name: str, platform: str, clock: str, order: DateOrder) -> None:
    export = read_export(SAMPLES / name)
    assert (export.encoding, export.members, export.problems) == ("utf-8", (), ())
    result = parse_chat(export.text)

    # The three files hold the same chat in three formats, so everything else is equal.
    assert (result.platform, result.clock, result.date_order) == (platform, clock, order)
    assert result.problems == []
    msgs = result.messages
    assert len(msgs) == 9
    assert [m.index for m in msgs] == list(range(9))
    assert [m.line for m in msgs] == [1, 2, 3, 5, 6, 7, 8, 9, 10]
    assert Counter(m.sender for m in msgs) == Counter(
        {"John Doe": 3, None: 2, "Jahn Doe": 1, "John-John Doe": 1, "John Doe 🤓": 1, "🤓": 1}
    )
    assert msgs[0].local_time == datetime(2019, 1, 1, 11, 25)
    assert msgs[1].local_time == datetime(2019, 1, 20, 11, 23)
    assert msgs[1].text == "."  # "John Doe:." — no space after the colon
    assert msgs[2].local_time == datetime(2019, 1, 30, 20, 49)
    assert msgs[2].text == "Lorem ipsum dolor sit amet,\nconsectetur adipiscing elit. Duis libero."
    assert msgs[2].raw.count("\n") == 1
    assert msgs[3].text == "Lorem ipsum : dolor sit amet."  # only the first colon splits
    # "00:08 a. m." in the 12-hour file: read as 8 minutes past midnight.
    assert msgs[4].local_time == datetime(2020, 6, 20, 0, 8)
    assert [m.text for m in msgs if m.system] == [
        '+12 345 578 created group "Groupname"',
        "You were added",
    ]
    assert all(m.sender is None for m in msgs if m.system)
    assert msgs[-1].local_time == datetime(2021, 12, 30, 22, 1)
    assert not any(m.attachments or m.omitted_media or m.deleted for m in msgs)


def test_sample_date_order_is_decided_from_the_whole_file() -> None:
    text = (SAMPLES / "chat-miner_android_ddmmyy_24h.txt").read_text(encoding="utf-8")
    lines = text.split("\n")
    # Its first line, 01/01/19, fits either order; line 2, 20/01/19, does not.
    assert decide_date_order(lines[:1]) is None
    assert decide_date_order(lines) is DateOrder.DAY_FIRST


# --- line formats --------------------------------------------------------------------------


def test_android_24h() -> None:
    msg = only("13/01/2020, 14:05 - Olena Kovalenko: We are at the school\n")
    assert msg.local_time == datetime(2020, 1, 13, 14, 5)
    assert (msg.sender, msg.text, msg.system) == ("Olena Kovalenko", "We are at the school", False)
    assert msg.raw == "13/01/2020, 14:05 - Olena Kovalenko: We are at the school"


def test_android_12h_with_narrow_no_break_space() -> None:
    result = parse_chat(f"1/13/20, 2:05{NNBSP}PM - Olena: hello\n")
    assert (result.platform, result.clock, result.date_order) == (
        "android", "12h", DateOrder.MONTH_FIRST)
    assert result.messages[0].local_time == datetime(2020, 1, 13, 14, 5)


def test_ios_brackets_seconds_and_marks() -> None:
    text = (
        "[13.01.20, 14:05:09] Olena: Shelling started\n"
        f"{LRM}[13.01.20, 14:06:00] Olena: "
        f"{LRM}<attached: 00000012-PHOTO-2020-01-13-14-06-00.jpg>\n"
        f"[13.01.20, 14:07:00] Olena: {LRM}image omitted\n"
    )
    result = parse_chat(text)
    assert (result.platform, result.clock, result.problems) == ("ios", "24h", [])
    first, photo, omitted = result.messages
    assert first.local_time == datetime(2020, 1, 13, 14, 5, 9)
    assert photo.attachments == ("00000012-PHOTO-2020-01-13-14-06-00.jpg",)
    assert photo.raw.startswith(LRM)  # raw keeps the marks; only parsing looks past them
    assert omitted.omitted_media and omitted.attachments == ()


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("13.01.2020, 14:05 - A: x", datetime(2020, 1, 13, 14, 5)),  # dotted, 4-digit year
        ("13.01.20, 14:05 - A: x", datetime(2020, 1, 13, 14, 5)),  # dotted, 2-digit year
        ("13-01-20 14:05 - A: x", datetime(2020, 1, 13, 14, 5)),  # dashes, no comma
        ("13/1/20, 9:05 - A: x", datetime(2020, 1, 13, 9, 5)),  # single-digit fields
        ("2020-01-13 14:05 - A: x", datetime(2020, 1, 13, 14, 5)),  # year first
        ("[13/01/2020, 14:05] A: x", datetime(2020, 1, 13, 14, 5)),  # iOS without seconds
        (f"{LRM}13/01/2020, 14:05 - A: x", datetime(2020, 1, 13, 14, 5)),
    ],
)
def test_date_shapes(line: str, expected: datetime) -> None:
    msg = only(line)
    assert (msg.local_time, msg.sender, msg.text) == (expected, "A", "x")


@pytest.mark.parametrize(
    ("clock", "hour"),
    [
        ("2:05 am", 2), ("2:05 AM", 2), ("2:05 a.m.", 2), ("2:05 a. m.", 2),
        ("2:05 pm", 14), ("2:05 PM", 14), ("2:05 p. m.", 14), (f"2:05{NNBSP}p.m.", 14),
        ("12:05 AM", 0), ("12:05 PM", 12), ("00:05 a. m.", 0), ("2:05 ПП", 14),
    ],
)
def test_twelve_hour_markers(clock: str, hour: int) -> None:
    msg = only(f"13/01/2020, {clock} - A: x")
    assert msg.local_time == datetime(2020, 1, 13, hour, 5)


def test_crlf_and_bom() -> None:
    result = parse_chat("\ufeff13/01/2020, 14:05 - A: two\r\nlines\r\n13/01/2020, 14:06 - B: y\r\n")
    assert [m.text for m in result.messages] == ["two\nlines", "y"]
    assert result.messages[0].raw == "13/01/2020, 14:05 - A: two\nlines"
    assert result.problems == []


def test_multiline_message_keeps_blank_lines() -> None:
    msg = only("13/01/2020, 14:05 - A: first\n\nthird\n")
    assert msg.text == "first\n\nthird"


def test_android_attachment_with_caption_omitted_deleted_edited() -> None:
    text = (
        "13/01/2020, 14:05 - Olena: IMG-20200113-WA0001.jpg (file attached)\n"
        "the school, north side\n"
        "13/01/2020, 14:06 - Olena: <Media omitted>\n"
        "13/01/2020, 14:07 - Olena: This message was deleted\n"
        "13/01/2020, 14:08 - Olena: they left at noon <This message was edited>\n"
    )
    photo, omitted, deleted, edited = parse_chat(text).messages
    assert photo.attachments == ("IMG-20200113-WA0001.jpg",)
    assert photo.text.endswith("\nthe school, north side")
    assert omitted.omitted_media and not omitted.attachments
    assert deleted.deleted and not deleted.system
    assert edited.edited and edited.text.endswith("<This message was edited>")


@pytest.mark.parametrize(
    ("rest", "sender", "text"),
    [
        # A colon inside an open quotation is part of a system line, not after a name.
        ('Olena changed the subject to "Kharkiv: 12 May"', None, None),
        ('Alex "Sasha" K: on my way', 'Alex "Sasha" K', "on my way"),
        ("Messages and calls are end-to-end encrypted. Tap to learn more.", None, None),
        ("\u202a+380 44 123 4567\u202c: call me", "+380 44 123 4567", "call me"),
        ("~ Olena: hi", "~ Olena", "hi"),
    ],
)
def test_senders_and_system_lines(rest: str, sender: str | None, text: str | None) -> None:
    msg = only(f"13/01/2020, 14:05 - {rest}")
    assert msg.sender == sender
    assert msg.system is (sender is None)
    assert msg.text == (rest if text is None else text)


def test_pasted_header_of_the_other_platform_is_a_continuation() -> None:
    text = (
        "13/01/2020, 14:05 - A: forwarding what B wrote:\n"
        "[12/01/2020, 10:00:00] B: the bridge is down\n"
        "1.2.3 10:00 - not a date: a version number\n"
        "13/01/2020, 14:06 - A: ok\n"
    )
    result = parse_chat(text)
    assert result.platform == "android"
    assert [m.line for m in result.messages] == [1, 4]
    assert result.messages[0].raw.count("\n") == 2


# --- day/month order -----------------------------------------------------------------------

AMBIGUOUS_THEN_DAY_FIRST = (
    "02/01/2020, 10:00 - A: first\n"  # 2 January or 1 February?
    "03/01/2020, 10:00 - A: second\n"
    "13/01/2020, 10:00 - A: settles it: day first\n"
)
INCONSISTENT = (
    "13/01/2020, 10:00 - A: day first\n"
    "01/14/2020, 10:00 - A: month first\n"
    "02/01/2020, 10:00 - A: either\n"
)


def test_day_month_decided_from_the_whole_file() -> None:
    result = parse_chat(AMBIGUOUS_THEN_DAY_FIRST)
    assert result.date_order is DateOrder.DAY_FIRST
    assert result.messages[0].local_time == datetime(2020, 1, 2, 10, 0)


def test_only_ambiguous_dates_need_the_order_given() -> None:
    text = "02/01/2020, 10:00 - A: x\n03/01/2020, 10:00 - A: y\n"
    assert decide_date_order(text.split("\n")) is None
    with pytest.raises(DateOrderUnknown, match="--date-order day-first or --date-order month-"):
        parse_chat(text)
    given = parse_chat(text, date_order=DateOrder.MONTH_FIRST)
    assert given.date_order is DateOrder.MONTH_FIRST
    assert given.messages[0].local_time == datetime(2020, 2, 1, 10, 0)


def test_order_is_not_needed_when_no_date_depends_on_it() -> None:
    result = parse_chat("05/05/2020, 10:00 - A: x\n2020-05-06 10:00 - A: y\n")
    assert result.date_order is None
    assert len(result.messages) == 2


def test_inconsistent_file_needs_the_order_given() -> None:
    assert decide_date_order(INCONSISTENT.split("\n")) is None
    with pytest.raises(DateOrderUnknown, match=r"line 1 .* line 2") as caught:
        parse_chat(INCONSISTENT)
    assert "--date-order" in str(caught.value)


def test_given_order_overrides_and_misfits_become_problems() -> None:
    result = parse_chat(INCONSISTENT, date_order=DateOrder.DAY_FIRST)
    assert [m.line for m in result.messages] == [1, 3]
    assert result.messages[1].local_time == datetime(2020, 1, 2, 10, 0)
    assert [p.line for p in result.problems] == [2]
    assert "impossible date" in result.problems[0].message
    # A given order wins over what the file says.
    flipped = parse_chat(AMBIGUOUS_THEN_DAY_FIRST, date_order=DateOrder.MONTH_FIRST)
    assert flipped.messages[0].local_time == datetime(2020, 2, 1, 10, 0)
    assert [p.line for p in flipped.problems] == [3]


# --- malformed text ------------------------------------------------------------------------


def test_preamble_and_impossible_header_are_problems_without_content() -> None:
    text = (
        "secret preamble line\n"
        "another secret line\n"
        "13/01/2020, 10:00 - A: kept\n"
        "31/02/2020, 10:00 - A: secret on an impossible date\n"
        "secret continuation\n"
        "14/01/2020, 10:00 - A: kept too\n"
    )
    result = parse_chat(text)
    assert [m.text for m in result.messages] == ["kept", "kept too"]
    assert [p.line for p in result.problems] == [1, 4]
    assert "1 following line(s) skipped" in result.problems[0].message
    assert "1 following line(s) skipped" in result.problems[1].message
    assert not any("secret" in p.message for p in result.problems)


@pytest.mark.parametrize("text", ["", "\n", "just some text\nno headers\n"])
def test_not_a_chat(text: str) -> None:
    result = parse_chat(text)
    assert result.messages == []
    assert (result.platform, result.clock, result.date_order) == (None, None, None)
    assert [p.line for p in result.problems] == [1]


# --- files: encodings ----------------------------------------------------------------------

CHAT = "13/01/2020, 14:05 - Олена: Обстріл почався\n13/01/2020, 14:06 - Олена: ok\n"


def test_utf8_with_bom(tmp_path: Path) -> None:
    path = tmp_path / "WhatsApp Chat with Олена.txt"
    path.write_bytes(b"\xef\xbb\xbf" + CHAT.encode())
    export = read_export(path)
    assert (export.text, export.encoding, export.problems) == (CHAT, "utf-8-sig", ())
    assert export.source_name == path.name


def test_latin1_bytes_are_reported_by_offset_and_the_rest_imports(tmp_path: Path) -> None:
    path = tmp_path / "chat.txt"
    good = b"13/01/2020, 14:05 - A: fine\n"
    path.write_bytes(good + "13/01/2020, 14:06 - A: café\n".encode("latin-1"))
    export = read_export(path)
    assert len(export.problems) == 1
    problem = export.problems[0]
    assert problem.line == 2
    assert f"byte offset {len(good) + 26}" in problem.message
    result = parse_chat(export.text)
    assert [m.text for m in result.messages] == ["fine", "caf\ufffd"]


def test_truncated_multibyte_character_at_the_end(tmp_path: Path) -> None:
    path = tmp_path / "chat.txt"
    # A copy cut off in the middle of a two-byte letter.
    path.write_bytes(CHAT.encode() + "13/01/2020, 14:07 - Олена: щ".encode()[:-1])
    export = read_export(path)
    assert [p.line for p in export.problems] == [3]
    assert len(parse_chat(export.text).messages) == 3


def test_many_bad_lines_are_summarised(tmp_path: Path) -> None:
    path = tmp_path / "chat.txt"
    path.write_bytes("13/01/2020, 14:05 - A: é\n".encode("latin-1") * 150)
    export = read_export(path)
    assert len(export.problems) == 101
    assert "50 more line(s)" in export.problems[-1].message


def test_utf16_with_bom(tmp_path: Path) -> None:
    path = tmp_path / "chat.txt"
    path.write_bytes(CHAT.encode("utf-16"))  # with its BOM
    export = read_export(path)
    assert (export.text, export.encoding) == (CHAT, "utf-16")
    assert parse_chat(export.text).messages[0].sender == "Олена"


def test_utf16_cut_off_mid_character(tmp_path: Path) -> None:
    path = tmp_path / "chat.txt"
    path.write_bytes(CHAT.encode("utf-16") + b"\x00")
    export = read_export(path)
    assert [p.line for p in export.problems] == [3]
    assert "not valid UTF-16 at byte offset" in export.problems[0].message
    assert len(parse_chat(export.text).messages) == 2


def test_oversized_text_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "chat.txt"
    path.write_bytes(CHAT.encode() * 100)
    with pytest.raises(ExportError, match="larger than 1000 bytes"):
        read_export(path, limits=ExportLimits(max_chat_bytes=1000))


# --- files: zips ---------------------------------------------------------------------------

IOS_CHAT = (
    f"[13/01/2020, 14:05:00] Olena: {LRM}<attached: 00000012-PHOTO-2020-01-13-14-05-00.jpg>\n"
    f"[13/01/2020, 14:06:00] Olena: {LRM}<attached: 00000013-VIDEO-2020-01-13-14-06-00.mp4>\n"
    "[13/01/2020, 14:07:00] Olena: see above\n"
)


def make_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def test_ios_zip(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "export.zip", {
        "_chat.txt": IOS_CHAT.encode(),
        "00000012-PHOTO-2020-01-13-14-05-00.jpg": b"\xff\xd8jpeg",
        "notes.txt": b"a text file someone sent",
    })
    export = read_export(path)
    assert (export.source_name, export.text, export.problems) == ("_chat.txt", IOS_CHAT, ())
    assert [(m.name, m.size, m.problem) for m in export.members] == [
        ("00000012-PHOTO-2020-01-13-14-05-00.jpg", 6, None),
        ("notes.txt", 24, None),
    ]
    match = match_attachments(parse_chat(export.text).messages, export.members)
    assert match.by_message == {0: ["00000012-PHOTO-2020-01-13-14-05-00.jpg"]}
    assert match.missing == [(1, "00000013-VIDEO-2020-01-13-14-06-00.mp4")]
    assert match.unreferenced == ["notes.txt"]


def test_android_zip_and_a_localised_attachment_marker(tmp_path: Path) -> None:
    chat = (
        "13/01/2020, 14:05 - Olena: IMG-20200113-WA0001.jpg (Datei angehängt)\n"
        "13/01/2020, 14:06 - Olena: PTT-20200113-WA0002.opus (file attached)\n"
    )
    path = make_zip(tmp_path / "WhatsApp Chat with Olena.zip", {
        "WhatsApp Chat with Olena.txt": chat.encode(),
        "IMG-20200113-WA0001.jpg": b"jpeg",
        "PTT-20200113-WA0002.opus": b"opus",
    })
    export = read_export(path)
    messages = parse_chat(export.text).messages
    # The German marker is not recognised, but the member's name in the message still is.
    assert messages[0].attachments == ()
    match = match_attachments(messages, export.members)
    assert match.by_message == {0: ["IMG-20200113-WA0001.jpg"], 1: ["PTT-20200113-WA0002.opus"]}
    assert (match.missing, match.unreferenced) == ([], [])


def test_unsafe_member_names_are_flagged_and_the_rest_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "export.zip"
    link = zipfile.ZipInfo("link.jpg")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("_chat.txt", IOS_CHAT)
        zf.writestr("00000012-PHOTO-2020-01-13-14-05-00.jpg", b"fine")
        zf.writestr("../evil.jpg", b"x")
        zf.writestr("/abs.jpg", b"x")
        zf.writestr("C:/Windows/x.jpg", b"x")
        zf.writestr("media\\..\\..\\x.jpg", b"x")
        zf.writestr("../00000013-VIDEO-2020-01-13-14-06-00.mp4", b"x")
        zf.writestr(link, "/etc/passwd")
    export = read_export(path)
    problems = {m.name: m.problem for m in export.members}
    assert problems["00000012-PHOTO-2020-01-13-14-05-00.jpg"] is None
    assert problems["/abs.jpg"] == "absolute path"
    assert problems["C:/Windows/x.jpg"] == "drive letter in the path"
    assert problems["link.jpg"] == "symbolic link"
    video = "00000013-VIDEO-2020-01-13-14-06-00.mp4"
    for name in ["../evil.jpg", "media\\..\\..\\x.jpg", f"../{video}"]:
        assert "'..'" in (problems[name] or "")
    # A message naming a refused member counts its attachment as missing.
    match = match_attachments(parse_chat(export.text).messages, export.members)
    assert match.missing == [(1, "00000013-VIDEO-2020-01-13-14-06-00.mp4")]
    assert match.unreferenced == []


def test_zip_bomb_member_is_flagged_without_being_expanded(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "export.zip", {
        "_chat.txt": IOS_CHAT.encode(),
        "00000012-PHOTO-2020-01-13-14-05-00.jpg": bytes(4 * 1024 * 1024),
        "small-zeros.bin": bytes(1000),  # compresses well too, but is below the floor
    })
    limits = ExportLimits(max_ratio=100, ratio_floor_bytes=1024 * 1024)
    export = read_export(path, limits=limits)
    bomb, small = export.members
    assert bomb.problem is not None and "compression ratio" in bomb.problem
    assert bomb.size == 4 * 1024 * 1024 and bomb.compressed_size < 40_000
    assert small.problem is None


def test_member_and_total_size_limits(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "export.zip", {
        "_chat.txt": IOS_CHAT.encode(),
        "a.jpg": b"a" * 600,
        "b.jpg": b"b" * 600,
        "c.jpg": b"c" * 2000,
    })
    export = read_export(path, limits=ExportLimits(max_member_bytes=1500, max_total_bytes=1000))
    assert [m.problem for m in export.members] == [
        None,
        "members add up to more than 1000 bytes",
        "larger than 1500 bytes uncompressed",
    ]


def test_duplicate_member_names(tmp_path: Path) -> None:
    path = tmp_path / "export.zip"
    with warnings.catch_warnings(), zipfile.ZipFile(path, "w") as zf:
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate it is told to write
        zf.writestr("_chat.txt", IOS_CHAT)
        zf.writestr("a.jpg", b"1")
        zf.writestr("a.jpg", b"2")
    assert [m.problem for m in read_export(path).members] == [None, "duplicate member name"]


def test_chat_text_bomb_is_cut_at_the_limit(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "export.zip", {"_chat.txt": IOS_CHAT.encode() + bytes(5_000_000)})
    with pytest.raises(ExportError, match="expands beyond 100000 bytes"):
        read_export(path, limits=ExportLimits(max_chat_bytes=100_000))


def test_chat_text_whose_header_understates_its_size(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "export.zip", {"_chat.txt": IOS_CHAT.encode() + bytes(100_000)})
    data = bytearray(path.read_bytes())
    # Claim 100 bytes uncompressed in the local header and the central directory: the stream
    # stops there, and the checksum no longer matches.
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = data.index(signature) + offset
        data[at:at + 4] = struct.pack("<I", 100)
    path.write_bytes(bytes(data))
    with pytest.raises(ExportError, match="damaged"):
        read_export(path)


@pytest.mark.parametrize(
    ("members", "error"),
    [
        ({"IMG-1.jpg": b"x"}, "no chat text in the zip"),
        ({"../_chat.txt": b"x"}, "no chat text in the zip"),
        ({"a.txt": b"x", "b.txt": b"y"}, "no chat text in the zip"),
        ({"x/_chat.txt": b"x", "y/_chat.txt": b"y"}, "2 candidate chat texts"),
    ],
)
def test_zip_without_a_chat(tmp_path: Path, members: dict[str, bytes], error: str) -> None:
    with pytest.raises(ExportError, match=error):
        read_export(make_zip(tmp_path / "export.zip", members))


def test_a_single_other_text_file_is_the_chat(tmp_path: Path) -> None:
    # Android names the file in the phone's language ("Chat de WhatsApp con …", …).
    path = make_zip(tmp_path / "e.zip", {"Conversa com Olena.txt": CHAT.encode(), "x.jpg": b""})
    assert read_export(path).source_name == "Conversa com Olena.txt"


def test_truncated_zip(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "export.zip", {"_chat.txt": IOS_CHAT.encode()})
    path.write_bytes(path.read_bytes()[:60])
    with pytest.raises(ExportError, match="damaged or truncated"):
        read_export(path)


# --- generated malformed exports -----------------------------------------------------------

FRAGMENTS = st.sampled_from([
    "13/01/2020, 14:05 - A: x",
    "01/13/20, 2:05\u202fPM - B: y",
    "02/01/2020, 10:00 - Olena changed the subject to \"a: b\"",
    "[13.01.20, 14:05:09] C: z",
    "\u200e[02.01.20, 10:00:00] C: \u200e<attached: 0001-PHOTO.jpg>",
    "2020-01-13 14:05 - D: w",
    "99/99/99, 99:99 - E: nonsense",
    "31/02/2020, 25:61 am - F:",
    "[]", "[1/1/1 1:1] ", " - : ", ":", "\u202a\u202c: ", "",
    "\r", "\x00\x1f\x7f", "\ufeff", "IMG-1.jpg (file attached)", "<Media omitted>",
])
LINES = st.one_of(FRAGMENTS, st.text(max_size=40), st.builds(
    lambda a, b: a + b, FRAGMENTS, st.text(max_size=10)))
CHATS = st.lists(LINES, max_size=25).map("\n".join)


def check_result(text: str, result: ChatResult) -> None:
    lines = [line.removesuffix("\r") for line in text.removeprefix("\ufeff").split("\n")]
    for problem in result.problems:
        assert 1 <= problem.line <= len(lines)
    end = 0
    for index, msg in enumerate(result.messages):
        assert msg.index == index
        assert msg.line > end  # in order, not overlapping
        count = msg.raw.count("\n") + 1
        assert msg.raw == "\n".join(lines[msg.line - 1:msg.line - 1 + count])
        end = msg.line - 1 + count
        assert end <= len(lines)
        assert msg.system is (msg.sender is None)


@settings(max_examples=300, deadline=None)
@given(CHATS)
def test_generated_chats_never_break_the_parser(text: str) -> None:
    try:
        result = parse_chat(text)
    except DateOrderUnknown:
        pass
    else:
        check_result(text, result)
    for order in DateOrder:  # with the order given nothing may raise at all
        check_result(text, parse_chat(text, date_order=order))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(
    st.binary(max_size=300),
    CHATS.map(lambda s: s.encode("utf-8", "surrogatepass")).flatmap(
        lambda b: st.integers(0, len(b)).map(lambda n: b[:n] + b"\xff\xc3" + b[n:]))
))
def test_generated_bytes_never_break_reading(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "chat.txt"
        path.write_bytes(data)
        try:
            export = read_export(path)
        except ExportError:
            assert data.startswith(b"PK\x03\x04")
            return
    assert all(p.line >= 1 for p in export.problems)
    try:
        result = parse_chat(export.text)
    except DateOrderUnknown:
        return
    check_result(export.text, result)

