"""The item page's map: the towns the text names as markers (never a photo's GPS), over a
bundled base map that needs no network; tiles only from a configured server, which the
Content-Security-Policy then admits."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import re
import sys
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from fastapi.testclient import TestClient

from svidok.config import ConfigError, load_settings
from svidok.home import Home
from svidok.web.app import create_app
from svidok.web.places_map import map_places

from .browser import live_server, signed_in_page
from .conftest import HTML, sign_in
from .made_items import make_items

ROOT = Path(__file__).resolve().parents[2]
BASE_MAP = ROOT / "src" / "svidok" / "web" / "static" / "map" / "base.geojson"
TILES = "https://tiles.example.org/osm/{z}/{x}/{y}.png"
MAKIIVKA, KHARKIV = 702320, 706483


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_base_map",
                                                  ROOT / "scripts" / "make_base_map.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_base_map"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def made(home: Home, tmp_path: Path) -> dict[str, int]:
    return make_items(home, tmp_path / "evidence", enriched=True)


@pytest.fixture
def reader(client: TestClient) -> Iterator[TestClient]:
    assert sign_in(client, "vira").status_code == 303
    yield client


def markers_on(page: str) -> list[dict[str, Any]] | None:
    found = re.search(r'<script type="application/json" id="map-places">(.*?)</script>', page,
                      re.S)
    return None if found is None else list(json.loads(found.group(1)))


# -- the page ------------------------------------------------------------------------------

def test_an_item_naming_towns_carries_them_as_markers(
        made: dict[str, int], reader: TestClient) -> None:
    page = reader.get(f"/items/{made['places']}", headers=HTML)
    markers = markers_on(page.text)
    assert markers is not None
    by_id = {m["id"]: m for m in markers}
    assert set(by_id) == {MAKIIVKA, KHARKIV}
    assert by_id[MAKIIVKA]["name"] == "Makiivka"
    assert by_id[MAKIIVKA]["lat"] == pytest.approx(48.05, abs=0.01)
    assert by_id[MAKIIVKA]["lon"] == pytest.approx(37.93, abs=0.01)
    assert 'src="/static/js/map.js"' in page.text
    assert 'src="/static/vendor/leaflet-1.9.4/leaflet.js"' in page.text
    assert "data-tile-url" not in page.text  # none configured: nothing to fetch


def test_an_item_naming_no_town_has_no_map(made: dict[str, int], reader: TestClient) -> None:
    for which in ("quiet", "photo", "chat"):
        page = reader.get(f"/items/{made[which]}", headers=HTML)
        assert page.status_code == 200
        assert markers_on(page.text) is None and "places-map" not in page.text


def _note(kind: str, value: str, enricher: str = "places", state: str = "suggested",
          **data: Any) -> dict[str, Any]:
    return {"kind": kind, "value": value, "enricher": enricher, "state": state, "data": data}


def test_only_settlements_from_the_gazetteer_become_markers() -> None:
    gps = {"latitude": 50.45, "longitude": 30.52}
    notes = [
        _note("place", str(MAKIIVKA)), _note("place", str(MAKIIVKA)),
        _note("place", str(KHARKIV), state="rejected"),  # a person said it is wrong
        _note("media", "exif", enricher="media", gps=gps),  # where a photo was taken: never
        _note("place", "1", enricher="media", latitude=50.45, longitude=30.52),  # not places
        _note("place", "709716", name="Donetsk Oblast"),  # an oblast has no one point
        _note("place", "999999999"),  # not in the gazetteer
        _note("date", "2024-06-23"),
    ]
    markers = map_places(notes)
    assert [(m["id"], m["mentions"]) for m in markers] == [(MAKIIVKA, 2)]
    assert map_places([]) == []


def test_the_family_of_a_message_is_listed(made: dict[str, int], reader: TestClient) -> None:
    page = reader.get(f"/items/{made['places']}", headers=HTML).text
    crumbs = page[page.index('class="crumbs"'):page.index("this item")]
    assert [int(i) for i in re.findall(r'data-item="(\d+)"', crumbs)] == [
        made["export"], made["chat"]]
    chat = reader.get(f"/items/{made['chat']}", headers=HTML).text
    children = chat[chat.index('class="children"'):chat.index("</details>")]
    assert "2 items inside it" in children
    assert [int(i) for i in re.findall(r'data-item="(\d+)"', children)] == [
        made["places"], made["quiet"]]


# -- the base map --------------------------------------------------------------------------

def _inside(point: tuple[float, float], ring: list[list[float]]) -> bool:
    x, y = point
    found = False
    for (x1, y1), (x2, y2) in pairwise(ring):
        if (y1 > y) != (y2 > y) and x < (x2 - x1) * (y - y1) / (y2 - y1) + x1:
            found = not found
    return found


def _country_at(shapes: dict[str, Any], lon: float, lat: float) -> str | None:
    for feature in shapes["features"]:
        for polygon in feature["geometry"]["coordinates"]:
            if _inside((lon, lat), polygon[0]) and not any(
                    _inside((lon, lat), hole) for hole in polygon[1:]):
                return str(feature["properties"]["name"])
    return None


def test_the_base_map_is_small_geojson_covering_ukraine_in_its_recognised_borders() -> None:
    assert BASE_MAP.stat().st_size < 300_000
    shapes = json.loads(BASE_MAP.read_text(encoding="utf-8"))
    assert shapes["type"] == "FeatureCollection" and shapes["features"]
    west, south, east, north = shapes["bbox"]
    for feature in shapes["features"]:
        assert feature["type"] == "Feature"
        assert feature["geometry"]["type"] == "MultiPolygon"
        for polygon in feature["geometry"]["coordinates"]:
            for ring in polygon:
                assert len(ring) >= 4 and ring[0] == ring[-1]
                assert all(west <= x <= east and south <= y <= north for x, y in ring)
    for lon, lat in ((30.52, 50.45), (36.25, 49.98), (24.03, 49.84), (37.93, 48.05),
                     (30.73, 46.48), (34.10, 44.95), (33.52, 44.60)):  # Sevastopol last
        assert _country_at(shapes, lon, lat) == "Ukraine", (lon, lat)
    assert _country_at(shapes, 37.62, 55.75) == "Russia"
    assert _country_at(shapes, 21.01, 52.23) == "Poland"


def test_the_converter_decodes_arcs_clips_and_merges_crimea_into_ukraine() -> None:
    script = _script()
    # Quantised, delta-encoded arcs: 0 Ukraine's mainland outline, 1 its border with Crimea,
    # 2 Crimea's coast, 3 a far piece of Russia; Crimea filed under Russia, as Natural Earth.
    topology = {
        "type": "Topology", "transform": {"scale": [1, 1], "translate": [30, 44]},
        "arcs": [[[6, 2], [0, 4], [-3, 0], [0, -4]], [[3, 2], [3, 0]],
                 [[3, 2], [0, -2], [3, 0], [0, 2]],
                 [[40, 5], [1, 0], [0, 1], [-1, 0], [0, -1]]],
        "objects": {"countries": {"type": "GeometryCollection", "geometries": [
            {"type": "Polygon", "id": "804", "properties": {"name": "Ukraine"},
             "arcs": [[0, 1]]},
            {"type": "MultiPolygon", "id": "643", "properties": {"name": "Russia"},
             "arcs": [[[-2, 2]], [[3]]]},
        ]}}}
    arcs = script.decode_arcs(topology)
    assert arcs[2] == [(33, 46), (33, 44), (36, 44), (36, 46)]
    result = script.base_map(topology, (12.0, 40.0, 72.0, 57.0))
    names = {f["properties"]["name"]: f["geometry"]["coordinates"] for f in result["features"]}
    assert len(names["Ukraine"]) == 1  # one polygon: the shared border is gone
    assert _inside((34.5, 45.0), names["Ukraine"][0][0])  # Crimea
    assert _inside((34.5, 48.0), names["Ukraine"][0][0])
    assert len(names["Russia"]) == 1 and _inside((70.5, 49.5), names["Russia"][0][0])
    clipped = script.base_map(topology, (12.0, 40.0, 70.5, 57.0))
    russia = {f["properties"]["name"]: f for f in clipped["features"]}["Russia"]
    assert max(x for x, _ in russia["geometry"]["coordinates"][0][0]) == 70.5


# -- tiles, configuration and the CSP --------------------------------------------------------

@pytest.mark.parametrize("url", [
    TILES, "http://127.0.0.1:8080/{z}/{x}/{y}.png", "https://t.example/{z}/{y}/{x}@2x.png?k=1",
    "https://t.example/{z}/{x}/{y}{r}.png"])
def test_a_tile_url_template_is_accepted(tmp_path: Path, url: str) -> None:
    assert load_settings(tmp_path, {"SVIDOK_MAP_TILE_URL": url}).map_tile_url == url


@pytest.mark.parametrize("url", [
    "tiles.example.org/{z}/{x}/{y}.png", "ftp://tiles.example.org/{z}/{x}/{y}.png",
    "https://{s}.tile.example.org/{z}/{x}/{y}.png", "https://tiles.example.org/{z}/{x}.png",
    "https://tiles.example.org/{z}/{x}/{y}.png; script-src *",
    "https://tiles.example.org/{z}/{x}/{y}.png'", "https://u:p@tiles.example.org/{z}/{x}/{y}",
    "https://tiles.example.org/{z}/{x}/{y}/{q}.png", "https:///{z}/{x}/{y}.png"])
def test_a_tile_url_that_is_not_a_safe_template_is_refused(tmp_path: Path, url: str) -> None:
    with pytest.raises(ConfigError, match="map_tile_url"):
        load_settings(tmp_path, {"SVIDOK_MAP_TILE_URL": url})


def test_the_csp_admits_the_tile_server_only_when_one_is_set(home: Home) -> None:
    def policy(of: Home) -> str:
        with TestClient(create_app(of)) as test_client:
            return str(test_client.get("/sign-in", headers=HTML)
                       .headers["content-security-policy"])

    plain = policy(home)
    assert "img-src 'self' data:;" in plain and "tiles.example.org" not in plain
    tiled = dataclasses.replace(home, settings=dataclasses.replace(
        home.settings, map_tile_url=TILES, map_tile_attribution="© OSM"))
    with_tiles = policy(tiled)
    assert "img-src 'self' data: https://tiles.example.org;" in with_tiles
    assert "script-src 'self';" in with_tiles  # nothing else is opened


def test_the_page_names_the_tile_server_when_one_is_set(
        home: Home, made: dict[str, int], client: TestClient) -> None:
    home.settings = dataclasses.replace(home.settings, map_tile_url=TILES,
                                        map_tile_attribution="<b>© OSM</b>")
    sign_in(client, "vira")
    page = client.get(f"/items/{made['places']}", headers=HTML).text
    assert f'data-tile-url="{TILES}"' in page
    assert 'data-tile-attribution="&lt;b&gt;© OSM&lt;/b&gt;"' in page


@pytest.mark.parametrize("path,kind", [
    ("/static/vendor/leaflet-1.9.4/leaflet.js", "javascript"),
    ("/static/vendor/leaflet-1.9.4/leaflet.css", "text/css"),
    ("/static/vendor/leaflet-1.9.4/images/marker-icon.png", "image/png"),
    ("/static/vendor/leaflet-1.9.4/LICENSE", ""),
    ("/static/map/base.geojson", ""), ("/static/js/map.js", "javascript"),
    ("/static/js/proof.js", "javascript"), ("/static/css/map.css", "text/css")])
def test_the_map_assets_are_served_from_here(client: TestClient, path: str, kind: str) -> None:
    answer = client.get(path)
    assert answer.status_code == 200 and answer.content
    assert kind in answer.headers["content-type"]


# -- in Chromium ---------------------------------------------------------------------------

def test_the_map_draws_its_markers_over_the_bundled_base_map_offline(
        home: Home, made: dict[str, int]) -> None:
    with live_server(home) as url, signed_in_page(home, url) as tab:
        tab.page.goto(f"{url}/items/{made['places']}")
        tab.page.wait_for_selector('#places-map[data-base="loaded"][data-markers="2"]')
        assert tab.page.locator(".leaflet-container").count() == 1
        assert tab.page.locator(".leaflet-marker-icon").count() == 2
        assert tab.page.locator(".leaflet-base-pane path").count() > 10  # country shapes
        labels = tab.page.locator(".leaflet-tooltip").all_text_contents()
        assert any("Makiivka" in label for label in labels)
        assert tab.page.locator(".leaflet-tile-pane img").count() == 0
        assert tab.outside == []  # nothing was asked of any other host


def test_configured_tiles_are_drawn_over_the_base_map(home: Home, made: dict[str, int]
                                                      ) -> None:
    home.settings = dataclasses.replace(home.settings, map_tile_url=TILES)
    with live_server(home) as url, signed_in_page(home, url) as tab:
        tab.page.goto(f"{url}/items/{made['places']}")
        tab.page.wait_for_selector('#places-map[data-markers="2"]')
        tab.page.wait_for_selector(".leaflet-tile-pane img", state="attached")
        assert any(u.startswith("https://tiles.example.org/osm/") for u in tab.outside)
