"""What an ingest reports: per-file outcomes, the batch's figures, progress callbacks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

State = Literal["stored", "sighting", "failed", "skipped"]


@dataclass(frozen=True)
class IngestOptions:
    collector: str | None = None
    note: str | None = None
    rehash: bool = False


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

    def count(self, state: State) -> int:
        return sum(1 for o in self.outcomes if o.state == state)

    @property
    def ok(self) -> bool:
        return (self.aborted is None and self.count("failed") == 0
                and self.checkpoint_error is None)


class Reporter(Protocol):
    def scanning(self, found: int) -> None: ...
    def started(self, files: int, total_bytes: int) -> None: ...
    def advanced(self, outcome: Outcome, nbytes: int) -> None: ...


class SilentReporter:
    def scanning(self, found: int) -> None:
        pass

    def started(self, files: int, total_bytes: int) -> None:
        pass

    def advanced(self, outcome: Outcome, nbytes: int) -> None:
        pass


