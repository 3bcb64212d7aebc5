"""svidok capture: a URL into a WARC with exact request and response records, a screenshot,
the page's embedded files and the capture context; bad input costs only its own part.

Every server listens on 127.0.0.1 (webserver.py). Tests that start Chromium skip without
/usr/bin/chromium, except under CI=true, where they must run.
"""

from __future__ import annotations

import fcntl
import gzip
import hashlib
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner
from warcio.archiveiterator import ArchiveIterator
from webserver import CHUNKS, PHOTO, STYLE, VIDEO, WebServer, self_signed

from chromium import need_chromium
from svidok import cli_capture
from svidok.cli import app
from svidok.cli_capture import capture_cmd
from svidok.sources.warc import WebCapture, read_warc
from svidok.sources.web import (
    CaptureOptions,
    PageCapture,
    capture,
    chromium_problem,
)
from svidok.sources.web_fetch import CaptureError, check_url

MISSING_CHROMIUM = "/nonexistent/chromium"
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def site() -> Iterator[WebServer]:
    with WebServer() as server:
        yield server


@pytest.fixture(scope="module")
def tls_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[WebServer, bytes]]:
    context, der = self_signed(tmp_path_factory.mktemp("tls"))
    with WebServer(context) as server:
        yield server, der


@dataclass
class Rec:
    type: str
    uri: str | None
    status: str | None  # a response's status code; a request's request line
    body: bytes  # the payload, as warcio decodes it
    headers: Any


def records(folder: Path) -> list[Rec]:
    found = []
    with (folder / "capture.warc.gz").open("rb") as fh:
        for record in ArchiveIterator(fh):
            http = record.http_headers
            status = None if http is None else (
                http.get_statuscode() if record.rec_type == "response"
                else f"{http.protocol} {http.statusline}")
            body = record.content_stream().read()
            found.append(Rec(record.rec_type, record.rec_headers.get_header("WARC-Target-URI"),
                             status, body, record.rec_headers))
    return found


def response(recs: list[Rec], uri: str) -> Rec:
    return next(r for r in recs if r.type == "response" and r.uri == uri)


def context(page: PageCapture) -> dict[str, Any]:
    assert page.folder is not None
    data: dict[str, Any] = json.loads((page.folder / "capture.json").read_text("utf-8"))
    return data


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# -- pages ------------------------------------------------------------------------------


def test_a_page_behind_a_redirect_is_captured_whole(site: WebServer, tmp_path: Path) -> None:
    need_chromium()
    before = site.hits["/page.html"]
    page = capture(site.url("/old"), tmp_path / "c", CaptureOptions(timeout=30))
    assert page.ok, page.errors
    assert page.folder == tmp_path / "c"
    assert names(page.folder) == ["capture.json", "capture.warc.gz", "screenshot.png"]
    assert (page.folder / "screenshot.png").read_bytes().startswith(PNG)
    # The browser was handed the recorded response: the server saw the page once.
    assert site.hits["/page.html"] == before + 1

    recs = records(page.folder)
    assert recs[0].type == "warcinfo"
    assert [(r.type, r.uri) for r in recs[1:5]] == [
        ("response", site.url("/old")), ("request", site.url("/old")),
        ("response", site.url("/page.html")), ("request", site.url("/page.html"))]
    assert recs[1].status == "302" and recs[3].status == "200"
    assert recs[2].headers.get_header("WARC-Concurrent-To") == \
        recs[1].headers.get_header("WARC-Record-ID")
    assert recs[4].status == "GET /page.html HTTP/1.1"
    assert response(recs, site.url("/photo.jpg")).body == PHOTO
    assert response(recs, site.url("/clip.mp4")).body == VIDEO
    assert response(recs, site.url("/style.css")).body == STYLE
    assert all(isinstance(c, WebCapture) and c.digest_ok
               for c in read_warc(page.folder / "capture.warc.gz"))

    data = context(page)
    assert data["requested_url"] == site.url("/old")
    assert data["final_url"] == site.url("/page.html")
    assert data["status"] == 200 and data["kind"] == "page"
    assert data["redirects"] == [{"url": site.url("/old"), "status": 302,
                                  "location": "/page.html"}]
    assert data["title"] == "Checkpoint report"
    assert data["tls"] is None and data["server_ip"] == "127.0.0.1"
    assert data["files"] == {"warc": "capture.warc.gz", "file": None,
                             "screenshot": "screenshot.png"}
    assert set(data["tools"]) >= {"svidok", "python", "warcio", "playwright", "chromium"}
    assert data["tools"]["chromium"]
    photo = next(e for e in data["embedded"] if e["url"] == site.url("/photo.jpg"))
    assert photo["sha256"] == hashlib.sha256(PHOTO).hexdigest()
    assert photo["status"] == 200 and photo["content_type"] == "image/jpeg"
    assert {e["kind"] for e in data["embedded"]} >= {"image", "media", "stylesheet"}
    assert data["started_at"] <= data["finished_at"]
    assert data["errors"] == []


def test_without_the_browser_images_and_videos_in_the_html_are_fetched(
        site: WebServer, tmp_path: Path) -> None:
    options = CaptureOptions(screenshot=False, chromium=MISSING_CHROMIUM)
    page = capture(site.url("/plain.html"), tmp_path / "c", options)
    assert page.ok, page.errors
    assert page.folder is not None and not page.screenshot
    assert names(page.folder) == ["capture.json", "capture.warc.gz"]
    recs = records(page.folder)
    assert response(recs, site.url("/photo.jpg")).body == PHOTO
    assert response(recs, site.url("/clip.mp4")).body == VIDEO
    requested = {r.uri for r in recs if r.type == "request"}
    assert requested == {site.url(p) for p in ("/plain.html", "/photo.jpg", "/clip.mp4")}
    data = context(page)
    assert data["title"] == "Plain"
    assert {(e["kind"], e["via"]) for e in data["embedded"]} == {("image", "direct"),
                                                                 ("media", "direct")}
    assert "chromium" not in data["tools"]


# -- direct links -----------------------------------------------------------------------


def test_a_direct_image_link_needs_no_browser(site: WebServer, tmp_path: Path) -> None:
    page = capture(site.url("/photo.jpg"), tmp_path / "c",
                   CaptureOptions(chromium=MISSING_CHROMIUM))
    assert page.ok, page.errors
    assert page.kind == "file" and page.file == "photo.jpg" and not page.screenshot
    assert page.folder is not None
    assert names(page.folder) == ["capture.json", "capture.warc.gz", "photo.jpg"]
    assert (page.folder / "photo.jpg").read_bytes() == PHOTO
    assert response(records(page.folder), site.url("/photo.jpg")).body == PHOTO
    assert context(page)["content_type"] == "image/jpeg"


def test_a_chunked_response_is_stored_as_received(site: WebServer, tmp_path: Path) -> None:
    page = capture(site.url("/statement.txt"), tmp_path / "c")
    assert page.ok and page.folder is not None
    rec = response(records(page.folder), site.url("/statement.txt"))
    assert rec.headers.get_header("Content-Type") == "application/http; msgtype=response"
    stored = gzip.decompress((page.folder / "capture.warc.gz").read_bytes())
    assert b"\r\n\r\n%x\r\n%s\r\n" % (len(CHUNKS[0]), CHUNKS[0]) in stored  # framing kept
    assert rec.body == b"".join(CHUNKS)
    assert (page.folder / "statement.txt").read_bytes() == b"".join(CHUNKS)
    [read] = list(read_warc(page.folder / "capture.warc.gz"))
    assert isinstance(read, WebCapture) and read.digest_ok and read.payload == b"".join(CHUNKS)


# -- bad input --------------------------------------------------------------------------


@pytest.mark.parametrize("url", [
    "file:///etc/passwd", "data:text/html,<h1>x</h1>", "javascript:alert(1)",
    "ftp://example.org/file", "example.org/page", "http:///no-host",
    "https://user:secret@example.org/", "http://example.org:99999/"])
def test_only_http_and_https_urls_are_captured(url: str, tmp_path: Path) -> None:
    with pytest.raises(CaptureError) as caught:
        capture(url, tmp_path / "c")
    assert str(caught.value)
    assert "secret" not in str(caught.value)
    assert list(tmp_path.iterdir()) == []


def test_urls_are_normalised_before_fetching() -> None:
    assert check_url("HTTP://Example.ORG") == "http://example.org/"
    assert check_url("https://приклад.укр/шлях?q=так#frag") == (
        "https://xn--80aikifvh.xn--j1amh/%D1%88%D0%BB%D1%8F%D1%85?q=%D1%82%D0%B0%D0%BA")
    assert check_url("http://[::1]:8080/a%20b") == "http://[::1]:8080/a%20b"


def test_an_http_error_is_kept_and_reported(site: WebServer, tmp_path: Path) -> None:
    page = capture(site.url("/missing"), tmp_path / "c", CaptureOptions(screenshot=False))
    assert not page.ok and page.error is not None and "HTTP 404" in page.error
    assert page.status == 404 and page.folder is not None
    assert response(records(page.folder), site.url("/missing")).status == "404"
    assert context(page)["errors"][0]["message"] == page.errors[0].message


def test_a_refused_connection_keeps_nothing(tmp_path: Path) -> None:
    page = capture("http://127.0.0.1:1/gone", tmp_path / "c")
    assert page.folder is None
    assert page.error == "the connection to 127.0.0.1:1 was refused"
    assert list(tmp_path.iterdir()) == []  # no partial folder left


def test_a_host_name_lookup_is_bounded_by_the_timeout(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real, release = socket.getaddrinfo, threading.Event()

    def lookup(host: str, *args: Any, **kwargs: Any) -> Any:
        if host == "stalled.example":  # name servers that never answer
            release.wait(60)
            raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
        if host == "unknown.example":
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", lookup)
    options = CaptureOptions(timeout=1, screenshot=False)
    try:
        started = time.monotonic()
        page = capture("http://stalled.example/", tmp_path / "a", options)
        assert time.monotonic() - started < 5
    finally:
        release.set()
    assert page.folder is None
    assert page.error == "the host name stalled.example was not resolved within the time allowed"
    page = capture("http://unknown.example/", tmp_path / "b", options)
    assert page.error == "the host name unknown.example cannot be resolved"
    assert list(tmp_path.iterdir()) == []


def test_a_page_that_never_finishes_keeps_what_arrived(site: WebServer, tmp_path: Path) -> None:
    page = capture(site.url("/slow"), tmp_path / "c", CaptureOptions(timeout=2))
    assert not page.ok and page.error is not None
    assert "did not finish within 2 s" in page.error
    assert page.folder is not None and not page.screenshot
    rec = response(records(page.folder), site.url("/slow"))
    assert rec.headers.get_header("WARC-Truncated") == "time"
    assert rec.body == b"<html><body><p>The beginning of a page"
    data = context(page)
    assert data["response"]["truncated"] == "time"
    assert data["errors"] and data["status"] == 200


def test_a_page_whose_image_never_arrives_is_still_shown_and_kept(
        site: WebServer, tmp_path: Path) -> None:
    need_chromium()
    page = capture(site.url("/hanging.html"), tmp_path / "c", CaptureOptions(timeout=3))
    assert page.error is not None and "did not finish loading within 3 s" in page.error
    assert page.screenshot and page.folder is not None
    assert (page.folder / "screenshot.png").read_bytes().startswith(PNG)
    recs = records(page.folder)
    assert response(recs, site.url("/photo.jpg")).body == PHOTO
    # Images that never finished are fetched directly, and kept as far as they came.
    for path in ("/half.jpg", "/slow"):
        assert response(recs, site.url(path)).headers.get_header("WARC-Truncated") == "time"
    half = next(e for e in page.embedded if e.url == site.url("/half.jpg"))
    assert half.size == len(PHOTO) // 2 and half.truncated == "time"
    assert context(page)["title"] == "Hanging"


def test_the_number_of_embedded_files_is_limited(site: WebServer, tmp_path: Path) -> None:
    page = capture(site.url("/plain.html"), tmp_path / "c",
                   CaptureOptions(screenshot=False, max_resources=1))
    assert page.ok and len(page.embedded) == 1
    assert [w.message for w in page.warnings] == [
        "the page has more than 1 embedded files; the rest were not recorded"]


def test_a_broken_connection_keeps_what_arrived(site: WebServer, tmp_path: Path) -> None:
    page = capture(site.url("/cut.jpg"), tmp_path / "c")
    assert page.error is not None and "connection broke" in page.error
    assert page.folder is not None
    rec = response(records(page.folder), site.url("/cut.jpg"))
    assert rec.headers.get_header("WARC-Truncated") == "disconnect"
    assert rec.body == PHOTO[:1000]
    assert context(page)["response"]["size"] == 1000
    assert names(page.folder) == ["capture.json", "capture.warc.gz"]  # no half file


def test_endless_redirects_stop(site: WebServer, tmp_path: Path) -> None:
    page = capture(site.url("/loop"), tmp_path / "c", CaptureOptions(max_redirects=3))
    assert page.error == "more than 3 redirects"
    assert page.folder is not None
    assert [r.status for r in records(page.folder) if r.type == "response"] == ["302"] * 4


def test_a_response_over_the_size_limit_is_cut(site: WebServer, tmp_path: Path) -> None:
    page = capture(site.url("/photo.jpg"), tmp_path / "c",
                   CaptureOptions(max_response_bytes=1000))
    assert page.error is not None and "larger than 1000 bytes" in page.error
    assert page.folder is not None
    rec = response(records(page.folder), site.url("/photo.jpg"))
    assert rec.headers.get_header("WARC-Truncated") == "length"
    assert PHOTO.startswith(rec.body) and len(rec.body) >= 1000


def test_missing_chromium_is_named_and_the_rest_kept(site: WebServer, tmp_path: Path) -> None:
    page = capture(site.url("/page.html"), tmp_path / "c",
                   CaptureOptions(chromium=MISSING_CHROMIUM))
    assert page.error is not None and "sudo apt-get install chromium" in page.error
    assert page.folder is not None and not page.screenshot
    assert response(records(page.folder), site.url("/page.html")).status == "200"
    assert chromium_problem(MISSING_CHROMIUM) == page.error


# -- HTTPS ------------------------------------------------------------------------------


def test_an_unverified_certificate_is_refused_by_default(
        tls_site: tuple[WebServer, bytes], tmp_path: Path) -> None:
    server, _ = tls_site
    page = capture(server.url("/page.html"), tmp_path / "c")
    assert page.folder is None and page.error is not None
    assert "certificate" in page.error and "--insecure" in page.error
    assert list(tmp_path.iterdir()) == []


def test_insecure_captures_and_records_the_certificate(
        tls_site: tuple[WebServer, bytes], tmp_path: Path) -> None:
    need_chromium()
    server, der = tls_site
    page = capture(server.url("/page.html"), tmp_path / "c",
                   CaptureOptions(insecure=True, timeout=30))
    assert page.ok, page.errors
    assert page.screenshot
    tls = context(page)["tls"]
    assert tls["verified"] is False and tls["verify_error"]
    assert tls["sha256"] == hashlib.sha256(der).hexdigest()
    assert tls["subject"] == "CN=svidok test server" and tls["issuer"] == tls["subject"]
    assert tls["subject_alt_names"] == ["127.0.0.1"]
    assert tls["not_before"] < tls["not_after"] and tls["serial"]
    assert tls["pem"].startswith("-----BEGIN CERTIFICATE-----")
    assert page.folder is not None
    assert response(records(page.folder), server.url("/photo.jpg")).body == PHOTO


# -- the command ------------------------------------------------------------------------


def svidok(*args: str) -> tuple[int, str, str]:
    if "capture" not in {c.name for c in app.registered_commands}:
        app.command("capture")(capture_cmd)  # until cli.py registers it
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "400"})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def test_the_command_captures_stores_and_names_each_failure(
        env: dict[str, str], site: WebServer) -> None:
    need_chromium()
    assert svidok("init")[0] == 0
    urls = [site.url("/old"), site.url("/photo.jpg"), "file:///etc/passwd",
            "http://127.0.0.1:1/gone", site.url("/slow")]
    code, stdout, _ = svidok("capture", *urls, "--collector", "field team",
                             "--timeout", "3", "--json")
    assert code == 1
    page, image, local, refused, slow = json.loads(stdout)
    assert page["error"] is None and page["status"] == 200
    assert page["final_url"] == site.url("/page.html") and page["screenshot"]
    assert {i["path"] for i in page["items"]} >= {
        "capture.json", "capture.warc.gz", "screenshot.png"}
    assert page["items_stored"] >= 3
    assert Path(page["folder"]).parent == Path(env["SVIDOK_HOME"]) / "captures"
    assert image["error"] is None
    assert "photo.jpg" in {i["path"] for i in image["items"]}
    assert "only http and https" in local["error"] and local["folder"] is None
    assert "refused" in refused["error"] and refused["folder"] is None
    assert "did not finish" in slow["error"] and slow["items_stored"] >= 2

    code, stdout, _ = svidok("items", "show", str(page["items"][0]["id"]), "--json")
    assert code == 0 and json.loads(stdout)["collector"] == "field team"


def test_the_command_without_chromium_says_what_to_install(
        env: dict[str, str], site: WebServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli_capture, "chromium_problem",
                        lambda path: chromium_problem(MISSING_CHROMIUM))
    assert svidok("init")[0] == 0
    code, stdout, stderr = svidok("capture", site.url("/page.html"))
    assert code == 1 and "sudo apt-get install chromium" in stderr and stdout == ""
    code, stdout, stderr = svidok("capture", site.url("/page.html"), "--no-screenshot")
    assert code == 0, stderr
    assert "Captured" in stdout and "stored as items" in stdout


def leftover(captures: Path, name: str, age: float = 3600) -> Path:
    """A capture folder as a killed capture left it, last changed ``age`` seconds ago."""
    (captures / name / ".fetched").mkdir(parents=True)
    (captures / name / "capture.warc.gz").write_bytes(b"half a WARC")
    then = time.time() - age
    os.utime(captures / name, (then, then))
    return captures / name


def test_leftovers_of_a_killed_capture_are_removed_and_nothing_else(
        env: dict[str, str], tmp_path: Path) -> None:
    assert svidok("init")[0] == 0
    captures = Path(env["SVIDOK_HOME"]) / "captures"
    captures.mkdir(exist_ok=True)
    killed = leftover(captures, ".20250101T000000Z-1.partial")
    complete = leftover(captures, "20250101T000000Z-2")  # a finished capture: never touched
    other = leftover(captures, ".notes.partial")  # not a name capture gives
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "kept.txt").write_text("kept")
    link = captures / ".20250101T000000Z-3.partial"
    link.symlink_to(elsewhere, target_is_directory=True)

    code, _, stderr = svidok("capture", "http://127.0.0.1:1/gone", "--no-screenshot")
    assert code == 1 and "refused" in stderr
    assert not killed.exists()
    assert "Removed 1 unfinished capture folder(s)" in stderr and killed.name in stderr
    assert names(complete) == [".fetched", "capture.warc.gz"]
    assert names(other) == [".fetched", "capture.warc.gz"]
    assert link.is_symlink() and (elsewhere / "kept.txt").read_text() == "kept"


def test_an_unfinished_capture_of_a_run_still_going_is_left_alone(env: dict[str, str]) -> None:
    assert svidok("init")[0] == 0
    home = Path(env["SVIDOK_HOME"])
    (home / "captures").mkdir(exist_ok=True)
    old = leftover(home / "captures", ".20250101T000000Z-1.partial")
    new = leftover(home / "captures", ".20250101T000000Z-2.partial", age=-60)  # after ours

    (home / "locks").mkdir(exist_ok=True)
    with (home / "locks" / "capture-runs.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_SH)  # another capture is running
        code, _, stderr = svidok("capture", "http://127.0.0.1:1/gone", "--no-screenshot")
    assert code == 1 and "Removed" not in stderr
    assert old.is_dir() and new.is_dir()

    code, _, stderr = svidok("capture", "http://127.0.0.1:1/gone", "--no-screenshot")
    assert code == 1 and f"Removed 1 unfinished capture folder(s) left by an interrupted " \
        f"capture: {old.name}" in stderr
    assert not old.exists() and new.is_dir()
