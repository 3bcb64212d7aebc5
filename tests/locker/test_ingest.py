"""Ingest preserves every file with its capture context; the same bytes make a sighting."""

from __future__ import annotations

import hashlib
import io
import socket
import tarfile
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from svidok import __version__
from svidok.db.schema import batches, items, originals, sightings
from svidok.home import Home
from svidok.locker.ingest import IngestError, IngestOptions, ingest
from svidok.locker.records import find_item, status


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_every_file_is_recorded_with_its_capture_context(home: Home, evidence: Path) -> None:
    before = datetime.now(UTC)
    report = ingest(home, [evidence], IngestOptions(collector="Olena (field team 2)",
                                                    note="handed over on a USB stick"))
    assert report.ok
    letter = evidence / "letters" / "letter-1.txt"
    with home.engine.connect() as conn:
        row = conn.execute(select(items).where(items.c.rel_path == "letters/letter-1.txt")).one()
    st = letter.stat()
    assert row.state == "stored"
    assert row.sha256 == _sha(letter)
    assert row.size == st.st_size
    assert row.media_type == "text/plain"
    assert row.original_name == "letter-1.txt"
    assert row.root == str(evidence.resolve())
    assert (row.mtime_ns, row.ctime_ns) == (st.st_mtime_ns, st.st_ctime_ns)
    assert row.atime_ns is not None
    assert row.collector == "Olena (field team 2)"
    assert row.note == "handed over on a USB stick"
    assert row.host == socket.gethostname()
    assert row.svidok_version == __version__
    assert row.batch_id == report.batch_id
    assert row.captured_at.tzinfo is not None
    assert before - timedelta(seconds=1) <= row.captured_at <= datetime.now(UTC)
    assert home.blobs.path_of(row.sha256).read_bytes() == letter.read_bytes()


def test_media_type_comes_from_content_not_the_name(home: Home, tmp_path: Path,
                                                    evidence: Path) -> None:
    disguised = tmp_path / "in" / "notes.txt"
    disguised.parent.mkdir()
    disguised.write_bytes((evidence / "photos" / "checkpoint.jpg").read_bytes() + b"\0")
    report = ingest(home, [disguised])
    assert [o.media_type for o in report.outcomes] == ["image/jpeg"]


def test_same_bytes_again_make_one_original_and_a_sighting(home: Home, evidence: Path) -> None:
    report = ingest(home, [evidence], IngestOptions(collector="first"))
    photo_sha = _sha(evidence / "photos" / "checkpoint.jpg")
    by_path = {o.rel_path: o for o in report.outcomes}
    # The file listed first becomes the item; the repost is a sighting of it.
    assert by_path["photos/checkpoint.jpg"].state == "stored"
    repost = by_path["photos/reposted/copy-of-checkpoint.jpg"]
    assert repost.state == "sighting"
    assert repost.item_id == by_path["photos/checkpoint.jpg"].item_id
    with home.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(originals)
                            .where(originals.c.sha256 == photo_sha)).scalar_one() == 1
        seen = conn.execute(select(sightings)).one()
    assert seen.rel_path == "photos/reposted/copy-of-checkpoint.jpg"
    assert seen.collector == "first"
    assert seen.seen_at.tzinfo is not None
    shown = find_item(home, str(repost.item_id))
    assert shown is not None
    assert [s["rel_path"] for s in shown["sightings"]] == ["photos/reposted/copy-of-checkpoint.jpg"]


def test_same_bytes_from_another_folder_later_is_a_sighting(home: Home, evidence: Path,
                                                            tmp_path: Path) -> None:
    ingest(home, [evidence])
    other = tmp_path / "from-another-channel"
    other.mkdir()
    (other / "video-frame.jpg").write_bytes((evidence / "photos" / "checkpoint.jpg").read_bytes())
    report = ingest(home, [other], IngestOptions(collector="second"))
    assert [o.state for o in report.outcomes] == ["sighting"]
    with home.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(sightings)).scalar_one() == 2
        assert conn.execute(select(func.count()).select_from(items)
                            .where(items.c.state == "stored")).scalar_one() == 3


def test_archives_are_stored_whole_for_now(home: Home, tmp_path: Path) -> None:
    folder = tmp_path / "archives"
    folder.mkdir()
    with zipfile.ZipFile(folder / "export.zip", "w") as archive:
        archive.writestr("chat.txt", "12/06/2026, 10:01 - A: hello")
    buffer = io.BytesIO(b"inside")
    with tarfile.open(folder / "export.tar", "w") as archive:
        info = tarfile.TarInfo("inside.txt")
        info.size = len(buffer.getvalue())
        archive.addfile(info, buffer)
    report = ingest(home, [folder])
    assert {o.rel_path: o.media_type for o in report.outcomes} == {
        "export.tar": "application/x-tar", "export.zip": "application/zip"}
    assert status(home)["items"]["stored"] == 2


def test_a_single_file_path_is_ingested_relative_to_its_folder(home: Home,
                                                               evidence: Path) -> None:
    letter = evidence / "letters" / "letter-1.txt"
    report = ingest(home, [letter])
    assert [(o.root, o.rel_path) for o in report.outcomes] == [
        (str(letter.parent.resolve()), "letter-1.txt")]


def test_a_missing_path_stops_before_anything_is_recorded(home: Home, tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="does not exist"):
        ingest(home, [tmp_path / "no-such-folder"])
    with home.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(batches)).scalar_one() == 0


def test_batches_record_who_and_when(home: Home, evidence: Path) -> None:
    report = ingest(home, [evidence], IngestOptions(collector="team", note="raid reports"))
    with home.engine.connect() as conn:
        batch = conn.execute(select(batches)).one()
    assert batch.id == report.batch_id
    assert batch.state == "finished"
    assert batch.collector == "team" and batch.note == "raid reports"
    assert batch.finished_at >= batch.started_at


def test_status_counts_items_bytes_and_sightings(home: Home, evidence: Path) -> None:
    ingest(home, [evidence])
    figures = status(home)
    assert figures["items"] == {"pending": 0, "stored": 3, "failed": 0, "skipped": 0}
    assert figures["originals"] == 3
    assert figures["sightings"] == 1
    assert figures["bytes"] == sum(
        p.stat().st_size for p in evidence.rglob("*") if p.is_file()) - len(
        (evidence / "photos" / "checkpoint.jpg").read_bytes())
    assert figures["last_verification"] is None


def test_another_ingest_running_is_refused(home: Home, evidence: Path) -> None:
    from svidok.home import HomeError

    with home.lock("ingest"), pytest.raises(HomeError, match="another 'ingest' is running"):
        ingest(home, [evidence])


def test_worker_processes_store_exactly_what_threads_store(home: Home, evidence: Path) -> None:
    """Large batches are stored by worker processes; the records are the same as with
    threads: same items, same originals, same sighting."""
    from dataclasses import replace

    home.settings = replace(home.settings, ingest_pool="processes")
    report = ingest(home, [evidence])
    assert report.ok
    by_path = {o.rel_path: (o.state, o.sha256, o.media_type) for o in report.outcomes}
    assert by_path == {
        "empty.txt": ("stored", hashlib.sha256(b"").hexdigest(), "application/x-empty"),
        "letters/letter-1.txt": ("stored", _sha(evidence / "letters" / "letter-1.txt"),
                                 "text/plain"),
        "photos/checkpoint.jpg": ("stored", _sha(evidence / "photos" / "checkpoint.jpg"),
                                  "image/jpeg"),
        "photos/reposted/copy-of-checkpoint.jpg": (
            "sighting", _sha(evidence / "photos" / "checkpoint.jpg"), "image/jpeg"),
    }
    assert list(home.blobs.temp_dir.iterdir()) == []


def test_auto_pool_uses_processes_only_for_large_batches_on_several_cores(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from svidok.locker.workers import PROCESSES_FROM_FILES, choose

    monkeypatch.setattr("os.cpu_count", lambda: 2)
    assert choose("auto", 10) == "threads"
    assert choose("auto", PROCESSES_FROM_FILES - 1) == "threads"
    assert choose("auto", PROCESSES_FROM_FILES) == "processes"
    monkeypatch.setattr("os.cpu_count", lambda: 1)
    assert choose("auto", 10**6) == "threads"
    assert choose("threads", 10**6) == "threads"
    assert choose("processes", 1) == "processes"
