"""Headless Chromium for a capture: render the page as recorded, screenshot it, and report
what it loaded.

Playwright drives Debian's /usr/bin/chromium, never a downloaded browser, with a fresh
temporary profile and background networking off, so the only traffic is the page's own.
The page itself is not fetched a second time: the browser is handed the response the
capture recorded (``route.fulfill``), so the screenshot shows the bytes in the WARC.

``html_facts`` finds in the page's HTML the images, videos and audio ``MEDIA_JS`` finds in
the DOM, so they are fetched without a browser too, or when the browser never loaded them;
keep the two in step.

Playwright's async API, run in a loop of our own: some of its calls take no timeout
(``response.body()`` waits as long as the server does, ``page.title()`` as long as a busy
script does), and only ``asyncio.wait_for`` bounds them.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page, Request, Response, Route, async_playwright
from playwright.async_api import TimeoutError as PlaywrightTimeoutError

from svidok.sources.web import CaptureOptions
from svidok.sources.web_fetch import Exchange

# Background networking, component updates and sync would call Google; a closed network
# refuses them and an open one should not see them. No sandbox: it needs user namespaces,
# which containers and hardened kernels often lack; the profile is thrown away anyway.
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WANTED = frozenset({"image", "media", "stylesheet", "script", "font"})
WHOLE_FILES = frozenset({"image", "media"})  # fetched directly when the browser has no body
# A body crosses Playwright's pipe in memory, base64-encoded; bigger ones go direct.
MAX_BODY = 64 * 1024 * 1024
IDLE_MS = 3000  # images and videos often start after "load"; a short quiet spell catches most
GRACE_MS = 10_000  # a page that never finished loading still gets this long for a screenshot
READ_SECONDS = 5.0  # for the title, the DOM's media, and each body the browser holds
CLOSE_SECONDS = 10.0
NOT_FORWARDED = frozenset({"connection", "keep-alive", "proxy-connection", "transfer-encoding",
                           "content-length", "content-encoding", "te", "trailer", "upgrade"})
MEDIA_JS = """() => {
  const urls = [];
  for (const e of document.querySelectorAll('img')) urls.push(e.currentSrc || e.src);
  for (const e of document.querySelectorAll('video, audio')) {
    urls.push(e.currentSrc || e.src);
    if (e.poster) urls.push(e.poster);
    for (const s of e.querySelectorAll('source')) urls.push(s.src);
  }
  return urls.filter(u => u);
}"""
MAX_HTML_PARSE = 32 * 1024 * 1024


T = TypeVar("T")


class BrowserError(Exception):
    """Chromium could not be started or driven at all."""


@dataclass
class Loaded:
    """One response the browser received for the page."""

    url: str
    kind: str  # Playwright's resource type: image, media, stylesheet, script, font
    at: datetime  # when its headers arrived
    status: int
    reason: str
    headers: list[tuple[str, str]]
    content_type: str | None
    body: bytes | None  # after Chromium removed any Content-Encoding; None: not handed over
    problem: str | None = None


@dataclass
class Rendered:
    title: str | None = None
    screenshot: bool = False
    media_urls: list[str] = field(default_factory=list)  # images, videos, audio in the DOM
    incomplete: list[str] = field(default_factory=list)  # loaded only in part, or not at all
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _ms(deadline: float, least: int = 1) -> int:
    # Playwright reads a timeout of 0 as "wait for ever".
    return max(least, int((deadline - time.monotonic()) * 1000))


async def _within(step: Awaitable[T], deadline: float) -> T:
    return await asyncio.wait_for(step, max(0.001, min(READ_SECONDS,
                                                       deadline - time.monotonic())))


def _line(exc: BaseException) -> str:
    # Playwright appends a multi-line call log; its first line says what happened.
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _forwarded(headers: list[tuple[str, str]]) -> dict[str, str]:
    joined: dict[str, str] = {}
    for name, value in headers:
        key = name.lower()
        if key in NOT_FORWARDED:
            continue
        if key in joined:
            value = joined[key] + ("\n" if key == "set-cookie" else ", ") + value
        joined[key] = value
    return joined


def html_facts(exchange: Exchange) -> tuple[str | None, list[str]]:
    """The title and the images, videos and audio a page's HTML names, as absolute URLs."""
    if exchange.size == 0 or exchange.size > MAX_HTML_PARSE:
        return None, []
    import lxml.html
    from lxml.etree import ParserError

    try:
        doc = lxml.html.document_fromstring(exchange.body.read_bytes(),
                                            base_url=exchange.url)
    except (ParserError, ValueError):
        return None, []
    title = doc.findtext(".//title")
    doc.make_links_absolute(handle_failures="discard")
    urls = [*doc.xpath("//img/@src"), *doc.xpath("//video/@src"), *doc.xpath("//video/@poster"),
            *doc.xpath("//audio/@src"), *doc.xpath("//video/source/@src"),
            *doc.xpath("//audio/source/@src")]
    return (title.strip() or None) if title else None, [str(u) for u in urls]


def render(main: Exchange, shot: Path, options: CaptureOptions, deadline: float,
           keep: Callable[[Loaded], bool]) -> Rendered:
    """Render ``main`` (a complete page response) in Chromium: screenshot to ``shot``, and
    hand each image, video, stylesheet, script and font it loaded to ``keep`` until that
    returns False. Loading gets until ``deadline``; the screenshot and the hand-over a few
    seconds more, so a page that never finished is still shown as it was."""
    rendered = Rendered()
    try:
        asyncio.run(_render(main, shot, options, deadline, keep, rendered))
    except PlaywrightError as exc:
        raise BrowserError(f"the browser failed ({_line(exc)})") from None
    return rendered


async def _render(main: Exchange, shot: Path, options: CaptureOptions, deadline: float,
                  keep: Callable[[Loaded], bool], rendered: Rendered) -> None:
    with tempfile.TemporaryDirectory(prefix="svidok-chromium-") as profile:
        async with async_playwright() as pw:
            try:
                context = await pw.chromium.launch_persistent_context(
                    profile, executable_path=options.chromium, headless=True, args=ARGS,
                    ignore_https_errors=options.insecure, user_agent=options.user_agent,
                    service_workers="block", accept_downloads=False, timeout=_ms(deadline))
            except PlaywrightError as exc:
                raise BrowserError(f"Chromium did not start ({_line(exc)})") from None
            try:
                page = await context.new_page()
                seen = await _load(page, main, shot, options, deadline, rendered)
                await _hand_over(seen, rendered, keep,
                                 max(deadline, time.monotonic()) + GRACE_MS / 1000)
            finally:
                # Leaving async_playwright stops the driver, which ends the browser anyway.
                with suppress(PlaywrightError, TimeoutError):
                    await asyncio.wait_for(context.close(), CLOSE_SECONDS)


@dataclass
class _Seen:
    responses: list[tuple[Response, datetime]] = field(default_factory=list)
    finished: set[Request] = field(default_factory=set)
    failed: list[Request] = field(default_factory=list)


async def _load(page: Page, main: Exchange, shot: Path, options: CaptureOptions,
                deadline: float, rendered: Rendered) -> _Seen:
    seen = _Seen()
    page.on("response", lambda r: seen.responses.append((r, datetime.now(UTC))))
    # Lambdas: Playwright tags each handler with an attribute, which a bound builtin refuses.
    page.on("requestfinished", lambda r: seen.finished.add(r))
    page.on("requestfailed", lambda r: seen.failed.append(r))
    served = False

    async def serve(route: Route) -> None:
        nonlocal served
        request = route.request
        if served or not request.is_navigation_request() or request.frame.parent_frame:
            await route.fallback()
            return
        served = True
        # Bytes, not path=: with a path Playwright replaces Content-Type with a guess.
        await route.fulfill(status=main.status, headers=_forwarded(main.headers),
                            body=main.body.read_bytes())

    encoding = (main.header("Content-Encoding") or "identity").strip().lower()
    if encoding == "identity" and main.size <= MAX_BODY:
        await page.route(lambda url: url.split("#")[0] == main.url, serve)
    try:
        await page.goto(main.url, wait_until="load", timeout=_ms(deadline))
    except PlaywrightTimeoutError:
        rendered.errors.append(f"the page did not finish loading within {options.timeout:g} s;"
                               " the screenshot shows it as it was then")
    except PlaywrightError as exc:
        rendered.errors.append(f"the browser could not load the page ({_line(exc)})")
        return seen
    else:
        # Something may keep loading (a stream, a poll); what arrived by then is enough.
        with suppress(PlaywrightTimeoutError):
            await page.wait_for_load_state("networkidle", timeout=min(IDLE_MS, _ms(deadline)))
    if not served:
        rendered.notes.append("the browser fetched the page itself, so the screenshot may "
                              "differ from the recorded response")
    later = max(deadline, time.monotonic() + READ_SECONDS)
    try:
        rendered.title = await _within(page.title(), later) or None
        rendered.media_urls = [str(u) for u in await _within(page.evaluate(MEDIA_JS), later)]
    except (PlaywrightError, TimeoutError) as exc:  # a busy script; one that navigated away
        rendered.notes.append(f"the page's title and media could not be read ({_line(exc)})")
    try:
        await page.screenshot(path=shot, full_page=True, timeout=_ms(deadline, GRACE_MS))
        rendered.screenshot = True
    except PlaywrightError as exc:
        rendered.errors.append(f"the screenshot failed ({_line(exc)})")
    return seen


async def _hand_over(seen: _Seen, rendered: Rendered, keep: Callable[[Loaded], bool],
                     deadline: float) -> None:
    rendered.incomplete += [r.url for r in seen.failed if r.resource_type in WHOLE_FILES]
    for response, at in seen.responses:
        request = response.request
        kind, url, status = request.resource_type, response.url, response.status
        if kind not in WANTED or not url.startswith(("http:", "https:")):
            continue
        whole = kind in WHOLE_FILES
        length = response.headers.get("content-length", "")
        too_big = length.isdigit() and int(length) > MAX_BODY
        if request not in seen.finished or status == 206 or too_big:
            if whole:
                rendered.incomplete.append(url)
            elif too_big:
                rendered.notes.append(f"{url}: larger than {MAX_BODY} bytes; not recorded")
            continue
        body: bytes | None = b""
        problem = None
        if not 300 <= status < 400:  # a redirect has no body to hand over
            try:
                # Chromium may call a load it cancelled (an image that is not one) finished;
                # its body then never comes.
                body = await _within(response.body(), deadline)
            except (PlaywrightError, TimeoutError) as exc:
                if whole:
                    rendered.incomplete.append(url)
                    continue
                body, problem = None, f"Chromium did not hand over the body ({_line(exc)})"
        headers = [(h["name"], h["value"]) for h in await response.headers_array()]
        content_type = response.headers.get("content-type", "").split(";")[0].strip() or None
        if not keep(Loaded(url, kind, at, status, response.status_text, headers, content_type,
                           body, problem)):
            return
