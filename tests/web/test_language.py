"""The interface speaks each user's own language: Ukrainian or English, per user."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient

import svidok.web
from svidok.access import set_language
from svidok.home import Home
from svidok.web.i18n import accepted_language, catalogue, translator

from .conftest import HTML, form_token, sign_in


def test_a_ukrainian_user_sees_the_menu_in_ukrainian(client: TestClient, home: Home) -> None:
    set_language(home.engine, "olena", "uk")
    sign_in(client, "olena")
    page = client.get("/", headers=HTML).text
    assert 'lang="uk"' in page
    assert ">Огляд<" in page and ">Докази<" in page and "Вийти" in page


def test_an_english_user_sees_english(client: TestClient) -> None:
    sign_in(client, "vira")
    page = client.get("/", headers=HTML).text
    assert ">Dashboard<" in page and "Огляд" not in page


def test_every_ukrainian_message_is_translated() -> None:
    messages = catalogue("uk")
    assert messages, "the Ukrainian catalogue is empty or was not found"
    assert all(messages.values())


def test_ukrainian_plurals_follow_the_last_digits() -> None:
    forms = {1: 0, 2: 1, 4: 1, 5: 2, 11: 2, 12: 2, 21: 0, 22: 1, 25: 2, 111: 2, 101: 0}
    from svidok.web.i18n import _plural_index

    assert {n: _plural_index("uk", n) for n in forms} == forms


def test_an_unknown_language_falls_back_to_english() -> None:
    assert translator("xx").gettext("Dashboard") == "Dashboard"


def test_the_sign_in_page_follows_the_browsers_language(client: TestClient) -> None:
    page = client.get("/sign-in", headers={**HTML, "accept-language": "uk-UA,uk;q=0.9,en;q=0.8"})
    assert 'lang="uk"' in page.text and ">Увійти<" in page.text
    page = client.get("/sign-in", headers={**HTML, "accept-language": "de,en;q=0.5"})
    assert 'lang="en"' in page.text and ">Sign in<" in page.text
    # Russian first, Ukrainian second: Svidok speaks no Russian, so Ukrainian.
    assert accepted_language("ru-RU,ru;q=0.9,uk;q=0.8,en;q=0.7") == "uk"
    assert accepted_language("en-GB,uk;q=0.3") == "en"
    assert accepted_language("uk;q=bogus, *") == "en"


def test_a_refused_sign_in_says_so_in_the_browsers_language(client: TestClient) -> None:
    uk = {**HTML, "accept-language": "uk"}
    page = client.get("/sign-in", headers=uk)
    answer = client.post("/sign-in", headers=uk, data={
        "name": "olena", "password": "wrong password here", "code": "", "next": "/",
        "csrf_token": form_token(page.text)})
    assert answer.status_code == 401 and "Неправильне ім’я, пароль або код." in answer.text


def test_error_pages_speak_the_viewers_language(client: TestClient, home: Home) -> None:
    set_language(home.engine, "vira", "uk")
    sign_in(client, "vira")
    page = client.get("/items/999999", headers=HTML)
    assert page.status_code == 404 and 'lang="uk"' in page.text
    assert "Такого матеріалу немає" in page.text and "Назад до огляду" in page.text
    assert client.get("/items/999999").json() == {"detail": "no such item"}


def test_facets_and_chips_are_in_the_viewers_language(client: TestClient, home: Home) -> None:
    set_language(home.engine, "vira", "uk")
    sign_in(client, "vira")
    page = client.get("/search?kind=file&from=2020-01-01", headers=HTML).text
    assert "вид: файл ✕" in page and "від: 2020-01-01 ✕" in page
    page = client.get("/search?place=Nowhereville", headers=HTML).text
    assert "У довіднику місць немає місця Nowhereville." in page


WEB = Path(svidok.web.__file__).parent
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}


def interface_messages() -> dict[str, str]:
    """Every message of the interface, from the templates and the web modules, with
    where it was found: what the catalogue must translate."""
    methods = [("templates/**.html", "jinja2.ext:babel_extract"), ("*.py", "python")]
    found: dict[str, str] = {}
    for path, line, message, _comments, _context in extract_from_dir(
            WEB, methods, keywords=KEYWORDS):
        ids = message if isinstance(message, tuple) else (message,)
        found.setdefault(ids[0], f"{path}:{line}")
    return found


def test_every_message_of_the_interface_has_a_ukrainian_translation() -> None:
    messages = interface_messages()
    assert len(messages) > 150, "extraction found too little: is the extractor broken?"
    assert "Sign in" in messages and "Change password" in messages
    assert "no such item" in messages  # marked with N_ in Python
    translated = catalogue("uk")
    singular = {k[0] if isinstance(k, tuple) else k for k in translated}
    missing = [f"{where}: {message!r}" for message, where in sorted(messages.items())
               if message not in singular]
    assert not missing, "not translated into Ukrainian (run `make messages`, then " \
        "translate src/svidok/web/locale/uk/LC_MESSAGES/svidok.po):\n" + "\n".join(missing)


def test_the_catalogue_is_sorted_and_has_no_fuzzy_entries() -> None:
    path = WEB / "locale" / "uk" / "LC_MESSAGES" / "svidok.po"
    with path.open("rb") as handle:
        po = read_po(handle, locale="uk")
    ids = [m.id if isinstance(m.id, str) else m.id[0] for m in po if m.id]
    assert ids == sorted(ids)
    assert not [m.id for m in po if m.id and m.fuzzy]
    assert "#, fuzzy" not in path.read_text("utf-8")


def test_placeholders_survive_translation() -> None:
    # A translation that drops or renames %(name)s would fail at run time.
    for message, translation in catalogue("uk").items():
        ids = message if isinstance(message, tuple) else (message,)
        forms = translation if isinstance(translation, tuple) else (translation,)
        wanted = set(re.findall(r"%\((\w+)\)", ids[-1]))
        for form in forms:
            assert set(re.findall(r"%\((\w+)\)", form)) <= wanted | {"num"}, message
            assert set(re.findall(r"%\((\w+)\)", form)) >= wanted - {"num"}, message
