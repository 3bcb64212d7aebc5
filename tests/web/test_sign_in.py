"""Signing in with a password and, once enrolled, a code; rate limiting; signing out; the
session cookie's flags; CSRF on every state change."""

from __future__ import annotations

from datetime import UTC, datetime

import pyotp
from fastapi.testclient import TestClient

from svidok.access import totp
from svidok.home import Home

from .conftest import HTML, PASSWORD, form_token, sign_in


def test_a_right_password_opens_a_session_in_a_strict_httponly_cookie(
        client: TestClient) -> None:
    done = client.get("/search", headers=HTML)
    assert done.headers["location"] == "/sign-in?next=%2Fsearch"
    answer = sign_in(client, "olena", next_page="/search")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/search"
    cookie = answer.headers["set-cookie"]
    assert "svidok_session=" in cookie and "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    page = client.get("/", headers=HTML)
    assert page.status_code == 200 and "olena" in page.text and "analyst" in page.text


def test_a_wrong_password_says_no_more_than_that(client: TestClient) -> None:
    for name in ("olena", "nobody"):
        answer = sign_in(client, name, password="wrong password here")
        assert answer.status_code == 401
        assert "Wrong name, password or code." in answer.text
    assert client.get("/", headers=HTML).status_code == 303


def test_sign_in_pauses_after_five_failures(client: TestClient) -> None:
    for _ in range(5):
        sign_in(client, "olena", password="wrong password here")
    answer = sign_in(client, "olena")
    assert answer.status_code == 401
    assert "Too many failed sign-ins" in answer.text


def test_the_sign_in_form_needs_its_own_token(client: TestClient) -> None:
    client.get("/sign-in", headers=HTML)
    answer = client.post("/sign-in", data={"name": "olena", "password": PASSWORD,
                                           "csrf_token": "forged"}, headers=HTML)
    assert answer.status_code == 403
    assert client.get("/", headers=HTML).status_code == 303


def test_next_never_leads_off_the_site(client: TestClient) -> None:
    for target in ("//elsewhere.example/", "https://elsewhere.example/", "javascript:x"):
        answer = sign_in(client, "olena", next_page=target)
        assert answer.headers["location"] == "/"


def test_signing_out_ends_the_session_and_needs_the_csrf_token(client: TestClient) -> None:
    sign_in(client, "olena")
    page = client.get("/", headers=HTML)
    assert client.post("/sign-out", data={"csrf_token": "forged"},
                       headers=HTML).status_code == 403
    assert client.get("/", headers=HTML).status_code == 200
    answer = client.post("/sign-out", data={"csrf_token": form_token(page.text)},
                         headers=HTML)
    assert answer.status_code == 303
    assert client.get("/", headers=HTML).status_code == 303


def test_a_user_with_an_authenticator_needs_its_code(client: TestClient, home: Home) -> None:
    secret, _uri = totp.begin_enrolment(home.engine, "admin")
    now = datetime.now(UTC)
    totp.confirm_enrolment(home.engine, "admin", pyotp.TOTP(secret).at(now), now=now)
    assert sign_in(client, "admin", code="").status_code == 401
    later = datetime.fromtimestamp(now.timestamp() + 30, UTC)
    code = pyotp.TOTP(secret).at(later)
    # The code of the next step is within the window and not used before.
    assert sign_in(client, "admin", code=code).status_code == 303
    assert client.get("/", headers=HTML).status_code == 200
