"""A running app over a data folder (SQLite and PostgreSQL) with its people, and a browser
stand-in (Starlette's TestClient) that signs in the way a person does."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import cast

import httpx
import pyotp
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from svidok.access import add_user, totp
from svidok.db.schema import users
from svidok.home import Home
from svidok.web.app import create_app

PASSWORD = "correct horse battery"
HTML = {"accept": "text/html"}


@pytest.fixture
def client(home: Home) -> Iterator[TestClient]:
    for name, role in (("admin", "admin"), ("olena", "analyst"), ("taras", "documenter"),
                       ("vira", "viewer")):
        add_user(home.engine, name, role, PASSWORD)
    # Administrators cannot work without a second factor (svidok.web.confine): this one has
    # an authenticator app, whose codes sign_in types.
    enrol_totp(home, "admin", at=datetime.now(UTC) - timedelta(minutes=5))
    with TestClient(create_app(home), follow_redirects=False) as test_client:
        yield test_client


def form_token(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found is not None, "the page has no CSRF field"
    return found.group(1)


def enrol_totp(home: Home, name: str, at: datetime | None = None) -> str:
    """Give ``name`` an authenticator app, confirmed (with a code of the time ``at``);
    returns its secret."""
    at = at or datetime.now(UTC)
    secret, _uri = totp.begin_enrolment(home.engine, name)
    totp.confirm_enrolment(home.engine, name, pyotp.TOTP(secret).at(at), now=at)
    return secret


def app_code(client: TestClient, name: str) -> str:
    """The code the person's app shows, as a person types it: one for a time step the
    server accepts (one step either side of now) and has not seen used; "" without an
    app. A code is never accepted twice, so after three sign-ins within a step this waits
    for the next step (up to 30 seconds)."""
    home: Home = cast(FastAPI, client.app).state.home
    with home.engine.connect() as conn:
        row = conn.execute(select(users.c.totp_secret, users.c.totp_confirmed,
                                  users.c.totp_last_step).where(users.c.name == name)).first()
    if row is None or row.totp_secret is None or not row.totp_confirmed:
        return ""
    app = pyotp.TOTP(row.totp_secret)
    while True:
        at = datetime.now(UTC)
        now = app.timecode(at)
        left = app.interval - at.timestamp() % app.interval  # seconds left in this step
        # The step before stays valid only until this one ends: not near its end.
        earliest = now - totp.VALID_WINDOW if left > 5 else now
        for step in range(earliest, now + totp.VALID_WINDOW + 1):
            if row.totp_last_step is None or step > row.totp_last_step:
                return app.generate_otp(step)
        time.sleep(left + 0.1)


def sign_in(client: TestClient, name: str, password: str = PASSWORD, code: str | None = None,
            next_page: str = "/") -> httpx.Response:
    """Sign in through the form. ``code`` None types the user's app's code if they have
    one (the fixture's admin does); "" leaves the field empty."""
    if code is None:
        code = app_code(client, name)
    page = client.get("/sign-in", headers=HTML)
    fields = {"name": name, "password": password, "code": code, "next": next_page,
              "csrf_token": form_token(page.text)}
    answer: httpx.Response = client.post("/sign-in", data=fields, headers=HTML)
    return answer
