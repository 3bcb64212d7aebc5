"""Reading duplicate clusters back: which items look alike, how, and how often each was seen.

A cluster is the connected items of the stored links; it is shown with every link and its
distance, never as one merged item (a chain a–b–c may join a and c that differ a lot).
Exact copies are not links: the same bytes are one item, and each other place they were
found is a sighting of it, counted here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, func, or_, select

from svidok.db.bulk import chunks
from svidok.db.schema import duplicate_links, items, sightings
from svidok.dedup.clusters import Link, clusters


@dataclass(frozen=True)
class Member:
    item_id: int
    kind: str
    media_type: str | None
    name: str
    seen: int  # times found: the first capture and every sighting


@dataclass(frozen=True)
class StoredLink:
    a: int
    b: int
    method: str
    distance: int
    grade: str


@dataclass(frozen=True)
class Cluster:
    members: list[Member]
    links: list[StoredLink]


def _links(conn: Connection, method: str | None = None,
           around: int | None = None) -> list[StoredLink]:
    statement = select(duplicate_links.c.item_a, duplicate_links.c.item_b,
                       duplicate_links.c.method, duplicate_links.c.distance,
                       duplicate_links.c.grade)
    if method is not None:
        statement = statement.where(duplicate_links.c.method == method)
    if around is None:
        return [StoredLink(*r) for r in conn.execute(statement)]
    # Follow links outwards from one item until the cluster is closed.
    found: dict[tuple[int, int, str], StoredLink] = {}
    frontier, seen = {around}, {around}
    while frontier:
        batch = sorted(frontier)
        frontier = set()
        for part in chunks(batch):
            for r in conn.execute(statement.where(or_(duplicate_links.c.item_a.in_(part),
                                                      duplicate_links.c.item_b.in_(part)))):
                link = StoredLink(*r)
                found[(link.a, link.b, link.method)] = link
                for other in (link.a, link.b):
                    if other not in seen:
                        seen.add(other)
                        frontier.add(other)
    return list(found.values())


def _members(conn: Connection, ids: Iterable[int]) -> dict[int, Member]:
    wanted = sorted(set(ids))
    seen: dict[int, int] = {}
    rows = {}
    for part in chunks(wanted):
        for item_id, count in conn.execute(
                select(sightings.c.item_id, func.count()).where(sightings.c.item_id.in_(part))
                .group_by(sightings.c.item_id)):
            seen[item_id] = int(count)
        for r in conn.execute(select(items.c.id, items.c.kind, items.c.media_type,
                                     items.c.original_name).where(items.c.id.in_(part))):
            rows[r.id] = r
    return {i: Member(i, rows[i].kind, rows[i].media_type, rows[i].original_name,
                      1 + seen.get(i, 0)) for i in wanted if i in rows}


def _assemble(conn: Connection, links: list[StoredLink]) -> list[Cluster]:
    groups = clusters(Link(s.a, s.b, s.method, s.distance) for s in links)
    members = _members(conn, (i for g in groups for i in g))
    by_item: dict[int, list[StoredLink]] = {}
    for s in links:
        by_item.setdefault(s.a, []).append(s)
    out = []
    for group in groups:
        mine = sorted((s for i in group for s in by_item.get(i, ())),
                      key=lambda s: (s.distance, s.a, s.b))
        out.append(Cluster([members[i] for i in sorted(group) if i in members], mine))
    return out


def all_clusters(conn: Connection, method: str | None = None) -> list[Cluster]:
    """Every cluster, largest first."""
    return _assemble(conn, _links(conn, method))


def cluster_of(conn: Connection, item_id: int, method: str | None = None) -> Cluster:
    """The cluster an item is in (itself alone when nothing is linked to it), through links
    of one method if given."""
    found = _assemble(conn, _links(conn, method, around=item_id))
    if found:
        return found[0]
    return Cluster(list(_members(conn, [item_id]).values()), [])
