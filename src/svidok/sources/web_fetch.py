"""Fetching one URL over a socket Svidok controls, so the exact bytes can be recorded.

``check_url`` decides what can be captured at all and puts a URL in the form it is fetched
and recorded. ``fetch`` sends one GET with the standard library and keeps the response
twice: exactly as received (status line, headers, body as framed) for the WARC, and as a
body with chunked framing removed. For HTTPS it keeps the server's certificate and whether
it verified. ``follow_redirects`` does that for each hop of a URL's redirects. Every step is
bounded by one deadline; a response cut short comes back marked truncated, never raised.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import io
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, cast
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

from cryptography import x509

# Sent by our fetcher and the browser alike, so the server sees one client; recorded.
USER_AGENT = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/120.0.0.0 Safari/537.36")
PAGE_TYPES = frozenset({"text/html", "application/xhtml+xml"})
REDIRECTS = frozenset({301, 302, 303, 307, 308})
BLOCK = 1 << 16
# Characters that may stay as they are in a path or query; anything else is %-encoded.
_URL_SAFE = "/%:@!$&'()*+,;=-._~"


class CaptureError(ValueError):
    """The URL cannot be captured at all (not http or https, no host, credentials)."""


class FetchError(Exception):
    """Nothing usable came back for a URL: the message says why, in one line."""


@dataclass(frozen=True)
class FetchOptions:
    timeout: float = 60.0  # named in messages; the deadline passed to fetch is what bounds it
    max_response_bytes: int = 512 * 1024 * 1024
    max_redirects: int = 10
    insecure: bool = False  # capture over HTTPS whose certificate does not verify
    user_agent: str = USER_AGENT


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


def _now() -> datetime:
    return datetime.now(UTC)


def _why(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return text.splitlines()[0]


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

    @property
    def is_page(self) -> bool:
        if self.content_type:
            return self.content_type in PAGE_TYPES
        with self.body.open("rb") as body:  # no type given: look, as a browser would
            start = body.read(512).lstrip().lower()
        return start.startswith((b"<!doctype html", b"<html"))


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


def _resolve(host: str, port: int, deadline: float) -> list[tuple[Any, ...]]:
    """The addresses of ``host``. getaddrinfo takes no timeout, and the resolver's own can add up
    to minutes with unreachable name servers, so it runs in a thread that is left behind, not
    waited for, when the time is over: a daemon, so it never keeps the process alive."""
    found: list[tuple[Any, ...]] = []
    failed: list[OSError] = []

    def lookup() -> None:
        try:
            found.extend(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except OSError as exc:
            failed.append(exc)

    worker = threading.Thread(target=lookup, name="svidok-resolve", daemon=True)
    worker.start()
    worker.join(max(deadline - time.monotonic(), 0.01))
    if worker.is_alive():
        raise FetchError(f"the host name {host} was not resolved within the time allowed")
    if failed and not isinstance(failed[0], socket.gaierror):
        raise FetchError(f"cannot connect to {host}:{port} ({_why(failed[0])})")
    if not found:
        raise FetchError(f"the host name {host} cannot be resolved")
    return found


def _open(host: str, port: int, deadline: float) -> socket.socket:
    # socket.create_connection, with the lookup bounded and each address given only the
    # time that is left, not the whole timeout again.
    last: OSError = TimeoutError()
    for family, kind, proto, _, address in _resolve(host, port, deadline):
        sock = socket.socket(family, kind, proto)
        try:
            sock.settimeout(max(deadline - time.monotonic(), 0.01))
            sock.connect(address)
            return sock
        except OSError as exc:
            sock.close()
            last = exc
    if isinstance(last, ConnectionRefusedError):
        raise FetchError(f"the connection to {host}:{port} was refused")
    if isinstance(last, TimeoutError):
        raise FetchError(f"no connection to {host}:{port} within the time allowed")
    raise FetchError(f"cannot connect to {host}:{port} ({_why(last)})")


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


def _connect(url: str, options: FetchOptions, deadline: float
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


def build_request(url: str, options: FetchOptions, referer: str | None) -> bytes:
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    lines = [f"GET {target} HTTP/1.1", f"Host: {parts.netloc}",
             f"User-Agent: {options.user_agent}", "Accept: */*",
             # Identity, so the browser can be handed the body exactly as recorded.
             "Accept-Encoding: identity", "Connection: close"]
    if referer:
        lines.append(f"Referer: {referer}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")


def fetch(url: str, raw: Path, body: Path, options: FetchOptions, deadline: float,
          referer: str | None = None) -> Exchange:
    """One GET of a URL made by ``check_url``; FetchError when no response arrived.
    A response cut short (time, size, a broken connection) comes back marked truncated."""
    request = build_request(url, options, referer)
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
               options: FetchOptions) -> None:
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


def follow_redirects(url: str, spool: Callable[[], tuple[Path, Path]], options: FetchOptions,
                     deadline: float, referer: str | None = None) -> Iterator[Exchange]:
    """Each hop of a URL's redirects, fetched into the files ``spool`` names; FetchError when
    the first hop brought nothing; after that, the last hop carries the error."""
    for hop in range(options.max_redirects + 1):
        raw, body = spool()
        try:
            exchange = fetch(url, raw, body, options, deadline, referer)
        except FetchError as exc:
            if hop == 0:
                raise
            sent = build_request(url, options, referer)
            exchange = Exchange(url, sent, _now(), raw, body, error=str(exc))
        yield exchange
        location = exchange.header("Location")
        if exchange.status not in REDIRECTS or not location or exchange.truncated:
            return
        try:
            url = check_url(urljoin(url, location))
        except CaptureError as exc:
            exchange.error = f"it redirects to a URL that cannot be captured: {exc}"
            return
    exchange.error = f"more than {options.max_redirects} redirects"
