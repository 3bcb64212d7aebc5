"""Capturing a URL: a web page or a direct link to a file, into a WARC with its context.

``capture(url, out_dir)`` fetches the URL with the standard library over a socket it
controls, so the WARC holds the exact bytes sent and received (request and response
records for every redirect hop), and for HTTPS the server's certificate. What it fetched
decides the rest:

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

import base64
import hashlib
import http.client
import io
import json
import mimetypes
import os
import platform
import re
import shutil
import socket
import ssl
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, cast
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

from cryptography import x509
from warcio.recordloader import ArcWarcRecord, ArcWarcRecordLoader
from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date
from warcio.warcwriter import WARCWriter

from svidok import __version__
from svidok.sources.problems import Problem

if TYPE_CHECKING:
    from svidok.sources.web_browser import Loaded

CHROMIUM = "/usr/bin/chromium"
WARC_NAME = "capture.warc.gz"
CONTEXT_NAME = "capture.json"
SCREENSHOT_NAME = "screenshot.png"
FORMAT = "svidok-web-capture/1"
# Sent by our fetcher and the browser alike, so the server sees one client; recorded.
USER_AGENT = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/120.0.0.0 Safari/537.36")
PAGE_TYPES = frozenset({"text/html", "application/xhtml+xml"})
REDIRECTS = frozenset({301, 302, 303, 307, 308})
BLOCK = 1 << 16
MAX_HTML_PARSE = 32 * 1024 * 1024
# Characters that may stay as they are in a path or query; anything else is %-encoded.
_URL_SAFE = "/%:@!$&'()*+,;=-._~"
_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class CaptureError(ValueError):
    """The URL cannot be captured at all (not http or https, no host, credentials)."""


class FetchError(Exception):
    """Nothing usable came back for a URL: the message says why, in one line."""


@dataclass(frozen=True)
class CaptureOptions:
    timeout: float = 60.0  # the page, and each embedded file fetched directly
    max_response_bytes: int = 512 * 1024 * 1024
    max_resources: int = 300
    max_redirects: int = 10
    screenshot: bool = True  # False: no browser at all
    insecure: bool = False  # capture over HTTPS whose certificate does not verify
    chromium: str = CHROMIUM
    user_agent: str = USER_AGENT


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


def check_url(url: str) -> str:
    """The URL in the form it is fetched and recorded (ASCII, no fragment), or CaptureError."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise CaptureError("not a URL: give it with http:// or https://" if not scheme else
                           f"only http and https URLs can be captured, not {scheme}:")
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        raise CaptureError("the port in the URL is not a number from 0 to 65535") from None
    if not host:
        raise CaptureError("the URL has no host name")
    if parts.username is not None or parts.password is not None:
        raise CaptureError("the URL holds a user name or password, which would be sent and "
                           "stored; give it without them")
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise CaptureError("the host name is not a valid international domain name") from None
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port is None else f"{host}:{port}"
    return urlunsplit((scheme, netloc, quote(parts.path, safe=_URL_SAFE) or "/",
                       quote(parts.query, safe=_URL_SAFE + "?"), ""))


def chromium_problem(path: str = CHROMIUM) -> str | None:
    """Why the browser cannot run, or None."""
    if os.access(path, os.X_OK):
        return None
    return (f"Chromium is not installed ({path} is missing): install Debian's chromium "
            "(sudo apt-get install chromium), or capture without a screenshot "
            "(--no-screenshot)")


@lru_cache(maxsize=4)
def _chromium_version(path: str) -> str | None:
    try:
        done = subprocess.run([path, "--version"], capture_output=True, text=True,
                              timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None


def _dist(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def tool_versions(chromium: str | None) -> dict[str, str | None]:
    tools = {"svidok": __version__, "python": platform.python_version(),
             "warcio": _dist("warcio"), "playwright": _dist("playwright")}
    if chromium:
        tools["chromium"] = _chromium_version(chromium)
    return tools


def _now() -> datetime:
    return datetime.now(UTC)


def _why(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return text.splitlines()[0]


# -- fetching ---------------------------------------------------------------------------


@dataclass
class Exchange:
    """One request and its response, kept as files until they are written to the WARC."""

    url: str
    request: bytes  # exactly as sent
    started: datetime
    raw: Path  # the response exactly as received: status line, headers, body as framed
    body: Path  # the body with chunked framing removed; Content-Encoding kept
    ip: str | None = None
    tls: dict[str, Any] | None = None
    status: int | None = None
    reason: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    size: int = 0
    sha256: str = ""
    sha1: str = ""  # the WARC payload digest, "sha1:BASE32"
    truncated: str | None = None  # WARC-Truncated: "length", "time" or "disconnect"
    error: str | None = None

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    @property
    def content_type(self) -> str:
        return (self.header("Content-Type") or "").split(";")[0].strip().lower()


class _Wire(io.RawIOBase):
    """The socket as http.client reads it; every byte received is copied to ``copy``, and
    no read may outlast the deadline, however slowly the server drips."""

    def __init__(self, sock: socket.socket, copy: IO[bytes], deadline: float) -> None:
        self.sock, self.copy, self.deadline = sock, copy, deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the time allowed is over")
        self.sock.settimeout(left)
        n = self.sock.recv_into(buffer)
        self.copy.write(memoryview(buffer)[:n])
        return n

    def makefile(self, mode: str) -> io.BufferedReader:
        return io.BufferedReader(self, BLOCK)


def _open(host: str, port: int, deadline: float) -> socket.socket:
    try:
        return socket.create_connection((host, port), max(deadline - time.monotonic(), 0.01))
    except socket.gaierror:
        raise FetchError(f"the host name {host} cannot be resolved") from None
    except ConnectionRefusedError:
        raise FetchError(f"the connection to {host}:{port} was refused") from None
    except TimeoutError:
        raise FetchError(f"no connection to {host}:{port} within the time allowed") from None
    except OSError as exc:
        raise FetchError(f"cannot connect to {host}:{port} ({_why(exc)})") from None


def _certificate(sock: ssl.SSLSocket, verify_error: str | None) -> dict[str, Any]:
    cipher = sock.cipher()
    info: dict[str, Any] = {"verified": verify_error is None, "verify_error": verify_error,
                            "tls_version": sock.version(), "cipher": cipher[0] if cipher else None}
    der = sock.getpeercert(binary_form=True)
    if not der:
        return info | {"certificate": None}
    info |= {"sha256": hashlib.sha256(der).hexdigest(), "pem": ssl.DER_cert_to_PEM_cert(der)}
    try:
        cert = x509.load_der_x509_certificate(der)
        info |= {"subject": cert.subject.rfc4514_string(),
                 "issuer": cert.issuer.rfc4514_string(),
                 "serial": format(cert.serial_number, "x"),
                 "not_before": cert.not_valid_before_utc.isoformat(),
                 "not_after": cert.not_valid_after_utc.isoformat()}
        try:
            names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            info["subject_alt_names"] = [*names.get_values_for_type(x509.DNSName),
                                         *map(str, names.get_values_for_type(x509.IPAddress))]
        except x509.ExtensionNotFound:
            info["subject_alt_names"] = []
    except ValueError as exc:
        info["parse_error"] = _why(exc)
    return info


def _connect(url: str, options: CaptureOptions, deadline: float
             ) -> tuple[socket.socket, str | None, dict[str, Any] | None]:
    parts = urlsplit(url)
    host = parts.hostname or ""
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    sock = _open(host, port, deadline)
    ip = str(sock.getpeername()[0])
    if not https:
        return sock, ip, None
    try:
        tls = ssl.create_default_context().wrap_socket(sock, server_hostname=host)
        return tls, ip, _certificate(tls, None)
    except ssl.SSLCertVerificationError as exc:
        sock.close()
        reason = exc.verify_message or _why(exc)
        if not options.insecure:
            raise FetchError(f"the TLS certificate of {host} does not verify ({reason}); "
                             "nothing was kept. To capture it anyway, and record that it "
                             "did not verify, use --insecure") from None
    except (ssl.SSLError, OSError) as exc:
        sock.close()
        raise FetchError(f"the TLS handshake with {host}:{port} failed ({_why(exc)})") from None
    # --insecure: connect again without verifying; the record says it was not verified.
    sock = _open(host, port, deadline)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        tls = context.wrap_socket(sock, server_hostname=host)
    except (ssl.SSLError, OSError) as exc:
        sock.close()
        raise FetchError(f"the TLS handshake with {host}:{port} failed ({_why(exc)})") from None
    return tls, ip, _certificate(tls, reason)


def _request(url: str, options: CaptureOptions, referer: str | None) -> bytes:
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    lines = [f"GET {target} HTTP/1.1", f"Host: {parts.netloc}",
             f"User-Agent: {options.user_agent}", "Accept: */*",
             # Identity, so the browser can be handed the body exactly as recorded.
             "Accept-Encoding: identity", "Connection: close"]
    if referer:
        lines.append(f"Referer: {referer}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")


def fetch(url: str, raw: Path, body: Path, options: CaptureOptions, deadline: float,
          referer: str | None = None) -> Exchange:
    """One GET of a URL made by ``check_url``; FetchError when no response arrived.
    A response cut short (time, size, a broken connection) comes back marked truncated."""
    request = _request(url, options, referer)
    exchange = Exchange(url, request, _now(), raw, body)
    sock, exchange.ip, exchange.tls = _connect(url, options, deadline)
    host = urlsplit(url).hostname
    with sock, raw.open("wb") as raw_file, body.open("wb") as body_file:
        try:
            sock.settimeout(max(deadline - time.monotonic(), 0.01))
            sock.sendall(request)
        except OSError as exc:
            raise FetchError(f"sending the request to {host} failed ({_why(exc)})") from None
        response = http.client.HTTPResponse(
            cast(socket.socket, _Wire(sock, raw_file, deadline)), method="GET")
        try:
            response.begin()
        except TimeoutError:
            raise FetchError(f"{host} did not answer within {options.timeout:g} s") from None
        except (http.client.HTTPException, OSError) as exc:
            raise FetchError(f"the answer from {host} is not valid HTTP ({_why(exc)})") from None
        exchange.status, exchange.reason = response.status, response.reason
        exchange.headers = response.getheaders()
        _read_body(response, body_file, exchange, options)
    return exchange


def _read_body(response: http.client.HTTPResponse, out: IO[bytes], exchange: Exchange,
               options: CaptureOptions) -> None:
    sha256, sha1 = hashlib.sha256(), hashlib.sha1(usedforsecurity=False)
    limit = options.max_response_bytes
    try:
        # read1: whatever has arrived, so a response cut short keeps its last bytes too.
        while chunk := response.read1(BLOCK):
            if exchange.size + len(chunk) > limit:
                chunk = chunk[:limit - exchange.size]
                exchange.truncated = "length"
                exchange.error = f"the response is larger than {limit} bytes; it was cut there"
            out.write(chunk)
            sha256.update(chunk)
            sha1.update(chunk)
            exchange.size += len(chunk)
            if exchange.truncated:
                break
        else:
            if response.length:  # read1 ends quietly where the connection did
                raise http.client.IncompleteRead(b"", response.length)
    except TimeoutError:
        exchange.truncated = "time"
        exchange.error = (f"the response did not finish within {options.timeout:g} s; "
                          "what arrived is kept")
    except (http.client.HTTPException, OSError) as exc:
        exchange.truncated = "disconnect"
        exchange.error = (f"the connection broke before the response was complete "
                          f"({_why(exc)}); what arrived is kept")
    exchange.sha256 = sha256.hexdigest()
    exchange.sha1 = "sha1:" + base64.b32encode(sha1.digest()).decode("ascii")


# -- the WARC ---------------------------------------------------------------------------


def _warc_date(when: datetime) -> str:
    return str(datetime_to_iso_date(when.astimezone(UTC).replace(tzinfo=None), use_micros=True))


def _record_id() -> str:
    return f"<urn:uuid:{uuid.uuid4()}>"


def _sha1_after_headers(exchange: Exchange) -> str:
    """The payload digest of a cut-short response: of the body bytes as they are stored."""
    digest = hashlib.sha1(usedforsecurity=False)
    with exchange.raw.open("rb") as raw:
        ArcWarcRecordLoader().load_http_headers("response", exchange.url, raw, None)
        while chunk := raw.read(BLOCK):
            digest.update(chunk)
    return "sha1:" + base64.b32encode(digest.digest()).decode("ascii")


class Warc:
    """A gzipped WARC 1.1 written record by record."""

    def __init__(self, path: Path) -> None:
        self.file = path.open("wb")
        self.writer = WARCWriter(self.file, gzip=True, warc_version="1.1")

    def close(self) -> None:
        self.file.close()

    def info(self, fields: dict[str, str]) -> None:
        self.writer.write_record(self.writer.create_warcinfo_record(WARC_NAME, fields))

    def _block(self, rec_type: str, headers: list[tuple[str, str]], stream: IO[bytes],
               length: int) -> None:
        # Built by hand: warcio re-serialises HTTP headers it parsed, and the block must be
        # the bytes as they went over the wire.
        content_type = f"application/http; msgtype={rec_type}"
        record = ArcWarcRecord("warc", rec_type,
                               StatusAndHeaders("", [("WARC-Type", rec_type), *headers],
                                                protocol="WARC/1.1"),
                               stream, None, content_type, length)
        self.writer.write_record(record)

    def exchange(self, exchange: Exchange) -> None:
        """Response record (as received) and request record (as sent), linked."""
        date = _warc_date(exchange.started)
        response_id = _record_id()
        digest = exchange.sha1 if not exchange.truncated else _sha1_after_headers(exchange)
        headers = [("WARC-Record-ID", response_id), ("WARC-Date", date),
                   ("WARC-Target-URI", exchange.url), ("WARC-Payload-Digest", digest)]
        if exchange.ip:
            headers.append(("WARC-IP-Address", exchange.ip))
        if exchange.truncated:
            headers.append(("WARC-Truncated", exchange.truncated))
        with exchange.raw.open("rb") as raw:
            self._block("response", headers, raw, exchange.raw.stat().st_size)
        empty = base64.b32encode(hashlib.sha1(b"", usedforsecurity=False).digest()).decode()
        self._block("request", [("WARC-Record-ID", _record_id()), ("WARC-Date", date),
                                ("WARC-Target-URI", exchange.url),
                                ("WARC-Payload-Digest", f"sha1:{empty}"),
                                ("WARC-Concurrent-To", response_id)],
                    io.BytesIO(exchange.request), len(exchange.request))

    def loaded(self, url: str, when: datetime, status: int, reason: str,
               headers: list[tuple[str, str]], body: bytes) -> None:
        """A response as the browser reports it: its headers, and its body after Chromium
        removed any Content-Encoding; the record says so (WARC-Svidok-Via: browser)."""
        kept = [(k, v) for k, v in headers if not k.startswith(":")
                and k.lower() not in ("content-encoding", "transfer-encoding", "content-length")]
        statusline = f"{status} {reason or http.client.responses.get(status, '')}".strip()
        http_headers = StatusAndHeaders(statusline, [*kept, ("Content-Length", str(len(body)))],
                                        protocol="HTTP/1.1")
        record = self.writer.create_warc_record(
            url, "response", payload=io.BytesIO(body), length=len(body),
            http_headers=http_headers,
            warc_headers_dict={"WARC-Date": _warc_date(when), "WARC-Svidok-Via": "browser"})
        self.writer.write_record(record)


# -- reading the page's HTML ------------------------------------------------------------


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


# -- one capture ------------------------------------------------------------------------


def _is_page(exchange: Exchange) -> bool:
    if exchange.content_type:
        return exchange.content_type in PAGE_TYPES
    with exchange.body.open("rb") as body:  # no type given: look, as a browser would
        start = body.read(512).lstrip().lower()
    return start.startswith((b"<!doctype html", b"<html"))


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

    def follow(self, url: str, deadline: float, referer: str | None = None
               ) -> Iterator[Exchange]:
        """Each hop of a URL's redirects, fetched and written to the WARC; FetchError when
        the first hop brought nothing; after that, the last hop carries the error."""
        for hop in range(self.options.max_redirects + 1):
            self.count += 1
            raw, body = self.tmp / f"{self.count}.raw", self.tmp / f"{self.count}.body"
            try:
                exchange = fetch(url, raw, body, self.options, deadline, referer)
            except FetchError as exc:
                if hop == 0:
                    raise
                exchange = Exchange(url, _request(url, self.options, referer), _now(), raw,
                                    body, error=str(exc))
            if exchange.status is not None:  # a request never answered was maybe never sent
                assert self.warc is not None
                self.warc.exchange(exchange)
            yield exchange
            location = exchange.header("Location")
            if exchange.status not in REDIRECTS or not location or exchange.truncated:
                return
            try:
                url = check_url(urljoin(url, location))
            except CaptureError as exc:
                exchange.error = f"it redirects to a URL that cannot be captured: {exc}"
                return
        exchange.error = f"more than {self.options.max_redirects} redirects"

    def run(self) -> PageCapture:
        options, result = self.options, self.result
        started = _now()
        deadline = time.monotonic() + options.timeout
        tools = tool_versions(options.chromium if options.screenshot else None)
        self.warc = Warc(self.work / WARC_NAME)
        try:
            self.warc.info({"software": f"Svidok {__version__} (svidok capture)",
                            "format": "WARC File Format 1.1",
                            **{f"tool-{k}": v or "unknown" for k, v in tools.items()}})
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
        result.kind = "page" if _is_page(main) else "file"
        if result.kind == "file":
            # An error answer or a cut-short body is in the WARC, marked so; as a file named
            # like the link it would pass for the file.
            if (main.size and not main.truncated and main.status is not None
                    and 200 <= main.status < 300):
                result.file = _file_name(main)
                os.replace(main.body, self.work / result.file)
            return
        result.title, media = html_facts(main)
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


def capture(url: str, out_dir: Path, options: CaptureOptions | None = None) -> PageCapture:
    """Capture one URL into ``out_dir``, which must not exist yet. Raises CaptureError for a
    URL that cannot be captured; any other failure is in the result, whose ``folder`` is None
    when nothing arrived to keep."""
    normalized = check_url(url)
    work = out_dir.with_name(f".{out_dir.name}.partial")
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
