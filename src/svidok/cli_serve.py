"""``svidok serve``: the web app on this machine (127.0.0.1 unless told otherwise)."""

from __future__ import annotations

import ipaddress
import os
from typing import Annotated, Any

import typer

from svidok.cli_common import EXIT_USAGE, fail, opened
from svidok.output import err, out

DEFAULT_MAX_WORKERS = 4
MAX_WORKERS = 32


def serve_cmd(
    host: Annotated[str, typer.Option(help="Address to listen on. Anything but loopback "
                                           "needs --public: put a TLS proxy in front.")]
    = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
    public: Annotated[bool, typer.Option("--public", help="Allow a non-loopback address.")]
    = False,
    workers: Annotated[int | None, typer.Option(
        min=1, max=MAX_WORKERS, help="Server processes (default: one per CPU core, at most "
                                     f"{DEFAULT_MAX_WORKERS}).")] = None,
) -> None:
    """Serve the web app: dashboard, evidence browser, item pages. Stop with Ctrl-C."""
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback and not public:
        fail(f"{host} is not a loopback address: the app would be reachable from the "
             "network without TLS; add --public if a TLS proxy is in front", code=EXIT_USAGE)
    from svidok.web.served import serve
    from svidok.web.supervisor import ServeError, supervise

    processes = workers or default_workers()
    # uvicorn's access log would write every URL, and URLs carry search words.
    quiet: dict[str, Any] = {"host": host, "port": port, "access_log": False,
                             "log_level": "warning", "server_header": False}
    with opened() as home:
        out.print(f"Svidok is at http://{host}:{port}/ ({processes} "
                  f"{'process' if processes == 1 else 'processes'}; Ctrl-C stops it)")
        try:
            if processes == 1:
                serve(home, quiet)
            else:
                # Each process opens the data folder itself; this one only checked that
                # it opens.
                home.dispose()
                supervise(home.settings.home, host, port, processes, quiet)
        except OSError as exc:
            err.print(f"cannot listen on {host}:{port}: {exc.strerror}")
            raise typer.Exit(1) from None
        except ServeError as exc:
            err.print(f"the server stopped: {exc}")
            raise typer.Exit(1) from None


def default_workers() -> int:
    """One process per core this process may run on, at most DEFAULT_MAX_WORKERS: a page is
    mostly Python, so one process keeps one core busy and not much more."""
    return max(1, min(DEFAULT_MAX_WORKERS, len(os.sched_getaffinity(0))))
