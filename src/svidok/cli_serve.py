"""``svidok serve``: the web app on this machine (127.0.0.1 unless told otherwise)."""

from __future__ import annotations

import ipaddress
from typing import Annotated, Any

import typer

from svidok.cli_common import EXIT_USAGE, fail, opened
from svidok.output import err, out


def serve_cmd(
    host: Annotated[str, typer.Option(help="Address to listen on. Anything but loopback "
                                           "needs --public: put a TLS proxy in front.")]
    = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
    public: Annotated[bool, typer.Option("--public", help="Allow a non-loopback address.")]
    = False,
) -> None:
    """Serve the web app: dashboard, evidence browser, item pages. Stop with Ctrl-C."""
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback and not public:
        fail(f"{host} is not a loopback address: the app would be reachable from the "
             "network without TLS; add --public if a TLS proxy is in front", code=EXIT_USAGE)
    import uvicorn

    from svidok.web.app import create_app

    with opened() as home:
        app = create_app(home)
        out.print(f"Svidok is at http://{host}:{port}/ (Ctrl-C stops it)")
        # uvicorn's access log would write every URL, and URLs carry search words.
        config = uvicorn.Config(_pages_in_turn(app), host=host, port=port, access_log=False,
                                log_level="warning", server_header=False)
        try:
            uvicorn.Server(config).run()
        except OSError as exc:
            err.print(f"cannot listen on {host}:{port}: {exc.strerror}")
            raise typer.Exit(1) from None


# Pages run in a pool of threads (anyio's, 40). More than a few at once only wait for each
# other (one interpreter lock) and for the database engine's pool of five connections: the
# sixth and later open a connection of their own, closed after the request, so under load
# most requests paid for a new SQLite connection with an empty page cache. So pages take
# turns, PAGES_AT_ONCE at a time, each until its answer starts (a download then streams on
# without holding a turn); static files, and anything but GET and HEAD (an upload streams
# its body for minutes), never wait for a turn. With 20 clients on a million items
# (bench/web_app.py, docs/benchmarks.md) this cut the server's CPU per request by a fifth
# and its memory by a third.
PAGES_AT_ONCE = 4


def _pages_in_turn(app: Any) -> Any:
    """``app``, with GET and HEAD requests outside /static/ run PAGES_AT_ONCE at a time."""
    import asyncio

    turns: asyncio.Semaphore | None = None  # made in the server's own event loop

    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        nonlocal turns
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD") \
                or scope["path"].startswith("/static/"):
            await app(scope, receive, send)
            return
        if turns is None:
            turns = asyncio.Semaphore(PAGES_AT_ONCE)
        gate = turns
        await gate.acquire()
        holding = True

        async def answer(message: Any) -> None:
            nonlocal holding
            if holding and message["type"] == "http.response.start":
                holding = False
                gate.release()
            await send(message)

        try:
            await app(scope, receive, answer)
        finally:
            if holding:
                gate.release()

    return wrapped
