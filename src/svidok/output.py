"""Showing results to people (rich) and to programs (``--json``)."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table
from rich.text import Text

from svidok.locker.ingest import Outcome

# Soft wrap: a long message or path stays one line, so it can be copied and grepped.
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def safe(value: object) -> Text:
    """Plain text for the terminal: names from evidence may hold markup or escape codes."""
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(value))
    return Text(text)


def emit_json(data: Any) -> None:
    # Streamed: a batch of 100,000 outcomes should not become one huge string first.
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2, default=str)
    sys.stdout.write("\n")


def human_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{n} B"


WIDE_COLUMNS = frozenset({"path", "value", "what happened", "what failed", "title",
                          "as written"})


def table(title: str, columns: list[str], rows: list[list[object]]) -> Table:
    grid = Table(title=title, title_justify="left", show_lines=False)
    for column in columns:
        # Short columns stay on one line; the long text ones take what width is left.
        wide = column in WIDE_COLUMNS
        grid.add_column(column, overflow="fold", no_wrap=not wide, ratio=1 if wide else None)
    for row in rows:
        grid.add_row(*(safe("" if v is None else v) for v in row))
    return grid


class ProgressReporter:
    """Progress bars with files, bytes and rate on stderr, so stdout stays clean."""

    def __init__(self, verb: str = "Storing") -> None:
        self.verb = verb
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[files]}"),
            DownloadColumn(binary_units=False),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=err,
            transient=False,
        )
        self.task: TaskID | None = None
        self.files_total = 0
        self.files_done = 0
        self.entries = 0
        self.reading: TaskID | None = None

    def __enter__(self) -> ProgressReporter:
        self.progress.start()
        self.task = self.progress.add_task("Listing files" if self.verb == "Storing" else
                                           self.verb, total=None, files="")
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def scanning(self, found: int) -> None:
        if self.task is not None:
            self.progress.update(self.task, files=f"{found} found")

    def started(self, files: int, total_bytes: int) -> None:
        self.files_total = files
        if self.task is None:
            return
        if files == 0:
            self.progress.update(self.task, description="Nothing new to store", total=1,
                                 completed=1, files="")
            return
        self.progress.update(self.task, description=self.verb, total=total_bytes,
                             completed=0, files=f"0/{files} files")

    def checked(self, nbytes: int) -> None:
        if self.task is not None:
            self.files_done += 1
            self.progress.update(self.task, advance=nbytes,
                                 files=f"{self.files_done}/{self.files_total} files")

    def advanced(self, outcome: Outcome, nbytes: int) -> None:
        if self.task is None or outcome.state in ("skipped",) or self.files_total == 0:
            return
        self.files_done += 1
        self.progress.update(self.task, advance=nbytes,
                             files=f"{self.files_done}/{self.files_total} files")

    def importing(self, rel_path: str, importer: str) -> None:
        """A container is being read: a bar of its own, counting entries as they come."""
        self.entries = 0
        if self.reading is not None:
            self.progress.update(self.reading, total=1, completed=1)
        self.reading = self.progress.add_task(f"Reading {importer}", total=None, files="")

    def read(self, entries: int) -> None:
        self.entries += entries
        if self.reading is not None:
            self.progress.update(self.reading, files=f"{self.entries:,} entries")


@contextmanager
def counting(description: str) -> Iterator[Callable[[int, int], None]]:
    """A progress bar over a count (events, rows) on stderr; yields ``update(done, total)``."""
    progress = Progress(TextColumn("{task.description}"), BarColumn(),
                        MofNCompleteColumn(), TimeRemainingColumn(), console=err)
    task = progress.add_task(description, total=None)
    with progress:
        yield lambda done, total: progress.update(task, completed=done, total=total)
