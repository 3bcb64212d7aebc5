"""A batch killed at any moment (``kill -9``) and run again ends with every file stored once.

The real command runs in a subprocess and is killed with SIGKILL, which no program can catch
or clean up after: at start-up, while listing, as storing begins, half-way through, and just
after the last blob landed. Between kills nothing may be recorded without its blob, and no
path may be preserved twice. The final run must finish the batch with every file stored
once, nothing duplicated, nothing half-written, and ``svidok verify`` must agree.
"""

from __future__ import annotations

import json
import math
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from locker_invariants import (
    assert_every_record_has_its_blob,
    blob_files,
    count_rows,
    item_states,
    part_files,
    preserved_content,
    preserved_paths,
    sha256_of,
)

from conftest import run_svidok
from svidok.home import Home

SEED = 20_240_611
FILES = 300
MAX_SIZE = 300_000
DUPLICATE_SHARE = 0.12
EMPTY_SHARE = 0.03
POLL_SECONDS = 0.002
ROUND_TIMEOUT = 60.0


def make_folder(root: Path, rng: random.Random) -> dict[str, str]:
    """A folder as a documenter might hand it over: files of 0..300 KB in nested folders,
    some exact copies of others and a few empty ones. Returns path -> SHA-256."""
    made: dict[str, str] = {}
    contents: list[bytes] = []
    for index in range(FILES):
        folder = f"day-{index % 9}" + ("/reposts" if index % 4 == 0 else "")
        (root / folder).mkdir(parents=True, exist_ok=True)
        roll = rng.random()
        if contents and roll < DUPLICATE_SHARE:
            data = rng.choice(contents)
        elif roll < DUPLICATE_SHARE + EMPTY_SHARE:
            data = b""
        else:
            data = rng.randbytes(rng.randint(0, MAX_SIZE))
            contents.append(data)
        rel_path = f"{folder}/file-{index:03d}.bin"
        (root / rel_path).write_bytes(data)
        made[rel_path] = sha256_of(data)
    return made


@dataclass(frozen=True)
class Kill:
    """When to send SIGKILL: ``seconds`` after starting, or once this share of the contents
    still missing from the blob store has landed there."""

    seconds: float | None = None
    share_of_remaining: float | None = None


def kill_plan(rng: random.Random) -> list[Kill]:
    return [
        Kill(seconds=0.0),                               # before Python has imported anything
        Kill(seconds=rng.uniform(0.05, 0.5)),            # starting up, opening the database
        Kill(seconds=rng.uniform(0.5, 0.9)),             # about when listing begins
        Kill(share_of_remaining=rng.uniform(0.0, 0.05)),  # the moment storing begins
        Kill(share_of_remaining=rng.uniform(0.2, 0.5)),
        Kill(share_of_remaining=rng.uniform(0.3, 0.7)),
        Kill(share_of_remaining=rng.uniform(0.5, 0.9)),
        Kill(share_of_remaining=1.0),                    # right after the last blob landed
    ]


@dataclass(frozen=True)
class Round:
    plan: Kill
    workers: str
    blobs_before: int
    blobs_at_kill: int
    returncode: int


def run_and_kill(home: Home, folder: Path, env: dict[str, str], plan: Kill, workers: str,
                 distinct: int, log: Path) -> Round:
    before = len(blob_files(home))
    target = None
    if plan.share_of_remaining is not None:
        wanted = max(1, math.ceil(plan.share_of_remaining * (distinct - before)))
        target = min(distinct, before + wanted)
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "svidok", "ingest", str(folder), "--json"],
            env={**env, "SVIDOK_INGEST_WORKERS": workers},
            stdout=subprocess.DEVNULL, stderr=stderr)
        started = time.monotonic()
        try:
            while process.poll() is None:
                elapsed = time.monotonic() - started
                assert elapsed < ROUND_TIMEOUT, "ingest neither finished nor got far enough"
                if plan.seconds is not None and elapsed >= plan.seconds:
                    break
                if target is not None and len(blob_files(home)) >= target:
                    break
                time.sleep(POLL_SECONDS)
            at_kill = len(blob_files(home))
            process.send_signal(signal.SIGKILL)
        finally:
            returncode = process.wait(timeout=ROUND_TIMEOUT)
    return Round(plan, workers, before, at_kill, returncode)


def assert_nothing_half_done(home: Home, folder: Path, expected: dict[str, str]) -> None:
    """What holds at any moment: each record has its blob, no path preserved twice, and
    each preserved path holds the bytes the file holds."""
    assert_every_record_has_its_blob(home)
    counts = preserved_paths(home, folder)
    assert [p for p, n in counts.items() if n > 1] == []
    assert set(counts) <= set(expected)
    held = preserved_content(home, folder)
    assert {p: sha for p, sha in held.items() if expected[p] != sha} == {}
    assert count_rows(home, "originals") <= len(set(expected.values()))


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_kill_9_at_any_moment_then_rerun_stores_every_file_once(
        home: Home, env: dict[str, str], tmp_path: Path) -> None:
    """A user's ingest is killed (power cut, OOM killer, ``kill -9``) again and again; each
    time they run the same ``svidok ingest`` again. In the end every file is preserved
    exactly once, the command says all went well, and ``svidok verify`` finds all hold."""
    rng = random.Random(SEED)
    folder = tmp_path / "handover"
    expected = make_folder(folder, rng)
    distinct = len(set(expected.values()))
    assert distinct < len(expected), "the folder must hold duplicates"

    rounds: list[Round] = []
    for number, plan in enumerate(kill_plan(rng)):
        done = run_and_kill(home, folder, env, plan, rng.choice(["1", "4", "8"]), distinct,
                            tmp_path / f"round-{number}.stderr")
        rounds.append(done)
        assert done.returncode in (-signal.SIGKILL, 0), (
            f"round {number} ({done}) ended badly:\n"
            + (tmp_path / f"round-{number}.stderr").read_text(errors="replace"))
        assert_nothing_half_done(home, folder, expected)

    killed = [r for r in rounds if r.returncode == -signal.SIGKILL]
    assert any(r.blobs_at_kill == r.blobs_before == 0 for r in killed), \
        f"no round was killed before storing began: {rounds}"
    assert any(0 < r.blobs_at_kill < distinct for r in killed), \
        f"no round was killed half-way through storing: {rounds}"

    final = run_svidok(["ingest", str(folder), "--json"], env)
    assert final.returncode == 0, final.stderr
    report = json.loads(final.stdout)
    assert report["ok"] and report["aborted"] is None
    if all(r.returncode != 0 for r in rounds):
        assert report["resumed"], "the final run must finish the interrupted batch"

    assert part_files(home) == []
    assert item_states(home)["pending"] == 0
    assert item_states(home)["failed"] == 0
    assert_every_record_has_its_blob(home)
    assert count_rows(home, "originals") == distinct
    assert preserved_paths(home, folder) == dict.fromkeys(expected, 1)
    assert preserved_content(home, folder) == expected

    verified = run_svidok(["verify"], env)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "all hold" in verified.stdout
