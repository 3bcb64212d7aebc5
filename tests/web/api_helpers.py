"""For the API tests: a few real items (ingested and enriched in-process, which is quicker
than the command) and tokens for the people of conftest.py."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from svidok.access import create_token, get_user
from svidok.db.schema import items
from svidok.enrich.pipeline import enrich_home
from svidok.home import Home
from svidok.locker.ingest import IngestOptions, ingest
from svidok.locker.records import list_items

DATA = Path(__file__).parent.parent / "data"
LETTER = ("23 червня на блокпосту біля Макіївки військові відібрали паспорти у трьох "
          "чоловіків і відвезли їх до військкомату.\n")
# Bytes no browser may be made to run: the API must serve them as a plain download.
PAGE = "<html><script>alert(1)</script><p>Київ, 2024</p></html>\n"
BINARY = bytes(range(256)) * 4


def fill(home: Home, tmp_path: Path) -> dict[str, int]:
    """A letter, a photo, an HTML page, some bytes, and a channel export with a message (a
    record without bytes of its own); item ids by file name or locator."""
    folder = tmp_path / "evidence"
    (folder / "export").mkdir(parents=True)
    (folder / "export" / "result.json").write_text(json.dumps(
        {"name": "Novyny", "type": "public_channel", "id": 1001, "messages": [
            {"id": 7, "type": "message", "date": "2024-03-01T10:00:00",
             "date_unixtime": "1709287200", "from": "Novyny", "from_id": "channel1001",
             "text": "Сьогодні у Харкові тихо."}]}, ensure_ascii=False), encoding="utf-8")
    (folder / "lyst.txt").write_text(LETTER, encoding="utf-8")
    (folder / "photo.jpg").write_bytes((DATA / "photo.jpg").read_bytes())
    (folder / "page.html").write_text(PAGE, encoding="utf-8")
    (folder / "blob.bin").write_bytes(BINARY)
    assert ingest(home, [folder], IngestOptions()).ok
    enrich_home(home)
    rows, _ = list_items(home, limit=100)
    ids = {r["original_name"]: r["id"] for r in rows}
    with home.engine.connect() as conn:
        ids.update({r.locator: r.id for r in conn.execute(
            select(items.c.id, items.c.locator).where(items.c.locator.is_not(None)))})
    return ids


def token_for(home: Home, name: str, *, expires_at: datetime | None = None,
              now: datetime | None = None) -> str:
    user = get_user(home.engine, name)
    assert user is not None
    raw, _ = create_token(home.engine, user.id, "tests", expires_at=expires_at, now=now)
    return raw


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}", "accept": "application/json"}
