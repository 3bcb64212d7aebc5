"""Names in uk/ru/en texts: listed organisations in every inflection, numbered units, people
by their shape, natasha's second opinion on Russian, and what is left alone.

The texts are written for these tests, and every person in them is fictional; the
institutions (military commissariats, the FSB, the «ДНР», the Center for Civil Liberties,
the Red Cross) are public. A mention is read back as (kind, value, text as written); offsets
are checked where a test is about them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from svidok.enrich import names
from svidok.enrich.enricher import Annotation, EnrichError, Subject
from svidok.enrich.names import (
    MAX_TEXT_CHARS,
    NAMES_VERSION,
    NATASHA_MAX_CHARS,
    NameMention,
    NamesEnricher,
    NamesError,
    find_names,
    natasha_mentions,
    read_data_json,
)

Found = tuple[str, str, str]  # (kind, value, text)


def named(text: str, language: str | None = None, use_natasha: bool = False) -> list[Found]:
    return [(m.kind, m.value, m.text)
            for m in find_names(text, language, use_natasha=use_natasha)]


def surest(text: str, language: str | None = None, use_natasha: bool = False
           ) -> list[tuple[str, float, str]]:
    """(text, confidence, how) of each mention: what a test of confidence reads."""
    return [(m.text, m.confidence, m.how)
            for m in find_names(text, language, use_natasha=use_natasha)]


def subject(text: str | None, language: str | None) -> Subject:
    return Subject(item_id=7, kind="message", media_type=None, name="post", size=None,
                   sha256=None, record_sha256=None, record=None, occurred_at=None,
                   text=text, language=language)


def org(value: str, text: str) -> Found:
    return ("organisation", value, text)


def unit(value: str, text: str | None = None) -> Found:
    return ("unit", value, value if text is None else text)


def person(text: str) -> Found:
    return ("person", text, text)


# --------------------------------------------------------------------------- organisations


@pytest.mark.parametrize(("text", "value", "surface"), [
    # Military commissariats, Ukrainian, in every case the word takes
    ("Його викликали до військкомату.", "military_commissariat", "військкомату"),
    ("Він провів ніч у військкоматі.", "military_commissariat", "військкоматі"),
    ("Військкомати працюють без вихідних.", "military_commissariat", "Військкомати"),
    ("Облави організовують разом із військкоматами.", "military_commissariat",
     "військкоматами"),
    ("Людей везли повз воєнкомат.", "military_commissariat", "воєнкомат"),
    ("Співробітники військового комісаріату чекали біля ринку.", "military_commissariat",
     "військового комісаріату"),
    ("Повістку з ТЦК та СП принесли вночі.", "military_commissariat", "ТЦК та СП"),
    # ... and Russian
    ("Его отвезли в военкомат.", "military_commissariat", "военкомат"),
    ("Он всю ночь просидел в военкомате.", "military_commissariat", "военкомате"),
    ("С военкоматом спорить бесполезно.", "military_commissariat", "военкоматом"),
    ("Сотрудники военного комиссариата стояли у входа.", "military_commissariat",
     "военного комиссариата"),
    # ... and English, plurals too
    ("Men were taken to the military commissariat.", "military_commissariat",
     "military commissariat"),
    ("Military commissariats sent out notices.", "military_commissariat",
     "Military commissariats"),
    ("He was ordered to report to military enlistment offices.", "military_commissariat",
     "military enlistment offices"),
    # The FSB, the Rosgvardia, the SBU
    ("Його допитували співробітники ФСБ.", "fsb", "ФСБ"),
    ("Сотрудники Федеральной службы безопасности провели обыск.", "fsb",
     "Федеральной службы безопасности"),
    ("FSB officers searched the flat.", "fsb", "FSB"),
    ("Сотрудники Росгвардии перекрыли улицу.", "rosgvardia", "Росгвардии"),
    ("Бійці росгвардії перекрили вулицю.", "rosgvardia", "росгвардії"),
    ("Його затримали працівники Служби безпеки України.", "sbu",
     "Служби безпеки України"),
    # The «ДНР» and «ЛНР», abbreviated and in full
    ("Повістки роздають від імені «ДНР».", "dpr", "ДНР"),
    ("У так званій Донецькій народній республіці оголосили мобілізацію.", "dpr",
     "Донецькій народній республіці"),
    ("В Луганской народной республике закрыли выезд.", "lpr",
     "Луганской народной республике"),
    ("Officials of the Donetsk People's Republic denied it.", "dpr",
     "Donetsk People's Republic"),
    ("Men of the LPR militia were seen there.", "lpr", "LPR"),
    # The Center for Civil Liberties, whichever language and spelling
    ("Центр громадянських свобод зібрав свідчення.", "center_for_civil_liberties",
     "Центр громадянських свобод"),
    ("По данным Центра гражданских свобод, задержаны сотни мужчин.",
     "center_for_civil_liberties", "Центра гражданских свобод"),
    ("The Centre for Civil Liberties documented the raids.", "center_for_civil_liberties",
     "Centre for Civil Liberties"),
    # Other institutions of the list
    ("Його тримали в підвалі комендатури.", "commandants_office", "комендатури"),
    ("Доступа к пленным у Международного комитета Красного Креста нет.", "icrc",
     "Международного комитета Красного Креста"),
    ("Після допиту його перевели до СІЗО.", "pretrial_detention_centre", "СІЗО"),
    ("Чоловіків везли через фільтраційний табір.", "filtration_point",
     "фільтраційний табір"),
])
def test_a_listed_organisation_is_found_in_any_inflection(text: str, value: str,
                                                          surface: str) -> None:
    assert named(text) == [org(value, surface)]


@pytest.mark.parametrize(("text", "found"), [
    ("Вагнерівці стояли на блокпосту.", [unit("wagner", "Вагнерівці")]),
    ("Вагнеровцы и кадыровцы стояли на блокпосту.",
     [unit("wagner", "Вагнеровцы"), unit("akhmat", "кадыровцы")]),
    ("Його відправили до ПВК «Вагнер».", [unit("wagner", "ПВК «Вагнер")]),
    ("Fighters of the Wagner Group took over the school.", [unit("wagner", "Wagner Group")]),
    ("Кадирівців бачили біля лікарні.", [unit("akhmat", "Кадирівців")]),
])
def test_named_forces_are_units_from_the_list(text: str, found: list[Found]) -> None:
    assert named(text) == found


@pytest.mark.parametrize(("capitals", "lower"), [
    ("Співробітники ФСБ прийшли вранці.", "Співробітники фсб прийшли вранці."),
    ("Повістки від імені ДНР.", "Повістки від імені днр."),
    ("Його викликали до ТЦК.", "Його викликали до тцк."),
    ("The DPR announced a mobilisation.", "The dpr announced a mobilisation."),
    ("The CCL published a report.", "The ccl published a report."),
    ("Officers of the SBU came.", "Officers of the sbu came."),
])
def test_abbreviations_count_only_when_written_in_capitals(capitals: str, lower: str) -> None:
    assert len(named(capitals)) == 1
    assert named(lower) == []


# --------------------------------------------------------------------------- context


@pytest.mark.parametrize(("text", "found"), [
    # Next to a unit word, or in quotes
    ("Його забрали в батальйон «Спарта».", [unit("sparta_battalion", "Спарта")]),
    ("Він служив у батальйоні Восток.", [unit("vostok_battalion", "Восток")]),
    ("Бійці «Пятнашки» стояли в селі.", [unit("pyatnashka_brigade", "Пятнашки")]),
    ("Його записали до бригади Кальмиус.", [unit("kalmius_brigade", "Кальмиус")]),
    ("Він воював у бригаді «Кальміус».", [unit("kalmius_brigade", "Кальміус")]),
    ("The Somali battalion held the district.", [unit("somali_battalion", "Somali")]),
    # Alone they are the common words, countries and cities they also are
    ("Восток — дело тонкое.", []),
    ("Спарта — давньогрецьке місто.", []),
    ("Somalia is a country in East Africa.", []),
    ("Ми їхали на схід до світанку.", []),
    ("Граємо в пятнашки во дворе.", []),
    # A unit word in the sentence before is no context
    ("Його перевели в інший батальйон. Схід країни досі під обстрілами.", []),
    ("Він служить у батальйоні «Восток». Восток помнит об этом.",
     [unit("vostok_battalion", "Восток")]),
    # Lower case is never the name, even next to a unit word
    ("батальйон спарта вийшов з міста", []),
])
def test_names_that_are_common_words_need_a_unit_word_or_quotes(text: str,
                                                                found: list[Found]) -> None:
    assert named(text) == found


# --------------------------------------------------------------------------- units


@pytest.mark.parametrize(("text", "surface", "confidence"), [
    ("Бійці в/ч 12345 стояли на в'їзді.", "в/ч 12345", 0.85),
    ("Його приписали до в/ч №54321.", "в/ч №54321", 0.85),
    ("Військова частина А1234 розташована в школі.", "Військова частина А1234", 0.85),
    ("Его отправили в войсковую часть 12345.", "войсковую часть 12345", 0.85),
    ("He was assigned to military unit 12345.", "military unit 12345", 0.85),
    ("Його відправили до 105-го полку.", "105-го полку", 0.7),
    ("Там стояв 105-й полк.", "105-й полк", 0.7),
    ("Він служив у 3-й окремій штурмовій бригаді.", "3-й окремій штурмовій бригаді", 0.7),
    ("Он служил в 1-м армейском корпусе.", "1-м армейском корпусе", 0.7),
    ("Его зачислили в 150-ю мотострелковую дивизию.", "150-ю мотострелковую дивизию", 0.7),
    ("Men were sent to the 1st Army Corps.", "1st Army Corps", 0.7),
    ("The 150th Motor Rifle Division moved in.", "150th Motor Rifle Division", 0.7),
])
def test_numbered_units_by_pattern(text: str, surface: str, confidence: float) -> None:
    (found,) = find_names(text)
    assert (found.kind, found.value, found.text, found.how) == ("unit", surface, surface,
                                                                "pattern")
    assert found.confidence == confidence
    assert text[found.start:found.end] == surface


@pytest.mark.parametrize("text", [
    "Йому 25 років, у 2022 році він мав 3 дітей.",
    "У 2022 році армія відступила.",
    "In 2022 the army retreated twice.",
    "Квартира 12345 на п'ятому поверсі.",
    "Of the 40 men, 12 were released in the 2nd week.",
])
def test_numbers_without_a_unit_are_no_units(text: str) -> None:
    assert named(text) == []


# --------------------------------------------------------------------------- people


@pytest.mark.parametrize(("text", "surface", "confidence"), [
    # A first name (and a patronymic) before a surname: pymorphy3 knows the first name
    ("Вчора Тарас Шевчук повернувся додому.", "Тарас Шевчук", 0.6),
    ("Свідок Ірина Петрівна Ковальчук розповіла про облаву.", "Ірина Петрівна Ковальчук",
     0.6),
    ("За словами правозахисниці Оксани Дмитренко, людей тримали в підвалі.",
     "Оксани Дмитренко", 0.6),
    ("Вчера Ольга Белова пришла к зданию суда.", "Ольга Белова", 0.6),
    # A role word before a capitalised word: surer when pymorphy3 knows it as a surname
    ("Командира Гнатюка бачили біля школи.", "Гнатюка", 0.55),
    ("Мы говорили со следователем Морозовым.", "Морозовым", 0.55),
    ("Офицер Лебедев сказал, что его отправят на фронт.", "Лебедев", 0.55),
    ("The statement was signed by Mr. Harlow.", "Harlow", 0.4),
    ("Witness Maria Kovalenko told researchers about the raid.", "Maria Kovalenko", 0.4),
    # A Latin first name before a surname-shaped word, mid-sentence
    ("Researcher Anna Tkachenko collected the testimonies.", "Anna Tkachenko", 0.35),
    # A surname first, as in lists and documents
    ("Список: Кравчук Олег Миколайович, 1985 р. н.", "Кравчук Олег Миколайович", 0.5),
    # Initials before or after a surname
    ("Лист підписала О. В. Мельник.", "О. В. Мельник", 0.55),
    ("Письмо подписала Г. Н. Соколова.", "Г. Н. Соколова", 0.55),
    ("The appeal was written by O. Melnyk.", "O. Melnyk", 0.55),
    ("Рапорт подписал Зайцев Н. П.", "Зайцев Н. П.", 0.5),
])
def test_people_by_their_shape_are_low_confidence_suggestions(text: str, surface: str,
                                                              confidence: float) -> None:
    (found,) = find_names(text)
    assert (found.kind, found.value, found.text, found.how) == ("person", surface, surface,
                                                                "pattern")
    assert found.confidence == confidence
    assert text[found.start:found.end] == surface


@pytest.mark.parametrize("text", [
    "Надія помирає останньою.",
    "Віра і Надія допомагали сусідам.",
    "Слава Україні! Героям слава!",
    "Любов до рідного краю не зникає.",
    "Вера в победу у них есть.",
    "Сьогодні в Горлівці знову тихо.",
    "According to the Report, Russian Forces shelled the Town.",
    "The Kremlin said on Monday that Talks were over.",
])
def test_first_names_and_capitals_alone_are_nobody(text: str) -> None:
    assert named(text) == []


# --------------------------------------------------------------------------- overlaps


@pytest.mark.parametrize(("text", "found"), [
    # The longest of two list names over the same words
    ("Представники Міжнародного комітету Червоного Хреста не мали доступу.",
     [org("icrc", "Міжнародного комітету Червоного Хреста")]),
    ("Він служив у ТЦК та СП.", [org("military_commissariat", "ТЦК та СП")]),
    ("Fighters of PMC Wagner left.", [unit("wagner", "PMC Wagner")]),
    # ... even where they only partly overlap
    ("The UN Human Rights Monitoring Mission in Ukraine reported.",
     [org("un_hrmmu", "Human Rights Monitoring Mission in Ukraine")]),
    # A list name hides the person pattern over it: «голова» is a role word
    ("Оксана Дмитренко, голова Центру громадянських свобод, виступила.",
     [person("Оксана Дмитренко"), org("center_for_civil_liberties",
                                      "Центру громадянських свобод")]),
    ("Командир Вагнер прибув.", [unit("wagner", "Вагнер")]),
    # A role word and a first name find the same person: one mention, the surer
    ("Свидетель Мария Сидоренко рассказала о задержании.", [person("Мария Сидоренко")]),
    # A listed organisation and a numbered unit side by side stay two
    ("Сотрудники военкомата в/ч 12345 приехали.",
     [org("military_commissariat", "военкомата"), unit("в/ч 12345")]),
])
def test_overlapping_mentions_keep_the_longest(text: str, found: list[Found]) -> None:
    assert named(text) == found


def test_of_two_mentions_on_the_same_words_the_surer_is_kept() -> None:
    # «Свидетель» gives 0.55 (a role word before a known first name), the first name and
    # surname 0.6; both cover «Мария Сидоренко».
    assert surest("Свидетель Мария Сидоренко рассказала.") == [
        ("Мария Сидоренко", 0.6, "pattern")]


# --------------------------------------------------------------------------- whole texts

UK_POST = ("23 червня у Макіївці співробітники військкомату затримали чоловіків на блокпосту, "
           "відібрали паспорти і вручили повістки. За словами правозахисниці Оксани "
           "Дмитренко, людей тримали в підвалі комендатури, а командир Гнатюк погрожував "
           "відправити всіх на фронт.")
RU_LETTER = ("Здравствуйте. Пишу вам из Горловки. 5 июля моего сына Дмитрия задержали "
             "сотрудники военкомата прямо у подъезда. У него изъяли паспорт, а потом отвезли "
             "в комендатуру. Офицер Лебедев сказал, что его отправят на фронт. С тех пор нам "
             "не разрешают выехать из города. Помогите, пожалуйста.\nГ. Н. Соколова")
EN_REPORT = ("According to the Center for Civil Liberties, in June 2023 officers of the "
             "military commissariats in the so-called DPR detained at least 40 men at "
             "checkpoints in Makiivka. Their passports were confiscated and several were sent "
             "to the front with the 1st Army Corps. Witness Maria Kovalenko told researchers "
             "that her husband was severely beaten and held in a basement for a week.")
MIXED_POST = ("Терміново!!! У Горлівці знову облава 😡 Військкомат ДНР разом з Росгвардией "
              "забирає чоловіків просто з вулиць, у хлопців забрали паспорти. Кого не "
              "отпустили — отправили в 1-й армейский корпус. Не выходите из дома!")


@pytest.mark.parametrize(("text", "found"), [
    (UK_POST, [org("military_commissariat", "військкомату"), person("Оксани Дмитренко"),
               org("commandants_office", "комендатури"), person("Гнатюк")]),
    (RU_LETTER, [org("military_commissariat", "военкомата"),
                 org("commandants_office", "комендатуру"), person("Лебедев"),
                 person("Г. Н. Соколова")]),
    (EN_REPORT, [org("center_for_civil_liberties", "Center for Civil Liberties"),
                 org("military_commissariat", "military commissariats"), org("dpr", "DPR"),
                 unit("1st Army Corps"), person("Maria Kovalenko")]),
    (MIXED_POST, [org("military_commissariat", "Військкомат"), org("dpr", "ДНР"),
                  org("rosgvardia", "Росгвардией"), unit("1-й армейский корпус")]),
], ids=["uk-telegram-post", "ru-letter", "en-ngo-report", "mixed-uk-ru-post"])
def test_names_in_a_whole_text(text: str, found: list[Found]) -> None:
    assert named(text) == found
    # The language is only a hint: lists and patterns read all three languages anyway.
    for language in ("uk", "ru", "en", None):
        assert named(text, language) == found


def test_mentions_come_in_text_order_and_slice_back_to_their_words() -> None:
    mentions = find_names(UK_POST)
    assert [m.start for m in mentions] == sorted(m.start for m in mentions)
    for m in mentions:
        assert UK_POST[m.start:m.end] == m.text
    assert (mentions[0].start, mentions[0].end) == (35, 47)


@pytest.mark.parametrize("text", [
    "Сьогодні сонячно, без опадів. Вітер західний, 3–5 м/с. Вночі до +12.",
    "Завтра в Донецке облачно, временами дождь, температура днём до плюс восемнадцати.",
    "Tomorrow will be sunny with light winds from the north. Highs of 24 degrees.",
    "Візьміть два яйця, склянку борошна і щіпку солі. Змішайте та випікайте 20 хвилин "
    "при 180 градусах.",
    "Add 200 g of flour, two eggs and a pinch of salt; bake for 20 minutes at 180 °C.",
    "",
])
def test_plain_texts_name_nobody(text: str) -> None:
    assert find_names(text) == []


def test_a_text_over_the_limit_is_refused_without_quoting_it() -> None:
    with pytest.raises(NamesError, match="over the limit") as raised:
        find_names("Військкомат " * (MAX_TEXT_CHARS // 12 + 1))
    assert "Військкомат" not in str(raised.value)


# --------------------------------------------------------------------------- natasha


def test_natasha_confirms_a_mention_found_on_the_same_span() -> None:
    # «Олега» is explained by nothing else, so natasha reads the sentence.
    text = "Майор Кузнецов из ФСБ встретил Олега."
    assert surest(text, "ru") == [("Кузнецов", 0.55, "pattern"), ("ФСБ", 0.8, "list")]
    # Half the remaining doubt goes: 0.55 → 0.775, 0.8 → 0.9, and at most 0.95.
    assert surest(text, "ru", use_natasha=True) == [("Кузнецов", 0.775, "pattern+natasha"),
                                                   ("ФСБ", 0.9, "list+natasha"),
                                                   ("Олега", 0.6, "natasha")]
    assert surest("Вчера Следственный комитет возбудил дело против Олега.", "ru",
                  use_natasha=True) == [("Следственный комитет", 0.95, "list+natasha"),
                                        ("Олега", 0.6, "natasha")]


def test_natasha_adds_people_and_organisations_nothing_else_found() -> None:
    text = ("Письмо написала Ольга из Горловки. Майор Кузнецов-Белый приехал из Донецка. "
            "Организация «Мемориал» помогает.")
    assert named(text, "ru") == []
    assert [(m.kind, m.value, m.text, m.confidence, m.how)
            for m in find_names(text, "ru", use_natasha=True)] == [
        ("person", "Ольга", "Ольга", 0.6, "natasha"),
        ("person", "Кузнецов-Белый", "Кузнецов-Белый", 0.6, "natasha"),
        ("organisation", "Мемориал", "Мемориал", 0.5, "natasha"),
    ]


def test_natasha_spans_that_cut_across_ours_are_left_out() -> None:
    text = "Сотрудники Донецкого республиканского военкомата задержали Олега."
    # natasha reads «Донецкого республиканского военкомата» as one organisation...
    assert ("Донецкого республиканского военкомата", "natasha") in [
        (m.text, m.how) for m in natasha_mentions(text)]
    # ... which cuts across the list's «военкомата»: that is kept, natasha's span is not.
    assert surest(text, "ru", use_natasha=True) == [("военкомата", 0.8, "list"),
                                                   ("Олега", 0.6, "natasha")]


@dataclass
class NatashaSpy:
    """Stands in for natasha: records the spans it was asked to read, finds nothing."""

    calls: list[list[tuple[int, int]] | None] = field(default_factory=list)

    def __call__(self, text: str, spans: Sequence[tuple[int, int]] | None = None
                 ) -> list[NameMention]:
        self.calls.append(None if spans is None else list(spans))
        return []


@pytest.fixture
def natasha_spy(monkeypatch: pytest.MonkeyPatch) -> NatashaSpy:
    spy = NatashaSpy()
    monkeypatch.setattr(names, "natasha_mentions", spy)
    return spy


def test_natasha_reads_only_sentences_with_a_capitalised_word_nothing_explained(
        natasha_spy: NatashaSpy) -> None:
    text = ("Сотрудники ФСБ задержали мужчин. Андрей Смирнов пришёл в военкомат. "
            "Вчера в Донецке задержали Олега. Погода была хорошая. "
            "Потом в Макеевке и Горловке забирали мужчин. Приехал Петров.")
    find_names(text, "ru", use_natasha=True)
    # A sentence's first word is capitalised anyway; «ФСБ», «Андрей Смирнов» are explained
    # by the lists and patterns, «Макеевке», «Горловке» by the gazetteer. «Петров» is a
    # surname to pymorphy3, so a place of that name does not explain it.
    olega = text.index("Вчера")
    petrov = text.index("Приехал")
    assert natasha_spy.calls == [[(olega, text.index(".", olega)),
                                  (petrov, text.index(".", petrov))]]


@pytest.mark.parametrize(("language", "use_natasha"), [
    ("uk", True), ("en", True), (None, True), ("ru", False)])
def test_natasha_runs_only_on_russian_and_when_asked(natasha_spy: NatashaSpy,
                                                     language: str | None,
                                                     use_natasha: bool) -> None:
    find_names("Вчера в Донецке задержали Олега.", language, use_natasha=use_natasha)
    assert natasha_spy.calls == []


def test_natasha_keeps_the_texts_offsets_when_given_spans() -> None:
    text = "Погода хорошая. Вчера майор Кузнецов уехал. Ничего нового."
    start = text.index("Вчера")
    found = natasha_mentions(text, [(start, text.index(".", start))])
    assert [(m.text, m.kind, m.how) for m in found] == [("Кузнецов", "person", "natasha")]
    assert text[found[0].start:found[0].end] == "Кузнецов"


def test_natasha_refuses_more_than_it_can_read() -> None:
    with pytest.raises(NamesError, match="natasha"):
        natasha_mentions("Слово. " * (NATASHA_MAX_CHARS // 7 + 1))


# --------------------------------------------------------------------------- the enricher


def test_the_enricher_reports_each_mention_as_a_name_annotation() -> None:
    output = NamesEnricher().run(subject(UK_POST, "uk"))
    assert output.notes == []
    assert output.annotations == [
        Annotation("name", "military_commissariat", 35, 47, 0.8,
                   {"text": "військкомату", "kind": "organisation", "how": "list"}),
        Annotation("name", "Оксани Дмитренко", 147, 163, 0.6,
                   {"text": "Оксани Дмитренко", "kind": "person", "how": "pattern"}),
        Annotation("name", "commandants_office", 189, 200, 0.8,
                   {"text": "комендатури", "kind": "organisation", "how": "list"}),
        Annotation("name", "Гнатюк", 213, 219, 0.55,
                   {"text": "Гнатюк", "kind": "person", "how": "pattern"}),
    ]
    for a in output.annotations:
        assert a.data is not None and UK_POST[a.start:a.end] == a.data["text"]


def test_the_enricher_asks_natasha_about_russian_texts() -> None:
    text = "Майор Кузнецов из ФСБ встретил Олега."
    output = NamesEnricher().run(subject(text, "ru"))
    assert output.annotations == [
        Annotation("name", "Кузнецов", 6, 14, 0.775,
                   {"text": "Кузнецов", "kind": "person", "how": "pattern+natasha"}),
        Annotation("name", "fsb", 18, 21, 0.9,
                   {"text": "ФСБ", "kind": "organisation", "how": "list+natasha"}),
        Annotation("name", "Олега", 31, 36, 0.6,
                   {"text": "Олега", "kind": "person", "how": "natasha"}),
    ]


def test_the_enricher_does_not_ask_natasha_about_other_languages(
        natasha_spy: NatashaSpy) -> None:
    NamesEnricher().run(subject("Вчера в Донецке задержали Олега.", "uk"))
    NamesEnricher().run(subject("Вчера в Донецке задержали Олега.", None))
    assert natasha_spy.calls == []


def test_the_enricher_accepts_only_items_with_text() -> None:
    enricher = NamesEnricher()
    assert enricher.accepts(subject("Військкомат.", "uk"))
    assert not enricher.accepts(subject("", "uk"))
    assert not enricher.accepts(subject(None, None))
    assert enricher.needs == ("language",)


def test_a_very_long_text_is_read_up_to_the_limit_with_a_note() -> None:
    block = "Сьогодні сонячно, без опадів. "
    text = block * (MAX_TEXT_CHARS // len(block)) + "Його викликали до військкомату."
    assert len(text) > MAX_TEXT_CHARS
    output = NamesEnricher().run(subject(text, "uk"))
    assert output.notes == [f"names were looked for in the first {MAX_TEXT_CHARS:,} characters"]
    assert output.annotations == []  # the commissariat is past the cut


def test_natasha_leaves_a_russian_text_it_cannot_read_to_the_lists(
        natasha_spy: NatashaSpy) -> None:
    text = "Сегодня солнечно. " * (NATASHA_MAX_CHARS // 18) + "Сотрудники ФСБ ушли."
    output = NamesEnricher().run(subject(text, "ru"))
    assert output.notes == [
        f"natasha read none of this text, longer than {NATASHA_MAX_CHARS:,} characters"]
    assert [(a.value, a.data["how"] if a.data else None) for a in output.annotations] == [
        ("fsb", "list")]
    assert natasha_spy.calls == []


def test_the_version_names_the_matcher_the_list_and_natasha() -> None:
    # Changing the matching rules bumps _MATCHER_VERSION, the list its "version".
    listed = read_data_json("organisations.json", NamesError)["version"]
    version = NamesEnricher().version
    assert version == f"{names._MATCHER_VERSION}+organisations.{listed}+natasha"
    assert version.startswith(NAMES_VERSION) and len(version) <= 64


# --------------------------------------------------------------------------- a broken list


@dataclass
class PackagedData:
    """Stands in for ``importlib.resources``: the data files hold these texts."""

    texts: dict[str, str]
    name: str = ""

    def files(self, package: str) -> PackagedData:
        return self

    def joinpath(self, *parts: str) -> PackagedData:
        return PackagedData(self.texts, parts[-1])

    def read_text(self, encoding: str) -> str:
        if self.name not in self.texts:
            raise FileNotFoundError(self.name)
        return self.texts[self.name]


@pytest.fixture
def fresh_list() -> Iterator[None]:
    """The list is read once per process: read it again, and again after the test."""
    names._name_list.cache_clear()
    yield
    names._name_list.cache_clear()


@pytest.mark.parametrize(("packaged", "message"), [
    ({}, "cannot read the packaged organisations.json: FileNotFoundError"),
    ({"organisations.json": "{\"version\": "}, "cannot read the packaged "
                                                "organisations.json: JSONDecodeError"),
    ({"organisations.json": "[]"}, "the packaged organisations.json has no version"),
    ({"organisations.json": "{\"version\": 3}"}, "organisations.json has no version"),
], ids=["missing", "not-json", "a-list", "a-number-for-version"])
def test_an_unreadable_list_is_an_error_naming_the_file(
        fresh_list: None, monkeypatch: pytest.MonkeyPatch, packaged: dict[str, str],
        message: str) -> None:
    monkeypatch.setattr(names, "resources", PackagedData(packaged))
    with pytest.raises(NamesError, match=message):
        find_names("Його викликали до військкомату.")


def serving(data: Mapping[str, Any]) -> Callable[[str, type[EnrichError]], Mapping[str, Any]]:
    """A ``read_data_json`` that reads ``data`` whatever file is asked for."""

    def read(name: str, error: type[EnrichError]) -> Mapping[str, Any]:
        return data

    return read


ENTRY = {"id": "military_commissariat", "kind": "organisation", "names": ["військкомат"]}


@pytest.mark.parametrize(("data", "message"), [
    ({"version": "t", "unit_words": [], "entries": [{**ENTRY, "kind": "person"}]},
     "organisations.json: bad or repeated entry 'military_commissariat'"),
    ({"version": "t", "unit_words": [], "entries": [ENTRY, ENTRY]},
     "organisations.json: bad or repeated entry 'military_commissariat'"),
    ({"version": "t", "unit_words": [], "entries": [{"id": "x", "kind": "unit"}]},
     "organisations.json is malformed: KeyError"),
    ({"version": "t", "entries": [ENTRY]}, "organisations.json is malformed: KeyError"),
    ({"version": "t", "unit_words": [], "entries": 5},
     "organisations.json is malformed: TypeError"),
], ids=["a-person-listed", "an-id-repeated", "no-names", "no-unit-words", "entries-not-a-list"])
def test_a_malformed_list_is_an_error_naming_the_file(
        fresh_list: None, monkeypatch: pytest.MonkeyPatch, data: dict[str, Any],
        message: str) -> None:
    monkeypatch.setattr(names, "read_data_json", serving(data))
    with pytest.raises(NamesError, match=message):
        find_names("Його викликали до військкомату.")


def test_a_small_list_of_its_own_is_read_the_same_way(fresh_list: None,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    data = {"version": "t", "unit_words": ["батальйон"], "entries": [
        ENTRY, {"id": "sparta", "kind": "unit", "names": ["спарта"], "context": True,
                "confidence": 0.5}]}
    monkeypatch.setattr(names, "read_data_json", serving(data))
    assert surest("У військкоматі сказали, що батальйон «Спарта» набирає людей.") == [
        ("військкоматі", 0.8, "list"), ("Спарта", 0.5, "list")]
