"""Linking near-duplicate texts through the indexed band table: across runs, within one
group, again after a new version, and for texts stored before the table existed."""

from __future__ import annotations

import json
from pathlib import Path

from alembic import command
from sqlalchemy import func, select

from svidok.db.engine import _alembic_config
from svidok.db.schema import duplicate_links, minhash_bands
from svidok.dedup.linking import Linker
from svidok.dedup.text_similarity import band_keys, signature
from svidok.enrich.enricher import Fingerprint, Output, Subject
from svidok.enrich.fingerprints import FingerprintsEnricher
from svidok.enrich.pipeline import enrich_home
from svidok.enrich.runner import enrich
from svidok.enrich.text import TextEnricher
from svidok.home import Home
from svidok.locker.ingest import IngestOptions, ingest

POST = ("Сьогодні вранці на блокпосту біля Мелітополя військові затримали трьох чоловіків, "
        "забрали в них телефони і паспорти та відвезли до комендатури.")
REPOST = POST + "\n\nНадіслати новину: @melitopol_news"
OTHER = ("У Херсоні відкрили пункт обігріву, там можна зарядити телефон і випити чаю; "
         "працює цілодобово до кінця зими.")


def channel(folder: Path, chat_id: int, texts: list[str]) -> Path:
    folder.mkdir(parents=True)
    messages = [{"id": n, "type": "message", "date": "2024-01-10T08:00:00",
                 "date_unixtime": str(1_704_873_600 + n), "from": "News",
                 "from_id": f"channel{chat_id}", "text": t} for n, t in enumerate(texts, 1)]
    (folder / "result.json").write_text(json.dumps(
        {"name": f"News {chat_id}", "type": "public_channel", "id": chat_id,
         "messages": messages}, ensure_ascii=False), encoding="utf-8")
    return folder


def text_links(home: Home) -> list[tuple[int, int, int]]:
    with home.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(
            select(duplicate_links.c.item_a, duplicate_links.c.item_b,
                   duplicate_links.c.distance)
            .where(duplicate_links.c.method == "minhash").order_by(duplicate_links.c.id))]


def bands(home: Home) -> dict[int, list[int]]:
    found: dict[int, list[int]] = {}
    with home.engine.connect() as conn:
        for item_id, key in conn.execute(select(minhash_bands.c.item_id,
                                                minhash_bands.c.band_key)
                                         .order_by(minhash_bands.c.item_id,
                                                   minhash_bands.c.band)):
            found.setdefault(item_id, []).append(key)
    return found


def run_texts(home: Home) -> None:
    enrich(home, enrichers=[TextEnricher(), Fingerprints()], link=Linker())


class Fingerprints(FingerprintsEnricher):
    needs: tuple[str, ...] = ("text",)  # no OCR here: nothing but messages


def test_a_repost_in_a_later_run_is_linked_through_the_stored_bands(home: Home,
                                                                    tmp_path: Path) -> None:
    ingest(home, [channel(tmp_path / "a", 1, [POST, OTHER])], IngestOptions())
    run_texts(home)
    assert text_links(home) == []
    ingest(home, [channel(tmp_path / "b", 2, [REPOST])], IngestOptions())
    run_texts(home)

    ((a, _, distance),) = text_links(home)
    assert distance == 0  # the channel's footer is not part of the text compared
    stored = bands(home)
    assert stored[a] == band_keys(signature(POST)) and len(stored) == 3


def test_texts_of_one_group_are_compared_with_each_other(home: Home, tmp_path: Path) -> None:
    ingest(home, [channel(tmp_path / "a", 1, [POST, OTHER, REPOST])], IngestOptions())
    run_texts(home)
    assert len(text_links(home)) == 1


def test_a_new_version_replaces_the_bands_of_its_items(home: Home, tmp_path: Path) -> None:
    ingest(home, [channel(tmp_path / "a", 1, [POST, REPOST])], IngestOptions())
    run_texts(home)
    before = bands(home)

    class Newer(Fingerprints):
        version = "newer"

    enrich(home, enrichers=[TextEnricher(), Newer()], link=Linker())

    assert bands(home) == before  # replaced, not added (the primary key would refuse)
    assert len(text_links(home)) == 1


def test_texts_stored_before_the_band_table_are_found_after_the_migration(
        home: Home, tmp_path: Path) -> None:
    ingest(home, [channel(tmp_path / "a", 1, [POST, OTHER])], IngestOptions())
    enrich_home(home)
    before = bands(home)
    cfg = _alembic_config(home.engine)
    command.downgrade(cfg, "0005")
    command.upgrade(cfg, "head")

    assert bands(home) == before
    with home.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(minhash_bands)).scalar_one() == 64


def test_links_of_an_item_fingerprinted_again_are_made_afresh(home: Home,
                                                               tmp_path: Path) -> None:
    ingest(home, [channel(tmp_path / "a", 1, [POST, REPOST])], IngestOptions())
    run_texts(home)
    assert len(text_links(home)) == 1

    class Unlike(Fingerprints):
        """A version under which no two texts look alike."""

        version = "unlike"

        def run(self, subject: Subject) -> Output:
            words = " ".join(f"w{subject.item_id}x{n}" for n in range(30))
            return Output(fingerprints=[Fingerprint("minhash", signature(words))])

    enrich(home, enrichers=[TextEnricher(), Unlike()], link=Linker())

    assert text_links(home) == []  # the old link went with the old fingerprints
