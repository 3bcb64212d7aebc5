"""A person's own account in the browser: language, password change (and the forced one
after a one-time password), the authenticator app (required for administrators), personal
API tokens; CSRF on every form."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
import pyotp
import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from svidok.access import add_user, create_token, get_user, lookup_token, reset_password
from svidok.home import Home
from svidok.web.account import qr_svg

from .conftest import HTML, PASSWORD, app_code, form_token, sign_in
from .test_gate import _flattened

NEW_PASSWORD = "a brand new passphrase"
JSON = {"accept": "application/json"}


def post_form(client: TestClient, path: str, fields: dict[str, str],
              page: str = "/account") -> httpx.Response:
    """Post a form the way the page holding it does: with the session's CSRF token."""
    token = form_token(client.get(page, headers=HTML).text)
    answer: httpx.Response = client.post(path, data={**fields, "csrf_token": token},
                                         headers=HTML)
    return answer


def other_browser(client: TestClient) -> TestClient:
    return TestClient(client.app, follow_redirects=False)


# Language


def test_the_next_page_after_choosing_ukrainian_is_in_ukrainian(client: TestClient,
                                                                 home: Home) -> None:
    sign_in(client, "olena")
    page = client.get("/account", headers=HTML).text
    assert 'lang="en"' in page and "Your account" in page and 'name="language"' in page
    answer = post_form(client, "/account/language", {"language": "uk"})
    assert answer.status_code == 303 and answer.headers["location"] == "/account?done=language"
    assert get_user(home.engine, "olena").language == "uk"  # type: ignore[union-attr]
    page = client.get(answer.headers["location"], headers=HTML).text
    assert 'lang="uk"' in page
    assert "Ваш обліковий запис" in page and "Мову інтерфейсу збережено." in page
    assert ">Докази<" in client.get("/search", headers=HTML).text
    # And back.
    post_form(client, "/account/language", {"language": "en"})
    assert "Your account" in client.get("/account", headers=HTML).text


def test_an_unknown_language_is_refused(client: TestClient, home: Home) -> None:
    sign_in(client, "olena")
    answer = post_form(client, "/account/language", {"language": "ru"})
    assert answer.status_code == 400
    assert get_user(home.engine, "olena").language == "en"  # type: ignore[union-attr]


# Password change


def change_password(client: TestClient, current: str, new: str, again: str | None = None,
                    ) -> httpx.Response:
    return post_form(client, "/account/password",
                     {"current": current, "new": new,
                      "again": new if again is None else again}, page="/account/password")


@pytest.mark.parametrize(("current", "new", "again", "says"), [
    ("wrong password here", NEW_PASSWORD, None, "The current password is not right."),
    (PASSWORD, NEW_PASSWORD, "a different passphrase", "The two new passwords differ."),
    (PASSWORD, "short", None, "use at least 12 characters"),
    (PASSWORD, PASSWORD, None, "not the current one"),
])
def test_a_bad_password_change_is_refused(client: TestClient, current: str, new: str,
                                          again: str | None, says: str) -> None:
    sign_in(client, "olena")
    answer = change_password(client, current, new, again)
    assert answer.status_code == 400 and says in answer.text
    # Nothing changed: the old password still signs in, the new one does not.
    assert sign_in(other_browser(client), "olena").status_code == 303
    if new != current:
        assert sign_in(other_browser(client), "olena", password=new).status_code == 401


def test_changing_the_password_ends_the_other_sessions_only(client: TestClient) -> None:
    elsewhere = other_browser(client)
    sign_in(elsewhere, "olena")
    sign_in(client, "olena")
    answer = change_password(client, PASSWORD, NEW_PASSWORD)
    assert answer.status_code == 303 and answer.headers["location"] == "/account?done=password"
    assert client.get("/", headers=HTML).status_code == 200
    assert elsewhere.get("/", headers=HTML).status_code == 303
    assert sign_in(other_browser(client), "olena").status_code == 401
    assert sign_in(other_browser(client), "olena", password=NEW_PASSWORD).status_code == 303


# A one-time password must be changed first


def test_a_one_time_password_confines_to_the_password_page_until_changed(
        client: TestClient, home: Home) -> None:
    one_time = reset_password(home.engine, "olena")
    assert sign_in(client, "olena", password=one_time).status_code == 303
    for path in ("/", "/search?q=x", "/items/1", "/account", "/account/totp",
                 "/account/tokens"):
        page = client.get(path, headers=HTML)
        assert page.status_code == 303, path
        assert page.headers["location"] == "/account/password", path
    api = client.get("/search", headers=JSON)
    assert api.status_code == 403 and "password" in api.json()["detail"]
    token = form_token(client.get("/account/password", headers=HTML).text)
    refused = client.post("/account/tokens", data={"name": "x", "csrf_token": token},
                          headers=HTML)
    assert refused.status_code == 403
    page = client.get("/account/password", headers=HTML)
    assert page.status_code == 200 and "one-time password" in page.text
    assert change_password(client, one_time, NEW_PASSWORD).status_code == 303
    assert client.get("/", headers=HTML).status_code == 200
    assert client.get("/search", headers=JSON).status_code == 200


def test_signing_out_stays_possible_while_confined(client: TestClient, home: Home) -> None:
    one_time = reset_password(home.engine, "olena")
    sign_in(client, "olena", password=one_time)
    token = form_token(client.get("/account/password", headers=HTML).text)
    answer = client.post("/sign-out", data={"csrf_token": token}, headers=HTML)
    assert answer.status_code == 303 and answer.headers["location"] == "/sign-in"
    page = client.get("/account/password", headers=HTML)
    assert page.status_code == 303 and page.headers["location"].startswith("/sign-in")


# Administrators need a second factor


def test_an_admin_without_an_app_is_confined_to_enrolment(client: TestClient,
                                                          home: Home) -> None:
    add_user(home.engine, "boss", "admin", PASSWORD)
    assert sign_in(client, "boss").status_code == 303
    for path in ("/", "/search", "/account", "/account/password", "/account/tokens"):
        page = client.get(path, headers=HTML)
        assert page.status_code == 303 and page.headers["location"] == "/account/totp", path
    api = client.get("/", headers=JSON)
    assert api.status_code == 403 and "second factor" in api.json()["detail"]
    page = client.get("/account/totp", headers=HTML)
    assert page.status_code == 200 and "Administrators need a second factor" in page.text
    secret = enrol(client)
    assert secret
    assert client.get("/", headers=HTML).status_code == 200


def test_a_new_admin_changes_the_one_time_password_then_enrols(client: TestClient,
                                                               home: Home) -> None:
    _user, one_time = add_user(home.engine, "boss", "admin")
    assert one_time is not None
    sign_in(client, "boss", password=one_time)
    assert client.get("/", headers=HTML).headers["location"] == "/account/password"
    answer = change_password(client, one_time, NEW_PASSWORD)
    assert answer.status_code == 303 and answer.headers["location"] == "/account/totp"
    assert client.get("/", headers=HTML).headers["location"] == "/account/totp"
    enrol(client)
    assert client.get("/", headers=HTML).status_code == 200


def enrol(client: TestClient) -> str:
    """Enrol an app through the pages, as a person does; returns its secret."""
    assert post_form(client, "/account/totp/begin", {}, page="/account/totp"
                     ).status_code == 303
    page = client.get("/account/totp", headers=HTML).text
    found = re.search(r'<code class="secret">([A-Z2-7 ]+)</code>', page)
    assert found is not None
    secret = found.group(1).replace(" ", "")
    now = datetime.now(UTC)
    answer = post_form(client, "/account/totp/confirm",
                       {"code": pyotp.TOTP(secret).at(now)}, page="/account/totp")
    assert answer.status_code == 303 and answer.headers["location"] == "/account?done=totp"
    assert "svidok_session=" in answer.headers["set-cookie"]
    return secret


def wrong_code(secret: str) -> str:
    app = pyotp.TOTP(secret)
    now = app.timecode(datetime.now(UTC))
    right = {app.generate_otp(step) for step in range(now - 2, now + 3)}
    return next(c for c in (f"{n:06d}" for n in range(0, 999_999, 7919)) if c not in right)


# Enrolment in the browser


def test_enrolment_shows_a_qr_code_and_needs_a_right_code(client: TestClient,
                                                          home: Home) -> None:
    sign_in(client, "olena")
    page = client.get("/account/totp", headers=HTML).text
    assert "Set up an authenticator app" in page and "<svg" not in page
    post_form(client, "/account/totp/begin", {}, page="/account/totp")
    page = client.get("/account/totp", headers=HTML).text
    uri = re.search(r'href="(otpauth://[^"]+)"', page)
    secret = re.search(r'<code class="secret">([A-Z2-7 ]+)</code>', page)
    assert uri is not None and secret is not None
    link = uri.group(1).replace("&amp;", "&")
    plain = secret.group(1).replace(" ", "")
    assert f"secret={plain}" in link and "olena" in link
    # The QR code is drawn on the server, inline, from that URI: no script, no request.
    assert str(qr_svg(link)) in page and "<script" not in page.split("</head>")[1]

    answer = post_form(client, "/account/totp/confirm", {"code": wrong_code(plain)},
                       page="/account/totp")
    assert answer.status_code == 400 and "That code is not right" in answer.text
    assert plain in answer.text.replace(" ", "")  # the same key again, not a new one
    assert not get_user(home.engine, "olena").totp_enabled  # type: ignore[union-attr]

    answer = post_form(client, "/account/totp/confirm",
                       {"code": pyotp.TOTP(plain).now()}, page="/account/totp")
    assert answer.status_code == 303
    assert get_user(home.engine, "olena").totp_enabled  # type: ignore[union-attr]
    # This session continues (with a new token); the next sign-in needs a code.
    page = client.get("/account", headers=HTML)
    assert page.status_code == 200 and "authenticator app on" in page.text
    assert sign_in(other_browser(client), "olena", code="").status_code == 401
    assert sign_in(other_browser(client), "olena").status_code == 303  # app_code types it


def test_a_session_from_before_enrolment_ends_with_it(client: TestClient) -> None:
    elsewhere = other_browser(client)
    sign_in(elsewhere, "olena")
    sign_in(client, "olena")
    enrol(client)
    assert client.get("/", headers=HTML).status_code == 200
    assert elsewhere.get("/", headers=HTML).status_code == 303


def test_turning_the_app_off_needs_the_password_and_is_not_for_admins(
        client: TestClient, home: Home) -> None:
    sign_in(client, "olena")
    enrol(client)
    answer = post_form(client, "/account/totp/disable", {"current": "wrong password here"},
                       page="/account/totp")
    assert answer.status_code == 400
    assert get_user(home.engine, "olena").totp_enabled  # type: ignore[union-attr]
    answer = post_form(client, "/account/totp/disable", {"current": PASSWORD},
                       page="/account/totp")
    assert answer.status_code == 303
    assert not get_user(home.engine, "olena").totp_enabled  # type: ignore[union-attr]

    admin = other_browser(client)
    sign_in(admin, "admin")
    page = admin.get("/account/totp", headers=HTML).text
    assert "Administrators must keep it on" in page and "/account/totp/disable" not in page
    answer = post_form(admin, "/account/totp/disable", {"current": PASSWORD},
                       page="/account/totp")
    assert answer.status_code == 403
    assert get_user(home.engine, "admin").totp_enabled  # type: ignore[union-attr]
    # Nor can an enrolled app be replaced by starting again (that would switch it off).
    answer = post_form(admin, "/account/totp/begin", {}, page="/account/totp")
    assert answer.status_code == 409
    assert get_user(home.engine, "admin").totp_enabled  # type: ignore[union-attr]


# API tokens


def test_tokens_are_made_shown_once_listed_and_revoked(client: TestClient,
                                                       home: Home) -> None:
    sign_in(client, "taras")
    answer = post_form(client, "/account/tokens", {"name": "field upload script"},
                       page="/account/tokens")
    assert answer.status_code == 200
    found = re.search(r"svk_[A-Za-z0-9_-]{43}", answer.text)
    assert found is not None
    raw = found.group(0)
    assert lookup_token(home.engine, raw) is not None
    page = client.get("/account/tokens", headers=HTML).text
    assert "field upload script" in page and raw not in page and "svk_" not in page
    token_id = re.search(r'action="/account/tokens/(\d+)/revoke"', page)
    assert token_id is not None
    answer = post_form(client, f"/account/tokens/{token_id.group(1)}/revoke", {},
                       page="/account/tokens")
    assert answer.status_code == 303
    assert lookup_token(home.engine, raw) is None
    page = client.get("/account/tokens", headers=HTML).text
    assert "revoked" in page and "/revoke" not in page


def test_expiring_and_expired_tokens_say_so(client: TestClient, home: Home) -> None:
    taras = get_user(home.engine, "taras")
    assert taras is not None
    now = datetime.now(UTC)
    create_token(home.engine, taras.id, "old phone", now=now - timedelta(days=3),
                 expires_at=now - timedelta(days=1))
    create_token(home.engine, taras.id, "field phone", expires_at=now + timedelta(days=30))
    sign_in(client, "taras")
    page = client.get("/account/tokens", headers=HTML).text
    rows = {name: row for row in page.split("<tr>")[2:]
            for name in ("old phone", "field phone") if name in row}
    assert "expired" in rows["old phone"] and "/revoke" not in rows["old phone"]
    assert "revoked" not in rows["old phone"]
    until = (now + timedelta(days=30)).strftime("%Y-%m-%d")
    assert f"active until {until}" in rows["field phone"] and "/revoke" in rows["field phone"]


def test_a_token_needs_a_name_and_only_its_owner_revokes_it(client: TestClient,
                                                            home: Home) -> None:
    sign_in(client, "taras")
    answer = post_form(client, "/account/tokens", {"name": "  "}, page="/account/tokens")
    assert answer.status_code == 400 and "svk_" not in answer.text
    post_form(client, "/account/tokens", {"name": "mine"}, page="/account/tokens")
    page = client.get("/account/tokens", headers=HTML).text
    token_id = re.search(r'action="/account/tokens/(\d+)/revoke"', page)
    assert token_id is not None
    other = other_browser(client)
    sign_in(other, "olena")
    answer = post_form(other, f"/account/tokens/{token_id.group(1)}/revoke", {},
                       page="/account/tokens")
    assert answer.status_code == 404
    assert "/revoke" in client.get("/account/tokens", headers=HTML).text


def test_a_role_without_api_tokens_gets_no_tokens_page(client: TestClient) -> None:
    sign_in(client, "vira")
    assert client.get("/account/tokens", headers=HTML).status_code == 403
    assert "/account/tokens" not in client.get("/account", headers=HTML).text
    answer = post_form(client, "/account/tokens", {"name": "sneaky"})
    assert answer.status_code == 403 and "svk_" not in answer.text


# CSRF


def account_posts(client: TestClient) -> list[str]:
    found = []
    for route in _flattened(client.app.routes):  # type: ignore[attr-defined]
        if isinstance(route, APIRoute) and "POST" in (route.methods or ()) \
                and route.path.startswith("/account"):
            found.append(route.path_format.replace("{token_id}", "1"))
    return found


def test_every_account_form_needs_the_csrf_token(client: TestClient, home: Home) -> None:
    sign_in(client, "olena")
    post_form(client, "/account/tokens", {"name": "kept"}, page="/account/tokens")
    paths = account_posts(client)
    assert len(paths) >= 7, paths
    fields = {"language": "uk", "current": PASSWORD, "new": NEW_PASSWORD,
              "again": NEW_PASSWORD, "code": "123456", "name": "forged"}
    for path in paths:
        for token in ("forged", ""):
            answer = client.post(path, data={**fields, "csrf_token": token}, headers=HTML)
            assert answer.status_code == 403, (path, token)
        assert client.post(path, data=fields, headers=HTML).status_code == 403, path
    user = get_user(home.engine, "olena")
    assert user is not None and user.language == "en" and not user.totp_enabled
    assert sign_in(other_browser(client), "olena").status_code == 303  # password unchanged
    page = client.get("/account/tokens", headers=HTML).text
    assert "forged" not in page and "/revoke" in page


def test_the_fixture_admin_types_fresh_codes(client: TestClient, home: Home) -> None:
    # The helper others rely on: each sign-in uses a code not used before.
    first = app_code(client, "admin")
    assert sign_in(client, "admin", code=first).status_code == 303
    assert app_code(client, "admin") != first
