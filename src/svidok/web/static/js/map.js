// The item page's map: the places its text names, over a base map bundled with Svidok
// (country shapes, static/map/base.geojson), so it works with no network at all. Tiles
// are drawn over the base map only when the instance configures a tile server.
// Place names are set as text, never as HTML.
"use strict";

(function () {
  const section = document.getElementById("places-map");
  const data = document.getElementById("map-places");
  if (!section || !data || !window.L) return;
  const places = JSON.parse(data.textContent);
  L.Icon.Default.imagePath = "/static/vendor/leaflet-1.9.4/images/";

  const map = L.map("map", { zoomSnap: 0.5, minZoom: 3, maxZoom: 14 });
  // Below the tile pane (z-index 200): configured tiles cover the base map where they load.
  map.createPane("base").style.zIndex = 150;

  const escape = (text) => String(text).replace(/[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  if (section.dataset.tileUrl) {
    L.tileLayer(section.dataset.tileUrl, {
      attribution: escape(section.dataset.tileAttribution || ""), maxZoom: 14,
    }).addTo(map);
  }

  fetch(section.dataset.baseMap, { credentials: "same-origin" })
    .then((response) => (response.ok ? response.json() : Promise.reject(response.status)))
    .then((shapes) => {
      L.geoJSON(shapes, {
        pane: "base", interactive: false,
        style: { color: "#8c8c8c", weight: 1, fillColor: "#f3efe6", fillOpacity: 1 },
      }).addTo(map);
      section.dataset.base = "loaded";
    })
    .catch(() => {
      section.dataset.base = "failed";
      const note = document.createElement("p");
      note.className = "muted";
      note.textContent = section.dataset.tBaseFailed || "";
      section.appendChild(note);
    });

  const points = [];
  for (const place of places) {
    if (!Number.isFinite(place.lat) || !Number.isFinite(place.lon)) continue;
    const label = document.createElement("span");
    label.textContent = place.name + (place.name_uk && place.name_uk !== place.name
      ? " (" + place.name_uk + ")" : "") +
      (place.mentions > 1 ? " \u00b7 " + place.mentions + " " + (section.dataset.tMentions || "") : "");
    const marker = L.marker([place.lat, place.lon], { title: place.name, alt: place.name });
    marker.bindTooltip(label, { permanent: places.length <= 12, direction: "right" });
    marker.addTo(map);
    points.push([place.lat, place.lon]);
  }
  if (points.length === 1) {
    map.setView(points[0], 7);
  } else if (points.length) {
    map.fitBounds(L.latLngBounds(points).pad(0.3), { maxZoom: 9 });
  } else {
    map.setView([48.5, 31.5], 5); // Ukraine
  }
  section.dataset.markers = String(points.length);
})();
