"""Deny by default: every route is closed to a stranger, and each role reaches only what
its permissions allow."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import Mount

from svidok.access import GRANTS
from svidok.web.app import PUBLIC_PATHS

from .conftest import HTML, sign_in

FILLED = {"item_id": "1", "sha256": "0" * 64}


def _flattened(routes: list[Any]) -> list[Any]:
    # FastAPI keeps an included router as one entry wrapping the router's own routes.
    found = []
    for route in routes:
        inner = getattr(route, "original_router", None)
        found += _flattened(list(inner.routes)) if inner is not None else [route]
    return found


def every_route(client: TestClient) -> list[tuple[str, str]]:
    found = []
    for route in _flattened(client.app.routes):  # type: ignore[attr-defined]
        if isinstance(route, Mount):
            found.append(("GET", f"{route.path}/app.css"))
        elif isinstance(route, APIRoute):
            path = route.path_format.format(**{k: FILLED.get(k, "x") for k in
                                               route.param_convertors})
            found += [(method, path) for method in sorted(route.methods or ())]
    return found


def test_a_stranger_is_sent_to_sign_in_or_refused_everywhere(client: TestClient) -> None:
    routes = every_route(client)
    assert len(routes) >= 7
    for method, path in routes:
        if path in PUBLIC_PATHS or path.startswith("/static/"):
            continue
        page = client.request(method, path, headers=HTML)
        if method == "GET" and not path.startswith("/api/"):
            assert page.status_code == 303, path
            assert page.headers["location"].startswith("/sign-in?next="), path
        else:
            assert page.status_code == 401, (method, path)
        api = client.request(method, path, headers={"accept": "application/json"})
        assert api.status_code == 401, (method, path)
        if path.startswith("/api/"):  # the API never redirects, and says how to sign in
            assert page.headers["www-authenticate"].startswith("Bearer"), path
            forged = client.request(method, path, headers={
                "authorization": "Bearer svk_" + "A" * 43})
            assert forged.status_code == 401, (method, path)


def test_only_sign_in_and_static_files_are_public(client: TestClient) -> None:
    assert client.get("/sign-in", headers=HTML).status_code == 200
    assert client.get("/static/app.css").status_code == 200
    assert client.get("/static/vendor/htmx-2.0.11.min.js").status_code == 200


@pytest.mark.parametrize("name", ["admin", "olena", "taras", "vira"])
def test_each_role_reaches_what_it_may_read(client: TestClient, name: str) -> None:
    role = {"admin": "admin", "olena": "analyst", "taras": "documenter", "vira": "viewer"}
    assert sign_in(client, name).status_code == 303
    may_read = "items.read" in GRANTS[role[name]] or role[name] == "admin"
    for path in ("/", "/search", "/search?q=blockpost", "/api/v1/items", "/api/v1/status",
                 "/api/v1/search?q=blockpost"):
        page = client.get(path, headers=HTML)
        assert page.status_code == (200 if may_read else 403), (name, path)


def test_pages_forbid_framing_scripts_from_elsewhere_and_caching(client: TestClient) -> None:
    page = client.get("/sign-in", headers=HTML)
    assert page.headers["x-frame-options"] == "DENY"
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"


def test_static_files_and_refusals_carry_the_same_headers(client: TestClient) -> None:
    # The Gate adds them to whatever answers: a file, a redirect to sign in, a 401.
    for path, headers in (("/static/app.css", {}), ("/", HTML), ("/api/v1/items", {})):
        client.cookies.clear()  # a browser new here: it gets the pre-session CSRF cookie
        answer = client.get(path, headers=headers)
        assert answer.headers["x-frame-options"] == "DENY", answer.url
        assert answer.headers["x-content-type-options"] == "nosniff", answer.url
        assert "svidok_csrf=" in answer.headers["set-cookie"], answer.url


def test_a_static_file_does_not_look_up_the_session(client: TestClient,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    assert sign_in(client, "vira").status_code == 303
    looked_up: list[str] = []
    from svidok.web.sessions import live_viewer

    def spy(home: Any, token: str) -> Any:
        looked_up.append(token)
        return live_viewer(home, token)

    monkeypatch.setattr("svidok.web.app.live_viewer", spy)
    assert client.get("/static/app.css").status_code == 200
    assert looked_up == []
    assert client.get("/", headers=HTML).status_code == 200  # a page still does
    assert len(looked_up) == 1



def test_static_files_are_revalidated_not_refetched(client: TestClient) -> None:
    first = client.get("/static/app.css")
    assert first.headers["cache-control"] == "no-cache"
    again = client.get("/static/app.css", headers={"if-none-match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    assert client.get("/sign-in", headers=HTML).headers["cache-control"] == "no-store"


class _RecordingTracerProvider:
    """A tracer provider someone configured in the process (an OpenTelemetry SDK would be
    one): it notes every tracer asked of it."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def get_tracer(self, name: str, *args: Any, **kwargs: Any) -> Any:
        from opentelemetry.trace import NoOpTracer

        self.asked.append(name)
        return NoOpTracer()


def test_no_request_reaches_a_telemetry_exporter_even_when_one_is_configured(
        home: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Request paths carry search words and item numbers: FastAPI's own OpenTelemetry
    support would hand them to any tracer provider set up in the process."""
    from opentelemetry import trace

    from svidok.web.app import create_app

    provider = _RecordingTracerProvider()
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: provider)
    monkeypatch.setenv("FASTAPI_OTEL_AUTO_CONFIGURE", "true")
    with TestClient(create_app(home), follow_redirects=False) as client:
        assert client.get("/search?q=secret", headers=HTML).status_code == 303
        assert client.get("/static/app.css").status_code == 200
    assert provider.asked == []
