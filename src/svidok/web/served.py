"""The app as ``svidok serve`` runs it: pages taking turns, in one or several processes.

With ``--workers N`` above one, svidok.web.supervisor starts N processes, each with a
listening socket of its own; each calls :func:`served_app`, which opens the data folder named by
``SVIDOK_HOME`` (set by ``svidok serve``) on its own database connections. Nothing the app
keeps in memory has to be shared: sessions, sign-in attempts and upload jobs live in the
database, and an upload's worker thread runs in the process that received it.

A worker must not outlive its supervisor: killed with SIGKILL, the supervisor cannot stop
them, and they would keep the port and go on serving. So each asks the kernel to kill it
the moment its parent dies (Linux's PR_SET_PDEATHSIG): ``kill -9`` of the server stops all
of it at once, as with one process, and what was being written is left as a crash leaves
it (which loses nothing; the next start marks an interrupted upload).
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import signal
from pathlib import Path
from typing import Any

from svidok.home import open_home

SUPERVISOR_VARIABLE = "SVIDOK_SERVE_SUPERVISOR"  # the supervisor's pid, for its workers
PR_SET_PDEATHSIG = 1

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


def die_with_supervisor() -> None:
    """In a worker process: be killed when the supervisor dies (see the module's notes)."""
    supervisor = os.environ.get(SUPERVISOR_VARIABLE)
    if not supervisor:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != int(supervisor):  # it died before the request took effect
        os._exit(1)


def served_app() -> Any:
    """The app of one worker process (uvicorn calls this factory in each)."""
    from svidok.web.app import create_app

    die_with_supervisor()
    home = open_home(Path(os.environ["SVIDOK_HOME"]))
    app = create_app(home)
    app.state.owns_home = True  # closed by the app's lifespan, after the upload worker
    return pages_in_turn(app)
