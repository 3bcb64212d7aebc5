"""The API's OpenAPI 3 document, at /api/v1/openapi.json.

Built from the app's own routes, whichever module added them: every path under /api/v1/ is
in it, the pages are not. It is served, like everything else, only to someone signed in or
holding a token (it tells what the API holds, so strangers get 401); the app's own
/openapi.json, /docs and /redoc stay off.

Errors come in two shapes, each documented per route: a 422 is always FastAPI's
HTTPValidationError, a list naming each value refused, whether FastAPI's own checks or the
route's found it (:func:`invalid`); every other 4xx or 5xx is :class:`Error`, a sentence.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.utils import (
    get_openapi,
    validation_error_definition,
    validation_error_response_definition,
)
from fastapi.responses import JSONResponse

from svidok import __version__
from svidok.web.api_models import Error
from svidok.web.guard import SESSION_COOKIE

PREFIX = "/api/v1"
TITLE = "Svidok API"
DESCRIPTION = (
    "Read the evidence locker from scripts. Authenticate with a personal API token "
    "(`Authorization: Bearer svk_...`; make one with `svidok tokens add` or on the account "
    "page); a token acts as its owner, with the owner's role, and each route needs the same "
    "permission as the page showing the same thing. Errors are JSON: a 422 lists the values "
    "refused (`{\"detail\": [{\"loc\": [...], \"msg\": ..., \"type\": ...}]}`), any other "
    "error is a sentence (`{\"detail\": \"...\"}`). See docs/api.md.")

_ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
_INVALID = {"application/json": {"schema": {
    "$ref": "#/components/schemas/HTTPValidationError"}}}
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Error, "description": "no live session or valid API token "
                                         "(WWW-Authenticate: Bearer)"},
    403: {"model": Error, "description": "the role may not do this, or a duty comes first "
                                         "(a one-time password to change, a second factor "
                                         "to enrol)"},
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": Error,
                                                    "description": "no such item"}}


def invalid(description: str) -> dict[int | str, dict[str, Any]]:
    """A route's 422, described for it: FastAPI's list of refused values. A route refusing
    a value for a reason of its own raises ``RequestValidationError`` naming it, so its
    422s have the same shape as FastAPI's."""
    return {422: {"description": description, "content": _INVALID}}


SECURITY_SCHEMES = {
    "bearer": {"type": "http", "scheme": "bearer",
               "description": "a personal API token, svk_ and 43 characters"},
    "session": {"type": "apiKey", "in": "cookie", "name": SESSION_COOKIE,
                "description": "the web app's session (state changes then also need the "
                               "X-CSRF-Token header)"},
}


def served(request: Request) -> JSONResponse:
    """The document for /api/v1/openapi.json (the route is in :mod:`svidok.web.api`)."""
    schema = getattr(request.app.state, "api_schema", None)
    if schema is None:
        # Routes are all added by the time the first request comes; build it once.
        schema = request.app.state.api_schema = api_schema(request.app)
    return JSONResponse(schema)


def api_schema(app: FastAPI) -> dict[str, Any]:
    full = get_openapi(title=TITLE, version=__version__, description=DESCRIPTION,
                       routes=app.routes)
    paths = {path: operations for path, operations in full.get("paths", {}).items()
             if path.startswith(PREFIX + "/")}
    schemas = full.get("components", {}).get("schemas", {})
    schemas.setdefault("Error", Error.model_json_schema())
    # FastAPI adds these only for a route with parameters it checks; :func:`invalid` uses
    # them on any route.
    schemas.setdefault("HTTPValidationError", validation_error_response_definition)
    schemas.setdefault("ValidationError", validation_error_definition)
    for operations in paths.values():
        for operation in operations.values():
            # Every route is behind the Gate, whether or not its module said so.
            responses = operation.setdefault("responses", {})
            for code in ("401", "403"):
                responses.setdefault(code, {"description": ERRORS[int(code)]["description"],
                                            "content": _ERROR})
    wanted = _referenced(paths, schemas)
    return {"openapi": full["openapi"], "info": full["info"], "paths": paths,
            "components": {"schemas": {k: schemas[k] for k in sorted(wanted)},
                           "securitySchemes": SECURITY_SCHEMES},
            "security": [{"bearer": []}, {"session": []}]}


def _referenced(paths: dict[str, Any], schemas: dict[str, Any]) -> set[str]:
    """The component schemas the paths use, directly or through other schemas."""
    found: set[str] = set()
    todo = _refs(paths)
    while todo:
        name = todo.pop()
        if name in found or name not in schemas:
            continue
        found.add(name)
        todo |= _refs(schemas[name])
    return found


def _refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        out: set[str] = set()
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            out.add(ref.rsplit("/", 1)[1])
        for value in node.values():
            out |= _refs(value)
        return out
    if isinstance(node, list):
        return set().union(*(_refs(v) for v in node)) if node else set()
    return set()
