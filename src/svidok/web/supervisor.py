"""``svidok serve --workers N``: N server processes, each with a listening socket of its own.

Why not one socket shared by all, as uvicorn's own supervisor does: whichever process
wakes first accepts every connection waiting, so twenty browsers connecting at once all
landed on one process while the other idled (bench/web_app.py, docs/benchmarks.md). With
SO_REUSEPORT every process listens on the port with its own socket and the kernel spreads
new connections over them.

Before that, the port is taken once without SO_REUSEPORT, so that a second ``svidok serve``
on the same port (perhaps for another data folder) is refused instead of silently sharing
the traffic. A process that stops is started again; one that stops within
:data:`STEADY_AFTER` seconds of its start (the data folder cannot be opened, say) stops the
whole server with a non-zero exit, since it would fail again. Ctrl-C or SIGTERM stops the
processes as uvicorn stops (answers in progress finish) and waits for them.

A process must not outlive its supervisor: killed with SIGKILL, the supervisor cannot stop
them, and they would keep the port and go on serving. So each asks the kernel to kill it
the moment its parent dies (Linux's PR_SET_PDEATHSIG): ``kill -9`` of the server stops all
of it at once, as with one process, and what was being written is left as a crash leaves
it (which loses nothing; the next start marks an interrupted upload).
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import signal
import socket
import threading
import time
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
STEADY_AFTER = 10.0  # seconds a process must have run for a restart to be worth it
PR_SET_PDEATHSIG = 1


class ServeError(Exception):
    """The server could not start or keep running; the message says why."""


def listening_sockets(host: str, port: int, count: int) -> list[socket.socket]:
    """``count`` sockets listening on host:port with SO_REUSEPORT. Raises OSError (the
    address is in use, not available) as a plain bind would."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:  # in use by anyone: refused
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))
        probe.listen(1)
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(family, socket.SOCK_STREAM)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind((host, port))
            sock.listen(2048)
            sock.set_inheritable(True)
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def die_with_supervisor(supervisor: int) -> None:
    """In a server process: be killed when the supervisor dies (see the module's notes)."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != supervisor:  # it died before the request took effect
        os._exit(1)


def _process_main(sock: socket.socket, folder: Path, supervisor: int,
                  options: dict[str, Any]) -> None:
    """One server process: the data folder opened here, the app served on ``sock``."""
    from svidok.home import open_home
    from svidok.web.served import serve

    die_with_supervisor(supervisor)
    home = open_home(folder)
    try:
        serve(home, options, [sock])
    finally:
        home.dispose()  # after the app's lifespan stopped its upload worker


def supervise(folder: Path, host: str, port: int, count: int, options: dict[str, Any]
              ) -> None:
    """Run ``count`` server processes on the data folder ``folder`` until Ctrl-C or
    SIGTERM. ``options``: uvicorn.Config's keyword arguments. Raises OSError when the
    address cannot be listened on, ServeError when a process keeps failing."""
    sockets = listening_sockets(host, port, count)
    spawn = multiprocessing.get_context("spawn")  # a fresh interpreter: no copied threads
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set())
                for sig in (signal.SIGINT, signal.SIGTERM)}

    def start(sock: socket.socket) -> tuple[BaseProcess, float]:
        process = spawn.Process(target=_process_main,
                                args=(sock, folder, os.getpid(), options),
                                name="svidok-serve", daemon=False)
        process.start()
        return process, time.monotonic()

    running = [start(sock) for sock in sockets]
    failure = None
    try:
        while not stop.wait(0.5):
            for n, (process, started) in enumerate(running):
                if process.is_alive():
                    continue
                if time.monotonic() - started < STEADY_AFTER:
                    failure = (f"a server process stopped {time.monotonic() - started:.0f} s "
                               f"after starting (exit code {process.exitcode}); see the "
                               "messages above")
                    stop.set()
                    break
                log.warning("a server process stopped (exit code %s); starting another",
                            process.exitcode)
                running[n] = start(sockets[n])
    finally:
        for process, _ in running:
            if process.is_alive():
                process.terminate()  # SIGTERM: uvicorn lets answers in progress finish
        for process, _ in running:
            process.join()
        for sock in sockets:
            sock.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if failure is not None:
        raise ServeError(failure)
