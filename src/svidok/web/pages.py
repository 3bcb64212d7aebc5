"""The evidence pages: dashboard, evidence browser (search with facets), item page.

Every handler here runs behind :mod:`svidok.web.guard`: it is only reached by a signed-in
user whose role holds the permission the route names. What is shown is escaped by Jinja2;
snippets and texts are built from escaped pieces only (:func:`marked`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from markupsafe import Markup, escape
from sqlalchemy import select

from svidok.custody.checkpoints import latest
from svidok.db.schema import artifacts
from svidok.dedup.linking import text_of
from svidok.enrich.views import item_findings
from svidok.locker.records import find_item, read_item, status
from svidok.search import SearchError
from svidok.search.api import facet_label, find, place_named
from svidok.search.facets import FACET_CAP
from svidok.search.query import Filters
from svidok.web.family import family_of
from svidok.web.guard import CanRead, render
from svidok.web.i18n import N_, Translator, translator
from svidok.web.places_map import item_map
from svidok.web.review import review_context

router = APIRouter()

PAGE = 20
FILTER_KEYS = ("lang", "place", "violation", "kind", "media_type", "source", "channel",
               "from", "to")
FACET_TITLES = {"kind": N_("Kind"), "media_type": N_("Media type"), "language": N_("Language"),
                "place": N_("Place"), "violation": N_("Violation type"),
                "channel": N_("Channel"), "source": N_("Source")}
# What a filter chip calls its filter.
CHIP_NAMES = {"lang": N_("language"), "place": N_("place"), "violation": N_("violation type"),
              "kind": N_("kind"), "media_type": N_("media type"), "source": N_("inside item"),
              "channel": N_("channel"), "from": N_("from"), "to": N_("to")}
# A facet value narrows the search through this filter (and a filter shows its values as
# its facet does).
FACET_FILTER = {"kind": "kind", "media_type": "media_type", "language": "lang",
                "place": "place", "violation": "violation", "channel": "channel",
                "source": "source"}
FILTER_FACET = {key: facet for facet, key in FACET_FILTER.items()}
PREVIEW_TYPES = {"image/jpeg": "image", "image/png": "image", "image/webp": "image",
                 "image/gif": "image", "video/mp4": "video", "video/webm": "video",
                 "audio/mpeg": "audio", "audio/ogg": "audio", "audio/mp4": "audio"}


@router.get("/", response_class=HTMLResponse)
def dashboard(request: Request, viewer: CanRead
              ) -> Response:
    home = request.app.state.home
    found = status(home)
    with home.engine.connect() as conn:
        checkpoint = latest(conn)
    return render(request, viewer, "dashboard.html", status=found, checkpoint=checkpoint,
                  size=_human(found["bytes"]))


def _filters(params: dict[str, str]) -> Filters:
    def day(key: str) -> date | None:
        value = params.get(key)
        return date.fromisoformat(value) if value else None

    place = params.get("place")
    place_id = place_named(place) if place else None
    if place and place_id is None:
        raise ValueError(f"no place called {place!r} in the gazetteer")
    source = params.get("source")
    return Filters(language=params.get("lang") or None, place=place_id,
                   violation=params.get("violation") or None,
                   kind=params.get("kind") or None,
                   media_type=params.get("media_type") or None,
                   source_id=int(source) if source else None,
                   channel=params.get("channel") or None, date_from=day("from"),
                   date_to=day("to"))


@dataclass(frozen=True)
class Chip:
    label: str
    href: str


@router.get("/search", response_class=HTMLResponse)
def search_page(request: Request, viewer: CanRead, q: str = "", page: int = 1
                ) -> Response:
    params = {k: request.query_params.get(k, "").strip()[:200] for k in FILTER_KEYS}
    page = max(1, min(page, 5_000))
    q = q[:500]

    def href(**changes: str | None) -> str:
        merged: dict[str, str | None] = {"q": q, **params}
        merged.update({k: v for k, v in changes.items()})
        return "/search?" + urlencode({k: v for k, v in merged.items() if v})

    t = translator(viewer.language)
    error = None
    results = None
    try:
        with request.app.state.home.engine.connect() as conn:
            results = find(conn, q, _filters(params), limit=PAGE, offset=(page - 1) * PAGE,
                           facets=True)
    except (ValueError, SearchError) as exc:
        error = _search_error(t, exc, params)
    facets = []
    histogram = []
    if results is not None and results.facets:
        for facet, values in results.facets.items():
            if facet == "year":
                top = max((n for _, n in values), default=1)
                histogram = [(y, n, round(100 * n / top)) for y, n in sorted(values)]
                continue
            key = FACET_FILTER.get(facet)
            if key is None or not values:
                continue
            facets.append({"title": t.gettext(FACET_TITLES.get(facet, facet)), "values": [
                {"label": _value_label(t, facet, v), "count": n, "href": href(**{key: v})}
                for v, n in values[:12]]})
    chips = [Chip(f"{t.gettext(CHIP_NAMES[k])}: {_value_label(t, FILTER_FACET.get(k, k), v)}",
                  href(**{k: None})) for k, v in params.items() if v]
    total = results.total if results else 0
    hits = [_with_snippet(h) for h in results.hits] if results else []
    return render(
        request, viewer, "search.html", q=q, filters=params, error=error, total=total,
        hits=hits, facets=facets, histogram=histogram, chips=chips,
        capped=bool(results and results.facets_capped), cap=FACET_CAP,
        offset=(page - 1) * PAGE,
        year_href=lambda y: href(**{"from": f"{y}-01-01", "to": f"{y}-12-31"}),
        prev_href=href(page=str(page - 1)) if page > 1 else None,
        next_href=href(page=str(page + 1)) if page * PAGE < total else None)


def _value_label(t: Translator, facet: str, value: str) -> str:
    """A facet's value as the viewer reads it: kinds and violation types in their language."""
    if facet == "kind":
        return t.gettext(value)
    if facet == "violation" and t.language != "en":
        from svidok.enrich.violations import taxonomy

        labels = {c.id: c.labels.get(t.language) for c in taxonomy()}
        return labels.get(value) or facet_label(facet, value)
    return facet_label(facet, value)


def _search_error(t: Translator, exc: Exception, params: dict[str, str]) -> str:
    if params.get("place") and place_named(params["place"]) is None:
        return t.gettext("No place called %(name)s in the gazetteer.") % {
            "name": params["place"]}
    if isinstance(exc, SearchError):
        return str(exc)  # the index is missing: for an administrator, in English
    return t.gettext("A filter is not valid: dates are written YYYY-MM-DD, a source is "
                     "an item's number.")


def marked(text: str, marks: Any) -> Markup:
    """``text`` escaped, with the (start, end) spans in <mark>."""
    out = Markup()
    at = 0
    for start, end in sorted(marks):
        if start < at:
            continue
        out += escape(text[at:start]) + Markup("<mark>") + escape(text[start:end]) \
            + Markup("</mark>")
        at = end
    return out + escape(text[at:])


def _with_snippet(hit: Any) -> dict[str, Any]:
    return {"item_id": hit.item_id, "title": hit.title, "kind": hit.kind,
            "language": hit.language, "occurred_at": hit.occurred_at,
            "snippet_html": marked(hit.snippet, hit.marks)}


@router.get("/items/{item_id}", response_class=HTMLResponse)
def item_page(request: Request, item_id: int,
              viewer: CanRead) -> Response:
    home = request.app.state.home
    if not 0 < item_id < 2**31:
        raise HTTPException(404)
    # One connection, so the page shows one snapshot of the item (and opens one, not five).
    with home.engine.connect() as conn:
        item = read_item(conn, home, str(item_id))
        if item is None:
            raise HTTPException(404, N_("no such item"))
        found = item_findings(conn, item_id)
        family = family_of(conn, item_id, item.get("parent_id"), item["children"])
        review = review_context(  # status and history (web/review.py)
            conn, viewer, item, derived={a["sha256"] for a in found["artifacts"]})
        # The item's text as the enrichers joined it, so the mentions' offsets fall right.
        text = text_of(conn, item_id) or None
    notes = found["annotations"]
    spans = [(n["start"], n["end"]) for n in notes
             if n["start"] is not None and n["kind"] in ("place", "date", "name")]
    suggestions = [{"kind": n["kind"], "label": _label(n), "written": _written(n),
                    "confidence": n["confidence"], "state": n["state"]}
                   for n in notes if n["kind"] in ("place", "date", "name", "violation",
                                                   "language")]
    kind = PREVIEW_TYPES.get(item.get("media_type") or "")
    preview = {"kind": kind, "src": f"/items/{item_id}/original"} \
        if kind and item.get("sha256") else None
    keyframes = [{"src": f"/items/{item_id}/artifacts/{a['sha256']}",
                  "at": round((a["position_ms"] or 0) / 1000)}
                 for a in found["artifacts"] if a["role"] == "keyframe"][:60]
    return render(request, viewer, "item.html", item=item, preview=preview,
                  keyframes=keyframes, text_html=marked(text, spans) if text else None,
                  suggestions=suggestions, duplicates=found["duplicates"],
                  artifacts=found["artifacts"], family=family,
                  map=item_map(home.settings, notes), **review)


@router.get("/items/{item_id}/original")
def original(request: Request, item_id: int,
             viewer: CanRead) -> Response:
    home = request.app.state.home
    item = find_item(home, str(item_id)) if 0 < item_id < 2**31 else None
    if item is None or not item.get("sha256"):
        raise HTTPException(404)
    kind = PREVIEW_TYPES.get(item.get("media_type") or "")
    # Only types a browser shows safely inline; anything else is a download.
    return FileResponse(item["blob_path"],
                        media_type=item["media_type"] if kind else "application/octet-stream",
                        content_disposition_type="inline" if kind else "attachment",
                        filename=f"item-{item_id}")


@router.get("/items/{item_id}/artifacts/{sha256}")
def artifact(request: Request, item_id: int, sha256: str,
             viewer: CanRead) -> Response:
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise HTTPException(404)
    home = request.app.state.home
    with home.engine.connect() as conn:
        row = conn.execute(select(artifacts.c.media_type).where(
            artifacts.c.item_id == item_id, artifacts.c.sha256 == sha256)).first()
    if row is None or row.media_type not in ("image/jpeg", "image/png"):
        raise HTTPException(404)
    return FileResponse(home.blobs.path_of(sha256), media_type=row.media_type)


def _label(note: dict[str, Any]) -> str:
    data = note["data"] or {}
    if note["kind"] == "place" and data.get("name"):
        return f"{data['name']} ({data.get('oblast') or data.get('country')})"
    if note["kind"] == "date" and data.get("precision"):
        return f"{note['value']} ({data['precision']})"
    if note["kind"] == "violation" and data.get("label"):
        return str(data["label"])
    return str(note["value"])


def _written(note: dict[str, Any]) -> str:
    data = note["data"] or {}
    if note["kind"] == "violation":
        return ", ".join(str(w[2]) for w in data.get("words", ()))
    return str(data.get("text", ""))


def _human(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{value:,.0f} {unit}" if unit == "B" else f"{value:,.1f} {unit}"
        value /= 1024
    return f"{size} B"
