"""Full-text search over indexed items, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import date

import pytest
from search_corpus import ARCHIVE, DONETSK, MAKIIVKA, doc, indexed

from svidok.home import Home
from svidok.search import (
    Filters,
    SearchError,
    index_documents,
    remove_documents,
    search,
)


def found(conn: object, query: str, **kwargs: object) -> list[int]:
    results = search(conn, query, **kwargs)  # type: ignore[arg-type]
    return sorted(h.item_id for h in results.hits)


def test_every_word_is_required(home: Home) -> None:
    with indexed(home) as conn:
        assert found(conn, "checkpoint") == [2, 5]
        assert found(conn, "checkpoint detained") == [2]


def test_a_word_finds_its_other_inflections_through_lemmas(home: Home) -> None:
    with indexed(home) as conn:
        # «блокпосту» (uk) and «блокпостах» (ru) share the lemma «блокпост».
        assert found(conn, "блокпост") == [1, 3]
        assert found(conn, "блокпостах") == [1, 3]
        # «Макіївці» is «Макіївка» in the locative: 1 says «Макіївки» and «паспорт»; 3 is
        # about Makiivka (its places say so) and says «паспорта».
        assert found(conn, "Макіївці паспорт") == [1, 3]
        assert found(conn, "паспорти") == [1, 3]


def test_a_place_is_found_in_any_script_through_the_documents_place_names(home: Home
                                                                         ) -> None:
    with indexed(home) as conn:
        assert found(conn, "Макіївка") == [1, 2, 3]
        assert found(conn, "Makeyevka") == [1, 2, 3]


def test_expand_widens_a_query_word_to_other_spellings(home: Home) -> None:
    def expand(word: str) -> frozenset[str]:
        return frozenset({"донецьк", "донецк", "donetsk"}) if word == "Donezk" else frozenset()

    text_only = doc(9, "Вибух у Донецьку вночі.")  # no place_names: only the text says it
    with indexed(home, *ARCHIVE, text_only) as conn:
        assert found(conn, "Donezk") == []
        assert found(conn, "Donezk", expand=expand) == [4, 5, 9]


def test_case_and_diacritics_do_not_matter(home: Home) -> None:
    with indexed(home) as conn:
        assert found(conn, "CAFE") == [5]
        assert found(conn, "МАКЕЁВКЕ") == [1, 2, 3]


def test_a_quoted_phrase_must_appear_as_written(home: Home) -> None:
    with indexed(home) as conn:
        assert found(conn, '"taken away"') == [2]
        assert found(conn, '"away taken"') == []


def test_a_leading_minus_excludes(home: Home) -> None:
    with indexed(home) as conn:
        assert found(conn, "checkpoint -detained") == [5]
        assert found(conn, 'Макіївка -"taken away" -задержали') == [1]
        assert found(conn, "-checkpoint", filters=Filters(language="en")) == []


def test_an_empty_query_lists_what_the_filters_let_through_newest_item_first(home: Home
                                                                          ) -> None:
    with indexed(home) as conn:
        results = search(conn, "", Filters(place=MAKIIVKA))
        assert [h.item_id for h in results.hits] == [3, 2, 1]
        assert results.total == 3


@pytest.mark.parametrize("query", [
    'NEAR(a b)', 'title:checkpoint', 'checkpoint*', '"unclosed phrase', "^start",
    "a OR b AND NOT c", "'; DROP TABLE search_documents; --", "((( )))", '"" - -- "-"',
    "\x00\x1f", "ab\"cd", "{checkpoint}",
])
def test_query_syntax_characters_are_only_ever_text(home: Home, query: str) -> None:
    with indexed(home) as conn:
        search(conn, query)
        assert found(conn, "checkpoint") == [2, 5]


def test_filters_narrow_the_hits(home: Home) -> None:
    with indexed(home) as conn:
        assert found(conn, "Макіївка", filters=Filters(language="ru")) == [3]
        assert found(conn, "Макіївка", filters=Filters(violation="detention")) == [2, 3]
        assert found(conn, "Макіївка", filters=Filters(source_id=100)) == [1, 3]
        assert found(conn, "Макіївка", filters=Filters(channel="Макіївка онлайн")) == [1, 3]
        assert found(conn, "Макіївка", filters=Filters(kind="document")) == [2]
        assert found(conn, "", filters=Filters(media_type="application/pdf")) == [2]
        assert found(conn, "", filters=Filters(place=DONETSK, kind="email")) == [5]
        assert found(conn, "Макіївка", filters=Filters(language="ru", source_id=200)) == []


def test_a_date_filter_matches_when_it_happened_or_a_range_it_mentions(home: Home) -> None:
    with indexed(home) as conn:
        march_2024 = Filters(date_from=date(2024, 3, 1), date_to=date(2024, 3, 31))
        # 1 and 3 happened then; 5 speaks of "since February 2024", open-ended.
        assert found(conn, "", filters=march_2024) == [1, 3, 5]
        # 2 mentions June 2023 as a range; the filter overlaps its last day only.
        assert found(conn, "", filters=Filters(date_from=date(2023, 6, 30),
                                               date_to=date(2023, 7, 15))) == [2]
        assert found(conn, "", filters=Filters(date_to=date(2022, 12, 31))) == [4]
        assert found(conn, "", filters=Filters(date_from=date(2025, 1, 1))) == [5]


def test_facets_count_the_whole_result_not_the_page(home: Home) -> None:
    with indexed(home) as conn:
        results = search(conn, "Макіївка", limit=1, facets=True)
    assert len(results.hits) == 1 and results.total == 3
    assert results.facets is not None and not results.facets_capped
    assert results.facets["place"] == [(str(MAKIIVKA), 3)]
    assert results.facets["language"] == [("en", 1), ("ru", 1), ("uk", 1)]
    assert results.facets["violation"] == [("detention", 2), ("forced-conscription", 2)]
    assert results.facets["source"] == [("100", 2)]
    assert results.facets["kind"] == [("message", 2), ("document", 1)]
    assert results.facets["media_type"] == [("application/pdf", 1)]
    assert results.facets["year"] == [("2024", 2), ("2023", 1)]


def test_the_total_is_of_every_hit_whatever_the_page(home: Home) -> None:
    """The total comes with the page of ranked hits; past the last hit it is counted apart."""
    with indexed(home) as conn:
        whole = search(conn, "Макіївка")
        pages = [search(conn, "Макіївка", limit=1, offset=n) for n in range(5)]
        nothing = search(conn, "Макіївка неіснуючеслово")
    assert whole.total == 3 and len(whole.hits) == 3
    assert [p.total for p in pages] == [3, 3, 3, 3, 3]
    assert [h.item_id for p in pages for h in p.hits] == [h.item_id for h in whole.hits]
    assert nothing.total == 0 and nothing.hits == []


def test_facets_follow_the_filters(home: Home) -> None:
    with indexed(home) as conn:
        results = search(conn, "", Filters(language="en"), facets=True)
    assert results.facets is not None
    assert results.facets["place"] == [(str(MAKIIVKA), 1), (str(DONETSK), 1)]


def test_hits_carry_a_snippet_with_the_matched_words_marked(home: Home) -> None:
    long_text = "Спочатку довгий вступ без нічого. " * 40 + "Потім затримали на блокпостах."
    with indexed(home, doc(7, long_text, title="Лист", language="uk")) as conn:
        (hit,) = search(conn, "блокпост").hits
    assert hit.title == "Лист" and hit.kind == "message" and hit.language == "uk"
    assert hit.snippet.startswith("… ") and hit.snippet.endswith("блокпостах.")
    assert [hit.snippet[a:b] for a, b in hit.marks] == ["блокпостах"]
    assert hit.rank > 0


def test_better_matches_rank_first(home: Home) -> None:
    with indexed(home, doc(1, "паспорт " + "слово " * 50), doc(2, "паспорт паспорт паспорт"),
                 doc(3, "без нього", title="Паспорт")) as conn:
        ranked = [h.item_id for h in search(conn, "паспорт").hits]
    assert ranked[-1] == 1


def test_indexing_again_replaces_what_the_index_held(home: Home) -> None:
    with indexed(home) as conn:
        pass
    with home.engine.begin() as conn:
        index_documents(conn, [doc(2, "Nothing about that place any more.", language="en")])
    with home.engine.connect() as conn:
        assert found(conn, "checkpoint") == [5]
        assert found(conn, "Макіївка") == [1, 3]
        results = search(conn, "nothing", facets=True)
        assert results.facets is not None and results.facets["place"] == []


def test_removed_documents_are_not_found(home: Home) -> None:
    with indexed(home) as conn:
        pass
    with home.engine.begin() as conn:
        remove_documents(conn, [1, 3])
    with home.engine.connect() as conn:
        assert found(conn, "Макіївка") == [2]
        assert search(conn, "", facets=True).facets["violation"] == [  # type: ignore[index]
            ("detention", 1)]


def test_indexing_is_part_of_the_callers_transaction(home: Home) -> None:
    with home.engine.connect() as conn, conn.begin() as transaction:
        index_documents(conn, ARCHIVE)
        assert found(conn, "checkpoint") == [2, 5]
        transaction.rollback()
    with home.engine.connect() as conn:
        assert search(conn, "").total == 0


def test_a_long_text_is_indexed_up_to_the_limit(home: Home) -> None:
    text = ("слово " * 200_000) + "кінець"  # 1.2 million characters
    with indexed(home, doc(1, text)) as conn:
        assert found(conn, "слово") == [1]
        assert found(conn, "кінець") == []


def test_bad_arguments_raise_search_errors(home: Home) -> None:
    with indexed(home) as conn:
        with pytest.raises(SearchError, match="limit"):
            search(conn, "a", limit=0)
        with pytest.raises(SearchError, match="characters"):
            search(conn, "a" * 2000)
        with pytest.raises(SearchError, match="words"):
            search(conn, " ".join(f"w{i}" for i in range(40)))
    with pytest.raises(SearchError, match="item id"), home.engine.begin() as conn:
        index_documents(conn, [doc(0, "x")])


def test_the_gazetteers_spellings_connect_scripts(home: Home) -> None:
    from svidok.enrich.places import spellings

    with indexed(home, doc(1, "Men were detained in Makiivka."),
                 doc(2, "В Макеевке задержали мужчин."), doc(3, "Нічого про Київ.")) as conn:
        assert found(conn, "Макіївка", expand=spellings) == [1, 2]
        assert found(conn, "Makiivka", expand=spellings) == [1, 2]
        assert found(conn, "Макіївці", expand=spellings) == [1, 2]
        assert found(conn, "Макеевке", expand=spellings) == [1, 2]


def test_a_value_numbered_in_a_transaction_rolled_back_is_numbered_again(home: Home) -> None:
    """Facet values are numbered as they are first indexed (svidok.search.facet_sets), and
    the numbers' values are kept once read. A number handed out in a transaction that was
    rolled back goes to the next new value (on SQLite): its old value must not be shown."""
    with home.engine.connect() as conn, conn.begin() as transaction:
        index_documents(conn, [doc(8, "перший допис", channel="Канал А")])
        assert search(conn, "", facets=True).facets["channel"] == [  # type: ignore[index]
            ("Канал А", 1)]
        transaction.rollback()
    with home.engine.begin() as conn:
        index_documents(conn, [doc(9, "другий допис", channel="Канал Б", language="uk")])
    for _ in range(2):  # the second time from what was kept
        with home.engine.connect() as conn:
            facets = search(conn, "", facets=True).facets
        assert facets is not None
        assert facets["channel"] == [("Канал Б", 1)] and facets["language"] == [("uk", 1)]


def test_a_database_without_the_index_says_to_bring_it_up_to_date(home: Home) -> None:
    from sqlalchemy import text

    table = "search_fts" if home.engine.dialect.name == "sqlite" else "search_documents"
    with home.engine.begin() as conn:
        conn.execute(text(f"DROP TABLE {table}"))
    with home.engine.connect() as conn, pytest.raises(SearchError, match="svidok init"):
        search(conn, "паспорт")
