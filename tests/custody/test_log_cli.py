"""``svidok init`` makes the log key; ``svidok log ...`` signs, lists, proves."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path
from typing import Any

from conftest import run_svidok
from svidok.custody import verify_inclusion
from svidok.custody.merkle import leaf_hash
from svidok.custody.note import CheckpointBody, Verifier, open_note


def _json(env: dict[str, str], *args: str) -> Any:
    done = run_svidok([*args, "--json"], env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_init_makes_a_private_key_and_prints_the_verifier_key(env: dict[str, str]) -> None:
    done = run_svidok(["init", "--name", "svidok.example.org/kharkiv"], env)
    assert done.returncode == 0, done.stderr
    key_file = Path(env["SVIDOK_HOME"]) / "keys" / "log.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    vkey = _json(env, "log", "key")["verifier_key"]
    assert vkey in done.stdout
    assert Verifier.parse(vkey).name == "svidok.example.org/kharkiv"
    assert run_svidok(["log", "key"], env).stdout.strip() == vkey
    again = run_svidok(["init"], env)  # the key is kept, never replaced
    assert vkey in again.stdout


def test_an_instance_name_that_cannot_sign_is_refused(env: dict[str, str]) -> None:
    done = run_svidok(["init", "--name", "Kharkiv team"], env)
    assert done.returncode == 1
    assert "no spaces" in done.stderr
    assert not (Path(env["SVIDOK_HOME"]) / "svidok.toml").exists()


def test_a_key_readable_by_others_is_refused(env: dict[str, str], evidence: Path) -> None:
    run_svidok(["init"], env)
    key_file = Path(env["SVIDOK_HOME"]) / "keys" / "log.key"
    key_file.chmod(0o644)
    done = run_svidok(["log", "checkpoint"], env)
    assert done.returncode == 1 and "chmod 600" in done.stderr
    ingested = run_svidok(["ingest", str(evidence)], env)
    assert ingested.returncode == 1  # stored, but the log is not signed: the run says so
    assert "files are stored" in ingested.stderr


def test_ingest_checkpoints_and_prove_writes_a_bundle_that_verifies(
        env: dict[str, str], evidence: Path, tmp_path: Path) -> None:
    run_svidok(["init"], env)
    report = _json(env, "ingest", str(evidence))
    assert report["checkpoint"] == {"id": 1, "size": 4, "stamped": False}
    listed = _json(env, "log", "checkpoints")
    assert [c["size"] for c in listed] == [4]
    again = _json(env, "log", "checkpoint")
    assert again["new"] is False and again["id"] == 1
    custody = _json(env, "status")["custody"]
    assert custody["events"] == 4 and custody["unsigned_events"] == 0
    assert custody["latest_checkpoint"]["size"] == 4 and custody["unstamped_checkpoints"] == 1
    assert "checkpoint 1 at 4 events, not timestamped" in run_svidok(["status"], env).stdout

    events = _json(env, "log", "events")
    assert [e["action"] for e in events] == ["sighting", "capture", "capture", "capture"]
    letter = next(o for o in report["outcomes"] if o["rel_path"] == "letters/letter-1.txt")
    mine = _json(env, "log", "events", letter["sha256"][:12])
    assert [e["record"]["sha256"] for e in mine] == [letter["sha256"]]
    assert mine[0]["record"]["actor"]["component"] == "svidok.locker.ingest"

    out = tmp_path / "letter.tlog-proof"
    proved = _json(env, "log", "prove", str(letter["item_id"]), "--out", str(out))
    assert proved["out"] == str(out) and proved["timestamp"] is None
    text = out.read_text()
    head, note = text.split("\n\n", 1)
    lines = head.split("\n")
    assert lines[0] == "c2sp.org/tlog-proof@v1"
    record = base64.b64decode(lines[1].removeprefix("extra "))
    assert json.loads(record)["sha256"] == letter["sha256"]
    index = int(lines[2].removeprefix("index "))
    path = [base64.b64decode(h) for h in lines[3:]]
    vkey = Verifier.parse(_json(env, "log", "key")["verifier_key"])
    body = CheckpointBody.parse(open_note(note, [vkey]))
    verify_inclusion(leaf_hash(record), index, body.size, path, body.root)
    printed = run_svidok(["log", "prove", letter["sha256"]], env)
    assert printed.returncode == 0 and printed.stdout == text


def test_prove_signs_a_checkpoint_when_the_capture_is_not_covered_yet(
        env: dict[str, str], evidence: Path, tmp_path: Path) -> None:
    run_svidok(["init"], env)
    key_file = Path(env["SVIDOK_HOME"]) / "keys" / "log.key"
    key_file.chmod(0o640)  # the ingest stores, but cannot sign
    assert run_svidok(["ingest", str(evidence)], env).returncode == 1
    assert _json(env, "status")["custody"]["unsigned_events"] == 4
    key_file.chmod(0o600)
    proved = _json(env, "log", "prove", "1")
    assert proved["checkpoint"]["id"] == 1 and proved["checkpoint"]["size"] == 4
    assert proved["bundle"].startswith("c2sp.org/tlog-proof@v1\n")
    nothing = run_svidok(["log", "prove", "ab" * 32], env)
    assert nothing.returncode == 1 and "no item" in nothing.stderr


def test_log_commands_need_a_data_folder(env: dict[str, str]) -> None:
    for args in (["log", "key"], ["log", "checkpoint"], ["log", "prove", "1"]):
        done = run_svidok([*args, "--json"], env)
        assert done.returncode == 1 and "init" in json.loads(done.stdout)["error"]


def test_stamp_without_a_tsa_says_how_to_configure_one(env: dict[str, str]) -> None:
    run_svidok(["init"], env)
    done = run_svidok(["log", "stamp"], env)
    assert done.returncode == 1 and "tsa_urls" in done.stderr
