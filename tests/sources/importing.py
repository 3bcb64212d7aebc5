"""What the importer tests share: ingest a folder, and read back what was read out of it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import select

from svidok.db.schema import items
from svidok.home import Home
from svidok.locker.ingest import BatchReport, IngestOptions, ingest
from svidok.sources.importer import ImportOptions


def run(home: Home, *paths: Path, rehash: bool = False, **reading: Any) -> BatchReport:
    """``svidok ingest PATHS`` with the reading options (tz, date_order, forced) given."""
    return ingest(home, list(paths), IngestOptions(rehash=rehash,
                                                   reading=ImportOptions(**reading)))


def source(tmp_path: Path, name: str = "source") -> Path:
    """A folder to ingest: tmp_path itself holds the data folder."""
    folder = tmp_path / name
    folder.mkdir()
    return folder


def children(home: Home) -> list[dict[str, Any]]:
    """Every item read out of a container, oldest first, its record parsed as "fields"."""
    with home.engine.connect() as conn:
        rows = conn.execute(select(items).where(items.c.locator.is_not(None))
                            .order_by(items.c.id)).mappings().all()
    return [{**row, "fields": json.loads(row["record"])} for row in rows]


def by_locator(home: Home) -> dict[str, dict[str, Any]]:
    return {row["locator"]: row for row in children(home)}
