"""From a session cookie to the :class:`~svidok.web.guard.Viewer` behind a request."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import Request
from fastapi.responses import Response

from svidok.access import lookup_session, lookup_token, touch
from svidok.home import Home
from svidok.web.confine import totp_required
from svidok.web.guard import SESSION_COOKIE, Viewer

PRE_CSRF_COOKIE = "svidok_csrf"
# Activity is written at most this often: a page with twenty thumbnails would otherwise
# write the session row twenty times.
TOUCH_EVERY = timedelta(seconds=60)


def set_session_cookie(response: Response, request: Request, token: str) -> None:
    """The session's cookie: HttpOnly, SameSite=Strict, Secure over https and on loopback
    (browsers keep Secure cookies over plain http only for localhost)."""
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https"
                        or request.url.hostname in ("127.0.0.1", "localhost", "::1"),
                        path="/")


def live_viewer(home: Home, token: str) -> Viewer | None:
    """The signed-in person, or None when the session is unknown, ended, timed out, or still
    waits for the second factor its user has enrolled."""
    found = lookup_session(home.engine, token)
    if found is None or (found.user.totp_enabled and not found.second_factor_done):
        return None
    now = datetime.now(UTC)
    if now - found.last_seen_at >= TOUCH_EVERY:
        touch(home.engine, found.id, now=now)
    user = found.user
    return Viewer(user_id=user.id, name=user.name, role=user.role, language=user.language,
                  csrf_token=found.csrf_token, session_id=found.id,
                  must_change_password=user.must_change_password,
                  needs_totp=totp_required(user.role) and not user.totp_enabled)


def token_viewer(home: Home, authorization: str) -> Viewer | None:
    """The owner of the personal API token in an ``Authorization: Bearer`` header, or None
    when the header is not a bearer token, or the token is unknown, revoked or expired, its
    owner disabled, or their role no longer holds ``api.tokens``. The route's own
    permission is checked by the route, as for a session."""
    scheme, _, credentials = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        return None
    found = lookup_token(home.engine, credentials.strip())
    if found is None:
        return None
    _token, user = found
    return Viewer(user_id=user.id, name=user.name, role=user.role, language=user.language,
                  csrf_token="", session_id="", via_token=True,
                  must_change_password=user.must_change_password,
                  needs_totp=totp_required(user.role) and not user.totp_enabled)
