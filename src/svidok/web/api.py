"""The JSON API under /api/v1: who am I, the dashboard's figures, items, originals, search.

Read-only, and under the same rules as the pages: the Gate (:mod:`svidok.web.app`) lets a
request in only with a live session cookie or a personal API token (``Authorization:
Bearer``), and each route names the permission its role must hold, as the page showing the
same thing does. Every parameter is checked here, at the boundary: a value the records
cannot take is a 422 naming the parameter, never a database error. See docs/api.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse

from svidok.access import GRANTS
from svidok.custody.checkpoints import latest
from svidok.enrich.views import item_enrichment
from svidok.home import Home
from svidok.locker.records import find_item, list_items, status
from svidok.search import SearchError, SearchQueryError
from svidok.search.api import facet_label, find, place_named
from svidok.search.query import Filters
from svidok.web.api_models import (
    Error,
    Item,
    ItemList,
    ItemState,
    Me,
    SearchResults,
    Status,
)
from svidok.web.api_schema import ERRORS, NOT_FOUND, served
from svidok.web.guard import Anyone, CanRead
from svidok.web.pages import PREVIEW_TYPES

router = APIRouter(prefix="/api/v1")


MAX_ID = 2**31 - 1  # item ids are 32-bit integers
MAX_LIMIT = 100
MAX_OFFSET = 100_000
CHUNK = 1024 * 1024
# Free text in a filter: no control characters (PostgreSQL refuses NUL in text, and
# nothing a person types holds the others).
PLAIN = r"^[^\x00-\x1f\x7f]*$"

ItemId = Annotated[int, Path(ge=1, le=MAX_ID, description="the item's number")]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"at most {MAX_LIMIT}")]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET)]
Kind = Annotated[str | None, Query(max_length=32, pattern=r"^[a-z][a-z0-9_-]*$",
                                   description="file, message, page, document, ...")]


def _text(length: int, description: str) -> Any:
    return Query(max_length=length, pattern=PLAIN, description=description)


def _invalid(name: str, message: str, value: object) -> RequestValidationError:
    # The same shape as FastAPI's own 422s, so a client reads every bad parameter one way.
    return RequestValidationError([{"type": "value_error", "loc": ("query", name),
                                    "msg": message, "input": value}])


@router.get("/openapi.json", include_in_schema=False)
def openapi_json(request: Request, viewer: Anyone) -> JSONResponse:
    """The OpenAPI 3 document of every /api/v1 route (svidok.web.api_schema)."""
    return served(request)


@router.get("/me", response_model=Me, tags=["account"], responses=ERRORS,
            summary="Who the token or session belongs to")
def me(viewer: Anyone) -> dict[str, Any]:
    return {"id": viewer.user_id, "name": viewer.name, "role": viewer.role,
            "language": viewer.language,
            "permissions": sorted(GRANTS.get(viewer.role, frozenset())),
            "signed_in_with": "token" if viewer.via_token else "session"}


@router.get("/status", response_model=Status, tags=["status"], responses=ERRORS,
            summary="The dashboard's figures: items, originals, ingests, fixity, checkpoint")
def status_api(request: Request, viewer: CanRead) -> dict[str, Any]:
    home: Home = request.app.state.home
    found = status(home)
    with home.engine.connect() as conn:
        checkpoint = latest(conn)
    # Not the data folder's path, the ingest roots or hosts: the dashboard shows none.
    return {**{k: found[k] for k in ("instance", "database", "ingest_running", "items",
                                     "kinds", "originals", "bytes", "sightings",
                                     "last_batch")},
            "interrupted_batches": [b["id"] for b in found["interrupted_batches"]],
            "last_fixity_check": found["last_verification"],
            "checkpoint": None if checkpoint is None else {
                "id": checkpoint.id, "size": checkpoint.size, "root": checkpoint.root.hex(),
                "created_at": checkpoint.created_at, "stamps": checkpoint.stamps,
                "stamp_error": checkpoint.stamp_error, "note": checkpoint.note}}


@router.get("/items", response_model=ItemList, tags=["items"], responses=ERRORS,
            summary="Items, newest first")
def items_api(request: Request, viewer: CanRead,
              state: Annotated[ItemState | None, Query()] = None,
              kind: Kind = None,
              parent: Annotated[int | None, Query(ge=1, le=MAX_ID, description=(
                  "only the items read out of this container"))] = None,
              limit: Limit = 20, offset: Offset = 0) -> dict[str, Any]:
    rows, total = list_items(request.app.state.home, state=state, kind=kind, parent=parent,
                             limit=limit, offset=offset)
    return {"total": total, "limit": limit, "offset": offset, "items": rows}


def _item(home: Home, item_id: int) -> dict[str, Any]:
    item = find_item(home, str(item_id))
    if item is None:
        raise HTTPException(404, "no such item")
    return item


@router.get("/items/{item_id}", response_model=Item, tags=["items"],
            responses={**ERRORS, **NOT_FOUND},
            summary="One item: capture context, record, sightings and enrichment")
def item_api(request: Request, item_id: ItemId, viewer: CanRead) -> dict[str, Any]:
    home: Home = request.app.state.home
    item = _item(home, item_id)
    item.pop("blob_path", None)  # where the server keeps it is no client's business
    with home.engine.connect() as conn:
        item["enrichment"] = item_enrichment(conn, item_id)
    return item


ORIGINAL_CONTENT = {"application/octet-stream": {"schema": {"type": "string",
                                                            "format": "binary"}}} | {
    media_type: {"schema": {"type": "string", "format": "binary"}}
    for media_type in PREVIEW_TYPES}


@router.get("/items/{item_id}/original", tags=["items"], response_class=StreamingResponse,
            responses={200: {"description": "the original's bytes, exactly as received, as "
                             "a download", "content": ORIGINAL_CONTENT},
                       **ERRORS, **NOT_FOUND},
            summary="The original's bytes")
def original_api(request: Request, item_id: ItemId, viewer: CanRead) -> StreamingResponse:
    home: Home = request.app.state.home
    item = _item(home, item_id)
    original = item.get("original")
    if not item.get("sha256") or not original:
        raise HTTPException(404, "this item has no bytes of its own (it was read out of "
                                 "its container)")
    try:
        stream = home.blobs.open(item["sha256"])
    except FileNotFoundError:
        raise HTTPException(500, "the original is missing from the store: run "
                                 "'svidok verify'") from None
    # A type a browser shows safely keeps its name; anything else is plain bytes, so that
    # a browser opening the address cannot be made to run what an item holds.
    media_type = item["media_type"] if item.get("media_type") in PREVIEW_TYPES \
        else "application/octet-stream"
    return StreamingResponse(
        _chunks(stream), media_type=media_type,
        headers={"Content-Length": str(original["size"]),
                 "Content-Disposition": f'attachment; filename="item-{item_id}"'})


def _chunks(stream: Any) -> Iterator[bytes]:
    with stream:
        while chunk := stream.read(CHUNK):
            yield chunk


@router.get("/search", response_model=SearchResults, tags=["search"],
            responses={**ERRORS, 503: {"model": Error,
                                       "description": "the search index is missing"}},
            summary="Full-text search with the evidence browser's filters and facets")
def search_api(
    request: Request, viewer: CanRead,
    q: Annotated[str, _text(1000, "words; a place name finds its other spellings")] = "",
    lang: Annotated[str | None, _text(16, "language code, as the facet gives it")] = None,
    place: Annotated[str | None, _text(200, "a place's name in any script, or its "
                                            "GeoNames id")] = None,
    violation: Annotated[str | None, _text(100, "violation type id")] = None,
    kind: Kind = None,
    media_type: Annotated[str | None, _text(255, "e.g. image/jpeg")] = None,
    source: Annotated[int | None, Query(ge=1, le=MAX_ID, description=(
        "only what was read out of this item (a chat export, an archive)"))] = None,
    channel: Annotated[str | None, _text(200, "a channel's name")] = None,
    date_from: Annotated[date | None, Query(alias="from", description=(
        "happened or speaks of a day on or after (YYYY-MM-DD)"))] = None,
    date_to: Annotated[date | None, Query(alias="to", description=(
        "happened or speaks of a day on or before (YYYY-MM-DD)"))] = None,
    limit: Limit = 20, offset: Offset = 0, facets: bool = False,
) -> dict[str, Any]:
    if date_from is not None and date_to is not None and date_from > date_to:
        raise _invalid("to", "the end date is before the start date", str(date_to))
    filters = Filters(language=lang or None, place=_place(place) if place else None,
                      violation=violation or None, kind=kind or None,
                      media_type=media_type or None, source_id=source,
                      channel=channel or None, date_from=date_from, date_to=date_to)
    try:
        with request.app.state.home.engine.connect() as conn:
            found = find(conn, q, filters, limit=limit, offset=offset, facets=facets)
    except SearchQueryError as exc:
        raise _invalid("q", str(exc), q) from None
    except SearchError as exc:
        raise HTTPException(503, str(exc)) from None
    return {"total": found.total, "limit": limit, "offset": offset,
            "hits": [{"item_id": h.item_id, "rank": h.rank, "title": h.title,
                      "kind": h.kind, "language": h.language, "occurred_at": h.occurred_at,
                      "snippet": h.snippet, "marks": list(h.marks)} for h in found.hits],
            "facets": None if found.facets is None else {
                facet: [{"value": v, "label": facet_label(facet, v), "count": n}
                        for v, n in values] for facet, values in found.facets.items()},
            "facets_capped": found.facets_capped}


def _place(name: str) -> int:
    name = name.strip()
    if name.isdigit():  # an id (digits of any script)
        try:
            number = int(name)
        except ValueError:  # a digit int() does not read, such as a superscript
            number = 0
        if not 0 < number <= MAX_ID:
            raise _invalid("place", "a GeoNames id is a positive 32-bit number", name)
        return number
    found = place_named(name) if name else None
    if found is None:
        raise _invalid("place", f"no place called {name!r} in the gazetteer", name)
    return found
