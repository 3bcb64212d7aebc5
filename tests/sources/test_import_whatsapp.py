"""WhatsApp importer end to end: chat texts (tests/data/sources/whatsapp, see PROVENANCE.md)
and zips built here from them and tests/data/photo.jpg, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import shutil
import tempfile
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from importing import by_locator, children, run, source
from sqlalchemy import select

from svidok.db.schema import items
from svidok.home import Home
from svidok.sources.importer import Container, ImportFailed, ImportOptions
from svidok.sources.importers.whatsapp import WhatsAppImporter
from svidok.sources.problems import Problem
from svidok.sources.whatsapp import DateOrder

DATA = Path(__file__).parents[1] / "data"
CHATS = DATA / "sources" / "whatsapp"
ANDROID_24H = CHATS / "chat-miner_android_ddmmyy_24h.txt"
ANDROID_12H = CHATS / "chat-miner_android_mmddyyyy_12h_es.txt"
IOS_24H = CHATS / "chat-miner_ios_brackets_mmddyy_24h.txt"
PHOTO = "IMG-20230314-WA0001.jpg"
WITH_MEDIA = (
    "14/03/2023, 10:00 - Olena: They stopped the bus at the checkpoint\n"
    f"14/03/2023, 10:01 - Olena: {PHOTO} (file attached)\n"
    "14/03/2023, 10:01 - Olena: <Media omitted>\n"
    "14/03/2023, 10:02 - Taras: VID-20230314-WA0002.mp4 (file attached)\n"
)


def item(home: Home, item_id: int) -> dict[str, Any]:
    with home.engine.connect() as conn:
        return dict(conn.execute(select(items).where(items.c.id == item_id)).mappings().one())


def photo() -> bytes:
    return (DATA / "photo.jpg").read_bytes()


@pytest.mark.parametrize(("fixture", "platform", "clock", "order"), [
    (ANDROID_24H, "android", "24h", "day-first"),
    (ANDROID_12H, "android", "12h", "month-first"),
    (IOS_24H, "ios", "24h", "month-first"),
])
def test_the_chat_miner_fixtures(home: Home, tmp_path: Path, fixture: Path, platform: str,
                                 clock: str, order: str) -> None:
    folder = source(tmp_path)
    shutil.copy(fixture, folder)
    report = run(home, folder)
    [outcome] = report.imports
    assert (outcome.importer, outcome.state, outcome.problems) == ("whatsapp/1", "finished", 0)
    assert outcome.items == 10  # the chat and its nine messages
    found = by_locator(home)
    chat = found["chat"]
    assert chat["kind"] == "chat" and chat["sha256"] is None
    assert chat["fields"]["platform"] == platform
    assert chat["fields"]["clock"] == clock
    assert chat["fields"]["date_order"] == order
    assert chat["fields"]["source_name"] == fixture.name
    messages = [row for row in children(home) if row["kind"] == "message"]
    assert len(messages) == 9 and all(m["parent_id"] == chat["id"] for m in messages)
    first, third, system = found["message 0"], found["message 2"], found["message 4"]
    assert first["fields"]["sender"] == "John Doe"
    assert first["fields"]["local_time"] == "2019-01-01T11:25:00"
    assert first["occurred_at"] is None  # local time, zone unknown: no UTC time claimed
    assert third["fields"]["text"] == ("Lorem ipsum dolor sit amet,\n"
                                       "consectetur adipiscing elit. Duis libero.")
    assert third["fields"]["line"] == 3
    assert third["fields"]["local_time"] == "2019-01-30T20:49:00"
    assert system["fields"]["system"] is True and "sender" not in system["fields"]
    assert first["source_key"] == f"whatsapp:{fixture.stem}:2019-01-01T11:25:00:John Doe:0"


def test_a_time_zone_gives_utc_times(home: Home, tmp_path: Path) -> None:
    folder = source(tmp_path)
    shutil.copy(ANDROID_24H, folder)
    run(home, folder, tz=ZoneInfo("Europe/Kyiv"))
    first = by_locator(home)["message 0"]
    assert first["occurred_at"].replace(tzinfo=UTC) == datetime(2019, 1, 1, 9, 25, tzinfo=UTC)
    assert first["fields"]["local_time"] == "2019-01-01T11:25:00"
    assert first["fields"]["time_zone"] == "Europe/Kyiv"


def test_an_ambiguous_day_month_order_needs_date_order(home: Home, tmp_path: Path) -> None:
    folder = source(tmp_path)
    (folder / "WhatsApp Chat with Olena.txt").write_text(
        "01/02/2023, 10:00 - Olena: first\n03/04/2023, 11:00 - Taras: second\n")
    report = run(home, folder)
    [outcome] = report.imports
    assert outcome.state == "failed" and not report.ok
    assert outcome.error is not None
    assert "--date-order day-first or --date-order month-first" in outcome.error
    assert children(home) == []
    # The file is unchanged, but its reading failed: the same ingest with the order given
    # reads it again.
    again = run(home, folder, date_order=DateOrder.DAY_FIRST)
    assert again.imports[0].state == "finished"
    found = by_locator(home)
    assert found["message 0"]["fields"]["local_time"] == "2023-02-01T10:00:00"
    assert found["chat"]["fields"]["date_order_given"] is True


def android_zip(path: Path, text: str = WITH_MEDIA) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("WhatsApp Chat with Olena.txt", text)
        zf.writestr(PHOTO, photo())
        zf.writestr("IMG-20230314-WA0009.jpg", photo() + b"unreferenced")
        zf.writestr("../outside.jpg", b"never extracted")
    return path


def test_a_zip_with_media(home: Home, tmp_path: Path) -> None:
    folder = source(tmp_path)
    android_zip(folder / "WhatsApp Chat with Olena.zip")
    report = run(home, folder)
    [outcome] = report.imports
    assert (outcome.importer, outcome.state) == ("whatsapp/1", "finished")
    assert outcome.first_problems == [
        ("member ../outside.jpg", "not extracted: path leads outside the export ('..')")]
    found = by_locator(home)
    chat = found["chat"]
    # In a zip the chat text is a file of its own, kept byte for byte.
    assert home.blobs.path_of(chat["sha256"]).read_bytes() == WITH_MEDIA.encode()
    media = found[f"message 1 file {PHOTO}"]
    assert media["kind"] == "media" and media["parent_id"] == found["message 1"]["id"]
    assert home.blobs.path_of(media["sha256"]).read_bytes() == photo()
    assert media["original_name"] == PHOTO
    extra = found["member IMG-20230314-WA0009.jpg"]
    assert extra["kind"] == "attachment" and extra["parent_id"] == chat["parent_id"]
    omitted = found["message 2"]["fields"]
    assert omitted["omitted_media"] is True
    assert omitted["files"] == [{"missing": "the chat was exported without media"}]
    video = found["message 3"]["fields"]
    assert video["files"] == [{"name": "VID-20230314-WA0002.mp4",
                               "missing": "not in the export"}]
    assert not any("outside" in row["locator"] for row in children(home))


def test_an_ios_zip_is_named_by_the_zip(home: Home, tmp_path: Path) -> None:
    folder = source(tmp_path)
    text = ("[14.03.23, 10:00:00] Olena: At the checkpoint\n"
            "[14.03.23, 10:01:00] Olena: \u200e<attached: 00000012-PHOTO-2023-03-14.jpg>\n")
    with zipfile.ZipFile(folder / "WhatsApp Chat - Olena.zip", "w") as zf:
        zf.writestr("_chat.txt", text)
        zf.writestr("00000012-PHOTO-2023-03-14.jpg", photo())
    run(home, folder)
    found = by_locator(home)
    assert found["chat"]["fields"]["platform"] == "ios"
    assert found["message 0"]["source_key"].startswith(
        "whatsapp:WhatsApp Chat - Olena:2023-03-14T10:00:00:Olena:")
    media = found["message 1 file 00000012-PHOTO-2023-03-14.jpg"]
    assert home.blobs.path_of(media["sha256"]).read_bytes() == photo()


def test_a_bare_chat_text_links_the_media_beside_it(home: Home, tmp_path: Path) -> None:
    folder = source(tmp_path)
    (folder / "WhatsApp Chat with Olena.txt").write_text(WITH_MEDIA)
    (folder / PHOTO).write_bytes(photo())
    report = run(home, folder)
    whatsapp = [o for o in report.imports if o.importer == "whatsapp/1"]
    assert [o.files for o in whatsapp] == [1]
    found = by_locator(home)
    message = found["message 1"]
    [linked] = message["fields"]["files"]
    assert linked["path"] == PHOTO and linked["size"] == len(photo())
    stored = item(home, message["id"])
    with home.engine.connect() as conn:
        media = conn.execute(select(items).where(items.c.sha256 == linked["sha256"])
                             ).mappings().one()
    assert (media["kind"], media["parent_id"]) == ("media", stored["id"])
    assert found["message 3"]["fields"]["files"][0]["path"] == "VID-20230314-WA0002.mp4"


def test_a_newer_export_adds_new_messages_and_versions_edited_ones(home: Home,
                                                                   tmp_path: Path) -> None:
    first = source(tmp_path, "march")
    (first / "WhatsApp Chat with Olena.txt").write_text(
        "14/03/2023, 10:00 - Olena: checkpoint at the bridge\n"
        "14/03/2023, 10:00 - Olena: they took passports\n")
    run(home, first)
    later = source(tmp_path, "april")
    (later / "WhatsApp Chat with Olena.txt").write_text(
        "14/03/2023, 10:00 - Olena: checkpoint at the bridge\n"
        "14/03/2023, 10:00 - Olena: they took passports and phones <This message was edited>\n"
        "15/03/2023, 09:00 - Taras: released this morning\n")
    report = run(home, later)
    [outcome] = report.imports
    # The chat and the unchanged message are seen again; one is edited; one is new.
    assert (outcome.items, outcome.versions, outcome.sightings) == (2, 1, 2)
    edited = [r for r in children(home) if r["previous_id"] is not None]
    assert len(edited) == 1 and edited[0]["fields"]["edited"] is True
    assert edited[0]["source_key"].endswith(":Olena:1")


def test_a_damaged_medium_is_a_problem_and_the_rest_imports(home: Home,
                                                            tmp_path: Path) -> None:
    folder = source(tmp_path)
    path = folder / "WhatsApp Chat with Olena.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("WhatsApp Chat with Olena.txt", WITH_MEDIA)
        zf.writestr(PHOTO, photo())
    data = bytearray(path.read_bytes())
    data[data.index(photo()) + 100] ^= 0xFF  # its CRC no longer matches
    path.write_bytes(bytes(data))
    report = run(home, folder)
    [outcome] = report.imports
    assert outcome.state == "finished"
    assert outcome.first_problems == [(f"member {PHOTO}", "cannot be read (BadZipFile); "
                                       "not stored")]
    found = by_locator(home)
    assert f"message 1 file {PHOTO}" not in found and "message 3" in found


def test_a_damaged_zip_fails_with_a_clear_message(home: Home, tmp_path: Path) -> None:
    folder = source(tmp_path)
    data = android_zip(tmp_path / "whole.zip").read_bytes()
    damaged = folder / "WhatsApp Chat with Olena.zip"
    damaged.write_bytes(data[: len(data) - 30])
    # Not recognised as an export any more; named with --as, it is read and refused.
    report = run(home, damaged, forced="whatsapp")
    [outcome] = report.imports
    assert outcome.state == "failed" and outcome.error is not None
    assert "damaged" in outcome.error


# --- bad input never crashes the importer ---------------------------------------------

HEADERS = st.sampled_from([
    "14/03/2023, 10:00 - Olena: ", "[14.03.23, 10:00:00] Olena: ", "03/14/23, 9:41 PM - T: ",
    "1/2/23, 10:00 - ", "31/31/2023, 99:99 - X: ", "", "\u200e", "<Media omitted>",
])
LINES = st.lists(st.tuples(HEADERS, st.text(max_size=40)), max_size=12).map(
    lambda parts: "\n".join(h + t for h, t in parts).encode("utf-8", "surrogatepass"))


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(st.binary(max_size=600), LINES),
       zipped=st.booleans())
def test_random_chats_raise_nothing_but_import_failed(data: bytes, zipped: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / ("chat.zip" if zipped else "chat.txt")
        if zipped:
            with zipfile.ZipFile(path, "w") as zf:
                zf.writestr("WhatsApp Chat with X.txt", data)
                zf.writestr("IMG-1.jpg", data[:50])
        else:
            path.write_bytes(data)
        container = Container(path=path, name=path.name, media_type="text/plain",
                              size=path.stat().st_size, folder=Path(tmp))
        importer = WhatsAppImporter()
        importer.score(container)
        try:
            found = list(importer.read(container, ImportOptions()))
        except ImportFailed:
            return
        for entry in found:
            if not isinstance(entry, Problem):
                json.dumps(dict(entry.fields))  # JSON, as the record needs
