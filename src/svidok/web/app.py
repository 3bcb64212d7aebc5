"""The web app: server-rendered pages over the locker, custody log, search and duplicates.

``create_app(home)`` builds a FastAPI app bound to one data folder. Everything is refused
unless it is a public path (sign-in, static assets) or the request carries a live session:
pages then send the browser to sign in, anything else gets 401. Responses carry headers
that keep the pages from being framed, sniffed, cached by proxies or sending referrers, and
a Content-Security-Policy allowing only the app's own scripts and styles (all vendored, so
nothing is fetched from the internet).
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.telemetry import TelemetryConfig
from fastapi.templating import Jinja2Templates
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from svidok.config import Settings
from svidok.home import Home
from svidok.web import account, api, api_review, pages, proof, review, signin, uploads
from svidok.web.confine import confinement
from svidok.web.guard import SESSION_COOKIE, NotSignedIn
from svidok.web.i18n import N_, accepted_language, translator
from svidok.web.places_map import tile_origin
from svidok.web.sessions import PRE_CSRF_COOKIE, live_viewer, token_viewer

HERE = Path(__file__).parent
PUBLIC_PATHS = frozenset({"/sign-in", "/favicon.ico"})
PUBLIC_PREFIXES = ("/static/",)
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; media-src 'self'; "
                               "style-src 'self' 'unsafe-inline'; script-src 'self'; "
                               "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


# Starlette's own details for errors no route raises itself, so the catalogue has them.
HTTP_PHRASES = (N_("Not Found"), N_("Method Not Allowed"), N_("Bad Request"),
                N_("Forbidden"), N_("Unprocessable Entity"))


def security_headers(settings: Settings) -> dict[str, str]:
    """SECURITY_HEADERS, with a configured map tile server's origin allowed for images."""
    origin = tile_origin(settings.map_tile_url)
    if origin is None:
        return dict(SECURITY_HEADERS)
    policy = SECURITY_HEADERS["Content-Security-Policy"].replace(
        "img-src 'self' data:", f"img-src 'self' data: {origin}")
    return {**SECURITY_HEADERS, "Content-Security-Policy": policy}


def is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


class Gate:
    """Finds the request's session (or none) and closes every non-public path without one.

    Plain ASGI rather than Starlette's BaseHTTPMiddleware, which runs the rest of the app
    in a task of its own and passes the answer through a stream: with 20 clients on a
    million items that machinery was a tenth of the server's time (docs/benchmarks.md).
    Static files skip the session lookup: they are public, and a page pulls several."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        home: Home = request.app.state.home
        path = request.url.path
        static = path.startswith(PUBLIC_PREFIXES)
        authorization = request.headers.get("authorization")
        bad_token = False
        if static:
            request.state.viewer = None
        elif authorization is not None and path.startswith("/api/"):
            # A script's personal API token (docs/api.md); a cookie sent along is ignored.
            request.state.viewer = token_viewer(home, authorization)
            bad_token = request.state.viewer is None
        else:
            token = request.cookies.get(SESSION_COOKIE)
            request.state.viewer = live_viewer(home, token) if token else None
        # A pre-session CSRF token for the sign-in form (double submit: cookie and field).
        has_pre_csrf = PRE_CSRF_COOKIE in request.cookies
        request.state.pre_csrf = request.cookies.get(PRE_CSRF_COOKIE) or \
            secrets.token_urlsafe(24)
        extra: dict[str, str] = dict(request.app.state.security_headers)
        if static:
            # The app's own scripts, styles and map tiles: a browser may keep them but asks
            # each time whether they changed (a 304 without a body when not), so a new
            # version of the app is never run with the old scripts.
            extra["Cache-Control"] = "no-cache"
        if not has_pre_csrf:
            cookie = Response()
            cookie.set_cookie(PRE_CSRF_COOKIE, request.state.pre_csrf, httponly=True,
                              samesite="strict", secure=_secure(request), path="/")
            extra["set-cookie"] = cookie.headers["set-cookie"]

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in extra.items():
                    if name == "set-cookie":
                        headers.append(name, value)  # beside the app's own cookies
                    elif name not in headers:
                        headers[name] = value
            await send(message)

        held: Response | None = None
        if bad_token:
            held = _token_refused()
        elif request.state.viewer is None and not is_public(path):
            held = _not_signed_in(request)
        else:
            # A one-time password to change or an administrator's missing second factor.
            held = confinement(request, request.state.viewer)
        if held is not None:
            await held(scope, receive, with_headers)
        else:
            await self.app(scope, receive, with_headers)


def _secure(request: Request) -> bool:
    # Browsers keep Secure cookies over plain http only for localhost; the app listens on
    # loopback unless told otherwise, and behind a proxy the scheme is https.
    return request.url.scheme == "https" or request.url.hostname in ("127.0.0.1",
                                                                      "localhost", "::1")


def _not_signed_in(request: Request) -> Response:
    wants_page = request.method == "GET" and "text/html" in request.headers.get("accept", "") \
        and not request.url.path.startswith("/api/")
    if wants_page:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/sign-in?next={quote(target, safe='')}", status_code=303)
    return JSONResponse({"detail": "sign in first"}, status_code=401,
                        headers={"WWW-Authenticate": "Bearer"})


def _token_refused() -> Response:
    # One answer for every reason, so a caller learns nothing about tokens they do not hold.
    return JSONResponse({"detail": "the API token is not valid: unknown, revoked or "
                                   "expired, or its owner may no longer use tokens"},
                        status_code=401,
                        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield
    # Background work ends with the app, before whoever made it closes the data folder
    # (``svidok serve``, a test): the upload worker writes to its database.
    await uploads.shutdown(app)


# FastAPI's OpenTelemetry support is off, whatever the environment says: a span or metric
# carries request paths (search words, item numbers) to wherever an exporter sends them.
NO_TELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False,
                                 "operation_spans": False, "auto_configure": False}


def create_app(home: Home) -> FastAPI:
    app = FastAPI(title="Svidok", docs_url=None, redoc_url=None, openapi_url=None,
                  lifespan=_lifespan, telemetry=NO_TELEMETRY)
    app.state.home = home
    app.state.security_headers = security_headers(home.settings)
    app.state.templates = Jinja2Templates(directory=HERE / "templates")  # autoescapes .html
    # Templates ship with the package and change only with it: no stat of every template
    # file on every page to see whether it was edited.
    app.state.templates.env.auto_reload = False
    # Pages render with their viewer's language (svidok.web.i18n); English until then.
    app.state.templates.env.add_extension("jinja2.ext.i18n")
    english = translator("en")
    app.state.templates.env.install_gettext_callables(
        english.gettext, english.ngettext, newstyle=True)
    app.add_middleware(Gate)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(signin.router)
    app.include_router(account.router)
    app.include_router(pages.router)
    app.include_router(api.router)  # /api/v1: JSON for scripts (docs/api.md)
    app.include_router(proof.router)
    app.include_router(review.router)  # an item's verification status
    uploads.install(app)  # upload pages and their worker (docs/web.md)
    app.include_router(api_review.router)  # /api/v1: status, history, uploads

    @app.exception_handler(NotSignedIn)
    async def not_signed_in(request: Request, exc: NotSignedIn) -> Response:
        return _not_signed_in(request)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        detail: Any = exc.detail
        if "text/html" in request.headers.get("accept", "") \
                and not request.url.path.startswith("/api/"):
            # Details are English message ids (marked with N_), shown translated; the API
            # keeps them in English.
            viewer = getattr(request.state, "viewer", None)
            language = viewer.language if viewer is not None else accepted_language(
                request.headers.get("accept-language", ""))
            t = translator(language)
            back = t.gettext("Back to the dashboard")
            return Response(f"<!doctype html><html lang=\"{language}\">"
                            f"<title>{exc.status_code}</title>"
                            f"<p>{exc.status_code}: {_html(t.gettext(str(detail)))}</p>"
                            f"<p><a href=\"/\">{_html(back)}</a></p>",
                            status_code=exc.status_code, media_type="text/html")
        return JSONResponse({"detail": detail}, status_code=exc.status_code)

    return app


def _html(text: str) -> str:
    from markupsafe import escape

    return str(escape(text))
