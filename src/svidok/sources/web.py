"""Capturing a URL: a web page or a direct link to a file, into a WARC with its context.

``capture(url, out_dir)`` fetches the URL with the standard library over a socket it
controls (web_fetch.py), so the WARC (web_warc.py) holds the exact bytes sent and received
(request and response records for every redirect hop), and for HTTPS the server's
certificate. What it fetched decides the rest:

* a page (HTML): headless Chromium (web_browser.py) renders *that* response, not a second
  download of it, takes a full-page screenshot and reports what the page loaded (images,
  video, audio, stylesheets, scripts, fonts), which become response records too. Images and
  videos the browser did not load completely (a video streamed in ranges, a lazy image,
  one larger than the browser hands over) are fetched directly, like the page.
* anything else (an image, a video, a PDF): no browser; the body is also kept as a file.

The folder gets ``capture.warc.gz``, ``capture.json`` (the capture context) and
``screenshot.png`` or the file. It is written under a hidden temporary name and renamed
when complete, so a crash never leaves a half capture that looks complete.

Bad input costs only its part: a page that never finishes keeps what arrived, marked
truncated; each failure is named in ``PageCapture.errors``. Nothing here logs page content.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
import os
import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from svidok.sources.problems import Problem
from svidok.sources.web_fetch import (
    REDIRECTS,
    CaptureError,
    Exchange,
    FetchError,
    FetchOptions,
    check_url,
    follow_redirects,
)
from svidok.sources.web_warc import Warc, tool_versions

if TYPE_CHECKING:
    from svidok.sources.web_browser import Loaded

CHROMIUM = "/usr/bin/chromium"
WARC_NAME = "capture.warc.gz"
CONTEXT_NAME = "capture.json"
SCREENSHOT_NAME = "screenshot.png"
FORMAT = "svidok-web-capture/1"
_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class CaptureOptions(FetchOptions):
    """Each fetch's options (timeout: the page, and each embedded file fetched directly),
    and the limits and browser of the capture as a whole."""

    max_resources: int = 300
    screenshot: bool = True  # False: no browser at all
    chromium: str = CHROMIUM


@dataclass
class Embedded:
    """A file the page loaded or embeds, as recorded in the WARC."""

    url: str
    kind: str  # image, media, stylesheet, script, font
    via: str  # "browser": as Chromium loaded it; "direct": fetched like the page
    status: int | None = None
    content_type: str | None = None
    size: int | None = None
    sha256: str | None = None
    truncated: str | None = None
    error: str | None = None


@dataclass
class PageCapture:
    """What ``capture`` did for one URL; ``folder`` is None when nothing was kept."""

    url: str
    final_url: str | None = None
    status: int | None = None
    kind: str | None = None  # "page" or "file"
    folder: Path | None = None
    file: str | None = None  # the body of a direct link, kept as a file in the folder
    title: str | None = None
    screenshot: bool = False
    embedded: list[Embedded] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def error(self) -> str | None:
        return "; ".join(p.message for p in self.errors) or None


def chromium_problem(path: str = CHROMIUM) -> str | None:
    """Why the browser cannot run, or None."""
    if os.access(path, os.X_OK):
        return None
    return (f"Chromium is not installed ({path} is missing): install Debian's chromium "
            "(sudo apt-get install chromium), or capture without a screenshot "
            "(--no-screenshot)")


def _now() -> datetime:
    return datetime.now(UTC)


def _file_name(exchange: Exchange) -> str:
    """A safe file name for a directly linked file, from its URL and type."""
    base = _NAME_UNSAFE.sub("_", urlsplit(exchange.url).path.rsplit("/", 1)[-1]).strip("._")
    base = base[:100] or "download"
    if "." not in base:
        base += mimetypes.guess_extension(exchange.content_type) or ""
    if base in (WARC_NAME, CONTEXT_NAME, SCREENSHOT_NAME):
        base = f"file-{base}"
    return base


class _Capture:
    def __init__(self, requested: str, url: str, work: Path, options: CaptureOptions) -> None:
        self.requested, self.url, self.work, self.options = requested, url, work, options
        self.tmp = work / ".fetched"
        self.tmp.mkdir()
        self.count = 0
        self.result = PageCapture(url)
        self.chain: list[Exchange] = []
        self.warc: Warc | None = None

    def error(self, where: str, message: str) -> None:
        self.result.errors.append(Problem(where, message))

    def warn(self, where: str, message: str) -> None:
        self.result.warnings.append(Problem(where, message))

    def spool(self) -> tuple[Path, Path]:
        self.count += 1
        return self.tmp / f"{self.count}.raw", self.tmp / f"{self.count}.body"

    def follow(self, url: str, deadline: float, referer: str | None = None
               ) -> Iterator[Exchange]:
        """Each hop of a URL's redirects (``follow_redirects``), written to the WARC."""
        for exchange in follow_redirects(url, self.spool, self.options, deadline, referer):
            if exchange.status is not None:  # a request never answered was maybe never sent
                assert self.warc is not None
                self.warc.exchange(exchange)
            yield exchange

    def run(self) -> PageCapture:
        options, result = self.options, self.result
        started = _now()
        deadline = time.monotonic() + options.timeout
        tools = tool_versions(options.chromium if options.screenshot else None)
        self.warc = Warc(self.work / WARC_NAME)
        try:
            self.warc.info(tools)
            self.chain = list(self.follow(self.url, deadline))
            main = self.chain[-1]
            result.final_url, result.status = main.url, main.status
            for exchange in self.chain:
                if exchange.error:
                    self.error(exchange.url, exchange.error)
            if main.status is not None and main.status >= 400:
                self.error(main.url, f"the server answered HTTP {main.status} {main.reason}; "
                                     "the answer is kept")
            unfollowed = main.status in REDIRECTS and main.header("Location")
            if main.status is not None and not unfollowed:
                self.contents(main)
        finally:
            self.warc.close()
        self.write_context(started, tools)
        shutil.rmtree(self.tmp)
        return result

    def contents(self, main: Exchange) -> None:
        result = self.result
        result.kind = "page" if main.is_page else "file"
        if result.kind == "file":
            # An error answer or a cut-short body is in the WARC, marked so; as a file named
            # like the link it would pass for the file.
            if (main.size and not main.truncated and main.status is not None
                    and 200 <= main.status < 300):
                result.file = _file_name(main)
                os.replace(main.body, self.work / result.file)
            return
        from svidok.sources import web_browser

        result.title, media = web_browser.html_facts(main)
        if main.truncated:
            self.warn(main.url, "the page was not rendered and its images and videos were "
                                "not fetched, because it did not arrive complete")
            return
        kept: set[str] = set()
        if self.options.screenshot:
            media = self.render(main, media, kept)
        self.fetch_media(main, media, kept)

    def render(self, main: Exchange, media: list[str], kept: set[str]) -> list[str]:
        from svidok.sources import web_browser

        problem = chromium_problem(self.options.chromium)
        if problem:
            self.error("screenshot", problem)
            return media
        deadline = time.monotonic() + self.options.timeout
        try:
            rendered = web_browser.render(main, self.work / SCREENSHOT_NAME, self.options,
                                          deadline, self.keep_loaded)
        except web_browser.BrowserError as exc:
            self.error("browser", str(exc))
            return media
        self.result.screenshot = rendered.screenshot
        self.result.title = rendered.title or self.result.title
        for message in rendered.errors:
            self.error("browser", message)
        for message in rendered.notes:
            self.warn("browser", message)
        kept.update(e.url for e in self.result.embedded if e.size is not None)
        return [*rendered.media_urls, *media, *rendered.incomplete]

    def keep_loaded(self, loaded: Loaded) -> bool:
        """Record one response the browser loaded; False once the limit is reached."""
        assert self.warc is not None
        if not self.room():
            return False
        body = loaded.body
        entry = Embedded(loaded.url, loaded.kind, "browser", loaded.status,
                         loaded.content_type, None if body is None else len(body),
                         None if body is None else hashlib.sha256(body).hexdigest(),
                         error=loaded.problem)
        if body is not None:
            self.warc.loaded(loaded.url, loaded.at, loaded.status, loaded.reason,
                             loaded.headers, body)
        self.result.embedded.append(entry)
        if loaded.kind in ("image", "media") and loaded.status >= 400:
            self.warn(loaded.url, f"the server answered HTTP {loaded.status} {loaded.reason}")
        return True

    def room(self) -> bool:
        if len(self.result.embedded) < self.options.max_resources:
            return True
        message = (f"the page has more than {self.options.max_resources} embedded files; "
                   "the rest were not recorded")
        if Problem("page", message) not in self.result.warnings:
            self.warn("page", message)
        return False

    def fetch_media(self, main: Exchange, urls: list[str], kept: set[str]) -> None:
        """Images, videos and audio the browser did not hand over whole, fetched directly."""
        for found in urls:
            try:
                url = check_url(found)
            except CaptureError:
                continue  # data: and blob: URLs are part of the page itself
            if url in kept or url == main.url:
                continue
            kept.add(url)
            if not self.room():
                return
            entry = Embedded(url, "unknown", "direct")
            self.result.embedded.append(entry)
            try:
                *_, last = self.follow(url, time.monotonic() + self.options.timeout,
                                       referer=main.url)
            except FetchError as exc:
                entry.error = str(exc)
                self.error(url, str(exc))
                continue
            major = last.content_type.split("/")[0]
            entry.kind = {"image": "image", "video": "media", "audio": "media"}.get(major, "other")
            entry.status, entry.content_type = last.status, last.content_type or None
            entry.size, entry.sha256 = last.size, last.sha256
            entry.truncated, entry.error = last.truncated, last.error
            if last.error:
                self.error(url, last.error)
            elif last.status is not None and last.status >= 400:
                self.warn(url, f"the server answered HTTP {last.status} {last.reason}")

    def write_context(self, started: datetime, tools: dict[str, str | None]) -> None:
        result, options = self.result, self.options
        main = self.chain[-1] if self.chain else None
        context = {
            "format": FORMAT, "requested_url": self.requested, "url": self.url,
            "final_url": result.final_url, "started_at": started.isoformat(),
            "finished_at": _now().isoformat(), "status": result.status,
            "reason": main.reason if main else None, "kind": result.kind,
            "content_type": (main.content_type or None) if main else None,
            "title": result.title,
            "redirects": [{"url": e.url, "status": e.status, "location": e.header("Location")}
                          for e in self.chain[:-1]],
            "server_ip": main.ip if main else None,
            "tls": main.tls if main else None,
            "response": None if main is None else {
                "size": main.size, "sha256": main.sha256, "truncated": main.truncated},
            "files": {"warc": WARC_NAME, "file": result.file,
                      "screenshot": SCREENSHOT_NAME if result.screenshot else None},
            "embedded": [asdict(e) for e in result.embedded],
            "tools": tools,
            "options": {"timeout": options.timeout, "insecure": options.insecure,
                        "screenshot": options.screenshot, "user_agent": options.user_agent,
                        "max_response_bytes": options.max_response_bytes,
                        "max_resources": options.max_resources},
            "errors": [asdict(p) for p in result.errors],
            "warnings": [asdict(p) for p in result.warnings],
        }
        path = self.work / CONTEXT_NAME
        path.write_text(json.dumps(context, ensure_ascii=False, indent=2) + "\n", "utf-8")


def partial_folder(out_dir: Path) -> Path:
    """Where ``capture`` writes until the capture is complete: hidden, beside ``out_dir``."""
    return out_dir.with_name(f".{out_dir.name}.partial")


def capture(url: str, out_dir: Path, options: CaptureOptions | None = None) -> PageCapture:
    """Capture one URL into ``out_dir``, which must not exist yet. Raises CaptureError for a
    URL that cannot be captured; any other failure is in the result, whose ``folder`` is None
    when nothing arrived to keep."""
    normalized = check_url(url)
    work = partial_folder(out_dir)
    work.mkdir(mode=0o700)
    try:
        job = _Capture(url, normalized, work, options or CaptureOptions())
        try:
            result = job.run()
        except FetchError as exc:
            return PageCapture(normalized, errors=[Problem(normalized, str(exc))])
        work.rename(out_dir)
        result.folder = out_dir
        return result
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
