"""The command a documenter types: each verb, its exit status, and `--json` output."""

from __future__ import annotations

import json
import os
from pathlib import Path

from conftest import run_svidok


def _json(env: dict[str, str], *args: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    done = run_svidok([*args, "--json"], env)
    return done.returncode, json.loads(done.stdout)


def test_init_creates_the_data_folder_once(env: dict[str, str]) -> None:
    first = run_svidok(["init", "--name", "kyiv-team"], env)
    assert first.returncode == 0, first.stderr
    assert "Created" in first.stdout and "kyiv-team" in first.stdout
    home = Path(env["SVIDOK_HOME"])
    assert (home / "svidok.toml").is_file()
    assert (home / "blobs" / "sha256").is_dir()
    again = run_svidok(["init"], env)
    assert again.returncode == 0 and "Already initialised" in again.stdout


def test_home_option_overrides_the_environment(env: dict[str, str], tmp_path: Path) -> None:
    other = tmp_path / "elsewhere"
    done = run_svidok(["--home", str(other), "init", "--json"], env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["home"] == str(other.resolve())


def test_commands_before_init_say_what_to_do(env: dict[str, str]) -> None:
    done = run_svidok(["status"], env)
    assert done.returncode == 1
    assert "svidok" in done.stderr and "init" in done.stderr
    code, data = _json(env, "items", "list")
    assert code == 1 and "init" in data["error"]


def test_ingest_json_prints_json_only(env: dict[str, str], evidence: Path) -> None:
    run_svidok(["init"], env)
    code, report = _json(env, "ingest", str(evidence), "--collector", "field team")
    assert code == 0
    assert report["ok"] is True
    assert report["counts"]["stored"] == 3 and report["counts"]["sighting"] == 1
    stored = [o for o in report["outcomes"] if o["state"] == "stored"]
    assert all(len(o["sha256"]) == 64 for o in stored)


def test_ingest_shows_what_it_stored(env: dict[str, str], evidence: Path) -> None:
    run_svidok(["init"], env)
    done = run_svidok(["ingest", str(evidence)], env)
    assert done.returncode == 0, done.stderr
    assert "letters/letter-1.txt" in done.stdout
    assert "seen again" in done.stdout
    assert "zero-byte" in done.stdout  # the empty file is stored, with a warning
    again = run_svidok(["ingest", str(evidence)], env)
    assert "4 unchanged" in again.stdout


def test_ingest_of_a_missing_path_fails_clearly(env: dict[str, str], tmp_path: Path) -> None:
    run_svidok(["init"], env)
    done = run_svidok(["ingest", str(tmp_path / "nope")], env)
    assert done.returncode == 1
    assert "does not exist" in done.stderr


def test_items_list_and_show(env: dict[str, str], evidence: Path) -> None:
    run_svidok(["init"], env)
    run_svidok(["ingest", str(evidence)], env)
    code, listing = _json(env, "items", "list", "--state", "stored")
    assert code == 0 and listing["total"] == 3
    photo = next(i for i in listing["items"] if i["rel_path"] == "photos/checkpoint.jpg")
    code, item = _json(env, "items", "show", str(photo["id"]))
    assert code == 0
    assert item["media_type"] == "image/jpeg"
    assert item["original"]["sha256"] == photo["sha256"]
    assert item["sightings"][0]["rel_path"] == "photos/reposted/copy-of-checkpoint.jpg"
    code, by_hash = _json(env, "items", "show", photo["sha256"][:12])
    assert code == 0 and by_hash["id"] == photo["id"]
    shown = run_svidok(["items", "show", str(photo["id"])], env)
    assert "checkpoint.jpg" in shown.stdout
    code, missing = _json(env, "items", "show", "999999")
    assert code == 1 and "no item" in missing["error"]
    bad_state = run_svidok(["items", "list", "--state", "lost"], env)
    assert bad_state.returncode == 2


def test_verify_exit_status_3_names_the_altered_original(env: dict[str, str],
                                                         evidence: Path) -> None:
    run_svidok(["init"], env)
    run_svidok(["ingest", str(evidence)], env)
    code, ok = _json(env, "verify")
    assert code == 0 and ok["ok"] and ok["checked"] == 3
    target = next(p for p in (Path(env["SVIDOK_HOME"]) / "blobs" / "sha256").rglob("*")
                  if p.is_file())
    os.chmod(target, 0o644)
    target.write_bytes(target.read_bytes() + b"tampered")
    code, bad = _json(env, "verify")
    assert code == 3
    assert bad["problems"][0]["sha256"] == target.name
    assert bad["problems"][0]["problem"] == "altered"
    human = run_svidok(["verify"], env)
    assert human.returncode == 3 and target.name in human.stdout
    code, figures = _json(env, "status")
    assert figures["last_verification"]["ok"] is False


def test_status_json(env: dict[str, str], evidence: Path) -> None:
    run_svidok(["init", "--name", "demo"], env)
    run_svidok(["ingest", str(evidence)], env)
    code, figures = _json(env, "status")
    assert code == 0
    assert figures["instance"] == "demo"
    assert figures["items"]["stored"] == 3
    assert figures["last_batch"]["state"] == "finished"
    human = run_svidok(["status"], env)
    assert "Never verified" in human.stdout


def test_names_cannot_inject_terminal_escapes(env: dict[str, str], tmp_path: Path) -> None:
    folder = tmp_path / "odd"
    folder.mkdir()
    (folder / "evil\x1b[31mred[bold].txt").write_text("x")
    run_svidok(["init"], env)
    done = run_svidok(["ingest", str(folder)], env)
    assert done.returncode == 0
    assert "\x1b[31m" not in done.stdout
    assert "\\x1b[31mred[bold].txt" in done.stdout
