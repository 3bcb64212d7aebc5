"""``svidok dedup``: items that look alike, as clusters of links with their distances."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from svidok.cli_common import EXIT_USAGE, JsonOpt, fail, opened
from svidok.db.schema import items
from svidok.dedup.report import Cluster, all_clusters, cluster_of
from svidok.output import emit_json, out, safe, table

METHODS = ("pdq", "pdq-frame", "minhash")


def _json(cluster: Cluster) -> dict[str, Any]:
    return {
        "items": [{"item": m.item_id, "kind": m.kind, "media_type": m.media_type,
                   "name": m.name, "seen": m.seen} for m in cluster.members],
        "links": [{"a": s.a, "b": s.b, "method": s.method, "distance": s.distance,
                   "grade": s.grade} for s in cluster.links],
    }


def _print(cluster: Cluster, title: str) -> None:
    out.print(table(title, ["item", "kind", "type", "seen", "name"], [
        [m.item_id, m.kind, m.media_type or "", m.seen, m.name] for m in cluster.members]))
    if cluster.links:
        out.print(table("Links", ["item", "item", "how", "distance", "grade"], [
            [s.a, s.b, s.method, _distance(s.method, s.distance), s.grade]
            for s in cluster.links]))


def _distance(method: str, distance: int) -> str:
    if method == "minhash":
        return f"{1 - distance / 1000:.2f} similar"
    return f"{distance} bits"


def dedup_cmd(
    item: Annotated[int | None, typer.Argument(
        help="Show the cluster of this item; without it, list every cluster.")] = None,
    method: Annotated[str | None, typer.Option(
        "--method", help=f"Only links made this way: {', '.join(METHODS)}.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Clusters to list.")] = 50,
    as_json: JsonOpt = False,
) -> None:
    """List near-duplicates: images and video frames by PDQ, texts by MinHash. Exact copies
    are one item, seen more than once (the 'seen' column)."""
    if method is not None and method not in METHODS:
        fail(f"--method must be one of {', '.join(METHODS)}", as_json, EXIT_USAGE)
    with opened(as_json) as home, home.engine.connect() as conn:
        if item is not None:
            if conn.execute(items.select().where(items.c.id == item)).first() is None:
                fail(f"there is no item {item}; see 'svidok items list'", as_json, EXIT_USAGE)
            found = [cluster_of(conn, item, method)]
        else:
            found = all_clusters(conn, method)
    total = len(found)
    found = found[:limit]
    if as_json:
        emit_json({"clusters": [_json(c) for c in found], "total": total})
        return
    if not found:
        out.print("No near-duplicates found (run 'svidok enrich' first).")
        return
    for number, cluster in enumerate(found, 1):
        _print(cluster, f"Cluster {number}: {len(cluster.members)} items")
    if total > limit:
        out.print(safe(f"{total - limit} more clusters; raise --limit or use --json."))
