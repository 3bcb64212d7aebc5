"""``svidok enrich``, ``svidok enrichers``, ``svidok dedup`` and ``items show`` as a person
or a program uses them, and the registry's contract with the records."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import String

from conftest import run_svidok
from svidok.db.schema import enrichments
from svidok.enrich.planning import ordered
from svidok.enrich.registry import enrichers
from svidok.home import Home

POST = "У Макіївці на блокпосту співробітники військкомату вручили повістки."


def export(folder: Path) -> Path:
    folder.mkdir()
    (folder / "result.json").write_text(json.dumps({
        "name": "News", "type": "public_channel", "id": 3, "messages": [
            {"id": 1, "type": "message", "date": "2024-03-01T10:00:00",
             "date_unixtime": "1709280000", "from": "News", "from_id": "channel3",
             "text": POST}]}, ensure_ascii=False), encoding="utf-8")
    return folder


def test_the_registry_fits_the_records() -> None:
    registered = enrichers()
    names = [e.name for e in registered]
    assert len(set(names)) == len(names)
    assert names == ["text", "ocr", "language", "places", "dates", "names", "violations",
                     "media", "fingerprints"]
    name_type, version_type = enrichments.c.enricher.type, enrichments.c.version.type
    assert isinstance(name_type, String) and isinstance(version_type, String)
    assert name_type.length is not None and version_type.length is not None
    for e in registered:
        assert len(e.name) <= name_type.length
        assert 0 < len(e.version) <= version_type.length, e.name
    assert [e.name for e in ordered(registered)] == names  # needs come first already


def test_enrichers_lists_versions_needs_and_progress(home: Home, env: dict[str, str],
                                                     tmp_path: Path) -> None:
    assert run_svidok(["ingest", str(export(tmp_path / "export"))], env).returncode == 0
    assert run_svidok(["enrich"], env).returncode == 0

    done = run_svidok(["enrichers", "--json"], env)

    assert done.returncode == 0, done.stderr
    rows = {r["name"]: r for r in json.loads(done.stdout)}
    assert rows["places"]["needs"] == ["language"] and rows["places"]["done"] == 1
    assert rows["ocr"]["done"] == 0 and rows["ocr"]["skipped"] == 3
    assert all(r["failed"] == 0 and r["older_versions"] == 0 for r in rows.values())
    people = run_svidok(["enrichers"], env)
    assert people.returncode == 0 and "places" in people.stdout


def test_enrich_prints_what_ran_and_items_show_what_was_found(home: Home, env: dict[str, str],
                                                               tmp_path: Path) -> None:
    assert run_svidok(["ingest", str(export(tmp_path / "export"))], env).returncode == 0

    done = run_svidok(["enrich"], {**env, "COLUMNS": "200"})

    assert done.returncode == 0, done.stderr
    assert "Enrichers run" in done.stdout and "3 items looked at" in done.stdout
    shown = run_svidok(["items", "show", "3"], {**env, "COLUMNS": "200"})
    assert shown.returncode == 0, shown.stderr
    assert "Makiivka (Donetsk Oblast; GeoNames 702320)" in shown.stdout
    assert "Compelled service in hostile forces" in shown.stdout
    as_json = json.loads(run_svidok(["items", "show", "3", "--json"], env).stdout)
    kinds = {n["kind"] for n in as_json["enrichment"]["annotations"]}
    assert {"language", "place", "name", "violation"} <= kinds


def test_wrong_use_is_explained(home: Home, env: dict[str, str]) -> None:
    done = run_svidok(["enrich", "--only", "nope"], env)
    assert done.returncode == 2
    assert "no enricher named nope; there are: text, ocr" in " ".join(done.stderr.split())
    done = run_svidok(["dedup", "999", "--json"], env)
    assert done.returncode == 2 and "there is no item 999" in done.stdout
    done = run_svidok(["dedup", "--method", "sha1"], env)
    assert done.returncode == 2 and "--method must be one of" in done.stderr


def test_dedup_with_nothing_linked_says_so(home: Home, env: dict[str, str]) -> None:
    done = run_svidok(["dedup"], env)
    assert done.returncode == 0 and "No near-duplicates found" in done.stdout
    assert json.loads(run_svidok(["dedup", "--json"], env).stdout) == {"clusters": [],
                                                                       "total": 0}


def test_ingest_can_enrich_what_it_stored(home: Home, env: dict[str, str],
                                          tmp_path: Path) -> None:
    done = run_svidok(["ingest", str(export(tmp_path / "export")), "--enrich", "--json"], env)

    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    # The export, its chat and its message were looked at; only the message has text.
    assert report["counts"]["stored"] == 1 and report["enrich"]["items"] == 3
    assert report["enrich"]["enriched"] == 1 and report["enrich"]["checkpoint"] is not None
    found = json.loads(run_svidok(["search", "Makiivka", "--json"], env).stdout)
    assert [h["item_id"] for h in found["hits"]] == [3]
    people = run_svidok(["ingest", str(tmp_path / "export"), "--enrich"], env)
    assert people.returncode == 0, people.stderr
    assert "0 enriched" in people.stdout
