"""``svidok search`` as a person or a program uses it."""

from __future__ import annotations

import json

from search_corpus import MAKIIVKA, doc, indexed

from conftest import run_svidok
from svidok.home import Home


def test_search_prints_hits_and_facets_as_json(home: Home, env: dict[str, str]) -> None:
    with indexed(home):
        pass
    done = run_svidok(["search", "Макіївці", "--json", "--facets", "--limit", "2"], env)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["total"] == 3 and len(data["hits"]) == 2
    assert data["facets"]["place"] == [{"value": str(MAKIIVKA), "label": "Makiivka", "count": 3}]
    assert data["facets_capped"] is False
    hit = data["hits"][0]
    assert {"item_id", "rank", "title", "kind", "language", "occurred_at", "snippet",
            "marks"} <= set(hit)


def test_filters_by_place_name_language_and_dates(home: Home, env: dict[str, str]) -> None:
    with indexed(home):
        pass
    done = run_svidok(["search", "", "--place", "Makeyevka", "--lang", "ru", "--from",
                       "2024-03-01", "--to", "2024-03-31", "--json"], env)
    assert done.returncode == 0, done.stderr
    assert [h["item_id"] for h in json.loads(done.stdout)["hits"]] == [3]
    assert run_svidok(["search", "", "--place", str(MAKIIVKA), "--kind", "document",
                       "--json"], env).stdout.count('"item_id"') == 1


def test_a_query_word_naming_a_place_finds_it_in_other_scripts(home: Home,
                                                               env: dict[str, str]) -> None:
    # No place names given with the documents: only the gazetteer's spellings connect them.
    with indexed(home, doc(1, "Men were detained in Makiivka."),
                 doc(2, "В Макеевке задержали мужчин."), doc(3, "Нічого про це.")):
        pass
    done = run_svidok(["search", "Макіївка", "--json"], env)
    assert done.returncode == 0, done.stderr
    assert sorted(h["item_id"] for h in json.loads(done.stdout)["hits"]) == [1, 2]


def test_search_prints_a_table_for_people(home: Home, env: dict[str, str]) -> None:
    with indexed(home):
        pass
    done = run_svidok(["search", "checkpoint", "--facets"], env)
    assert done.returncode == 0, done.stderr
    assert "of 2" in done.stdout and "Checkpoint report" in done.stdout
    assert "language: en (2)" in done.stdout


def test_wrong_use_is_explained(home: Home, env: dict[str, str]) -> None:
    done = run_svidok(["search", "x", "--from", "March"], env)
    assert done.returncode == 2 and "YYYY-MM-DD" in done.stderr
    done = run_svidok(["search", "x", "--place", "Nowhereville", "--json"], env)
    assert done.returncode == 2 and "no place named" in done.stdout
    done = run_svidok(["search", "a" * 1001, "--json"], env)
    assert done.returncode == 2 and "characters" in json.loads(done.stdout)["error"]


def test_a_query_past_its_limits_is_a_usage_error(home: Home, env: dict[str, str]) -> None:
    with indexed(home):
        pass
    done = run_svidok(["search", " ".join(f"w{n}" for n in range(40)), "--json"], env)
    assert done.returncode == 2 and "at most" in done.stdout
