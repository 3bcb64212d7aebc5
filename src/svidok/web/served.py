"""The app as ``svidok serve`` runs it in each of its processes: pages taking turns.

:func:`serve` runs it in this process until Ctrl-C; with ``--workers N`` above one,
svidok.web.supervisor starts N processes that each open the data folder and call it on a
listening socket of their own. Nothing the app keeps in memory has to be shared between
them: sessions, sign-in attempts and upload jobs live in the database, and an upload's
worker thread runs in the process that received it.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

from svidok.home import Home

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


def pages_in_turn(app: Any) -> Any:
    """``app``, with GET and HEAD requests outside /static/ run PAGES_AT_ONCE at a time."""
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


def serve(home: Home, options: dict[str, Any], sockets: list[socket.socket] | None = None
          ) -> None:
    """Serve the app on ``home`` here until Ctrl-C or SIGTERM. ``options``: uvicorn.Config's
    keyword arguments; ``sockets``: listening sockets to use instead of binding host:port.
    Raises OSError when the address cannot be listened on."""
    import uvicorn

    from svidok.web.app import create_app

    config = uvicorn.Config(pages_in_turn(create_app(home)), **options)
    uvicorn.Server(config).run(sockets=sockets)
