"""`verify` re-hashes originals and names every one that is missing or altered."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from svidok.home import Home
from svidok.locker.fixity import verify
from svidok.locker.ingest import ingest
from svidok.locker.records import status


def _stored_path(home: Home, name: str, evidence: Path) -> tuple[str, Path]:
    import hashlib

    sha = hashlib.sha256((evidence / name).read_bytes()).hexdigest()
    return sha, home.blobs.path_of(sha)


def test_all_hold_after_ingest(home: Home, evidence: Path) -> None:
    ingest(home, [evidence])
    report = verify(home)
    assert report.ok and report.checked == 3
    last = status(home)["last_verification"]
    assert last is not None and last["ok"] and last["checked"] == 3


def test_flipped_byte_and_missing_blob_are_both_named(home: Home, evidence: Path) -> None:
    ingest(home, [evidence])
    altered_sha, altered = _stored_path(home, "letters/letter-1.txt", evidence)
    missing_sha, missing = _stored_path(home, "photos/checkpoint.jpg", evidence)
    os.chmod(altered, 0o644)
    data = bytearray(altered.read_bytes())
    data[0] ^= 0x01
    altered.write_bytes(bytes(data))
    missing.unlink()
    report = verify(home)
    assert not report.ok
    found = {f.sha256: f for f in report.findings}
    assert found[altered_sha].problem == "altered"
    assert found[missing_sha].problem == "missing"
    assert found[altered_sha].item_ids  # names the item a person can look up
    last = status(home)["last_verification"]
    assert last is not None
    assert (last["ok"], last["missing"], last["altered"]) == (False, 1, 1)


def test_sample_checks_a_share_of_originals(home: Home, tmp_path: Path) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    for n in range(40):
        (folder / f"{n}.txt").write_text(f"report {n}")
    ingest(home, [folder])
    report = verify(home, sample_percent=25, rng=random.Random(7))
    assert report.checked == 10 and report.sample_percent == 25


@pytest.mark.parametrize("percent", [0, 101])
def test_sample_must_be_a_percentage(home: Home, percent: int) -> None:
    with pytest.raises(ValueError):
        verify(home, sample_percent=percent)
