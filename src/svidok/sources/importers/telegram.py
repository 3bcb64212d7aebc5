"""Telegram Desktop's JSON export: each chat and message a child item of result.json.

A message's identity across exports is its chat id and message id; its version is what
it says (text, links, media by hash, the edit time), not what Telegram writes fresh on
every export (reactions, the names of people and chats as of that day). So a newer
export of a channel adds only new messages, records an edited one as a new version of
the old, and makes a sighting of each unchanged one.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

from svidok.sources import telegram
from svidok.sources.importer import (
    LIKELY,
    POSSIBLE,
    Container,
    Entry,
    ImportFailed,
    ImportOptions,
)
from svidok.sources.problems import Problem

JSON_TYPES = ("application/json", "text/plain", "text/json", "application/x-ndjson")


class TelegramImporter:
    name: ClassVar[str] = "telegram"
    version: ClassVar[int] = 1
    title: ClassVar[str] = "Telegram Desktop JSON export"
    # Its entries are plain values: a big export is read in a process of its own.
    portable: ClassVar[bool] = True

    def score(self, container: Container) -> int:
        if container.media_type not in JSON_TYPES and not container.name.endswith(".json"):
            return 0
        head = container.head.lstrip()
        if not head.startswith(b"{"):
            return 0
        # A single chat starts with its name, type and id, then "messages"; a full export
        # has "chats" and "left_chats".
        shape = (b'"messages": [' in head or b'"chats": {' in head
                 or b'"left_chats": {' in head)
        if not shape:
            return 0
        return LIKELY + 30 if container.name.startswith("result") else LIKELY - POSSIBLE

    def read(self, container: Container, options: ImportOptions) -> Iterator[Entry | Problem]:
        chats: set[telegram.Chat] = set()
        try:
            for found in telegram.read_export(container.path, tz=options.tz,
                                              folder=container.folder):
                if isinstance(found, telegram.Problem):
                    chat = f"{_chat_locator(found.chat)} " if found.chat else ""
                    yield Problem(f"{chat}{found.where}", found.message)
                    continue
                chat_at = _chat_locator(found.chat)
                if found.chat not in chats:
                    chats.add(found.chat)
                    yield _chat_entry(found.chat, chat_at)
                yield _message_entry(found, chat_at)
        except telegram.ExportError as exc:
            raise ImportFailed(str(exc)) from None


def _chat_locator(chat: telegram.Chat) -> str:
    if chat.id is not None:
        return f"chat {chat.id}"
    return f"chat {'left ' if chat.left else ''}{chat.name or 'without a name'}"[:200]


def _chat_entry(chat: telegram.Chat, locator: str) -> Entry:
    fields = _compact({"id": chat.id, "name": chat.name, "type": chat.type,
                       "left": chat.left or None})
    return Entry(locator=locator, kind="chat", fields=fields, name=chat.name,
                 key=f"telegram:{chat.id}" if chat.id is not None else None,
                 version={"id": chat.id, "type": chat.type})


def _message_entry(m: telegram.Message, chat_at: str) -> Entry:
    media = [_compact({"field": md.field, "media_type": md.media_type,
                       "mime_type": md.mime_type, "file_name": md.file_name, "size": md.size,
                       "path": md.path}) for md in m.media]
    fields = _compact({
        "chat_id": m.chat.id, "id": m.id, "type": m.kind, "date": m.time.isoformat(),
        "time_source": m.time_source, "time_note": m.time_note,
        "edited": m.edited.isoformat() if m.edited else None, "from": m.sender,
        "from_id": m.sender_id, "text": m.text or None, "links": list(m.links) or None,
        "action": m.action, "reply_to": m.reply_to, "forwarded_from": m.forwarded_from,
        "via_bot": m.via_bot, "album": m.album, "post_link": m.post_link,
        "media": media or None})
    # What makes a new version: what the message says and shows, and when it was edited.
    # Names and reactions are as of the export day, so they are not part of it.
    version = {"type": m.kind, "date": fields["date"], "edited": fields.get("edited"),
               "from_id": m.sender_id, "text": m.text, "links": list(m.links),
               "action": m.action, "reply_to": m.reply_to, "via_bot": m.via_bot,
               "media": [[md.field, md.media_type, md.file_name] for md in m.media]}
    missing = tuple({"field": md.field, "missing": md.missing} for md in m.media
                    if md.path is None and md.missing)
    return Entry(
        locator=f"{chat_at} message {m.id}", kind="message", fields=fields, parent=chat_at,
        key=(f"telegram:{m.chat.id}:{m.id}" if m.chat.id is not None else None),
        version=version, time=m.time,
        files=tuple(md.path for md in m.media if md.path is not None), missing=missing)


def _compact(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}
