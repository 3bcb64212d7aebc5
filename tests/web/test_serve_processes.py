"""``svidok serve --workers N``: several processes on one port, spread evenly, stopped
together, replaced when one stops, refused when the port is taken."""

from __future__ import annotations

import errno
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from svidok.access import add_user
from svidok.home import Home
from svidok.web.supervisor import STEADY_AFTER, listening_sockets

from .conftest import HTML, PASSWORD
from .serving import Server, free_port, still_running, workers


@pytest.fixture
def two_processes(home: Home, env: dict[str, str]) -> Iterator[Server]:
    add_user(home.engine, "taras", "documenter", PASSWORD)
    running = Server(env, workers=2)
    try:
        yield running
    finally:
        if running.proc.poll() is None:
            running.kill()


def wait_for(condition: object, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "waited too long"
        time.sleep(0.05)


def test_connections_are_spread_over_the_processes_sockets() -> None:
    # Twenty browsers connecting at once all went to one process when the processes
    # shared one socket; with a socket each, the kernel spreads them.
    port = free_port()
    sockets = listening_sockets("127.0.0.1", port, 2)
    clients = []
    try:
        for _ in range(40):
            clients.append(socket.create_connection(("127.0.0.1", port)))
        accepted = []
        for sock in sockets:
            sock.setblocking(False)
            count = 0
            while True:
                try:
                    conn, _ = sock.accept()
                except BlockingIOError:
                    break
                conn.close()
                count += 1
            accepted.append(count)
        assert sum(accepted) == 40
        assert min(accepted) > 0, accepted
    finally:
        for sock in sockets + clients:
            sock.close()


def test_a_port_in_use_is_refused_even_to_a_second_svidok() -> None:
    port = free_port()
    first = listening_sockets("127.0.0.1", port, 2)
    try:
        with pytest.raises(OSError) as refused:
            listening_sockets("127.0.0.1", port, 2)  # a second server would share the port
        assert refused.value.errno == errno.EADDRINUSE
    finally:
        for sock in first:
            sock.close()
    with socket.socket() as other:  # anything else listening there
        other.bind(("127.0.0.1", port))
        other.listen(1)
        with pytest.raises(OSError):
            listening_sockets("127.0.0.1", port, 2)


def test_serve_on_a_taken_port_says_so(home: Home, env: dict[str, str]) -> None:
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen(1)
        port = other.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "svidok", "serve", "--port", str(port),
                               "--workers", "2"], env=env, capture_output=True, text=True,
                              timeout=60)
    assert done.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr


def test_two_processes_serve_and_ctrl_c_stops_them_all(two_processes: Server) -> None:
    running = workers(two_processes.proc.pid)
    assert len(running) == 2, running
    page = httpx.get(two_processes.url + "/", headers={**HTML, "cookie": two_processes.cookie})
    assert page.status_code == 200
    two_processes.proc.send_signal(signal.SIGINT)
    assert two_processes.proc.wait(timeout=60) == 0
    wait_for(lambda: not any(still_running(pid) for pid in running))


def test_a_process_that_stops_is_replaced(two_processes: Server) -> None:
    (victim, other) = workers(two_processes.proc.pid)
    time.sleep(STEADY_AFTER + 0.5)  # it ran long enough for a restart to be worth it
    two_processes.kill_one(victim)
    wait_for(lambda: len(workers(two_processes.proc.pid)) == 2 and
             victim not in workers(two_processes.proc.pid))
    assert other in workers(two_processes.proc.pid)
    for _ in range(10):  # whichever socket a connection lands on, it is answered
        answer = httpx.get(two_processes.url + "/sign-in", headers=HTML)
        assert answer.status_code == 200


def test_a_process_that_stops_at_once_stops_the_server(two_processes: Server) -> None:
    # It would fail again (a data folder that cannot be opened, say): no restart loop.
    victim = workers(two_processes.proc.pid)[0]
    two_processes.kill_one(victim)
    assert two_processes.proc.wait(timeout=60) == 1
    assert two_processes.proc.stderr is not None
    assert "the server stopped" in two_processes.proc.stderr.read().decode()
