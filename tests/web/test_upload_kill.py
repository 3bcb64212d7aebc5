"""A real ``svidok serve`` killed with SIGKILL mid-upload leaves no half item: the next
start marks the job interrupted, removes its staging folder, and every stored item has
its original and its capture event."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from svidok.access import add_user
from svidok.custody.contexts import check_contexts
from svidok.db.schema import items, originals, upload_jobs
from svidok.home import Home
from svidok.locker.upload_jobs import staging_root
from svidok.web.app import create_app

from .conftest import HTML, PASSWORD, sign_in

BOUNDARY = "svidokkilltest"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Server:
    """``svidok serve`` in a subprocess, and a signed-in person's cookie for it."""

    def __init__(self, env: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "svidok", "serve", "--port", str(self.port)],
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

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)


@pytest.fixture
def server(home: Home, env: dict[str, str]) -> Iterator[Server]:
    add_user(home.engine, "taras", "documenter", PASSWORD)
    running = Server(env)
    try:
        yield running
    finally:
        if running.proc.poll() is None:
            running.kill()


def file_part(name: str, body: bytes) -> bytes:
    return (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"files\"; "
            f"filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            ).encode() + body + b"\r\n"


def nothing_half_written(home: Home) -> None:
    """Every stored item has its original and a capture event committing to its context;
    nothing is left pending or in staging; no job is left unfinished."""
    with home.engine.connect() as conn:
        states = set(conn.scalars(select(items.c.state)))
        _, problems = check_contexts(conn)
        shas = list(conn.scalars(select(originals.c.sha256)))
        jobs = list(conn.execute(select(upload_jobs.c.state, upload_jobs.c.interrupted)))
    assert "pending" not in states
    assert problems == [], problems
    assert all(home.blobs.path_of(sha).is_file() for sha in shas)
    assert all(state in ("done", "failed") for state, _ in jobs), jobs
    root = staging_root(home)
    assert not root.exists() or not any(root.iterdir())


def restart(home: Home) -> None:
    """A new app on the data folder, as the next 'svidok serve' would be."""
    with TestClient(create_app(home), follow_redirects=False) as client:
        sign_in(client, "taras")


def test_a_server_killed_while_receiving_keeps_nothing_of_the_upload(
        server: Server, home: Home) -> None:
    stop = threading.Event()

    def slowly() -> Iterator[bytes]:
        yield f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nx\r\n" \
            .encode()
        yield file_part("video.mp4", b"")[:-2]  # the part's head; its bytes follow
        while not stop.is_set():
            yield os.urandom(64 * 1024)
            time.sleep(0.02)

    def send() -> None:
        # The server is killed under it: what the test is about.
        with contextlib.suppress(httpx.HTTPError):
            httpx.post(server.url + "/upload", headers=server.headers(), content=slowly(),
                       timeout=60)

    sender = threading.Thread(target=send)
    sender.start()
    staged = staging_root(home)
    deadline = time.monotonic() + 30
    while not any(p.stat().st_size > 256 * 1024 for p in staged.rglob("video.mp4")):
        assert time.monotonic() < deadline, "the upload never reached the staging folder"
        time.sleep(0.02)
    server.kill()
    stop.set()
    sender.join(timeout=30)

    restart(home)
    with home.engine.connect() as conn:
        (job,) = conn.execute(select(upload_jobs)).all()
        assert conn.execute(select(items)).first() is None
    assert job.state == "failed" and job.interrupted and "stopped" in job.message
    nothing_half_written(home)


def test_a_server_killed_while_storing_leaves_no_half_item(server: Server,
                                                           home: Home) -> None:
    body = b"".join(file_part(f"photo-{n:03d}.bin", os.urandom(20_000 + n))
                    for n in range(400)) + f"--{BOUNDARY}--\r\n".encode()
    answer = httpx.post(server.url + "/upload", headers=server.headers(), content=body,
                        timeout=60)
    assert answer.status_code == 202, answer.text
    deadline = time.monotonic() + 30
    while True:  # kill once storing has begun (or, on a fast machine, when it is over)
        with home.engine.connect() as conn:
            state, phase, done = conn.execute(select(
                upload_jobs.c.state, upload_jobs.c.phase, upload_jobs.c.done)).one()
        if (state == "running" and phase == "storing" and done) or state == "done":
            break
        assert time.monotonic() < deadline, (state, phase)
        time.sleep(0.005)
    server.kill()

    restart(home)
    nothing_half_written(home)
    with home.engine.connect() as conn:
        stored = len(conn.execute(select(items.c.id).where(items.c.state == "stored")).all())
        job = conn.execute(select(upload_jobs)).one()
    if job.state == "failed":
        assert job.interrupted and stored < 400
    else:
        assert stored == 400
