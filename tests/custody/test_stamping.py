"""Checkpoints get RFC 3161 timestamps from the configured TSAs, or wait for them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from conftest import run_svidok
from custody.tsa import LocalTSA
from svidok.db.schema import checkpoint_stamps
from svidok.home import open_home

VERIFIER = Path(__file__).parents[2] / "verifier" / "svidok_verify.py"


def _json(env: dict[str, str], *args: str, code: int = 0) -> Any:
    done = run_svidok([*args, "--json"], env)
    assert done.returncode == code, done.stderr
    return json.loads(done.stdout)


def with_tsa(env: dict[str, str], tsa: LocalTSA) -> dict[str, str]:
    return {**env, "SVIDOK_TSA_URLS": tsa.url, "SVIDOK_TSA_ROOTS": str(tsa.ca_path),
            "SVIDOK_TSA_TIMEOUT_SECONDS": "5"}


def test_each_batch_is_stamped_and_the_bundle_carries_its_timestamp(
        env: dict[str, str], evidence: Path, local_tsa: LocalTSA, tmp_path: Path) -> None:
    env = with_tsa(env, local_tsa)
    run_svidok(["init"], env)
    report = _json(env, "ingest", str(evidence))
    assert report["checkpoint"]["stamped"] is True and report["stamp_errors"] == []
    assert local_tsa.requests == 1
    letter = next(o for o in report["outcomes"] if o["rel_path"] == "letters/letter-1.txt")
    out = tmp_path / "letter.tlog-proof"
    proved = _json(env, "log", "prove", str(letter["item_id"]), "--out", str(out))
    assert proved["timestamp"] == str(out) + ".tsr"
    vkey = _json(env, "log", "key")["verifier_key"]
    done = subprocess.run(
        [sys.executable, str(VERIFIER), str(out), "--key", vkey, "--timestamp",
         str(out) + ".tsr", "--original", str(evidence / "letters" / "letter-1.txt")],
        capture_output=True, text=True, check=False, timeout=60)
    assert done.returncode == 0, done.stdout
    assert done.stdout.startswith("VALID") and "existed no later than" in done.stdout
    checked = _json(env, "verify")
    assert checked["log"]["ok"] and checked["log"]["stamped"] == 1


def test_an_unreachable_tsa_leaves_the_checkpoint_valid_and_unstamped_until_later(
        env: dict[str, str], evidence: Path, local_tsa: LocalTSA) -> None:
    env = with_tsa(env, local_tsa)
    run_svidok(["init"], env)
    local_tsa.fail_with = 503
    report = _json(env, "ingest", str(evidence))
    assert report["ok"] is True  # stored and signed; the stamp can come later
    assert report["checkpoint"]["stamped"] is False
    assert "503" in report["stamp_errors"][0]
    human = run_svidok(["log", "checkpoints"], env)
    assert "unstamped" in human.stdout
    assert _json(env, "verify")["log"]["ok"]
    still = _json(env, "log", "stamp", code=1)
    assert still["unstamped"] == 1 and still["stamped"] == []

    local_tsa.fail_with = None
    later = _json(env, "log", "stamp")
    assert later == {"stamped": [1], "errors": [], "unstamped": 0}
    listed = _json(env, "log", "checkpoints")
    assert listed[0]["stamped"] is True and listed[0]["stamp_error"] is None


def test_no_tsa_at_all_is_not_an_error(env: dict[str, str], evidence: Path) -> None:
    run_svidok(["init"], env)
    done = run_svidok(["ingest", str(evidence)], env)
    assert done.returncode == 0
    assert "not timestamped yet" in done.stdout


def test_a_tampered_token_or_an_untrusted_tsa_fails_verification(
        env: dict[str, str], evidence: Path, local_tsa: LocalTSA, tmp_path: Path) -> None:
    env = with_tsa(env, local_tsa)
    run_svidok(["init"], env)
    _json(env, "ingest", str(evidence))
    other_root = tmp_path / "other-ca"
    other_root.mkdir()
    from custody.tsa import make_ca

    wrong = make_ca(other_root, "other")
    distrusting = {**env, "SVIDOK_TSA_ROOTS": str(wrong)}
    done = run_svidok(["verify"], distrusting)
    assert done.returncode == 3 and "timestamp" in done.stdout

    home = open_home(Path(env["SVIDOK_HOME"]))
    try:
        with home.engine.begin() as conn:
            token = bytearray(conn.execute(select(checkpoint_stamps.c.token)).scalar_one())
            token[-20] ^= 0x01
            conn.execute(update(checkpoint_stamps).values(token=bytes(token)))
    finally:
        home.dispose()
    checked = _json(env, "verify", code=3)
    assert any("checkpoint 1: its timestamp" in p for p in checked["log"]["problems"])
