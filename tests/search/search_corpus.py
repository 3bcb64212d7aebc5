"""A handful of documents as the enrichment runner would hand them to the index."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime

from sqlalchemy import Connection

from svidok.home import Home
from svidok.search import SearchDocument, index_documents

MAKIIVKA = 702320  # GeoNames id
DONETSK = 709717
MAKIIVKA_NAMES = ("Макіївка", "Макеевка", "Makiivka", "Makeyevka")


def doc(item_id: int, text: str, **fields: object) -> SearchDocument:
    base = SearchDocument(
        item_id=item_id, title=None, text=text, names=(), places=(), place_names=(),
        language=None, kind="message", media_type=None, source_id=None, channel=None,
        occurred_at=None, dates=(), violations=())
    return replace(base, **fields)  # type: ignore[arg-type]


ARCHIVE = (
    doc(1, "Біля Макіївки на блокпосту забрали паспорт у чоловіка і повезли до військкомату.",
        language="uk", places=(MAKIIVKA,), place_names=MAKIIVKA_NAMES,
        violations=("forced-conscription",), source_id=100, channel="Макіївка онлайн",
        occurred_at=datetime(2024, 3, 5, 9, 30, tzinfo=UTC)),
    doc(2, "In Makiivka men were detained at a checkpoint and taken away.", language="en",
        places=(MAKIIVKA,), place_names=MAKIIVKA_NAMES, violations=("detention",),
        kind="document", media_type="application/pdf", title="Checkpoint report",
        dates=((date(2023, 6, 1), date(2023, 6, 30)),)),
    doc(3, "В Макеевке мужчин задержали на блокпостах, паспорта забрали.", language="ru",
        places=(MAKIIVKA,), place_names=MAKIIVKA_NAMES,
        violations=("forced-conscription", "detention"), source_id=100,
        channel="Макіївка онлайн", occurred_at=datetime(2024, 3, 6, 20, 0, tzinfo=UTC)),
    doc(4, "У Донецьку відкрили новий парк; жодних затримань не було.", language="uk",
        places=(DONETSK,), place_names=("Донецьк", "Донецк", "Donetsk"), source_id=200,
        channel="Донецьк новини", occurred_at=datetime(2022, 5, 1, tzinfo=UTC)),
    doc(5, "Café owners in Donetsk said the checkpoint was closed «since February».",
        language="en", places=(DONETSK,), place_names=("Донецьк", "Донецк", "Donetsk"),
        kind="email", dates=((date(2024, 2, 1), None),)),
)


@contextmanager
def indexed(home: Home, *docs: SearchDocument) -> Iterator[Connection]:
    """A connection to a home whose index holds ``docs`` (the archive by default)."""
    with home.engine.begin() as conn:
        index_documents(conn, docs or ARCHIVE)
    with home.engine.connect() as conn:
        yield conn
