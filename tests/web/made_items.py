"""Evidence for the item-page tests: a photo with bytes of its own, and a Telegram channel
export whose messages are records without bytes (result.json > chat > message), one of them
naming two towns."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from svidok.db.schema import items
from svidok.enrich.runner import enrich
from svidok.home import Home
from svidok.locker.ingest import IngestOptions, ingest

DATA = Path(__file__).parent.parent / "data"
PLACES_TEXT = ("23 червня на блокпосту біля Макіївки військові відібрали паспорти у трьох "
               "чоловіків і відвезли їх до військкомату. Потім у Харкові ще двох.")


def _message(number: int, text: str) -> dict[str, object]:
    return {"id": number, "type": "message", "date": "2024-03-01T10:00:00",
            "date_unixtime": str(1_709_280_000 + 60 * number), "from": "Kharkiv news",
            "from_id": "channel1001", "text": text}


def make_items(home: Home, folder: Path, *, enriched: bool = False) -> dict[str, int]:
    """Ingest (and enrich) the sample; item ids by what they are."""
    (folder / "export").mkdir(parents=True)
    (folder / "photo.jpg").write_bytes((DATA / "photo.jpg").read_bytes())
    messages = [_message(1, PLACES_TEXT), _message(2, "Сьогодні тихо.")]
    (folder / "export" / "result.json").write_text(json.dumps(
        {"name": "Kharkiv news", "type": "public_channel", "id": 1001, "messages": messages},
        ensure_ascii=False), encoding="utf-8")
    report = ingest(home, [folder], IngestOptions())
    assert report.ok, report
    if enriched:
        enrich(home, workers=1)
    with home.engine.connect() as conn:
        rows = {r.locator or r.original_name: r.id for r in conn.execute(
            select(items.c.id, items.c.locator, items.c.original_name))}
    return {"photo": rows["photo.jpg"], "export": rows["result.json"],
            "chat": rows["chat 1001"], "places": rows["chat 1001 message 1"],
            "quiet": rows["chat 1001 message 2"]}
