"""The item page's verification status and history, and the form that changes the status.

``POST /items/{id}/status`` (permission ``items.status``, CSRF checked by the guard) records
a decision through :func:`svidok.cases.verification.set_status`: the status, the note and
its custody event in one transaction. htmx gets the status section back with the history
swapped in beside it; a browser without scripts is sent back to the item page.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import Connection

from svidok.access import allowed
from svidok.cases.verification import (
    DEFAULT,
    NOTE_MAX,
    STATUSES,
    VerificationError,
    decisions,
    set_status,
)
from svidok.custody.history import item_history
from svidok.locker.records import find_item
from svidok.web.guard import CanDecide, Viewer, render
from svidok.web.i18n import N_, translator

router = APIRouter()

STATUS_LABELS = {"unverified": N_("Unverified"), "in_progress": N_("In progress"),
                 "verified": N_("Verified"), "disputed": N_("Disputed"),
                 "false": N_("False")}
ACTION_LABELS = {"capture": N_("Captured"), "sighting": N_("Seen again"),
                 "metadata": N_("Enriched"), "derive": N_("Derived"),
                 "verify": N_("Status changed"), "open": N_("Opened"),
                 "export": N_("Exported"), "dispose": N_("Disposed of")}
assert set(STATUS_LABELS) == set(STATUSES)


def review_context(conn: Connection, viewer: Viewer, item: dict[str, Any],
                   error: str | None = None, derived: set[str] | None = None
                   ) -> dict[str, Any]:
    """What ``_item_review.html`` and ``_item_history.html`` show, for the item page."""
    item_id = int(item["id"])
    made = decisions(conn, item_id)  # newest first
    now = made[0] if made else None
    notes = {d.event_seq: d.note for d in made}
    history = item_history(conn, item_id, item=item, derived=derived)
    return {"review": {
        "status": now.status if now else DEFAULT,
        "label": STATUS_LABELS[now.status if now else DEFAULT],
        "current": now, "error": error, "note_max": NOTE_MAX,
        "stored": item.get("state") == "stored",
        "can_decide": allowed(viewer.role, "items.status"),
        "statuses": [(s, STATUS_LABELS[s]) for s in STATUSES]},
        "history": {"events": [_shown(e, notes) for e in history.events],
                    "truncated": history.truncated}}


def _shown(event: Any, notes: dict[int, str | None]) -> dict[str, Any]:
    details = event.details
    status = details.get("status") if event.action == "verify" else None
    return {"seq": event.seq, "action": event.action,
            "label": ACTION_LABELS.get(event.action, event.action),
            "time": event.time[:19].replace("T", " "), "who": event.user,
            "component": event.component, "version": event.version,
            "status": status if status in STATUS_LABELS else None,
            "status_label": STATUS_LABELS.get(str(status)),
            "from_label": STATUS_LABELS.get(str(details.get("from"))),
            "note": notes.get(event.seq) if event.action == "verify" else None,
            "details": _details(event)}


def _details(event: Any) -> str:
    """A few plain facts for the row (never the capture context, which the event only
    commits to by hash)."""
    details = event.details
    if event.action in ("capture", "sighting"):
        return ", ".join(f"{k} {details[k]}" for k in ("batch", "size") if k in details)
    if event.action == "metadata":
        return str(details.get("enrichers", ""))
    if event.action == "derive":
        return " ".join(str(details[k]) for k in ("role", "enricher") if k in details)
    return ""


@router.post("/items/{item_id}/status")
def change_status(request: Request, item_id: int, viewer: CanDecide,
                  status: Annotated[str, Form()] = "",
                  note: Annotated[str, Form()] = "") -> Response:
    if not 0 < item_id < 2**31:
        raise HTTPException(404, N_("no such item"))
    home = request.app.state.home
    if find_item(home, str(item_id)) is None:
        raise HTTPException(404, N_("no such item"))
    error = None
    try:
        set_status(home.engine, item_id, status, note, decided_by=viewer.name,
                   user_id=viewer.user_id)
    except VerificationError as exc:
        error = str(exc)
    if "hx-request" not in request.headers:
        if error is not None:
            raise HTTPException(422, error)
        return RedirectResponse(f"/items/{item_id}#review", status_code=303)
    item = find_item(home, str(item_id))  # read again: the page shows the new status
    assert item is not None
    with home.engine.connect() as conn:
        context = review_context(conn, viewer, item, error)
    if error is not None:
        # The message is the domain's own (English); the page around it is translated.
        context["review"]["error"] = translator(viewer.language).gettext(error)
    return render(request, viewer, "_item_review_swap.html", 422 if error else 200, item=item,
                  **context)
