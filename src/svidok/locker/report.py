"""What an ingest reports: per-file outcomes, the batch's figures, progress callbacks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

from svidok.sources.importer import ImportOptions

State = Literal["stored", "sighting", "failed", "skipped"]


@dataclass(frozen=True)
class IngestOptions:
    collector: str | None = None
    note: str | None = None
    rehash: bool = False
    reading: ImportOptions = field(default_factory=ImportOptions)  # --as, --tz, --date-order


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one file or folder in a batch."""

    state: State
    root: str
    rel_path: str
    item_id: int | None = None
    sha256: str | None = None
    size: int | None = None
    media_type: str | None = None
    message: str | None = None


@dataclass
class ImportOutcome:
    """One container read by an importer: what it added, and what it could not read."""

    root: str
    rel_path: str
    item_id: int
    importer: str  # "telegram/1"
    state: Literal["finished", "failed"]
    items: int = 0
    versions: int = 0
    sightings: int = 0
    files: int = 0
    problems: int = 0
    # The first few problems as (where, what); all are kept with the import run.
    first_problems: list[tuple[str, str]] = field(default_factory=list)
    error: str | None = None
    import_id: int | None = None


@dataclass
class BatchReport:
    batch_id: int
    resumed: bool
    outcomes: list[Outcome] = field(default_factory=list)
    unchanged: int = 0
    already_done: int = 0
    bytes_read: int = 0
    aborted: str | None = None
    # The checkpoint signed after the batch: (id, tree size, stamped), or why there is none.
    checkpoint: tuple[int, int, bool] | None = None
    checkpoint_error: str | None = None
    stamp_errors: list[str] = field(default_factory=list)
    imports: list[ImportOutcome] = field(default_factory=list)

    def count(self, state: State) -> int:
        return sum(1 for o in self.outcomes if o.state == state)

    @property
    def ok(self) -> bool:
        return (self.aborted is None and self.count("failed") == 0
                and self.checkpoint_error is None
                and all(i.state == "finished" and not i.problems for i in self.imports))


class Reporter(Protocol):
    def scanning(self, found: int) -> None: ...
    def started(self, files: int, total_bytes: int) -> None: ...
    def advanced(self, outcome: Outcome, nbytes: int) -> None: ...
    def importing(self, rel_path: str, importer: str) -> None: ...
    def read(self, entries: int) -> None: ...


class SilentReporter:
    def scanning(self, found: int) -> None:
        pass

    def started(self, files: int, total_bytes: int) -> None:
        pass

    def advanced(self, outcome: Outcome, nbytes: int) -> None:
        pass

    def importing(self, rel_path: str, importer: str) -> None:
        pass

    def read(self, entries: int) -> None:
        pass
