"""The evidence pages over real enriched items: a post found by a place in the other
script, its item page with the text, the suggestions and the capture."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient

from .conftest import HTML, sign_in

POST = ("23 червня на блокпосту біля Макіївки військові відібрали паспорти у трьох "
        "чоловіків і відвезли їх до військкомату.\n")


def test_search_finds_a_post_and_its_page_shows_text_and_suggestions(
        client: TestClient, env: dict[str, str], tmp_path: Path) -> None:
    letter = tmp_path / "evidence" / "lyst.txt"
    letter.parent.mkdir()
    letter.write_text(POST, encoding="utf-8")
    svidok = str(Path(sys.executable).with_name("svidok"))
    subprocess.run([svidok, "ingest", str(letter.parent), "--enrich"], check=True,
                   env={**os.environ, **env}, capture_output=True)
    assert sign_in(client, "vira").status_code == 303

    found = client.get("/search", params={"q": "Makeevka"}, headers=HTML)
    assert found.status_code == 200
    assert "1 item" in found.text and "<mark>" in found.text
    assert "Makiivka" in found.text  # the place facet names the place
    item_id = found.text.split('href="/items/', 1)[1].split('"', 1)[0]

    page = client.get(f"/items/{item_id}", headers=HTML)
    assert page.status_code == 200
    assert "військкомату" in page.text
    assert "Suggested by enrichers" in page.text and "Makiivka" in page.text
    assert client.get("/items/999999", headers=HTML).status_code == 404


def test_a_query_the_search_cannot_take_is_explained_not_a_server_error(
        client: TestClient) -> None:
    sign_in(client, "vira")
    page = client.get("/search", params={"q": "x", "from": "not-a-date"}, headers=HTML)
    assert page.status_code == 200 and 'role="alert"' in page.text
