"""Violation types in uk/ru/en texts: the taxonomy, which categories words suggest and how
sure they are, the words given as evidence, and the words with everyday senses that must not
suggest anything on their own.

The texts are written for these tests, and every person in them is fictional. A suggestion's
confidence follows one rule, 1 − Π(1 − weight) over the distinct patterns that matched,
capped at 0.95; a category is suggested from 0.3 on. Patterns weigh 0.45 for one word and
0.65 for more unless violations.json says otherwise (0.25 for words with an everyday sense,
which only support other evidence).
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest

from svidok.enrich import names, violations
from svidok.enrich.enricher import Annotation, EnrichError, Subject
from svidok.enrich.names import MAX_TEXT_CHARS, NamesEnricher, TokenisedText, read_data_json
from svidok.enrich.violations import (
    MAX_CONFIDENCE,
    MAX_WORDS,
    MIN_CONFIDENCE,
    TAXONOMY_VERSION,
    ViolationsEnricher,
    ViolationsError,
    find_violations,
    taxonomy,
)

ONE, MORE = 0.45, 0.65  # the default weights of a one-word pattern and a longer one
EVERYDAY = 0.25  # a word with an everyday sense too: «блокпост», «затримати», "checkpoint"

SEEDED = ("compelled_service", "document_confiscation", "arbitrary_detention",
          "deportation_forcible_transfer", "movement_restriction", "ill_treatment")


def rule(*weights: float) -> float:
    """The confidence of a category whose distinct patterns of these weights matched."""
    return round(min(MAX_CONFIDENCE, 1 - math.prod(1 - w for w in weights)), 3)


def suggested(text: str, language: str | None = None) -> dict[str, float]:
    return {s.category: s.confidence for s in find_violations(text, language)}


def evidence(text: str, language: str | None = None
             ) -> dict[str, tuple[float, list[str]]]:
    """Each suggested category's confidence and its words as written."""
    return {s.category: (s.confidence, [w for _, _, w in s.words])
            for s in find_violations(text, language)}


def subject(text: str | None, language: str | None) -> Subject:
    return Subject(item_id=7, kind="message", media_type=None, name="post", size=None,
                   sha256=None, record_sha256=None, record=None, occurred_at=None,
                   text=text, language=language)


# --------------------------------------------------------------------------- the taxonomy


def test_the_six_seeded_conscription_categories_come_first() -> None:
    categories = taxonomy()
    assert tuple(c.id for c in categories[:6]) == SEEDED
    assert [c.id for c in categories if c.group == "conscription"] == list(SEEDED)
    assert {c.group for c in categories[6:]} == {"general"}


def test_the_general_list() -> None:
    assert [c.id for c in taxonomy() if c.group == "general"] == [
        "killing_of_civilians", "enforced_disappearance", "sexual_violence",
        "attack_on_civilians", "pillage_property", "forced_labour", "hostage_taking",
        "violations_against_children", "forced_citizenship"]


@pytest.mark.parametrize(("category", "label", "legal_basis"), [
    ("compelled_service", "Compelled service in hostile forces (forced conscription)",
     ("GCIV art. 51", "RS art. 8(2)(a)(v)", "RS art. 8(2)(b)(xv)")),
    ("document_confiscation", "Confiscation of identity documents",
     ("ICCPR art. 12(2) (Human Rights Committee General Comment 27, para. 9)",
      "GCIV art. 97")),
    ("arbitrary_detention", "Arbitrary detention",
     ("GCIV arts. 42, 43 and 78", "RS art. 8(2)(a)(vii) (unlawful confinement)",
      "ICCPR art. 9")),
    ("deportation_forcible_transfer", "Deportation or forcible transfer",
     ("GCIV art. 49", "RS art. 8(2)(a)(vii)", "RS art. 8(2)(b)(viii)", "RS art. 7(1)(d)")),
    ("movement_restriction", "Restriction of freedom of movement",
     ("ICCPR art. 12(1)-(2)", "GCIV art. 27 (control measures only as necessary)",
      "GCIV art. 48")),
    ("ill_treatment", "Torture and ill-treatment",
     ("GCIV art. 32", "GCIV art. 31", "RS art. 8(2)(a)(ii)", "RS art. 8(2)(a)(iii)",
      "RS art. 8(2)(b)(xxi)")),
])
def test_a_seeded_category_names_its_legal_basis(category: str, label: str,
                                                 legal_basis: tuple[str, ...]) -> None:
    (found,) = (c for c in taxonomy() if c.id == category)
    assert found.labels["en"] == label
    assert found.legal_basis == legal_basis
    assert found.group == "conscription"


def test_every_category_has_labels_in_english_ukrainian_and_russian() -> None:
    cyrillic = re.compile(r"^[\u0400-\u04FF0-9 ,.'’()-]+$")
    for category in taxonomy():
        assert set(category.labels) == {"en", "uk", "ru"}, category.id
        assert category.labels["en"].isascii(), category.id
        assert cyrillic.match(category.labels["uk"]), category.id
        assert cyrillic.match(category.labels["ru"]), category.id
        assert category.legal_basis, category.id
    by_id = {c.id: c for c in taxonomy()}
    assert by_id["compelled_service"].labels["uk"].startswith("Примус до служби")
    assert by_id["arbitrary_detention"].labels["ru"] == "Произвольное задержание"


# --------------------------------------------------------------------------- categories


@pytest.mark.parametrize(("text", "category", "words"), [
    # Compelled service
    ("Йому вручили повістку до військкомату.", "compelled_service",
     ["повістку", "військкомату"]),
    ("Чоловіків примусово мобілізували.", "compelled_service", ["примусово", "мобілізували"]),
    ("Мужчин принудительно мобилизовали.", "compelled_service",
     ["принудительно", "мобилизовали"]),
    ("Его забрали в армию прямо с улицы.", "compelled_service", ["забрали", "в", "армию"]),
    ("Men were forcibly conscripted and sent to the front.", "compelled_service",
     ["forcibly", "conscripted", "sent", "to", "the", "front"]),
    # Confiscation of identity documents
    ("У нього відібрали паспорт.", "document_confiscation", ["відібрали", "паспорт"]),
    ("Паспорти забрали ще на блокпосту.", "document_confiscation", ["Паспорти", "забрали"]),
    ("У неё отобрали документы.", "document_confiscation", ["отобрали", "документы"]),
    ("Soldiers confiscated their passports.", "document_confiscation",
     ["confiscated", "passports"]),
    # Arbitrary detention
    ("Його заарештували і тримали в підвалі.", "arbitrary_detention",
     ["заарештували", "тримали", "в", "підвалі"]),
    ("Его задержали и держали в подвале.", "arbitrary_detention",
     ["задержали", "держали", "в", "подвале"]),
    ("He was detained and held in a basement.", "arbitrary_detention",
     ["detained", "held", "in", "basement"]),
    # Deportation or forcible transfer
    ("Родину примусово вивезли до Росії.", "deportation_forcible_transfer",
     ["примусово", "вивезли", "до", "Росії"]),
    ("Их депортировали в Россию.", "deportation_forcible_transfer", ["депортировали"]),
    ("Civilians were forcibly transferred to Russia.", "deportation_forcible_transfer",
     ["forcibly", "transferred"]),
    # Restriction of movement
    ("Чоловікам заборонили виїжджати з міста.", "movement_restriction",
     ["заборонили", "виїжджати"]),
    ("Мужчин не выпускают из города.", "movement_restriction", ["не", "выпускают"]),
    ("Men were not allowed to leave the city.", "movement_restriction",
     ["not", "allowed", "to", "leave"]),
    # Ill-treatment
    ("Затриманих катували струмом.", "ill_treatment", ["катували", "струмом"]),
    ("Його жорстоко побили.", "ill_treatment", ["жорстоко", "побили"]),
    ("Его избивали и пытали.", "ill_treatment", ["избивали", "пытали"]),
    ("Her husband was severely beaten.", "ill_treatment", ["severely", "beaten"]),
    ("Detainees were tortured with electric shocks.", "ill_treatment",
     ["tortured", "electric", "shocks"]),
    # Some of the general list
    ("Дітей вивезли до Росії.", "violations_against_children", ["Дітей", "вивезли"]),
    ("Дітей записали до Юнармії.", "violations_against_children", ["Юнармії"]),
    ("Детей заставляют вступать в Юнармию.", "violations_against_children", ["Юнармию"]),
    ("Місто обстріляли вночі.", "attack_on_civilians", ["обстріляли"]),
    ("Его похитили у дома.", "enforced_disappearance", ["похитили"]),
    ("Soldiers looted the shop.", "pillage_property", ["looted"]),
])
def test_words_in_any_inflection_suggest_their_category(text: str, category: str,
                                                        words: list[str]) -> None:
    found = evidence(text)
    assert category in found, found
    assert found[category][1] == words


@pytest.mark.parametrize(("text", "category"), [
    ("Soldiers confiscated the passport.", "document_confiscation"),
    ("Soldiers confiscated the passports.", "document_confiscation"),
    ("Passports were seized at the checkpoint.", "document_confiscation"),
    ("Men are being detained.", "arbitrary_detention"),
    ("They detain men daily.", "arbitrary_detention"),
    ("Draft notices were handed out.", "compelled_service"),
    ("A draft notice was handed out.", "compelled_service"),
    ("Families were deported.", "deportation_forcible_transfer"),
])
def test_english_plurals_and_verb_forms_meet_their_base_form(text: str,
                                                             category: str) -> None:
    assert category in suggested(text)


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


@pytest.mark.parametrize(("text", "expected"), [
    (UK_POST, {
        # «військкомату», «повістки», «відправити ... на фронт»
        "compelled_service": (rule(ONE, ONE, MORE),
                              ["військкомату", "повістки", "відправити", "на", "фронт"]),
        # «затримали» (this form at 0.45, its lemma at 0.25: the same word counts once),
        # «тримали в підвалі»
        "arbitrary_detention": (rule(ONE, MORE), ["затримали", "тримали", "в", "підвалі"]),
        "document_confiscation": (MORE, ["відібрали", "паспорти"]),
        # «на блокпосту» alone (0.25) suggests no restriction of movement
    }),
    (RU_LETTER, {
        "compelled_service": (rule(ONE, MORE), ["военкомата", "отправят", "на", "фронт"]),
        "document_confiscation": (MORE, ["изъяли", "паспорт"]),
        "movement_restriction": (MORE, ["не", "разрешают", "выехать"]),
        "arbitrary_detention": (ONE, ["задержали"]),
    }),
    (EN_REPORT, {
        "compelled_service": (rule(MORE, MORE), ["military", "commissariats", "sent", "to",
                                                 "the", "front"]),
        "arbitrary_detention": (rule(ONE, MORE), ["detained", "held", "in", "basement"]),
        "document_confiscation": (MORE, ["passports", "confiscated"]),
        "ill_treatment": (MORE, ["severely", "beaten"]),
        # "at checkpoints" alone (0.25) suggests no restriction of movement
    }),
    (MIXED_POST, {
        "document_confiscation": (MORE, ["забрали", "паспорти"]),
        # «облава» (0.35) and «Військкомат» (0.45)
        "compelled_service": (rule(0.35, ONE), ["облава", "Військкомат"]),
    }),
], ids=["uk-telegram-post", "ru-letter", "en-ngo-report", "mixed-uk-ru-post"])
def test_violations_in_a_whole_text(text: str,
                                    expected: dict[str, tuple[float, list[str]]]) -> None:
    assert evidence(text) == expected


def test_suggestions_come_surest_first_and_their_words_slice_back() -> None:
    found = find_violations(UK_POST)
    assert [s.category for s in found] == ["compelled_service", "arbitrary_detention",
                                           "document_confiscation"]
    assert [s.confidence for s in found] == sorted((s.confidence for s in found),
                                                   reverse=True)
    for suggestion in found:
        starts = [start for start, _, _ in suggestion.words]
        assert starts == sorted(starts)
        for start, end, word in suggestion.words:
            assert UK_POST[start:end] == word


def test_the_language_is_only_a_hint() -> None:
    # Posts mix languages: every language's patterns are tried whatever the hint says.
    for language in ("uk", "ru", "en", "be", None):
        assert evidence(MIXED_POST, language) == evidence(MIXED_POST)


# --------------------------------------------------------------------------- confidence


@pytest.mark.parametrize(("text", "category", "weights"), [
    ("Чоловіка мобілізували.", "compelled_service", (ONE,)),
    ("Йому вручили повістку і мобілізували.", "compelled_service", (ONE, ONE)),
    ("У Горлівці облава, працює військкомат.", "compelled_service", (0.35, ONE)),
    ("Його відправили на фронт.", "compelled_service", (MORE,)),
    ("He was drafted.", "compelled_service", (0.4,)),
    ("На блокпосту проверяли пропуска.", "movement_restriction", (EVERYDAY, EVERYDAY)),
    ("Комендантська година триває з 23:00 до 5:00.", "movement_restriction", (0.3,)),
    ("Його жорстоко побили. Сліди жорстокого побиття.", "ill_treatment", (MORE, EVERYDAY)),
    ("He was tortured and beaten up.", "ill_treatment", (ONE, MORE)),
    ("Його затримали, заарештували й тримали в підвалі.", "arbitrary_detention",
     (ONE, ONE, MORE)),
])
def test_confidence_is_one_minus_the_product_of_doubts(text: str, category: str,
                                                       weights: tuple[float, ...]) -> None:
    assert suggested(text)[category] == rule(*weights)


def test_a_pattern_counts_once_however_often_it_matches() -> None:
    once = suggested("Вручили повістку.")
    often = suggested("Вручили повістку. Потім ще повістку. І знову повістки, повістки.")
    assert once == often == {"compelled_service": ONE}


def test_the_same_words_met_by_two_patterns_count_once() -> None:
    # "tortured" is met by "torture" and by "tortured"; «затримали» by its form and lemma.
    assert suggested("He was tortured.") == {"ill_treatment": ONE}
    assert suggested("Його затримали.") == {"arbitrary_detention": ONE}


def test_confidence_stops_short_of_certainty() -> None:
    text = ("Чоловіка мобілізували, дали повістку, відправили на фронт, забрали в армію, "
            "змусили воювати: примусова мобілізація.")
    # Six patterns: «мобілізувати», «повістка», «відправити на фронт», «забрати в армія»,
    # «змусити воювати», «примусовий мобілізація» leave a doubt under 0.005.
    assert 1 - math.prod((1 - ONE, 1 - ONE, 1 - MORE, 1 - MORE, 1 - MORE, 1 - MORE)) > 0.99
    assert suggested(text) == {"compelled_service": MAX_CONFIDENCE}


def test_the_words_given_as_evidence_are_capped() -> None:
    (found,) = find_violations("Повістка. " * 30)
    assert found.confidence == ONE
    assert len(found.words) == MAX_WORDS == 20
    assert found.words[0] == (0, 8, "Повістка")


@pytest.mark.parametrize(("text", "found"), [
    # Up to two other words between a pattern's words...
    ("Забрали у нього паспорт.", {"document_confiscation": MORE}),
    # ... not more
    ("Забрали у нього вчора ввечері старий паспорт.", {}),
    # ... and never across a sentence end
    ("Його забрали. Паспорт лежав удома.", {}),
    ("They took him away. Documents were found later.", {}),
])
def test_a_pattern_keeps_within_its_sentence_and_its_gap(text: str,
                                                         found: dict[str, float]) -> None:
    assert suggested(text) == found


# --------------------------------------------------------------------------- negative controls


@pytest.mark.parametrize("text", [
    "Сьогодні сонячно, без опадів. Вітер західний, 3–5 м/с. Вночі до +12.",
    "Завтра облачно, временами дождь, температура днём до плюс восемнадцати.",
    "Tomorrow will be sunny with light winds from the north. Highs of 24 degrees.",
    "Візьміть два яйця, склянку борошна і щіпку солі. Змішайте та випікайте 20 хвилин.",
    "Add 200 g of flour, two eggs and a pinch of salt; bake for 20 minutes at 180 °C.",
    "Вчера мы задержались на работе, а потом поехали домой.",
    "We were held up in traffic for an hour.",
    "Чоловіки виїхали з міста ще навесні.",
    "Мобільний зв'язок працює стабільно.",
    "The army of volunteers cleaned the park.",
    "Київ побив рекорд спеки. Побиття рекорду зафіксували синоптики.",
    "",
])
def test_plain_texts_suggest_nothing(text: str) -> None:
    assert find_violations(text) == []


@pytest.mark.parametrize(("text", "category"), [
    ("Воротар затримав м'яч на лінії.", "arbitrary_detention"),
    ("Вратарь задержал мяч.", "arbitrary_detention"),
    ("На блокпосту довга черга.", "movement_restriction"),
    ("Cars queued at the checkpoint for an hour.", "movement_restriction"),
    ("Покажите пропуск на входе.", "movement_restriction"),
    ("Кухар почав бити яйця.", "ill_treatment"),
    ("Не надо бить посуду.", "ill_treatment"),
    ("Вони побили рекорд.", "ill_treatment"),
])
def test_a_word_with_an_everyday_sense_alone_stays_below_the_threshold(
        text: str, category: str) -> None:
    (match,) = [m for m in violations._taxonomy().matcher.find(TokenisedText.of(text))
                if m.phrase.label == category]
    assert match.phrase.weight == EVERYDAY < MIN_CONFIDENCE  # the word was seen...
    assert find_violations(text) == []  # ... and suggests nothing alone


def test_everyday_words_together_support_a_suggestion() -> None:
    # «затримав» (0.25) and «блокпост» (0.25) belong to different categories: nothing.
    assert suggested("Він затримав сусіда на блокпосту.") == {}
    # «блокпост» and «пропуск» both speak of movement: 1 − 0.75² = 0.4375.
    assert suggested("На блокпосту проверяли пропуска.") == {
        "movement_restriction": rule(EVERYDAY, EVERYDAY)}


def test_the_plural_of_detain_is_a_suggestion_even_for_a_train() -> None:
    # By design «=затримали» / «=задержали» (they detained) weigh 0.45 while the lemma
    # weighs 0.25: the lexicon cannot see that a train was stopped, so a person rejects it.
    assert evidence("Потяг затримали на дві години через ремонт колії.") == {
        "arbitrary_detention": (ONE, ["затримали"])}
    assert evidence("Поезд задержали на два часа.") == {
        "arbitrary_detention": (ONE, ["задержали"])}
    # The singular is a goalkeeper's word as much as a policeman's.
    assert suggested("Його затримав патруль.") == {}


def test_negation_is_not_seen_so_a_person_decides() -> None:
    assert suggested("Їх не затримували.") == {"arbitrary_detention": ONE}


# --------------------------------------------------------------------------- the enricher


def test_the_enricher_reports_each_category_with_its_words() -> None:
    output = ViolationsEnricher().run(subject(UK_POST, "uk"))
    assert output.notes == []
    assert [a.value for a in output.annotations] == ["compelled_service",
                                                     "arbitrary_detention",
                                                     "document_confiscation"]
    first = UK_POST.index("військкомату")
    last = UK_POST.index("фронт") + len("фронт")
    compelled = output.annotations[0]
    assert compelled == Annotation(
        "violation", "compelled_service", first, last, rule(ONE, ONE, MORE), data={
            "label": "Compelled service in hostile forces (forced conscription)",
            "group": "conscription",
            "legal_basis": ["GCIV art. 51", "RS art. 8(2)(a)(v)", "RS art. 8(2)(b)(xv)"],
            "words": [[UK_POST.index(w, first), UK_POST.index(w, first) + len(w), w]
                      for w in ("військкомату", "повістки", "відправити")]
            + [[last - 8, last - 6, "на"], [last - 5, last, "фронт"]]})
    for annotation in output.annotations:
        assert annotation.kind == "violation"
        assert annotation.data is not None
        assert set(annotation.data) == {"label", "group", "legal_basis", "words"}
        words = annotation.data["words"]
        assert (annotation.start, annotation.end) == (words[0][0], words[-1][1])
        for start, end, word in words:
            assert UK_POST[start:end] == word


def test_the_enricher_accepts_only_items_with_text() -> None:
    enricher = ViolationsEnricher()
    assert enricher.accepts(subject("Повістка.", "uk"))
    assert not enricher.accepts(subject("", "uk"))
    assert not enricher.accepts(subject(None, None))
    assert enricher.needs == ("language",)


def test_a_plain_text_gives_no_annotations() -> None:
    assert ViolationsEnricher().run(subject("Сьогодні сонячно, без опадів.", "uk")
                                    ).annotations == []


def test_a_very_long_text_is_read_up_to_the_limit_with_a_note() -> None:
    block = "Сьогодні сонячно, без опадів. "
    text = (block * (MAX_TEXT_CHARS // len(block) - 1) + "Йому вручили повістку. "
            + block * 10 + "У нього відібрали паспорт.")
    assert len(text) > MAX_TEXT_CHARS
    output = ViolationsEnricher().run(subject(text, "uk"))
    assert output.notes == [
        f"violation words were looked for in the first {MAX_TEXT_CHARS:,} characters"]
    # The summons is inside the limit, the passport past it.
    assert [(a.value, a.confidence) for a in output.annotations] == [("compelled_service", ONE)]


def test_a_text_over_the_limit_is_refused_without_quoting_it() -> None:
    with pytest.raises(ViolationsError, match="over the limit") as raised:
        find_violations("Повістка " * (MAX_TEXT_CHARS // 9 + 1))
    assert "Повістка" not in str(raised.value)


def test_names_and_violations_share_the_words_of_a_text() -> None:
    item = subject(UK_POST, "uk")
    NamesEnricher().run(item)
    tokenised = item.memo["tokenised"]
    assert isinstance(tokenised, TokenisedText) and tokenised.text == UK_POST
    ViolationsEnricher().run(item)
    assert item.memo["tokenised"] is tokenised  # read once, for both


def test_the_version_names_the_taxonomy_and_the_matcher() -> None:
    # Changing the matching rules bumps _MATCHER_VERSION, the taxonomy its "version".
    listed = read_data_json("violations.json", ViolationsError)["version"]
    assert f"{listed}+match.{violations._MATCHER_VERSION}" == TAXONOMY_VERSION
    assert ViolationsEnricher().version == TAXONOMY_VERSION
    assert len(TAXONOMY_VERSION) <= 64


# --------------------------------------------------------------------------- a broken taxonomy


@pytest.fixture
def fresh_taxonomy() -> Iterator[None]:
    """The taxonomy is read once per process: read it again, and again after the test."""
    violations._taxonomy.cache_clear()
    yield
    violations._taxonomy.cache_clear()


def serving(data: Mapping[str, Any]) -> Callable[[str, type[EnrichError]], Mapping[str, Any]]:
    """A ``read_data_json`` that reads ``data`` whatever file is asked for."""

    def read(name: str, error: type[EnrichError]) -> Mapping[str, Any]:
        return data

    return read


def _without_russian_label(data: dict[str, Any]) -> None:
    del data["categories"][0]["labels"]["ru"]


def _weight_of_one(data: dict[str, Any]) -> None:
    data["categories"][0]["patterns"]["uk"].append({"p": "повістка", "w": 1})


def _repeated(data: dict[str, Any]) -> None:
    data["categories"].append(copy.deepcopy(data["categories"][0]))


def _empty_pattern(data: dict[str, Any]) -> None:
    data["categories"][2]["patterns"]["en"].append(" — ")


def _no_patterns(data: dict[str, Any]) -> None:
    del data["categories"][1]["patterns"]


def _weight_not_a_number(data: dict[str, Any]) -> None:
    data["categories"][0]["patterns"]["ru"].append({"p": "повестка", "w": "heavy"})


def _categories_not_a_list(data: dict[str, Any]) -> None:
    data["categories"] = 6


@pytest.mark.parametrize(("breaking", "message"), [
    (_without_russian_label, "violations.json: 'compelled_service' lacks a label in en/uk/ru"),
    (_weight_of_one, "violations.json: a weight out of (0, 1) in 'compelled_service'"),
    (_repeated, "violations.json: category 'compelled_service' repeated"),
    (_empty_pattern, "violations.json: an empty pattern in 'arbitrary_detention'"),
    (_no_patterns, "violations.json is malformed: KeyError"),
    (_weight_not_a_number, "violations.json is malformed: ValueError"),
    (_categories_not_a_list, "violations.json is malformed: TypeError"),
], ids=["no-russian-label", "weight-of-one", "repeated", "empty-pattern", "no-patterns",
        "weight-not-a-number", "categories-not-a-list"])
def test_a_malformed_taxonomy_is_an_error_naming_the_file(
        fresh_taxonomy: None, monkeypatch: pytest.MonkeyPatch,
        breaking: Callable[[dict[str, Any]], None], message: str) -> None:
    data = copy.deepcopy(dict(read_data_json("violations.json", ViolationsError)))
    breaking(data)
    monkeypatch.setattr(violations, "read_data_json", serving(data))
    with pytest.raises(ViolationsError, match=re.escape(message)):
        find_violations("Йому вручили повістку.")
    with pytest.raises(ViolationsError, match=re.escape(message)):
        taxonomy()


class PackagedData:
    """Stands in for ``importlib.resources``: the data files hold these texts."""

    def __init__(self, texts: Mapping[str, str], name: str = "") -> None:
        self.texts, self.name = texts, name

    def files(self, package: str) -> PackagedData:
        return self

    def joinpath(self, *parts: str) -> PackagedData:
        return PackagedData(self.texts, parts[-1])

    def read_text(self, encoding: str) -> str:
        if self.name not in self.texts:
            raise FileNotFoundError(self.name)
        return self.texts[self.name]


@pytest.mark.parametrize(("text", "message"), [
    (None, "cannot read the packaged violations.json: FileNotFoundError"),
    ("{\"categories\": [", "cannot read the packaged violations.json: JSONDecodeError"),
    ("{\"categories\": []}", "the packaged violations.json has no version"),
], ids=["missing", "not-json", "no-version"])
def test_an_unreadable_taxonomy_is_an_error_naming_the_file(
        fresh_taxonomy: None, monkeypatch: pytest.MonkeyPatch, text: str | None,
        message: str) -> None:
    monkeypatch.setattr(names, "resources", PackagedData(
        {} if text is None else {"violations.json": text}))
    with pytest.raises(ViolationsError, match=re.escape(message)):
        taxonomy()


def test_a_small_taxonomy_of_its_own_is_read_the_same_way(
        fresh_taxonomy: None, monkeypatch: pytest.MonkeyPatch) -> None:
    data = {"version": "t", "categories": [{
        "id": "curfew", "group": "general",
        "labels": {"en": "Curfew", "uk": "Комендантська година", "ru": "Комендантский час"},
        "patterns": {"uk": [{"p": "комендантський година", "w": 0.5}],
                     "ru": ["комендантский час"], "en": ["curfew"]}}]}
    monkeypatch.setattr(violations, "read_data_json", serving(data))
    assert [c.id for c in taxonomy()] == ["curfew"]
    assert taxonomy()[0].legal_basis == ()
    assert suggested("Комендантська година, curfew, комендантский час.") == {
        "curfew": rule(0.5, MORE, ONE)}
