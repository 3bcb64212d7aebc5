"""Text of an item: documents through the documents readers, e-mail bodies, chat messages.

Records are made by the real importers (their entries prepared as the recorder stores them),
so these tests break when an importer renames a field the text depends on. Documents and
letters are written here.
"""

from __future__ import annotations

import codecs
import io
import json
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path
from typing import Any, BinaryIO

import docx
import pytest

from made_documents import make_pdf
from svidok.enrich.text import (
    MAX_TEXT_CHARS,
    TEXT_VERSION,
    ExtractedText,
    TextError,
    extract_text,
)
from svidok.sources.importer import Container, Entry, ImportOptions
from svidok.sources.importers.email import EmailImporter
from svidok.sources.importers.telegram import TelegramImporter
from svidok.sources.importers.whatsapp import WhatsAppImporter
from svidok.sources.recording import prepare_record

OCR = Path(__file__).parents[1] / "data" / "ocr"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
LETTER = "Мого сина забрали на блокпосту біля Макіївки і відвезли до військкомату.\n"


def opener(data: bytes) -> Callable[[], BinaryIO]:
    return lambda: io.BytesIO(data)


def from_bytes(data: bytes, media_type: str, kind: str = "file") -> ExtractedText:
    found = extract_text(kind, media_type, opener(data), None)
    assert found is not None
    return found


def records(importer: Any, path: Path, kind: str) -> list[dict[str, Any]]:
    """The records an importer makes of a file, exactly as the locker stores them."""
    container = Container(path=path, name=path.name, media_type="application/octet-stream",
                          size=path.stat().st_size, folder=path.parent)
    entries = [e for e in importer.read(container, ImportOptions())
               if isinstance(e, Entry) and e.kind == kind]
    return [json.loads(prepare_record(entry)[0]) for entry in entries]


def test_an_html_page_gives_its_article_and_title() -> None:
    page = ("<html lang='uk'><head><title>Затримання на блокпосту</title></head><body>"
            "<nav>Головна | Новини</nav><article><h1>Затримання на блокпосту</h1>"
            f"<p>{LETTER * 3}</p><p>Родина просить про допомогу.</p></article>"
            "<footer>© 2023</footer></body></html>").encode()
    found = from_bytes(page, "text/html")
    assert found.source == "html"
    assert found.title == "Затримання на блокпосту"
    assert "відвезли до військкомату" in found.text and "Головна" not in found.text
    assert not found.truncated and found.ocr_pages == ()


def test_a_web_response_carries_html() -> None:
    page = b"<html><body><p>Checkpoint closed since morning, men detained.</p></body></html>"
    found = from_bytes(page, "text/html", kind="web-response")
    assert "men detained" in found.text


def test_a_pdf_gives_its_text_layer_and_names_the_pages_for_ocr() -> None:
    found = from_bytes(make_pdf(["Detained at the checkpoint", None, "Released", None, None]),
                       "application/pdf")
    assert found.source == "pdf"
    assert found.text == "Detained at the checkpoint\nReleased"
    assert found.ocr_pages == (2, 4, 5)


def test_a_scanned_pdf_has_no_text_only_pages_for_ocr() -> None:
    found = from_bytes((OCR / "scanned_ru_en.pdf").read_bytes(), "application/pdf")
    assert found.text == "" and found.ocr_pages == (1, 2)


def test_a_pdf_saved_under_another_type_is_still_read_as_a_pdf() -> None:
    found = from_bytes(make_pdf(["Detained at the checkpoint"]), "application/octet-stream")
    assert found.source == "pdf" and found.text == "Detained at the checkpoint"


def test_a_docx_gives_paragraphs_tables_and_title() -> None:
    document = docx.Document()
    document.add_paragraph(LETTER.strip())
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Мелітополь", "затримання"
    document.core_properties.title = "Протокол 17"
    out = io.BytesIO()
    document.save(out)
    found = from_bytes(out.getvalue(), DOCX)
    assert found.source == "docx" and found.title == "Протокол 17"
    assert found.text == f"{LETTER.strip()}\nМелітополь\tзатримання"


def test_plain_text_in_windows_1251() -> None:
    found = from_bytes(LETTER.encode("cp1251"), "text/plain")
    assert found.source == "text" and found.text == LETTER
    assert any("windows-1251" in note for note in found.notes)


def test_a_100_mb_text_is_read_in_part_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    block = ("Checkpoint log line, nothing else. " * 30 + "\n").encode()
    with path.open("wb") as fh:
        for _ in range(100 * 1024 * 1024 // len(block) + 1):
            fh.write(block)
    assert path.stat().st_size > 100 * 1024 * 1024
    found = extract_text("file", "text/plain", lambda: path.open("rb"), None)
    assert found is not None and found.truncated
    assert len(found.text) == MAX_TEXT_CHARS
    assert any(note.startswith("text cut at") for note in found.notes)


def test_a_document_record_gives_the_text_its_importer_read() -> None:
    record = {"kind": "document", "type": "pdf", "title": "Звіт", "text": "Текст звіту.",
              "notes": ["PDF pages 2-3 have no text layer (a scan? OCR is needed)"]}
    found = extract_text("document", None, None, record)
    assert found == ExtractedText(text="Текст звіту.", title="Звіт", source="pdf",
                                  truncated=False, ocr_pages=(2, 3), notes=tuple(
                                      record["notes"]))


# -- what has no text here ------------------------------------------------------------------

@pytest.mark.parametrize(("kind", "media_type"), [
    ("file", "image/jpeg"), ("file", "video/mp4"), ("media", "audio/ogg"),
    ("web-response", "text/css"), ("file", "application/octet-stream"),
])
def test_images_video_and_other_binaries_have_no_text_here(kind: str,
                                                           media_type: str) -> None:
    data = (OCR / "letter_uk.jpg").read_bytes()
    assert extract_text(kind, media_type, opener(data), None) is None


def test_a_chat_and_a_message_without_text_have_none() -> None:
    assert extract_text("chat", None, None, {"kind": "chat", "name": "Kharkiv"}) is None
    assert extract_text("message", None, None, {"kind": "message", "media": []}) is None


# -- bad input ----------------------------------------------------------------------------

def test_a_damaged_pdf_raises_a_text_error_that_quotes_nothing() -> None:
    with pytest.raises(TextError, match="damaged PDF") as caught:
        from_bytes(b"%PDF-1.4\n" + "Секретний текст".encode() * 100, "application/pdf")
    assert "Секретний" not in str(caught.value)


def test_a_legacy_word_file_is_named() -> None:
    with pytest.raises(TextError, match="legacy Office"):
        from_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "application/msword"
                   if False else "application/octet-stream")


# -- e-mail -------------------------------------------------------------------------------

def plain_letter() -> bytes:
    msg = EmailMessage()
    msg["From"] = "Olena <olena@example.org>"
    msg["To"] = "docs@example.org"
    msg["Subject"] = "Син на блокпосту"
    msg["Date"] = "Tue, 14 Mar 2023 10:00:00 +0200"
    msg.set_content(LETTER)
    msg.add_attachment(b"\xff\xd8\xff" + bytes(100), maintype="image", subtype="jpeg",
                       filename="photo.jpg")
    return msg.as_bytes()


def html_letter_in_cp1251() -> bytes:
    """HTML only, in Windows-1251, as old Russian webmail sends it."""
    body = ("<html><head><meta charset='windows-1251'></head><body><p>Мужа забрали на "
            "блокпосту и отвезли в военкомат.</p><p>Помогите.</p></body></html>")
    return (b"From: anna@example.org\r\nTo: docs@example.org\r\n"
            b"Subject: =?windows-1251?B?" + codecs.encode("Помогите".encode("cp1251"),
                                                         "base64").strip()
            + b"?=\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: text/html; charset=windows-1251\r\n"
            b"Content-Transfer-Encoding: 8bit\r\n\r\n" + body.encode("cp1251") + b"\r\n")


@pytest.mark.parametrize("from_record", [True, False], ids=["record", "bytes"])
def test_an_email_gives_its_plain_text_body_and_subject(tmp_path: Path,
                                                        from_record: bool) -> None:
    path = tmp_path / "letter.eml"
    path.write_bytes(plain_letter())
    [record] = records(EmailImporter(), path, "email")
    found = (extract_text("email", "message/rfc822", None, record) if from_record
             else extract_text("email", "message/rfc822", opener(path.read_bytes()), None))
    assert found is not None
    assert (found.source, found.title, found.text.strip()) == (
        "email", "Син на блокпосту", LETTER.strip())


@pytest.mark.parametrize("from_record", [True, False], ids=["record", "bytes"])
def test_an_html_only_email_in_windows_1251(tmp_path: Path, from_record: bool) -> None:
    path = tmp_path / "letter.eml"
    path.write_bytes(html_letter_in_cp1251())
    [record] = records(EmailImporter(), path, "email")
    found = (extract_text("email", None, None, record) if from_record
             else extract_text("file", "message/rfc822", opener(path.read_bytes()), None))
    assert found is not None
    assert found.title == "Помогите"
    assert "Мужа забрали на блокпосту и отвезли в военкомат." in found.text
    assert "<p>" not in found.text
    assert any("HTML body" in note for note in found.notes)


def test_an_email_that_is_too_long_is_cut(tmp_path: Path) -> None:
    record = {"kind": "email", "subject": "Довгий", "text": "а" * (MAX_TEXT_CHARS + 10),
              "size": MAX_TEXT_CHARS + 10}
    found = extract_text("email", None, None, record)
    assert found is not None and found.truncated and len(found.text) == MAX_TEXT_CHARS


def test_an_email_with_broken_charset_is_read_with_replacements() -> None:
    raw = (b"Subject: test\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
           b"\xd0\x9c\xd1\x83\xd0\xb6\xd0\xb0 \xff\xfe detained\r\n")
    found = extract_text("email", "message/rfc822", opener(raw), None)
    assert found is not None and found.text.startswith("Мужа") and "detained" in found.text


# -- chat messages --------------------------------------------------------------------------

def test_a_telegram_message_with_formatted_text(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    message = {"id": 7, "type": "message", "date": "2024-03-01T10:00:00",
               "date_unixtime": "1709280000", "from": "Kharkiv news",
               "from_id": "channel1001",
               "text": ["Сына увезли в ", {"type": "bold", "text": "военкомат"},
                        " прямо с блокпоста."],
               "text_entities": [{"type": "plain", "text": "Сына увезли в "},
                                 {"type": "bold", "text": "военкомат"},
                                 {"type": "plain", "text": " прямо с блокпоста."}]}
    (folder / "result.json").write_text(json.dumps(
        {"name": "Kharkiv news", "type": "public_channel", "id": 1001,
         "messages": [message, {**message, "id": 8, "text": "", "text_entities": []}]},
        ensure_ascii=False), encoding="utf-8")
    with_text, without = records(TelegramImporter(), folder / "result.json", "message")
    found = extract_text("message", None, None, with_text)
    assert found == ExtractedText(text="Сына увезли в военкомат прямо с блокпоста.",
                                  title=None, source="message", truncated=False,
                                  ocr_pages=(), notes=())
    assert extract_text("message", None, None, without) is None


def test_a_whatsapp_message_over_several_lines(tmp_path: Path) -> None:
    chat = tmp_path / "WhatsApp Chat with Olena.txt"
    chat.write_text("14/03/2023, 10:00 - Olena: Я не можу вийти з дому.\n"
                    "Вони стоять біля під'їзду.\n"
                    "14/03/2023, 10:05 - Anna: Тримайся\n", encoding="utf-8")
    first, second = records(WhatsAppImporter(), chat, "message")
    found = extract_text("message", None, None, first)
    assert found is not None
    assert found.text == "Я не можу вийти з дому.\nВони стоять біля під'їзду."
    assert extract_text("message", None, None, second) == ExtractedText(
        "Тримайся", None, "message", False, (), ())


def test_the_version_is_a_string() -> None:
    assert isinstance(TEXT_VERSION, str) and TEXT_VERSION
