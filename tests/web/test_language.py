"""The interface speaks each user's own language: Ukrainian or English, per user."""

from __future__ import annotations

from fastapi.testclient import TestClient

from svidok.access import set_language
from svidok.home import Home
from svidok.web.i18n import catalogue, translator

from .conftest import HTML, sign_in


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
