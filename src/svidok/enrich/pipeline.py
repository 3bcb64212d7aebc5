"""``svidok enrich`` as a whole: the registered enrichers, the search index, duplicate links."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from svidok.custody import log
from svidok.dedup.linking import Linker
from svidok.enrich.indexing import index_items
from svidok.enrich.runner import EnrichReport, enrich
from svidok.home import Home


def enrich_home(home: Home, *, only: Sequence[str] = (), force: bool = False,
                workers: int | None = None,
                progress: Callable[[int, int], None] | None = None) -> EnrichReport:
    """Enrich every stored item, then sign the custody log's head: what the enrichers
    derived is then covered by a checkpoint, as an ingest's captures are."""
    report = enrich(home, only=only, force=force, workers=workers, index=index_items,
                    link=Linker(), progress=progress)
    if report.events:
        try:
            result = log.checkpoint(home)
        except log.LogError as exc:
            report.checkpoint_error = (f"the custody log was not checkpointed: {exc}; what "
                                       "was enriched is kept; run 'svidok log checkpoint'")
        else:
            cp = result.checkpoint
            report.checkpoint = (cp.id, cp.size, cp.stamped)
            report.stamp_errors = result.stamps.errors
    return report
