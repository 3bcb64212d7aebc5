"""The app served for real on 127.0.0.1 and Debian's Chromium driven by Playwright, for
tests of what runs in the browser (the proof check, the map).

    with live_server(home) as url, signed_in_page(home, url, "vira") as tab:
        tab.page.goto(url + "/items/1")

Chromium must be at /usr/bin/chromium (scripts/system-deps.sh installs it); without it these
tests skip, except under CI=true, where they fail. Every request the page makes to another
host is refused and listed in ``tab.outside`` (nothing may reach the internet).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import uvicorn
from playwright.sync_api import Page, Route, sync_playwright

from chromium import launch_options, need_chromium
from svidok.access import add_user, create_session, get_user
from svidok.home import Home
from svidok.web.app import create_app
from svidok.web.guard import SESSION_COOKIE

TIMEOUT_MS = 20_000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def live_server(home: Home) -> Iterator[str]:
    """The app over ``home`` on a free loopback port, in a thread; yields its base URL."""
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(home), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def session_token(home: Home, name: str, role: str = "viewer") -> str:
    """A live session for ``name`` (added with a known password if new), as its cookie."""
    user = get_user(home.engine, name)
    if user is None:
        user, _ = add_user(home.engine, name, role, "correct horse battery")
    token, _ = create_session(home.engine, user.id, second_factor_done=True)
    return token


@dataclass
class Tab:
    page: Page
    outside: list[str] = field(default_factory=list)  # refused requests to other hosts


@contextmanager
def signed_in_page(home: Home, url: str, name: str = "vira") -> Iterator[Tab]:
    """A headless Chromium page holding ``name``'s session cookie for ``url``."""
    need_chromium()
    token = session_token(home, name)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(**launch_options())
        try:
            context = browser.new_context(service_workers="block")
            context.set_default_timeout(TIMEOUT_MS)
            context.add_cookies([{"name": SESSION_COOKIE, "value": token, "url": url}])
            tab = Tab(context.new_page())
            here = urlsplit(url).netloc

            def refuse_elsewhere(route: Route) -> None:
                if urlsplit(route.request.url).netloc == here:
                    route.fallback()
                else:
                    tab.outside.append(route.request.url)
                    route.abort()

            context.route("**/*", refuse_elsewhere)
            yield tab
        finally:
            browser.close()
