"""Ingesting a Telegram Desktop export: chats and messages become child items of
result.json, their media children of the messages; a re-export adds only what is new."""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from conftest import run_svidok
from svidok.custody.proofs import events_of
from svidok.db.schema import custody_events, import_problems, imports, items, sightings
from svidok.home import Home
from svidok.locker.ingest import BatchReport, IngestOptions, ingest
from svidok.locker.records import find_item
from svidok.sources import reading, recording
from svidok.sources.importer import Container, ImportOptions
from svidok.sources.problems import Problem

DATA = Path(__file__).parent.parent / "data"
TG2MD = DATA / "sources" / "telegram" / "tg2md_private_channel"
KYIV = IngestOptions(reading=ImportOptions(tz=ZoneInfo("Europe/Kyiv")))
VERIFIER = Path(__file__).parents[2] / "verifier" / "svidok_verify.py"


def msg(msg_id: int, text: str = "", **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"id": msg_id, "type": "message", "date": "2024-03-01T10:00:00",
                            "date_unixtime": str(1_709_280_000 + 60 * msg_id),
                            "from": "Kharkiv news", "from_id": "channel1001", "text": text}
    return base | fields


def export(folder: Path, messages: list[dict[str, Any]], name: str = "Kharkiv news",
           photos: dict[str, bytes] | None = None) -> Path:
    folder.mkdir(parents=True)
    (folder / "result.json").write_text(json.dumps(
        {"name": name, "type": "public_channel", "id": 1001, "messages": messages},
        ensure_ascii=False, indent=1), encoding="utf-8")
    for rel, data in (photos or {}).items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_bytes(data)
    return folder


def rows(home: Home, *where: Any) -> list[Any]:
    with home.engine.connect() as conn:
        return list(conn.execute(select(items).where(*where).order_by(items.c.id)))


def one_import(report: BatchReport) -> Any:
    assert len(report.imports) == 1, report.imports
    return report.imports[0]


# -- the real export -----------------------------------------------------------------------


def test_an_export_becomes_a_chat_its_messages_and_their_media(home: Home) -> None:
    report = ingest(home, [TG2MD], KYIV)
    assert report.ok, report.imports
    (result,) = [i for i in report.imports if i.rel_path == "result.json"]
    assert (result.items, result.problems, result.state) == (20, 0, "finished")
    container = rows(home, items.c.rel_path == "result.json")[0]
    (chat,) = rows(home, items.c.kind == "chat")
    assert chat.parent_id == container.id and chat.source_key == "telegram:1292077344"
    messages = rows(home, items.c.kind == "message", items.c.parent_id == chat.id)
    assert len(messages) == 19
    photo_msg = next(m for m in messages if m.locator == "chat 1292077344 message 3")
    record = json.loads(photo_msg.record)
    assert record["date"] == "2020-11-12T10:57:31+00:00"  # 12:57:31 in Kyiv (UTC+2)
    assert record["time_source"] == "local"
    assert photo_msg.occurred_at.isoformat() == "2020-11-12T10:57:31+00:00"
    (photo_file,) = record["files"]
    photo = rows(home, items.c.rel_path == photo_file["path"])[0]
    # The photo is an original of its own, a child of the message, named by hash in it.
    assert photo.kind == "media" and photo.parent_id == photo_msg.id
    assert photo_file["sha256"] == photo.sha256
    assert photo_msg.sha256 is None and photo_msg.record_sha256
    # Every child has its capture event, which names its record; the older export beside
    # result.json holds the same message unchanged: a sighting.
    with home.engine.connect() as conn:
        actions = [e.action for e in events_of(conn, photo_msg.record_sha256)]
    assert actions == ["capture", "sighting"]


def test_without_utc_times_the_import_asks_for_the_time_zone(home: Home) -> None:
    report = ingest(home, [TG2MD / "result.json"])
    result = one_import(report)
    assert result.state == "failed" and "--tz Europe/Kyiv" in (result.error or "")
    assert not report.ok
    assert len(rows(home, items.c.rel_path == "result.json")) == 1  # still preserved


def test_importing_the_same_export_again_records_sightings(home: Home, tmp_path: Path) -> None:
    copy = tmp_path / "copy-from-a-colleague"
    shutil.copytree(TG2MD, copy)
    ingest(home, [TG2MD / "result.json"], KYIV)
    before = len(rows(home))
    again = one_import(ingest(home, [copy / "result.json"], KYIV))
    assert (again.items, again.versions, again.sightings) == (0, 0, 20)
    assert len(rows(home)) == before
    with home.engine.connect() as conn:
        seen = conn.execute(select(func.count()).select_from(sightings)
                            .where(sightings.c.locator.is_not(None))).scalar_one()
    assert seen == 20


def test_a_file_named_alone_brings_its_media_from_beside_it(home: Home) -> None:
    report = ingest(home, [TG2MD / "result.json"], KYIV)
    assert one_import(report).files == 7
    media = rows(home, items.c.kind == "media")
    assert {m.rel_path for m in media} >= {"photos/photo_1@12-11-2020_12-57-31.jpg",
                                           "files/test-sound.ogg"}
    assert all(m.parent_id is not None for m in media)


# -- a newer export of the same channel -----------------------------------------------------


def test_a_newer_export_adds_what_is_new_and_records_edits_as_versions(
        home: Home, tmp_path: Path) -> None:
    photo = (DATA / "photo.jpg").read_bytes()
    first = export(tmp_path / "march", [
        msg(1, "Checkpoint on the bridge"), msg(2, "Men detained at the market"),
        msg(3, "", photo="photos/photo_1.jpg", width=10, height=10)],
        photos={"photos/photo_1.jpg": photo})
    report = one_import(ingest(home, [first]))
    assert (report.items, report.versions) == (4, 0)  # the chat and three messages
    second = export(tmp_path / "april", [
        msg(1, "Checkpoint on the bridge", reactions=[{"type": "emoji", "count": 7}]),
        msg(2, "Men detained at the market, 12 of them", edited="2024-03-02T09:00:00",
            edited_unixtime="1709370000"),
        msg(3, "", photo="photos/photo_1.jpg", width=10, height=10),
        msg(4, "Buses seen heading north")],
        name="Kharkiv news (renamed)", photos={"photos/photo_1.jpg": photo})
    report = one_import(ingest(home, [second]))
    # Message 4 is new, message 2 a new version; the chat (renamed), message 1 (new
    # reactions) and message 3 are what they were: sightings.
    assert (report.items, report.versions, report.sightings) == (2, 1, 3)
    versions = rows(home, items.c.source_key == "telegram:1001:2")
    assert len(versions) == 2 and versions[1].previous_id == versions[0].id
    # The item page and `svidok items show` find the newer version from the older.
    older, newer = (find_item(home, str(v.id)) for v in versions)
    assert older is not None and older["next_versions"] == [versions[1].id]
    assert newer is not None and newer["next_versions"] == []
    assert json.loads(versions[1].record)["edited"] == "2024-03-02T09:00:00+00:00"
    assert len(rows(home, items.c.source_key == "telegram:1001:1")) == 1


def test_a_media_path_leaving_the_export_is_refused_and_never_read(
        home: Home, tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("outside the export")
    folder = export(tmp_path / "export", [msg(1, "", photo="../secret.txt"),
                                          msg(2, "", file="/etc/passwd")])
    report = one_import(ingest(home, [folder / "result.json"]))
    assert report.state == "finished" and report.files == 0
    records = [json.loads(r.record) for r in rows(home, items.c.kind == "message")]
    assert all("refused" in r["files"][0]["missing"] for r in records)
    assert not rows(home, items.c.original_name == "secret.txt")
    assert not rows(home, items.c.original_name == "passwd")


def test_placeholders_are_missing_media_not_problems(home: Home, tmp_path: Path) -> None:
    folder = export(tmp_path / "export", [msg(
        1, "", photo="(File not included. Change data exporting settings to download.)")])
    report = ingest(home, [folder])
    assert report.ok and one_import(report).problems == 0
    (message,) = rows(home, items.c.kind == "message")
    (missing,) = json.loads(message.record)["files"]
    assert missing["missing"].startswith("not in the export: File not included")


# -- bad input -------------------------------------------------------------------------------


def test_a_truncated_export_keeps_what_came_before_and_says_so(
        home: Home, tmp_path: Path) -> None:
    folder = export(tmp_path / "export", [msg(i, f"message {i}") for i in range(1, 51)])
    data = (folder / "result.json").read_bytes()
    (folder / "result.json").write_bytes(data[: len(data) // 2])
    report = ingest(home, [folder])
    result = one_import(report)
    assert result.state == "finished" and result.problems == 1
    assert 10 < result.items < 50
    assert not report.ok
    with home.engine.connect() as conn:
        (problem,) = conn.execute(select(import_problems)).all()
    assert "malformed or ends early" in problem.message


def test_a_message_id_twice_is_named_and_the_rest_imports(home: Home, tmp_path: Path) -> None:
    folder = export(tmp_path / "export", [msg(1, "a"), msg(2, "b"), msg(2, "c"), msg(3, "d")])
    result = one_import(ingest(home, [folder]))
    assert (result.items, result.problems) == (4, 1)  # the chat, messages 1, 2 and 3
    assert result.first_problems[0][1].startswith("appears twice")


def test_as_file_reads_nothing_and_as_telegram_reads_any_name(
        home: Home, tmp_path: Path) -> None:
    folder = export(tmp_path / "export", [msg(1, "a")])
    assert ingest(home, [folder], IngestOptions(
        reading=ImportOptions(forced="file"))).imports == []
    renamed = tmp_path / "channel-dump.txt"
    shutil.copy(folder / "result.json", renamed)
    forced = ingest(home, [renamed], IngestOptions(reading=ImportOptions(forced="telegram")))
    assert one_import(forced).importer == "telegram/1"


# -- the command line, proofs, verification ------------------------------------------------


def test_cli_reads_an_export_and_a_message_proof_verifies_offline(
        env: dict[str, str], tmp_path: Path) -> None:
    assert run_svidok(["init"], env).returncode == 0
    no_tz = run_svidok(["ingest", str(TG2MD), "--json"], env)
    assert no_tz.returncode == 1
    errors = [i["error"] for i in json.loads(no_tz.stdout)["imports"]
              if i["importer"] == "telegram/1"]
    assert errors and all("--tz" in e for e in errors)
    bad = run_svidok(["ingest", str(TG2MD), "--tz", "Mars/Olympus"], env)
    assert bad.returncode == 2 and "unknown time zone" in bad.stderr
    done = run_svidok(["ingest", str(TG2MD), "--tz", "Europe/Kyiv", "--rehash"], env)
    assert done.returncode == 0, done.stderr
    assert "Read from containers" in done.stdout
    listed = json.loads(run_svidok(["items", "list", "--kind", "message", "--limit", "100",
                                    "--json"], env).stdout)
    assert listed["total"] == 19  # the older export beside it holds the same: sightings
    kinds = json.loads(run_svidok(["status", "--json"], env).stdout)["kinds"]
    assert (kinds["message"], kinds["chat"]) == (19, 1)
    assert "Read from files: 1 chat" in run_svidok(["status"], env).stdout
    message = listed["items"][0]
    shown = json.loads(run_svidok(["items", "show", str(message["id"]), "--json"], env).stdout)
    assert shown["record"]["kind"] == "message"
    imports_listed = json.loads(run_svidok(["imports", "list", "--json"], env).stdout)
    telegram = [i for i in imports_listed["imports"] if i["importer"] == "telegram/1"]
    assert len(telegram) == 4  # both exports, without --tz and with it
    bundle = tmp_path / "message.tlog-proof"
    proved = run_svidok(["log", "prove", str(message["id"]), "--out", str(bundle)], env)
    assert proved.returncode == 0, proved.stderr
    vkey = run_svidok(["log", "key"], env).stdout.strip()
    checked = subprocess.run(
        [sys.executable, str(VERIFIER), str(bundle), "--key", vkey, "--original",
         str(bundle) + ".record.json"], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    verified = run_svidok(["verify"], env)
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_an_edited_message_record_is_named_by_verify(home: Home, env: dict[str, str]) -> None:
    ingest(home, [TG2MD / "result.json"], KYIV)
    with home.engine.begin() as conn:
        target = conn.execute(select(items.c.id).where(items.c.kind == "message")
                              .limit(1)).scalar_one()
        conn.execute(items.update().where(items.c.id == target)
                     .values(record_sha256="0" * 64))
    done = run_svidok(["verify"], env)
    assert done.returncode == 3
    assert f"item {target} has no capture event" in done.stdout + done.stderr


def test_each_import_run_is_kept_with_its_options(home: Home) -> None:
    ingest(home, [TG2MD / "result.json"], KYIV)
    with home.engine.connect() as conn:
        run = conn.execute(select(imports)).one()
    assert run.state == "finished" and json.loads(run.options) == {"tz": "Europe/Kyiv"}


# -- kill -9 in the middle of an import --------------------------------------------------


def _message_count(home: Home) -> int:
    with home.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(items)
                                .where(items.c.kind == "message")).scalar_one())


def test_an_import_killed_midway_resumes_and_records_each_message_once(
        home: Home, tmp_path: Path, env: dict[str, str]) -> None:
    total = 30_000
    folder = export(tmp_path / "export", [msg(i, f"message {i}") for i in range(1, total + 1)])
    proc = subprocess.Popen([sys.executable, "-m", "svidok", "ingest", str(folder)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while _message_count(home) < 2_000 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    killed = proc.poll() is None
    proc.kill()
    proc.wait()
    assert killed, "the import finished before it could be killed; make the export bigger"
    assert _message_count(home) < total
    done = run_svidok(["ingest", str(folder), "--json"], env)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["resumed"] and report["imports"][0]["items"] == total + 1  # and the chat
    with home.engine.connect() as conn:
        keys = conn.execute(select(func.count(), func.count(items.c.source_key.distinct()))
                            .where(items.c.kind == "message")).one()
        events = conn.execute(select(func.count()).select_from(custody_events)).scalar_one()
    assert tuple(keys) == (total, total)
    assert events == total + 2  # each message, the chat and result.json: one capture each
    verified = run_svidok(["verify"], env)
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_after_a_failed_reading_the_same_ingest_with_tz_reads_it(home: Home) -> None:
    first = ingest(home, [TG2MD / "result.json"])
    assert one_import(first).state == "failed"
    again = ingest(home, [TG2MD / "result.json"], KYIV)  # unchanged, yet read again
    result = one_import(again)
    assert (result.state, result.items) == ("finished", 20)
    assert ingest(home, [TG2MD / "result.json"], KYIV).imports == []  # now it is done


def test_a_message_id_repeated_in_a_later_group_is_named_too(
        home: Home, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(recording, "GROUP_ENTRIES", 2)  # each group a transaction of two
    # Message 2 again as it was (it would be a sighting), message 3 again changed (it
    # would be a new version): both are at a place already recorded, in another group.
    folder = export(tmp_path / "export", [msg(i, str(i)) for i in (1, 2, 3, 4, 2, 5, 6)]
                    + [msg(3, "changed")])
    result = one_import(ingest(home, [folder]))
    assert (result.items, result.problems) == (7, 2)  # the chat and six messages
    assert result.first_problems == [("chat 1001 message 2", recording._TWICE),
                                     ("chat 1001 message 3", recording._TWICE)]
    assert len(rows(home, items.c.kind == "message")) == 6
    with home.engine.connect() as conn:
        captures = conn.execute(select(func.count()).select_from(custody_events)).scalar_one()
    assert captures == 1 + 7  # result.json, then each item once: no event of the rollback


def test_times_of_records_are_stored_as_those_of_files(home: Home) -> None:
    """Records are written in bulk; their times must read back as aware UTC, and on
    SQLite be stored in the same text form as every other time (so they sort alike)."""
    ingest(home, [TG2MD / "result.json"], KYIV)
    (container,) = rows(home, items.c.rel_path == "result.json")
    message = rows(home, items.c.kind == "message")[0]
    assert message.captured_at.tzinfo is not None
    assert message.occurred_at.isoformat() == "2020-11-12T10:53:52+00:00"
    with home.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            raw = conn.exec_driver_sql(
                "SELECT captured_at FROM items WHERE id IN (?, ?) ORDER BY id",
                (container.id, message.id)).scalars().all()
            assert len(raw[0]) == len(raw[1])  # one text form


# -- reading in a process of its own -----------------------------------------------------


def test_a_big_export_read_in_a_process_of_its_own_gives_the_same_items(
        home: Home, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reading, "SEPARATE_FROM_BYTES", 0)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    report = ingest(home, [TG2MD / "result.json"], KYIV)
    result = one_import(report)
    assert (result.state, result.items, result.files) == ("finished", 20, 7)
    messages = rows(home, items.c.kind == "message")
    assert len(messages) == 19 and all(m.parent_id for m in messages)
    without_tz = ingest(home, [TG2MD / "result.json"])  # read again: the last one finished
    assert without_tz.imports == []


def test_a_failure_in_the_reading_process_reaches_the_import(
        home: Home, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reading, "SEPARATE_FROM_BYTES", 0)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    result = one_import(ingest(home, [TG2MD / "result.json"]))  # no --tz: ImportFailed
    assert result.state == "failed" and "--tz" in (result.error or "")


def test_a_reading_process_that_dies_is_named_not_waited_for(tmp_path: Path) -> None:
    folder = export(tmp_path / "export", [msg(i, f"message {i} " * 20) for i in range(1, 8001)])
    result = folder / "result.json"
    container = Container(path=result, name="result.json", media_type="application/json",
                          size=result.stat().st_size, folder=folder)
    found = reading.read_separately("telegram", container, ImportOptions())
    first = next(found)
    assert not isinstance(first, Problem) and first.kind == "chat"
    for child in multiprocessing.active_children():
        if child.name == "svidok-reader":
            os.kill(child.pid or 0, signal.SIGKILL)
    with pytest.raises(reading.ReaderStopped, match="ended unexpectedly"):
        for _ in found:
            pass
