"""E-mail importers end to end: mailboxes and .eml files ingested into a data folder, on
SQLite and PostgreSQL. Letters are written here; the CPython samples come from
tests/data/sources/email (see PROVENANCE.md)."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest
from importing import by_locator, children, run, source
from sqlalchemy import select

from svidok.db.schema import import_problems, items, sightings
from svidok.home import Home
from svidok.sources.importers import email as email_importer

DATA = Path(__file__).parents[1] / "data"
SEPARATOR = b"From olena@example.org Tue Mar 14 10:00:00 2023\n"


def letter(subject: str, *, attach: bytes | None = None, html: str | None = None,
           date: str = "Tue, 14 Mar 2023 10:00:00 +0200") -> bytes:
    msg = EmailMessage()
    msg["From"] = "Olena <olena@example.org>"
    msg["To"] = "docs@example.org, legal@example.org"
    msg["Subject"] = subject
    msg["Date"] = date
    msg["Message-ID"] = f"<{subject.replace(' ', '-')}@example.org>"
    msg["Received"] = "from mx.example.org by mail.example.org; Tue, 14 Mar 2023 10:00:01 +0200"
    msg.set_content("They took his passport at the checkpoint.\n")
    if html is not None:
        msg.add_alternative(html, subtype="html")
    if attach is not None:
        msg.add_attachment(attach, maintype="image", subtype="jpeg",
                           filename="../../checkpoint.jpg")
    return msg.as_bytes()


def mbox(*letters: bytes) -> bytes:
    return b"\n".join(SEPARATOR + raw.rstrip(b"\n") + b"\n" for raw in letters) + b"\n"


def photo() -> bytes:
    return (DATA / "photo.jpg").read_bytes()


def test_a_mailbox_gives_each_letter_and_its_attachments(home: Home, tmp_path: Path) -> None:
    folder = source(tmp_path)
    (folder / "inbox.mbox").write_bytes(mbox(
        letter("checkpoint", attach=photo()), letter("second", html="<p>Seen at 10:00</p>")))
    report = run(home, folder)
    [outcome] = report.imports
    assert outcome.importer == "mbox/1"
    assert (outcome.state, outcome.items, outcome.problems) == ("finished", 3, 0)
    found = by_locator(home)
    assert set(found) == {"message 0", "message 0 attachment 0", "message 1"}
    first, attachment = found["message 0"], found["message 0 attachment 0"]
    assert first["kind"] == "email" and attachment["kind"] == "attachment"
    assert attachment["parent_id"] == first["id"]
    assert found["message 1"]["parent_id"] == first["parent_id"]  # the mbox file
    fields = first["fields"]
    assert fields["from"] == "Olena <olena@example.org>"
    assert fields["to"] == ["docs@example.org", "legal@example.org"]
    assert fields["subject"] == "checkpoint"
    assert fields["date"] == "2023-03-14T10:00:00+02:00"
    assert fields["message_id"] == "<checkpoint@example.org>"
    assert fields["received"][0].strip().startswith("from mx.example.org")
    assert "passport" in fields["text"]
    assert first["occurred_at"].replace(tzinfo=UTC) == datetime(2023, 3, 14, 8, 0, tzinfo=UTC)
    assert first["source_key"] == f"email:{first['sha256']}"
    assert found["message 1"]["fields"]["html"] == "<p>Seen at 10:00</p>\n"
    # Each letter's original is its bytes exactly as the mailbox holds them.
    raw = home.blobs.path_of(first["sha256"]).read_bytes()
    assert raw.startswith(b"From: Olena") and b"\nFrom olena@" not in raw
    # The attachment's original is the decoded file, under its bare name.
    assert home.blobs.path_of(attachment["sha256"]).read_bytes() == photo()
    assert attachment["original_name"] == "checkpoint.jpg"
    assert attachment["fields"] == {"kind": "attachment", "locator": "message 0 attachment 0",
                                    "name": "checkpoint.jpg", "content_type": "image/jpeg",
                                    "size": len(photo()), "sha256": attachment["sha256"]}


def test_the_same_mailbox_elsewhere_is_seen_again_not_stored_again(home: Home,
                                                                  tmp_path: Path) -> None:
    data = mbox(letter("checkpoint", attach=photo()), letter("second"))
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "inbox.mbox").write_bytes(data)
    # The same letters in another mailbox: another file, the same letters.
    (tmp_path / "b" / "archive.mbox").write_bytes(data + mbox(letter("third")))
    run(home, tmp_path / "a")
    before = len(children(home))
    report = run(home, tmp_path / "b")
    [outcome] = report.imports
    assert (outcome.items, outcome.sightings) == (1, 3)
    assert len(children(home)) == before + 1
    with home.engine.connect() as conn:
        seen = conn.execute(select(sightings.c.locator, sightings.c.item_id)).all()
    ids = {row["locator"]: row["id"] for row in children(home)}
    assert {(loc, ids[loc]) for loc, _ in seen} == set(seen)


def test_a_rehash_of_the_same_mailbox_makes_sightings_only(home: Home, tmp_path: Path) -> None:
    folder = source(tmp_path)
    (folder / "inbox.mbox").write_bytes(mbox(letter("one", attach=photo())))
    run(home, folder)
    report = run(home, folder, rehash=True)
    [outcome] = report.imports
    assert (outcome.items, outcome.sightings, outcome.problems) == (0, 2, 0)


def test_a_broken_letter_is_a_problem_and_the_rest_imports(home: Home, tmp_path: Path) -> None:
    empty = SEPARATOR + b"\n"
    data = mbox(letter("one")) + empty + mbox(letter("three"))
    folder = source(tmp_path)
    (folder / "inbox.mbox").write_bytes(data)
    report = run(home, folder)
    [outcome] = report.imports
    assert (outcome.state, outcome.items, outcome.problems) == ("finished", 2, 1)
    offset = data.index(empty) + len(SEPARATOR)
    assert outcome.first_problems == [(f"message 1 (byte {offset})", "the message is empty")]
    assert not report.ok
    assert set(by_locator(home)) == {"message 0", "message 2"}
    with home.engine.connect() as conn:
        assert conn.execute(select(import_problems.c.location)).scalars().all() == [
            f"message 1 (byte {offset})"]


def test_an_eml_is_read_as_one_letter_under_its_file(home: Home, tmp_path: Path) -> None:
    folder = source(tmp_path)
    (folder / "letter.eml").write_bytes(letter("checkpoint", attach=photo()))
    report = run(home, folder)
    [outcome] = report.imports
    assert (outcome.importer, outcome.items, outcome.sightings) == ("email/1", 2, 0)
    found = by_locator(home)
    message, attachment = found["message 0"], found["message 0 attachment 0"]
    # The file is the letter's original; the letter is its reading, keyed by its hash.
    with home.engine.connect() as conn:
        file_sha = conn.execute(select(items.c.sha256).where(
            items.c.id == message["parent_id"])).scalar_one()
    assert message["sha256"] is None and message["source_key"] == f"email:{file_sha}"
    assert message["fields"]["subject"] == "checkpoint"
    assert attachment["parent_id"] == message["id"]
    assert home.blobs.path_of(attachment["sha256"]).read_bytes() == photo()
    again = run(home, folder, rehash=True)
    assert (again.imports[0].items, again.imports[0].sightings) == (0, 2)


def test_the_cpython_samples(home: Home, tmp_path: Path) -> None:
    shutil.copytree(DATA / "sources" / "email", tmp_path / "mail",
                    ignore=shutil.ignore_patterns("*.md"))
    report = run(home, tmp_path / "mail")
    used = {o.rel_path: o.importer for o in report.imports}
    assert used == {"cpython_mailbox_01.mbox": "mbox/1",
                    "cpython_msg_02_multipart_digest.eml": "email/1"}
    assert all(o.problems == 0 for o in report.imports)
    kinds = sorted(row["kind"] for row in children(home))
    assert kinds == ["email", "email"]  # the unescaped "From " line cuts no letter in two
    digest = next(r for r in children(home) if r["fields"].get("subject", "").startswith("Ppp"))
    assert digest["fields"]["date"] == "2001-04-20T20:18:00-04:00"


def test_a_date_without_an_offset_gives_no_time(home: Home, tmp_path: Path) -> None:
    raw = letter("no zone", date="Tue, 14 Mar 2023 10:00:00 -0000")
    folder = source(tmp_path)
    (folder / "inbox.mbox").write_bytes(mbox(raw))
    run(home, folder)
    found = by_locator(home)["message 0"]
    assert found["occurred_at"] is None
    assert "no time-zone offset" in found["fields"]["date_note"]


def test_long_bodies_are_cut_in_the_record_and_say_so(home: Home, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(email_importer, "MAX_HTML_CHARS", 10)
    folder = source(tmp_path)
    (folder / "inbox.mbox").write_bytes(mbox(letter("long", html="<p>" + "x" * 50 + "</p>")))
    run(home, folder)
    fields = by_locator(home)["message 0"]["fields"]
    assert fields["html"] == "<p>xxxxxxx"
    assert fields["html_cut"] == "cut at 10 of 58 characters"
