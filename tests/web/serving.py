"""``svidok serve`` run as a person runs it: a subprocess on a free loopback port, with a
signed-in person's cookie, and the processes it started."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from .conftest import HTML, PASSWORD

BOUNDARY = "svidokkilltest"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Server:
    """``svidok serve`` in a subprocess, and a signed-in person's cookie for it."""

    def __init__(self, env: dict[str, str], workers: int) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "svidok", "serve", "--port", str(self.port),
             "--workers", str(workers)],
            env={**env, "SVIDOK_UPLOAD_ENRICH": "false", "SVIDOK_INGEST_GROUP_FILES": "4"},
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(self.url + "/sign-in", timeout=1)
                break
            except httpx.TransportError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the server did not start: "
                                       + (self.proc.stderr.read() if self.proc.stderr
                                          else b"").decode()) from None
                time.sleep(0.1)
        self.cookie, self.csrf = self._sign_in("taras")

    def _sign_in(self, name: str) -> tuple[str, str]:
        # The session cookie is Secure on loopback, which httpx keeps to https: by hand.
        page = httpx.get(self.url + "/sign-in", headers=HTML)
        pre = page.cookies["svidok_csrf"]
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token is not None
        answer = httpx.post(self.url + "/sign-in", headers={**HTML,
                            "cookie": f"svidok_csrf={pre}"},
                            data={"name": name, "password": PASSWORD, "code": "", "next": "/",
                                  "csrf_token": token.group(1)})
        session = answer.cookies.get("svidok_session")
        assert answer.status_code == 303 and session, answer.text
        cookie = f"svidok_session={session}; svidok_csrf={pre}"
        upload = httpx.get(self.url + "/upload", headers={**HTML, "cookie": cookie})
        csrf = re.search(r'data-csrf-token="([^"]+)"', upload.text)
        assert csrf is not None, upload.text
        return cookie, csrf.group(1)

    def headers(self) -> dict[str, str]:
        return {"cookie": self.cookie, "x-csrf-token": self.csrf,
                "accept": "application/json",
                "content-type": f"multipart/form-data; boundary={BOUNDARY}"}

    def kill_one(self, pid: int) -> None:
        """SIGKILL to one of the server's processes."""
        assert pid in workers(self.proc.pid)
        os.kill(pid, signal.SIGKILL)

    def kill(self) -> None:
        """SIGKILL to ``svidok serve`` (the supervisor, when there are workers); returns
        once no process of the server runs. Fails if a worker outlives its supervisor."""
        started = children(self.proc.pid)
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)
        deadline = time.monotonic() + 10
        while running := [pid for pid in started if still_running(pid)]:
            assert time.monotonic() < deadline, f"workers outlived the supervisor: {running}"
            time.sleep(0.02)
        with socket.socket() as sock:  # nobody is left listening
            assert sock.connect_ex(("127.0.0.1", self.port)) != 0


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def workers(pid: int) -> list[int]:
    """The server processes under ``svidok serve`` pid: its spawned interpreters, not
    multiprocessing's resource tracker."""
    found = []
    for child in children(pid):
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes()
        except FileNotFoundError:
            continue
        if b"spawn_main" in command and b"resource_tracker" not in command:
            found.append(child)
    return found


def still_running(pid: int) -> bool:
    """Neither gone nor a zombie waiting to be reaped by whoever adopted it."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"
