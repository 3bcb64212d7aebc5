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
from sqlalchemy import Engine

from svidok.access import (
    AccessError,
    authenticate,
    create_session,
    retry_after,
    revoke_session,
)
from svidok.access import totp as second_factor
from svidok.web.guard import SESSION_COOKIE, check_csrf, render
from svidok.web.i18n import Translator, accepted_language, translator
from svidok.web.sessions import PRE_CSRF_COOKIE, set_session_cookie

router = APIRouter()
FormText = Annotated[str, Form()]


def refusal(t: Translator, exc: AccessError, engine: Engine, name: str,
            address: str | None) -> str:
    """What to tell a person whose password (or code) was refused, in their language;
    never which of name, password and code was wrong."""
    if "disabled" in str(exc):
        return t.gettext("This account is disabled; ask an administrator.")
    wait = retry_after(engine, name, address) if "try again" in str(exc) else None
    if wait is not None:
        minutes = max(1, -(-int(wait.total_seconds()) // 60))
        return t.ngettext("Too many failed sign-ins; try again in %(num)d minute.",
                          "Too many failed sign-ins; try again in %(num)d minutes.",
                          minutes) % {"num": minutes}
    return t.gettext("Wrong name, password or code.")


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
    # No user yet: messages follow the browser's language, as the page does.
    t = translator(accepted_language(request.headers.get("accept-language", "")))
    cookie = request.cookies.get(PRE_CSRF_COOKIE, "")
    if not cookie or not hmac.compare_digest(cookie, csrf_token):
        return render(request, None, "sign_in.html", status_code=403, next=_safe_next(next),
                      name=name[:100],
                      error=t.gettext("The form was out of date; please try again."))
    address = request.client.host if request.client else None
    try:
        user = authenticate(home.engine, name[:200], password[:1024], address=address)
        if user.totp_enabled and not second_factor.verify(home.engine, user.id, code.strip()):
            raise AccessError("wrong name, password or code")
    except AccessError as exc:
        message = refusal(t, exc, home.engine, name[:200], address)
        return render(request, None, "sign_in.html", status_code=401, next=_safe_next(next),
                      name=name[:100], error=message)
    token, _session = create_session(home.engine, user.id,
                                     second_factor_done=user.totp_enabled)
    response = RedirectResponse(_safe_next(next), status_code=303)
    set_session_cookie(response, request, token)
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
