"""A small web site for capture tests, served on 127.0.0.1 only (HTTP, or HTTPS with a
self-signed certificate made at test time)."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import cast

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

DATA = Path(__file__).parent.parent / "data"
PHOTO = (DATA / "photo.jpg").read_bytes()
# Not a playable video: the capture records bodies as they are, whatever they hold.
VIDEO = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(range(256)) * 16
STYLE = b"body { font-family: sans-serif; background: #fff8e0; }\n"
PAGE = b"""<!doctype html>
<html><head><meta charset="utf-8"><title>Checkpoint report</title>
<link rel="stylesheet" href="/style.css"></head>
<body><h1>Checkpoint on the northern road</h1>
<p>Passports were taken from the men in the bus.</p>
<img src="/photo.jpg" alt="checkpoint">
<video src="/clip.mp4" preload="auto" muted></video>
</body></html>
"""
# Only in the HTML: a capture without a browser must still find it.
PLAIN_PAGE = b"""<html><head><title>Plain</title></head>
<body><img src="photo.jpg"><video><source src="/clip.mp4"></video></body></html>
"""
# A page that never finishes loading in a browser: a photo stops half-way, so "load" never
# comes; and /slow, which is no image, so Chromium gives up on it but calls it finished.
HANGING_PAGE = b"""<html><head><title>Hanging</title></head>
<body><p>Waiting</p><img src="/photo.jpg"><img src="/half.jpg"><img src="/slow"></body></html>
"""
CHUNKS = [b"first line of a statement\n", b"second line\n", b"third line\n"]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        pass  # the test output stays readable

    def _send(self, status: int, content_type: str, body: bytes,
              extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        self.server.hits[path] += 1
        if path == "/page.html":
            self._send(200, "text/html; charset=utf-8", PAGE)
        elif path == "/plain.html":
            self._send(200, "text/html", PLAIN_PAGE)
        elif path == "/hanging.html":
            self._send(200, "text/html", HANGING_PAGE)
        elif path == "/photo.jpg":
            self._send(200, "image/jpeg", PHOTO)
        elif path == "/clip.mp4":
            self._send(200, "video/mp4", VIDEO)
        elif path == "/style.css":
            self._send(200, "text/css", STYLE)
        elif path == "/old":
            self._send(302, "text/html", b"moved", {"Location": "/page.html"})
        elif path == "/loop":
            self._send(302, "text/html", b"again", {"Location": "/loop"})
        elif path == "/statement.txt":
            self._chunked()
        elif path == "/slow":
            self._never_finish("text/html", b"<html><body><p>The beginning of a page")
        elif path == "/cut.jpg":  # the server goes away half-way
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(len(PHOTO)))
            self.end_headers()
            self.wfile.write(PHOTO[:1000])
            self.close_connection = True
        elif path == "/half.jpg":
            self._never_finish("image/jpeg", PHOTO[:len(PHOTO) // 2])
        else:
            self._send(404, "text/html", b"<html><body>Not found</body></html>")

    def _chunked(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Connection", "close")
        self.end_headers()
        for chunk in CHUNKS:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        self.wfile.write(b"0\r\n\r\n")
        self.close_connection = True

    def _never_finish(self, content_type: str, start: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", "100000")
        self.end_headers()
        self.wfile.write(start)
        self.wfile.flush()
        self.server.stop.wait(120)
        self.close_connection = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    hits: Counter[str]
    stop: threading.Event


class WebServer:
    """``with WebServer() as site: site.url("/page.html")``."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.httpd = _Server(("127.0.0.1", 0), _Handler)
        self.httpd.hits = Counter()
        self.httpd.stop = threading.Event()
        self.scheme = "https" if tls else "http"
        if tls:
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def hits(self) -> Counter[str]:
        return self.httpd.hits

    def url(self, path: str) -> str:
        port = cast(tuple[str, int], self.httpd.server_address)[1]
        return f"{self.scheme}://127.0.0.1:{port}{path}"

    def __enter__(self) -> WebServer:
        self.thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.httpd.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def self_signed(folder: Path) -> tuple[ssl.SSLContext, bytes]:
    """A server TLS context for 127.0.0.1 with a fresh self-signed certificate, and the
    certificate's DER bytes."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "svidok test server")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = folder / "server.crt", folder / "server.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    return context, cert.public_bytes(serialization.Encoding.DER)
