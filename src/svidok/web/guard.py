"""Deny by default: who is asking, and whether their role may do what a route does.

A route states its permission with ``Depends(allowed_to("items.read"))``; the app also
refuses, before any route runs, every request that is not for a public path and carries no
live session (:mod:`svidok.web.app`), so a route that forgot its dependency is still
closed to strangers. State changes carry the session's CSRF token, in a form field or the
``X-CSRF-Token`` header (htmx sends it), compared in constant time.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from svidok.access import allowed
from svidok.web.i18n import N_, accepted_language, translator

SESSION_COOKIE = "svidok_session"


@dataclass(frozen=True)
class Viewer:
    """The signed-in person behind a request."""

    user_id: int
    name: str
    role: str
    language: str
    csrf_token: str
    session_id: str
    # Duties that confine the person to one page until done (svidok.web.confine).
    must_change_password: bool = False
    needs_totp: bool = False
    # Signed in by a personal API token (Authorization: Bearer), not a session cookie.
    # Browsers never attach such a header by themselves, so these requests need no CSRF
    # token; csrf_token and session_id are then empty.
    via_token: bool = False


class NotSignedIn(Exception):
    """No live session: pages send the browser to sign in, the API answers 401."""


def viewer_of(request: Request) -> Viewer:
    found = getattr(request.state, "viewer", None)
    if not isinstance(found, Viewer):
        raise NotSignedIn
    return found


def allowed_to(permission: str, *, streamed: bool = False
               ) -> Callable[[Request], Awaitable[Viewer]]:
    """``streamed``: the route reads its multipart body as a stream (an upload), which
    reading the form here would spool whole to a temporary file first; a token sent as a
    form field instead of the header is then left in ``request.state.csrf_expected`` for
    the route, which must check it before it keeps anything (svidok.web.upload_stream)."""
    async def check(request: Request) -> Viewer:
        viewer = viewer_of(request)
        if not allowed(viewer.role, permission):
            raise HTTPException(403, N_("your role may not do this"))
        if request.method not in ("GET", "HEAD", "OPTIONS") and not viewer.via_token:
            if streamed and "x-csrf-token" not in request.headers:
                request.state.csrf_expected = viewer.csrf_token
            else:
                await check_csrf(request, viewer.csrf_token)
        return viewer

    return check


async def signed_in(request: Request) -> Viewer:
    """For routes open to any signed-in person whatever their role (their own account):
    the viewer, with the CSRF token checked on state changes."""
    viewer = viewer_of(request)
    if request.method not in ("GET", "HEAD", "OPTIONS") and not viewer.via_token:
        await check_csrf(request, viewer.csrf_token)
    return viewer


# What a route's caller must be, by permission: pages and the API name the same ones.
Anyone = Annotated[Viewer, Depends(signed_in)]
CanRead = Annotated[Viewer, Depends(allowed_to("items.read"))]
CanDecide = Annotated[Viewer, Depends(allowed_to("items.status"))]
CanUpload = Annotated[Viewer, Depends(allowed_to("items.upload"))]
# An upload whose CSRF token is checked before any file byte is kept (see allowed_to).
CanSend = Annotated[Viewer, Depends(allowed_to("items.upload", streamed=True))]


async def check_csrf(request: Request, expected: str) -> None:
    sent = request.headers.get("x-csrf-token")
    if sent is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        # FastAPI has read the form already for the route's own fields; this is its copy.
        sent = (await request.form()).get("csrf_token")  # type: ignore[assignment]
    if not sent or not isinstance(sent, str) or not hmac.compare_digest(sent, expected):
        raise HTTPException(403, N_("the form is out of date: reload the page and try again"))


def render(request: Request, viewer: Viewer | None, template: str, status_code: int = 200,
           **context: Any) -> Response:
    templates = request.app.state.templates
    home = request.app.state.home
    # Before sign-in there is no user to ask: the browser's preference decides.
    language = viewer.language if viewer else accepted_language(
        request.headers.get("accept-language", ""))
    response: HTMLResponse = templates.TemplateResponse(
        request, template, {"user": viewer, "csrf_token": viewer.csrf_token if viewer
                            else request.state.pre_csrf, "lang": language,
                            "instance": home.instance_name,
                            **translator(language).context(), **context},
        status_code=status_code)
    return response
