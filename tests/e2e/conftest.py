"""End to end: Debian's chromium, headless, driven by Playwright against ``svidok serve`` on
127.0.0.1, over a demo data folder built once per run (see served.py).

The demo, the server and the browser live for this folder's tests only (package scope): the
rest of the suite never shares a process or an event loop with them. A failing test's report
carries what the server wrote to stderr, the page's address, and a screenshot saved next to
the demo (the path is in the report).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright

from chromium import launch_options, need_chromium
from e2e.served import (
    Demo,
    Served,
    build_demo,
    new_context,
)

# Generous: a loaded CI machine may take seconds for an upload job or a proof check.
expect.set_options(timeout=30_000)

_state: dict[str, object] = {}


@pytest.fixture(scope="package")
def e2e_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    found = tmp_path_factory.mktemp("e2e")
    _state["dir"] = found
    return found


@pytest.fixture(scope="package")
def demo(e2e_dir: Path) -> Demo:
    """The sample evidence ingested and enriched, as ``make run`` does, and its people:
    built once, since enrichment takes a while."""
    return build_demo(e2e_dir / "demo")


@pytest.fixture(scope="package")
def server(demo: Demo, e2e_dir: Path) -> Iterator[Served]:
    with Served(demo.home, e2e_dir) as served:
        _state["server"] = served
        yield served
    _state.pop("server", None)


@pytest.fixture(scope="package")
def base_url(server: Served) -> str:
    return server.url


@pytest.fixture(scope="package")
def playwright_driver() -> Iterator[Playwright]:
    need_chromium()
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def browser(playwright_driver: Playwright) -> Iterator[Browser]:
    launched = playwright_driver.chromium.launch(**launch_options())
    try:
        yield launched
    finally:
        launched.close()


@pytest.fixture
def context(browser: Browser, server: Served) -> Iterator[BrowserContext]:
    """A fresh browser profile (no cookies) for one test."""
    fresh = new_context(browser)
    try:
        yield fresh
    finally:
        fresh.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]
                              ) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if not report.failed or report.when == "teardown":
        return
    served = _state.get("server")
    if isinstance(served, Served):
        report.sections.append(("svidok serve stderr", served.stderr()[-6000:] or "(empty)"))
    funcargs = getattr(item, "funcargs", {})
    for value in funcargs.values():
        if isinstance(value, Page) and not value.is_closed():
            where = _state.get("dir")
            lines = [f"page at {value.url}"]
            if isinstance(where, Path):
                shot = where / (re.sub(r"[^\w.-]+", "_", item.name) + ".png")
                try:
                    value.screenshot(path=str(shot), full_page=True, timeout=10_000)
                    lines.append(f"screenshot: {shot}")
                except Exception as exc:  # the browser may be what failed
                    lines.append(f"no screenshot: {exc}")
            report.sections.append(("browser", "\n".join(lines)))
            break
