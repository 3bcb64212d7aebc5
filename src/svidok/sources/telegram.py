"""Telegram Desktop's JSON export ("Export chat history"), read as a stream.

The export is a folder: ``result.json`` and the media it names by relative path. The JSON is
read event by event (ijson), one message object at a time, so a result.json of gigabytes is
read in bounded memory. Both shapes are read: a single chat (``{"name", "type", "id",
"messages"}``) and a full account export (``chats.list`` and ``left_chats.list`` of such
chats). The format and its pitfalls are in docs/sources.md.

What the parser refuses to guess:

- **Time.** ``date_unixtime`` is UTC. Exports before 2022 have only ``date``, the local time
  of the exporting computer with no offset; then the exporter's time zone must be given
  (``--tz``), and local times that a clock change makes ambiguous or impossible are marked.
- **Media.** A path that is absolute or leaves the export folder is refused; the
  placeholders Telegram writes for files it did not include are recorded as missing media,
  not errors.
- **Albums.** The export has no album id: consecutive media messages from the same sender
  in the same second are grouped, at most ten (Telegram's own limit), and marked as such.

Bad input costs only its own part: a malformed message becomes a :class:`Problem` and the
rest is read; JSON that breaks off ends the stream with a problem saying where.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, tzinfo
from decimal import Decimal
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO, Literal

import ijson

TimeSource = Literal["utc", "local"]
MessageKind = Literal["message", "service", "unsupported"]
MEDIA_FIELDS = ("photo", "file", "thumbnail", "contact_vcard")
ALBUM_MAX = 10
# Chats sit at these prefixes; their messages at <prefix>.messages.item.
_CHAT_PREFIXES = ("", "chats.list.item", "left_chats.list.item")
_MESSAGE_PREFIXES = {(p + "." if p else "") + "messages.item": p for p in _CHAT_PREFIXES}
_OLD_CHANNEL = 0x200000000  # tdesktop's peer encoding before 2021: channel = this + id
_OLD_CHAT = 0x100000000


class ExportError(Exception):
    """The export cannot be read as a whole; the message says what to do."""


@dataclass(frozen=True)
class Chat:
    id: int | None
    name: str | None
    type: str | None
    left: bool = False  # from left_chats: channels and groups the account had left


@dataclass(frozen=True)
class Media:
    field: str  # photo, file, thumbnail or contact_vcard
    path: str | None  # relative to the folder of result.json; None when missing or refused
    missing: str | None = None  # why there is no file: Telegram's placeholder, or refused
    media_type: str | None = None  # voice_message, video_file, sticker, ...
    mime_type: str | None = None
    file_name: str | None = None
    size: int | None = None


@dataclass(frozen=True)
class Message:
    chat: Chat
    id: int
    kind: MessageKind
    time: datetime  # aware UTC
    time_source: TimeSource
    time_note: str | None
    edited: datetime | None
    sender: str | None
    sender_id: str | None
    text: str
    links: tuple[str, ...]
    media: tuple[Media, ...]
    action: str | None
    reply_to: int | None
    forwarded_from: str | None
    via_bot: str | None
    album: int | None  # id of the first message of its album
    raw: dict[str, Any] = field(repr=False)

    @property
    def post_link(self) -> str | None:
        """The message's t.me link; t.me/c/ works for members of private chats too."""
        if self.chat.id is None or self.chat.type not in (
                "private_channel", "public_channel", "private_supergroup", "public_supergroup"):
            return None
        return f"https://t.me/c/{self.chat.id}/{self.id}"


@dataclass(frozen=True)
class Problem:
    chat: Chat | None
    where: str  # "message 17", "message #3 of the chat", "byte 1204"
    message: str  # what is wrong, never the evidence itself


def read_export(result_json: Path, *, tz: tzinfo | None = None,
                folder: Path | None = None) -> Iterator[Message | Problem]:
    """Every message of the export, in file order, and a Problem for each part that
    cannot be read. Raises ExportError only when nothing can be read correctly.

    Media paths are checked against ``folder``, the export folder (by default the one
    ``result_json`` is in; the locker reads a preserved copy kept elsewhere)."""
    try:
        fh = result_json.open("rb")
    except OSError as exc:
        raise ExportError(f"cannot open {result_json.name}: {exc.strerror}") from None
    with fh:
        reader = _Reader(folder if folder is not None else result_json.parent, tz)
        yield from reader.read(fh)


class _Reader:
    def __init__(self, folder: Path, tz: tzinfo | None) -> None:
        self.folder = folder
        self.real_folder = os.path.realpath(folder)
        self.tz = tz
        self.chats: dict[str, dict[str, Any]] = {}
        self.seen_messages = 0
        self._last_chat: tuple[tuple[str, tuple[Any, ...]], Chat] | None = None

    def read(self, fh: BinaryIO) -> Iterator[Message | Problem]:
        album: list[Message] = []
        try:
            for prefix, obj in self._objects(fh):
                if prefix is None:  # a chat of a full export starts
                    yield from _flush_album(album, None)
                    continue
                self.seen_messages += 1
                found = self._message(self._chat(_MESSAGE_PREFIXES[prefix]), obj)
                if isinstance(found, Problem):
                    yield found
                    continue
                yield from _flush_album(album, found)
        except (ijson.JSONError, UnicodeDecodeError) as exc:  # yajl reports bad UTF-8 so
            yield from _flush_album(album, None)
            yield Problem(None, "result.json", f"the JSON is malformed or ends early after "
                          f"{self.seen_messages} messages ({_short(exc)}); what came before "
                          "is read, the rest is not")
            return
        yield from _flush_album(album, None)
        if self.seen_messages == 0 and not self.chats:
            raise ExportError("this is not a Telegram Desktop JSON export: no chat and no "
                              "messages in it")

    def _objects(self, fh: BinaryIO) -> Iterator[tuple[str | None, Any]]:
        """(message prefix, message) for each message; (None, None) as a chat begins."""
        chat = _single_chat(fh)
        fh.seek(0)
        if chat is not None:
            # One chat, its fields first (as Telegram writes it): its messages are built
            # by ijson's C code, three times as fast as from events one by one.
            self.chats[""] = chat
            for obj in ijson.items(fh, "messages.item", use_float=False):
                yield "messages.item", obj
            return
        events = ijson.parse(fh, use_float=False)
        for prefix, event, value in events:
            if prefix in _MESSAGE_PREFIXES and event not in ("end_array", "map_key"):
                obj = (_build(events, prefix, event)
                       if event in ("start_map", "start_array") else value)
                yield prefix, obj
            elif event in ("string", "number"):
                self._chat_field(prefix, value)
            elif event == "start_map" and prefix in _CHAT_PREFIXES[1:]:
                yield None, None
                self.chats[prefix] = {}

    # -- chats ------------------------------------------------------------------------

    def _chat_field(self, prefix: str, value: Any) -> None:
        parent, _, key = prefix.rpartition(".")
        if key in ("name", "type", "id") and parent in _CHAT_PREFIXES:
            self.chats.setdefault(parent, {})[key] = value

    def _chat(self, prefix: str) -> Chat:
        fields = self.chats.get(prefix, {})
        # The same Chat for every message until a field changes: a new one per message
        # cost a fifth of reading it.
        key = (prefix, tuple(fields.items()))
        if self._last_chat is not None and self._last_chat[0] == key:
            return self._last_chat[1]
        chat = self._new_chat(prefix, fields)
        self._last_chat = (key, chat)
        return chat

    def _new_chat(self, prefix: str, fields: dict[str, Any]) -> Chat:
        raw_id = fields.get("id")
        return Chat(id=int(raw_id) if isinstance(raw_id, int | Decimal) else None,
                    name=fields.get("name") if isinstance(fields.get("name"), str) else None,
                    type=fields.get("type") if isinstance(fields.get("type"), str) else None,
                    left=prefix.startswith("left_chats"))

    # -- messages ---------------------------------------------------------------------

    def _message(self, chat: Chat, obj: Any) -> Message | Problem:
        position = f"message #{self.seen_messages} of the file"
        if not isinstance(obj, dict):
            return Problem(chat, position, "a message is not a JSON object")
        msg_id = obj.get("id")
        if not isinstance(msg_id, int) or isinstance(msg_id, bool):
            return Problem(chat, position, "a message has no numeric id")
        where = f"message {msg_id}"
        kind = obj.get("type")
        if kind not in ("message", "service", "unsupported"):
            return Problem(chat, where, f"unknown message type {str(kind)[:40]!r}")
        try:
            moment, source, note = self._time(obj.get("date_unixtime"), obj.get("date"))
            edited = (self._time(obj.get("edited_unixtime"), obj.get("edited"))[0]
                      if "edited" in obj or "edited_unixtime" in obj else None)
        except ValueError as exc:
            return Problem(chat, where, str(exc))
        if (isinstance(obj.get("from_id", obj.get("actor_id")), int) and chat.id is not None
                and chat.id >= _OLD_CHANNEL):
            chat = replace(chat, id=chat.id - _OLD_CHANNEL)  # the pre-2021 encoding, as above
        text, links = _text(obj)
        media = tuple(self._media(obj, name) for name in MEDIA_FIELDS if name in obj)
        return Message(
            chat=chat, id=msg_id, kind=kind, time=moment, time_source=source,
            time_note=note, edited=edited, sender=_str(obj.get("from", obj.get("actor"))),
            sender_id=_peer(obj.get("from_id", obj.get("actor_id"))), text=text,
            links=links, media=media, action=_str(obj.get("action")),
            reply_to=_int(obj.get("reply_to_message_id")),
            forwarded_from=_str(obj.get("forwarded_from")), via_bot=_str(obj.get("via_bot")),
            album=None, raw=obj)

    def _time(self, unixtime: Any, local: Any) -> tuple[datetime, TimeSource, str | None]:
        if unixtime is not None:
            try:
                return datetime.fromtimestamp(int(str(unixtime)), UTC), "utc", None
            except (ValueError, OverflowError, OSError):
                raise ValueError("its date_unixtime is not a time") from None
        if not isinstance(local, str):
            raise ValueError("it has no date")
        if self.tz is None:
            raise ExportError(
                "this export has no UTC times (Telegram Desktop before mid-2022 wrote only the "
                "exporting computer's local time); give that computer's time zone, for "
                "example --tz Europe/Kyiv")
        try:
            naive = datetime.fromisoformat(local)
        except ValueError:
            raise ValueError("its date is not an ISO date and time") from None
        if naive.tzinfo is not None:
            return naive.astimezone(UTC), "utc", None
        first = naive.replace(tzinfo=self.tz, fold=0)
        second = naive.replace(tzinfo=self.tz, fold=1)
        note = None
        if first.utcoffset() != second.utcoffset():
            back = first.astimezone(UTC).astimezone(self.tz).replace(tzinfo=None)
            note = ("ambiguous local time (the clocks went back); the first of the two "
                    "readings is used") if back == naive else (
                "local time that did not exist (the clocks went forward)")
        return first.astimezone(UTC), "local", note

    def _media(self, obj: dict[str, Any], name: str) -> Media:
        value = obj.get(name)
        if name in ("photo", "file"):  # the message's own media, described beside it
            size_key = "photo_file_size" if name == "photo" else "file_size"
            blank = Media(name, None, None, _str(obj.get("media_type")),
                          _str(obj.get("mime_type")), _str(obj.get("file_name")),
                          _int(obj.get(size_key)))
        else:
            blank = Media(name, None, None,
                          size=_int(obj.get("thumbnail_file_size")) if name == "thumbnail"
                          else None)
        if not isinstance(value, str) or not value:
            return replace(blank, missing="no file: the export names none")
        if value.startswith("(") and value.endswith(")"):
            return replace(blank, missing=f"not in the export: {value[1:-1][:120]}")
        refused = self._refuse(value)
        return replace(blank, missing=refused) if refused else replace(blank, path=value)

    def _refuse(self, value: str) -> str | None:
        """Why a media path cannot be used, or None; the export folder is the only root."""
        pure = PurePosixPath(value)
        if (pure.is_absolute() or "\\" in value or "\x00" in value or ".." in pure.parts
                or (len(value) > 1 and value[1] == ":")):
            return "refused: the path is absolute or leaves the export folder"
        real = os.path.realpath(os.path.join(self.folder, value))
        if os.path.commonpath([real, self.real_folder]) != self.real_folder:
            return "refused: the path leads out of the export folder through a link"
        if not os.path.isfile(real):
            return "listed in the export but not found in its folder"
        return None


def _single_chat(fh: BinaryIO) -> dict[str, Any] | None:
    """A single chat's name, type and id, when they all come before its messages (as
    Telegram writes them); None for a full export, or any other order."""
    fields: dict[str, Any] = {}
    try:
        for prefix, event, value in ijson.parse(fh, use_float=False):
            if prefix in ("name", "type", "id") and event in ("string", "number"):
                fields[prefix] = value
            elif prefix == "messages" and event == "start_array":
                return fields
            elif prefix in ("chats", "left_chats") or (
                    prefix.startswith("messages.") or prefix.count(".") > 1):
                return None
    except (ijson.JSONError, UnicodeDecodeError):
        return None  # the general reader reports where it breaks
    return None


def _build(events: Iterator[tuple[str, str, Any]], prefix: str, start: str) -> Any:
    """The object or array whose start was just read, built from the events to its end."""
    builder = ijson.ObjectBuilder()
    builder.event(start, None)
    depth = 1
    for _, event, value in events:
        if event in ("start_map", "start_array"):
            depth += 1
        elif event in ("end_map", "end_array"):
            depth -= 1
        builder.event(event, value)
        if depth == 0:
            return builder.value
    raise ijson.IncompleteJSONError(f"the object at {prefix} is not closed")


def _flush_album(pending: list[Message], nxt: Message | None) -> Iterator[Message]:
    """Hold media messages while they may still be one album; yield them when it ends."""
    if nxt is not None and pending and _joins(pending, nxt):
        pending.append(nxt)
        return
    if len(pending) > 1:
        first = pending[0].id
        yield from (_with_album(m, first) for m in pending)
    else:
        yield from pending
    pending.clear()
    if nxt is None:
        return
    if nxt.kind == "message" and nxt.media:
        pending.append(nxt)
    else:
        yield nxt


def _joins(pending: list[Message], nxt: Message) -> bool:
    last = pending[-1]
    return (len(pending) < ALBUM_MAX and nxt.kind == "message" and bool(nxt.media)
            and nxt.sender_id == last.sender_id and nxt.time == last.time
            and nxt.chat == last.chat)


def _with_album(message: Message, album: int) -> Message:
    return replace(message, album=album)


def _text(obj: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
    """Plain text and the links in it; text_entities first, as newer exports write both."""
    runs = obj.get("text_entities")
    if not isinstance(runs, list):
        text = obj.get("text", "")
        runs = [text] if isinstance(text, str) else text if isinstance(text, list) else []
    parts: list[str] = []
    links: list[str] = []
    for run in runs:
        if isinstance(run, str):
            parts.append(run)
        elif isinstance(run, dict) and isinstance(run.get("text"), str):
            parts.append(run["text"])
            if run.get("type") == "text_link" and isinstance(run.get("href"), str):
                links.append(run["href"])
            elif run.get("type") == "link":
                links.append(run["text"])
    return "".join(parts), tuple(links)


def _peer(value: Any) -> str | None:
    """``user123``/``channel123``/``chat123``; old numeric ids decoded the way tdesktop
    encoded them before 2021."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        if value >= _OLD_CHANNEL:
            return f"channel{value - _OLD_CHANNEL}"
        if value >= _OLD_CHAT:
            return f"chat{value - _OLD_CHAT}"
        return f"user{value}"
    return None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _short(exc: Exception) -> str:
    return str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
