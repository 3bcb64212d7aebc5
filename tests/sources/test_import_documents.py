"""Document importer end to end: HTML, PDF, DOCX and plain text made here at test time,
ingested on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from importlib import metadata
from io import BytesIO
from pathlib import Path
from typing import Any

import docx
from importing import run, source
from pypdf import PdfReader, PdfWriter
from sqlalchemy import select

from made_documents import make_pdf
from svidok.db.schema import items
from svidok.home import Home
from svidok.locker.ingest import IngestOptions, ingest
from svidok.sources.importer import ImportOptions

DATA = Path(__file__).parents[1] / "data"
ARTICLE = """\
<!DOCTYPE html>
<html lang="uk">
<head><meta charset="utf-8">
<title>Примусова мобілізація на блокпосту — Новини Півдня</title>
<meta name="author" content="Олена Коваль">
</head>
<body>
<nav><a href="/">Головна</a> <a href="/news">Новини</a> МЕНЮНАВІГАЦІЇ</nav>
<main><article>
<h1>Примусова мобілізація на блокпосту під Мелітополем</h1>
<p class="byline">Автор: <span class="author">Олена Коваль</span>,
<time datetime="2023-03-14T10:00:00+02:00">14 березня 2023</time></p>
<p>Вранці чотирнадцятого березня на блокпосту біля села військові зупинили маршрутний
автобус і вивели з нього всіх чоловіків віком від вісімнадцяти до п'ятдесяти років.
Свідки розповіли, що в людей забрали паспорти.</p>
<p>За словами родичів, затриманих відвезли до будівлі колишньої школи, де їм
запропонували підписати контракт. Докладніше у <a href="https://example.org/report/17">звіті
правозахисників</a>.</p>
<p>Правозахисники задокументували щонайменше дванадцять таких випадків за останній
місяць і закликають міжнародні організації звернути увагу на примусовий призов.</p>
</article></main>
<footer><p>© 2023 Новини Півдня. ФУТЕРСАЙТУ</p></footer>
</body></html>
"""


def make_docx() -> bytes:
    document = docx.Document()
    document.add_heading("Протокол опитування", level=1)
    document.add_paragraph("Свідок повідомив, що паспорт забрали на блокпосту.")
    props = document.core_properties
    props.title = "Протокол 17"
    props.author = "Документатор А"
    props.language = "uk-UA"
    props.created = datetime(2023, 3, 14, 8, 0, tzinfo=UTC)
    out = BytesIO()
    document.save(out)
    return out.getvalue()


def document(home: Home) -> dict[str, Any]:
    with home.engine.connect() as conn:
        row = conn.execute(select(items).where(items.c.kind == "document")).mappings().one()
    return {**row, "fields": json.loads(row["record"])}


def test_a_web_page_gives_its_article_and_claims(home: Home, tmp_path: Path) -> None:
    folder = source(tmp_path)
    (folder / "article.html").write_text(ARTICLE, encoding="utf-8")
    report = run(home, folder)
    [outcome] = report.imports
    assert (outcome.importer, outcome.state, outcome.items, outcome.problems) == (
        "document/1", "finished", 1, 0)
    found = document(home)
    assert found["locator"] == "document" and found["sha256"] is None
    fields = found["fields"]
    assert fields["type"] == "html"
    assert fields["title"].startswith("Примусова мобілізація")
    assert fields["author"] == "Олена Коваль"
    assert fields["published"] == "2023-03-14"
    assert fields["published_text"] == "2023-03-14T10:00:00+02:00"
    assert fields["language_hint"] == "uk"
    assert fields["links"] == ["https://example.org/report/17"]
    assert "забрали паспорти" in fields["text"]
    assert "ФУТЕРСАЙТУ" not in fields["text"] and "МЕНЮНАВІГАЦІЇ" not in fields["text"]
    assert (fields["tool"], fields["tool_version"]) == ("trafilatura",
                                                        metadata.version("trafilatura"))
    with home.engine.connect() as conn:
        parent = conn.execute(select(items.c.original_name, items.c.sha256).where(
            items.c.id == found["parent_id"])).one()
    assert parent.original_name == "article.html"
    assert found["source_key"] == f"document:{parent.sha256}"


def test_reading_the_same_file_again_is_a_sighting(home: Home, tmp_path: Path) -> None:
    folder = source(tmp_path)
    (folder / "article.html").write_text(ARTICLE, encoding="utf-8")
    run(home, folder)
    other = source(tmp_path, "copy")
    shutil.copy(folder / "article.html", other / "saved.htm")
    report = run(home, other)
    [outcome] = report.imports
    assert (outcome.items, outcome.sightings) == (0, 1)


def test_a_pdf_text_layer_and_metadata(home: Home, tmp_path: Path) -> None:
    folder = source(tmp_path)
    (folder / "report.pdf").write_bytes(make_pdf(["Passports taken", "Bus stopped"]))
    report = run(home, folder)
    assert report.imports[0].importer == "document/1"
    fields = document(home)["fields"]
    assert fields["type"] == "pdf" and fields["pages"] == 2
    assert fields["title"] == "Checkpoint report" and fields["author"] == "Olena K."
    assert fields["created"] == "2023-03-14T10:00:00+02:00"
    assert fields["language_hint"] == "uk-UA"
    assert "Passports taken" in fields["text"] and "Bus stopped" in fields["text"]
    assert (fields["tool"], fields["tool_version"]) == ("pypdf", metadata.version("pypdf"))


def test_a_docx(home: Home, tmp_path: Path) -> None:
    folder = source(tmp_path)
    (folder / "protocol.docx").write_bytes(make_docx())
    report = run(home, folder)
    assert report.imports[0].importer == "document/1"
    fields = document(home)["fields"]
    assert fields["type"] == "docx"
    assert fields["title"] == "Протокол 17" and fields["author"] == "Документатор А"
    assert fields["created"] == "2023-03-14T08:00:00+00:00"
    assert fields["language_hint"] == "uk-UA"
    assert "паспорт забрали" in fields["text"]
    assert (fields["tool"], fields["tool_version"]) == ("python-docx",
                                                        metadata.version("python-docx"))


def test_plain_text_is_kept_as_it_is_unless_read_as_a_document(
        home: Home, tmp_path: Path) -> None:
    folder = source(tmp_path)
    (folder / "note.txt").write_text("Свідок: забрали паспорт.\n", encoding="utf-8")
    shutil.copy(DATA / "sources" / "whatsapp" / "chat-miner_android_ddmmyy_24h.txt", folder)
    report = run(home, folder)
    used = {o.rel_path: o.importer for o in report.imports}
    assert used == {"chat-miner_android_ddmmyy_24h.txt": "whatsapp/1"}
    forced = ingest(home, [folder / "note.txt"], IngestOptions(
        rehash=True, reading=ImportOptions(forced="document")))
    assert [o.importer for o in forced.imports] == ["document/1"]
    fields = document(home)["fields"]
    assert fields["type"] == "text" and fields["tool"] == "svidok"
    assert fields["text"] == "Свідок: забрали паспорт.\n"
    assert "text decoded as utf-8" in fields["notes"]


def test_a_pdf_that_needs_a_password_fails_with_a_clear_message(home: Home,
                                                                tmp_path: Path) -> None:
    writer = PdfWriter(clone_from=PdfReader(BytesIO(make_pdf(["secret"]))))
    writer.encrypt("user-password", "owner-password", algorithm="AES-128")
    out = BytesIO()
    writer.write(out)
    folder = source(tmp_path)
    (folder / "locked.pdf").write_bytes(out.getvalue())
    report = run(home, folder)
    [outcome] = report.imports
    assert outcome.state == "failed" and not report.ok
    assert outcome.error is not None
    assert outcome.error.startswith("locked.pdf ") and "password" in outcome.error
    with home.engine.connect() as conn:
        assert conn.execute(select(items).where(items.c.kind == "document")).first() is None
