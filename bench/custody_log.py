"""Custody-log benchmark behind ``make bench``: appends, proofs and full verification.

Cases (``--quick`` shrinks each so a smoke run takes well under a minute):

    (baseline) hashlib SHA-256 of 0x00 + record over the same encoded records: leaves/s,
               the yardstick every other rate is divided by
    (append)   200,000 events appended with ``append()``, one transaction per batch of
               256, 1,000 and 10,000 events, on SQLite and PostgreSQL
               target: >= 100,000 leaves/s on SQLite at 10,000 events per transaction
    (proofs)   trees of 1 million and 10 million leaves (100,000 and 1 million with
               --quick): 1,000 inclusion proofs made from the stored tiles and verified
               target: median < 2 ms for making one, and < 2 ms for verifying one
               (p99 shown; the build rate and consistency proofs are reported, no target)
    (verify)   ``verify_log`` over a log of 1,000,000 events (50,000 with --quick)
               checkpointed every 50,000 events
               target: >= 500,000 leaves/s on SQLite; PostgreSQL reported

Everything runs in this process, against real data folders made with ``init_home``: SQLite
in WAL mode with synchronous=FULL (what every user gets), PostgreSQL in a throwaway
schema. Events are built before the clock starts; encoding them is part of the append,
as it is in Svidok. Each timed measurement runs three times and the best run is reported,
except building the proof trees (once). Figures go to a table on the terminal and to
``bench/out/custody.json``; docs/benchmarks.md says what each one means.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import math
import os
import platform
import random
import secrets
import shutil
import sqlite3
import ssl
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy
from rich.console import Console
from rich.table import Table
from rich.text import Text
from sqlalchemy import Connection, create_engine, func, select, text
from sqlalchemy.exc import SQLAlchemyError

from pg import postgres_schema
from svidok.custody import verify_consistency, verify_inclusion
from svidok.custody.audit import verify_log
from svidok.custody.checkpoints import checkpoint
from svidok.custody.events import Actor, CustodyEvent, append
from svidok.custody.log import signer, verifier
from svidok.custody.tree import Tree
from svidok.db import DatabaseError
from svidok.db.schema import custody_events
from svidok.home import Home, HomeError, init_home

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
DEFAULT_WORKDIR = BENCH_DIR / "out"
DEFAULT_RESULTS = DEFAULT_WORKDIR / "custody.json"
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
INSTANCE = "bench.example"
MIB = 1024 * 1024

APPEND_PER_S = 100_000  # SQLite, at the largest batch
APPEND_BATCHES = (256, 1_000, 10_000)
PROOF_MS = 2.0  # median, making one proof and verifying one, each
VERIFY_PER_S = 500_000  # SQLite
REPEAT = 3
# Verification is the noisiest figure on a shared VM (±15% run to run): five runs.
VERIFY_REPEAT = 5
PROOFS = 1_000
VERIFY_BATCH = 10_000
CHECKPOINT_EVERY = 50_000
TREE_CHUNK = 1_000_000  # leaves per transaction when building a proof tree
GROUP = 256  # events sharing one time, as in an ingest group
# A stored leaf costs about 34 bytes of SQLite file, an event with its leaf about 400;
# the WAL holds one transaction on top. Room is checked before each case.
TREE_BYTES_PER_LEAF = 48
LOG_BYTES_PER_EVENT = 600
SPACE_MARGIN = 512 * MIB

# Piped into a log, rich would fold the table into 80 columns and make it unreadable.
console = Console(highlight=False, width=None if sys.stdout.isatty() else 160)


class BenchError(Exception):
    """Something under test gave a wrong result, so its figures would mean nothing."""


# -- results ---------------------------------------------------------------------------


@dataclass
class Target:
    what: str
    # None: reported for information, not a target of the issue.
    met: bool | None = None


@dataclass
class Figure:
    case: str
    run: str
    backend: str | None
    # Wall time of the reported run (the best of ``runs``).
    seconds: float
    runs: int
    leaves: int
    rate: float | None = None  # leaves/s
    median_ms: float | None = None
    p99_ms: float | None = None
    ratio_to_baseline: float | None = None
    target: Target = field(default_factory=lambda: Target("reported"))
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Options:
    quick: bool
    skip_postgres: bool
    keep: bool
    postgres_url: str
    workdir: Path
    seed: int
    append_events: int
    tree_sizes: tuple[int, ...]
    verify_events: int


# -- helpers ---------------------------------------------------------------------------


def settle() -> None:
    """Write back dirty pages now, so no timed phase pays for an earlier one's writes."""
    os.sync()


def quiet() -> None:
    """Collect garbage left by the previous phase before the clock starts."""
    gc.collect()


def human(n: int) -> str:
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n >= 1_000 and n % 1_000 == 0:
        return f"{n // 1_000}k"
    return f"{n:,}"


def p99(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)]


def free_bytes(path: Path) -> int:
    stats = os.statvfs(path)
    return stats.f_bavail * stats.f_frsize


def space_problem(path: Path, need: int) -> str | None:
    free = free_bytes(path)
    if free < need + SPACE_MARGIN:
        return (f"needs {(need + SPACE_MARGIN) / MIB:,.0f} MiB free in {path}, "
                f"only {free / MIB:,.0f} MiB available")
    return None


def written_bytes() -> int | None:
    """Bytes this process has had written to storage (Linux): SQLite's WAL and
    checkpoints, not PostgreSQL's writes, which its server makes."""
    try:
        with open("/proc/self/io", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("write_bytes:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


CAPTURE = Actor("svidok.locker.ingest")
ANALYST = Actor("svidok.cli", user="analyst-07")
EPOCH = datetime(2026, 11, 1, tzinfo=UTC)


def make_events(start: int, count: int) -> list[CustodyEvent]:
    """Events ``start`` to ``start + count``: three captures to one opening, each naming
    an original of its own, like what an ingest and a review of the evidence log."""
    out = []
    for i in range(start, start + count):
        sha = hashlib.sha256(b"svidok bench original %d" % i).hexdigest()
        moment = EPOCH + timedelta(seconds=i // GROUP)
        if i % 4 == 3:
            out.append(CustodyEvent("open", ANALYST, moment, sha,
                                    purpose="review for case file", details={"item": i}))
        else:
            out.append(CustodyEvent("capture", CAPTURE, moment, sha, purpose="intake",
                                    details={"item": i}))
    return out


def tree_leaves(start: int, count: int) -> list[bytes]:
    """Leaf hashes of synthetic 8-byte records: the tree never looks at records."""
    sha256 = hashlib.sha256
    return [sha256(b"\x00" + i.to_bytes(8, "big")).digest()
            for i in range(start, start + count)]


@contextmanager
def database_env(url: str | None) -> Iterator[None]:
    """SVIDOK_DATABASE_URL for the data folders made inside, as a user would set it."""
    before = os.environ.pop("SVIDOK_DATABASE_URL", None)
    if url:
        os.environ["SVIDOK_DATABASE_URL"] = url
    try:
        yield
    finally:
        os.environ.pop("SVIDOK_DATABASE_URL", None)
        if before is not None:
            os.environ["SVIDOK_DATABASE_URL"] = before


C = TypeVar("C")

def timed_proofs(home: Home, cases: Sequence[C], make: Callable[[Connection, C], list[bytes]],
                 check: Callable[[C, list[bytes]], None]
                 ) -> list[tuple[list[float], list[float]]]:
    """REPEAT rounds over ``cases``: the seconds to make each proof (a fresh Tree each time,
    so no tile cached by one proof helps the next) and to verify it."""
    rounds: list[tuple[list[float], list[float]]] = []
    for _ in range(REPEAT):
        made: list[float] = []
        checked: list[float] = []
        quiet()
        with home.engine.connect() as conn:
            for case in cases:
                t0 = time.perf_counter()
                proof = make(conn, case)
                t1 = time.perf_counter()
                check(case, proof)
                t2 = time.perf_counter()
                made.append(t1 - t0)
                checked.append(t2 - t1)
        rounds.append((made, checked))
    return rounds


# -- the benchmark ---------------------------------------------------------------------


class Bench:
    def __init__(self, opts: Options) -> None:
        self.opts = opts
        self.scratch = opts.workdir / "custody"
        self.figures: list[Figure] = []
        self.notes: list[str] = []
        self.baseline_rate = 0.0
        self.kept: list[Path] = []

    # -- data folders ---------------------------------------------------------------

    @contextmanager
    def data_folder(self, name: str, backend: str, *,
                    keep: bool = False) -> Iterator[Home]:
        """A new data folder under the scratch folder, on SQLite or in a fresh schema."""
        path = self.scratch / f"{name}-{secrets.token_hex(4)}"
        with self._database(backend) as url, database_env(url):
            home, _ = init_home(path, INSTANCE)
            try:
                yield home
            finally:
                home.dispose()
                if keep and self.opts.keep and backend == "SQLite":
                    self.kept.append(path)
                else:
                    shutil.rmtree(path, ignore_errors=True)

    @contextmanager
    def _database(self, backend: str) -> Iterator[str | None]:
        if backend == "SQLite":
            yield None
            return
        with postgres_schema(self.opts.postgres_url) as url:
            yield url

    def backends(self) -> list[str]:
        return ["SQLite"] if self.opts.skip_postgres else ["SQLite", "PostgreSQL"]

    def add(self, figure: Figure) -> Figure:
        if figure.rate is not None and self.baseline_rate:
            figure.ratio_to_baseline = figure.rate / self.baseline_rate
        self.figures.append(figure)
        return figure

    # -- (baseline) -----------------------------------------------------------------

    def baseline(self, records: list[bytes]) -> None:
        sha256 = hashlib.sha256
        best = math.inf
        for _ in range(REPEAT):
            quiet()
            started = time.perf_counter()
            digests = [sha256(b"\x00" + r).digest() for r in records]
            best = min(best, time.perf_counter() - started)
            del digests
        self.baseline_rate = len(records) / best
        self.add(Figure("baseline", "hashlib: sha256(0x00 + record)", None, best, REPEAT,
                        len(records), rate=self.baseline_rate,
                        target=Target("the yardstick"),
                        details={"record_bytes_mean": sum(map(len, records)) / len(records)}))

    def encoding(self, events: list[CustodyEvent]) -> None:
        best = math.inf
        for _ in range(REPEAT):
            quiet()
            started = time.perf_counter()
            records = [e.record() for e in events]
            best = min(best, time.perf_counter() - started)
            del records
        self.add(Figure("append", "encoding only: event.record()", None, best,
                        REPEAT, len(events), rate=len(events) / best,
                        target=Target("reported")))

    # -- (append) -------------------------------------------------------------------

    def append_case(self, events: list[CustodyEvent], backend: str) -> None:
        for batch in APPEND_BATCHES:
            console.print(f"  append on {backend}, {batch:,} events per transaction ...")
            best = math.inf
            written: float | None = None
            for rep in range(REPEAT):
                with self.data_folder(f"append-{backend.lower()}-{batch}-{rep}",
                                      backend) as home:
                    settle()
                    quiet()
                    before = written_bytes()
                    started = time.perf_counter()
                    for i in range(0, len(events), batch):
                        with home.engine.begin() as conn:
                            append(conn, events[i:i + batch])
                    seconds = time.perf_counter() - started
                    after = written_bytes()
                    if seconds < best:
                        best = seconds
                        if before is not None and after is not None and backend == "SQLite":
                            written = (after - before) / len(events)
                    self._check_size(home, len(events))
            rate = len(events) / best
            if backend == "SQLite" and batch == max(APPEND_BATCHES):
                target = Target(f"≥ {APPEND_PER_S:,} leaves/s", rate >= APPEND_PER_S)
            else:
                target = Target("reported")
            self.add(Figure("append", f"{batch:,} events per commit", backend, best,
                            REPEAT, len(events), rate=rate, target=target,
                            details={"batch": batch,
                                     "transactions": math.ceil(len(events) / batch),
                                     "written_bytes_per_event": written}))

    def _check_size(self, home: Home, expected: int) -> None:
        with home.engine.connect() as conn:
            size, _ = Tree(conn).head()
            rows = conn.execute(select(func.count()).select_from(custody_events)).scalar_one()
        if size != expected or rows != expected:
            raise BenchError(f"the log holds {size} leaves and {rows} events, "
                             f"not the {expected} appended")

    # -- (proofs) -------------------------------------------------------------------

    def proofs_case(self, size: int) -> None:
        case = f"proofs {human(size)}"
        problem = space_problem(self.opts.workdir, size * TREE_BYTES_PER_LEAF)
        if problem:
            self.notes.append(f"{case} skipped: {problem}.")
            console.print(Text(f"Skipping {case}: {problem}.", style="yellow"))
            return
        with self.data_folder(f"proofs-{human(size)}", "SQLite", keep=True) as home:
            console.print(f"  building a tree of {size:,} leaves ...")
            build_s = 0.0
            for start in range(0, size, TREE_CHUNK):
                leaves = tree_leaves(start, min(TREE_CHUNK, size - start))
                quiet()
                started = time.perf_counter()
                with home.engine.begin() as conn:
                    Tree(conn).append(leaves)
                build_s += time.perf_counter() - started
                del leaves
            self.add(Figure(case, f"build: Tree.append, {human(min(TREE_CHUNK, size))} "
                                  "per commit", "SQLite", build_s, 1, size,
                            rate=size / build_s, target=Target("reported"),
                            # The data folder, WAL included: what the tree takes on disk.
                            details={"folder_bytes": folder_bytes(home.settings.home)}))
            settle()
            with home.engine.connect() as conn:
                head_size, root = Tree(conn).head()
                if head_size != size or Tree(conn).root(size) != root:
                    raise BenchError(f"the tree of {size} leaves has a wrong head")
            self._inclusion(home, case, size, root)
            self._consistency(home, case, size, root)

    def _inclusion(self, home: Home, case: str, size: int, root: bytes) -> None:
        rng = random.Random(self.opts.seed + size)
        indices = [rng.randrange(size) for _ in range(PROOFS)]
        leaves = [tree_leaves(i, 1)[0] for i in indices]
        rounds = timed_proofs(
            home, list(zip(indices, leaves, strict=True)),
            lambda conn, c: Tree(conn).inclusion(c[0], size),
            lambda c, proof: verify_inclusion(c[1], c[0], size, proof, root))
        for which, label in ((0, "inclusion: make (fresh Tree)"),
                             (1, "inclusion: verify")):
            best = min((r[which] for r in rounds), key=statistics.median)
            median = statistics.median(best) * 1e3
            self.add(Figure(case, label, "SQLite", sum(best), REPEAT, size,
                            median_ms=median, p99_ms=p99(best) * 1e3,
                            target=Target(f"median < {PROOF_MS:g} ms", median < PROOF_MS),
                            details={"proofs": PROOFS, "tree_size": size,
                                     "mean_ms": statistics.fmean(best) * 1e3,
                                     "max_ms": max(best) * 1e3}))

    def _consistency(self, home: Home, case: str, size: int, root: bytes) -> None:
        rng = random.Random(self.opts.seed + size + 1)
        olds = [rng.randrange(1, size) for _ in range(PROOFS)]
        with home.engine.connect() as conn:
            # What a verifier already holds: the root of an earlier checkpoint.
            old_roots = [Tree(conn).root(old) for old in olds]
        rounds = timed_proofs(
            home, list(zip(olds, old_roots, strict=True)),
            lambda conn, c: Tree(conn).consistency(c[0], size),
            lambda c, proof: verify_consistency(c[0], size, proof, c[1], root))
        both = [[m + c for m, c in zip(*r, strict=True)] for r in rounds]
        best_at = min(range(REPEAT), key=lambda i: statistics.median(both[i]))
        best = both[best_at]
        make, check = rounds[best_at]
        self.add(Figure(case, "consistency: make + verify",
                        "SQLite", sum(best), REPEAT, size,
                        median_ms=statistics.median(best) * 1e3, p99_ms=p99(best) * 1e3,
                        target=Target("reported"),
                        details={"proofs": PROOFS,
                                 "make_median_ms": statistics.median(make) * 1e3,
                                 "make_p99_ms": p99(make) * 1e3,
                                 "verify_median_ms": statistics.median(check) * 1e3,
                                 "verify_p99_ms": p99(check) * 1e3}))

    # -- (verify) -------------------------------------------------------------------

    def verify_case(self, backend: str) -> None:
        count = self.opts.verify_events
        problem = space_problem(self.opts.workdir, count * LOG_BYTES_PER_EVENT)
        if backend == "SQLite" and problem:
            self.notes.append(f"verify on SQLite skipped: {problem}.")
            console.print(Text(f"Skipping verify on SQLite: {problem}.", style="yellow"))
            return
        with self.data_folder(f"verify-{backend.lower()}", backend, keep=True) as home:
            console.print(f"  appending {count:,} events on {backend} for verification ...")
            key = signer(home)
            append_s = checkpoint_s = 0.0
            checkpoints = 0
            # How the rate changes as the log grows: seconds and bytes written per fifth.
            fifth = max(VERIFY_BATCH, count // 5 // VERIFY_BATCH * VERIFY_BATCH)
            by_fifth: list[list[float]] = []
            for start in range(0, count, VERIFY_BATCH):
                events = make_events(start, min(VERIFY_BATCH, count - start))
                if start % fifth == 0:
                    by_fifth.append([0.0, 0.0, 0.0])
                before = written_bytes()
                started = time.perf_counter()
                with home.engine.begin() as conn:
                    append(conn, events)
                seconds = time.perf_counter() - started
                after = written_bytes()
                append_s += seconds
                by_fifth[-1][0] += len(events)
                by_fifth[-1][1] += seconds
                if before is not None and after is not None:
                    by_fifth[-1][2] += after - before
                done = start + len(events)
                if done % CHECKPOINT_EVERY == 0 or done == count:
                    started = time.perf_counter()
                    _, new = checkpoint(home.engine, key)
                    checkpoint_s += time.perf_counter() - started
                    checkpoints += new
            self._check_size(home, count)
            self.add(Figure("verify", f"append the log, {human(VERIFY_BATCH)} per "
                                      "commit", backend, append_s, 1, count,
                            rate=count / append_s, target=Target("reported"),
                            details={"checkpoints": checkpoints,
                                     "checkpoint_ms_mean": checkpoint_s / checkpoints * 1e3,
                                     "folder_bytes": folder_bytes(home.settings.home),
                                     "rate_by_fifth": [n / t for n, t, _ in by_fifth],
                                     "written_bytes_per_event_by_fifth":
                                         [w / n for n, _, w in by_fifth]
                                         if backend == "SQLite" else None}))
            rates = ", ".join(f"{n / t:,.0f}" for n, t, _ in by_fifth)
            note = (f"Appending the log to verify on {backend}, leaves/s by fifth of the "
                    f"log: {rates}")
            if backend == "SQLite":
                note += ("; bytes written per event: "
                         + ", ".join(f"{w / n:,.0f}" for n, _, w in by_fifth))
            self.notes.append(note + ".")
            console.print(f"  verify_log on {backend} ...")
            key_check = verifier(home)
            settle()
            best = math.inf
            for _ in range(VERIFY_REPEAT):
                quiet()
                with home.engine.connect() as conn:
                    started = time.perf_counter()
                    report = verify_log(conn, key_check)
                    seconds = time.perf_counter() - started
                if not report.ok or report.events != count or report.checkpoints != checkpoints:
                    raise BenchError(f"verify_log on {backend} did not pass: ok={report.ok}, "
                                     f"{report.events} events, {report.checkpoints} "
                                     f"checkpoints; {report.problems[:3]}")
                best = min(best, seconds)
            rate = count / best
            target = (Target(f"≥ {VERIFY_PER_S:,} leaves/s", rate >= VERIFY_PER_S)
                      if backend == "SQLite" else Target("reported"))
            self.add(Figure("verify", f"verify_log: ok, {checkpoints} checkpoint(s)",
                            backend, best, VERIFY_REPEAT, count, rate=rate, target=target,
                            details={"checkpoints": checkpoints}))

    # -- all of it ------------------------------------------------------------------

    def guarded(self, backend: str, what: str, run: Callable[[], None]) -> None:
        """Run one case; an unreachable PostgreSQL is noted, not fatal."""
        if backend == "SQLite":
            run()
            return
        try:
            run()
        except (SQLAlchemyError, DatabaseError, HomeError) as exc:
            message = (f"{what} on PostgreSQL not measured: cannot use "
                       f"{self.opts.postgres_url} ({str(exc).splitlines()[0]})")
            console.print(Text(message, style="yellow"))
            self.notes.append(message)

    def run(self) -> None:
        opts = self.opts
        # Left over by an interrupted run; it would count against the space checks.
        shutil.rmtree(self.scratch, ignore_errors=True)
        self.scratch.mkdir(parents=True)
        try:
            console.print(Text(f"Building {opts.append_events:,} events ...", style="bold"))
            events = make_events(0, opts.append_events)
            records = [e.record() for e in events]
            console.print(Text("Running baseline ...", style="bold"))
            self.baseline(records)
            del records
            console.print(Text("Running append ...", style="bold"))
            self.encoding(events)
            for backend in self.backends():
                self.guarded(backend, "append", partial(self.append_case, events, backend))
            del events
            console.print(Text("Running proofs ...", style="bold"))
            for size in opts.tree_sizes:
                self.proofs_case(size)
            console.print(Text("Running verify ...", style="bold"))
            for backend in self.backends():
                self.guarded(backend, "verify", partial(self.verify_case, backend))
            if opts.skip_postgres:
                self.notes.append("PostgreSQL skipped (--skip-postgres).")
        finally:
            if self.kept:
                for path in sorted(p for p in self.scratch.iterdir() if p not in self.kept):
                    shutil.rmtree(path, ignore_errors=True)
                self.notes.append("Kept (--keep): " + ", ".join(str(p) for p in self.kept))
            else:
                shutil.rmtree(self.scratch, ignore_errors=True)


# -- reporting -------------------------------------------------------------------------


def _verdict(target: Target) -> Text:
    if target.met is None:
        return Text(target.what, style="dim")
    if target.met:
        return Text(f"✔ {target.what}", style="green")
    return Text(f"✘ {target.what}", style="bold red")


def _figure_text(figure: Figure) -> str:
    if figure.rate is not None:
        return f"{figure.rate:,.0f} leaves/s"
    return f"{figure.median_ms:.3f} ms (p99 {figure.p99_ms:.3f})"


def render(figures: list[Figure], opts: Options) -> Table:
    grid = Table(title=f"Svidok custody-log benchmark (best of {REPEAT} unless runs = 1)",
                 title_justify="left", caption_justify="left",
                 caption="Leaves: events appended or checked, or the tree's size. Time: the "
                         "reported run (proofs: the 1,000 added up). Figure: a rate, or the "
                         "median time of one proof (p99 in brackets). × baseline: the rate / "
                         "hashlib's over the same records.")
    for name, justify in (("Case", "left"), ("Run", "left"), ("Leaves", "right"),
                          ("Runs", "right"), ("Time s", "right"), ("Figure", "right"),
                          ("× baseline", "right"), ("Target", "left")):
        grid.add_column(name, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    case = None
    for f in figures:
        if f.case != case:
            grid.add_section()
            case = f.case
        ratio = f"{f.ratio_to_baseline:.3f}×" if f.ratio_to_baseline is not None else ""
        where = f"{f.case} · {f.backend}" if f.backend else f.case
        grid.add_row(where, f.run, f"{f.leaves:,}", str(f.runs),
                     f"{f.seconds:.3f}", _figure_text(f), ratio, _verdict(f.target))
    return grid


def machine_info(opts: Options) -> dict[str, Any]:
    def first_line(cmd: list[str]) -> str | None:
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=REPO)
        except OSError:
            return None
        lines = done.stdout.strip().splitlines()
        return lines[0] if done.returncode == 0 and lines else None

    postgres = None
    if not opts.skip_postgres:
        try:
            engine = create_engine(opts.postgres_url)
            with engine.connect() as conn:
                postgres = conn.execute(text("SHOW server_version")).scalar()
            engine.dispose()
        except SQLAlchemyError:
            postgres = None
    try:
        import psycopg
        psycopg_version: str | None = psycopg.__version__
    except ImportError:
        psycopg_version = None
    return {
        "platform": platform.platform(), "cpus": os.cpu_count(),
        "python": platform.python_version(), "sqlite": sqlite3.sqlite_version,
        "sqlalchemy": sqlalchemy.__version__, "psycopg": psycopg_version,
        "postgresql": postgres, "openssl": ssl.OPENSSL_VERSION,
        "filesystem": first_line(["stat", "-f", "-c", "%T", str(opts.workdir)]),
        "git_commit": first_line(["git", "rev-parse", "HEAD"]),
        "git_dirty": bool(first_line(["git", "status", "--porcelain", "--", "src"])),
    }


# -- command line ----------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> tuple[Options, Path, bool]:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 20,000 appended events, trees of 100,000 and "
                             "1 million leaves, a log of 50,000 events to verify")
    parser.add_argument("--skip-postgres", action="store_true",
                        help="measure SQLite only")
    parser.add_argument("--keep", action="store_true",
                        help="keep the SQLite data folders of the proof trees and of the "
                             "verified log (bench/out/custody/) instead of deleting them")
    parser.add_argument("--check", action="store_true",
                        help="exit with status 1 if any target is missed")
    parser.add_argument("--postgres-url",
                        default=os.environ.get("SVIDOK_BENCH_DATABASE_URL", DEFAULT_PG_URL),
                        help="PostgreSQL database in which throwaway schemas are made "
                             "(default $SVIDOK_BENCH_DATABASE_URL or the local test database)")
    parser.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR,
                        help="where the data folders go, in custody/ (default bench/out)")
    parser.add_argument("--results", type=Path, default=DEFAULT_RESULTS,
                        help="where to write the JSON figures (default bench/out/custody.json)")
    parser.add_argument("--seed", type=int, default=20241125,
                        help="seed of the random leaves and sizes proved")
    args = parser.parse_args(argv)
    quick = bool(args.quick)
    opts = Options(
        quick=quick, skip_postgres=args.skip_postgres, keep=args.keep,
        postgres_url=args.postgres_url, workdir=args.workdir.resolve(), seed=args.seed,
        append_events=20_000 if quick else 200_000,
        tree_sizes=(100_000, 1_000_000) if quick else (1_000_000, 10_000_000),
        verify_events=50_000 if quick else 1_000_000)
    return opts, args.results, args.check


def main(argv: list[str] | None = None) -> int:
    opts, results_path, check = parse_args(argv)
    # Settings inherited from the caller's shell would make runs incomparable.
    for key in [k for k in os.environ if k.startswith("SVIDOK_") and
                k != "SVIDOK_BENCH_DATABASE_URL"]:
        del os.environ[key]
    opts.workdir.mkdir(parents=True, exist_ok=True)
    machine = machine_info(opts)
    console.print(f"{machine['cpus']} CPUs, Python {machine['python']}, SQLite "
                  f"{machine['sqlite']}, PostgreSQL {machine['postgresql'] or '—'}, "
                  f"{machine['platform']}")
    started = datetime.now(UTC)
    bench = Bench(opts)
    try:
        bench.run()
    except BenchError as exc:
        console.print(Text(f"Benchmark failed: {exc}", style="bold red"))
        return 1
    console.print(render(bench.figures, opts))
    mean = bench.figures[0].details.get("record_bytes_mean", 0.0) if bench.figures else 0.0
    notes = [
        f"Records: {mean:.0f} bytes on average (canonical JSON: 3 captures to 1 opening).",
        "Proof trees hold leaf hashes only, no event rows: a proof reads tiles alone, so "
        "its cost depends on the tree, not on the records.",
        *bench.notes,
    ]
    for note in notes:
        console.print(Text(note, style="dim"))
    if opts.quick:
        console.print(Text("--quick: smaller logs and trees than the targets are set for; "
                           "run without --quick to judge.", style="yellow"))
    judged = [f for f in bench.figures if f.target.met is not None]
    missed = [f for f in judged if not f.target.met]
    summary = f"Targets: {len(judged) - len(missed)} of {len(judged)} met."
    console.print(Text(summary, style="bold red" if missed else "bold green"))
    for f in missed:
        console.print(Text(f"  missed: {f.case} {f.run} ({f.backend}): {_figure_text(f)}, "
                           f"target {f.target.what}", style="red"))

    data = {
        "started_at": started.isoformat(), "finished_at": datetime.now(UTC).isoformat(),
        "options": {**asdict(opts), "workdir": str(opts.workdir)},
        "targets": {"append_leaves_per_s": APPEND_PER_S, "proof_median_ms": PROOF_MS,
                    "verify_leaves_per_s": VERIFY_PER_S},
        "repeat": REPEAT, "machine": machine, "notes": notes,
        "figures": [asdict(f) for f in bench.figures],
        "all_targets_met": not missed,
    }
    results_path.parent.mkdir(parents=True, exist_ok=True)
    results_path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n",
                            encoding="utf-8")
    console.print(f"Figures written to {results_path}")
    return 1 if check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
