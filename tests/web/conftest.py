"""A running app over a data folder (SQLite and PostgreSQL) with its people, and a browser
stand-in (Starlette's TestClient) that signs in the way a person does."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from svidok.access import add_user
from svidok.home import Home
from svidok.web.app import create_app

PASSWORD = "correct horse battery"
HTML = {"accept": "text/html"}


@pytest.fixture
def client(home: Home) -> Iterator[TestClient]:
    for name, role in (("admin", "admin"), ("olena", "analyst"), ("taras", "documenter"),
                       ("vira", "viewer")):
        add_user(home.engine, name, role, PASSWORD)
    with TestClient(create_app(home), follow_redirects=False) as test_client:
        yield test_client


def form_token(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found is not None, "the page has no CSRF field"
    return found.group(1)


def sign_in(client: TestClient, name: str, password: str = PASSWORD, code: str = "",
            next_page: str = "/") -> httpx.Response:
    page = client.get("/sign-in", headers=HTML)
    fields = {"name": name, "password": password, "code": code, "next": next_page,
              "csrf_token": form_token(page.text)}
    answer: httpx.Response = client.post("/sign-in", data=fields, headers=HTML)
    return answer
