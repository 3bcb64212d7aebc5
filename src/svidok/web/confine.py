"""Duties that come before everything else: a one-time password to replace, and for an
administrator, an authenticator app to enrol.

The Gate (:mod:`svidok.web.app`) asks :func:`confinement` about every request of a
signed-in person. While a duty is open, only the page that fulfils it, signing out, the
language switch and static files are reachable: pages are sent to the duty's page, anything
else (the API, htmx fragments, form posts) gets 403 with JSON saying why. The password
comes first, so that an administrator holding a one-time password replaces it before
anything else, the second factor included.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from svidok.web.guard import Viewer

# Roles that may not work without a second factor: an administrator's password alone must
# not be enough to add people, reset them, or read everything.
TOTP_REQUIRED_ROLES = frozenset({"admin"})

PASSWORD_PAGE = "/account/password"  # noqa: S105 -- a path, not a password
TOTP_PAGE = "/account/totp"
# Reachable whatever duty is open.
ALWAYS_OPEN = frozenset({"/sign-out", "/account/language"})
ALWAYS_OPEN_PREFIXES = ("/static/",)


@dataclass(frozen=True)
class Duty:
    page: str  # the page that fulfils it, and the paths below it
    reason: str  # for the API's 403


def totp_required(role: str) -> bool:
    return role in TOTP_REQUIRED_ROLES


def open_duty(viewer: Viewer) -> Duty | None:
    if viewer.must_change_password:
        return Duty(PASSWORD_PAGE, "change your one-time password first, at "
                                   f"{PASSWORD_PAGE}")
    if viewer.needs_totp:
        return Duty(TOTP_PAGE, "administrators need a second factor: enrol an "
                               f"authenticator app first, at {TOTP_PAGE}")
    return None


def _reachable(path: str, duty: Duty) -> bool:
    return (path in ALWAYS_OPEN or path.startswith(ALWAYS_OPEN_PREFIXES)
            or path == duty.page or path.startswith(duty.page + "/"))


def wants_page(request: Request) -> bool:
    """A browser asking for a page (as opposed to the API or a script)."""
    return request.method == "GET" and "text/html" in request.headers.get("accept", "") \
        and not request.url.path.startswith("/api/")


def confinement(request: Request, viewer: Viewer | None) -> Response | None:
    """None to let the request through; otherwise the answer that holds it back."""
    if viewer is None:
        return None
    duty = open_duty(viewer)
    if duty is None or _reachable(request.url.path, duty):
        return None
    if wants_page(request):
        return RedirectResponse(duty.page, status_code=303)
    return JSONResponse({"detail": duty.reason}, status_code=403)
