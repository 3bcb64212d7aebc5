"""Language: the main language of a text, and its parts when Ukrainian and Russian mix.

The sentences are written for these tests, in the style of the messages Svidok receives.
"""

from __future__ import annotations

import pytest

from svidok.enrich.language import (
    LANGUAGE_VERSION,
    SAMPLE_CHARS,
    LanguageResult,
    Segment,
    detect_language,
)

UKRAINIAN = ("23 червня у Макіївці співробітники військкомату затримали чоловіків на "
             "блокпосту. Їх відвезли до міста і вручили повістки. Родичі не знають, де вони "
             "зараз. Правозахисники збирають свідчення.")
RUSSIAN = ("В конце июня в Макеевке сотрудники военкомата задерживали мужчин на блокпостах. "
           "Их увозили в город и вручали повестки. Родственники не знают, где они сейчас.")
ENGLISH = ("In late June, staff of the military commissariat detained men at checkpoints in "
           "Makiivka. They were taken to the city and handed summonses.")
# A Ukrainian post quoting a Russian message, as forwarded posts often do.
MIXED = ("Нам прислали таке повідомлення від знайомої:\n"
         "«Вчера ночью пришли трое военных, забрали сына и сказали, что он теперь "
         "мобилизован.»\n"
         "Ми перевірили, це правда.")


@pytest.mark.parametrize(("text", "language"), [
    (UKRAINIAN, "uk"), (RUSSIAN, "ru"), (ENGLISH, "en"),
    # Short messages, where uk and ru share most words.
    ("Мужа забрали на блокпосту", "ru"),
    ("Я не можу вийти з дому", "uk"),
    ("Сына увезли в военкомат", "ru"),
    ("They took his passport", "en"),
])
def test_the_main_language(text: str, language: str) -> None:
    found = detect_language(text)
    assert found.language == language
    assert 0 < found.confidence <= 1
    assert found.segments == (Segment(0, len(text), language),)


@pytest.mark.parametrize("text", ["", "   ", "12.03.2022 14:05", "!!!", "Мама", "ok"])
def test_too_little_to_tell_is_none(text: str) -> None:
    assert detect_language(text) == LanguageResult(None, 0.0, ())


def test_a_mixed_post_is_split_at_its_sentences() -> None:
    found = detect_language(MIXED)
    assert found.language == "uk"
    parts = [(s.language, MIXED[s.start:s.end].strip()) for s in found.segments]
    assert [language for language, _ in parts] == ["uk", "ru", "uk"]
    assert parts[1][1].startswith("«Вчера ночью") and parts[1][1].endswith("мобилизован.»")
    # The segments cover the text, end to end.
    assert found.segments[0].start == 0 and found.segments[-1].end == len(MIXED)
    assert all(a.end == b.start for a, b in zip(found.segments, found.segments[1:],
                                                strict=False))


def test_a_switch_inside_one_paragraph() -> None:
    text = ("Сьогодні вранці в Макіївці знову забирали чоловіків просто з вулиці. "
            "Их сажали в автобусы и везли в военкомат без объяснений. "
            "Люди бояться виходити з дому.")
    found = detect_language(text)
    assert [s.language for s in found.segments] == ["uk", "ru", "uk"]
    assert text[found.segments[1].start:found.segments[1].end].startswith("Их сажали")


def test_one_language_throughout_is_one_segment() -> None:
    text = " ".join([UKRAINIAN] * 5)
    assert len(detect_language(text).segments) == 1


def test_short_sentences_do_not_make_a_text_mixed() -> None:
    # «Да.» and «Так.» are too short to judge; they join their neighbours.
    text = f"{UKRAINIAN} Да. Так. {UKRAINIAN}"
    assert detect_language(text).segments == (Segment(0, len(text), "uk"),)


def test_a_long_text_is_judged_on_a_sample() -> None:
    text = RUSSIAN * (3 * SAMPLE_CHARS // len(RUSSIAN))
    found = detect_language(text)
    assert found.language == "ru"
    assert found.segments == (Segment(0, len(text), "ru"),)


def test_belarusian_is_reported_as_itself_not_forced_into_uk_or_ru() -> None:
    text = ("Учора ў горадзе адбыўся мітынг. Людзі выйшлі на вуліцы, каб выказаць сваю "
            "нязгоду з рашэннем улады.")
    assert detect_language(text).language == "be"


def test_the_version_names_lingua() -> None:
    assert "lingua" in LANGUAGE_VERSION
