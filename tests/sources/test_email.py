"""E-mail: the CPython samples (tests/data/sources/email, see PROVENANCE.md) and letters
written here as documenters receive them."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import svidok.sources.email as mail
from svidok.sources.email import Mail, MailError, parse_message, read_eml, read_mbox
from svidok.sources.problems import Problem

DATA = Path(__file__).parents[1] / "data" / "sources" / "email"

LETTER = b"""\
Received: from mx2.example.org (mx2.example.org [192.0.2.7])
\tby mail.example.net; Tue, 14 Mar 2023 10:02:03 +0200
Received: from [10.0.0.5] by mx2.example.org; Tue, 14 Mar 2023 10:02:01 +0200
From: =?utf-8?b?0J7Qu9C10L3QsA==?= <olena@example.org>
To: team@example.net, "Legal" <legal@example.net>
Cc: archive@example.net
Subject: =?utf-8?q?=D0=9F=D0=B0=D1=81=D0=BF=D0=BE=D1=80=D1=82?=
Date: Tue, 14 Mar 2023 10:01:59 +0200
Message-ID: <letter-1@example.org>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b1"

--b1
Content-Type: multipart/alternative; boundary="b2"

--b2
Content-Type: text/plain; charset=koi8-u
Content-Transfer-Encoding: 8bit

\xf0\xc1\xd3\xd0\xcf\xd2\xd4 \xde\xc5\xd2\xc5\xda \xc2\xcc\xcf\xcb\xd0\xcf\xd3\xd4
--b2
Content-Type: text/html; charset=utf-8

<p>Passport taken at the checkpoint</p>
--b2--
--b1
Content-Type: image/jpeg
Content-Disposition: attachment; filename="../../../etc/photo.jpg"
Content-Transfer-Encoding: base64

/9j/4AAQ
--b1--
"""


def test_a_mailman_digest() -> None:
    found = read_eml(DATA / "cpython_msg_02_multipart_digest.eml")
    assert isinstance(found, Mail)
    assert found.subject == "Ppp digest, Vol 1 #2 - 5 msgs"
    assert found.sender == "ppp-request@zzz.org" and found.recipients == ("ppp@zzz.org",)
    assert found.date is not None and found.date.isoformat() == "2001-04-20T20:18:00-04:00"
    assert "testing #1" in found.text and found.attachments == ()
    assert found.raw == (DATA / "cpython_msg_02_multipart_digest.eml").read_bytes()


def test_a_from_line_in_a_body_does_not_split_the_letter() -> None:
    (only,) = list(read_mbox(DATA / "cpython_mailbox_01.mbox"))
    assert isinstance(only, Mail)
    assert only.text.endswith("From time to time\n")
    assert only.date is None and only.date_note == "the message has no Date header"


def test_a_letter_with_everything_a_court_asks_about() -> None:
    found = parse_message(LETTER)
    assert isinstance(found, Mail)
    assert found.subject == "Паспорт" and found.sender == "Олена <olena@example.org>"
    assert found.recipients == ("team@example.net", "legal@example.net", "archive@example.net")
    assert found.message_id == "<letter-1@example.org>"
    assert found.date is not None and found.date.utcoffset() is not None
    assert [r.split(";")[0][:20] for r in found.received] == ["from mx2.example.org",
                                                              "from [10.0.0.5] by m"]
    assert found.text.strip() == "Паспорт через блокпост"  # KOI8-U, decoded
    assert found.html is not None and "checkpoint" in found.html
    (photo,) = found.attachments
    assert (photo.name, photo.content_type, photo.data[:3]) == ("photo.jpg", "image/jpeg",
                                                                b"\xff\xd8\xff")


def test_a_mailbox_of_three_with_a_broken_one_in_the_middle(tmp_path: Path) -> None:
    box = tmp_path / "inbox.mbox"
    sep = b"From olena@example.org Tue Mar 14 10:02:03 2023\n"
    box.write_bytes(sep + LETTER + b"\n" + sep + b"\n\n" + b"\n" + sep
                    + LETTER.replace(b"letter-1", b"letter-3") + b"\n")
    found = list(read_mbox(box))
    assert [type(f).__name__ for f in found] == ["Mail", "Problem", "Mail"]
    first, broken, third = found
    assert isinstance(first, Mail) and isinstance(third, Mail) and isinstance(broken, Problem)
    assert first.raw == LETTER and third.message_id == "<letter-3@example.org>"
    assert broken.where.startswith("message 1 (byte ") and "empty" in broken.message
    assert box.read_bytes()[third.offset:third.offset + len(third.raw)] == third.raw


def test_an_oversized_letter_costs_only_itself(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mail, "MAX_MESSAGE_BYTES", 600)
    box = tmp_path / "inbox.mbox"
    sep = b"From a@example.org Tue Mar 14 10:02:03 2023\n"
    small = b"From: a@example.org\nSubject: short\n\nhello\n"
    box.write_bytes(sep + LETTER + b"\n" + sep + small)
    found = list(read_mbox(box))
    assert isinstance(found[0], Problem) and "larger than 600 bytes" in found[0].message
    assert isinstance(found[1], Mail) and found[1].subject == "short"


def test_not_an_mbox(tmp_path: Path) -> None:
    path = tmp_path / "notes.mbox"
    path.write_bytes(b"Subject: no separator\n\nhi\n")
    with pytest.raises(MailError, match="does not begin with a 'From ' separator"):
        list(read_mbox(path))


def test_a_date_without_an_offset_is_marked() -> None:
    found = parse_message(b"From: a@example.org\nDate: Tue, 14 Mar 2023 10:01:59 -0000\n\nx\n")
    assert isinstance(found, Mail) and found.date_note is not None


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=600) | st.builds(
    lambda head, body: head + b"\n\n" + body,
    st.lists(st.sampled_from([b"From: x", b"Date: ???", b"Subject: =?bad?q?=FF?=",
                              b"Content-Type: multipart/mixed; boundary=", b"To: <<<",
                              b"Content-Transfer-Encoding: base64", b"\xff\xfe: \x00"]),
             max_size=6).map(b"\n".join),
    st.binary(max_size=200)))
def test_any_bytes_give_a_letter_or_a_problem(raw: bytes) -> None:
    assert isinstance(parse_message(raw), Mail | Problem)
