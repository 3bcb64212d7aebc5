"""Signing in and out.

One form takes the name, the password and, for a user who enrolled an authenticator app,
its current code; nothing tells a stranger which of them was wrong. Attempts count towards
the rate limit of the name and of the client's address. The form is protected by a
double-submit token (a cookie and a field) since there is no session yet.
"""

from __future__ import annotations

import hmac
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from svidok.access import AccessError, authenticate, create_session, revoke_session
from svidok.access import totp as second_factor
from svidok.web.guard import SESSION_COOKIE, check_csrf, render
from svidok.web.sessions import PRE_CSRF_COOKIE

router = APIRouter()
FormText = Annotated[str, Form()]


def _safe_next(target: str) -> str:
    # Only a path on this site: never an address elsewhere (an open redirect).
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


@router.get("/sign-in")
def sign_in_form(request: Request, next: str = "/") -> Response:
    return render(request, None, "sign_in.html", next=_safe_next(next), error=None, name="")


@router.post("/sign-in")
def sign_in(request: Request, name: FormText = "", password: FormText = "",
            code: FormText = "", next: FormText = "/",
            csrf_token: FormText = "") -> Response:
    home = request.app.state.home
    cookie = request.cookies.get(PRE_CSRF_COOKIE, "")
    if not cookie or not hmac.compare_digest(cookie, csrf_token):
        return render(request, None, "sign_in.html", status_code=403, next=_safe_next(next),
                      name=name[:100], error="The form was out of date; please try again.")
    address = request.client.host if request.client else None
    try:
        user = authenticate(home.engine, name[:200], password[:1024], address=address)
        if user.totp_enabled and not second_factor.verify(home.engine, user.id, code.strip()):
            raise AccessError("wrong name, password or code")
    except AccessError as exc:
        message = str(exc) if "try again" in str(exc) or "disabled" in str(exc) \
            else "Wrong name, password or code."
        return render(request, None, "sign_in.html", status_code=401, next=_safe_next(next),
                      name=name[:100], error=message)
    token, _session = create_session(home.engine, user.id,
                                     second_factor_done=user.totp_enabled)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https"
                        or request.url.hostname in ("127.0.0.1", "localhost", "::1"),
                        path="/")
    return response


@router.post("/sign-out")
async def sign_out(request: Request) -> Response:
    viewer = getattr(request.state, "viewer", None)
    if viewer is not None:
        await check_csrf(request, viewer.csrf_token)
        revoke_session(request.app.state.home.engine, viewer.session_id)
    response = RedirectResponse("/sign-in", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
