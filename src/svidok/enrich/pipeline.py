"""``svidok enrich`` as a whole: the registered enrichers, the search index, duplicate links."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from svidok.dedup.linking import Linker
from svidok.enrich.indexing import index_items
from svidok.enrich.runner import EnrichReport, enrich
from svidok.home import Home


def enrich_home(home: Home, *, only: Sequence[str] = (), force: bool = False,
                workers: int | None = None,
                progress: Callable[[int, int], None] | None = None) -> EnrichReport:
    return enrich(home, only=only, force=force, workers=workers, index=index_items,
                  link=Linker(), progress=progress)
