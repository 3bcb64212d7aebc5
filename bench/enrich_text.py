"""Text enrichment benchmark behind ``make bench``: ``svidok enrich`` over Telegram messages.

A made-up Telegram export of N messages (default 10,000; ``--quick`` 2,000) in Ukrainian,
Russian and English, each about 1 KB, written from templates with places (inflected and in
both scripts), exact and vague dates, institutions, units and conscription words, is
ingested into a fresh data folder (not timed). Then, in the same run:

    (baseline)  svidok enrich --only text: reading each message's text out of its record
                and storing it (with its custody event) — the floor every enricher pays
    (svidok)    svidok enrich: text, language, places, dates, names, violation types,
                text fingerprints, the search index and duplicate links
                target: at least 200 items/s on SQLite

Rates are messages divided by the wall time of the whole command, start-up of the worker
processes included. Figures print as a table and go to ``bench/out/enrich_results.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))
import search as search_bench  # the vocabulary of the search benchmark

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
OUT = BENCH_DIR / "out"
TARGET = 200.0

PLACES = {
    "uk": ["у Макіївці", "в Алчевську", "у Луганську", "в Донецьку", "у Горлівці",
           "в Оленівці", "у Мелітополі", "в Бердянську", "у Кадіївці", "в Енергодарі"],
    "ru": ["в Макеевке", "в Алчевске", "в Луганске", "в Донецке", "в Горловке",
           "в Еленовке", "в Мелитополе", "в Бердянске", "в Стаханове", "в Энергодаре"],
    "en": ["in Makiivka", "in Alchevsk", "in Luhansk", "in Donetsk", "in Horlivka",
           "in Olenivka", "in Melitopol", "in Berdiansk", "in Kadiivka", "in Enerhodar"],
}
DATES = {
    "uk": ["23 червня", "наприкінці червня", "з 1 по 15 березня 2022 року", "на початку липня",
           "24 лютого 2022 року", "у травні"],
    "ru": ["23 июня", "в конце июня", "с 1 по 15 марта 2022 года", "в начале июля",
           "24 февраля 2022 года", "в мае"],
    "en": ["on 23 June", "in late June", "from 1 to 15 March 2022", "in early July",
           "on 24 February 2022", "in May"],
}
EVENTS = {
    "uk": ["співробітники військкомату затримали чоловіків на блокпосту і вручили їм повістки",
           "у жителя відібрали паспорт і примусово мобілізували до так званої армії",
           "людей вивезли до фільтраційного табору, їхні родини не знають, де вони",
           "чоловіків забирали прямо з вулиці та відправляли на фронт"],
    "ru": ["сотрудники военкомата задержали мужчин на блокпосту и вручили им повестки",
           "у жителя отобрали паспорт и принудительно мобилизовали в так называемую армию",
           "людей вывезли в фильтрационный лагерь, их семьи не знают, где они",
           "мужчин забирали прямо с улицы и отправляли на фронт"],
    "en": ["officers of the military commissariat detained men at a checkpoint and handed "
           "them draft notices",
           "a resident's passport was confiscated and he was forcibly conscripted",
           "people were deported to a filtration camp and their families do not know where",
           "men were taken from the street and sent to the front line"],
}
FILLER = {
    "uk": "Про це повідомили місцеві мешканці, які просили не називати їхніх імен. "
          "Правозахисники збирають свідчення та документи, щоб передати їх слідству. "
          "Родичі затриманих кажуть, що не мають жодної інформації про їхню долю. ",
    "ru": "Об этом сообщили местные жители, которые просили не называть их имен. "
          "Правозащитники собирают свидетельства и документы, чтобы передать их следствию. "
          "Родственники задержанных говорят, что не имеют никакой информации об их судьбе. ",
    "en": "Local residents who asked not to be named reported this. Human rights defenders "
          "are collecting testimonies and documents to hand over to investigators. "
          "Relatives of those detained say they have no information about their fate. ",
}


class Messages:
    """Messages of about 1 KB: two or three reports made of the phrases above (a place, a
    date, an event) among sentences of words drawn with Zipf frequencies from the search
    benchmark's vocabulary, so that no two are alike unless meant to be. One message in
    thirty is a repost of an earlier one with a channel's footer, as reposts are."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.vocab = search_bench.Corpus().vocab
        self.sent: list[str] = []

    def sentence(self, lang: str) -> str:
        # Sentences open with a real word, as real ones do: the invented words of the long
        # tail stand for rare words, which are seldom capitalised.
        words, cumulative = self.vocab[lang]
        picked = self.rng.choices(words, cum_weights=cumulative, k=self.rng.randint(8, 16))
        opener = self.rng.choice(search_bench.TOPICAL[lang]).capitalize()
        return " ".join([opener, *picked]) + "."

    def report(self, lang: str) -> str:
        rng = self.rng
        return (f"{rng.choice(DATES[lang]).capitalize()} {rng.choice(PLACES[lang])} "
                f"{rng.choice(EVENTS[lang])}.")

    def text(self) -> str:
        rng = self.rng
        if self.sent and rng.random() < 1 / 30:
            return f"{rng.choice(self.sent)}\n\nПідписатися: t.me/channel{rng.randrange(40)}"
        lang = rng.choice(("uk", "ru", "en"))
        parts = [self.report(lang) for _ in range(rng.randint(2, 3))]
        while sum(len(p) + 1 for p in parts) < 1000:
            parts.insert(rng.randrange(len(parts) + 1), self.sentence(lang))
        text = " ".join(parts)
        self.sent.append(text)
        return text


def write_export(folder: Path, count: int, seed: int = 7) -> None:
    made = Messages(seed)
    folder.mkdir(parents=True, exist_ok=True)
    messages = [{"id": n, "type": "message", "date": "2022-07-01T10:00:00",
                 "date_unixtime": str(1_656_669_600 + 60 * n), "from": "Region news",
                 "from_id": "channel1", "text": made.text()} for n in range(1, count + 1)]
    (folder / "result.json").write_text(json.dumps(
        {"name": "Region news", "type": "public_channel", "id": 1, "messages": messages},
        ensure_ascii=False), encoding="utf-8")


def svidok(home: Path, *args: str) -> tuple[float, dict[str, Any]]:
    env = {**os.environ, "SVIDOK_HOME": str(home)}
    env.pop("SVIDOK_DATABASE_URL", None)
    started = time.perf_counter()
    done = subprocess.run([str(REPO / ".venv" / "bin" / "svidok"), *args, "--json"],
                          env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"svidok {' '.join(args)} failed ({done.returncode}): "
                         f"{done.stderr[-2000:]}")
    return elapsed, json.loads(done.stdout) if done.stdout.strip() else {}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--check", action="store_true", help="tiny run: does it work")
    parser.add_argument("--skip-postgres", action="store_true", help="(SQLite only anyway)")
    parser.add_argument("--messages", type=int)
    args = parser.parse_args()
    count = args.messages or (200 if args.check else 2_000 if args.quick else 10_000)
    work = OUT / "enrich"
    shutil.rmtree(work, ignore_errors=True)
    export = work / "export"
    write_export(export, count)
    console = Console()
    rows: list[dict[str, Any]] = []
    for label, extra in (("baseline: --only text", ["--only", "text"]),
                         ("svidok enrich (all)", [])):
        home = work / f"home-{len(rows)}"
        subprocess.run([str(REPO / ".venv" / "bin" / "svidok"), "--home", str(home), "init"],
                       check=True, capture_output=True)
        svidok(home, "ingest", str(export))
        seconds, report = svidok(home, "enrich", *extra)
        rate = count / seconds
        rows.append({"run": label, "messages": count, "seconds": round(seconds, 2),
                     "items_per_s": round(rate, 1), "failed": len(report.get("failures", [])),
                     "indexed": report.get("indexed"), "links": report.get("links")})
    table = Table(title=f"Text enrichment, {count:,} messages of ~1 KB (SQLite, "
                        f"{os.cpu_count()} cores)")
    for column in ("run", "seconds", "items/s", "indexed", "links", "failed"):
        table.add_column(column)
    for r in rows:
        table.add_row(str(r["run"]), str(r["seconds"]), str(r["items_per_s"]),
                      str(r["indexed"]), str(r["links"]), str(r["failed"]))
    console.print(table)
    full = float(rows[1]["items_per_s"])
    base = float(rows[0]["items_per_s"])
    met = full >= TARGET
    console.print(f"text enrichment: {full:.0f} items/s (target {TARGET:.0f}; "
                  f"{full / base:.2f}× the text-only baseline) — "
                  f"{'met' if met else 'NOT met'}")
    (OUT / "enrich_results.json").write_text(json.dumps(rows, indent=1), encoding="utf-8")
    shutil.rmtree(work, ignore_errors=True)
    return 0 if met or args.check else 1


if __name__ == "__main__":
    sys.exit(main())
