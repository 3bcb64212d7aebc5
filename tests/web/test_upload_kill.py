"""A real ``svidok serve`` killed with SIGKILL mid-upload leaves no half item: the next
start marks the job interrupted, removes its staging folder, and every stored item has
its original and its capture event. With several server processes (``--workers``), killing
the supervisor kills its workers too: none is left serving or holding the port."""

from __future__ import annotations

import contextlib
import os
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

from .conftest import PASSWORD, sign_in
from .serving import BOUNDARY, Server, workers


@pytest.fixture(params=[1, 2], ids=["one process", "two processes"])
def server(home: Home, env: dict[str, str], request: pytest.FixtureRequest
           ) -> Iterator[Server]:
    add_user(home.engine, "taras", "documenter", PASSWORD)
    running = Server(env, workers=request.param)
    if request.param > 1:
        assert len(workers(running.proc.pid)) == request.param
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
