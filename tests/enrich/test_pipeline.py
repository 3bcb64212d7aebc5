"""``svidok enrich`` end to end, with every registered enricher, on what a field team hands
over: Telegram posts in Ukrainian, Russian and English, the same post reposted in another
channel, a photograph and a rotated copy of it, a photographed letter, a short video.

The data folder is enriched once per backend (OCR takes a few seconds) and the tests read
what came of it: suggestions with their evidence, derived artifacts with custody events,
the search index in both scripts, and duplicate links with their distances.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import OperationalError

from conftest import IN_CI, PG_URL, _pg_schema_url, run_svidok
from svidok.custody.events import sha_key
from svidok.db.schema import artifacts, custody_events, enrichments, items
from svidok.enrich.views import item_enrichment
from svidok.home import Home, init_home
from svidok.search import Filters, find

DATA = Path(__file__).parent.parent / "data"
POSTED = "2023-07-01T10:00:00"

UK_POST = ("23 червня у Макіївці співробітники військкомату затримали чоловіків на "
           "блокпосту, відібрали в них паспорти і вручили повістки.")
RU_POST = ("В конце июня в Макеевке сотрудники военкомата задержали мужчин на блокпосту и "
           "принудительно мобилизовали их.")
EN_POST = ("Residents of Horlivka say that since February men have been stopped at "
           "checkpoints and sent to the military commissariat.")
WEATHER = "Сьогодні сонячно, без опадів."


def telegram(folder: Path, name: str, chat_id: int, messages: list[dict[str, Any]]) -> None:
    folder.mkdir(parents=True)
    full = [{"id": n, "type": "message", "date": POSTED,
             "date_unixtime": str(1_688_205_600 + n), "from": name,
             "from_id": f"channel{chat_id}", **message}
            for n, message in enumerate(messages, 1)]
    (folder / "result.json").write_text(json.dumps(
        {"name": name, "type": "public_channel", "id": chat_id, "messages": full},
        ensure_ascii=False), encoding="utf-8")


def handover(root: Path) -> Path:
    """A folder as a field team might bring it."""
    channel = root / "channel-a"
    telegram(channel, "Region news", 11, [
        {"text": UK_POST}, {"text": RU_POST}, {"text": EN_POST}, {"text": WEATHER},
        {"text": "Міст біля села, фото", "photo": "photos/bridge.jpg"}])
    (channel / "photos").mkdir()
    shutil.copy(DATA / "pdq" / "images" / "bridge-1-original.jpg", channel / "photos" /
                "bridge.jpg")
    telegram(root / "channel-b", "Reposts", 12, [
        {"text": UK_POST + "\n\nПідписатися: t.me/reposts_channel"}])
    (root / "photos").mkdir()
    shutil.copy(DATA / "pdq" / "images" / "bridge-2-rotate-90.jpg",
                root / "photos" / "turned.jpg")
    (root / "letters").mkdir()
    shutil.copy(DATA / "ocr" / "letter_uk.jpg", root / "letters" / "letter.jpg")
    (root / "video").mkdir()
    shutil.copy(DATA / "media" / "clip.mp4", root / "video" / "clip.mp4")
    return root


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> Iterator[str]:
    """'' for SQLite, or the URL of a PostgreSQL schema of this module's own."""
    if request.param == "sqlite":
        yield ""
        return
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    schema = f"svidok_test_{secrets.token_hex(6)}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except OperationalError as exc:
        admin.dispose()
        if IN_CI:
            pytest.fail(f"PostgreSQL is not reachable: {exc.orig} (CI=true: must run)")
        pytest.skip(f"PostgreSQL is not reachable: {exc.orig}")
    try:
        yield _pg_schema_url(schema)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


class Enriched:
    """The data folder after ``svidok ingest`` and ``svidok enrich``, and what they said."""

    def __init__(self, home: Home, env: dict[str, str], report: dict[str, Any]) -> None:
        self.home, self.env, self.report = home, env, report

    def item(self, name: str) -> int:
        """The id of the item whose text or file name is ``name`` (or starts so)."""
        with self.home.engine.connect() as conn:
            for row in conn.execute(select(items.c.id, items.c.original_name, items.c.record)):
                record = json.loads(row.record) if row.record else {}
                if row.original_name == name or str(record.get("text", "")).startswith(name):
                    return int(row.id)
        raise AssertionError(f"no item {name!r}")

    def found(self, item_id: int, kind: str) -> list[dict[str, Any]]:
        with self.home.engine.connect() as conn:
            return [n for n in item_enrichment(conn, item_id)["annotations"]
                    if n["kind"] == kind]

    def search(self, query: str, **filters: Any) -> list[int]:
        with self.home.engine.connect() as conn:
            return sorted(h.item_id for h in find(conn, query, Filters(**filters),
                                                  limit=100).hits)


@pytest.fixture(scope="module")
def enriched(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Enriched]:
    work = tmp_path_factory.mktemp("pipeline")
    env = run_env(work / "home", backend)
    assert run_svidok(["init"], env).returncode == 0
    done = run_svidok(["ingest", str(handover(work / "handover")), "--collector", "field"],
                      env)
    assert done.returncode == 0, done.stderr
    done = run_svidok(["enrich", "--json"], env)
    assert done.returncode == 0, done.stderr
    with pytest.MonkeyPatch.context() as patch:
        for key in ("SVIDOK_HOME", "SVIDOK_DATABASE_URL"):
            patch.delenv(key, raising=False)
        if backend:
            patch.setenv("SVIDOK_DATABASE_URL", backend)
        home, _ = init_home(work / "home")
        try:
            yield Enriched(home, env, json.loads(done.stdout))
        finally:
            home.dispose()


def run_env(home: Path, backend: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "SVIDOK_DATABASE_URL"}
    env["SVIDOK_HOME"] = str(home)
    if backend:
        env["SVIDOK_DATABASE_URL"] = backend
    return env


# -- what was found --------------------------------------------------------------------------

def test_every_enricher_ran_and_nothing_failed(enriched: Enriched) -> None:
    report = enriched.report
    assert report["ok"] is True and report["failures"] == []
    done = {r["enricher"] for r in report["runs"] if r["state"] == "done"}
    assert done == {"text", "ocr", "language", "places", "dates", "names", "violations",
                    "media", "fingerprints"}


def test_places_in_every_script_resolve_to_one_place(enriched: Enriched) -> None:
    for post in (UK_POST, RU_POST):
        places = enriched.found(enriched.item(post), "place")
        assert [(p["value"], p["data"]["name"], p["data"]["oblast"]) for p in places] == [
            ("702320", "Makiivka", "Donetsk Oblast")]
    (horlivka,) = enriched.found(enriched.item(EN_POST), "place")
    assert horlivka["data"]["name"] == "Horlivka"
    assert enriched.found(enriched.item(WEATHER), "place") == []


def test_dates_say_their_precision_and_anchor(enriched: Enriched) -> None:
    (day,) = enriched.found(enriched.item(UK_POST), "date")
    assert (day["value"], day["data"]["precision"], day["data"]["anchor"],
            day["data"]["anchor_from"]) == ("2023-06-23/2023-06-23", "day", "2023-07-01",
                                            "occurred")
    (late,) = enriched.found(enriched.item(RU_POST), "date")
    assert (late["value"], late["data"]["text"], late["data"]["precision"]) == (
        "2023-06-21/2023-06-30", "В конце июня", "range")
    (since,) = enriched.found(enriched.item(EN_POST), "date")
    assert (since["value"], since["data"]["precision"]) == ("2023-02-01/", "since")


def test_names_and_violation_types_are_suggestions_with_their_words(enriched: Enriched
                                                                    ) -> None:
    uk = enriched.item(UK_POST)
    names = enriched.found(uk, "name")
    assert [(n["value"], n["data"]["text"]) for n in names] == [
        ("military_commissariat", "військкомату")]
    violations = {v["value"]: v for v in enriched.found(uk, "violation")}
    assert {"compelled_service", "document_confiscation", "arbitrary_detention"} <= set(
        violations)
    passport = violations["document_confiscation"]
    assert "паспорти" in [word for _, _, word in passport["data"]["words"]]
    assert all(v["state"] == "suggested" and 0 < v["confidence"] < 1
               for v in violations.values())
    assert enriched.found(enriched.item(WEATHER), "violation") == []


def test_language_of_each_post(enriched: Enriched) -> None:
    for post, language in ((UK_POST, "uk"), (RU_POST, "ru"), (EN_POST, "en")):
        (found,) = enriched.found(enriched.item(post), "language")
        assert found["value"] == language


def test_a_photographed_letter_is_read_in_its_language(enriched: Enriched) -> None:
    letter = enriched.item("letter.jpg")
    (ocr,) = enriched.found(letter, "ocr")
    assert ocr["value"] == "uk" and ocr["data"]["kept"] is True
    with enriched.home.engine.connect() as conn:
        read = conn.execute(select(artifacts.c.content).where(
            artifacts.c.item_id == letter, artifacts.c.role == "ocr-text")).scalar_one()
    assert "затримали на блокпосту" in read
    assert [p["data"]["name"] for p in enriched.found(letter, "place")] == ["Makiivka"]
    # "12 березня" has no year: the letter is anchored at its capture, and says so.
    (day,) = enriched.found(letter, "date")
    assert day["data"]["anchor_from"] == "captured" and day["value"].endswith("-03-12")


def test_media_metadata_thumbnails_and_keyframes(enriched: Enriched) -> None:
    clip = enriched.item("clip.mp4")
    with enriched.home.engine.connect() as conn:
        derived = item_enrichment(conn, clip)["artifacts"]
    roles = [a["role"] for a in derived]
    assert roles.count("keyframe") == 3 and "thumbnail" in roles and "metadata" in roles
    assert [a["position_ms"] for a in derived if a["role"] == "keyframe"] == [0, 1000, 2000]
    for artifact in derived:
        if artifact["role"] != "metadata":
            assert enriched.home.blobs.path_of(artifact["sha256"]).is_file()
    (gps,) = enriched.found(clip, "gps")
    assert gps["value"] == "47.095100,37.541300"


def test_derived_artifacts_name_their_original_in_the_custody_log(enriched: Enriched
                                                                  ) -> None:
    letter = enriched.item("letter.jpg")
    with enriched.home.engine.connect() as conn:
        original = conn.execute(select(items.c.sha256).where(items.c.id == letter)
                                ).scalar_one()
        read = conn.execute(select(artifacts.c.sha256).where(
            artifacts.c.item_id == letter, artifacts.c.role == "ocr-text")).scalar_one()
        derive = [json.loads(r) for r in conn.execute(select(custody_events.c.record).where(
            custody_events.c.sha_key == sha_key(read))).scalars()]
        about = [json.loads(r) for r in conn.execute(select(custody_events.c.record).where(
            custody_events.c.sha_key == sha_key(original))).scalars()]
    assert [(e["action"], e["previous"], e["details"]["enricher"]) for e in derive] == [
        ("derive", original, "ocr")]
    (metadata,) = [e for e in about if e["action"] == "metadata"]
    assert set(metadata["details"]["enrichers"].split(",")) >= {"ocr", "places", "dates"}
    assert metadata["details"]["ocr.version"].startswith("1+tesseract-")


# -- search ----------------------------------------------------------------------------------

def test_a_place_written_in_one_script_finds_the_others(enriched: Enriched) -> None:
    uk, ru = enriched.item(UK_POST), enriched.item(RU_POST)
    letter = enriched.item("letter.jpg")
    for query in ("Макіївка", "Макеевка", "Makiivka", "Makeevka"):
        found = enriched.search(query)
        assert {uk, ru, letter} <= set(found), query
        assert enriched.item(EN_POST) not in found


def test_search_filters_by_violation_language_and_dates(enriched: Enriched) -> None:
    uk, ru = enriched.item(UK_POST), enriched.item(RU_POST)
    assert uk in enriched.search("", violation="document_confiscation")
    assert enriched.search("блокпост", language="ru") == [ru]
    from datetime import date

    late_june = enriched.search("", date_from=date(2023, 6, 25), date_to=date(2023, 6, 28))
    assert ru in late_june and uk not in late_june  # the 23rd is not in the range


def test_search_counts_facets(enriched: Enriched) -> None:
    with enriched.home.engine.connect() as conn:
        results = find(conn, "блокпост", facets=True)
    assert results.facets is not None
    # The two posts, the repost and the letter («на блокпосту біля Макіївки»).
    assert ("702320", 4) in results.facets["place"]
    assert dict(results.facets["language"]) == {"uk": 3, "ru": 1}
    assert ("compelled_service", 4) in results.facets["violation"]


# -- duplicates ------------------------------------------------------------------------------

def test_a_reposted_text_and_a_rotated_photo_are_linked_not_merged(enriched: Enriched
                                                                    ) -> None:
    done = run_svidok(["dedup", "--json"], enriched.env)
    assert done.returncode == 0, done.stderr
    clusters = json.loads(done.stdout)["clusters"]
    links = {(link["method"], frozenset((link["a"], link["b"]))): link
             for cluster in clusters for link in cluster["links"]}
    original = enriched.item(UK_POST)
    repost = enriched.item(UK_POST + "\n\nПідписатися")
    text = links[("minhash", frozenset((original, repost)))]
    assert text["grade"] == "duplicate" and text["distance"] == 0  # the footer is dropped
    photo = links[("pdq", frozenset((enriched.item("bridge.jpg"),
                                     enriched.item("turned.jpg"))))]
    assert photo["distance"] <= 31
    with enriched.home.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(items).where(
            items.c.id.in_([original, repost]))).scalar_one() == 2


# -- running again ---------------------------------------------------------------------------

def test_a_second_run_does_nothing_and_force_reruns_only_what_is_named(enriched: Enriched
                                                                       ) -> None:
    again = run_svidok(["enrich", "--json"], enriched.env)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["enriched"] == 0
    with enriched.home.engine.connect() as conn:
        before = conn.execute(select(func.count()).select_from(enrichments)).scalar_one()
    forced = run_svidok(["enrich", "--only", "places", "--force", "--json"], enriched.env)
    assert forced.returncode == 0, forced.stderr
    assert {r["enricher"] for r in json.loads(forced.stdout)["runs"]} == {"places"}
    with enriched.home.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(enrichments)
                            ).scalar_one() == before
    assert [p["data"]["name"] for p in enriched.found(enriched.item(UK_POST), "place")] == [
        "Makiivka"]
