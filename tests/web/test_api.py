"""The JSON API under /api/v1: personal tokens (and what ends them), the same permissions as
the pages, the answers' shapes, paging caps, and bad parameters answered with 4xx."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from svidok.access import GRANTS, AccessError, disable_user, get_user, list_tokens, revoke_token
from svidok.access import totp as second_factor
from svidok.db.schema import users
from svidok.home import Home

from .api_helpers import BINARY, DATA, bearer, fill, token_for
from .conftest import HTML, enrol_totp, form_token, sign_in
from .test_gate import every_route

READ_ROUTES = ("/api/v1/status", "/api/v1/items", "/api/v1/items/1",
               "/api/v1/items/1/original", "/api/v1/search", "/api/v1/search?q=x")
# Open to anyone signed in, whatever their role: their own account, and the API's schema.
ANYONE = ("/api/v1/me", "/api/v1/openapi.json")


def api_routes(client: TestClient) -> list[tuple[str, str]]:
    return [(m, p) for m, p in every_route(client) if p.startswith("/api/")]


def test_the_api_has_its_routes(client: TestClient) -> None:
    paths = {p for _, p in api_routes(client)}
    assert set(READ_ROUTES) - {"/api/v1/search?q=x"} | set(ANYONE) <= paths


def test_a_stranger_gets_401_everywhere_never_a_redirect(client: TestClient) -> None:
    for method, path in api_routes(client):
        for headers in (HTML, {"accept": "application/json"}, {}):
            answer = client.request(method, path, headers=headers)
            assert answer.status_code == 401, (method, path, headers)
            assert answer.headers["www-authenticate"].startswith("Bearer"), path
            assert answer.json() == {"detail": "sign in first"}


NOT_TOKENS = ("Bearer svk_" + "A" * 43,  # well-formed, unknown
              "Bearer not-a-token", "Bearer", "Basic b2xlbmE6cGFzc3dvcmQ=",
              "svk_" + "A" * 43, "Bearer svk_" + "A" * 300)


def test_a_token_that_is_not_one_gets_401_invalid_token(client: TestClient) -> None:
    for authorization in NOT_TOKENS:
        for method, path in api_routes(client):
            answer = client.request(method, path, headers={"authorization": authorization,
                                                           "accept": "text/html"})
            assert answer.status_code == 401, (authorization, method, path)
            assert answer.headers["www-authenticate"] == 'Bearer error="invalid_token"'
            assert "not valid" in answer.json()["detail"]


def test_a_valid_token_reads_everything_its_role_may(client: TestClient, home: Home,
                                                    tmp_path: Path) -> None:
    ids = fill(home, tmp_path)
    token = token_for(home, "olena")
    me = client.get("/api/v1/me", headers=bearer(token))
    assert me.status_code == 200
    assert me.json() == {"id": get_user(home.engine, "olena").id,  # type: ignore[union-attr]
                         "name": "olena", "role": "analyst", "language": "en",
                         "permissions": ["api.tokens", "items.read", "items.status"],
                         "signed_in_with": "token"}
    assert list_tokens(home.engine, me.json()["id"])[0].last_used_at is not None

    status = client.get("/api/v1/status", headers=bearer(token)).json()
    assert status["items"]["stored"] == len(set(ids.values())) and status["originals"] >= 4
    assert status["checkpoint"]["size"] > 0 and len(status["checkpoint"]["root"]) == 64
    assert "home" not in status  # the data folder's path is no client's business

    listed = client.get("/api/v1/items", params={"state": "stored", "limit": 2},
                        headers=bearer(token)).json()
    assert listed["total"] == len(set(ids.values())) and len(listed["items"]) == 2
    assert listed["items"][0]["id"] > listed["items"][1]["id"]  # newest first
    files = client.get("/api/v1/items", params={"kind": "file", "limit": 100},
                       headers=bearer(token)).json()
    assert {i["original_name"] for i in files["items"]} >= {"lyst.txt", "photo.jpg"}

    item = client.get(f"/api/v1/items/{ids['lyst.txt']}", headers=bearer(token)).json()
    assert item["sha256"] == hashlib.sha256(
        (tmp_path / "evidence" / "lyst.txt").read_bytes()).hexdigest()
    assert item["original"]["size"] == len((tmp_path / "evidence" / "lyst.txt").read_bytes())
    assert "blob_path" not in item
    assert {"runs", "annotations", "artifacts", "fingerprints", "duplicates"} == set(
        item["enrichment"])
    places = [a for a in item["enrichment"]["annotations"] if a["kind"] == "place"]
    assert places and all(0 <= a["confidence"] <= 1 for a in places)
    assert any(a["role"] == "text" for a in item["enrichment"]["artifacts"])
    message = client.get(f"/api/v1/items/{ids['chat 1001 message 7']}",
                         headers=bearer(token)).json()
    assert message["sha256"] is None and len(message["record_sha256"]) == 64
    assert message["record"]["text"] and message["parent_id"] is not None

    found = client.get("/api/v1/search", params={"q": "Makeevka", "facets": "true"},
                       headers=bearer(token)).json()
    assert [h["item_id"] for h in found["hits"]] == [ids["lyst.txt"]]
    hit = found["hits"][0]
    assert all(hit["snippet"][s:e] for s, e in hit["marks"])
    assert any(v["label"] == "Makiivka" for v in found["facets"]["place"])
    near = client.get("/api/v1/search", params={"place": "Макеевка"}, headers=bearer(token))
    assert [h["item_id"] for h in near.json()["hits"]] == [ids["lyst.txt"]]


def test_originals_download_as_bytes_and_only_safe_types_keep_their_type(
        client: TestClient, home: Home, tmp_path: Path) -> None:
    ids = fill(home, tmp_path)
    token = token_for(home, "taras")
    photo = client.get(f"/api/v1/items/{ids['photo.jpg']}/original", headers=bearer(token))
    assert photo.status_code == 200 and photo.content == (DATA / "photo.jpg").read_bytes()
    assert photo.headers["content-type"] == "image/jpeg"
    assert photo.headers["content-disposition"].startswith("attachment")
    for name, body in (("page.html", None), ("blob.bin", BINARY)):
        answer = client.get(f"/api/v1/items/{ids[name]}/original", headers=bearer(token))
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "application/octet-stream", name
        assert answer.headers["x-content-type-options"] == "nosniff"
        if body is not None:
            assert answer.content == body
    assert client.get("/api/v1/items/999999/original", headers=bearer(token)).status_code \
        == 404
    record = client.get(f"/api/v1/items/{ids['chat 1001 message 7']}/original",
                        headers=bearer(token))
    assert record.status_code == 404 and "no bytes of its own" in record.json()["detail"]


def test_revoked_expired_and_disabled_owners_tokens_are_refused(client: TestClient,
                                                                home: Home) -> None:
    olena = get_user(home.engine, "olena")
    assert olena is not None
    revoked = token_for(home, "olena")
    assert client.get("/api/v1/me", headers=bearer(revoked)).status_code == 200
    revoke_token(home.engine, list_tokens(home.engine, olena.id)[0].id)
    assert client.get("/api/v1/me", headers=bearer(revoked)).status_code == 401

    now = datetime.now(UTC)
    expired = token_for(home, "olena", now=now - timedelta(days=3),
                        expires_at=now - timedelta(days=1))
    assert client.get("/api/v1/me", headers=bearer(expired)).status_code == 401
    later = token_for(home, "olena", expires_at=now + timedelta(days=2))
    assert client.get("/api/v1/me", headers=bearer(later)).status_code == 200
    assert list_tokens(home.engine, olena.id)[-1].expires_at is not None

    disable_user(home.engine, "olena")
    assert client.get("/api/v1/me", headers=bearer(later)).status_code == 401
    # Revoked by disabling, its expiry kept apart; the expired one stays merely expired.
    _revoked, lapsed, disabled = list_tokens(home.engine, olena.id)
    assert lapsed.revoked_at is None and lapsed.expires_at is not None
    assert disabled.revoked_at is not None and disabled.expires_at is not None
    with home.engine.begin() as conn:  # enabling again does not revive her tokens
        conn.execute(update(users).where(users.c.name == "olena").values(disabled=False))
    assert client.get("/api/v1/me", headers=bearer(later)).status_code == 401


def test_a_viewer_gets_no_token_and_a_role_that_loses_tokens_stops_them(
        client: TestClient, home: Home) -> None:
    with pytest.raises(AccessError, match="may not hold API tokens"):
        token_for(home, "vira")
    token = token_for(home, "taras")
    assert client.get("/api/v1/items", headers=bearer(token)).status_code == 200
    with home.engine.begin() as conn:
        conn.execute(update(users).where(users.c.name == "taras").values(role="viewer"))
    assert client.get("/api/v1/items", headers=bearer(token)).status_code == 401


def test_tokens_work_only_on_the_api(client: TestClient, home: Home) -> None:
    token = token_for(home, "olena")
    page = client.get("/", headers={**bearer(token), "accept": "text/html"})
    assert page.status_code == 303 and page.headers["location"].startswith("/sign-in")
    assert client.get("/search", headers=bearer(token)).status_code == 401


def test_a_bad_token_is_refused_even_beside_a_good_session(client: TestClient,
                                                           home: Home) -> None:
    assert sign_in(client, "olena").status_code == 303
    assert client.get("/api/v1/me").json()["signed_in_with"] == "session"
    answer = client.get("/api/v1/me", headers={"authorization": "Bearer svk_wrong"})
    assert answer.status_code == 401


def _statuses(client: TestClient, headers: dict[str, str]) -> dict[str, int]:
    return {path: client.get(path, headers=headers).status_code
            for path in READ_ROUTES + ANYONE}


def test_a_token_has_exactly_the_permissions_of_its_owners_session(
        client: TestClient, home: Home, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("olena", "taras"):
        by_token = _statuses(client, bearer(token_for(home, name)))
        client.cookies.clear()
        assert sign_in(client, name).status_code == 303
        by_session = _statuses(client, {"accept": "application/json"})
        assert by_token == by_session, name
        assert by_token["/api/v1/items"] == 200 and by_token["/api/v1/items/1"] == 404
    # A viewer reads with a session, as on the pages.
    client.cookies.clear()
    sign_in(client, "vira")
    assert client.get("/api/v1/items").status_code == 200
    assert client.get("/", headers=HTML).status_code == 200

    # A role without items.read is refused on the API as on the pages, token or session.
    monkeypatch.setitem(GRANTS, "analyst", frozenset({"api.tokens"}))
    client.cookies.clear()
    sign_in(client, "olena")
    by_session = _statuses(client, {"accept": "application/json"})
    by_token = _statuses(client, bearer(token_for(home, "olena")))
    assert by_token == by_session
    assert all(by_token[p] == 403 for p in READ_ROUTES), by_token
    assert all(by_token[p] == 200 for p in ANYONE), by_token
    assert client.get("/", headers=HTML).status_code == 403


def test_every_api_route_needs_its_permission(client: TestClient, home: Home,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Deny by default: a token whose role holds nothing but api.tokens reaches only the
    routes open to anyone signed in (a route that forgot its permission fails here)."""
    token = token_for(home, "olena")
    monkeypatch.setitem(GRANTS, "analyst", frozenset({"api.tokens"}))
    for method, path in api_routes(client):
        answer = client.request(method, path, headers=bearer(token))
        expected = 200 if path in ANYONE else 403
        assert answer.status_code == expected, (method, path, answer.text)


def test_duties_come_first_for_tokens_too(client: TestClient, home: Home) -> None:
    admin = token_for(home, "admin")
    assert client.get("/api/v1/items", headers=bearer(admin)).status_code == 200
    second_factor.disable(home.engine, "admin")
    held = client.get("/api/v1/items", headers=bearer(admin))
    assert held.status_code == 403 and "second factor" in held.json()["detail"]
    enrol_totp(home, "admin")
    assert client.get("/api/v1/items", headers=bearer(admin)).status_code == 200
    with home.engine.begin() as conn:
        conn.execute(update(users).where(users.c.name == "taras")
                     .values(must_change_password=True))
    held = client.get("/api/v1/items", headers=bearer(token_for(home, "taras")))
    assert held.status_code == 403 and "one-time password" in held.json()["detail"]


BAD_PARAMETERS = [
    ("/api/v1/items", {"limit": "101"}, "limit"),
    ("/api/v1/items", {"limit": "0"}, "limit"),
    ("/api/v1/items", {"offset": "100001"}, "offset"),
    ("/api/v1/items", {"offset": "-1"}, "offset"),
    ("/api/v1/items", {"state": "lost"}, "state"),
    ("/api/v1/items", {"kind": "File; DROP"}, "kind"),
    ("/api/v1/items", {"parent": str(2**31)}, "parent"),
    ("/api/v1/items", {"limit": "many"}, "limit"),
    ("/api/v1/search", {"limit": "101"}, "limit"),
    ("/api/v1/search", {"from": "not-a-date"}, "from"),
    ("/api/v1/search", {"to": "2024-02-30"}, "to"),
    ("/api/v1/search", {"from": "2024-05-01", "to": "2024-04-01"}, "to"),
    ("/api/v1/search", {"place": "Nowhereville-on-Sea"}, "place"),
    ("/api/v1/search", {"place": "99999999999999999999"}, "place"),
    ("/api/v1/search", {"place": "\u00b2"}, "place"),  # a digit int() cannot read
    ("/api/v1/search", {"source": "0"}, "source"),
    ("/api/v1/search", {"q": "blockpost\x00"}, "q"),
    ("/api/v1/search", {"channel": "a\nb"}, "channel"),
    ("/api/v1/search", {"q": " ".join(f"w{i}" for i in range(200))}, "q"),
    ("/api/v1/search", {"facets": "perhaps"}, "facets"),
]


def test_bad_parameters_get_422_naming_them(client: TestClient, home: Home) -> None:
    token = token_for(home, "olena")
    for path, params, name in BAD_PARAMETERS:
        answer = client.get(path, params=params, headers=bearer(token))
        assert answer.status_code == 422, (path, params, answer.text)
        detail: list[dict[str, Any]] = answer.json()["detail"]
        assert [d["loc"] for d in detail] == [["query", name]], (path, params)
        assert detail[0]["msg"]


def test_item_ids_out_of_range_get_422(client: TestClient, home: Home) -> None:
    token = token_for(home, "olena")
    for item_id in ("0", "-3", str(2**31), "x", "1.5"):
        for suffix in ("", "/original"):
            answer = client.get(f"/api/v1/items/{item_id}{suffix}", headers=bearer(token))
            assert answer.status_code == 422, (item_id, suffix)


def test_paging_walks_every_item_once(client: TestClient, home: Home,
                                      tmp_path: Path) -> None:
    ids = fill(home, tmp_path)
    token = token_for(home, "olena")
    seen: list[int] = []
    for offset in range(0, len(ids) + 2, 2):
        page = client.get("/api/v1/items", params={"limit": 2, "offset": offset},
                          headers=bearer(token)).json()
        assert page["limit"] == 2 and page["offset"] == offset
        seen += [i["id"] for i in page["items"]]
    assert sorted(seen) == sorted(set(ids.values()))
    everything = client.get("/api/v1/search", headers=bearer(token)).json()
    assert everything["total"] >= 2
    one_by_one = [client.get("/api/v1/search", params={"limit": 1, "offset": n},
                             headers=bearer(token)).json()["hits"]
                  for n in range(everything["total"])]
    assert all(len(hits) == 1 for hits in one_by_one)
    assert sorted(h[0]["item_id"] for h in one_by_one) == sorted(
        h["item_id"] for h in everything["hits"])


def test_the_schema_is_for_signed_in_people_and_holds_only_the_api(
        client: TestClient, home: Home) -> None:
    assert client.get("/api/v1/openapi.json").status_code == 401
    for off in ("/openapi.json", "/docs", "/redoc"):
        assert client.get(off).status_code == 401
    token = token_for(home, "olena")
    schema = client.get("/api/v1/openapi.json", headers=bearer(token)).json()
    assert schema["openapi"].startswith("3.")
    assert schema["paths"] and all(p.startswith("/api/v1/") for p in schema["paths"])
    assert "/api/v1/openapi.json" not in schema["paths"]
    assert {"/api/v1/me", "/api/v1/items/{item_id}", "/api/v1/search"} <= set(schema["paths"])
    assert schema["components"]["securitySchemes"]["bearer"] == {
        "type": "http", "scheme": "bearer",
        "description": "a personal API token, svk_ and 43 characters"}
    assert {"bearer": []} in schema["security"]
    shapes = set()
    for operations in schema["paths"].values():
        for operation in operations.values():
            assert {"401", "403"} <= set(operation["responses"])
            # One documented shape a status: a 422 is FastAPI's list of refused values,
            # every other 4xx a sentence.
            for code, response in operation["responses"].items():
                if code.startswith("4"):
                    wanted = "HTTPValidationError" if code == "422" else "Error"
                    assert response["content"] == {"application/json": {"schema": {
                        "$ref": f"#/components/schemas/{wanted}"}}}, (operation, code)
                    shapes.add(code)
    assert "422" in shapes and "409" in shapes
    # Page-only models (none yet) and nothing dangling: every reference resolves.
    text = str(schema)
    for name in schema["components"]["schemas"]:
        assert f"#/components/schemas/{name}" in text
    assert sign_in(client, "vira").status_code == 303  # signed in, FastAPI's own are off
    for off in ("/openapi.json", "/docs", "/redoc"):
        assert client.get(off).status_code == 404
    assert client.get("/api/v1/openapi.json").json() == schema


def test_api_writes_need_the_csrf_token_with_a_session_and_not_with_a_token(
        client: TestClient, home: Home, tmp_path: Path) -> None:
    """A browser attaches the session cookie to any request a hostile page makes, never an
    Authorization header: so a session's writes need the CSRF token, a token's do not."""
    item = fill(home, tmp_path)["lyst.txt"]
    path = f"/api/v1/items/{item}/status"
    assert sign_in(client, "olena").status_code == 303
    csrf = form_token(client.get("/", headers=HTML).text)
    forged = client.post(path, json={"status": "in_progress"})
    assert forged.status_code == 403 and "out of date" in forged.json()["detail"]
    wrong = client.post(path, json={"status": "in_progress"}, headers={"x-csrf-token": "x"})
    assert wrong.status_code == 403
    done = client.post(path, json={"status": "in_progress"}, headers={"x-csrf-token": csrf})
    assert done.status_code == 200, done.text

    client.cookies.clear()
    token = token_for(home, "olena")
    by_token = client.post(path, json={"status": "verified"}, headers=bearer(token))
    assert by_token.status_code == 200, by_token.text
    assert by_token.json()["decision"]["decided_by"].endswith("olena")
    # A documenter's token may not decide, as on the pages.
    refused = client.post(path, json={"status": "disputed"},
                          headers=bearer(token_for(home, "taras")))
    assert refused.status_code == 403
