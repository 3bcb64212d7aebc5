"""Which enrichers must run on which items: only where a version or an input changed.

Each run is stored with a key: the SHA-256 of the enricher's name and version and of the
keys of the runs it needs. A new version of the text extractor thus changes the key of the
text run, which changes the keys of language, places, dates... on the next ``svidok
enrich``, and exactly those run again; an unchanged item costs one indexed lookup.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection, select

from svidok.db.bulk import chunks
from svidok.db.schema import enrichments
from svidok.enrich.enricher import Enricher


class PlanError(ValueError):
    """The enrichers' declared needs do not make an order (unknown name, or a cycle)."""


def ordered(enrichers: Sequence[Enricher]) -> list[Enricher]:
    """The enrichers with each after those it needs (stable otherwise)."""
    by_name = {e.name: e for e in enrichers}
    done: list[Enricher] = []
    placing: set[str] = set()

    def place(e: Enricher) -> None:
        if e in done:
            return
        if e.name in placing:
            raise PlanError(f"enricher {e.name!r} needs itself through {sorted(placing)}")
        placing.add(e.name)
        for need in e.needs:
            if need not in by_name:
                raise PlanError(f"enricher {e.name!r} needs {need!r}, which is not registered")
            place(by_name[need])
        placing.discard(e.name)
        done.append(e)

    for e in enrichers:
        place(e)
    return done


def run_key(enricher: Enricher, need_keys: Sequence[str]) -> str:
    text = "\x00".join((enricher.name, enricher.version, *need_keys))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class ItemPlan:
    item_id: int
    run: list[str] = field(default_factory=list)  # enricher names, in order
    keys: dict[str, str] = field(default_factory=dict)  # the key each run will be stored with
    reruns: set[str] = field(default_factory=set)  # those with an earlier stored run


def stored_keys(conn: Connection, item_ids: Sequence[int]) -> dict[int, dict[str, str]]:
    found: dict[int, dict[str, str]] = {}
    for part in chunks(list(item_ids)):
        rows = conn.execute(select(enrichments.c.item_id, enrichments.c.enricher,
                                   enrichments.c.key)
                            .where(enrichments.c.item_id.in_(part)))
        for item_id, name, key in rows:
            found.setdefault(item_id, {})[name] = key
    return found


def plan(item_ids: Sequence[int], enrichers: Sequence[Enricher],
         stored: Mapping[int, Mapping[str, str]], only: frozenset[str] | None = None,
         force: bool = False) -> list[ItemPlan]:
    """Plans for the items that have something to run (the others are left out).

    ``only`` limits what runs; the runs it reads keep their stored keys, so a later full
    run that brings one of them up to date also runs the limited one again. A limited
    enricher whose inputs were never made for an item (``--only places`` on an item no
    full run has reached) is left for the full run: run now, it would find nothing and be
    recorded as done.
    """
    plans: list[ItemPlan] = []
    for item_id in item_ids:
        have = stored.get(item_id, {})
        item = ItemPlan(item_id)
        missing: set[str] = set()  # neither stored nor run in this pass
        for e in enrichers:
            key = run_key(e, [item.keys[n] for n in e.needs])
            if only is not None and (e.name not in only or missing.intersection(e.needs)):
                # What those after it will read is what is stored, not what would be.
                item.keys[e.name] = have.get(e.name, key)
                if e.name not in have:
                    missing.add(e.name)
                continue
            item.keys[e.name] = key
            if force or have.get(e.name) != key:
                item.run.append(e.name)
                if e.name in have:
                    item.reruns.add(e.name)
        if item.run:
            plans.append(item)
    return plans
