"""Dates in uk, ru and en texts: explicit, vague, ranges and relative, each with its precision
and the anchor a missing year was taken from."""

from __future__ import annotations

from datetime import date

import pytest

from svidok.enrich import dates
from svidok.enrich.dates import DateMention, find_dates

ANCHOR = date(2023, 5, 10)  # a Wednesday


def only(text: str, language: str | None, anchor: date | None = ANCHOR) -> DateMention:
    found = find_dates(text, language, anchor)
    assert len(found) == 1, found
    return found[0]


def spans(text: str, language: str | None, anchor: date | None = ANCHOR) -> list[tuple[
        str, date | None, date | None, str]]:
    return [(m.text, m.first, m.last, m.precision) for m in find_dates(text, language, anchor)]


D = date


@pytest.mark.parametrize(("language", "phrase", "first", "last", "precision"), [
    # Explicit days, in every case a month takes
    ("uk", "23 червня 2022 року", D(2022, 6, 23), D(2022, 6, 23), "day"),
    ("uk", "24 лютого 2022 р.", D(2022, 2, 24), D(2022, 2, 24), "day"),
    ("ru", "5 июля 2022 года", D(2022, 7, 5), D(2022, 7, 5), "day"),
    ("ru", "23-го июня 2022 г.", D(2022, 6, 23), D(2022, 6, 23), "day"),
    ("en", "June 23, 2022", D(2022, 6, 23), D(2022, 6, 23), "day"),
    ("en", "23rd June 2022", D(2022, 6, 23), D(2022, 6, 23), "day"),
    ("en", "the 5th of June 2022", D(2022, 6, 5), D(2022, 6, 5), "day"),
    ("en", "Dec. 5, 2022", D(2022, 12, 5), D(2022, 12, 5), "day"),
    ("uk", "24.02.2022", D(2022, 2, 24), D(2022, 2, 24), "day"),
    ("ru", "23.06.22", D(2022, 6, 23), D(2022, 6, 23), "day"),
    ("uk", "05/06/2022", D(2022, 6, 5), D(2022, 6, 5), "day"),
    ("en", "2022-02-24", D(2022, 2, 24), D(2022, 2, 24), "day"),
    # Months, years, seasons
    ("uk", "у червні 2022", D(2022, 6, 1), D(2022, 6, 30), "month"),
    ("ru", "в июне 2022 года", D(2022, 6, 1), D(2022, 6, 30), "month"),
    ("en", "December 2022", D(2022, 12, 1), D(2022, 12, 31), "month"),
    ("uk", "у 2022 році", D(2022, 1, 1), D(2022, 12, 31), "year"),
    ("en", "in 2021", D(2021, 1, 1), D(2021, 12, 31), "year"),
    ("ru", "весной 2022", D(2022, 3, 1), D(2022, 5, 31), "range"),
    ("uk", "влітку 2022 року", D(2022, 6, 1), D(2022, 8, 31), "range"),
    ("en", "in the spring of 2021", D(2021, 3, 1), D(2021, 5, 31), "range"),
    ("uk", "взимку 2022", D(2021, 12, 1), D(2022, 2, 28), "range"),  # the winter ending then
    # Thirds of a month
    ("uk", "наприкінці червня 2022", D(2022, 6, 21), D(2022, 6, 30), "range"),
    ("uk", "в кінці лютого 2024", D(2024, 2, 21), D(2024, 2, 29), "range"),
    ("ru", "в конце июня 2022", D(2022, 6, 21), D(2022, 6, 30), "range"),
    ("ru", "в последних числах июня 2022", D(2022, 6, 21), D(2022, 6, 30), "range"),
    ("en", "late June 2022", D(2022, 6, 21), D(2022, 6, 30), "range"),
    ("en", "at the end of June 2022", D(2022, 6, 21), D(2022, 6, 30), "range"),
    ("uk", "на початку липня 2022", D(2022, 7, 1), D(2022, 7, 10), "range"),
    ("ru", "в начале июля 2022", D(2022, 7, 1), D(2022, 7, 10), "range"),
    ("en", "early July 2022", D(2022, 7, 1), D(2022, 7, 10), "range"),
    ("uk", "у середині березня 2022", D(2022, 3, 11), D(2022, 3, 20), "range"),
    ("uk", "посередині квітня 2022", D(2022, 4, 11), D(2022, 4, 20), "range"),
    ("ru", "в середине марта 2022", D(2022, 3, 11), D(2022, 3, 20), "range"),
    ("en", "mid-June 2022", D(2022, 6, 11), D(2022, 6, 20), "range"),
    # Day ranges and ranges joined from two dates
    ("uk", "з 1 по 15 березня 2022 року", D(2022, 3, 1), D(2022, 3, 15), "range"),
    ("ru", "с 1 по 15 марта 2022 года", D(2022, 3, 1), D(2022, 3, 15), "range"),
    ("en", "from 1 to 15 March 2022", D(2022, 3, 1), D(2022, 3, 15), "range"),
    ("en", "1-15 March 2022", D(2022, 3, 1), D(2022, 3, 15), "range"),
    ("uk", "1–15 березня 2022", D(2022, 3, 1), D(2022, 3, 15), "range"),
    ("en", "June 1–15, 2022", D(2022, 6, 1), D(2022, 6, 15), "range"),
    ("en", "between 5 and 7 March 2022", D(2022, 3, 5), D(2022, 3, 7), "range"),
    ("uk", "з 1 березня по 15 квітня 2022", D(2022, 3, 1), D(2022, 4, 15), "range"),
    ("uk", "з 25 грудня по 5 січня 2023 року", D(2022, 12, 25), D(2023, 1, 5), "range"),
    ("ru", "с марта по май 2022 года", D(2022, 3, 1), D(2022, 5, 31), "range"),
    ("en", "March–May 2022", D(2022, 3, 1), D(2022, 5, 31), "range"),
    ("uk", "з 2014 по 2016 рік", D(2014, 1, 1), D(2016, 12, 31), "range"),
    ("ru", "01.03.2022 – 15.03.2022", D(2022, 3, 1), D(2022, 3, 15), "range"),
    # Open ranges
    ("uk", "з лютого 2022", D(2022, 2, 1), None, "since"),
    ("uk", "з кінця червня 2022", D(2022, 6, 21), None, "since"),
    ("ru", "с февраля 2022", D(2022, 2, 1), None, "since"),
    ("en", "since February 2022", D(2022, 2, 1), None, "since"),
    ("uk", "з 2014 року", D(2014, 1, 1), None, "since"),
    ("uk", "до 15 березня 2022", None, D(2022, 3, 15), "until"),
    ("ru", "до конца июля 2022", None, D(2022, 7, 31), "until"),
    ("en", "by the end of June 2022", None, D(2022, 6, 30), "until"),
])
def test_phrase_with_its_year(language: str, phrase: str, first: date | None,
                              last: date | None, precision: str) -> None:
    found = only(phrase, language)
    assert (found.text, found.first, found.last, found.precision) == (
        phrase, first, last, precision)
    assert found.anchor is None  # the text gave the year
    assert found.how == "rule"
    # The same phrase read without knowing the language
    assert spans(phrase, None) == [(phrase, first, last, precision)]


@pytest.mark.parametrize(("language", "phrase", "anchor", "first", "last"), [
    ("en", "late December", D(2023, 1, 5), D(2022, 12, 21), D(2022, 12, 31)),
    ("uk", "наприкінці грудня", D(2023, 1, 5), D(2022, 12, 21), D(2022, 12, 31)),
    ("uk", "23 червня", D(2023, 7, 1), D(2023, 6, 23), D(2023, 6, 23)),
    ("uk", "23 червня", D(2023, 6, 10), D(2022, 6, 23), D(2022, 6, 23)),  # not after the anchor
    ("ru", "в июне", D(2023, 6, 10), D(2023, 6, 1), D(2023, 6, 30)),  # the anchor's month
    ("uk", "у березні", D(2023, 2, 10), D(2022, 3, 1), D(2022, 3, 31)),  # a later month: last year
    ("uk", "29 лютого", D(2023, 5, 1), D(2020, 2, 29), D(2020, 2, 29)),  # the last leap year
    ("uk", "29 лютого", D(2024, 3, 1), D(2024, 2, 29), D(2024, 2, 29)),
    ("ru", "с 1 по 15 марта", D(2023, 3, 10), D(2023, 3, 1), D(2023, 3, 15)),  # by its start
    ("en", "from 28 December to 3 January", D(2023, 1, 5), D(2022, 12, 28), D(2023, 1, 3)),
    ("ru", "зимой", D(2023, 1, 5), D(2022, 12, 1), D(2023, 2, 28)),
    ("uk", "навесні", D(2023, 1, 5), D(2022, 3, 1), D(2022, 5, 31)),
])
def test_a_missing_year_comes_from_the_anchor(language: str, phrase: str, anchor: date,
                                              first: date, last: date) -> None:
    found = only(phrase, language, anchor)
    assert (found.first, found.last, found.anchor) == (first, last, anchor)


def test_without_an_anchor_a_date_with_no_year_is_left_out() -> None:
    assert find_dates("23 червня, вчора, два тижні тому", "uk") == []
    assert spans("23 червня 2022 року і вчора", "uk", None) == [
        ("23 червня 2022 року", D(2022, 6, 23), D(2022, 6, 23), "day")]


@pytest.mark.parametrize(("language", "phrase", "first", "last", "precision"), [
    ("uk", "вчора", D(2023, 5, 9), D(2023, 5, 9), "day"),
    ("uk", "позавчора", D(2023, 5, 8), D(2023, 5, 8), "day"),
    ("ru", "позавчера", D(2023, 5, 8), D(2023, 5, 8), "day"),
    ("en", "the day before yesterday", D(2023, 5, 8), D(2023, 5, 8), "day"),
    ("en", "today", D(2023, 5, 10), D(2023, 5, 10), "day"),
    ("uk", "два тижні тому", D(2023, 4, 26), D(2023, 4, 26), "day"),
    ("uk", "тиждень тому", D(2023, 5, 3), D(2023, 5, 3), "day"),
    ("uk", "п’ять днів тому", D(2023, 5, 5), D(2023, 5, 5), "day"),
    ("ru", "три дня назад", D(2023, 5, 7), D(2023, 5, 7), "day"),
    ("ru", "2 недели назад", D(2023, 4, 26), D(2023, 4, 26), "day"),
    ("en", "two weeks ago", D(2023, 4, 26), D(2023, 4, 26), "day"),
    ("en", "a month ago", D(2023, 4, 1), D(2023, 4, 30), "month"),
    ("uk", "минулого тижня", D(2023, 5, 1), D(2023, 5, 7), "range"),  # Monday to Sunday
    ("ru", "на прошлой неделе", D(2023, 5, 1), D(2023, 5, 7), "range"),
    ("en", "last week", D(2023, 5, 1), D(2023, 5, 7), "range"),
    ("uk", "минулого місяця", D(2023, 4, 1), D(2023, 4, 30), "month"),
    ("ru", "в прошлом году", D(2022, 1, 1), D(2022, 12, 31), "year"),
    ("uk", "торік", D(2022, 1, 1), D(2022, 12, 31), "year"),
])
def test_relative_phrases_count_back_from_the_anchor(
        language: str, phrase: str, first: date, last: date, precision: str) -> None:
    found = only(phrase, language)
    assert (found.text, found.first, found.last, found.precision, found.anchor) == (
        phrase, first, last, precision, ANCHOR)


@pytest.mark.parametrize(("language", "phrase", "day"), [
    ("uk", "Його забрали минулого понеділка.", D(2023, 5, 8)),
    ("uk", "Його затримали у минулу п’ятницю.", D(2023, 5, 5)),
    ("ru", "Его забрали в прошлую среду.", D(2023, 5, 3)),  # the anchor is a Wednesday
    ("en", "He was taken last Monday.", D(2023, 5, 8)),
])
def test_last_weekday_is_the_latest_before_the_anchor(language: str, phrase: str,
                                                      day: date) -> None:
    found = only(phrase, language)
    assert (found.how, found.first, found.last, found.precision, found.anchor) == (
        "rule", day, day, "day", ANCHOR)


@pytest.mark.parametrize(("language", "phrase"), [
    ("uk", "Його забрали п'ятнадцять днів тому."),
    ("ru", "Его забрали пятнадцать дней назад."),
    ("en", "He was taken fifteen days ago."),
])
def test_dateparser_reads_counts_the_rules_do_not(language: str, phrase: str) -> None:
    # The rules know numbers up to ten; a plural unit alone must not be read as "one".
    found = only(phrase, language)
    assert (found.how, found.first, found.anchor) == ("dateparser", D(2023, 4, 25), ANCHOR)


def test_dates_in_a_ukrainian_report() -> None:
    text = ("23 червня у Макіївці співробітники військкомату зупинили маршрутку. Наприкінці "
            "червня те саме сталося в Харцизьку, а з 1 по 15 березня 2022 року облави "
            "проходили щодня. Вчора мати одного з затриманих розповіла, що з того часу "
            "зв'язку немає. Два тижні тому сусіда також забрали, а у червні 2022 таких "
            "випадків було 40.")
    assert spans(text, "uk") == [
        ("23 червня", D(2022, 6, 23), D(2022, 6, 23), "day"),
        ("Наприкінці червня", D(2022, 6, 21), D(2022, 6, 30), "range"),
        ("з 1 по 15 березня 2022 року", D(2022, 3, 1), D(2022, 3, 15), "range"),
        ("Вчора", D(2023, 5, 9), D(2023, 5, 9), "day"),
        ("Два тижні тому", D(2023, 4, 26), D(2023, 4, 26), "day"),
        ("у червні 2022", D(2022, 6, 1), D(2022, 6, 30), "month"),
    ]


def test_dates_in_a_russian_report() -> None:
    text = ("В конце июня в Макеевке сотрудники военкомата остановили маршрутку. Житель "
            "Алчевска сообщил, что с 1 по 15 марта 2022 года облавы проходили ежедневно, а "
            "с февраля мужчин не выпускают. Позавчера мать задержанного рассказала, что в "
            "начале июля его отправили на учёбу.")
    assert spans(text, "ru") == [
        ("В конце июня", D(2022, 6, 21), D(2022, 6, 30), "range"),
        ("с 1 по 15 марта 2022 года", D(2022, 3, 1), D(2022, 3, 15), "range"),
        ("с февраля", D(2023, 2, 1), None, "since"),
        ("Позавчера", D(2023, 5, 8), D(2023, 5, 8), "day"),
        ("в начале июля", D(2022, 7, 1), D(2022, 7, 10), "range"),
    ]


def test_dates_in_an_english_report_and_none_of_its_false_friends() -> None:
    text = ("In late June, officers stopped a minibus. We were told that since February "
            "raids happened daily. Two hours later, we may march to the office; on Sat the "
            "sun was out. Second, 15 men in 2 cars were taken on June 23.")
    assert spans(text, "en") == [
        ("In late June", D(2022, 6, 21), D(2022, 6, 30), "range"),
        ("since February", D(2023, 2, 1), None, "since"),
        ("on June 23", D(2022, 6, 23), D(2022, 6, 23), "day"),
    ]


@pytest.mark.parametrize("text", [
    "We will march. May we? Sat down in the sun for a second.",
    "Two hours later he left; it took two hours.",
    "He had 15 of them in 2 cars, 2022 in all.",
    "Лютий вітер дув з півночі.",  # «лютий» is also "fierce"
    "Версія 1.2.3.2022, телефон 050-23-06-22.",
])
def test_words_and_numbers_that_are_not_dates(text: str) -> None:
    assert find_dates(text, None, ANCHOR) == []


@pytest.mark.parametrize("text", ["31 лютого 2022 року", "31.04.2022", "30 февраля",
                                  "29 лютого 2023", "June 31, 2022"])
def test_days_that_do_not_exist_are_ignored(text: str) -> None:
    assert find_dates(text, None, ANCHOR) == []


def test_offsets_slice_back_to_the_phrase() -> None:
    text = "Повідомлення: 🙂 наприкінці\u00a0червня 2022 року, і «з 1 по 15 березня».\n" * 3
    found = find_dates(text, "uk", ANCHOR)
    assert len(found) == 6
    for mention in found:
        assert text[mention.start:mention.end] == mention.text
    assert found[0].text == "наприкінці\u00a0червня 2022 року"


def test_an_unknown_language_tries_all_three() -> None:
    text = "23 червня і 5 июля, late June"
    assert [m.text for m in find_dates(text, "be", ANCHOR)] == ["23 червня", "5 июля",
                                                                "late June"]


def test_a_huge_text_is_read_up_to_the_limit() -> None:
    block = "з 1 по 15 березня 2022 року облави тривали, а вчора знову. " * 50
    text = block * (100_000_000 // len(block))  # about 100 MB of characters
    found = find_dates(text, "uk", ANCHOR)
    assert found and found[-1].end <= dates.MAX_CHARS
    assert len(found) < dates.MAX_CHARS // 20


@pytest.mark.parametrize("text", [" " * 200_000, "з " * 100_000, "1-" * 100_000,
                                  "червня " * 30_000, "1." * 100_000])
def test_pathological_texts_finish(text: str) -> None:
    find_dates(text, None, ANCHOR)  # bounded: linear regular expressions, no backtracking


@pytest.mark.parametrize(("language", "text", "found"), [
    ("uk", "Його затримували 5 і 7 березня 2022 року.",
     [("5", D(2022, 3, 5)), ("7 березня 2022 року", D(2022, 3, 7))]),
    ("ru", "Их задерживали 5 и 7 марта.", [("5", D(2023, 3, 5)), ("7 марта", D(2023, 3, 7))]),
    ("en", "He was held on June 5 and 7, 2022.",
     [("on June 5", D(2022, 6, 5)), ("7, 2022", D(2022, 6, 7))]),
])
def test_two_days_joined_by_and_are_two_dates(language: str, text: str,
                                              found: list[tuple[str, date]]) -> None:
    assert [(m.text, m.first, m.last, m.precision) for m in find_dates(text, language, ANCHOR)
            ] == [(surface, day, day, "day") for surface, day in found]
