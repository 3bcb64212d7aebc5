"""``svidok verify`` checks the custody log: each kind of tampering is found and named."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Connection, delete, select, update

from conftest import run_svidok
from svidok.custody import log
from svidok.custody.checkpoints import checkpoint
from svidok.custody.events import Actor, CustodyEvent, append
from svidok.custody.tree import Tree
from svidok.db.schema import (
    checkpoints,
    custody_events,
    custody_head,
    custody_tiles,
    items,
    sightings,
)
from svidok.home import Home
from svidok.locker.ingest import BatchReport, IngestOptions, SilentReporter, ingest

READER = Actor("tests.reader", "1", user="analyst-7")


def logged(home: Home, evidence: Path, extra: int = 600) -> str:
    """Ingest the evidence, then log ``extra`` openings of the photo across three tiles,
    with a checkpoint part-way; returns the photo's SHA-256."""
    ingest(home, [evidence])
    photo = hashlib.sha256((evidence / "photos" / "checkpoint.jpg").read_bytes()).hexdigest()
    signer = log.signer(home)
    for part in (extra // 3, extra - extra // 3):
        with home.engine.begin() as conn:
            append(conn, [CustodyEvent("open", READER, datetime.now(UTC), photo,
                                       purpose=f"review {i}") for i in range(part)])
        checkpoint(home.engine, signer)
    return photo


def record(conn: Connection, seq: int) -> bytes:
    return bytes(conn.execute(select(custody_events.c.record)
                              .where(custody_events.c.seq == seq)).scalar_one())


def test_an_untouched_log_verifies(home: Home, evidence: Path) -> None:
    logged(home, evidence)
    report = log.check(home)
    assert report.ok, report.problems
    assert report.events == report.size == 604  # 3 captures, 1 sighting, 600 openings
    assert report.checkpoints == 3 and report.unsigned == 0


def _edit(conn: Connection) -> None:
    changed = record(conn, 300).replace(b"review", b"reView")
    conn.execute(update(custody_events).where(custody_events.c.seq == 300)
                 .values(record=changed))


def _delete(conn: Connection) -> None:
    conn.execute(delete(custody_events).where(custody_events.c.seq == 5))


def _delete_last(conn: Connection) -> None:
    conn.execute(delete(custody_events).where(custody_events.c.seq == 603))


def _swap(conn: Connection) -> None:
    first, second = record(conn, 10), record(conn, 450)
    for seq, value in ((10, second), (450, first)):
        conn.execute(update(custody_events).where(custody_events.c.seq == seq)
                     .values(record=value))


def _forge(conn: Connection) -> None:
    """Rewrite an event *and* the tree so they agree; only the signature can tell."""
    _edit(conn)
    rows = conn.execute(select(custody_events.c.record).order_by(custody_events.c.seq))
    conn.execute(delete(custody_tiles))
    conn.execute(update(custody_head).values(size=0, root=hashlib.sha256(b"").digest()))
    Tree(conn).append([hashlib.sha256(b"\x00" + bytes(r)).digest() for (r,) in rows])


def _checkpoint_note(conn: Connection) -> None:
    note = conn.execute(select(checkpoints.c.note).where(checkpoints.c.id == 2)).scalar_one()
    conn.execute(update(checkpoints).where(checkpoints.c.id == 2)
                 .values(note=note.replace("\n204\n", "\n205\n")))


def _misfile(conn: Connection) -> None:
    conn.execute(update(custody_events).where(custody_events.c.seq == 0)
                 .values(sha_key=12345))


def _tile(conn: Connection) -> None:
    blob = bytearray(conn.execute(select(custody_tiles.c.hashes).where(
        custody_tiles.c.level == 0, custody_tiles.c.idx == 1)).scalar_one())
    blob[40] ^= 1
    conn.execute(update(custody_tiles).where(custody_tiles.c.level == 0,
                                             custody_tiles.c.idx == 1).values(hashes=blob))


CASES: dict[str, tuple[Callable[[Connection], None], list[str]]] = {
    "edited event": (_edit, ["custody event 300 was altered",
                             "checkpoint 3: the events give a different root"]),
    "deleted event": (_delete, ["custody event 5 is missing"]),
    "deleted last event": (_delete_last, ["custody event 603 is missing"]),
    "reordered events": (_swap, ["custody events 10 and 450 are out of order (swapped)"]),
    "forged tree": (_forge, ["checkpoint 3: the events give a different root"]),
    "altered checkpoint": (_checkpoint_note, ["checkpoint 2: its signature does not verify"]),
    "misfiled event": (_misfile, ["custody event 0 is filed under another original"]),
    "altered tile": (_tile, ["the stored tree's leaf for custody event 257 was altered"]),
}


@pytest.mark.parametrize("case", CASES)
def test_tampering_is_named(home: Home, evidence: Path, case: str) -> None:
    logged(home, evidence)
    tamper, expected = CASES[case]
    with home.engine.begin() as conn:
        tamper(conn)
    report = log.check(home)
    assert not report.ok
    for phrase in expected:
        assert any(phrase in p for p in report.problems), (phrase, report.problems)


@pytest.mark.parametrize("case", ["edited event", "deleted event", "reordered events"])
def test_verify_exits_3_and_names_the_event(home: Home, evidence: Path, env: dict[str, str],
                                            case: str) -> None:
    logged(home, evidence)
    tamper, expected = CASES[case]
    with home.engine.begin() as conn:
        tamper(conn)
    done = run_svidok(["verify", "--json"], env)
    assert done.returncode == 3, done.stderr
    data = json.loads(done.stdout)
    assert not data["ok"] and not data["log"]["ok"]
    assert any(expected[0] in p for p in data["log"]["problems"])
    human = run_svidok(["verify"], env)
    assert human.returncode == 3 and expected[0] in human.stdout


def test_a_flipped_byte_of_an_original_exits_3_while_the_log_holds(
        home: Home, evidence: Path, env: dict[str, str]) -> None:
    photo = logged(home, evidence, extra=0)
    blob = home.blobs.path_of(photo)
    blob.chmod(0o644)
    data = bytearray(blob.read_bytes())
    data[100] ^= 0x01
    blob.write_bytes(bytes(data))
    done = run_svidok(["verify", "--json"], env)
    assert done.returncode == 3
    result = json.loads(done.stdout)
    assert result["log"]["ok"]
    assert [(p["sha256"], p["problem"]) for p in result["problems"]] == [(photo, "altered")]


def test_items_stored_before_the_log_are_backfilled_by_init(
        home: Home, evidence: Path, env: dict[str, str]) -> None:
    ingest(home, [evidence])
    with home.engine.begin() as conn:  # as a data folder from before the custody log
        for table in (custody_events, custody_tiles, checkpoints):
            conn.execute(delete(table))
        conn.execute(update(custody_head).values(size=0, root=hashlib.sha256(b"").digest()))
    report = log.check(home)
    assert any("has no capture event" in p for p in report.problems)
    assert run_svidok(["init"], env).returncode == 0
    report = log.check(home)
    assert report.ok, report.problems
    with home.engine.connect() as conn:
        stored = conn.execute(select(items.c.sha256).where(items.c.state == "stored")).all()
        purposes = [json.loads(r)["purpose"] for r in conn.scalars(
            select(custody_events.c.record))]
    assert len(stored) == 3 and len(purposes) == 4  # three captures and the sighting
    assert all("before the custody log existed" in p for p in purposes)


@pytest.mark.parametrize("change", [
    {"collector": "someone else"}, {"rel_path_bytes": b"letters/forged.txt"},
    {"captured_at": datetime(2020, 1, 1, tzinfo=UTC)}, {"mtime_ns": 1}, {"host": "elsewhere"}])
def test_an_edited_capture_context_is_named(home: Home, evidence: Path,
                                            change: dict[str, object]) -> None:
    ingest(home, [evidence], IngestOptions(collector="field team", note="USB stick"))
    assert log.check(home).ok
    with home.engine.begin() as conn:
        item_id = conn.execute(select(items.c.id).where(
            items.c.rel_path == "letters/letter-1.txt")).scalar_one()
        conn.execute(update(items).where(items.c.id == item_id).values(**change))
    report = log.check(home)
    assert report.problems == [f"item {item_id}: its capture context (path, file times, "
                               "collector, note, host or capture time) differs from what its "
                               "capture event recorded"]


def test_an_edited_sighting_is_named(home: Home, evidence: Path) -> None:
    ingest(home, [evidence])
    with home.engine.begin() as conn:
        sighting = conn.execute(select(sightings.c.id, sightings.c.item_id)).one()
        conn.execute(update(sightings).values(collector="someone else"))
    assert log.check(home).problems == [
        f"sighting {sighting.id} of item {sighting.item_id} differs from what its sighting "
        "event recorded"]


def test_a_resumed_batch_records_the_context_it_logged(home: Home, evidence: Path) -> None:
    """The run that stores the bytes is the capture, even when an earlier run listed them."""
    from svidok.locker.ingest import Ingest, resolve_paths

    run = Ingest(home, resolve_paths([evidence]), IngestOptions(collector="first"),
                 SilentReporter())
    with home.lock("ingest"):
        run.batch_id, _ = run._open_batch()
        run._list(BatchReport(run.batch_id, False))  # listed as pending, then "killed"
        run._close_batch("interrupted", 0)
    ingest(home, [evidence], IngestOptions(collector="second"))
    with home.engine.connect() as conn:
        collectors = set(conn.scalars(select(items.c.collector)
                                      .where(items.c.state == "stored")))
    assert collectors == {"second"}
    assert log.check(home).ok


def test_a_log_rewritten_wholesale_is_counted_past_the_tracking_cap(
        home: Home, evidence: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from svidok.custody import audit

    logged(home, evidence)
    monkeypatch.setattr(audit, "MAX_TRACKED", 5)
    with home.engine.begin() as conn:
        for seq in range(100, 120):
            changed = record(conn, seq).replace(b"review", b"REVIEW")
            conn.execute(update(custody_events).where(custody_events.c.seq == seq)
                         .values(record=changed))
    problems = log.check(home).problems
    assert sum("was altered" in p for p in problems) == 5
    assert "... and 15 more events whose leaves differ from the log" in " ".join(problems)
