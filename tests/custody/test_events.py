"""Custody records are canonical JSON: one byte string per event, checkable by anyone."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from svidok.custody.events import (
    ACTIONS,
    Actor,
    CustodyEvent,
    EventError,
    canonical_json,
    sha_key,
)

HEX = st.text("0123456789abcdef", min_size=64, max_size=64)
TEXT = st.text(st.characters(codec="utf-8"), max_size=40)
SCALAR = st.one_of(st.none(), st.booleans(), st.integers(-2**63, 2**63), TEXT)


@settings(max_examples=300, deadline=None)
@given(action=st.sampled_from(sorted(ACTIONS)), sha=HEX, purpose=st.none() | TEXT,
       previous=st.none() | HEX, context=st.none() | HEX,
       details=st.dictionaries(TEXT, SCALAR, max_size=4), user=st.none() | TEXT,
       micros=st.integers(0, 10**15))
def test_record_is_the_canonical_json_of_its_body(
        action: str, sha: str, purpose: str | None, previous: str | None, context: str | None,
        details: dict[str, object], user: str | None, micros: int) -> None:
    moment = datetime(2000, 1, 1, tzinfo=UTC) + timedelta(microseconds=micros)
    event = CustodyEvent(action, Actor("tests", "1.0", user), moment, sha,  # type: ignore[arg-type]
                         purpose=purpose, previous=previous, context=context,
                         details=details)  # type: ignore[arg-type]
    record = event.record()
    assert record == canonical_json(event.body())
    assert json.loads(record) == event.body()
    assert record == json.dumps(json.loads(record), sort_keys=True, separators=(",", ":"),
                                ensure_ascii=False).encode()


def test_a_record_reads_as_documented() -> None:
    moment = datetime(2026, 11, 25, 1, 2, 3, 456789, tzinfo=timezone(timedelta(hours=2)))
    event = CustodyEvent("capture", Actor("svidok.locker.ingest", "0.1.0"), moment, "a" * 64,
                         context="b" * 64, details={"item": 7, "batch": 1})
    assert event.record() == (
        '{"action":"capture","actor":{"component":"svidok.locker.ingest","version":"0.1.0"},'
        '"context":"' + "b" * 64 + '","details":{"batch":1,"item":7},'
        '"format":"svidok.custody-event/1","sha256":"' + "a" * 64 + '",'
        '"time":"2026-11-24T23:02:03.456789Z"}').encode()


@pytest.mark.parametrize("change", [
    {"sha256": "A" * 64}, {"sha256": "a" * 63}, {"previous": "xyz"}, {"context": "0" * 65},
    {"action": "delete"}, {"details": {"ratio": 0.5}}, {"details": {"list": [1]}},
])
def test_bad_events_are_refused(change: dict[str, object]) -> None:
    fields: dict[str, object] = {"action": "open", "actor": Actor("tests"),
                                 "time": datetime.now(UTC), "sha256": "c" * 64}
    fields.update(change)
    with pytest.raises(EventError):
        CustodyEvent(**fields).record()  # type: ignore[arg-type]


def test_naive_times_and_floats_are_refused() -> None:
    with pytest.raises(EventError):
        CustodyEvent("open", Actor("tests"), datetime(2026, 1, 1), "c" * 64).record()
    with pytest.raises(EventError):
        canonical_json({"a": [1, {"b": 1.5}]})


def test_sha_key_is_a_signed_64_bit_prefix() -> None:
    assert sha_key("0" * 64) == -(2**63)
    assert sha_key("f" * 64) == 2**63 - 1
    assert sha_key("8" + "0" * 63) == 0


def test_a_context_template_gives_the_digest_of_the_whole_document() -> None:
    from datetime import UTC, datetime

    from svidok.custody.capture import ContextTemplate, context_digest

    moment = datetime(2024, 3, 1, 10, 0, 0, 123456, tzinfo=UTC)
    common = {"batch_id": 7, "root": "/evidence/Харків", "mtime_ns": None, "ctime_ns": None,
              "atime_ns": None, "collector": "Олена \"О\"", "note": None, "host": "vm",
              "svidok_version": "0.1.0"}
    template = ContextTemplate(common, moment)
    for name, place, size, sha in (
            ("chat 1 message 2", b"export/result.json\x00chat 1 message 2", 552, "a" * 64),
            ("лист \\ \"x\"\n", b"\xff\xfe/mail.mbox\x00message 0", 0, "0" * 64)):
        row = {**common, "original_name": name, "rel_path_bytes": place, "size": size,
               "record_sha256": sha}
        assert template.digest(name, place, size, sha) == context_digest(row, moment)


def test_capture_records_are_the_records_of_capture_events() -> None:
    from datetime import UTC, datetime

    from svidok.custody.capture import capture_event, capture_records

    moment = datetime(2024, 3, 1, 10, 0, 0, 5, tzinfo=UTC)
    given = [("a" * 64, "b" * 64, 17, 552, 3), ("c" * 64, "d" * 64, 2**40, None, 1)]
    expected = [capture_event(sha, {"size": size, "batch_id": batch}, moment, item,
                              context=context).record()
                for sha, context, item, size, batch in given]
    assert capture_records(given, moment) == expected
    with pytest.raises(EventError):
        capture_records([("A" * 64, "b" * 64, 1, 1, 1)], moment)
