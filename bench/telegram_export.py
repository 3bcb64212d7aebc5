"""A generated Telegram Desktop JSON export ("Export chat history") of one group chat.

    .venv/bin/python bench/telegram_export.py OUT_DIR --messages 200000 --media 5000

writes ``OUT_DIR/result.json`` and exactly ``--media`` media files beside it, in the folders
Telegram Desktop uses (``photos/``, ``video_files/``, ``voice_messages/``, ``stickers/``,
``round_video_messages/``, ``files/``). The shapes follow the writer (tdesktop's
export_output_json.cpp, see docs/sources.md and the real sample in
tests/data/sources/telegram/): a single-chat root ``{"name", "type", "id", "messages"}``;
keys in the writer's order and only when non-empty; ``date`` in the exporting computer's
local time (Europe/Kyiv) and ``date_unixtime`` as a string; ``text`` a plain string or a
list mixing strings and entity objects, always with ``text_entities``; edits, replies,
forwards, id gaps (deleted messages), albums (consecutive media messages from one sender in
one second, caption on the first), photos with ``width``/``height``, documents with
``media_type`` (video_file, voice_message, sticker, video_message; none for plain files),
thumbnails, the "(File not included. ...)" placeholders, a deleted account (``"from":
null``), and service messages with ``action``. Text is Ukrainian, Russian and English,
with some emoji outside the BMP.

The output is the same for the same arguments and seed. The JSON is written as it is made,
one message at a time (``ensure_ascii=False``, one space of indent per level, as Telegram
writes it), so a million messages need no more memory than ten. Media files are a few KiB
each, begin with their format's magic bytes and are otherwise random, so no two are alike.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import shutil
import sys
import time
import zipfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO
from xml.sax.saxutils import escape as xml_escape
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_SEED = 20220224
# Bump when the content scheme changes, so cached exports are made again.
LAYOUT_VERSION = 2
NOT_INCLUDED = "(File not included. Change data exporting settings to download.)"
TOO_BIG = "(File exceeds maximum size. Change data exporting settings to download.)"
CHAT_NAME = "Волонтерський штаб · Харків / Volunteers HQ"
CHAT_TYPE = "private_supergroup"
CHAT_ID = 1693124587
START = 1645671600  # 2022-02-24T05:00:00+02:00
ALBUM_MAX = 10  # Telegram's own limit
ALBUM_SIZES = (2, 2, 2, 3, 3, 4, 4, 5, 6, 8, ALBUM_MAX)
# How many media files one media message takes on average (thumbnails, albums), so the
# budget of files is spread over the whole export rather than spent at its start.
FILES_PER_MEDIA_MESSAGE = 1.25


def _zone() -> ZoneInfo:
    try:
        return ZoneInfo("Europe/Kyiv")
    except ZoneInfoNotFoundError:  # system tz data older than 2022: same rules, old name
        return ZoneInfo("Europe/Kiev")


ZONE = _zone()

# -- the words the messages are made of --------------------------------------------------

UK = ("обстріл", "вибух", "район", "будинок", "лікарня", "школа", "укриття", "світло",
      "вода", "евакуація", "волонтери", "гуманітарка", "ліки", "адреса", "вулиця", "поверх",
      "пошкоджено", "зруйновано", "поранені", "загиблі", "рятувальники", "тривога", "ракета",
      "дрон", "шахед", "сирена", "ранок", "ніч", "сьогодні", "вчора", "фото", "відео",
      "свідок", "свідчення", "протокол", "зафіксовано", "потрібно", "допомога", "дякую",
      "хто", "де", "коли", "будь ласка", "терміново", "Салтівка", "Харків", "Ізюм",
      "Північна", "Олексіївка", "генератор", "пальне", "хліб", "дитина", "бабуся", "сусіди",
      "перевірено", "джерело", "координати", "машина", "маршрут", "блокпост", "і", "та",
      "у", "на", "з", "після", "біля", "що", "не", "вже", "ще", "є", "немає")
RU = ("обстрел", "взрыв", "район", "дом", "больница", "школа", "подвал", "свет", "вода",
      "эвакуация", "волонтеры", "гуманитарка", "лекарства", "адрес", "улица", "этаж",
      "повреждено", "разрушено", "раненые", "погибшие", "спасатели", "тревога", "ракета",
      "дрон", "сирена", "утром", "ночью", "сегодня", "вчера", "фото", "видео", "свидетель",
      "показания", "зафиксировано", "нужно", "помощь", "спасибо", "кто", "где", "когда",
      "пожалуйста", "срочно", "Харьков", "Салтовка", "генератор", "топливо", "хлеб",
      "ребенок", "соседи", "проверено", "источник", "координаты", "машина", "маршрут",
      "и", "в", "на", "с", "после", "возле", "что", "не", "уже", "ещё", "есть", "нет")
EN = ("shelling", "strike", "district", "building", "hospital", "school", "shelter", "power",
      "water", "evacuation", "volunteers", "aid", "medicine", "address", "street", "floor",
      "damaged", "destroyed", "injured", "killed", "rescuers", "alert", "missile", "drone",
      "siren", "morning", "night", "today", "yesterday", "photo", "video", "witness",
      "statement", "recorded", "needed", "help", "thanks", "who", "where", "when", "please",
      "urgent", "Kharkiv", "Saltivka", "generator", "fuel", "bread", "child", "neighbours",
      "verified", "source", "coordinates", "car", "route", "checkpoint", "and", "in", "on",
      "at", "after", "near", "the", "a", "not", "already", "still", "is", "no")
LANGUAGES: tuple[tuple[tuple[str, ...], float], ...] = ((UK, 0.55), (RU, 0.25), (EN, 0.20))
EMOJI = ("🔥", "🙏", "❗", "⚠️", "🇺🇦", "💔", "👍", "📍", "🚑", "😢", "✅", "➡️")
HASHTAGS = ("#Харків", "#обстріл", "#евакуація", "#гуманітарка", "#свідчення", "#Kharkiv",
            "#обстрел", "#потрібнадопомога")
LINK_HOSTS = ("https://t.me/c/1693124587/", "https://suspilne.media/kharkiv/",
              "https://www.ukrinform.ua/rubric-regions/", "https://maps.app.goo.gl/",
              "https://drive.google.com/file/d/", "https://youtu.be/")
FORWARDED_FROM = ("Повітряні Сили ЗСУ", "Суспільне Харків", "Укрінформ", "Синєгубов Олег",
                  "ХОВА | Харківська ОВА", "Reuters", "Мониторинг Харьков", "ДСНС України",
                  "Kharkiv Life", "Бабуся Ніна")
FIRST_NAMES = ("Олена", "Андрій", "Наталія", "Дмитро", "Ірина", "Сергій", "Оксана", "Максим",
               "Юлія", "Олександр", "Тетяна", "Віктор", "Мария", "Игорь", "Анна", "Павел",
               "Светлана", "Dmytro", "Kateryna", "Oleksii", "Anna", "John", "Sophie", "Taras",
               "Ганна", "Богдан", "Людмила", "Роман", "Вікторія", "Євген")
LAST_NAMES = ("Коваленко", "Шевченко", "Бондаренко", "Ткаченко", "Кравчук", "Мельник",
              "Иванов", "Петренко", "K.", "S.", "Hrytsenko", "", "", "🇺🇦", "(Салтівка)",
              "Волонтер", "Лисенко", "Мороз")
# Documents are valid files of their kind (a PDF with a text layer, a DOCX, UTF-8 text,
# a ZIP archive), as in a real export, so an importer that reads them finds no damage.
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
DOCUMENTS = (("Акт_огляду_місця_події_{n}.pdf", "application/pdf", "pdf"),
             ("Протокол_допиту_свідка_{n}.docx", DOCX_MIME, "docx"),
             ("координати_{n}.txt", "text/plain", "txt"),
             ("video_evidence_{n}.zip", "application/zip", "zip"))
STICKER_EMOJI = ("👍", "🙏", "😢", "🔥", "❤️", "😡", "🇺🇦", "💪")
PHOTO_SIZES = ((1280, 960), (960, 1280), (1280, 720), (720, 1280), (1280, 853), (1179, 2556),
               (2560, 1920), (800, 600), (1080, 1080))
VIDEO_SIZES = ((1280, 720), (720, 1280), (848, 480), (1920, 1080), (480, 854))
MAGIC = {"jpg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00",
         "mp4": b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom",
         "ogg": b"OggS\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00",
         "webp": b"RIFF\x00\x10\x00\x00WEBPVP8 "}


# -- what was made ----------------------------------------------------------------------


@dataclass(frozen=True)
class ExportSpec:
    messages: int
    media: int
    seed: int = DEFAULT_SEED

    @property
    def name(self) -> str:
        return f"telegram-{self.messages}m-{self.media}f-s{self.seed}"


@dataclass
class ExportStats:
    """What a generated export holds (kept in its manifest)."""

    messages: int = 0  # message objects in result.json, service ones included
    service: int = 0
    media_files: int = 0  # files beside result.json, thumbnails included
    media_messages: int = 0  # messages with a media file in the export
    placeholders: int = 0  # messages whose media Telegram did not include
    albums: int = 0
    album_messages: int = 0
    formatted: int = 0  # ``text`` as a list of runs
    edited: int = 0
    replies: int = 0
    forwarded: int = 0
    last_id: int = 0
    result_json_bytes: int = 0
    media_bytes: int = 0
    by_media_type: dict[str, int] = field(default_factory=dict)


# -- generation -------------------------------------------------------------------------


def _local(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, ZONE).replace(tzinfo=None)


def _iso(ts: int) -> str:
    return _local(ts).isoformat()


def _file_stamp(ts: int) -> str:
    return _local(ts).strftime("%d-%m-%Y_%H-%M-%S")


class _Generator:
    def __init__(self, spec: ExportSpec, out_dir: Path) -> None:
        if spec.messages < 1 or spec.media < 0:
            raise ValueError("an export needs at least one message and no negative media")
        if spec.media > spec.messages:
            raise ValueError("at most one media file per message: --media <= --messages")
        self.spec = spec
        self.out = out_dir
        self.rng = random.Random(f"svidok-telegram-export:{spec.messages}:{spec.media}:"
                                 f"{spec.seed}")
        rng = self.rng
        self.users = [(f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}".strip(),
                       f"user{rng.randrange(100_000_000, 7_000_000_000)}")
                      for _ in range(60)]
        self.stats = ExportStats()
        self.files_left = spec.media
        self.ts = START
        self.next_id = 1
        self.counters: dict[str, int] = {}
        self.made_dirs: set[Path] = set()

    # -- text ---------------------------------------------------------------------------

    def words(self, count: int) -> str:
        rng = self.rng
        r = rng.random()
        vocabulary: tuple[str, ...] = UK
        for vocab, share in LANGUAGES:
            if r < share:
                vocabulary = vocab
                break
            r -= share
        out = [rng.choice(vocabulary) for _ in range(count)]
        out[0] = out[0][:1].upper() + out[0][1:]
        if rng.random() < 0.15:
            out.append(rng.choice(EMOJI))
        text = " ".join(out)
        if count > 12 and rng.random() < 0.5:  # paragraphs
            cut = text.find(" ", len(text) // 2)
            if cut > 0:
                text = text[:cut] + ".\n\n" + text[cut + 1:]
        return text + rng.choice((".", "!", "", "", "?", "..."))

    def text_length(self) -> int:
        r = self.rng.random()
        if r < 0.55:
            return self.rng.randint(1, 8)
        if r < 0.9:
            return self.rng.randint(8, 30)
        return self.rng.randint(30, 160)  # long reports

    def text_fields(self, msg: dict[str, Any], *, empty: bool = False) -> None:
        """``text`` and ``text_entities``, last in a message as Telegram writes them."""
        rng = self.rng
        if empty:
            msg["text"] = ""
            msg["text_entities"] = []
            return
        body = self.words(self.text_length())
        if rng.random() >= 0.25:
            msg["text"] = body
            msg["text_entities"] = [{"type": "plain", "text": body}]
            return
        self.stats.formatted += 1
        runs: list[dict[str, Any]] = []
        if rng.random() < 0.4:
            runs.append({"type": "bold", "text": self.words(rng.randint(1, 4)) + "\n"})
        runs.append({"type": "plain", "text": body})
        for _ in range(rng.randint(1, 3)):
            sep = rng.choice((" ", "\n", " — ", "\n\n"))
            if runs[-1]["type"] == "plain":  # Telegram writes one run per formatting
                runs[-1] = {"type": "plain", "text": runs[-1]["text"] + sep}
            else:
                runs.append({"type": "plain", "text": sep})
            runs.append(self.entity())
        text: list[str | dict[str, Any]] = [
            run["text"] if run["type"] == "plain" else dict(run) for run in runs]
        msg["text"] = text
        msg["text_entities"] = runs

    def entity(self) -> dict[str, Any]:
        rng = self.rng
        kind = rng.choice(("link", "text_link", "hashtag", "mention", "italic", "bold",
                           "code", "underline", "spoiler", "phone"))
        if kind == "link":
            return {"type": "link", "text": self.url()}
        if kind == "text_link":
            return {"type": "text_link", "text": self.words(rng.randint(1, 3)),
                    "href": self.url()}
        if kind == "hashtag":
            return {"type": "hashtag", "text": rng.choice(HASHTAGS)}
        if kind == "mention":
            return {"type": "mention", "text": f"@kh_vol_{rng.randrange(1, 400)}"}
        if kind == "code":
            return {"type": "code",
                    "text": f"{rng.uniform(49.9, 50.1):.5f}, {rng.uniform(36.1, 36.4):.5f}"}
        if kind == "phone":
            return {"type": "phone", "text": f"+380 {rng.randrange(50, 99)} "
                                             f"{rng.randrange(100, 999)} "
                                             f"{rng.randrange(10, 99)} {rng.randrange(10, 99)}"}
        return {"type": kind, "text": self.words(rng.randint(1, 6))}

    def url(self) -> str:
        return self.rng.choice(LINK_HOSTS) + "".join(
            self.rng.choices("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789",
                             k=self.rng.randint(6, 14)))

    # -- messages -----------------------------------------------------------------------

    def head(self, msg_id: int, kind: str, ts: int) -> dict[str, Any]:
        msg: dict[str, Any] = {"id": msg_id, "type": kind, "date": _iso(ts),
                               "date_unixtime": str(ts)}
        if kind == "message" and self.rng.random() < 0.05:
            edited = ts + self.rng.randint(20, 7200)
            msg["edited"] = _iso(edited)
            msg["edited_unixtime"] = str(edited)
            self.stats.edited += 1
        return msg

    def sender(self, msg: dict[str, Any], user: tuple[str, str] | None = None) -> None:
        rng = self.rng
        if user is None and rng.random() < 0.002:
            msg["from"] = None  # a deleted account
            msg["from_id"] = "user5000000001"
            return
        name, peer = user or rng.choice(self.users)
        msg["from"] = name
        msg["from_id"] = peer

    def decorate(self, msg: dict[str, Any], msg_id: int) -> None:
        rng = self.rng
        if rng.random() < 0.05:
            msg["forwarded_from"] = rng.choice(FORWARDED_FROM)
            self.stats.forwarded += 1
        if msg_id > 2 and rng.random() < 0.15:
            msg["reply_to_message_id"] = rng.randint(max(1, msg_id - 300), msg_id - 1)
            self.stats.replies += 1

    def service(self, msg_id: int, ts: int, first: bool) -> dict[str, Any]:
        rng = self.rng
        msg = self.head(msg_id, "service", ts)
        actor, actor_id = rng.choice(self.users)
        msg["actor"] = actor
        msg["actor_id"] = actor_id
        action = "migrate_from_group" if first else rng.choice(
            ("invite_members", "join_group_by_link", "join_group_by_link", "remove_members",
             "pin_message", "pin_message", "edit_group_title", "group_call"))
        msg["action"] = action
        if action == "migrate_from_group":
            msg["title"] = "Волонтери Харкова"
        elif action in ("invite_members", "remove_members"):
            msg["members"] = [rng.choice(self.users)[0] for _ in range(rng.randint(1, 3))]
        elif action == "join_group_by_link":
            msg["inviter"] = "Group"
        elif action == "pin_message" and msg_id > 1:
            msg["message_id"] = rng.randint(max(1, msg_id - 50), msg_id - 1)
        elif action == "edit_group_title":
            msg["title"] = rng.choice((CHAT_NAME, "Волонтерський штаб", "Волонтери Харкова"))
        elif action == "group_call":
            msg["duration_seconds"] = rng.randint(60, 5400)
        self.text_fields(msg, empty=True)
        self.stats.service += 1
        return msg

    def plain(self, msg_id: int, ts: int) -> dict[str, Any]:
        msg = self.head(msg_id, "message", ts)
        self.sender(msg)
        self.decorate(msg, msg_id)
        if self.rng.random() < 0.015:
            self.placeholder(msg)
            self.text_fields(msg, empty=self.rng.random() < 0.5)
        else:
            self.text_fields(msg)
        return msg

    def placeholder(self, msg: dict[str, Any]) -> None:
        """Media Telegram did not include: the placeholder string where the path would be."""
        rng = self.rng
        self.stats.placeholders += 1
        kind = rng.choice(("photo", "photo", "photo", "video_file", "video_file", "sticker",
                           "video_too_big"))
        if kind == "photo":
            width, height = rng.choice(PHOTO_SIZES)
            msg.update(photo=NOT_INCLUDED, width=width, height=height)
        elif kind == "sticker":
            msg.update(file=NOT_INCLUDED, thumbnail=NOT_INCLUDED, media_type="sticker",
                       sticker_emoji=rng.choice(STICKER_EMOJI), mime_type="image/webp",
                       width=512, height=512)
        else:
            width, height = rng.choice(VIDEO_SIZES)
            msg.update(file=TOO_BIG if kind == "video_too_big" else NOT_INCLUDED,
                       thumbnail=NOT_INCLUDED, media_type="video_file", mime_type="video/mp4",
                       duration_seconds=rng.randint(3, 900), width=width, height=height)

    # -- media --------------------------------------------------------------------------

    def media_file(self, folder: str, name: str, magic: bytes = b"",
                   body: bytes | None = None) -> tuple[str, int]:
        """Write one media file: ``body``, or ``magic`` and random bytes; its path
        relative to result.json and its size."""
        rng = self.rng
        path = self.out / folder / name
        if path.parent not in self.made_dirs:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.made_dirs.add(path.parent)
        if body is None:
            body = (magic + b"svidok-bench %d\n" % self.file_index()
                    + rng.randbytes(rng.randint(1024, 6 * 1024)))
        path.write_bytes(body)
        self.files_left -= 1
        self.stats.media_files += 1
        self.stats.media_bytes += len(body)
        return f"{folder}/{name}", len(body)

    def file_index(self) -> int:
        """The index of the next media file, which makes its content unique."""
        return self.spec.media - self.files_left

    def document(self, kind: str, title: str) -> bytes:
        rng = self.rng
        index = self.file_index()
        if kind == "pdf":
            # Plain Helvetica has no Cyrillic: the text layer is English.
            lines = [f"Site inspection report, svidok-bench {index}",
                     *(" ".join(rng.choice(EN) for _ in range(12)) for _ in range(8))]
            return _pdf(lines, rng.randbytes(rng.randint(1024, 4 * 1024)))
        if kind == "docx":
            paragraphs = [f"{title} ({index})",
                          *(self.words(rng.randint(8, 40)) for _ in range(rng.randint(2, 6)))]
            return _docx(paragraphs, rng.randbytes(rng.randint(1024, 4 * 1024)))
        if kind == "txt":
            rows = [f"# {title} ({index})"]
            for _ in range(rng.randint(30, 120)):
                rows.append(f"{rng.uniform(49.9, 50.1):.6f}, {rng.uniform(36.1, 36.4):.6f}  "
                            f"{rng.choice(UK)} {rng.choice(UK)}")
            return ("\n".join(rows) + "\n").encode("utf-8")
        return _zip({"README.txt": f"{title} ({index})\n".encode(),
                     f"clip_{index}.bin": rng.randbytes(rng.randint(1024, 5 * 1024))})

    def number(self, kind: str) -> int:
        self.counters[kind] = self.counters.get(kind, 0) + 1
        return self.counters[kind]

    def attach(self, msg: dict[str, Any], ts: int, *, album: bool = False) -> str:
        """One media file (two with its thumbnail) on ``msg``, within the files left; the
        kind of media it was."""
        rng = self.rng
        two = self.files_left >= 2
        if album:
            kind = "video_file" if two and rng.random() < 0.15 else "photo"
        else:
            r = rng.random()
            kind = ("photo" if r < 0.50 else "voice_message" if r < 0.66
                    else "document" if r < 0.78 else "video_file" if r < 0.90
                    else "sticker" if r < 0.96 else "video_message")
            if not two and kind in ("video_file", "sticker", "video_message"):
                kind = "photo"
        stamp = _file_stamp(ts)
        self.stats.media_messages += 1
        self.stats.by_media_type[kind] = self.stats.by_media_type.get(kind, 0) + 1
        if kind == "photo":
            path, size = self.media_file(
                "photos", f"photo_{self.number('photo')}@{stamp}.jpg", MAGIC["jpg"])
            width, height = rng.choice(PHOTO_SIZES)
            msg.update(photo=path, photo_file_size=size, width=width, height=height)
        elif kind == "voice_message":
            path, size = self.media_file(
                "voice_messages", f"audio_{self.number('audio')}@{stamp}.ogg", MAGIC["ogg"])
            msg.update(file=path, file_size=size, media_type="voice_message",
                       mime_type="audio/ogg", duration_seconds=rng.randint(1, 240))
        elif kind == "document":
            pattern, mime, doc_kind = rng.choice(DOCUMENTS)
            name = pattern.format(n=self.number("document"))
            body = self.document(doc_kind, name.rsplit(".", 1)[0].replace("_", " "))
            path, size = self.media_file("files", name, body=body)
            msg.update(file=path, file_name=name, file_size=size, mime_type=mime)
        elif kind == "sticker":
            n = self.number("sticker")
            name = "sticker.webp" if n == 1 else f"sticker ({n}).webp"
            path, size = self.media_file("stickers", name, MAGIC["webp"])
            thumb, thumb_size = self.media_file("stickers", name + "_thumb.jpg", MAGIC["jpg"])
            msg.update(file=path, file_size=size, thumbnail=thumb,
                       thumbnail_file_size=thumb_size, media_type="sticker",
                       sticker_emoji=rng.choice(STICKER_EMOJI), mime_type="image/webp",
                       width=512, height=512)
        else:  # video_file or video_message (round video)
            round_video = kind == "video_message"
            folder = "round_video_messages" if round_video else "video_files"
            n = self.number(kind)
            named = not round_video and rng.random() < 0.3
            name = (f"IMG_{4000 + n}.MP4" if named
                    else f"{'file' if round_video else 'video'}_{n}@{stamp}.mp4")
            path, size = self.media_file(folder, name, MAGIC["mp4"])
            thumb, thumb_size = self.media_file(folder, name + "_thumb.jpg", MAGIC["jpg"])
            width, height = (384, 384) if round_video else rng.choice(VIDEO_SIZES)
            fields: dict[str, Any] = {"file": path}
            if named:
                fields["file_name"] = name
            fields.update(file_size=size, thumbnail=thumb, thumbnail_file_size=thumb_size,
                          media_type=kind, mime_type="video/mp4",
                          duration_seconds=rng.randint(1, 60 if round_video else 600),
                          width=width, height=height)
            msg.update(fields)
        return kind

    def media_message(self, msg_id: int, ts: int, user: tuple[str, str] | None,
                      caption: bool, album: bool) -> dict[str, Any]:
        msg = self.head(msg_id, "message", ts)
        self.sender(msg, user)
        if not album:
            self.decorate(msg, msg_id)
        kind = self.attach(msg, ts, album=album)
        # Stickers and round videos cannot have a caption.
        self.text_fields(msg, empty=not caption or kind in ("sticker", "video_message"))
        return msg

    # -- the stream ---------------------------------------------------------------------

    def messages(self) -> Iterator[dict[str, Any]]:
        rng = self.rng
        left = self.spec.messages
        first = True
        while left:
            self.ts += 1 + int(rng.expovariate(1 / 40))
            if rng.random() < 0.03:  # deleted before the export: a gap in the ids
                self.next_id += rng.randint(1, 4)
            # Media while files are left, spread so the last ones land near the end;
            # forced once there are as many files left as messages.
            want_media = self.files_left > 0 and (
                self.files_left >= left
                or rng.random() < self.files_left / (left * FILES_PER_MEDIA_MESSAGE))
            if want_media:
                count = 1
                if self.files_left >= 2 and left >= 2 and rng.random() < 0.2:
                    count = min(rng.choice(ALBUM_SIZES), self.files_left, left)
                user = rng.choice(self.users)
                caption_on_first = rng.random() < 0.6
                if count > 1:
                    self.stats.albums += 1
                    self.stats.album_messages += count
                for i in range(count):
                    yield self.media_message(self.next_id, self.ts, user,
                                             caption=caption_on_first and i == 0,
                                             album=count > 1)
                    self.next_id += 1
                left -= count
            elif first or rng.random() < 0.02:
                yield self.service(self.next_id, self.ts, first)
                self.next_id += 1
                left -= 1
            else:
                yield self.plain(self.next_id, self.ts)
                self.next_id += 1
                left -= 1
            first = False
        self.stats.last_id = self.next_id - 1

    def write(self, progress: bool) -> ExportStats:
        self.out.mkdir(parents=True, exist_ok=True)
        result = self.out / "result.json"
        report_every = max(1, self.spec.messages // 10)
        with open(result, "w", encoding="utf-8", newline="\n", buffering=1 << 20) as fh:
            self._write_json(fh, progress, report_every)
        if self.files_left:
            raise AssertionError(f"{self.files_left} media files were not placed")
        self.stats.result_json_bytes = result.stat().st_size
        return self.stats

    def _write_json(self, fh: TextIO, progress: bool, report_every: int) -> None:
        head = {"name": CHAT_NAME, "type": CHAT_TYPE, "id": CHAT_ID}
        fh.write("{\n")
        for key, value in head.items():
            fh.write(f" {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)},\n")
        fh.write(' "messages": [')
        sep = "\n  "
        for msg in self.messages():
            # Each message sits two levels deep: every line of it gets two more spaces.
            fh.write(sep)
            fh.write(json.dumps(msg, ensure_ascii=False, indent=1).replace("\n", "\n  "))
            sep = ",\n  "
            self.stats.messages += 1
            if progress and self.stats.messages % report_every == 0:
                print(f"  {self.spec.name}: {self.stats.messages:,}/{self.spec.messages:,} "
                      "messages", file=sys.stderr, flush=True)
        fh.write("\n ]\n}\n")


def generate(out_dir: Path, messages: int, media: int, seed: int = DEFAULT_SEED,
             progress: bool = False) -> ExportStats:
    """Write an export of ``messages`` messages and ``media`` media files into
    ``out_dir`` (which should be empty or absent)."""
    return _Generator(ExportSpec(messages, media, seed), out_dir).write(progress)


# -- documents ---------------------------------------------------------------------------


def _pdf(lines: list[str], filler: bytes) -> bytes:
    """A one-page PDF whose text layer holds ``lines`` (ASCII in the text, which the
    standard Helvetica encodes as is), plus an unreferenced stream of ``filler`` bytes."""
    def escape(text: str) -> str:
        return (text.encode("ascii", "replace").decode().replace("\\", "\\\\")
                .replace("(", "\\(").replace(")", "\\)"))

    content = "BT /F1 11 Tf 50 790 Td 14 TL\n" + "".join(
        f"({escape(line)}) '\n" for line in lines) + "ET\n"
    stream = content.encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(filler), filler),
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return bytes(out)


def _zip(members: dict[str, bytes]) -> bytes:
    """A ZIP archive with fixed member times, so the same members give the same bytes."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=(2022, 3, 1, 12, 0, 0))
            info.compress_type = (zipfile.ZIP_DEFLATED if name.endswith(".xml")
                                  or name.endswith(".rels") or name.endswith(".txt")
                                  else zipfile.ZIP_STORED)
            zf.writestr(info, data)
    return buf.getvalue()


def _docx(paragraphs: list[str], filler: bytes) -> bytes:
    """A minimal WordprocessingML document, with ``filler`` as an unreferenced part."""
    body = "".join(f"<w:p><w:r><w:t xml:space=\"preserve\">{xml_escape(p)}</w:t></w:r></w:p>"
                   for p in paragraphs)
    return _zip({
        "[Content_Types].xml": (
            b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            b'<Default Extension="rels" '
            b'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            b'<Default Extension="xml" ContentType="application/xml"/>'
            b'<Default Extension="bin" ContentType="application/octet-stream"/>'
            b'<Override PartName="/word/document.xml" ContentType="application/'
            b'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
            b'</Types>'),
        "_rels/.rels": (
            b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
            b'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
            b'officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>'
            b'</Relationships>'),
        "word/document.xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/'
            f'main"><w:body>{body}</w:body></w:document>').encode(),
        "word/media/filler.bin": filler,
    })


# -- a cached export, for the benchmark -------------------------------------------------


@dataclass(frozen=True)
class CachedExport:
    spec: ExportSpec
    folder: Path  # the export folder, handed to ``svidok ingest``
    manifest: Path  # beside the folder, so it is never part of what is ingested
    stats: ExportStats

    @property
    def result_json(self) -> Path:
        return self.folder / "result.json"


def _manifest_data(spec: ExportSpec) -> dict[str, Any]:
    return {"layout_version": LAYOUT_VERSION, **asdict(spec)}


def _load_cached(spec: ExportSpec, folder: Path, manifest: Path) -> ExportStats | None:
    try:
        recorded = json.loads(manifest.read_text(encoding="utf-8"))
        stats = ExportStats(**recorded["stats"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if recorded.get("spec") != _manifest_data(spec):
        return None
    # The manifest alone is no proof: files may have been deleted or edited since.
    try:
        if (folder / "result.json").stat().st_size != stats.result_json_bytes:
            return None
    except OSError:
        return None
    found = sum(1 for p in folder.rglob("*") if p.is_file()) - 1
    return stats if found == stats.media_files else None


def ensure(spec: ExportSpec, workdir: Path, progress: bool = True
           ) -> tuple[CachedExport, bool]:
    """The export for ``spec`` under ``workdir/telegram/``, generated unless a complete one
    is there; True if it was generated now."""
    base = workdir / "telegram"
    folder, manifest = base / spec.name, base / f"{spec.name}.json"
    stats = _load_cached(spec, folder, manifest)
    if stats is not None:
        return CachedExport(spec, folder, manifest, stats), False
    manifest.unlink(missing_ok=True)
    shutil.rmtree(folder, ignore_errors=True)
    if progress:
        print(f"Generating Telegram export {spec.name} in {folder} ...", file=sys.stderr,
              flush=True)
    started = time.perf_counter()
    stats = generate(folder, spec.messages, spec.media, spec.seed, progress)
    if progress:
        print(f"  made in {time.perf_counter() - started:.1f} s: "
              f"{stats.result_json_bytes / 2**20:,.1f} MiB of JSON", file=sys.stderr,
              flush=True)
    tmp = manifest.with_suffix(".json.tmp")
    tmp.write_text(json.dumps({"spec": _manifest_data(spec), "stats": asdict(stats)},
                              indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(manifest)
    return CachedExport(spec, folder, manifest, stats), True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out_dir", type=Path, help="the export folder to write (must not "
                                                   "exist or be empty)")
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--media", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    out: Path = args.out_dir
    if out.exists() and any(out.iterdir()):
        parser.error(f"{out} is not empty")
    if args.messages < 1 or not 0 <= args.media <= args.messages:
        parser.error("need --messages >= 1 and 0 <= --media <= --messages")
    started = time.perf_counter()
    stats = generate(out, args.messages, args.media, args.seed, progress=True)
    print(json.dumps({"seconds": round(time.perf_counter() - started, 1), **asdict(stats)},
                     ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
