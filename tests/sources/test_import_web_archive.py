"""Web archive importers end to end: the warcio and py-wacz samples (tests/data/sources/warc,
see PROVENANCE.md) and WARCs written here, on SQLite and PostgreSQL."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import shutil
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from importing import by_locator, children, run, source
from sqlalchemy import select
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from svidok.db.schema import sightings
from svidok.home import Home
from svidok.sources.importers import web_archive

DATA = Path(__file__).parents[1] / "data" / "sources" / "warc"
EXAMPLE_SHA256 = "ba85b4903f044b3eb20df400f97f33d8ed96dd8d43edd9cb84e3bcfc900649ff"
PAGE = b"<html><body>Shelling of the school, 14 March</body></html>"


def seen(home: Home) -> list[dict[str, Any]]:
    with home.engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(sightings).where(
            sightings.c.locator.is_not(None)).order_by(sightings.c.id)).mappings()]


def response(writer: WARCWriter, url: str, body: bytes, record_id: str) -> None:
    warc_headers = {"WARC-Record-ID": record_id, "WARC-Date": "2023-03-14T10:02:00Z"}
    writer.write_record(writer.create_warc_record(
        url, "response", payload=io.BytesIO(body),
        http_headers=StatusAndHeaders("200 OK", [("Content-Type", "text/html")],
                                      protocol="HTTP/1.1"),
        warc_headers_dict=warc_headers))


def revisit_of(writer: WARCWriter, url: str, record_id: str) -> None:
    writer.write_record(writer.create_revisit_record(
        url, "sha1:AAAA", url, "2000-01-01T00:00:00Z",
        warc_headers_dict={"WARC-Refers-To": record_id}))


def test_the_warcio_example_and_its_revisit(home: Home, tmp_path: Path) -> None:
    folder = source(tmp_path)
    shutil.copy(DATA / "warcio_example.warc.gz", folder)
    report = run(home, folder)
    [outcome] = report.imports
    assert (outcome.importer, outcome.state, outcome.problems) == ("warc/1", "finished", 0)
    assert (outcome.items, outcome.sightings) == (1, 1)
    [capture] = children(home)
    assert (capture["kind"], capture["locator"]) == ("web-response", "record 2 (byte 784)")
    assert capture["sha256"] == EXAMPLE_SHA256
    assert b"Example Domain" in gzip.decompress(
        home.blobs.path_of(EXAMPLE_SHA256).read_bytes())  # the payload as the server sent it
    fields = capture["fields"]
    assert fields["url"] == "http://example.com/"
    assert fields["captured_at"] == "2017-03-06T04:02:06+00:00"
    assert fields["status"] == 200 and fields["digest_ok"] is True
    assert ["Content-Encoding", "gzip"] in fields["http_headers"]
    assert fields["record_id"] == "<urn:uuid:a9c51e3e-0221-11e7-bf66-0242ac120005>"
    assert capture["source_key"] == "warc:<urn:uuid:a9c51e3e-0221-11e7-bf66-0242ac120005>"
    assert capture["occurred_at"].replace(tzinfo=UTC) == datetime(2017, 3, 6, 4, 2, 6,
                                                                   tzinfo=UTC)
    # The revisit holds the same payload: it is the same item, seen again later.
    [revisit] = seen(home)
    assert revisit["item_id"] == capture["id"]
    assert revisit["locator"] == "record 4 (byte 2621)"
    assert json.loads(revisit["record"])["original_id"] == fields["record_id"]


def test_a_resource_record(home: Home, tmp_path: Path) -> None:
    folder = source(tmp_path)
    shutil.copy(DATA / "warcio_example-resource.warc.gz", folder)
    run(home, folder)
    [capture] = children(home)
    assert capture["locator"] == "record 2 (byte 802)"
    assert "status" not in capture["fields"] and "http_headers" not in capture["fields"]
    assert home.blobs.path_of(capture["sha256"]).read_bytes().startswith(b"<!DOCTYPE html>")


def test_payloads_too_big_to_hold_are_read_again_from_the_archive(
        home: Home, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(web_archive, "MAX_PAYLOAD", 1000)
    monkeypatch.setattr(web_archive, "REVISIT_CACHE", 1000)
    big = b"<html>" + b"x" * 5000 + b"</html>"
    folder = source(tmp_path)
    with (folder / "big.warc.gz").open("wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        response(writer, "https://example.org/video", big, "<urn:uuid:1>")
        response(writer, "https://example.org/small", PAGE, "<urn:uuid:2>")
        revisit_of(writer, "https://example.org/video", "<urn:uuid:1>")
    report = run(home, folder)
    [outcome] = report.imports
    assert (outcome.items, outcome.sightings, outcome.problems) == (2, 1, 0)
    found = by_locator(home)
    [first] = [row for row in found.values() if row["source_key"] == "warc:<urn:uuid:1>"]
    assert home.blobs.path_of(first["sha256"]).read_bytes() == big
    assert first["sha256"] == hashlib.sha256(big).hexdigest()
    [revisit] = seen(home)
    assert revisit["item_id"] == first["id"]


def test_a_warc_gzipped_as_one_stream(home: Home, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(web_archive, "MAX_PAYLOAD", 10)
    folder = source(tmp_path)
    plain = gzip.decompress((DATA / "warcio_example.warc.gz").read_bytes())
    (folder / "whole.warc.gz").write_bytes(gzip.compress(plain))
    report = run(home, folder)
    assert report.imports[0].problems == 0
    [capture] = children(home)
    assert capture["sha256"] == EXAMPLE_SHA256  # read again through the decompressor
    assert len(seen(home)) == 1


def test_a_truncated_warc_keeps_what_came_before(home: Home, tmp_path: Path) -> None:
    folder = source(tmp_path)
    data = (DATA / "warcio_example.warc.gz").read_bytes()
    (folder / "cut.warc.gz").write_bytes(data[:2621 + 200])  # inside the revisit
    report = run(home, folder)
    [outcome] = report.imports
    assert (outcome.state, outcome.items, outcome.problems) == ("finished", 1, 1)
    [(where, _)] = outcome.first_problems
    assert where == "record 4 (byte 2621)"
    assert not report.ok


def test_a_payload_that_does_not_match_its_digest_is_a_problem(home: Home,
                                                               tmp_path: Path) -> None:
    folder = source(tmp_path)
    path = folder / "bad.warc"
    with path.open("wb") as fh:
        response(WARCWriter(fh, gzip=False), "https://example.org/a", PAGE, "<urn:uuid:3>")
    path.write_bytes(path.read_bytes().replace(b"school", b"sch00l"))  # same length
    report = run(home, folder)
    [outcome] = report.imports
    assert outcome.problems == 1
    assert "does not match its WARC-Payload-Digest" in outcome.first_problems[0][1]
    [capture] = children(home)
    assert capture["fields"]["digest_ok"] is False


def test_a_revisit_whose_original_is_elsewhere_names_it_missing(home: Home,
                                                                tmp_path: Path) -> None:
    folder = source(tmp_path)
    with (folder / "revisit.warc").open("wb") as fh:
        revisit_of(WARCWriter(fh, gzip=False), "https://example.org/gone", "<urn:uuid:9>")
    run(home, folder)
    [capture] = children(home)
    assert capture["sha256"] is None
    assert capture["fields"]["files"] == [
        {"payload": "<urn:uuid:9>", "missing": "the original capture is not in this archive"}]


def test_the_py_wacz_example(home: Home, tmp_path: Path) -> None:
    folder = source(tmp_path)
    shutil.copy(DATA / "py-wacz_valid_example_1.wacz", folder)
    report = run(home, folder)
    [outcome] = report.imports
    assert (outcome.importer, outcome.problems, outcome.items) == ("wacz/1", 0, 2)
    found = by_locator(home)
    capture = found["archive/example-collection.warc record 2 (byte 845)"]
    assert capture["fields"]["warc"] == "archive/example-collection.warc"
    assert capture["fields"]["url"] == "http://www.example.com/"
    page = found["page 0"]
    assert page["kind"] == "page" and page["original_name"] == "Example Domain"
    assert page["fields"]["url"] == "http://www.example.com/"
    again = run(home, folder, rehash=True)
    assert (again.imports[0].items, again.imports[0].sightings) == (0, 2)


def tampered_wacz(path: Path) -> Path:
    """The py-wacz example with its page list changed after packaging."""
    with zipfile.ZipFile(DATA / "py-wacz_valid_example_1.wacz") as old, \
            zipfile.ZipFile(path, "w") as new:
        for info in old.infolist():
            data = old.read(info)
            if info.filename == "pages/pages.jsonl":
                data = data.replace(b"Example Domain", b"Example Forged")
            new.writestr(info, data)
    return path


def test_a_wacz_whose_member_was_changed_is_a_problem(home: Home, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(web_archive, "MAX_PAYLOAD", 10)  # WARC payloads read from the zip
    folder = source(tmp_path)
    tampered_wacz(folder / "example.wacz")
    report = run(home, folder)
    [outcome] = report.imports
    assert outcome.state == "finished" and not report.ok
    assert outcome.first_problems == [
        ("pages/pages.jsonl", "its SHA-256 does not match datapackage.json: the member was "
         "changed or damaged after packaging")]
    found = by_locator(home)
    capture = found["archive/example-collection.warc record 2 (byte 845)"]
    payload = home.blobs.path_of(capture["sha256"]).read_bytes()
    assert hashlib.sha256(payload).hexdigest() == capture["fields"]["payload_sha256"]
    assert found["page 0"]["fields"]["title"] == "Example Forged"
