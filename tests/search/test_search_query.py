"""How a typed query becomes terms: what each word may match."""

from __future__ import annotations

from svidok.search.query import Filters, parse
from svidok.search.snippets import snippet
from svidok.search.sqlite_fts import match_expression


def test_plain_words_are_required_with_their_lemmas_as_alternatives() -> None:
    query = parse("Блокпосту passport")
    assert [t.alternatives for t in query.required] == [
        (("блокпосту",), ("блокпост",)), (("passport",),)]
    assert query.excluded == ()


def test_phrases_are_kept_whole_and_minus_excludes() -> None:
    query = parse('"Taken Away" -checkpoint -"no entry"')
    assert [t.alternatives for t in query.required] == [(("taken", "away"),)]
    assert [t.alternatives for t in query.excluded] == [(("checkpoint",),), (("no", "entry"),)]


def test_expand_adds_spellings_of_a_place() -> None:
    query = parse("Макіївка", lambda w: frozenset({"makiivka", "kryvyi rih"}))
    alternatives = query.required[0].alternatives
    assert alternatives[0] == ("макіівка",)  # folded: ї as і
    assert {("kryvyi", "rih"), ("makiivka",)} <= set(alternatives)


def test_fts5_strings_are_always_quoted() -> None:
    query = parse('NEAR(a b) col:x "say ""hi"""')
    assert match_expression(query.required) == (
        '("near") AND ("a") AND ("b") AND ("col") AND ("x") AND ("say") AND ("hi")')


def test_filters_name_their_facets() -> None:
    assert Filters(language="uk", place=1, source_id=7).facet_values() == [
        ("language", "uk"), ("place", "1"), ("source", "7")]


def test_a_snippet_starts_near_the_first_match_and_marks_it() -> None:
    text = "Початок. " * 50 + "Тоді на Блокпостах забрали паспорти. " + "Кінець. " * 50
    shown = snippet(text, frozenset({"блокпост", "паспорт"}))
    assert shown.text.startswith("… ") and shown.text.endswith(" …")
    assert [shown.text[a:b] for a, b in shown.marks] == ["Блокпостах", "паспорти"]
    assert snippet("Нічого тут.", frozenset({"x"})).text == "Нічого тут."
