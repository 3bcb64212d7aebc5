"""Web archives: the warcio and py-wacz samples (tests/data/sources/warc, see PROVENANCE.md),
and WARCs and WACZs written here the way crawlers and damaged disks leave them."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tempfile
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from svidok.sources.problems import Problem
from svidok.sources.wacz import WebPage, read_wacz, read_wacz_pages
from svidok.sources.warc import (
    WHOLE_GZIP_NOTE,
    ArchiveError,
    WebCapture,
    read_warc,
)

DATA = Path(__file__).parents[1] / "data" / "sources" / "warc"
EXAMPLE_SHA256 = "ba85b4903f044b3eb20df400f97f33d8ed96dd8d43edd9cb84e3bcfc900649ff"
PAGE = b"<html><body>Shelling of the school, 14 March</body></html>"


def captures(found: list[WebCapture | Problem]) -> list[WebCapture]:
    return [c for c in found if isinstance(c, WebCapture)]


def problems(found: list[WebCapture | Problem]) -> list[Problem]:
    return [p for p in found if isinstance(p, Problem)]


# --- WARCs written here ---------------------------------------------------------------


def response(writer: WARCWriter, url: str, body: bytes, *, date: str | None = None,
             record_id: str | None = None, chunked: bool = False) -> None:
    headers = [("Content-Type", "text/html; charset=utf-8")]
    if chunked:
        headers.append(("Transfer-Encoding", "chunked"))
        half = len(body) // 2
        body = b"".join(b"%x\r\n%s\r\n" % (len(part), part)
                        for part in (body[:half], body[half:])) + b"0\r\n\r\n"
    warc_headers = {}
    if date:
        warc_headers["WARC-Date"] = date
    if record_id:
        warc_headers["WARC-Record-ID"] = record_id
    writer.write_record(writer.create_warc_record(
        url, "response", payload=io.BytesIO(body),
        http_headers=StatusAndHeaders("200 OK", headers, protocol="HTTP/1.1"),
        warc_headers_dict=warc_headers))


def request(writer: WARCWriter, url: str) -> None:
    writer.write_record(writer.create_warc_record(
        url, "request", payload=io.BytesIO(b""),
        http_headers=StatusAndHeaders("GET / HTTP/1.1", [("Host", "example.org")],
                                      is_http_request=True)))


def write_warc(path: Path, *, compress: bool, pages: int = 3) -> Path:
    with path.open("wb") as fh:
        writer = WARCWriter(fh, gzip=compress, warc_version="1.1")
        writer.write_record(writer.create_warcinfo_record(path.name, {"software": "test"}))
        for n in range(pages):
            request(writer, f"https://example.org/report/{n}")
            response(writer, f"https://example.org/report/{n}", PAGE + b"%d" % n,
                     date=f"2023-03-14T10:02:0{n}.123456Z")
    return path


# --- the samples ----------------------------------------------------------------------


def test_the_warcio_example_with_its_revisit_resolved() -> None:
    found = list(read_warc(DATA / "warcio_example.warc.gz"))
    assert problems(found) == []
    first, revisit = captures(found)

    assert (first.index, first.offset, first.warc_type) == (2, 784, "response")
    assert first.record_id == "<urn:uuid:a9c51e3e-0221-11e7-bf66-0242ac120005>"
    assert first.url == "http://example.com/"
    assert first.captured_at == datetime(2017, 3, 6, 4, 2, 6, tzinfo=UTC)
    assert first.status == 200 and first.content_type == "text/html"
    assert ("Content-Encoding", "gzip") in first.http_headers
    assert first.http_headers[-2:] == (("Content-Length", "606"), ("Connection", "close"))
    assert first.payload_digest == "sha1:G7HRM7BGOKSKMSXZAHMUQTTV53QOFSMK"
    assert first.digest_ok is True
    assert first.payload_size == 606 and first.payload is not None
    assert first.payload_sha256 == EXAMPLE_SHA256
    assert hashlib.sha256(first.payload).hexdigest() == EXAMPLE_SHA256
    assert b"Example Domain" in gzip.decompress(first.payload)  # Content-Encoding kept
    assert first.revisit_of is None and first.notes == ()

    assert (revisit.index, revisit.offset, revisit.warc_type) == (4, 2621, "revisit")
    assert revisit.captured_at == datetime(2017, 3, 6, 4, 3, 48, tzinfo=UTC)
    assert revisit.revisit_of == "http://example.com/ 2017-03-06T04:02:06Z"
    assert revisit.original_id == first.record_id
    assert revisit.payload == first.payload and revisit.payload_sha256 == EXAMPLE_SHA256
    assert revisit.payload_size == 606 and revisit.status == 200
    assert ("Date", "Mon, 06 Mar 2017 04:03:48 GMT") in revisit.http_headers  # its own
    assert revisit.notes == ()


def test_a_resource_record_has_no_http_headers() -> None:
    (only,) = list(read_warc(DATA / "warcio_example-resource.warc.gz"))
    assert isinstance(only, WebCapture)
    assert (only.index, only.offset, only.warc_type) == (2, 802, "resource")
    assert only.url == "http://example.com/"
    assert only.captured_at == datetime(2017, 4, 29, 1, 30, 30, tzinfo=UTC)
    assert only.status is None and only.http_headers == ()
    assert only.content_type == "text/html; charset=utf-8"
    assert only.payload_size == 1303 and only.payload is not None
    assert only.payload.startswith(b"<!DOCTYPE html>") and only.digest_ok is True


def test_the_py_wacz_example_checks_out() -> None:
    found = list(read_wacz(DATA / "py-wacz_valid_example_1.wacz"))
    assert problems(found) == []
    (only,) = captures(found)
    assert only.warc_name == "archive/example-collection.warc"
    assert (only.index, only.offset) == (2, 845)
    assert only.url == "http://www.example.com/" and only.status == 200
    assert only.captured_at == datetime(2020, 10, 7, 21, 22, 36, tzinfo=UTC)
    assert only.payload_size == 648 and only.digest_ok is True
    assert only.content_type == "text/html; charset=UTF-8"

    assert list(read_wacz_pages(DATA / "py-wacz_valid_example_1.wacz")) == [
        WebPage("http://www.example.com/", "Example Domain", "2020-10-07T21:22:36Z",
                datetime(2020, 10, 7, 21, 22, 36, tzinfo=UTC))]


# --- WARCs written here -----------------------------------------------------------------


@pytest.mark.parametrize("compress", [True, False])
def test_a_written_warc_gzip_and_plain(tmp_path: Path, compress: bool) -> None:
    path = write_warc(tmp_path / "a.warc", compress=compress)
    found = list(read_warc(path))
    assert problems(found) == []
    got = captures(found)
    assert [c.index for c in got] == [2, 4, 6]  # warcinfo 0, then request/response pairs
    assert [c.url for c in got] == [f"https://example.org/report/{n}" for n in range(3)]
    assert [c.payload for c in got] == [PAGE + b"%d" % n for n in range(3)]
    assert got[1].captured_at == datetime(2023, 3, 14, 10, 2, 1, 123456, tzinfo=UTC)
    assert all(c.digest_ok for c in got)
    assert len({c.offset for c in got}) == 3 and got[0].offset > 0


def test_chunked_transfer_encoding_is_removed_from_the_payload(tmp_path: Path) -> None:
    path = tmp_path / "chunked.warc.gz"
    with path.open("wb") as fh:
        response(WARCWriter(fh, gzip=True), "https://example.org/live", PAGE, chunked=True)
    (only,) = list(read_warc(path))
    assert isinstance(only, WebCapture)
    assert only.payload == PAGE and only.payload_size == len(PAGE)
    assert only.payload_sha256 == hashlib.sha256(PAGE).hexdigest()
    assert ("Transfer-Encoding", "chunked") in only.http_headers
    assert only.digest_ok is True  # warcio digests the chunked framing; either is accepted


def test_a_revisit_whose_original_is_elsewhere(tmp_path: Path) -> None:
    path = tmp_path / "revisit.warc"
    with path.open("wb") as fh:
        writer = WARCWriter(fh, gzip=False)
        writer.write_record(writer.create_revisit_record(
            "https://example.org/gone", "sha1:G7HRM7BGOKSKMSXZAHMUQTTV53QOFSMK",
            "https://example.org/gone", "2022-02-24T04:00:00Z"))
    (only,) = list(read_warc(path))
    assert isinstance(only, WebCapture) and only.warc_type == "revisit"
    assert only.revisit_of == "https://example.org/gone 2022-02-24T04:00:00Z"
    assert only.original_id is None and only.payload is None
    assert only.payload_sha256 is None and only.payload_size is None
    assert only.notes == ("revisit: the original capture is not in this archive; its "
                          "payload is in another archive",)


def test_a_revisit_by_record_id_and_a_payload_too_large_to_keep(tmp_path: Path) -> None:
    path = tmp_path / "big.warc.gz"
    big = b"x" * 5000
    with path.open("wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        response(writer, "https://example.org/video", big, record_id="<urn:uuid:1>")
        revisit = writer.create_revisit_record(
            "https://example.org/video", "sha1:AAAA", "https://example.org/video",
            "2000-01-01T00:00:00Z", warc_headers_dict={"WARC-Refers-To": "<urn:uuid:1>"})
        writer.write_record(revisit)
    first, second = list(read_warc(path, max_payload=1000, revisit_cache=1000))
    assert isinstance(first, WebCapture) and isinstance(second, WebCapture)
    assert first.payload is None and first.payload_size == 5000
    assert first.payload_sha256 == hashlib.sha256(big).hexdigest()
    assert "over the 1,000-byte cap" in first.notes[0]
    assert second.revisit_of == "<urn:uuid:1>" and second.original_id == "<urn:uuid:1>"
    assert second.payload is None and second.payload_sha256 == first.payload_sha256
    assert second.notes == ("revisit: the payload is that of record 0 (byte 0), not kept "
                            "in memory; re-read it from there",)


@pytest.mark.parametrize("compress", [True, False])
def test_a_truncated_warc_keeps_what_came_before(tmp_path: Path, compress: bool) -> None:
    path = write_warc(tmp_path / "cut.warc", compress=compress)
    data = path.read_bytes()
    path.write_bytes(data[:-40])
    found = list(read_warc(path))
    assert [c.url for c in captures(found)] == ["https://example.org/report/0",
                                                "https://example.org/report/1"]
    (problem,) = problems(found)
    assert found[-1] == problem
    assert problem.where.startswith("record 6 (byte ")
    offset = int(problem.where.split("byte ")[1].rstrip(")"))
    assert 0 < offset < len(data) - 40
    assert "truncated" in problem.message and "reading stopped" in problem.message
    assert "Shelling" not in problem.message


def test_a_wrong_content_length_is_reported(tmp_path: Path) -> None:
    path = write_warc(tmp_path / "bad.warc", compress=False, pages=2)
    data = path.read_bytes()
    cut = data.rindex(b"Shelling")  # inside the last response's payload
    short = data[:cut] + data[cut + 10:]  # ten bytes gone: the record now runs past its end

    path.write_bytes(short + b"WARC/1.1\r\n")
    found = list(read_warc(path))
    assert [type(f).__name__ for f in found] == ["WebCapture", "WebCapture", "Problem"]
    assert found[1].notes == (  # type: ignore[union-attr]
        "the payload does not match its WARC-Payload-Digest",)
    assert found[2] == Problem(f"record 4 (byte {found[1].offset})",  # type: ignore[union-attr]
                               "the record is not followed by the blank lines that end a "
                               "record: its Content-Length may be wrong")

    path.write_bytes(short + b"WARC/1.1\r\nWARC-Type: response\r\n\r\n")
    found = list(read_warc(path))
    assert len(captures(found)) == 2
    assert problems(found)[-1].message == (
        "no WARC record begins here: the previous record's Content-Length may be wrong, "
        "or the file is damaged; reading stopped")


def test_a_warc_gzipped_as_one_stream(tmp_path: Path) -> None:
    plain = write_warc(tmp_path / "a.warc", compress=False).read_bytes()
    path = tmp_path / "a.warc.gz"
    path.write_bytes(gzip.compress(plain))  # `gzip a.warc`, not one member per record
    found = list(read_warc(path))
    assert problems(found) == []
    got = captures(found)
    assert [c.index for c in got] == [2, 4, 6]
    assert [c.payload for c in got] == [PAGE + b"%d" % n for n in range(3)]
    assert all(c.notes == (WHOLE_GZIP_NOTE,) for c in got)
    assert [plain[c.offset:c.offset + 9] for c in got] == [b"WARC/1.1\r"] * 3

    path.write_bytes(gzip.compress(plain)[:-100])
    found = list(read_warc(path))
    assert len(captures(found)) == 2
    # Record ids are random, so the cut lands in the last request or the last response.
    assert problems(found)[0].where.startswith(("record 5 (byte ", "record 6 (byte "))
    assert "truncated" in problems(found)[0].message


def test_not_a_warc_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(b"Witness statement, page 1\n")
    with pytest.raises(ArchiveError, match=r"notes\.txt is not a WARC file"):
        list(read_warc(path))
    path.write_bytes(b"")
    with pytest.raises(ArchiveError, match="holds no WARC records"):
        list(read_warc(path))
    with pytest.raises(ArchiveError, match="cannot read"):
        list(read_warc(tmp_path / "missing.warc"))


def test_warc_dates_with_nanoseconds_and_without_a_zone(tmp_path: Path) -> None:
    path = tmp_path / "dates.warc"
    with path.open("wb") as fh:
        writer = WARCWriter(fh, gzip=False)
        response(writer, "https://example.org/a", PAGE, date="2023-03-14T10:02:03.123456789Z")
        response(writer, "https://example.org/b", PAGE, date="2023-03-14T10:02:03")
        response(writer, "https://example.org/c", PAGE, date="yesterday")
    a, b, c = captures(list(read_warc(path)))
    assert a.captured_at == datetime(2023, 3, 14, 10, 2, 3, 123456, tzinfo=UTC)
    assert a.notes == ()
    assert b.captured_at == datetime(2023, 3, 14, 10, 2, 3, tzinfo=UTC)
    assert b.notes == ("the WARC-Date has no 'Z'; read as UTC, as the standard requires",)
    assert c.captured_at is None and c.notes == ("the WARC-Date cannot be read",)


def test_a_payload_that_does_not_match_its_digest(tmp_path: Path) -> None:
    path = write_warc(tmp_path / "a.warc", compress=False, pages=1)
    data = path.read_bytes()
    path.write_bytes(data.replace(b"school", b"sch00l"))
    (only,) = list(read_warc(path))
    assert isinstance(only, WebCapture) and only.digest_ok is False
    assert only.notes == ("the payload does not match its WARC-Payload-Digest",)


# --- WACZ built here --------------------------------------------------------------------


def build_wacz(path: Path, members: dict[str, bytes], *, listed: dict[str, bytes] | None = None,
               extra: tuple[tuple[str, bytes], ...] = ()) -> Path:
    """A WACZ 1.1 whose datapackage.json lists ``listed`` (default: ``members``)."""
    listed = members if listed is None else listed
    package = {"profile": "data-package", "wacz_version": "1.1.1", "resources": [
        {"name": Path(name).name, "path": name,
         "hash": "sha256:" + hashlib.sha256(data).hexdigest(), "bytes": len(data)}
        for name, data in listed.items()]}
    datapackage = json.dumps(package).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        for name, data in extra:
            zf.writestr(zipfile.ZipInfo(name), data)
        zf.writestr("datapackage.json", datapackage)
        zf.writestr("datapackage-digest.json", json.dumps(
            {"path": "datapackage.json",
             "hash": "sha256:" + hashlib.sha256(datapackage).hexdigest()}))
    return path


def warc_bytes(tmp_path: Path) -> bytes:
    return write_warc(tmp_path / "inner.warc.gz", compress=True, pages=2).read_bytes()


PAGES = (b'{"format": "json-pages-1.0", "id": "pages"}\n'
         b'{"id": "1", "url": "https://example.org/report/0", "ts": "20230314100200",'
         b' "title": "Report"}\nnot json\n')


def test_a_built_wacz_checks_out(tmp_path: Path) -> None:
    path = build_wacz(tmp_path / "a.wacz", {"archive/data.warc.gz": warc_bytes(tmp_path),
                                           "pages/pages.jsonl": PAGES})
    found = list(read_wacz(path))
    assert problems(found) == []
    assert [(c.warc_name, c.url) for c in captures(found)] == [
        ("archive/data.warc.gz", "https://example.org/report/0"),
        ("archive/data.warc.gz", "https://example.org/report/1")]
    assert list(read_wacz_pages(path)) == [
        WebPage("https://example.org/report/0", "Report", "20230314100200",
                datetime(2023, 3, 14, 10, 2, tzinfo=UTC)),
        Problem("pages/pages.jsonl line 3", "not a JSON object")]


def test_a_tampered_member_is_named(tmp_path: Path) -> None:
    original = warc_bytes(tmp_path)
    tampered = write_warc(tmp_path / "other.warc.gz", compress=True, pages=1).read_bytes()
    path = build_wacz(tmp_path / "t.wacz", {"archive/data.warc.gz": tampered},
                      listed={"archive/data.warc.gz": original})
    found = list(read_wacz(path))
    assert problems(found) == [
        Problem("archive/data.warc.gz",
                f"{len(tampered):,} bytes, but datapackage.json lists {len(original):,}"),
        Problem("archive/data.warc.gz", "its SHA-256 does not match datapackage.json: the "
                "member was changed or damaged after packaging")]
    assert len(captures(found)) == 1  # still read: the problem says what to distrust


def test_missing_unlisted_and_unsafe_members(tmp_path: Path) -> None:
    warc = warc_bytes(tmp_path)
    path = build_wacz(tmp_path / "m.wacz",
                      {"archive/data.warc.gz": warc, "notes.txt": b"unlisted"},
                      listed={"archive/data.warc.gz": warc, "archive/lost.warc.gz": b"x"},
                      extra=(("../evil", b"owned"), ("/etc/passwd", b"root")))
    found = list(read_wacz(path))
    assert problems(found) == [
        Problem("../evil", "unsafe member name (absolute, '..' or a drive); not read"),
        Problem("/etc/passwd", "unsafe member name (absolute, '..' or a drive); not read"),
        Problem("archive/lost.warc.gz", "listed in datapackage.json but not in the WACZ"),
        Problem("notes.txt", "in the WACZ but not listed in datapackage.json")]
    assert len(captures(found)) == 2
    assert not (tmp_path.parent / "evil").exists()


def test_a_zip_bomb_is_not_expanded(tmp_path: Path) -> None:
    bomb = b"\0" * 2_000_000
    path = build_wacz(tmp_path / "bomb.wacz", {"archive/bomb.warc": bomb,
                                              "pages/pages.jsonl": PAGES})
    found = list(read_wacz(path, max_ratio=50))
    assert found[0].where == "archive/bomb.warc"  # type: ignore[union-attr]
    assert isinstance(found[0], Problem) and "over the ratio cap of 50" in found[0].message
    assert captures(found) == []

    found = list(read_wacz(path, max_ratio=10_000, max_total=100_000))
    assert isinstance(found[0], Problem) and found[0].where == "archive/bomb.warc"
    assert "cap of 100,000 uncompressed bytes" in found[0].message


def test_a_broken_datapackage_and_not_a_zip(tmp_path: Path) -> None:
    path = tmp_path / "b.wacz"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("datapackage.json", b"{not json")
        zf.writestr("archive/data.warc.gz", warc_bytes(tmp_path))
    found = list(read_wacz(path))
    assert problems(found) == [
        Problem("datapackage.json", "not valid JSON; the members cannot be checked")]
    assert len(captures(found)) == 2

    (tmp_path / "x.wacz").write_bytes(b"PK but not really")
    with pytest.raises(ArchiveError, match=r"x\.wacz is not a WACZ: it is not a ZIP file"):
        list(read_wacz(tmp_path / "x.wacz"))


def test_a_damaged_warc_inside_a_wacz_costs_only_itself(tmp_path: Path) -> None:
    good = warc_bytes(tmp_path)
    path = build_wacz(tmp_path / "d.wacz", {"archive/a.warc.gz": good[:-30],
                                           "archive/b.warc.gz": good,
                                           "archive/c.warc": b"not a warc\n"})
    found = list(read_wacz(path))
    assert [(p.where.split(" (")[0], p.message.split(":")[0]) for p in problems(found)] == [
        ("archive/a.warc.gz record 4", "truncated"),
        ("archive/c.warc", "is not a WARC file")]
    assert [c.warc_name for c in captures(found)] == ["archive/a.warc.gz"] + \
        ["archive/b.warc.gz"] * 2


# --- hypothesis -------------------------------------------------------------------------


def _small_warc(compress: bool) -> bytes:
    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=compress)
    response(writer, "https://example.org/a", PAGE)
    response(writer, "https://example.org/b", PAGE, chunked=True)
    writer.write_record(writer.create_revisit_record(
        "https://example.org/a", "sha1:AAAA", "https://example.org/a", "2000-01-01T00:00:00Z"))
    return buffer.getvalue()


SMALL = {"gzip": _small_warc(True), "plain": _small_warc(False),
         "whole-gzip": gzip.compress(_small_warc(False))}


def _read_all(path: Path, wacz: bool) -> list[WebCapture | Problem] | None:
    try:
        if wacz:
            return [*read_wacz(path), *read_wacz_pages(path)]  # type: ignore[list-item]
        return list(read_warc(path))
    except ArchiveError:
        return None


def _corrupt(raw: bytes, data: st.DataObject) -> bytes:
    changed = bytearray(raw)
    edits = data.draw(st.lists(st.tuples(st.integers(0, len(raw) - 1), st.integers(0, 255)),
                               min_size=1, max_size=8))
    for position, value in edits:
        changed[position] = value
    return bytes(changed[:data.draw(st.integers(0, len(raw)))])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.sampled_from(sorted(SMALL)), data=st.data())
def test_corruption_never_escapes_as_another_exception(kind: str,
                                                       data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "corrupt.warc"
        path.write_bytes(_corrupt(SMALL[kind], data))
        found = _read_all(path, wacz=False)
    if found is None:
        return
    assert all(isinstance(item, WebCapture | Problem) for item in found)
    # Reading stops at the first problem that says so.
    stops = [n for n, item in enumerate(found)
             if isinstance(item, Problem) and "reading stopped" in item.message]
    assert stops in ([], [len(found) - 1])


def _small_wacz() -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        return build_wacz(Path(folder) / "s.wacz", {"archive/a.warc.gz": SMALL["gzip"],
                                                    "archive/b.warc": SMALL["plain"],
                                                    "pages/pages.jsonl": PAGES}).read_bytes()


SMALL_WACZ = _small_wacz()


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_corrupt_wacz_never_escapes_as_another_exception(data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "corrupt.wacz"
        path.write_bytes(_corrupt(SMALL_WACZ, data))
        found = _read_all(path, wacz=True)
    assert found is None or all(isinstance(item, WebCapture | Problem | WebPage)
                                for item in found)
