"""Upload pages: drop files or export archives, follow the job until the items are there.

``GET /upload`` shows the drop zone (static/js/upload.js sends the files with progress; a
plain form works without scripts) and the person's recent jobs. ``POST /upload`` streams
the files into staging (upload_stream.py), records a queued job and returns at once: the
worker (upload_worker.py) runs the same ingest as ``svidok ingest --enrich``. ``GET
/upload/jobs/{id}`` shows the job: htmx polls its section every second until it is done or
failed; without scripts the page refreshes itself. A job is seen by whoever uploaded it
and by administrators; to anyone else it does not exist.
"""

from __future__ import annotations

import zoneinfo
from functools import cache
from typing import Any

import anyio.to_thread
from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from svidok.access import allowed
from svidok.cases.verification import NOTE_MAX, VerificationError, clean_note
from svidok.locker.upload_jobs import (
    Job,
    create_job,
    fail_job,
    get_job,
    job_folder,
    list_jobs,
    mark_received,
    remove,
)
from svidok.web.guard import CanSend, CanUpload, Viewer, render
from svidok.web.i18n import N_, translator
from svidok.web.upload_stream import UploadRefused, receive
from svidok.web.upload_worker import UploadWorker

router = APIRouter()

PHASES = (N_("queued"), N_("starting"), N_("unpacking"), N_("storing"), N_("reading"),
          N_("enriching"), N_("waiting for another ingest"),
          N_("waiting for another enrichment"))
JOB_STATES = (N_("receiving"), N_("running"), N_("done"))


def install(app: FastAPI) -> None:
    """The upload pages and their worker; jobs a stopped server left are marked
    interrupted now, as the app starts. The app's lifespan calls :func:`shutdown`."""
    worker = UploadWorker(app.state.home)
    worker.recover()
    app.state.upload_worker = worker
    app.include_router(router)
    # The navigation (base.html) shows the upload link only to roles that may upload.
    app.state.templates.env.globals.setdefault("allowed", allowed)


class FieldRefused(UploadRefused):
    """A form field's value refused (422). ``field`` names it, so the API can answer as
    FastAPI does for any other bad value (api_review.py)."""

    def __init__(self, field: str, template: str, **params: object) -> None:
        super().__init__(422, template, **params)
        self.field = field


async def shutdown(app: FastAPI) -> None:
    """Stop the upload worker as the app shuts down, before the database it writes to is
    closed (UploadWorker.shutdown). Safe to call again: a second lifespan, as schemathesis
    runs one of its own, finds nothing left to stop."""
    worker: UploadWorker | None = getattr(app.state, "upload_worker", None)
    if worker is not None:
        # In a thread: the wait for a running job must not stall the event loop.
        await anyio.to_thread.run_sync(worker.shutdown)


@cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


async def accept_upload(request: Request, viewer: Viewer) -> Job:
    """Stream the request's files into a new job's staging folder and queue the job.
    Raises :class:`UploadRefused` with what to tell the person; the job then records
    the refusal as its failure, and nothing of the files is kept."""
    home = request.app.state.home
    worker: UploadWorker = request.app.state.upload_worker
    job_id = create_job(home.engine, viewer.user_id, viewer.name, worker.owner)
    try:
        received = await receive(request, job_folder(home, job_id),
                                 home.settings.upload_max_bytes,
                                 getattr(request.state, "csrf_expected", None))
        fields = received.fields
        try:
            note = clean_note(fields.get("note"))
        except VerificationError as exc:
            raise FieldRefused("note", str(exc)) from None
        tz = (fields.get("tz") or "").strip() or None
        if tz is not None and tz not in _zones():
            raise FieldRefused("tz", N_("unknown time zone %(tz)s; give one such as "
                                     "Europe/Kyiv"), tz=tz[:64])
    except UploadRefused as exc:
        remove(job_folder(home, job_id))
        fail_job(home.engine, job_id, exc.message)
        raise
    mark_received(home.engine, job_id, received.files, note, tz)
    worker.kick()
    with home.engine.connect() as conn:
        job = get_job(conn, job_id)
    assert job is not None
    return job


def visible_job(request: Request, viewer: Viewer, job_id: int) -> Job:
    """The job, if this person may see it (theirs, or any for an administrator)."""
    if not 0 < job_id < 2**31:
        raise HTTPException(404, N_("no such upload"))
    with request.app.state.home.engine.connect() as conn:
        job = get_job(conn, job_id)
    if job is None or (job.user_id != viewer.user_id
                       and not allowed(viewer.role, "users.manage")):
        raise HTTPException(404, N_("no such upload"))
    return job


def job_view(job: Job) -> dict[str, Any]:
    """The job as the page shows it; ``data-state`` is queued, running, done or failed."""
    result = job.result or {}
    items = result.get("items", [])
    return {"job": job, "shown_state": "queued" if job.state == "receiving" else job.state,
            "new": [i for i in items if i["state"] == "stored"],
            "seen": [i for i in items if i["state"] == "sighting"],
            "problems": result.get("problems", []), "imports": result.get("imports", []),
            "figures": result, "percent": round(100 * job.done / job.total)
            if job.total else None}


@router.get("/upload", response_class=HTMLResponse)
def upload_page(request: Request, viewer: CanUpload) -> Response:
    with request.app.state.home.engine.connect() as conn:
        jobs = list_jobs(conn, viewer.user_id)
    return render(request, viewer, "upload.html", jobs=jobs, note_max=NOTE_MAX,
                  max_bytes=request.app.state.home.settings.upload_max_bytes)


@router.post("/upload")
async def upload(request: Request, viewer: CanSend) -> Response:
    wants_json = "application/json" in request.headers.get("accept", "")
    try:
        job = await accept_upload(request, viewer)
    except UploadRefused as exc:
        shown = exc.shown(translator(viewer.language).gettext)
        if wants_json:
            return JSONResponse({"detail": exc.message, "shown": shown},
                                status_code=exc.status)
        raise HTTPException(exc.status, shown) from None
    url = f"/upload/jobs/{job.id}"
    if wants_json:
        return JSONResponse({"job": job.id, "url": url, "state": job.state},
                            status_code=202)
    return RedirectResponse(url, status_code=303)


@router.get("/upload/jobs/{job_id}", response_class=HTMLResponse)
def job_page(request: Request, job_id: int, viewer: CanUpload) -> Response:
    job = visible_job(request, viewer, job_id)
    template = "_upload_job.html" if "hx-request" in request.headers else "upload_job.html"
    return render(request, viewer, template, **job_view(job))
