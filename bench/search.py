"""Search benchmark: a million generated text items in Ukrainian, Russian and English.

    .venv/bin/python bench/search.py                  # 1,000,000 items, SQLite and PostgreSQL
    .venv/bin/python bench/search.py --quick          # 100,000 items
    .venv/bin/python bench/search.py --check          # 5,000 items, 50 queries: does it work
    .venv/bin/python bench/search.py --skip-postgres

Items are 40-80 words drawn with Zipf frequencies from a vocabulary per language: real
words at the top (function words, checkpoint and conscription words, place names in their
inflected forms, months), then invented words in the language's alphabet for the long tail,
as real text has one. Each is indexed through svidok.search.index_documents in
transactions of 10,000, into a fresh SQLite file (kept under bench/out/search/, so a rerun
only searches) and a fresh PostgreSQL schema (dropped afterwards).

Queries are two words of four or more letters taken from a random item, so each has at
least one hit and common words are asked for as often as they are written. Each is timed
as search() (limit 20, no facets) and again with facets; the baseline is a SELECT of 20
rows by primary key on the same connection, so the ratio survives a noisy machine.

Targets, on each backend: search p95 under 50 ms, facets p95 under 200 ms. Exit status 1
if one is missed (not with ``--check``).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from types import ModuleType

from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import Connection, Engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pg import postgres_schema
from svidok.db import connect
from svidok.search import SearchDocument, index_documents, search
from svidok.search.documents import word_lemmas
from targets import Row, common_options, finish, ratio

BENCH = Path(__file__).resolve().parent
OUT = BENCH / "out" / "search"
MIGRATION = (BENCH.parent / "src" / "svidok" / "db" / "migrations" / "versions"
             / "0005_search.py")
PG_URL = os.environ.get("SVIDOK_TEST_DATABASE_URL",
                        "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SEED = 20241125
CHUNK = 10_000
LAYOUT = 2  # bump when the corpus changes, so a cached SQLite file is rebuilt
TAIL = 30_000  # invented words per language
SEARCH_TARGET_MS = 50.0
FACETS_TARGET_MS = 200.0


def _words(text: str) -> list[str]:
    return text.split()


COMMON = {
    "uk": _words(
        "і в на з у що не до за як це від по його але про та так вже там"),
    "ru": _words(
        "и в на с у что не до за как это от по его но про так уже там"),
    "en": _words(
        "the of and to in a is that for it as was with on by at from this"),
}
TOPICAL = {
    "uk": _words(
        "блокпост блокпосту блокпостах паспорт паспорти паспорта військкомат військкомату "
        "мобілізація мобілізували затримали затримання чоловіків чоловіка вивезли "
        "депортація депортували окупанти окупантів солдати повістка повістки свідок "
        "свідчення мешканці мешканців вулиці вулиця рейд рейди автобус документи телефон "
        "телефони перевірка перевіряли березня квітня травня червня лютого року родичі "
        "родина зник зникли підвал полон"),
    "ru": _words(
        "блокпост блокпосту блокпостах паспорт паспорта паспорта военкомат военкомата "
        "мобилизация мобилизовали задержали задержание мужчин мужчину вывезли депортация "
        "депортировали солдаты повестка повестки свидетель показания жители жителей улице "
        "улица рейд рейды автобус документы телефон телефоны проверка проверяли марта "
        "апреля мая июня февраля года родственники семья пропал пропали подвал плен"),
    "en": _words(
        "checkpoint checkpoints passport passports conscription conscripted detained "
        "detention men man deported deportation soldiers summons witness testimony "
        "residents street raid raids bus documents phone phones search searched march "
        "april may june february year relatives family missing disappeared basement "
        "captivity occupied forces"),
}
PLACES = {  # GeoNames id (as svidok.enrich.places resolves the name): spellings per language
    702320: {"uk": ["Макіївка", "Макіївці", "Макіївку", "Макіївки"],
             "ru": ["Макеевка", "Макеевке", "Макеевку", "Макеевки"], "en": ["Makiivka"]},
    709717: {"uk": ["Донецьк", "Донецьку", "Донецька"], "ru": ["Донецк", "Донецке"],
             "en": ["Donetsk"]},
    701822: {"uk": ["Маріуполь", "Маріуполі"], "ru": ["Мариуполь", "Мариуполе"],
             "en": ["Mariupol"]},
    701404: {"uk": ["Мелітополь", "Мелітополі"], "ru": ["Мелитополь", "Мелитополе"],
             "en": ["Melitopol"]},
    706448: {"uk": ["Херсон", "Херсоні"], "ru": ["Херсон", "Херсоне"], "en": ["Kherson"]},
    687700: {"uk": ["Запоріжжя"], "ru": ["Запорожье"], "en": ["Zaporizhzhia"]},
    702658: {"uk": ["Луганськ", "Луганську"], "ru": ["Луганск", "Луганске"],
             "en": ["Luhansk"]},
}
CUES = {"uk": "Це сталося у", "ru": "Это было в", "en": "It happened in"}


def check_places() -> None:
    """Every spelling above is the place svidok.enrich.places finds for it, so the place
    facet counts what the enricher would have stored."""
    from svidok.enrich.places import find_places

    for gid, by_language in PLACES.items():
        for language, names in by_language.items():
            for name in names:
                found = {m.place.geonameid for m in find_places(
                    f"{CUES[language]} {name}.", language)}
                if found != {gid}:
                    raise SystemExit(f"bench/search.py: {name!r} is {sorted(found)} to "
                                     f"svidok.enrich.places, not {gid}")


PLACE_NAMES = {gid: tuple(sorted({n for names in by.values() for n in names}))
               for gid, by in PLACES.items()}
VIOLATIONS = ("forced-conscription", "detention", "deportation", "passport-confiscation",
              "disappearance")
KINDS = ("message", "message", "message", "email", "document", "web-response", "file")
MEDIA = (None, None, "text/plain", "application/pdf", "text/html", "image/jpeg")
LETTERS = {"uk": "абвгдежзиіїйклмнопрстуфхцчшщьюяє", "ru": "абвгдежзийклмнопрстуфхцчшщыьэюя",
           "en": "abcdefghijklmnopqrstuvwxyz"}
START = datetime(2022, 2, 24, tzinfo=UTC)


def _vocabulary(language: str, rng: random.Random) -> tuple[list[str], list[float]]:
    letters = LETTERS[language]
    invented: set[str] = set()
    while len(invented) < TAIL:
        invented.add("".join(rng.choice(letters) for _ in range(rng.randint(4, 10))))
    words = COMMON[language] + TOPICAL[language] + sorted(invented)
    # Zipf: the word of rank r is written about 1/r as often as the first.
    cumulative, total = [], 0.0
    for rank in range(1, len(words) + 1):
        total += 1.0 / rank
        cumulative.append(total)
    return words, cumulative


class Corpus:
    """Item i is the same on every run: its own generator seeded by (SEED, i)."""

    def __init__(self) -> None:
        rng = random.Random(SEED)
        self.vocab = {lang: _vocabulary(lang, rng) for lang in ("uk", "ru", "en")}

    def document(self, i: int) -> SearchDocument:
        rng = random.Random(SEED * 10_000_000 + i)
        language = ("uk", "ru", "en")[i % 3]
        words, cumulative = self.vocab[language]
        body = rng.choices(words, cum_weights=cumulative, k=rng.randint(40, 80))
        places = tuple(rng.sample(sorted(PLACES), rng.choice((0, 1, 1, 2))))
        for gid in places:
            body.insert(rng.randrange(len(body)), rng.choice(PLACES[gid][language]))
        when = START + timedelta(minutes=rng.randrange(4 * 365 * 24 * 60))
        mentioned: tuple[tuple[date | None, date | None], ...] = ()
        if rng.random() < 0.3:
            first = (when - timedelta(days=rng.randrange(1, 60))).date()
            mentioned = ((first, first + timedelta(days=rng.randrange(0, 10))),)
        source = rng.randrange(500)
        return SearchDocument(
            item_id=i + 1, title=" ".join(body[:5]).capitalize() if i % 4 == 0 else None,
            text=" ".join(body) + ".", names=(), places=places,
            place_names=tuple(n for gid in places for n in PLACE_NAMES[gid]),
            language=language, kind=rng.choice(KINDS), media_type=rng.choice(MEDIA),
            source_id=source, channel=f"channel-{source}", occurred_at=when, dates=mentioned,
            violations=tuple(rng.sample(VIOLATIONS, rng.choice((0, 0, 1, 2)))))

    def query(self, rng: random.Random, count: int) -> str:
        words = [w for w in self.document(rng.randrange(count)).text.rstrip(".").split()
                 if len(w) >= 4]
        return " ".join(rng.sample(words, 2))


def _migration() -> ModuleType:
    spec = importlib.util.spec_from_file_location("search_migration", MIGRATION)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def create_index_tables(engine: Engine) -> None:
    """Only the search tables, by the migration's own upgrade(): no items are needed."""
    module = _migration()
    with engine.begin() as conn, Operations.context(MigrationContext.configure(conn)):
        module.upgrade()


def fill(engine: Engine, corpus: Corpus, count: int) -> float:
    """Index the corpus; returns documents per second (generation not counted)."""
    spent = 0.0
    for start in range(0, count, CHUNK):
        docs = [corpus.document(i) for i in range(start, min(count, start + CHUNK))]
        began = time.perf_counter()
        with engine.begin() as conn:
            index_documents(conn, docs)
        spent += time.perf_counter() - began
        done = start + len(docs)
        print(f"\r  indexed {done:,} of {count:,} ({done / spent:,.0f} docs/s)", end="",
              file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return count / spent


def timed(action: Callable[[], object]) -> float:
    began = time.perf_counter()
    action()
    return (time.perf_counter() - began) * 1000


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def measure(conn: Connection, corpus: Corpus, count: int, queries: int) -> dict[str, float]:
    rng = random.Random(SEED + 1)
    asked = [corpus.query(rng, count) for _ in range(queries)]
    for q in asked[:10]:  # warm the cache as a running server's would be
        search(conn, q)
    plain: list[float] = []
    faceted: list[float] = []
    base: list[float] = []
    totals: list[int] = []
    page = text("SELECT item_id, title, kind FROM search_documents WHERE item_id > :k "
                "ORDER BY item_id LIMIT 20")
    for q in asked:
        key = rng.randrange(count)
        base.append(timed(partial(lambda k: conn.execute(page, {"k": k}).all(), key)))
        plain.append(timed(partial(lambda s: totals.append(search(conn, s).total), q)))
        faceted.append(timed(partial(lambda s: search(conn, s, facets=True), q)))
    return {"search_p50": statistics.median(plain), "search_p95": p95(plain),
            "facets_p50": statistics.median(faceted), "facets_p95": p95(faceted),
            "baseline_p50": statistics.median(base), "baseline_p95": p95(base),
            "hits_median": statistics.median(totals), "hits_max": max(totals),
            "capped_share": sum(t > 20_000 for t in totals) / len(totals)}


def report(backend: str, count: int, figures: dict[str, float]) -> list[Row]:
    print(f"{backend} ({count:,} items): indexing {figures['docs_per_s']:,.0f} docs/s"
          + (f", index {figures['size_mb']:,.0f} MB" if "size_mb" in figures else ""))
    print(f"  search p50 {figures['search_p50']:.1f} ms, facets p50 "
          f"{figures['facets_p50']:.1f} ms; baseline (20 rows by key) p50 "
          f"{figures['baseline_p50']:.2f} ms, p95 {figures['baseline_p95']:.2f} ms")
    print(f"  hits per query: median {figures['hits_median']:,.0f}, max "
          f"{figures['hits_max']:,.0f}; facets capped for {figures['capped_share']:.0%}")
    base = f"20 rows by key p95: {figures['baseline_p95']:.2f} ms"
    rows = []
    for what, key, target in (("search", "search", SEARCH_TARGET_MS),
                              ("search with facets", "facets", FACETS_TARGET_MS)):
        p95 = figures[f"{key}_p95"]
        rows.append(Row(f"{backend}: {what} p95, {count:,} items", f"< {target:g} ms",
                        f"{p95:.1f} ms (p50 {figures[f'{key}_p50']:.1f})", base,
                        ratio(p95, figures["baseline_p95"]), p95 < target))
    return rows


def sqlite_run(corpus: Corpus, count: int, queries: int) -> dict[str, float]:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"search-{count}-v{LAYOUT}.sqlite3"
    manifest = path.with_suffix(".json")
    if not manifest.exists():  # written last: a half-built file is built again
        for leftover in OUT.glob(path.name + "*"):
            leftover.unlink()
        engine = connect(f"sqlite:///{path}")
        create_index_tables(engine)
        rate = fill(engine, corpus, count)
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        engine.dispose()
        manifest.write_text(json.dumps({"docs_per_s": rate}))
    else:
        print(f"  reusing {path}", file=sys.stderr)
    figures: dict[str, float] = json.loads(manifest.read_text())
    engine = connect(f"sqlite:///{path}")
    with engine.connect() as conn:
        figures |= measure(conn, corpus, count, queries)
    engine.dispose()
    figures["size_mb"] = path.stat().st_size / 1e6
    return figures


def postgres_run(corpus: Corpus, count: int, queries: int, keep: bool) -> dict[str, float]:
    if not keep:
        with postgres_schema(PG_URL) as url:
            return _postgres_figures(url, corpus, count, queries, fresh=True)
    # Kept between runs, like the SQLite file: built once, then only searched.
    schema = f"svidok_bench_search_{count}_v{LAYOUT}"
    admin = connect(PG_URL)
    with admin.connect() as conn:
        built = conn.execute(text("SELECT to_regclass(:t) IS NOT NULL"),
                             {"t": f"{schema}.bench_manifest"}).scalar_one()
        if not built:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
            conn.commit()
    admin.dispose()
    joiner = "&" if "?" in PG_URL else "?"
    url = f"{PG_URL}{joiner}options=-csearch_path%3D{schema}"
    if built:
        print(f"  reusing schema {schema} (drop it to rebuild)", file=sys.stderr)
    return _postgres_figures(url, corpus, count, queries, fresh=not built)


def _postgres_figures(url: str, corpus: Corpus, count: int, queries: int, fresh: bool
                      ) -> dict[str, float]:
    engine = connect(url)
    if fresh:
        create_index_tables(engine)
        rate = fill(engine, corpus, count)
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE bench_manifest (docs_per_s double precision)")
            conn.execute(text("INSERT INTO bench_manifest VALUES (:r)"), {"r": rate})
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
            "VACUUM ANALYZE search_documents, search_facets, search_dates")
        rate = float(conn.exec_driver_sql("SELECT docs_per_s FROM bench_manifest").scalar_one())
        size = conn.exec_driver_sql(
            "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c WHERE c.relname "
            "IN ('search_documents', 'search_facets', 'search_dates') AND "
            "c.relnamespace = to_regnamespace(current_schema())").scalar()
    with engine.connect() as conn:
        figures = {"docs_per_s": rate, "size_mb": float(size or 0) / 1e6}
        figures |= measure(conn, corpus, count, queries)
    engine.dispose()
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, help="items (1,000,000; --quick 100,000; "
                                                 "--check 5,000)")
    parser.add_argument("--queries", type=int, help="queries (200; --check 50)")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--keep-postgres", action="store_true",
                        help="build the PostgreSQL index in a schema kept for the next run "
                             "(svidok_bench_search_N_vL), and reuse it if there")
    common_options(parser, postgres=True)
    args = parser.parse_args(argv)
    count = args.docs or (5_000 if args.check else 100_000 if args.quick else 1_000_000)
    queries = args.queries or (50 if args.check else 200)
    began = time.perf_counter()
    check_places()
    corpus = Corpus()
    # Lemmas of the vocabulary once, up front: what a long-running indexer has cached.
    for words, _ in corpus.vocab.values():
        for word in words:
            word_lemmas(word, None)
    print(f"vocabulary ready in {time.perf_counter() - began:.1f} s", file=sys.stderr)
    rows: list[Row] = []
    if not args.skip_sqlite:
        rows += report("SQLite", count, sqlite_run(corpus, count, queries))
    if not args.skip_postgres:
        rows += report("PostgreSQL", count, postgres_run(corpus, count, queries,
                                                            args.keep_postgres))
    print(f"(whole run {time.perf_counter() - began:.0f} s)")
    return finish(
        "Search", rows, check=args.check,
        caption=f"{queries} two-word queries per backend, limit 20; facets: the same search "
                "with every facet counted. Ratio: measured ÷ baseline.",
        size_note=None if count >= 1_000_000 or args.check else
        f"{count:,} items: fewer than the 1,000,000 the targets are set for.")


if __name__ == "__main__":
    sys.exit(main())
