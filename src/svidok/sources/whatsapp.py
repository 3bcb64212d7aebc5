"""WhatsApp "Export chat" parser: the .txt chat, or a .zip holding it and its media.

WhatsApp has no machine-readable export. The text's line format depends on the phone's OS,
locale and clock setting, so this module recognises message headers by shape and decides the
day/month order from the whole file rather than from the first line. It never guesses that
order: when every date fits both readings, the caller must say (`--date-order`).

Times are the phone's local wall-clock time with no zone; they stay naive datetimes here and
must be stored as local time, never converted silently.

Problems are reported per line and never quote the chat: the text is evidence and may be
personal data, and problem messages end up in logs and terminal output.

Nothing is extracted from a zip here. Members are listed and checked (names, sizes,
compression ratios) so that whoever extracts them later knows which to refuse.
"""

from __future__ import annotations

import re
import zipfile
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from pathlib import Path, PurePosixPath
from typing import Literal

__all__ = [
    "AttachmentMatch",
    "ChatExport",
    "ChatMessage",
    "ChatResult",
    "DateOrder",
    "DateOrderUnknown",
    "ExportError",
    "ExportLimits",
    "ParseProblem",
    "ZipMember",
    "decide_date_order",
    "header_platform",
    "match_attachments",
    "parse_chat",
    "read_export",
]

Platform = Literal["android", "ios"]
Clock = Literal["12h", "24h"]

MiB = 1024 * 1024
GiB = 1024 * MiB


class DateOrder(Enum):
    DAY_FIRST = "day-first"
    MONTH_FIRST = "month-first"


@dataclass(frozen=True)
class ChatMessage:
    index: int  # 0-based position among the parsed messages
    line: int  # 1-based line where the message starts
    local_time: datetime  # naive: the exporting phone's local time, zone unknown
    sender: str | None  # None for system lines
    text: str
    attachments: tuple[str, ...]
    omitted_media: bool  # exported without media: missing, not an error
    system: bool
    deleted: bool
    edited: bool
    raw: str  # the original lines, joined with "\n", without line terminators


@dataclass(frozen=True)
class ParseProblem:
    line: int
    message: str


@dataclass(frozen=True)
class ChatResult:
    messages: list[ChatMessage]
    problems: list[ParseProblem]
    # None only when no date in the file depended on it (no messages, or every day equals
    # its month, or every date is year-first).
    date_order: DateOrder | None
    platform: Platform | None  # None when no message header was found
    clock: Clock | None


class DateOrderUnknown(Exception):
    """The file's dates fit both day/month readings, or contradict each other."""


class ExportError(Exception):
    """The export as a whole cannot be read (not a per-line or per-member problem)."""


@dataclass(frozen=True)
class ZipMember:
    name: str
    size: int  # uncompressed size as declared by the zip's central directory
    compressed_size: int
    problem: str | None  # why it must not be extracted, or None


@dataclass(frozen=True)
class ChatExport:
    text: str
    source_name: str  # the chat member's name in a zip, else the file's name
    encoding: str
    members: tuple[ZipMember, ...]  # every zip member except the chat text; () for a .txt
    problems: tuple[ParseProblem, ...]  # decoding problems, by line of `text`


@dataclass(frozen=True)
class ExportLimits:
    # A chat text of this size is millions of messages; anything larger is more likely a bomb
    # or the wrong file, and it is read into memory whole.
    max_chat_bytes: int = 256 * MiB
    # WhatsApp itself refuses media above 2 GB.
    max_member_bytes: int = 4 * GiB
    max_total_bytes: int = 16 * GiB
    # Photos and videos hardly compress; a huge ratio on a sizeable member means a bomb.
    max_ratio: float = 1000.0
    ratio_floor_bytes: int = 1 * MiB


# --- line shapes ---------------------------------------------------------------------------

# Bidi controls WhatsApp scatters around headers, senders and attachment markers.
_MARKS = "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff"
_M = f"[{_MARKS}]*"
# Day and month in either order with a 2- or 4-digit year, or year-month-day. Nothing looser:
# a continuation line that merely resembles a header must stay part of its message.
_DATE = (
    r"(?:(?P<d1>\d{1,2})(?P<sep>[./-])(?P<d2>\d{1,2})(?P=sep)(?P<year>\d{4}|\d{2})"
    r"|(?P<y>\d{4})(?P<ysep>[./-])(?P<ym>\d{1,2})(?P=ysep)(?P<yd>\d{1,2}))\.?"
)
_TIME = (
    r"(?P<hh>\d{1,2})[:.](?P<mm>\d{2})(?:[:.](?P<ss>\d{2}))?"
    r"(?:\s*(?P<ampm>[ap]\.?\s?m\.?|ДП|ПП))?"
)
_ANDROID = re.compile(
    rf"{_M}{_DATE},?\s+{_M}{_TIME}{_M}\s+[-–]\s{_M}(?P<rest>.*)", re.IGNORECASE | re.DOTALL
)
_IOS = re.compile(
    rf"{_M}\[{_M}{_DATE},?\s+{_M}{_TIME}{_M}\]\s{_M}(?P<rest>.*)", re.IGNORECASE | re.DOTALL
)
_PATTERNS: dict[Platform, re.Pattern[str]] = {"android": _ANDROID, "ios": _IOS}

_ANDROID_ATTACHED = re.compile(r"(?P<name>\S.*?) \(file attached\)", re.IGNORECASE)
_IOS_ATTACHED = re.compile(r"<attached: (?P<name>[^<>]+)>", re.IGNORECASE)
# A file name-like token, for finding zip members named in a message whatever the locale.
_FILE_TOKEN = re.compile(r"[^\s<>:\"/\\|?*()]+\.[A-Za-z0-9]{1,8}")

_OMITTED = frozenset(
    {
        "<media omitted>",
        "<medien ausgeschlossen>",
        "<multimedia omitido>",
        "<médias omis>",
        "<mídia oculta>",
        "<без медиафайлов>",
        "image omitted",
        "video omitted",
        "audio omitted",
        "sticker omitted",
        "gif omitted",
        "document omitted",
        "contact card omitted",
    }
)
_DELETED = frozenset(
    {
        "this message was deleted",
        "this message was deleted.",
        "you deleted this message",
        "you deleted this message.",
    }
)
_EDITED_SUFFIX = "<this message was edited>"


def _split_lines(text: str) -> list[str]:
    # str.splitlines would also split on U+2028, form feeds and the like inside messages,
    # and the line numbers would no longer be the ones an editor shows.
    text = text.removeprefix("\ufeff")
    lines = text.split("\n")
    if len(lines) > 1 and lines[-1] == "":
        lines.pop()
    return [line.removesuffix("\r") for line in lines]


@dataclass
class _Evidence:
    headers: int = 0
    day_first_line: int | None = None  # first date whose first field is > 12
    month_first_line: int | None = None  # first date whose second field is > 12
    ambiguous_line: int | None = None  # first date that reads differently each way
    twelve_hour: int = 0

    def add(self, m: re.Match[str], line_no: int) -> None:
        self.headers += 1
        if m["ampm"]:
            self.twelve_hour += 1
        if m["y"]:
            return  # year-month-day, whatever the locale
        a, b = int(m["d1"]), int(m["d2"])
        if 12 < a <= 31 and 1 <= b <= 12:
            self.day_first_line = self.day_first_line or line_no
        elif 12 < b <= 31 and 1 <= a <= 12:
            self.month_first_line = self.month_first_line or line_no
        elif a != b and 1 <= a <= 12 and 1 <= b <= 12:
            self.ambiguous_line = self.ambiguous_line or line_no


def _scan(lines: Sequence[str]) -> tuple[Platform | None, _Evidence]:
    found: dict[Platform, _Evidence] = {"android": _Evidence(), "ios": _Evidence()}
    first: Platform | None = None
    for no, line in enumerate(lines, start=1):
        for platform, pattern in _PATTERNS.items():
            m = pattern.match(line)
            if m:
                found[platform].add(m, no)
                first = first or platform
                break
    if first is None:
        return None, _Evidence()
    # A message may quote a line copied from another chat; the file's own style is the one
    # most headers have, and only headers of that style start messages.
    other: Platform = "ios" if first == "android" else "android"
    chosen = other if found[other].headers > found[first].headers else first
    return chosen, found[chosen]


def _order_from(ev: _Evidence) -> DateOrder | None:
    if ev.day_first_line and ev.month_first_line:
        return None
    if ev.day_first_line:
        return DateOrder.DAY_FIRST
    if ev.month_first_line:
        return DateOrder.MONTH_FIRST
    return None


def header_platform(line: str) -> Platform | None:
    """The phone system whose message-header format ``line`` has, or None."""
    for platform, pattern in _PATTERNS.items():
        if pattern.match(line):
            return platform
    return None


def decide_date_order(lines: Iterable[str]) -> DateOrder | None:
    """The day/month order every date in the file agrees on, or None if it cannot be told."""
    _, ev = _scan(list(lines))
    return _order_from(ev)


def _unknown_order(ev: _Evidence) -> DateOrderUnknown:
    hint = "pass --date-order day-first or --date-order month-first"
    if ev.day_first_line and ev.month_first_line:
        return DateOrderUnknown(
            f"the dates contradict each other: line {ev.day_first_line} can only be "
            f"day/month, line {ev.month_first_line} only month/day; {hint} "
            "(lines that do not fit it are reported as problems)"
        )
    return DateOrderUnknown(
        "every date in the chat fits both day/month and month/day "
        f"(e.g. line {ev.ambiguous_line}); {hint}"
    )


def _timestamp(m: re.Match[str], order: DateOrder) -> datetime | None:
    if m["y"]:
        year, month, day = int(m["y"]), int(m["ym"]), int(m["yd"])
    else:
        first, second, year = int(m["d1"]), int(m["d2"]), int(m["year"])
        day, month = (first, second) if order is DateOrder.DAY_FIRST else (second, first)
        if len(m["year"]) == 2:
            year += 2000  # WhatsApp dates from 2009: a two-digit year is never 19xx
    hour, minute, second_ = int(m["hh"]), int(m["mm"]), int(m["ss"] or 0)
    ampm = m["ampm"]
    if ampm:
        # "00:08 a. m." occurs in real exports, so hour 0 is accepted as midnight.
        if hour > 12:
            return None
        pm = ampm.strip().lower().startswith(("p", "пп"))
        hour = hour % 12 + (12 if pm else 0)
    try:
        return datetime(year, month, day, hour, minute, second_)
    except ValueError:
        return None


def _split_sender(rest: str) -> tuple[str | None, str]:
    colon = rest.find(":")
    if colon <= 0:
        return None, rest
    prefix = rest[:colon]
    # A colon inside an open quotation belongs to a system line such as a subject change
    # ('X changed the subject to "a: b"'), not to a sender's name; names rarely hold quotes,
    # and when they do the quotes are closed.
    if prefix.count('"') % 2 or prefix.count("“") > prefix.count("”") or len(prefix) > 200:
        return None, rest
    sender = prefix.strip(_MARKS + " ")
    if not sender:
        return None, rest
    return sender, rest[colon + 1 :].removeprefix(" ")


@dataclass
class _Draft:
    line: int
    time: datetime
    sender: str | None
    header: str  # the whole first line
    first_text: str  # what follows the sender on it
    continuation: list[str] = field(default_factory=list)


def _finish(d: _Draft, index: int) -> ChatMessage:
    text = "\n".join([d.first_text, *d.continuation])
    head = d.first_text.strip(_MARKS + " ")
    folded = head.casefold()
    attachments: tuple[str, ...] = ()
    am = _IOS_ATTACHED.fullmatch(head) or _ANDROID_ATTACHED.fullmatch(head)
    if am:
        attachments = (am["name"].strip(_MARKS + " "),)
    return ChatMessage(
        index=index,
        line=d.line,
        local_time=d.time,
        sender=d.sender,
        text=text,
        attachments=attachments,
        omitted_media=folded in _OMITTED or folded.endswith("document omitted"),
        system=d.sender is None,
        deleted=folded in _DELETED,
        edited=text.strip(_MARKS + " ").casefold().endswith(_EDITED_SUFFIX),
        raw="\n".join([d.header, *d.continuation]),
    )


def parse_chat(text: str, *, date_order: DateOrder | None = None) -> ChatResult:
    """Parse an exported chat's text. Raises DateOrderUnknown if the order is needed,
    not given, and not decidable from the file; never raises for malformed lines."""
    lines = _split_lines(text)
    platform, ev = _scan(lines)
    if platform is None:
        problem = ParseProblem(1, "no WhatsApp message header found: not a chat export")
        return ChatResult([], [problem], None, None, None)
    order = date_order or _order_from(ev)
    if order is None:
        if ev.ambiguous_line or (ev.day_first_line and ev.month_first_line):
            raise _unknown_order(ev)
        # No date reads differently either way, so the choice cannot change any result.
        order = DateOrder.DAY_FIRST
        reported_order: DateOrder | None = None
    else:
        reported_order = order

    pattern = _PATTERNS[platform]
    messages: list[ChatMessage] = []
    problems: list[ParseProblem] = []
    draft: _Draft | None = None
    # Lines that belong to nothing: a preamble before the first header, or the body of a
    # message whose header has an impossible date. Reported once per block.
    orphan_start: int | None = None
    orphan_count = 0
    orphan_reason = ""

    def close_orphans() -> None:
        nonlocal orphan_start, orphan_count
        if orphan_start is not None:
            extra = f"; {orphan_count - 1} following line(s) skipped" if orphan_count > 1 else ""
            problems.append(ParseProblem(orphan_start, orphan_reason + extra))
        orphan_start, orphan_count = None, 0

    for no, line in enumerate(lines, start=1):
        m = pattern.match(line)
        if m:
            if draft is not None:
                messages.append(_finish(draft, len(messages)))
                draft = None
            close_orphans()
            when = _timestamp(m, order)
            if when is None:
                orphan_start, orphan_count = no, 1
                orphan_reason = (
                    f"message header with an impossible date or time "
                    f"(read {order.value}); message skipped"
                )
                continue
            sender, first_text = _split_sender(m["rest"])
            draft = _Draft(no, when, sender, line, first_text)
        elif draft is not None:
            draft.continuation.append(line)
        elif orphan_start is not None:
            orphan_count += 1
        elif line.strip(_MARKS + " \t"):
            orphan_start, orphan_count = no, 1
            orphan_reason = "text before the first message header; skipped"
    if draft is not None:
        messages.append(_finish(draft, len(messages)))
    close_orphans()
    clock: Clock = "12h" if ev.twelve_hour * 2 > ev.headers else "24h"
    return ChatResult(messages, problems, reported_order, platform, clock)


# --- files and zips ------------------------------------------------------------------------

_MAX_DECODE_PROBLEMS = 100


def _decode(data: bytes) -> tuple[str, str, list[ParseProblem]]:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        # Not what WhatsApp writes, but what an editor re-saving the file may produce.
        try:
            return data.decode("utf-16"), "utf-16", []
        except UnicodeDecodeError as e:
            good = data[: e.start - (e.start % 2)].decode("utf-16", "replace")
            msg = f"not valid UTF-16 at byte offset {e.start}; replaced with U+FFFD"
            return data.decode("utf-16", "replace"), "utf-16", [
                ParseProblem(good.count("\n") + 1, msg)
            ]
    encoding = "utf-8"
    if data.startswith(b"\xef\xbb\xbf"):
        data, encoding = data[3:], "utf-8-sig"
    try:
        return data.decode("utf-8"), encoding, []
    except UnicodeDecodeError:
        pass
    # Decode line by line so that one bad byte (a truncated copy, a re-saved line) costs one
    # line, not the chat; "\n" cannot occur inside a UTF-8 sequence.
    offset = 3 if encoding == "utf-8-sig" else 0
    parts: list[str] = []
    problems: list[ParseProblem] = []
    bad_lines = 0
    for no, chunk in enumerate(data.split(b"\n"), start=1):
        try:
            parts.append(chunk.decode("utf-8"))
        except UnicodeDecodeError as e:
            parts.append(chunk.decode("utf-8", "replace"))
            bad_lines += 1
            if bad_lines <= _MAX_DECODE_PROBLEMS:
                problems.append(ParseProblem(no, (
                    f"not valid UTF-8 at byte offset {offset + e.start}; "
                    "invalid bytes in this line replaced with U+FFFD"
                )))
        offset += len(chunk) + 1
    if bad_lines > _MAX_DECODE_PROBLEMS:
        problems.append(ParseProblem(problems[-1].line, (
            f"{bad_lines - _MAX_DECODE_PROBLEMS} more line(s) are not valid UTF-8; "
            "the file may have been re-saved in another encoding"
        )))
    return "\n".join(parts), encoding, problems


def _name_problem(info: zipfile.ZipInfo) -> str | None:
    name = info.filename
    parts = re.split(r"[/\\]", name)
    if not name or "\x00" in name:
        return "empty name or a NUL byte in the name"
    if name.startswith(("/", "\\")):
        return "absolute path"
    if re.match(r"[A-Za-z]:", name):
        return "drive letter in the path"
    if ".." in parts:
        return "path leads outside the export ('..')"
    if (info.external_attr >> 16) & 0o170000 == 0o120000:
        return "symbolic link"
    return None


def _content_problem(info: zipfile.ZipInfo, limits: ExportLimits) -> str | None:
    if info.flag_bits & 0x1:
        return "encrypted"
    if info.file_size > limits.max_member_bytes:
        return f"larger than {limits.max_member_bytes} bytes uncompressed"
    ratio = info.file_size / max(info.compress_size, 1)
    if info.file_size > limits.ratio_floor_bytes and ratio > limits.max_ratio:
        return f"compression ratio {ratio:.0f}:1 is above {limits.max_ratio:.0f}:1 (zip bomb?)"
    return None


def _chat_member(infos: Sequence[zipfile.ZipInfo]) -> zipfile.ZipInfo:
    texts = [i for i in infos if i.filename.lower().endswith(".txt")]
    named = [i for i in texts if PurePosixPath(i.filename).name == "_chat.txt"]  # iOS
    if not named:
        named = [i for i in texts if "whatsapp" in PurePosixPath(i.filename).name.lower()]
    if not named and len(texts) == 1:
        named = texts
    if len(named) == 1:
        return named[0]
    if not named:
        raise ExportError(
            "no chat text in the zip (expected _chat.txt or 'WhatsApp Chat with ….txt')"
        )
    raise ExportError(f"{len(named)} candidate chat texts in the zip; cannot tell which one it is")


def _read_capped(path: Path, limit: int) -> bytes:
    with path.open("rb") as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise ExportError(f"chat text is larger than {limit} bytes; refusing to read it")
    return data


def read_export(path: Path, *, limits: ExportLimits | None = None) -> ChatExport:
    """Read a chat export (.txt, or a zip by content) without extracting anything.

    Raises ExportError when the export as a whole cannot be read; problems of single lines
    or zip members are returned with it instead."""
    limits = limits or ExportLimits()
    if not zipfile.is_zipfile(path):
        data = _read_capped(path, limits.max_chat_bytes)
        if data.startswith(b"PK\x03\x04"):
            raise ExportError("the zip is damaged or truncated: its central directory is missing")
        text, encoding, problems = _decode(data)
        return ChatExport(text, path.name, encoding, (), tuple(problems))
    try:
        with zipfile.ZipFile(path) as zf:
            infos = [i for i in zf.infolist() if not i.is_dir()]
            name_problems = {id(i): _name_problem(i) for i in infos}
            chat = _chat_member([i for i in infos if name_problems[id(i)] is None])
            members: list[ZipMember] = []
            seen: set[str] = set()
            total = 0
            for info in infos:
                if info is chat:
                    continue
                total += info.file_size
                problem = name_problems[id(info)] or _content_problem(info, limits)
                if problem is None and info.filename in seen:
                    problem = "duplicate member name"
                if problem is None and total > limits.max_total_bytes:
                    problem = f"members add up to more than {limits.max_total_bytes} bytes"
                seen.add(info.filename)
                members.append(ZipMember(info.filename, info.file_size, info.compress_size,
                                         problem))
            # The declared size is not trusted: the stream is cut at the limit.
            with zf.open(chat) as f:
                data = f.read(limits.max_chat_bytes + 1)
            if len(data) > limits.max_chat_bytes:
                raise ExportError(
                    f"chat text {chat.filename!r} expands beyond {limits.max_chat_bytes} bytes; "
                    "refusing it (zip bomb?)"
                )
    except (zipfile.BadZipFile, zlib.error, EOFError) as e:
        raise ExportError(f"the zip is damaged: {e}") from e
    except (RuntimeError, NotImplementedError) as e:  # encrypted, unsupported compression
        raise ExportError(f"the zip cannot be read: {e}") from e
    text, encoding, decode_problems = _decode(data)
    return ChatExport(text, chat.filename, encoding, tuple(members), tuple(decode_problems))


# --- attachments ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AttachmentMatch:
    by_message: dict[int, list[str]]  # message index -> zip member names it refers to
    missing: list[tuple[int, str]]  # (message index, attachment name) not among usable members
    unreferenced: list[str]  # usable members no message refers to


def match_attachments(
    messages: Sequence[ChatMessage], members: Sequence[ZipMember]
) -> AttachmentMatch:
    """Pair messages with the zip members they name. Members with a problem are never
    matched: a message naming only such a member has its attachment counted as missing.

    Besides the recognised "(file attached)" and "<attached: …>" markers, a member's file
    name appearing in a message's first line counts, which covers the localised markers."""
    usable: dict[str, list[str]] = {}
    for member in members:
        if member.problem is None:
            usable.setdefault(PurePosixPath(member.name.replace("\\", "/")).name, []).append(
                member.name
            )
    by_message: dict[int, list[str]] = {}
    missing: list[tuple[int, str]] = []
    used: set[str] = set()
    for msg in messages:
        found: list[str] = []
        for name in msg.attachments:
            if name in usable:
                found.extend(usable[name])
            else:
                missing.append((msg.index, name))
        first_line = msg.text.split("\n", 1)[0]
        for token in _FILE_TOKEN.findall(first_line):
            if token in usable and token not in msg.attachments:
                found.extend(usable[token])
        if found:
            by_message[msg.index] = list(dict.fromkeys(found))
            used.update(found)
    unreferenced = [m.name for m in members if m.problem is None and m.name not in used]
    return AttachmentMatch(by_message, missing, unreferenced)

