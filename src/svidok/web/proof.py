"""An item's custody proof, in the form a browser checks it without trusting the server.

``GET /items/{id}/proof.json`` (for the item page's script, static/js/proof.js) and
``GET /api/v1/items/{id}/proof`` answer the same thing: the item's capture event (the
exact bytes of the log entry), its leaf index, the inclusion path (RFC 9162 §2.1.3.1, leaf
upward) to the latest signed checkpoint, that checkpoint's signed note as signed, and the
log's verifier key. Together they are a C2SP tlog-proof taken apart: the only thing the
checker has to trust is the verifier key, which the page shows for comparing with the one
the organisation published (``svidok log key``).

Reading never signs: when no checkpoint covers the capture yet, the answer says so
(``state: "unsigned"``) and the next ingest or ``svidok log checkpoint`` signs one.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Request
from pydantic import BaseModel, Field
from sqlalchemy import select

from svidok.custody import checkpoints as cps
from svidok.custody import log
from svidok.custody.merkle import ProofError, leaf_hash, verify_inclusion
from svidok.custody.proofs import capture_of
from svidok.custody.tree import Tree
from svidok.db.schema import items
from svidok.home import Home
from svidok.locker.records import find_item
from svidok.web.api_models import Error
from svidok.web.api_schema import ERRORS, NOT_FOUND
from svidok.web.guard import CanRead
from svidok.web.i18n import N_

# The browser re-hashes originals up to this size; beyond it, svidok verify or the offline
# verifier does (a browser holding gigabytes in memory would stall the page).
BROWSER_HASH_LIMIT = 64 * 1024 * 1024

ItemId = Annotated[int, Path(ge=1, le=2**31 - 1, description="the item's number")]


class Original(BaseModel):
    url: str = Field(description="where the original's bytes are served")
    size: int = Field(description="its size in bytes")
    hash_in_browser: bool = Field(description=f"small enough (at most {BROWSER_HASH_LIMIT} "
                                              "bytes) for the page to re-hash it")


class ItemProof(BaseModel):
    """What a verifier needs, and nothing it has to believe but ``vkey``."""

    item: int
    sha256: str = Field(description="what the capture event names: the original's SHA-256, "
                                    "or the record's for an item with no bytes of its own")
    state: Literal["ready", "unsigned", "unlogged"] = Field(
        description="ready: proven by a signed checkpoint; unsigned: logged, but no signed "
                    "checkpoint covers it yet; unlogged: no capture event (run svidok init)")
    entry: str | None = Field(
        default=None, description="base64 of the capture event's canonical record: the "
                                  "leaf's exact bytes")
    leaf_index: int | None = Field(default=None, description="0-based position in the log")
    tree_size: int | None = Field(default=None, description="the checkpoint's tree size")
    inclusion_path: list[str] = Field(
        default_factory=list, description="base64 hashes from the leaf's sibling upward, "
                                          "RFC 9162 §2.1.3.1")
    checkpoint: str | None = Field(default=None,
                                   description="the C2SP signed note, verbatim")
    checkpoint_id: int | None = None
    checkpoint_time: datetime | None = Field(
        default=None, description="when the server signed it (its own clock; not signed)")
    stamped: bool = Field(default=False,
                          description="whether a TSA has timestamped the checkpoint")
    vkey: str = Field(description="the log's verifier key, name+keyid+base64(0x01||key)")
    original: Original | None = Field(default=None,
                                      description="the item's bytes, if it has any")
    record: str | None = Field(
        default=None, description="base64 of the item's record, for an item without bytes "
                                  "of its own, whose capture names the record")


def item_proof(home: Home, item_id: int) -> ItemProof | None:
    """The proof of an item's capture; None when there is no such stored item."""
    item = find_item(home, str(item_id)) if 0 < item_id < 2**31 else None
    sha = (item.get("sha256") or item.get("record_sha256")) if item else None
    if item is None or item["state"] != "stored" or not sha:
        return None
    try:
        vkey = log.verifier(home).vkey
    except log.LogError:
        raise HTTPException(503, N_("the log key cannot be read; see svidok log key")) from None
    answer = ItemProof(item=item_id, sha256=sha, state="unlogged", vkey=vkey,
                       original=_original(item), record=_record(home, item))
    with home.engine.connect() as conn:
        found = capture_of(conn, sha)
        if found is None:
            return answer
        answer.entry = _b64(found.record)
        answer.leaf_index = found.seq
        cp = cps.latest(conn)
        if cp is None or cp.size <= found.seq:
            answer.state = "unsigned"
            return answer
        path = Tree(conn).inclusion(found.seq, cp.size)
    try:
        # As proofs.bundle does: what the server hands out must prove itself here first.
        verify_inclusion(leaf_hash(found.record), found.seq, cp.size, path, cp.root)
    except ProofError:
        raise HTTPException(500, N_("the stored log does not prove this item; "
                                    "run svidok verify")) from None
    answer.state = "ready"
    answer.tree_size = cp.size
    answer.inclusion_path = [_b64(h) for h in path]
    answer.checkpoint = cp.note
    answer.checkpoint_id = cp.id
    answer.checkpoint_time = cp.created_at
    answer.stamped = cp.stamped
    return answer


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _original(item: dict[str, Any]) -> Original | None:
    if not item.get("sha256"):
        return None
    size = int(item.get("size") or 0)
    return Original(url=f"/items/{item['id']}/original", size=size,
                    hash_in_browser=size <= BROWSER_HASH_LIMIT)


def _record(home: Home, item: dict[str, Any]) -> str | None:
    # An item read out of a container (a message in an export) has no bytes of its own:
    # its capture names the SHA-256 of its record, stored as that exact canonical text.
    if item.get("sha256") or not item.get("record_sha256"):
        return None
    with home.engine.connect() as conn:
        text = conn.execute(select(items.c.record).where(items.c.id == item["id"])).scalar()
    return _b64(text.encode("utf-8")) if text else None


def _answer(request: Request, item_id: int) -> ItemProof:
    found = item_proof(request.app.state.home, item_id)
    if found is None:
        raise HTTPException(404, N_("no such item"))
    return found


page_router = APIRouter()
api_router = APIRouter(prefix="/api/v1", tags=["custody"])


@page_router.get("/items/{item_id}/proof.json", response_model=ItemProof)
def proof_json(request: Request, item_id: int, viewer: CanRead) -> ItemProof:
    return _answer(request, item_id)


@api_router.get("/items/{item_id}/proof", response_model=ItemProof,
                responses={**ERRORS, **NOT_FOUND, 503: {
                    "model": Error, "description": "the log key cannot be read"}},
                summary="An item's capture proof against the latest signed checkpoint")
def proof_api(request: Request, item_id: ItemId, viewer: CanRead) -> ItemProof:
    return _answer(request, item_id)


# One router for create_app to include: the page's route and the API's.
router = APIRouter()
router.include_router(page_router)
router.include_router(api_router)
