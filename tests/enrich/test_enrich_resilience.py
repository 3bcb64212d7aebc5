"""Bad input, ``kill -9`` and a full disk during ``svidok enrich``: each bad item costs only
its own runs, named with what failed; nothing is ever half-written; running the same
command again finishes the work."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

import svidok.locker.blobs as blobs_module
from conftest import DATA, run_svidok
from made_documents import image_bomb_pdf
from svidok.cli import app
from svidok.custody.events import sha_key
from svidok.db.schema import (
    artifacts,
    custody_events,
    enrichments,
    item_annotations,
    items,
    search_documents,
)
from svidok.home import Home
from svidok.locker.ingest import IngestOptions, ingest

GOOD_POST = "Вчора у Макіївці на блокпосту затримали трьох чоловіків і забрали паспорти."


def telegram(folder: Path, texts: list[str]) -> Path:
    folder.mkdir(parents=True)
    messages = [{"id": n, "type": "message", "date": "2023-07-01T10:00:00",
                 "date_unixtime": str(1_688_205_600 + n), "from": "News",
                 "from_id": "channel5", "text": text} for n, text in enumerate(texts, 1)]
    (folder / "result.json").write_text(json.dumps(
        {"name": "News", "type": "public_channel", "id": 5, "messages": messages},
        ensure_ascii=False), encoding="utf-8")
    return folder


def item_named(home: Home, name: str) -> int:
    with home.engine.connect() as conn:
        return int(conn.execute(select(items.c.id).where(items.c.original_name == name))
                   .scalar_one())


def runs_of(home: Home, item_id: int) -> dict[str, Any]:
    with home.engine.connect() as conn:
        return {r.enricher: r for r in conn.execute(
            select(enrichments).where(enrichments.c.item_id == item_id))}


def kinds_of(home: Home, item_id: int) -> set[str]:
    with home.engine.connect() as conn:
        return set(conn.execute(select(item_annotations.c.kind).where(
            item_annotations.c.item_id == item_id)).scalars())


def assert_nothing_half_written(home: Home) -> None:
    """Every artifact's blob is there, every item with a stored run is in the search index
    (or had no text for it), every enrichment that found something has its custody event,
    and no partial file is left in the blob store."""
    with home.engine.connect() as conn:
        for role, sha, content in conn.execute(select(
                artifacts.c.role, artifacts.c.sha256, artifacts.c.content)):
            if content is None:
                assert home.blobs.path_of(sha).is_file(), f"{role} {sha} has no blob"
        found = set(conn.execute(select(item_annotations.c.item_id).distinct()).scalars())
        indexed = set(conn.execute(select(search_documents.c.item_id)).scalars())
        assert found <= indexed, "an item with findings is missing from the search index"
        for item_id in found:
            sha = conn.execute(select(func.coalesce(items.c.sha256, items.c.record_sha256))
                               .where(items.c.id == item_id)).scalar_one()
            actions = {json.loads(bytes(r))["action"] for r in conn.execute(
                select(custody_events.c.record).where(
                    custody_events.c.sha_key == sha_key(sha))).scalars()}
            assert "metadata" in actions, f"item {item_id}: no custody event of its findings"
    assert sorted(home.blobs.temp_dir.glob("*.part")) == []


# -- bad input ---------------------------------------------------------------------------------

@pytest.mark.slow
def test_bad_input_costs_only_itself(home: Home, env: dict[str, str], tmp_path: Path) -> None:
    """A corrupt image, a video that does not decode and a PDF bomb are each recorded with
    what failed; a 100 MB text is read in part and says so; the good post beside them is
    enriched as ever, and the command's exit status says something failed."""
    folder = tmp_path / "handover"
    telegram(folder / "channel", [GOOD_POST])
    (folder / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"
                                         + b"SECRET-WITNESS-NAME " * 300)
    (folder / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"
                                        + b"SECRET-WITNESS-NAME " * 300)
    (folder / "bomb.pdf").write_bytes(image_bomb_pdf())
    block = ("Checkpoint log, Makiivka, nothing else to report on this line. " * 16 + "\n"
             ).encode()
    with (folder / "huge.txt").open("wb") as fh:
        for _ in range(100 * 1024 * 1024 // len(block) + 1):
            fh.write(block)
    assert run_svidok(["ingest", str(folder)], env).returncode == 0

    done = run_svidok(["enrich", "--json"], env)

    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    failed = {(f["item"], f["enricher"]): f["error"] for f in report["failures"]}
    corrupt, broken, bomb = (item_named(home, n) for n in ("corrupt.jpg", "broken.mp4",
                                                          "bomb.pdf"))
    assert {(corrupt, "media"), (corrupt, "fingerprints"), (corrupt, "ocr"),
            (broken, "media"), (broken, "fingerprints"), (bomb, "ocr")} <= set(failed)
    assert "decompression bomb" in failed[(bomb, "ocr")]
    assert "not a readable audio or video file" in failed[(broken, "media")]
    assert all("SECRET" not in error for error in failed.values())
    assert "SECRET" not in done.stderr
    # The failures are recorded on the items, for people to see later.
    assert runs_of(home, bomb)["ocr"].state == "failed"
    assert runs_of(home, bomb)["text"].state == "done"

    good = item_named(home, "chat 5 message 1")
    assert {"language", "place", "date", "violation"} <= kinds_of(home, good)
    huge = item_named(home, "huge.txt")
    assert "failed" not in {r.state for r in runs_of(home, huge).values()}
    with home.engine.connect() as conn:
        notes = list(conn.execute(select(item_annotations.c.value).where(
            item_annotations.c.item_id == huge, item_annotations.c.kind == "note")).scalars())
        text = conn.execute(select(func.length(artifacts.c.content)).where(
            artifacts.c.item_id == huge, artifacts.c.role == "text")).scalar_one()
    assert text == 4 * 1024 * 1024
    assert any("cut at a size limit" in n for n in notes)
    assert {"place", "language"} <= kinds_of(home, huge)
    assert_nothing_half_written(home)

    # A failure is remembered: the same versions do not try again, and all is well.
    again = run_svidok(["enrich", "--json"], env)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["enriched"] == 0


# -- kill -9 -----------------------------------------------------------------------------------

def enriched_runs(home: Home) -> int:
    with home.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(enrichments)).scalar_one())


@pytest.mark.slow
def test_kill_9_while_enriching_loses_nothing_and_the_same_command_finishes(
        home: Home, env: dict[str, str], tmp_path: Path) -> None:
    texts = [f"{GOOD_POST} Повідомлення номер {n}, свідок {n % 7}." for n in range(600)]
    ingest(home, [telegram(tmp_path / "export", texts)], IngestOptions())
    killed = 0
    for _ in range(3):
        started = enriched_runs(home)
        process = subprocess.Popen([sys.executable, "-m", "svidok", "enrich", "--json"],
                                   env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 120
        # Kill the whole process group (the worker processes too), as a power cut would,
        # once some groups have been stored and before all of them are.
        while process.poll() is None and time.monotonic() < deadline:
            if enriched_runs(home) > started:
                os.killpg(process.pid, signal.SIGKILL)
                killed += 1
                break
            time.sleep(0.05)
        process.wait(timeout=60)
        assert_nothing_half_written(home)
    assert killed >= 1, "the enrichment finished before it could be killed"

    done = run_svidok(["enrich", "--json"], env)

    assert done.returncode == 0, done.stderr
    with home.engine.connect() as conn:
        per_item = conn.execute(select(enrichments.c.item_id, enrichments.c.enricher,
                                       func.count()).group_by(enrichments.c.item_id,
                                                              enrichments.c.enricher)).all()
        places = conn.execute(select(func.count()).select_from(item_annotations).where(
            item_annotations.c.kind == "place")).scalar_one()
        indexed = conn.execute(select(func.count()).select_from(search_documents)
                               ).scalar_one()
    assert {n for _, _, n in per_item} == {1}, "a run stored twice"
    assert places == 600  # one Makiivka a post, none twice
    assert indexed == 600
    assert_nothing_half_written(home)
    checked = run_svidok(["verify"], env)
    assert checked.returncode == 0, checked.stdout + checked.stderr


# -- a full disk -------------------------------------------------------------------------------

class FullDisk:
    """``os`` inside ``svidok.locker.blobs`` whose blob writes fail with ENOSPC once
    ``room`` bytes are written; everything else is the real ``os``."""

    def __init__(self, room: int) -> None:
        self.room = room

    def __getattr__(self, name: str) -> Any:
        return getattr(os, name)

    def write(self, fd: int, data: bytes | memoryview) -> int:
        if self.room <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        written = os.write(fd, memoryview(data)[: self.room])
        self.room -= written
        return written


def test_a_full_disk_stops_enrich_cleanly_and_the_same_command_finishes(
        home: Home, env: dict[str, str], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Thumbnails and keyframes are files: when the disk fills, ``svidok enrich`` stops,
    says so and what to do, exits 1, and leaves no artifact row without its file."""
    folder = tmp_path / "camera"
    folder.mkdir()
    for n in range(3):
        (folder / f"clip-{n}.mp4").write_bytes((DATA / "media" / "clip.mp4").read_bytes()
                                               + bytes([n]))
    ingest(home, [folder], IngestOptions())
    monkeypatch.setenv("SVIDOK_ENRICH_WORKERS", "1")
    monkeypatch.setattr(blobs_module, "os", FullDisk(room=12_000))

    first = CliRunner().invoke(app, ["enrich"], env={"COLUMNS": "200"})

    assert first.exit_code == 1, first.output
    said = " ".join(first.output.split())
    assert "the disk holding the data folder is full" in said
    assert "run 'svidok enrich' again" in said
    assert_nothing_half_written(home)

    monkeypatch.setattr(blobs_module, "os", os)  # space was freed
    second = CliRunner().invoke(app, ["enrich", "--json"])

    assert second.exit_code == 0, second.output
    with home.engine.connect() as conn:
        keyframes = conn.execute(select(func.count()).select_from(artifacts).where(
            artifacts.c.role == "keyframe")).scalar_one()
    assert keyframes == 9
    assert_nothing_half_written(home)
