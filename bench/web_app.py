"""Web app benchmark: the search page and item pages under 20 concurrent clients.

    .venv/bin/python bench/web_app.py            # 1,000,000 items, 2,000 requests per kind
    .venv/bin/python bench/web_app.py --quick    # 100,000 items, 1,000 requests per kind
    .venv/bin/python bench/web_app.py --check    # 5,000 items, 100 requests per kind
    .venv/bin/python bench/web_app.py --items N --requests N --clients N
    .venv/bin/python bench/web_app.py --home DIR # any SQLite data folder (ids 1..N)

(Not bench/web.py: mypy would take it for the package tests/web.)

The data folder (bench/web_corpus.py: an enriched archive of N items with its search
index, kept under bench/out/web/ and reused) is served by ``svidok serve`` itself, run as
a subprocess on 127.0.0.1 and a free port: the same code, the same uvicorn settings.
A viewer's session is made through svidok.access and its cookie sent with every request,
as a browser signed in would.

Then 20 clients, each with one kept-alive HTTP/1.1 connection (httpx), ask one after
another, with no pause, for a shuffled mix of three kinds of request, the same number of
each:

    search page   /search?q=<two words>   two words of four or more letters from the text
                                          of a random item, as bench/search.py draws them
    item page     /items/<random id>      any item: messages, photos, videos, exports...
    static file   /static/app.css         the baseline: the same server, the same run

so every request waits behind whatever the other 19 asked for, as on a busy server. A few
requests per client go first, unmeasured, to warm up; the database file is read once
before the server starts, so it is in the page cache as on a server that has been running.
Each request is timed from sending it to having read the whole answer.

Targets: search page and item page p95 under 150 ms. Any answer but 200 fails the run.
Exit status 1 if a target is missed (not with ``--check``). Figures go to the terminal and
to bench/out/web_results.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import secrets
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import web_corpus
from targets import Row, common_options, finish, ratio

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
OUT = BENCH / "out"
SEED = 20241207
TARGET_MS = 150.0
KINDS = ("search page", "item page", "static file")
WARM_UP = 5  # requests of each kind per client before measuring
USER = "bench-viewer"
SERVE_COMMAND: list[str] | None = None  # svidok serve; another for trying settings out


@dataclass(frozen=True, slots=True)
class Request:
    kind: str
    path: str


@dataclass(frozen=True, slots=True)
class Answer:
    kind: str
    ms: float
    status: int
    size: int


# -- what to ask for ---------------------------------------------------------------------


def draw_requests(database: Path, count: int, per_kind: int, rng: random.Random
                  ) -> list[Request]:
    """``per_kind`` requests of each kind, shuffled."""
    words_of: list[list[str]] = []
    db = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        while len(words_of) < per_kind:
            row = db.execute("SELECT content FROM artifacts WHERE item_id = ? AND role = 'text'",
                             (rng.randint(1, count),)).fetchone()
            if row is None:
                continue  # an item with no text: a photo, an export, a chat
            words = [w.strip(".,") for w in str(row[0]).split()]
            words = [w for w in words if len(w) >= 4 and w.isalpha()]
            if len(words) >= 2:
                words_of.append(words)
    finally:
        db.close()
    asked = [Request("search page", "/search?" + urlencode({"q": " ".join(rng.sample(w, 2))}))
             for w in words_of]
    asked += [Request("item page", f"/items/{rng.randint(1, count)}")
              for _ in range(per_kind)]
    asked += [Request("static file", "/static/app.css") for _ in range(per_kind)]
    rng.shuffle(asked)
    return asked


# -- the server --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def sign_in(folder: Path) -> tuple[str, str]:
    """A viewer's session, made as the sign-in page makes one: (token, session id)."""
    from svidok.access import add_user, create_session, get_user
    from svidok.home import open_home

    home = open_home(folder)
    try:
        user = get_user(home.engine, USER)
        if user is None:  # a password of its own: a one-time one would confine it to
            # the page that changes it (nobody signs in with it: the session is made here)
            user, _ = add_user(home.engine, USER, "viewer", secrets.token_urlsafe(24))
        token, session = create_session(home.engine, user.id)
        return token, session.id
    finally:
        home.dispose()


def sign_out(folder: Path, session_id: str) -> None:
    from svidok.access import revoke_session
    from svidok.home import open_home

    home = open_home(folder)
    try:
        revoke_session(home.engine, session_id)
    finally:
        home.dispose()


def warm(path: Path) -> float:
    """Read a file once, so it is in the page cache; seconds taken."""
    began = time.perf_counter()
    with open(path, "rb", buffering=0) as fh:
        buffer = bytearray(1 << 20)
        while fh.readinto(buffer):
            pass
    return time.perf_counter() - began


class Server:
    """``svidok serve`` on a free loopback port, as a subprocess."""

    def __init__(self, folder: Path, log: Path, command: list[str] | None = None,
                 workers: int | None = None) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log
        with open(log, "wb") as out:
            self.process = subprocess.Popen(
                [*command, str(folder), str(self.port)] if command else
                [str(REPO / ".venv" / "bin" / "svidok"), "--home", str(folder), "serve",
                 "--port", str(self.port),
                 *(["--workers", str(workers)] if workers else [])],
                stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while True:
            if self.process.poll() is not None:
                raise SystemExit(f"svidok serve stopped (exit {self.process.returncode}):\n"
                                 + self.tail())
            try:
                if httpx.get(self.base + "/static/app.css", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise SystemExit("svidok serve did not answer within 120 s:\n" + self.tail())
            time.sleep(0.2)

    def tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-20:])

    def processes(self) -> list[int]:
        """The server and its children (uvicorn's workers, if it has any)."""
        found = [self.process.pid]
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, IndexError, ValueError):
                if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == self.process.pid:
                    found.append(int(stat.parent.name))
        return found

    def workers(self) -> int:
        """Server processes under svidok serve's supervisor (spawned interpreters; not
        multiprocessing's helper processes)."""
        count = 0
        for pid in self.processes()[1:]:
            with contextlib.suppress(OSError):
                command = Path(f"/proc/{pid}/cmdline").read_bytes()
                count += b"spawn_main" in command and b"resource_tracker" not in command
        return count

    def cpu_seconds(self) -> float:
        total = 0
        for pid in self.processes():
            with contextlib.suppress(OSError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])
        return total / os.sysconf("SC_CLK_TCK")

    def peak_rss_mib(self) -> float:
        """The largest peak of the server's processes."""
        peak = 0
        for pid in self.processes():
            with contextlib.suppress(OSError):
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        peak = max(peak, int(line.split()[1]))
        return peak / 1024

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # as Ctrl-C: uvicorn shuts down
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


# -- the clients -------------------------------------------------------------------------


async def client(base: str, headers: dict[str, str], warm_up: list[Request],
                 asked: list[Request], answers: list[Answer]) -> None:
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits,
                                 timeout=120, follow_redirects=False) as http:
        for request in warm_up:
            with contextlib.suppress(httpx.TransportError):  # counted when measuring
                await http.get(request.path)
        for request in asked:
            began = time.perf_counter()
            try:
                response = await http.get(request.path)
                status, size = response.status_code, len(response.content)
            except httpx.TransportError:  # the server closed the connection: an error
                status, size = 0, 0  # (the next request opens a new one)
            ms = (time.perf_counter() - began) * 1000
            answers.append(Answer(request.kind, ms, status, size))


async def drive(base: str, headers: dict[str, str], warm_ups: list[list[Request]],
                plans: list[list[Request]]) -> tuple[list[Answer], float]:
    answers: list[Answer] = []
    # Every client warms up first; the clock starts when the last one has.
    warmed = [asyncio.create_task(client(base, headers, w, [], [])) for w in warm_ups]
    await asyncio.gather(*warmed)
    began = time.perf_counter()
    await asyncio.gather(*(client(base, headers, [], plan, answers) for plan in plans))
    return answers, time.perf_counter() - began


# -- figures -----------------------------------------------------------------------------


def percentiles(values: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {"p50": cuts[49], "p95": cuts[94], "p99": cuts[98], "max": max(values),
            "mean": statistics.fmean(values)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, help="items (1,000,000; --quick 100,000; "
                                                  "--check 5,000)")
    parser.add_argument("--requests", type=int, help="requests of each kind (2,000; "
                                                     "--quick 1,000; --check 100)")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--workers", type=int, help="server processes (svidok serve's "
                                                    "default: one per core, at most 4)")
    parser.add_argument("--home", type=Path, help="measure this data folder (SQLite) instead "
                                                  "of the generated one")
    common_options(parser, postgres=False)
    args = parser.parse_args(argv)
    count = args.items or (5_000 if args.check else 100_000 if args.quick else 1_000_000)
    per_kind = args.requests or (100 if args.check else 1_000 if args.quick else 2_000)
    clients = args.clients
    began = time.perf_counter()

    if args.home:
        folder = args.home
        database = folder / "svidok.sqlite3"
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
            count = int(db.execute("SELECT max(id) FROM items").fetchone()[0])
        manifest: dict[str, Any] = {"items": count, "db_mb": database.stat().st_size / 1e6,
                                    "folder": str(folder)}
    else:
        folder, manifest, built = web_corpus.ensure(count)
        print(("built" if built else "reusing") + f" {folder} ({manifest['db_mb']:,.0f} MB "
              f"database, {manifest['blobs']:,} blobs; built in {manifest['build_s']:,.0f} s)",
              file=sys.stderr)
        database = folder / "svidok.sqlite3"
    rng = random.Random(SEED)
    asked = draw_requests(database, count, per_kind, rng)
    warm_ups = [draw_requests(database, count, WARM_UP, rng) for _ in range(clients)]
    plans = [asked[n::clients] for n in range(clients)]
    warm_s = warm(database)
    load_before = os.getloadavg()[0]

    token, session_id = sign_in(folder)
    headers = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8",
               # The pre-session CSRF cookie too, as a browser that has been here has it.
               "Cookie": f"svidok_session={token}; svidok_csrf=bench-{session_id[:16]}",
               "User-Agent": "svidok-bench-web"}
    server = Server(folder, OUT / "web" / "server.log", SERVE_COMMAND, args.workers)
    try:
        cpu_before = server.cpu_seconds()
        client_before = time.process_time()
        answers, wall = asyncio.run(drive(server.base, headers, warm_ups, plans))
        server_cpu = server.cpu_seconds() - cpu_before
        processes = server.workers() or 1  # under a supervisor, or the one process
        # Warm-up included: the clients' share of the two cores, roughly.
        client_cpu = time.process_time() - client_before
        peak_mib = server.peak_rss_mib()
        load_after = os.getloadavg()[0]
    finally:
        server.stop()
        sign_out(folder, session_id)

    failures = Counter((a.kind, a.status) for a in answers if a.status != 200)
    figures: dict[str, dict[str, float]] = {}
    for kind in KINDS:
        mine = [a for a in answers if a.kind == kind]
        figures[kind] = percentiles([a.ms for a in mine]) | {
            "requests": len(mine), "mean_bytes": statistics.fmean(a.size for a in mine)}
    total = len(answers)
    rate = total / wall
    base = figures["static file"]
    print(f"{count:,} items; {clients} clients, {total:,} requests in {wall:.1f} s: "
          f"{rate:,.0f} requests/s; {processes} server "
          f"process{'es' if processes > 1 else ''}; server CPU "
          f"{server_cpu / total * 1000:.1f} ms a request "
          f"({server_cpu / wall:.2f} of {os.cpu_count()} cores; the clients "
          f"{client_cpu / wall:.2f}), peak RSS {peak_mib:,.0f} MiB; "
          f"database {manifest['db_mb']:,.0f} MB read into the page cache in {warm_s:.1f} s; "
          f"load average {load_before:.1f} before, {load_after:.1f} after")
    if load_before > 1.5:
        print(f"  (the machine was busy before the run: load {load_before:.1f} on "
              f"{os.cpu_count()} CPUs; latencies are longer than on an idle machine)")
    for kind in KINDS:
        f = figures[kind]
        print(f"  {kind}: p50 {f['p50']:.1f} ms, p95 {f['p95']:.1f}, p99 {f['p99']:.1f}, "
              f"max {f['max']:.1f}; {f['mean_bytes'] / 1024:,.1f} KiB an answer")
    rows: list[Row] = []
    baseline = f"static file p95: {base['p95']:.1f} ms"
    for kind in ("search page", "item page"):
        f = figures[kind]
        rows.append(Row(f"{kind} p95, {count:,} items, {clients} clients",
                        f"< {TARGET_MS:g} ms", f"{f['p95']:.1f} ms (p50 {f['p50']:.1f}, "
                        f"p99 {f['p99']:.1f})", baseline, ratio(f["p95"], base["p95"]),
                        f["p95"] < TARGET_MS))
    rows.append(Row(f"static file p95 (the baseline), {clients} clients", "—",
                    f"{base['p95']:.1f} ms (p50 {base['p50']:.1f}, p99 {base['p99']:.1f})",
                    "—", "—", None))
    rows.append(Row("throughput, all kinds together", "—", f"{rate:,.0f} requests/s",
                    "—", "—", None))
    rows.append(Row("answers other than 200", "none",
                    ", ".join(f"{n} × {status or 'no answer'} ({kind})"
                              for (kind, status), n in sorted(failures.items())) or "none",
                    "—", "—", not failures))

    OUT.mkdir(exist_ok=True)
    (OUT / "web_results.json").write_text(json.dumps({
        "items": count, "clients": clients, "requests_per_kind": per_kind,
        "server_processes": processes,
        "wall_s": round(wall, 2), "requests_per_s": round(rate, 1),
        "server_cpu_s": round(server_cpu, 2), "client_cpu_s": round(client_cpu, 2),
        "server_peak_rss_mib": round(peak_mib, 1),
        "load_average": [round(load_before, 2), round(load_after, 2)],
        "figures_ms": {k: {n: round(v, 2) for n, v in f.items()} for k, f in figures.items()},
        "non_200": {f"{kind} {status}": n for (kind, status), n in failures.items()},
        "corpus": manifest, "machine": {"cpus": os.cpu_count(), "python":
                                        platform.python_version(),
                                        "sqlite": sqlite3.sqlite_version},
        "whole_run_s": round(time.perf_counter() - began, 1)}, indent=1), encoding="utf-8")
    print(f"(whole run {time.perf_counter() - began:.0f} s)")
    status = finish(
        "Web app", rows, check=args.check,
        caption=f"{clients} clients on loopback, each on one kept-alive connection, asking "
                f"with no pause for a shuffled mix: {per_kind:,} search pages (two words), "
                f"{per_kind:,} item pages (random ids), {per_kind:,} × /static/app.css. "
                "Ratio: measured ÷ baseline.",
        size_note=None if count >= 1_000_000 or args.check else
        f"{count:,} items: fewer than the 1,000,000 the targets are set for.")
    # An answer other than 200 means the pages were not what was measured: fails even --check.
    return 1 if failures else status


if __name__ == "__main__":
    sys.exit(main())
