#!/usr/bin/env python3
"""Make the web app's offline base map: country shapes around Ukraine as small GeoJSON.

    python3 scripts/make_base_map.py countries-50m.json src/svidok/web/static/map/base.geojson

The input is Natural Earth's 1:50m Admin 0 countries as the npm package world-atlas 2.0.2
ships them (TopoJSON, quantised, delta-encoded arcs); ``npm pack world-atlas@2.0.2`` fetches
it. Each country is decoded, clipped to the box around Ukraine and its neighbours, and its
coordinates rounded, so the page carries a base map of a few hundred KB and needs no tile
server. Pure Python, standard library only: the output is committed, this only remakes it.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path
from typing import Any

# West, south, east, north: Ukraine with its neighbours and the Black and Azov Seas.
BOX = (12.0, 40.0, 50.0, 57.0)
DECIMALS = 2  # about a kilometre: plenty at the zoom levels a country outline serves
# Natural Earth draws who controls a place; its 4.1.0 gives Crimea to Russia, which annexed
# it in 2014 against UN General Assembly resolution 68/262. Svidok draws Ukraine's
# internationally recognised borders: a polygon of Russia's lying wholly in this box is
# moved to Ukraine and merged with it along the arcs they share.
CRIMEA = (32.0, 44.0, 37.0, 46.5)

Point = tuple[float, float]
Ring = list[Point]


def decode_arcs(topology: dict[str, Any]) -> list[list[Point]]:
    """Absolute coordinates of every arc (TopoJSON spec 2.1.3 and 2.2: quantised arcs are
    delta-encoded integer positions, transformed by scale and translate)."""
    transform = topology.get("transform")
    arcs = []
    for arc in topology["arcs"]:
        if transform is None:
            arcs.append([(float(p[0]), float(p[1])) for p in arc])
            continue
        (sx, sy), (tx, ty) = transform["scale"], transform["translate"]
        x = y = 0
        points = []
        for p in arc:
            x, y = x + p[0], y + p[1]
            points.append((x * sx + tx, y * sy + ty))
        arcs.append(points)
    return arcs


def ring_of(indexes: list[int], arcs: list[list[Point]]) -> Ring:
    """A ring from arc indexes; a negative index ~i is arc i reversed, and consecutive arcs
    share their joining point, which is kept once."""
    ring: Ring = []
    for index in indexes:
        points = arcs[index] if index >= 0 else arcs[~index][::-1]
        ring.extend(points[1:] if ring else points)
    return ring


def polygons_of(geometry: dict[str, Any], arcs: list[list[Point]]) -> list[list[Ring]]:
    if geometry.get("type") == "Polygon":
        return [[ring_of(r, arcs) for r in geometry["arcs"]]]
    if geometry.get("type") == "MultiPolygon":
        return [[ring_of(r, arcs) for r in polygon] for polygon in geometry["arcs"]]
    return []


def _ends(index: int, arcs: list[list[Point]]) -> tuple[Point, Point]:
    points = arcs[index] if index >= 0 else arcs[~index][::-1]
    return points[0], points[-1]


def merge_rings(a: list[int], b: list[int], arcs: list[list[Point]]) -> list[int]:
    """One ring from two that touch: arcs one walks forward and the other backward are their
    common border and go; the rest are joined end to start (what topojson's merge does)."""
    shared = {i for i in a if ~i in b}
    left = [i for i in a if i not in shared] + [i for i in b if ~i not in shared]
    if not shared or not left:
        raise ValueError("the rings share no border")
    starting = {_ends(i, arcs)[0]: i for i in left}
    ring = [left[0]]
    while len(ring) < len(left):
        following = starting.get(_ends(ring[-1], arcs)[1])
        if following is None or following in ring:
            raise ValueError("the rings do not join into one")
        ring.append(following)
    return ring


def recognised_borders(topology: dict[str, Any], arcs: list[list[Point]]) -> None:
    """Give Crimea back to Ukraine (see CRIMEA), in place."""
    by_name = {g["properties"]["name"]: g for g in topology["objects"]["countries"]["geometries"]}
    russia, ukraine = by_name["Russia"], by_name["Ukraine"]
    for country in (russia, ukraine):
        if country["type"] == "Polygon":
            country["type"], country["arcs"] = "MultiPolygon", [country["arcs"]]
    west, south, east, north = CRIMEA
    moved = [p for p in russia["arcs"] if all(
        west <= x <= east and south <= y <= north for x, y in ring_of(p[0], arcs))]
    if len(moved) != 1:
        raise ValueError(f"expected one Crimean polygon in Russia's shape, found {len(moved)}")
    crimea = moved[0]
    russia["arcs"].remove(crimea)
    for polygon in ukraine["arcs"]:
        if any(~i in crimea[0] for i in polygon[0]):
            polygon[0] = merge_rings(polygon[0], crimea[0], arcs)
            polygon.extend(crimea[1:])
            return
    ukraine["arcs"].append(crimea)


def clip(ring: Ring, box: tuple[float, float, float, float]) -> Ring:
    """Sutherland-Hodgman against the box's four edges. A concave ring cut by the box may
    gain edges along the box's border, which is the map's edge anyway."""
    west, south, east, north = box
    # (axis, boundary, whether the inside is above it)
    edges = [(0, west, True), (0, east, False), (1, south, True), (1, north, False)]
    points = ring[:-1] if ring and ring[0] == ring[-1] else list(ring)
    for axis, value, above in edges:
        if not points:
            break
        kept: Ring = []
        previous = points[-1]
        for current in points:
            if _inside(current, axis, value, above):
                if not _inside(previous, axis, value, above):
                    kept.append(_cross(previous, current, axis, value))
                kept.append(current)
            elif _inside(previous, axis, value, above):
                kept.append(_cross(previous, current, axis, value))
            previous = current
        points = kept
    return points


def _inside(point: Point, axis: int, value: float, above: bool) -> bool:
    return point[axis] >= value if above else point[axis] <= value


def _cross(a: Point, b: Point, axis: int, value: float) -> Point:
    t = (value - a[axis]) / (b[axis] - a[axis])
    x, y = a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])
    return (value, y) if axis == 0 else (x, value)


def rounded(ring: Ring) -> list[list[float]]:
    out: list[list[float]] = []
    for x, y in ring:
        point = [round(x, DECIMALS), round(y, DECIMALS)]
        if not out or out[-1] != point:
            out.append(point)
    if len(out) > 1 and out[0] == out[-1]:
        out.pop()
    if len(out) < 3:
        return []
    return [*out, out[0]]  # GeoJSON rings are closed


def base_map(topology: dict[str, Any], box: tuple[float, float, float, float] = BOX
             ) -> dict[str, Any]:
    topology = copy.deepcopy(topology)  # recognised_borders changes it
    arcs = decode_arcs(topology)
    recognised_borders(topology, arcs)
    features: list[dict[str, Any]] = []
    for geometry in topology["objects"]["countries"]["geometries"]:
        parts = []
        for polygon in polygons_of(geometry, arcs):
            outer = rounded(clip(polygon[0], box))
            if not outer:
                continue
            holes = [h for h in (rounded(clip(r, box)) for r in polygon[1:]) if h]
            parts.append([outer, *holes])
        if parts:
            name = (geometry.get("properties") or {}).get("name", "")
            features.append({"type": "Feature", "id": str(geometry.get("id", "")),
                             "properties": {"name": name},
                             "geometry": {"type": "MultiPolygon", "coordinates": parts}})
    features.sort(key=lambda f: str(f["properties"]["name"]))
    return {"type": "FeatureCollection", "bbox": list(box), "features": features}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("topojson", type=Path, help="world-atlas countries-50m.json")
    parser.add_argument("out", type=Path, help="where to write the GeoJSON")
    args = parser.parse_args(argv)
    result = base_map(json.loads(args.topojson.read_text(encoding="utf-8")))
    text = json.dumps(result, separators=(",", ":"), ensure_ascii=False)
    args.out.write_text(text + "\n", encoding="utf-8")
    print(f"{args.out}: {len(result['features'])} countries, {len(text)} bytes",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
