"""Telegram import benchmark behind ``make bench``: ``svidok ingest`` of a Telegram Desktop
export against ``json.load`` of its result.json.

Sizes (``--quick``: 20,000 and 50,000 messages with 500 media files):

    200,000 messages with 5,000 media files
    1,000,000 messages with 5,000 media files

For each size the export is generated once by bench/telegram_export.py (kept in
``bench/out/telegram/``, reused while its manifest matches) and then, in the same run:

    (baseline)   python -c "import json; json.load(open(P, 'rb'))" over its result.json
    (parse only) a subprocess that only iterates svidok.sources.telegram.read_export
                 (no database): where the time goes, no target
    (svidok)     svidok --home H ingest EXPORT_DIR --json, H a fresh data folder
                 targets on SQLite: >= 10,000 messages/s and peak memory < 300 MiB at
                 every size
                 (the same run on PostgreSQL is reported, no target)

Every rate is the number of messages in result.json divided by the wall time of the whole
command, interpreter start-up included. Peak RSS is the ``ru_maxrss`` of exactly that
process, through bench/measure.py; as that misses processes the command does not reap
(Svidok reads a big export in a forkserver child), the PSS of all the command's processes
is also summed a few times a second, and the memory target is judged on the larger.
Before each timed command the export is read once (warm page cache) and ``sync`` runs.
After each Svidok run, ``svidok status --json`` is kept with the figures: it shows what the
ingest made of the export (items stored), which is reported, never judged. Figures go to
a table and to ``bench/out/telegram_results.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import shutil
import sqlite3
import subprocess
import sys
import threading
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text
from sqlalchemy.exc import SQLAlchemyError

import telegram_export as tg
from pg import postgres_schema
from run import BenchError, Measured, run_measured, settle, svidok_command, tail, warm

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
DEFAULT_WORKDIR = BENCH_DIR / "out"
DEFAULT_RESULTS = DEFAULT_WORKDIR / "telegram_results.json"
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
MIB = 1024 * 1024
GIB = 1024 * MIB

MESSAGES_PER_S = 10_000  # svidok ingest on SQLite, at every size
RSS_LIMIT_MIB = 300  # every Svidok run on SQLite, at every size
FULL_SIZES = (200_000, 1_000_000)
FULL_MEDIA = 5_000
QUICK_SIZES = (20_000, 50_000)
QUICK_MEDIA = 500
# Room a size needs beyond its export: the original of result.json and of every media file
# in the blob store, a database that may hold every message, and a margin.
SPACE_FACTOR = 4
SPACE_MARGIN = 1 * GIB

# The baseline, with the path as an argument instead of spliced into the code.
BASELINE_CODE = "import json, sys; json.load(open(sys.argv[1], 'rb'))"
# Parse only: the streaming reader and nothing else; counts go to stdout as JSON.
PARSE_CODE = """\
import json, sys
from pathlib import Path
from svidok.sources.telegram import Problem, read_export
messages = problems = media = 0
for found in read_export(Path(sys.argv[1])):
    if isinstance(found, Problem):
        problems += 1
    else:
        messages += 1
        media += sum(1 for m in found.media if m.path is not None)
print(json.dumps({"messages": messages, "problems": problems, "media_found": media}))
"""

# Piped into a log, rich would fold the table into 80 columns and make it unreadable.
console = Console(highlight=False, width=None if sys.stdout.isatty() else 180)


# -- results ---------------------------------------------------------------------------


@dataclass
class Target:
    what: str
    # None: reported for information, not a target of the issue.
    met: bool | None = None


@dataclass
class RunResult:
    run: str
    backend: str | None
    wall_s: float
    cpu_user_s: float
    cpu_sys_s: float
    messages_per_s: float
    # ru_maxrss of the command, through bench/measure.py.
    peak_rss_mib: float
    # The largest sum of PSS over the command's processes, sampled (see run_sampled).
    tree_peak_mib: float | None = None
    tree_processes: int | None = None
    ratio_to_baseline: float | None = None
    rate_target: Target = field(default_factory=lambda: Target("reported"))
    rss_target: Target = field(default_factory=lambda: Target("reported"))
    # Svidok's own "seconds" from --json: the ingest without interpreter start-up.
    svidok_reported_s: float | None = None
    # Why the command failed; its figures are then shown but every target is missed.
    error: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def memory_mib(self) -> float:
        """What the memory target is judged on: the larger of the two measures."""
        return max(self.peak_rss_mib, self.tree_peak_mib or 0.0)


@dataclass
class SizeResult:
    messages: int
    media: int
    export: dict[str, Any]
    runs: list[RunResult] = field(default_factory=list)
    skipped: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        return f"{self.messages:,} msgs / {self.media:,} media"


@dataclass(frozen=True)
class Options:
    quick: bool
    sizes: tuple[int, ...]
    media: int
    skip_postgres: bool
    postgres_url: str
    workdir: Path
    seed: int
    drop_exports: bool


# -- helpers ---------------------------------------------------------------------------


def svidok_env(database_url: str | None) -> dict[str, str]:
    # Settings inherited from the caller's shell would make runs incomparable.
    env = {k: v for k, v in os.environ.items() if not k.startswith("SVIDOK_")}
    if database_url:
        env["SVIDOK_DATABASE_URL"] = database_url
    return env


def measured_run(name: str, sampled: Sampled, messages: int, backend: str | None = None
                 ) -> RunResult:
    measured = sampled.measured
    return RunResult(run=name, backend=backend, wall_s=measured.wall_s,
                     cpu_user_s=measured.user_s, cpu_sys_s=measured.sys_s,
                     messages_per_s=messages / measured.wall_s,
                     peak_rss_mib=measured.peak_rss_kb / 1024,
                     tree_peak_mib=sampled.tree_peak_kb / 1024 if sampled.samples else None,
                     tree_processes=sampled.tree_processes)


# -- the memory of a process tree ------------------------------------------------------
#
# ru_maxrss is the peak of one process (or the largest of its reaped descendants), not of
# several at once, and a process that is not reaped by its parent (multiprocessing's
# forkserver and the processes it forks: Svidok reads a big export in one of those) is not
# in it at all. So while a command runs, the proportional set size (PSS: shared pages
# divided among the processes sharing them) of every process below the measuring helper
# is summed, a few times a second.

SAMPLE_EVERY_S = 0.2


@dataclass(frozen=True)
class Sampled:
    measured: Measured
    tree_peak_kb: int  # the largest sum of PSS over the command's processes, sampled
    tree_processes: int  # the most processes seen at once
    samples: int


def _children() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces and brackets, so split after it.
        fields = stat[stat.rfind(b")") + 2:].split()
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    return children


def _pss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as fh:
            for line in fh:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


class _TreeSampler(threading.Thread):
    """Sums the PSS of every process below this one's direct children (the measuring
    helper is the child; the command and whatever it starts are below it)."""

    def __init__(self) -> None:
        super().__init__(name="tree-sampler", daemon=True)
        self.stop = threading.Event()
        self.peak_kb = 0
        self.processes = 0
        self.samples = 0

    def run(self) -> None:
        me = os.getpid()
        while not self.stop.wait(SAMPLE_EVERY_S):
            children = _children()
            below = [pid for helper in children.get(me, []) for pid in children.get(helper, [])]
            tree: list[int] = []
            while below:
                pid = below.pop()
                tree.append(pid)
                below.extend(children.get(pid, []))
            if tree:
                self.samples += 1
                self.peak_kb = max(self.peak_kb, sum(_pss_kb(pid) for pid in tree))
                self.processes = max(self.processes, len(tree))


def run_sampled(cmd: list[str], env: dict[str, str] | None, stdout: Path, stderr: Path
                ) -> Sampled:
    """bench/run.py's run_measured (wall time, CPU, ru_maxrss through bench/measure.py),
    with the process tree's summed PSS sampled meanwhile."""
    sampler = _TreeSampler()
    sampler.start()
    try:
        measured = run_measured(cmd, env, stdout, stderr)
    finally:
        sampler.stop.set()
        sampler.join()
    return Sampled(measured, sampler.peak_kb, sampler.processes, sampler.samples)


def _imports_summary(imports: Any) -> dict[str, Any] | None:
    """The ingest report's list of imports, summed up per importer."""
    if not isinstance(imports, list):
        return None
    summary: dict[str, dict[str, Any]] = {}
    for entry in imports:
        if not isinstance(entry, dict):
            continue
        one = summary.setdefault(str(entry.get("importer")),
                                 {"imports": 0, "items": 0, "problems": 0, "states": {},
                                  "errors": []})
        one["imports"] += 1
        one["items"] += entry.get("items") or 0
        one["problems"] += entry.get("problems") or 0
        state = str(entry.get("state"))
        one["states"][state] = one["states"].get(state, 0) + 1
        if entry.get("error") and len(one["errors"]) < 3:
            one["errors"].append(f"{entry.get('rel_path')}: {entry['error']}")
    return summary


def free_bytes(path: Path) -> int:
    stats = os.statvfs(path)
    return stats.f_bavail * stats.f_frsize


# -- the benchmark ---------------------------------------------------------------------


class Bench:
    def __init__(self, opts: Options) -> None:
        self.opts = opts
        self.scratch = opts.workdir / "telegram-scratch"

    def make_scratch(self) -> None:
        if self.scratch.is_dir():
            return
        self.scratch.mkdir(parents=True)
        # As in bench/run.py: each fresh folder below lands in a block group of its own
        # on ext4, so no run pays for the clean-up of the one before.
        subprocess.run(["chattr", "+T", str(self.scratch)], capture_output=True, check=False)

    def fresh(self, name: str) -> Path:
        return self.scratch / f"{name}-{secrets.token_hex(4)}"

    # -- the runs -------------------------------------------------------------------

    def baseline(self, export: tg.CachedExport) -> RunResult:
        out, err = self.scratch / "baseline.out", self.scratch / "baseline.err"
        try:
            warm(export.folder)
            settle()
            sampled = run_sampled([sys.executable, "-c", BASELINE_CODE,
                                   str(export.result_json)], None, out, err)
            if sampled.measured.returncode != 0:
                raise BenchError(f"json.load failed (exit {sampled.measured.returncode}):\n"
                                 + tail(err))
        finally:
            out.unlink(missing_ok=True)
            err.unlink(missing_ok=True)
        return measured_run("json.load (baseline)", sampled, export.stats.messages)

    def parse_only(self, export: tg.CachedExport) -> RunResult:
        out, err = self.scratch / "parse.out", self.scratch / "parse.err"
        try:
            warm(export.folder)
            settle()
            sampled = run_sampled([sys.executable, "-c", PARSE_CODE,
                                   str(export.result_json)], svidok_env(None), out, err)
            measured = sampled.measured
            try:
                counts = json.loads(out.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                counts = {}
            if measured.returncode != 0 or not counts:
                raise BenchError(f"read_export failed (exit {measured.returncode}):\n"
                                 + tail(err))
        finally:
            out.unlink(missing_ok=True)
            err.unlink(missing_ok=True)
        stats = export.stats
        # Every media file is named by exactly one message (as its file or thumbnail).
        if counts.get("messages") != stats.messages or counts.get("problems") or \
                counts.get("media_found") != stats.media_files:
            raise BenchError(f"read_export did not read the generated export as made "
                             f"({stats.messages} messages with {stats.media_files} media "
                             f"files): {counts}")
        run = measured_run("read_export only", sampled, stats.messages)
        run.details = counts
        return run

    def svidok(self, export: tg.CachedExport, backend: str, database_url: str | None
               ) -> RunResult:
        """One timed ingest into a fresh data folder. An ingest that fails is kept as a
        failed run (its targets missed, the error shown) so the other figures survive."""
        home = self.fresh(f"home-{backend.lower()}")
        env = svidok_env(database_url)
        out, err = self.scratch / "ingest.json", self.scratch / "ingest.err"
        try:
            init = subprocess.run([*svidok_command(), "--home", str(home), "init", "--json"],
                                  env=env, capture_output=True, text=True, check=False)
            if init.returncode != 0:
                raise BenchError(f"svidok init failed ({backend}):\n"
                                 f"{init.stderr or init.stdout}")
            warm(export.folder)
            settle()
            sampled = run_sampled([*svidok_command(), "--home", str(home), "ingest",
                                   str(export.folder), "--json"], env, out, err)
            measured = sampled.measured
            try:
                report: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
                report_bytes: int | None = out.stat().st_size
            except (OSError, ValueError):
                report, report_bytes = {}, None
            error = None
            if measured.returncode != 0 or not report.get("ok"):
                error = (f"svidok ingest ({backend}) failed: exit {measured.returncode}, "
                         f"ok {report.get('ok')}, counts {report.get('counts')}; "
                         + " / ".join(dict.fromkeys(tail(err, 40).splitlines()))[-600:])
            status = subprocess.run([*svidok_command(), "--home", str(home), "status",
                                     "--json"], env=env, capture_output=True, text=True,
                                    check=False)
            try:
                state: dict[str, Any] = json.loads(status.stdout)
            except ValueError:
                state = {"error": (status.stderr or status.stdout)[-500:]}
        finally:
            shutil.rmtree(home, ignore_errors=True)
            out.unlink(missing_ok=True)
            err.unlink(missing_ok=True)
            settle()
        run = measured_run(f"svidok · {backend}", sampled, export.stats.messages,
                           backend)
        run.error = error
        run.svidok_reported_s = float(report.get("seconds") or 0.0) or None
        run.details = {
            # Svidok's report without the list of outcomes, imports summed up by importer.
            "ingest_report": {k: v for k, v in report.items()
                              if k not in ("outcomes", "imports")},
            "imports": _imports_summary(report.get("imports")),
            # The --json report lists every outcome; its size shows what it may cost.
            "ingest_report_bytes": report_bytes,
            "status_items": state.get("items"),
            "status_originals": state.get("originals"),
            "status_sightings": state.get("sightings"),
            "custody_events": (state.get("custody") or {}).get("events"),
            "status_error": state.get("error"),
        }
        return run

    # -- one size -------------------------------------------------------------------

    def size(self, messages: int) -> SizeResult:
        opts = self.opts
        spec = tg.ExportSpec(messages, opts.media, opts.seed)
        result = SizeResult(messages, opts.media, {"name": spec.name})
        opts.workdir.mkdir(parents=True, exist_ok=True)
        # About 830 bytes of JSON per message; generating needs the export's room too.
        expected = messages * 900 + opts.media * 8 * 1024
        need = expected * SPACE_FACTOR + SPACE_MARGIN
        if free_bytes(opts.workdir) < need:
            result.skipped = (f"needs about {need / GIB:.1f} GiB free in {opts.workdir}, "
                              f"only {free_bytes(opts.workdir) / GIB:.1f} GiB available")
            console.print(Text(f"Skipping {result.title}: {result.skipped}.", style="yellow"))
            return result
        export, generated = tg.ensure(spec, opts.workdir)
        result.export = {"name": spec.name, "folder": str(export.folder),
                         "generated_now": generated, **asdict(export.stats)}
        self.make_scratch()
        console.print(f"  {result.title}: json.load ...")
        base = self.baseline(export)
        result.runs.append(base)
        console.print(f"  {result.title}: read_export only ...")
        parse = self.parse_only(export)
        parse.ratio_to_baseline = parse.messages_per_s / base.messages_per_s
        result.runs.append(parse)

        console.print(f"  {result.title}: svidok ingest on SQLite ...")
        run = self.svidok(export, "SQLite", None)
        run.ratio_to_baseline = run.messages_per_s / base.messages_per_s
        failed = " (the ingest failed)" if run.error else ""
        run.rate_target = Target(f"≥ {MESSAGES_PER_S:,} msg/s{failed}",
                                 not run.error and run.messages_per_s >= MESSAGES_PER_S)
        run.rss_target = Target(f"< {RSS_LIMIT_MIB} MiB{failed}",
                                not run.error and run.memory_mib < RSS_LIMIT_MIB)
        result.runs.append(run)
        self._failed_note(result, run)
        self._imported_note(result, run)
        if opts.skip_postgres:
            result.notes.append("PostgreSQL skipped (--skip-postgres).")
            return result
        console.print(f"  {result.title}: svidok ingest on PostgreSQL ...")
        try:
            with postgres_schema(opts.postgres_url) as url:
                pg = self.svidok(export, "PostgreSQL", url)
        except SQLAlchemyError as exc:
            message = (f"PostgreSQL not measured: cannot use {opts.postgres_url} "
                       f"({str(exc).splitlines()[0]})")
            console.print(Text(message, style="yellow"))
            result.notes.append(message)
            return result
        pg.ratio_to_baseline = pg.messages_per_s / base.messages_per_s
        result.runs.append(pg)
        self._failed_note(result, pg)
        if pg.error:
            return result
        met_rate = pg.messages_per_s >= MESSAGES_PER_S
        met_rss = pg.memory_mib < RSS_LIMIT_MIB
        result.notes.append(f"PostgreSQL (no target): {pg.messages_per_s:,.0f} msg/s and "
                            f"{pg.memory_mib:.0f} MiB, "
                            f"{'within' if met_rate and met_rss else 'outside'} the SQLite "
                            "targets.")
        return result

    @staticmethod
    def _failed_note(result: SizeResult, run: RunResult) -> None:
        if run.error:
            console.print(Text(run.error, style="red"))
            result.notes.append(run.error)

    @staticmethod
    def _imported_note(result: SizeResult, run: RunResult) -> None:
        """Say so when the ingest stored fewer items than the export has messages: then
        the rate is that of preserving the export's files, not of importing messages."""
        items = run.details.get("status_items")
        stored = items.get("stored") if isinstance(items, dict) else None
        if isinstance(stored, int) and stored < result.messages:
            result.notes.append(
                f"svidok ingest ({run.backend}) stored {stored:,} items for "
                f"{result.messages:,} messages: it preserved the export's files but did not "
                "make an item per message, so its rate is not yet a message-import rate.")

    def run(self) -> list[SizeResult]:
        results: list[SizeResult] = []
        # Left over by an interrupted run.
        shutil.rmtree(self.scratch, ignore_errors=True)
        try:
            for messages in self.opts.sizes:
                console.print(Text(f"Telegram export of {messages:,} messages ...",
                                   style="bold"))
                results.append(self.size(messages))
        finally:
            shutil.rmtree(self.scratch, ignore_errors=True)
            if self.opts.drop_exports:
                for messages in self.opts.sizes:
                    name = tg.ExportSpec(messages, self.opts.media, self.opts.seed).name
                    shutil.rmtree(self.opts.workdir / "telegram" / name, ignore_errors=True)
                    (self.opts.workdir / "telegram" / f"{name}.json").unlink(missing_ok=True)
        return results


# -- reporting -------------------------------------------------------------------------


def _verdict(target: Target) -> Text:
    if target.met is None:
        return Text(target.what, style="dim")
    if target.met:
        return Text(f"✔ {target.what}", style="green")
    return Text(f"✘ {target.what}", style="bold red")


def render(results: list[SizeResult]) -> Table:
    grid = Table(title="Svidok Telegram import benchmark", title_justify="left",
                 caption_justify="left",
                 caption="Rate: messages in result.json / wall time of the whole command. "
                         "× json.load: the rate / the baseline's. Peak RSS: ru_maxrss of the "
                         "command. Tree PSS: the largest sum of PSS over all its processes "
                         f"(sampled every {SAMPLE_EVERY_S} s; ×N: N processes). The memory "
                         "target is judged on the larger. Items: what svidok status counts "
                         "as stored afterwards.")
    for name, justify in (("Export", "left"), ("Run", "left"), ("Time s", "right"),
                          ("Msgs/s", "right"), ("× json.load", "right"),
                          ("Peak RSS", "right"), ("Tree PSS", "right"), ("Rate target", "left"),
                          ("RSS target", "left"), ("Items", "right")):
        grid.add_column(name, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    for size in results:
        grid.add_section()
        if size.skipped:
            grid.add_row(size.title, Text("skipped", style="yellow"), "", "", "", "", "",
                         Text(size.skipped, style="yellow"), "", "")
            continue
        mib = size.export.get("result_json_bytes", 0) / MIB
        for i, run in enumerate(size.runs):
            ratio = f"{run.ratio_to_baseline:.2f}×" if run.ratio_to_baseline else ""
            items = run.details.get("status_items")
            stored = (f"{items.get('stored', 0):,}" if isinstance(items, dict) else "")
            tree = (f"{run.tree_peak_mib:,.0f} MiB ×{run.tree_processes}"
                    if run.tree_peak_mib is not None else "")
            grid.add_row(size.title if i == 0 else (f"result.json {mib:,.0f} MiB"
                                                    if i == 1 else ""),
                         Text(f"{run.run} FAILED", style="bold red") if run.error
                         else run.run, f"{run.wall_s:.2f}", f"{run.messages_per_s:,.0f}", ratio,
                         f"{run.peak_rss_mib:,.0f} MiB", tree, _verdict(run.rate_target),
                         _verdict(run.rss_target), stored)
    return grid


def machine_info(opts: Options) -> dict[str, Any]:
    def first_line(cmd: list[str]) -> str | None:
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=REPO)
        except OSError:
            return None
        lines = done.stdout.strip().splitlines()
        return lines[0] if done.returncode == 0 and lines else None

    mem_total = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_total = int(line.split()[1]) * 1024
    except OSError:
        pass
    return {
        "platform": platform.platform(), "python": platform.python_version(),
        "cpus": os.cpu_count(), "mem_total_bytes": mem_total, "sqlite": sqlite3.sqlite_version,
        "filesystem": first_line(["stat", "-f", "-c", "%T", str(opts.workdir)]),
        "svidok": first_line([*svidok_command(), "--version"]),
        "git_commit": first_line(["git", "rev-parse", "HEAD"]),
        "git_dirty": bool(first_line(["git", "status", "--porcelain", "--", "src"])),
    }


def all_targets(results: list[SizeResult]) -> list[tuple[str, RunResult, Target]]:
    return [(f"{size.title} {run.run}", run, t) for size in results for run in size.runs
            for t in (run.rate_target, run.rss_target) if t.met is not None]


# -- command line ----------------------------------------------------------------------


def _sizes(raw: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(part.replace("_", "")) for part in raw.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of message counts: {raw!r}") from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError("message counts must be positive")
    return sizes


def parse_args(argv: list[str] | None) -> tuple[Options, Path, bool]:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 20,000 and 50,000 messages with 500 media files")
    parser.add_argument("--skip-postgres", action="store_true", help="measure SQLite only")
    parser.add_argument("--check", action="store_true",
                        help="exit with status 1 if any target is missed")
    parser.add_argument("--sizes", type=_sizes, default=None,
                        help="comma-separated message counts (default 200000,1000000; "
                             "20000,50000 with --quick)")
    parser.add_argument("--media", type=int, default=None,
                        help="media files per export (default 5000; 500 with --quick)")
    parser.add_argument("--postgres-url",
                        default=os.environ.get("SVIDOK_BENCH_DATABASE_URL", DEFAULT_PG_URL),
                        help="PostgreSQL database in which a throwaway schema is made "
                             "(default $SVIDOK_BENCH_DATABASE_URL or the local test database)")
    parser.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR,
                        help="exports (telegram/) and data folders (telegram-scratch/); "
                             "default bench/out")
    parser.add_argument("--results", type=Path, default=DEFAULT_RESULTS,
                        help="where to write the JSON figures "
                             "(default bench/out/telegram_results.json)")
    parser.add_argument("--seed", type=int, default=tg.DEFAULT_SEED)
    parser.add_argument("--drop-exports", action="store_true",
                        help="delete the generated exports at the end instead of keeping them")
    args = parser.parse_args(argv)
    quick = bool(args.quick)
    sizes: tuple[int, ...] = args.sizes or (QUICK_SIZES if quick else FULL_SIZES)
    media: int = args.media if args.media is not None else (QUICK_MEDIA if quick
                                                            else FULL_MEDIA)
    if media < 0 or media > min(sizes):
        parser.error("--media must be between 0 and the smallest message count")
    opts = Options(quick=quick, sizes=sizes, media=media, skip_postgres=args.skip_postgres,
                   postgres_url=args.postgres_url, workdir=args.workdir.resolve(),
                   seed=args.seed, drop_exports=args.drop_exports)
    return opts, args.results, args.check


def main(argv: list[str] | None = None) -> int:
    opts, results_path, check = parse_args(argv)
    started = datetime.now(UTC)
    try:
        results = Bench(opts).run()
    except BenchError as exc:
        console.print(Text(f"Benchmark failed: {exc}", style="bold red"))
        return 1
    console.print(render(results))
    for size in results:
        for note in size.notes:
            console.print(Text(f"{size.title}: {note}", style="dim"))
    if opts.quick:
        console.print(Text("--quick: exports too small for the targets to mean much "
                           "(interpreter start-up weighs more); run without --quick to judge.",
                           style="yellow"))
    judged = all_targets(results)
    missed = [(where, run, t) for where, run, t in judged if not t.met]
    summary = f"Targets: {len(judged) - len(missed)} of {len(judged)} met."
    console.print(Text(summary, style="bold red" if missed else "bold green"))
    for where, run, target in missed:
        console.print(Text(f"  missed: {where}: {run.messages_per_s:,.0f} msg/s, "
                           f"{run.memory_mib:.0f} MiB; target {target.what}", style="red"))

    data = {
        "started_at": started.isoformat(), "finished_at": datetime.now(UTC).isoformat(),
        "options": {**asdict(opts), "workdir": str(opts.workdir)},
        "targets": {"messages_per_s": MESSAGES_PER_S, "rss_limit_mib": RSS_LIMIT_MIB,
                    "applies_to": "svidok ingest on SQLite, every size"},
        "units": {"MiB": MIB, "rates": "messages in result.json / wall time of the whole "
                                       "command, start-up included"},
        "baseline_command": [sys.executable, "-c", BASELINE_CODE, "<result.json>"],
        "machine": machine_info(opts),
        "sizes": [{**asdict(size), "title": size.title} for size in results],
        "all_targets_met": not missed,
    }
    results_path.parent.mkdir(parents=True, exist_ok=True)
    results_path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n",
                            encoding="utf-8")
    console.print(f"Figures written to {results_path}")
    return 1 if check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
