"""Clusters: connected components over duplicate links; the links themselves are kept."""

from __future__ import annotations

import pytest

from svidok.dedup import DedupError
from svidok.dedup.clusters import Link, clusters


def test_a_chain_of_links_is_one_cluster() -> None:
    links = [Link(1, 2, "pdq", 12), Link(2, 3, "pdq", 20)]
    # 1 and 3 may be 32 bits apart; they sit together because of 2, and the two links
    # (with their distances) are what a person is shown.
    assert clusters(links) == [frozenset({1, 2, 3})]


def test_an_isolated_item_stays_alone() -> None:
    links = [Link(1, 2, "minhash", 0.2), Link(5, 6, "sha256", 0)]
    assert clusters(links, items=[1, 2, 5, 6, 9]) == [
        frozenset({1, 2}), frozenset({5, 6}), frozenset({9})]
    assert clusters(links) == [frozenset({1, 2}), frozenset({5, 6})]   # 9: no links


def test_largest_first_and_independent_of_link_order() -> None:
    links = [Link(10, 11, "pdq-frame", 4), Link(1, 2, "pdq", 0), Link(11, 12, "pdq", 3),
             Link(2, 1, "minhash", 0.1), Link(12, 10, "pdq", 7)]
    assert clusters(links) == [frozenset({10, 11, 12}), frozenset({1, 2})]
    assert clusters(reversed(links)) == clusters(links)
    assert clusters([]) == []


def test_links_say_how_and_how_far() -> None:
    with pytest.raises(DedupError, match="unknown link method"):
        Link(1, 2, "merge", 0)
    for distance in (-1.0, float("nan")):
        with pytest.raises(DedupError, match="non-negative"):
            Link(1, 2, "pdq", distance)
