"""Places in uk/ru/en texts: what is found, what it resolves to, and what is left alone.

The sentences are written for these tests (no evidence text). GeoNames ids: 702320
Makiivka, 713174 Bakhmut, 713716 Alchevsk, 692975 Kadiivka, 698614 Olenivka (Donetsk oblast),
709717 Donetsk, 699839 Nova Kakhovka, 706448 Kherson, 709716 Donetsk Oblast, 702657 Luhansk
Oblast.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
from pathlib import Path

import pytest

from svidok.enrich import places
from svidok.enrich.gazetteer import data_digest
from svidok.enrich.places import PlacesError, find_places, place, spellings

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "src/svidok/enrich/data"


def resolved(text: str, language: str | None = None) -> list[tuple[str, int]]:
    return [(m.text, m.place.geonameid) for m in find_places(text, language)]


@pytest.mark.parametrize(
    ("text", "surface", "geonameid"),
    [
        ("23 червня у Макіївці співробітники військкомату затримали чоловіка.", "Макіївці", 702320),
        ("В конце июня в Макеевке мужчин задерживали на блокпостах.", "Макеевке", 702320),
        ("Residents of Makeivka said men were detained at checkpoints.", "Makeivka", 702320),
        ("Residents of Makiivka and Makeyevka", "Makiivka", 702320),
        ("Житель Алчевска сообщил о повестке.", "Алчевска", 713716),
        ("Его задержали в Артемовске.", "Артемовске", 713174),
        ("Його затримали в Артемівську.", "Артемівську", 713174),
        ("Повістки роздавали у Бахмуті.", "Бахмуті", 713174),
        ("у Кадіївці (колишній Стаханов) триває облава", "Кадіївці", 692975),
        ("Мешканці Нової Каховки виїжджають.", "Нової Каховки", 699839),
        ("Nova Kakhovka residents left.", "Nova Kakhovka", 699839),
        ("В Новой Каховке проходят облавы.", "Новой Каховке", 699839),
        ("Людей вывезли из Еленовки.", "Еленовки", 698614),
        ("Жителей Снежного вывезли.", "Снежного", 693381),
        ("Men from Horlivka and Gorlovka", "Horlivka", 707753),
    ],
)
def test_a_mention_resolves_to_its_place(text: str, surface: str, geonameid: int) -> None:
    assert (surface, geonameid) in resolved(text)


def test_old_names_after_former_resolve_to_the_renamed_city() -> None:
    found = resolved("у Кадіївці (колишній Стаханов) триває облава")
    assert found == [("Кадіївці", 692975), ("Стаханов", 692975)]


def test_a_place_carries_coordinates_and_oblast() -> None:
    (mention,) = find_places("В Макеевке задерживают мужчин.", "ru")
    p = mention.place
    assert (p.name, p.name_uk, p.name_ru) == ("Makiivka", "Макіївка", "Макеевка")
    assert p.country == "UA" and p.admin1 == "05" and p.oblast == "Donetsk Oblast"
    assert 47.9 < p.latitude < 48.2 and 37.8 < p.longitude < 38.1
    assert p.kind == "city" and p.population > 300_000
    assert mention.how == "lemma"


def test_offsets_slice_back_to_the_surface_text() -> None:
    text = "Чоловіків з Донецька і Луганська везуть через Ростов-на-Дону у Таганрог."
    mentions = find_places(text)
    assert [m.text for m in mentions] == ["Донецька", "Луганська", "Ростов-на-Дону", "Таганрог"]
    for m in mentions:
        assert text[m.start : m.end] == m.text


def test_olenivka_next_to_donetsk_is_the_donetsk_oblast_village() -> None:
    text = "Чоловіка з Донецька утримують в Оленівці."
    olenivka = find_places(text)[-1]
    assert olenivka.place.geonameid == 698614
    assert olenivka.place.oblast == "Donetsk Oblast"
    assert olenivka.alternatives >= 2  # villages of the name in Odesa and Poltava oblasts


def test_the_text_settles_ambiguity_before_the_occupied_regions_do() -> None:
    # Two Olenivkas are in Odesa and Poltava oblasts; Odesa's wins next to Odesa's places.
    text = "Родина з Ізмаїла та Білгорода-Дністровського переїхала до Оленівки."
    olenivka = find_places(text)[-1]
    assert olenivka.place.geonameid == 688208 and olenivka.place.admin1 == "17"


def test_ambiguity_lowers_confidence() -> None:
    alone = find_places("Чоловіка утримують в Оленівці.")[0]
    plain = find_places("Чоловіка утримують в Алчевську.")[0]
    assert alone.alternatives > 0 and plain.alternatives == 0
    assert alone.confidence < plain.confidence


def test_oblasts_are_found_in_three_languages_and_as_regional_names() -> None:
    text = (
        "У Луганській області та в Донецкой области, in Donetsk Oblast, на Донеччині; "
        "the Luhansk region."
    )
    found = resolved(text)
    assert found == [
        ("Луганській області", 702657),
        ("Донецкой области", 709716),
        ("Donetsk Oblast", 709716),
        ("Донеччині", 709716),
        ("Luhansk region", 702657),
    ]
    assert place(709716) is not None and place(709716).kind == "oblast"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "text",
    [
        "In June, Oleksandra said the Kremlin wants peace.",
        "Президент заявив, що мир можливий лише після виведення військ.",
        "Слава Україні! Героям слава. Мир всем.",
        "Перемога буде за нами, сказав він у червні.",
        "Дружба народів закінчилася у 2014 році.",
        "Надія Савченко та Віра Іванова прийшли до суду.",
        "Олександра Матвійчук отримала Нобелівську премію миру.",
        "Нова влада оголосила набір до армії.",
        "Військовий комісар Петро Лиман видав повістку.",
        "Мирное население страдает от обстрелов.",
        "Победа будет за нами, сказал Владимир Путин.",
        "Надежда Толоконникова и Вера Полозкова выступили.",
        "Новая волна мобилизации затронула всех.",
        "Vladimir Putin and Victoria Nuland met Oleksandra Matviichuk.",
        "Nova Poshta delivered the parcel in May.",
        "Progress was made in the talks, said Mira Murati.",
        "The Center for Civil Liberties documented abuses by the ЗСУ and ДНР.",
        "Stalin and Lenin are gone; Sofia Coppola directed a film.",
    ],
)
def test_ordinary_words_and_names_are_no_places(text: str) -> None:
    assert find_places(text) == []


def test_lower_case_words_are_never_places() -> None:
    assert find_places("у макіївці, в донецке, kherson residents") == []


def test_a_name_that_is_also_a_word_needs_a_cue_before_it() -> None:
    assert resolved("Буча пережила окупацію.") == []
    assert resolved("Люди загинули у Бучі.") == [("Бучі", 711350)]


@pytest.mark.parametrize(("text", "name"), [
    ("Жителі м. Антрацит скаржаться на перевірки.", "Antratsyt"),
    ("Його затримали у м. Буча.", "Bucha"),
    ("Живу в г. Антрацит давно.", "Antratsyt"),
])
def test_an_abbreviated_settlement_word_is_a_cue(text: str, name: str) -> None:
    assert [m.place.name for m in find_places(text)] == [name]


def test_a_full_stop_after_an_ordinary_word_still_ends_the_sentence() -> None:
    assert find_places("Купили антрацит. Буча чекає на весну.") == []


def test_spellings_cover_every_script_and_alias() -> None:
    found = spellings("Макіївка")
    assert {"makiivka", "макеевка", "makeivka", "makeyevka", "макіївка"} <= found
    assert spellings("Makeevka") == found
    assert spellings("Макеевке") == found  # inflected, through the lemma
    assert {"bakhmut", "artemivsk", "артемовск", "бахмут"} <= spellings("Артемівськ")
    assert "nova kakhovka" in spellings("нова каховка")


def test_spellings_of_no_place_are_empty() -> None:
    assert spellings("мир") == frozenset()
    assert spellings("військкомат") == frozenset()
    assert spellings("") == frozenset()


def test_place_by_id() -> None:
    bakhmut = place(713174)
    assert bakhmut is not None and bakhmut.name == "Bakhmut"
    assert place(1) is None


def test_bad_input_is_refused_clearly() -> None:
    with pytest.raises(PlacesError):
        find_places(b"bytes")  # type: ignore[arg-type]
    with pytest.raises(PlacesError, match="exceeds"):
        find_places("a" * (places.MAX_TEXT_CHARS + 1))


def test_gazetteer_version_names_the_data_it_was_made_with() -> None:
    # Changing any data file must change GAZETTEER_VERSION (update _DATA_SHA256).
    assert data_digest() == places._DATA_SHA256
    assert places.GAZETTEER_VERSION.endswith(data_digest()[:12])


def test_the_vendored_extract_is_small_and_well_formed() -> None:
    raw = (DATA / "gazetteer.json.gz").read_bytes()
    assert len(raw) < 3_000_000
    extract = json.loads(gzip.decompress(raw))
    rows = extract["places"]
    assert sum(row[2] == "UA" for row in rows) > 5_000
    assert {row[2] for row in rows} >= {"UA", "RU", "BY", "MD", "PL", "RO", "SK", "HU", "GE"}
    assert [row[0] for row in rows] == sorted(row[0] for row in rows)
    assert "CC BY 4.0" in extract["source"]


@pytest.mark.slow
def test_the_build_script_reproduces_the_vendored_extract() -> None:
    script = REPO / "scripts/build_gazetteer.py"
    spec = importlib.util.spec_from_file_location("build_gazetteer", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.build() == (DATA / "gazetteer.json.gz").read_bytes()
