"""The places an item names, as markers for the item page's map (static/js/map.js).

Only settlements from the gazetteer are shown, at the gazetteer's coordinates: a marker
stands for a town the text mentions, never for where a photo was taken. A photo's GPS
position (svidok.enrich.media) can locate the person who took it, so it is never read here.

The map works offline: its base is a bundled GeoJSON of country shapes
(static/map/base.geojson, made by scripts/make_base_map.py). Tiles are drawn on top only
when ``map_tile_url`` is configured, and the Content-Security-Policy then admits that one
origin for images (:func:`tile_origin`).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from svidok.config import Settings

MAX_MARKERS = 200  # a long text naming more places than this gets the most mentioned ones


def map_places(annotations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One marker per settlement the places enricher found and no one rejected, most
    mentioned first: name, region, latitude, longitude, mentions."""
    counts: dict[int, int] = {}
    for note in annotations:
        if note["kind"] != "place" or note["enricher"] != "places" or \
                note["state"] == "rejected" or not str(note["value"]).isdigit():
            continue
        geonameid = int(note["value"])
        counts[geonameid] = counts.get(geonameid, 0) + 1
    if not counts:
        return []
    from svidok.enrich.gazetteer import gazetteer  # loaded once per process, on first use

    places = gazetteer().places
    markers: list[dict[str, Any]] = []
    for geonameid, mentions in counts.items():
        place = places.get(geonameid)
        if place is None or place.kind != "city":  # an oblast has no one point to mark
            continue
        markers.append({"id": geonameid, "name": place.name, "name_uk": place.name_uk,
                        "region": place.oblast or place.country,
                        "lat": round(place.latitude, 5), "lon": round(place.longitude, 5),
                        "mentions": mentions})
    markers.sort(key=lambda m: (-int(m["mentions"]), str(m["name"])))
    return markers[:MAX_MARKERS]


def item_map(settings: Settings, annotations: list[dict[str, Any]]) -> dict[str, Any]:
    """What _item_map.html needs: the markers and the tile server, if any."""
    return {"places": map_places(annotations), "tile_url": settings.map_tile_url or None,
            "tile_attribution": settings.map_tile_attribution or None}


def tile_origin(url: str) -> str | None:
    """The origin (scheme://host[:port]) the CSP must admit for a configured tile URL."""
    if not url:
        return None
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
