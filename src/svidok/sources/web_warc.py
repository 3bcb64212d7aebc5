"""The capture's WARC 1.1: a warcinfo record naming the software and tool versions, records
for what was fetched, exactly as it went over the wire, and for what the browser loaded,
as Chromium reported it."""

from __future__ import annotations

import base64
import hashlib
import http.client
import io
import platform
import subprocess
import uuid
from datetime import UTC, datetime
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import IO

from warcio.recordloader import ArcWarcRecord, ArcWarcRecordLoader
from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date
from warcio.warcwriter import WARCWriter

from svidok import __version__
from svidok.sources.web_fetch import BLOCK, Exchange


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
        self.name = path.name  # the warcinfo record names the file it heads
        self.file = path.open("wb")
        self.writer = WARCWriter(self.file, gzip=True, warc_version="1.1")

    def close(self) -> None:
        self.file.close()

    def info(self, tools: dict[str, str | None]) -> None:
        fields = {"software": f"Svidok {__version__} (svidok capture)",
                  "format": "WARC File Format 1.1",
                  **{f"tool-{k}": v or "unknown" for k, v in tools.items()}}
        self.writer.write_record(self.writer.create_warcinfo_record(self.name, fields))

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
