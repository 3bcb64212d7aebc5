"""``svidok serve``: the web app on this machine (127.0.0.1 unless told otherwise)."""

from __future__ import annotations

import ipaddress
from typing import Annotated

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
        config = uvicorn.Config(app, host=host, port=port, access_log=False,
                                log_level="warning", server_header=False)
        try:
            uvicorn.Server(config).run()
        except OSError as exc:
            err.print(f"cannot listen on {host}:{port}: {exc.strerror}")
            raise typer.Exit(1) from None
