"""The enrichment runner: runs only what changed, stores what enrichers found with custody
events, and lets one bad item cost only its own run."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from svidok.custody.events import sha_key
from svidok.db.schema import artifacts, custody_events, enrichments, item_annotations, items
from svidok.enrich.enricher import Annotation, Artifact, EnrichError, Output, Subject
from svidok.enrich.runner import EnrichUsageError, enrich
from svidok.home import Home
from svidok.locker.ingest import BatchReport, IngestOptions, ingest


@dataclass
class MessageText:
    """Gives a message's text as its text artifact."""

    name: str = "text"
    version: str = "1"
    needs: tuple[str, ...] = ()

    def accepts(self, subject: Subject) -> bool:
        return subject.kind == "message"

    def run(self, subject: Subject) -> Output:
        text = str((subject.record or {}).get("text", ""))
        if "POISON" in text:
            raise EnrichError("cannot read this message")
        return Output(artifacts=[Artifact("text", "text/plain", content=text)])


@dataclass
class Shouting:
    """Suggests every word in capitals: reads the text the enricher before it gave."""

    name: str = "shouting"
    version: str = "1"
    needs: tuple[str, ...] = ("text",)
    seen: list[str] | None = None

    def accepts(self, subject: Subject) -> bool:
        return bool(subject.text)

    def run(self, subject: Subject) -> Output:
        assert subject.text is not None
        if self.seen is not None:
            self.seen.append(subject.text)
        found = []
        offset = 0
        for word in subject.text.split():
            start = subject.text.index(word, offset)
            offset = start + len(word)
            if word.isupper() and len(word) > 1:
                found.append(Annotation("shout", word, start, offset, 0.5, {"length": len(word)}))
        return Output(annotations=found)


def run(home: Home, folder: Path) -> BatchReport:
    return ingest(home, [folder], IngestOptions())


def source(tmp_path: Path) -> Path:
    folder = tmp_path / "source"
    folder.mkdir()
    return folder


def telegram(folder: Path, texts: list[str]) -> Path:
    messages = [{"id": n, "type": "message", "date": "2024-03-01T10:00:00",
                 "date_unixtime": str(1_709_280_000 + n), "from": "News", "from_id": "channel7",
                 "text": text} for n, text in enumerate(texts, 1)]
    (folder / "result.json").write_text(json.dumps(
        {"name": "News", "type": "public_channel", "id": 7, "messages": messages}),
        encoding="utf-8")
    return folder


def notes(home: Home, kind: str) -> list[Any]:
    with home.engine.connect() as conn:
        return list(conn.execute(select(item_annotations).where(item_annotations.c.kind == kind)
                                 .order_by(item_annotations.c.id)))


def runs(home: Home) -> dict[tuple[int, str], Any]:
    with home.engine.connect() as conn:
        return {(r.item_id, r.enricher): r for r in conn.execute(select(enrichments))}


@pytest.fixture
def two_messages(home: Home, tmp_path: Path) -> Home:
    run(home, telegram(source(tmp_path), ["checkpoint at DAWN", "nothing loud here"]))
    return home


def test_runs_store_outputs_with_enricher_version_and_custody_events(two_messages: Home
                                                                      ) -> None:
    report = enrich(two_messages, enrichers=[Shouting(), MessageText()])

    assert report.failed == 0
    assert report.runs[("text", "done")] == 2
    assert report.runs[("shouting", "done")] == 2
    shout = notes(two_messages, "shout")
    assert [(n.value, n.start, n.end, n.confidence, n.enricher, n.version, n.state)
            for n in shout] == [("DAWN", 14, 18, 500, "shouting", "1", "suggested")]
    assert json.loads(shout[0].data) == {"length": 4}
    with two_messages.engine.connect() as conn:
        text = conn.execute(select(artifacts).order_by(artifacts.c.id).limit(1)).one()
        message = conn.execute(select(items).where(items.c.id == text.item_id)).one()
        assert text.content == "checkpoint at DAWN" and text.role == "text"
        derive = [json.loads(r) for r in conn.execute(
            select(custody_events.c.record)
            .where(custody_events.c.sha_key == sha_key(text.sha256))).scalars()]
        about = [json.loads(r) for r in conn.execute(
            select(custody_events.c.record)
            .where(custody_events.c.sha_key == sha_key(message.record_sha256))).scalars()]
    assert [(e["action"], e["previous"], e["details"]["enricher"]) for e in derive] == [
        ("derive", message.record_sha256, "text")]
    found = [e["details"] for e in about if e["action"] == "metadata"]
    assert [(d["enrichers"], d["shouting.version"], d["shouting.found"]) for d in found] == [
        ("shouting", "1", 1)]
    assert len(found[0]["shouting.digest"]) == 64


def test_a_second_run_does_nothing_and_a_new_version_reruns_what_depends_on_it(
        two_messages: Home) -> None:
    enrich(two_messages, enrichers=[MessageText(), Shouting()])
    assert enrich(two_messages, enrichers=[MessageText(), Shouting()]).enriched == 0

    seen: list[str] = []
    again = enrich(two_messages, enrichers=[MessageText(), Shouting(version="2", seen=seen)])
    # Every item the old version looked at is looked at again, even those it skipped.
    assert again.runs == {("shouting", "done"): 2, ("shouting", "skipped"): 2}
    assert sorted(seen) == ["checkpoint at DAWN", "nothing loud here"]  # the stored text
    assert len(notes(two_messages, "shout")) == 1  # replaced, not added
    assert {r.version for r in runs(two_messages).values() if r.enricher == "shouting"} == {"2"}

    upstream = enrich(two_messages, enrichers=[MessageText(version="2"), Shouting(version="2")])
    assert upstream.runs[("text", "done")] == 2
    assert upstream.runs[("shouting", "done")] == 2


def test_only_and_force(two_messages: Home) -> None:
    enrich(two_messages, enrichers=[MessageText(), Shouting()])
    forced = enrich(two_messages, enrichers=[MessageText(), Shouting()], only=["shouting"],
                    force=True)
    assert set(forced.runs) == {("shouting", "done"), ("shouting", "skipped")}
    with pytest.raises(EnrichUsageError, match="no enricher named nope"):
        enrich(two_messages, enrichers=[MessageText()], only=["nope"])
    with pytest.raises(EnrichUsageError, match="not registered"):
        enrich(two_messages, enrichers=[Shouting()])


def test_a_failing_item_is_recorded_and_the_rest_proceed(home: Home, tmp_path: Path) -> None:
    run(home, telegram(source(tmp_path), ["POISON pill", "FINE words"]))
    report = enrich(home, enrichers=[MessageText(), Shouting()])

    assert report.runs[("text", "failed")] == 1
    assert [f.error for f in report.failures] == ["cannot read this message"]
    stored = runs(home)
    failed = [r for r in stored.values() if r.state == "failed"]
    assert [(r.enricher, r.error) for r in failed] == [("text", "cannot read this message")]
    assert [n.value for n in notes(home, "shout")] == ["FINE"]
    # The failure is remembered: the same version does not try again...
    assert enrich(home, enrichers=[MessageText(), Shouting()]).enriched == 0
    # ...a new one does.
    assert enrich(home, enrichers=[MessageText(version="2"), Shouting()]).runs[
        ("text", "failed")] == 1


def test_items_without_anything_for_an_enricher_are_skipped_once(two_messages: Home) -> None:
    report = enrich(two_messages, enrichers=[MessageText(), Shouting()])
    # The export file and the chat are items too; the text enricher takes neither.
    assert report.runs[("text", "skipped")] == 2
    assert report.runs[("shouting", "skipped")] == 2
    assert enrich(two_messages, enrichers=[MessageText(), Shouting()]).enriched == 0


def test_only_leaves_items_whose_inputs_were_never_made_to_a_full_run(
        two_messages: Home) -> None:
    seen: list[str] = []
    limited = enrich(two_messages, enrichers=[MessageText(), Shouting(seen=seen)],
                     only=["shouting"])
    assert limited.runs == {} and seen == []  # no text yet: nothing to shout about
    full = enrich(two_messages, enrichers=[MessageText(), Shouting(seen=seen)])
    assert full.runs[("shouting", "done")] == 2
    assert [n.value for n in notes(two_messages, "shout")] == ["DAWN"]
