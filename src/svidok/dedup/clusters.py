"""Clusters of probable copies: connected components over duplicate links.

A link says two items look like copies of each other, by which method and how far apart.
Links are what is stored and shown, each with its distance, so a person can see *why* two
items sit together and reject a link; a cluster is only a grouping computed from the links
for display ("probable re-uploads"). Nothing is merged: every original keeps its own record,
capture and custody history.

Components are transitive (a–b and b–c put a and c together even when a and c are far
apart), which is why the links, not the cluster, carry the evidence.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from svidok.dedup import DedupError

Method = Literal["sha256", "pdq", "pdq-frame", "minhash"]
METHODS: frozenset[str] = frozenset({"sha256", "pdq", "pdq-frame", "minhash"})


@dataclass(frozen=True, slots=True)
class Link:
    """Items ``a`` and ``b`` look like copies.

    ``distance``: 0 for "sha256", Hamming bits for "pdq" and "pdq-frame", 1 − Jaccard for
    "minhash".
    """

    a: int
    b: int
    method: str
    distance: float

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise DedupError(f"unknown link method {self.method!r}")
        if not self.distance >= 0:     # also rejects NaN
            raise DedupError("a link's distance must be a non-negative number")


def clusters(links: Iterable[Link], items: Iterable[int] = ()) -> list[frozenset[int]]:
    """Connected components of the linked items, largest first (then by smallest member).

    Items given in ``items`` that no link touches come out as clusters of one, so a caller
    can show every item of a selection; items without links are otherwise absent.
    """
    parent: dict[int, int] = {}

    def root(x: int) -> int:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]   # path halving keeps the trees shallow
            x = parent[x]
        return x

    for item in items:
        root(item)
    for link in links:
        ra, rb = root(link.a), root(link.b)
        if ra != rb:
            # The smaller id becomes the root: the result does not depend on link order.
            parent[max(ra, rb)] = min(ra, rb)
    groups: dict[int, set[int]] = {}
    for x in parent:
        groups.setdefault(root(x), set()).add(x)
    return sorted((frozenset(g) for g in groups.values()), key=lambda g: (-len(g), min(g)))
