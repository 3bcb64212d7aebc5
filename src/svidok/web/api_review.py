"""The JSON API for verification status, item history and uploads (under /api/v1).

The same permissions as the pages: ``items.status`` to change a status, ``items.read`` for
a history, ``items.upload`` to upload and follow a job (one's own; an administrator's
any). A session needs the X-CSRF-Token header on a change; a personal API token does not.
A value refused is a 422 in FastAPI's shape, naming the field, as for every route under
/api/v1 (svidok.web.api_schema). See docs/api.md.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, field_validator

from svidok.cases.verification import (
    NOTE_MAX,
    VerificationError,
    clean_note,
    current,
    decisions,
    set_status,
)
from svidok.custody.history import LIMIT, item_history
from svidok.locker.records import find_item
from svidok.web.api_models import Error
from svidok.web.api_schema import ERRORS, NOT_FOUND, invalid
from svidok.web.guard import CanDecide, CanRead, CanSend, CanUpload
from svidok.web.upload_stream import UploadRefused
from svidok.web.uploads import FieldRefused, accept_upload, visible_job

router = APIRouter(prefix="/api/v1")

ItemId = Annotated[int, Path(ge=1, le=2**31 - 1, description="the item's number")]
JobId = Annotated[int, Path(ge=1, le=2**31 - 1, description="the upload job's number")]
Status = Literal["unverified", "in_progress", "verified", "disputed", "false"]
# The request is fine but the item's state does not allow it; values refused are 422s.
REFUSED: dict[int | str, dict[str, Any]] = {409: {
    "model": Error, "description": "the item holds nothing yet (not stored), or is "
                                   "unverified already and no note is given"}}


class StatusChange(BaseModel):
    status: Status
    note: str | None = Field(default=None, max_length=NOTE_MAX,
                             description="why; kept with the decision, committed to by hash "
                                         "in its custody event")

    @field_validator("note")
    @classmethod
    def _kept_as(cls, note: str | None) -> str | None:
        # A note that cannot be kept (control characters) is refused with the other bad
        # values, as a 422 naming it; VerificationError is a ValueError.
        return clean_note(note)


class Decision(BaseModel):
    id: int
    item: int
    status: Status
    previous_status: Status
    note: str | None
    decided_by: str
    decided_at: datetime
    log_index: int = Field(description="the verify event's index in the custody log")
    context: str = Field(description="SHA-256 of the decision's canonical JSON, as the "
                                     "event records it")


class StatusChanged(BaseModel):
    changed: bool = Field(description="false: the item already had this status and note; "
                                      "nothing was recorded")
    decision: Decision


class Actor(BaseModel):
    component: str
    version: str
    user: str | None = None


class HistoryEvent(BaseModel):
    log_index: int
    action: str = Field(description="capture, sighting, derive, metadata, verify, ...")
    time: str = Field(description="as recorded: UTC, microseconds, Z")
    actor: Actor
    sha256: str
    previous: str | None = None
    details: dict[str, str | int | bool | None]
    purpose: str | None = None
    note: str | None = Field(default=None, description="a verify event's note")


class History(BaseModel):
    item: int
    status: Status = Field(description="the newest decision's status, else unverified")
    events: list[HistoryEvent] = Field(description=f"newest first, at most {LIMIT}")
    truncated: bool


class UploadFile(BaseModel):
    name: str
    size: int


class UploadedItem(BaseModel):
    id: int
    name: str
    state: Literal["stored", "sighting"] = Field(
        description="stored: new; sighting: the bytes were already in the locker")
    media_type: str | None = None
    size: int | None = None


class UploadResult(BaseModel):
    batch: int | None = None
    stored: int
    seen_again: int
    failed: int
    skipped: int
    items: list[UploadedItem]
    problems: list[dict[str, Any]]
    imports: list[dict[str, Any]]
    enrich: dict[str, int] | None = None


class UploadJob(BaseModel):
    id: int
    state: Literal["receiving", "queued", "running", "done", "failed"]
    interrupted: bool = Field(description="failed because the server stopped mid-way")
    phase: str | None = None
    done: int
    total: int
    files: list[UploadFile]
    note: str | None = None
    tz: str | None = None
    message: str | None = Field(default=None, description="why it failed, or what needs "
                                                          "attention")
    result: UploadResult | None = None
    batch: int | None = None
    collector: str
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None


@router.post("/items/{item_id}/status", response_model=StatusChanged, tags=["review"],
             responses={**ERRORS, **NOT_FOUND, **REFUSED,
                        **invalid("a status or note the API cannot take")},
             summary="Record a verification status for an item (a custody event)")
def item_status_api(request: Request, item_id: ItemId, change: StatusChange,
                    viewer: CanDecide) -> dict[str, Any]:
    home = request.app.state.home
    if find_item(home, str(item_id)) is None:
        raise HTTPException(404, "no such item")
    try:
        done = set_status(home.engine, item_id, change.status, change.note,
                          decided_by=viewer.name, user_id=viewer.user_id)
    except VerificationError as exc:
        # The values were checked above (StatusChange): what is left is the item's state.
        raise HTTPException(409, str(exc)) from None
    return {"changed": done.changed, "decision": done.decision.as_json()}


@router.get("/items/{item_id}/history", response_model=History, tags=["review"],
            responses={**ERRORS, **NOT_FOUND},
            summary="Every custody event about an item, newest first")
def history_api(request: Request, item_id: ItemId, viewer: CanRead) -> dict[str, Any]:
    home = request.app.state.home
    if find_item(home, str(item_id)) is None:
        raise HTTPException(404, "no such item")
    with home.engine.connect() as conn:
        found = item_history(conn, item_id)
        now = current(conn, item_id)
        notes = {d.event_seq: d.note for d in decisions(conn, item_id)}
    return {"item": item_id, "status": now.status if now else "unverified",
            "events": [{**e.as_json(), "note": notes.get(e.seq) if e.action == "verify"
                        else None} for e in found.events],
            "truncated": found.truncated}


UPLOAD_BODY = {"requestBody": {"required": True, "content": {"multipart/form-data": {
    "schema": {"type": "object", "required": ["files"], "properties": {
        "files": {"type": "array", "items": {"type": "string", "format": "binary"},
                  "description": "files, or ZIPs of exports (a Telegram Desktop export "
                                 "folder); parts named 'files'"},
        "note": {"type": "string", "maxLength": NOTE_MAX,
                 "description": "kept with every item"},
        "tz": {"type": "string", "description": "the exporting computer's time zone, "
                                                "e.g. Europe/Kyiv"}}}}}}}


@router.post("/uploads", response_model=UploadJob, status_code=202, tags=["uploads"],
             openapi_extra=UPLOAD_BODY,
             responses={**ERRORS, 400: {"model": Error, "description": "not a usable form"},
                        413: {"model": Error, "description": "over upload_max_bytes"},
                        415: {"model": Error, "description": "not multipart/form-data"},
                        **invalid("a note that cannot be kept, or an unknown time zone"),
                        507: {"model": Error, "description": "the disk is full"}},
             summary="Upload files: stored as by svidok ingest, in a background job")
async def upload_api(request: Request, viewer: CanSend) -> dict[str, Any]:
    try:
        job = await accept_upload(request, viewer)
    except FieldRefused as exc:
        # FastAPI's shape, as for any other value refused (the form is read here, not by
        # FastAPI). The value is not echoed: a note may be long.
        raise RequestValidationError([{"type": "value_error", "loc": ("body", exc.field),
                                       "msg": exc.message}]) from None
    except UploadRefused as exc:
        raise HTTPException(exc.status, exc.message) from None
    return job.as_json()


@router.get("/uploads/{job_id}", response_model=UploadJob, tags=["uploads"],
            responses={**ERRORS, 404: {"model": Error, "description": "no such upload"}},
            summary="An upload job: its state, progress and the items it made")
def upload_job_api(request: Request, job_id: JobId, viewer: CanUpload) -> dict[str, Any]:
    return visible_job(request, viewer, job_id).as_json()
