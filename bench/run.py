"""Ingest benchmark behind ``make bench``: Svidok against ``cp -r`` + ``sha256sum``.

Cases (``--quick`` shrinks each so a smoke run takes well under a minute):

    (a) 200 files of 10 MiB       target: Svidok's MiB/s >= the baseline's
    (b) 50,000 files of 4 KiB     target: >= 2,000 files/s on SQLite; PostgreSQL reported
    (big) one file of 5 GiB       target: peak RSS < 200 MiB (every Svidok run has this target)

For (a) and (b) the baseline is ``cp -r corpus copy && find copy -type f -print0 | xargs -0
sha256sum``, what someone would do by hand to copy evidence and record its hashes. Before
each timed command the corpus is read once, so both sides start from the same warm page
cache, and ``sync`` runs so one side's writeback does not slow the other down. Nothing is
timed in-process: every figure is the wall time of a subprocess, and Svidok's peak RSS is
the ``ru_maxrss`` that ``wait4`` returns for exactly that process (see bench/measure.py).

Figures go to a table on the terminal and to ``bench/out/results.json``. See
docs/benchmarks.md for what each figure means.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from rich.console import Console
from rich.table import Table
from rich.text import Text
from sqlalchemy.exc import SQLAlchemyError

import corpus as corpora
from corpus import GB, MB, Corpus, CorpusSpec
from pg import postgres_schema
from svidok.config import Settings

REPO = corpora.BENCH_DIR.parent
DEFAULT_RESULTS = corpora.BENCH_DIR / "out" / "results.json"
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
RSS_LIMIT_MIB = 200
SMALL_FILES_PER_S = 2_000
# Room left over on the disk beyond what a case writes, so the benchmark never fills it.
SPACE_MARGIN = 1 * GB
BASELINE_SCRIPT = ('set -euo pipefail; cp -r -- "$1" "$2"; '
                   'find "$2" -type f -print0 | xargs -0 sha256sum > /dev/null')

Unit = Literal["MiB/s", "files/s"]
CaseKey = Literal["a", "b", "big"]

# Piped into a log, rich would fold the table into 80 columns and make it unreadable.
console = Console(highlight=False,
                  width=None if sys.stdout.isatty() else 160)


class BenchError(Exception):
    """A command under test failed, so its figures would mean nothing."""


# -- measuring one subprocess ----------------------------------------------------------


MEASURE = corpora.BENCH_DIR / "measure.py"


@dataclass(frozen=True)
class Measured:
    wall_s: float
    user_s: float
    sys_s: float
    # Kilobytes (Linux ru_maxrss): the peak of the command and of the children it reaped.
    peak_rss_kb: int
    returncode: int


def run_measured(cmd: list[str], env: dict[str, str] | None, stdout: Path,
                 stderr: Path) -> Measured:
    """Run ``cmd`` to completion and measure it alone, through bench/measure.py.

    Not ``resource.getrusage(RUSAGE_CHILDREN)``: it is a maximum over every child this
    process ever had (the baseline's ``cp``, ``svidok init``, ...). Not ``wait4`` from
    here either: Linux counts the pre-exec copy of this (large) process in the child's
    ``ru_maxrss``. The helper is a stdlib-only interpreter started with ``-I -S``, so
    its own few megabytes are the floor."""
    result = stdout.with_suffix(".measure.json")
    result.unlink(missing_ok=True)
    with open(stdout, "wb") as out, open(stderr, "wb") as err:
        helper = subprocess.run([sys.executable, "-I", "-S", str(MEASURE), str(result), *cmd],
                                env=env, stdout=out, stderr=err, check=False)
    try:
        data = json.loads(result.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BenchError(f"the measuring helper failed (exit {helper.returncode}):\n"
                         + tail(stderr)) from exc
    finally:
        result.unlink(missing_ok=True)
    return Measured(float(data["wall_s"]), float(data["user_s"]), float(data["sys_s"]),
                    int(data["peak_rss_kb"]), int(data["returncode"]))


def warm(root: Path) -> None:
    """Read every file under ``root`` so the timed command finds it in the page cache."""
    buf = bytearray(MB)
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            with open(os.path.join(dirpath, name), "rb", buffering=0) as fh:
                while fh.readinto(buf):
                    pass


def settle() -> None:
    """Write back dirty pages now, so no timed phase pays for an earlier one's writes."""
    os.sync()


def tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


# -- results ---------------------------------------------------------------------------


@dataclass
class Target:
    what: str
    # None: reported for information, not a target of the issue.
    met: bool | None


@dataclass
class RunResult:
    run: str
    backend: str | None
    wall_s: float
    cpu_user_s: float
    cpu_sys_s: float
    mib_per_s: float
    files_per_s: float
    peak_rss_mib: float | None = None
    # Svidok's own "seconds" from --json: the ingest without interpreter start-up.
    svidok_reported_s: float | None = None
    # The baseline never fsyncs; how long ``sync`` took right after it (not counted).
    flush_after_s: float | None = None
    ratio_to_baseline: float | None = None
    targets: list[Target] = field(default_factory=list)

    def rate(self, unit: Unit) -> float:
        return self.mib_per_s if unit == "MiB/s" else self.files_per_s


@dataclass
class CaseResult:
    key: CaseKey
    title: str
    corpus: dict[str, Any]
    unit: Unit
    runs: list[RunResult] = field(default_factory=list)
    skipped: str | None = None
    notes: list[str] = field(default_factory=list)


# -- the benchmark ---------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    quick: bool
    cases: tuple[CaseKey, ...]
    skip_postgres: bool
    postgres_url: str
    workers: int
    fsync: bool
    workdir: Path
    big_gb: float | None
    seed: int
    drop_corpora: bool


def svidok_command() -> list[str]:
    script = Path(sys.executable).with_name("svidok")
    return [str(script)] if script.exists() else [sys.executable, "-m", "svidok"]


def svidok_env(opts: Options, database_url: str | None) -> dict[str, str]:
    # Settings inherited from the caller's shell would make runs incomparable.
    env = {k: v for k, v in os.environ.items() if not k.startswith("SVIDOK_")}
    env["SVIDOK_INGEST_WORKERS"] = str(opts.workers)
    if not opts.fsync:
        env["SVIDOK_FSYNC"] = "false"
    if database_url:
        env["SVIDOK_DATABASE_URL"] = database_url
    return env


class Bench:
    def __init__(self, opts: Options) -> None:
        self.opts = opts
        self.workdir = opts.workdir
        self.scratch = opts.workdir / "scratch"
        self.sizes = corpora.sizes(opts.quick, opts.big_gb, opts.seed)

    # -- space ----------------------------------------------------------------------

    def space_problem(self, spec: CorpusSpec, copies: int) -> str | None:
        """Why this case cannot run here, or None: the corpus (unless already there) plus
        ``copies`` full copies of it, plus a margin, must fit."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        need = spec.total_bytes * copies + SPACE_MARGIN
        files_needed = spec.count * (copies + 1) + 10_000
        if not corpora.present(spec, self.workdir):
            need += spec.total_bytes
        stats = os.statvfs(self.workdir)
        free = stats.f_bavail * stats.f_frsize
        if free < need:
            return (f"needs {need / GB:.1f} GiB free in {self.workdir}, "
                    f"only {free / GB:.1f} GiB available")
        if stats.f_files and stats.f_favail < files_needed:
            return f"needs {files_needed:,} free inodes, only {stats.f_favail:,} available"
        return None

    # -- the two sides ----------------------------------------------------------------

    def baseline(self, corpus: Corpus) -> RunResult:
        dst = self.fresh("copy")
        out, err = self.scratch / "baseline.out", self.scratch / "baseline.err"
        try:
            warm(corpus.root)
            settle()
            measured = run_measured(["bash", "-c", BASELINE_SCRIPT, "baseline",
                                     str(corpus.root), str(dst)], None, out, err)
            if measured.returncode != 0:
                raise BenchError(f"the baseline failed (exit {measured.returncode}):\n"
                                 + tail(err))
            # Timed apart and shown apart: the baseline stops before the disk has
            # the copy, while every Svidok figure includes fsync of each original.
            started = time.perf_counter()
            settle()
            flush = time.perf_counter() - started
        finally:
            shutil.rmtree(dst, ignore_errors=True)
            out.unlink(missing_ok=True)
            err.unlink(missing_ok=True)
            settle()
        spec = corpus.spec
        return RunResult(
            run="cp -r + sha256sum", backend=None, wall_s=measured.wall_s,
            cpu_user_s=measured.user_s, cpu_sys_s=measured.sys_s,
            mib_per_s=spec.total_bytes / MB / measured.wall_s,
            files_per_s=spec.count / measured.wall_s, flush_after_s=flush)

    def svidok(self, corpus: Corpus, backend: str, database_url: str | None) -> RunResult:
        home = self.fresh(f"home-{backend}")
        env = svidok_env(self.opts, database_url)
        init = subprocess.run([*svidok_command(), "--home", str(home), "init", "--json"],
                              env=env, capture_output=True, text=True, check=False)
        if init.returncode != 0:
            raise BenchError(f"svidok init failed ({backend}):\n{init.stderr or init.stdout}")
        try:
            warm(corpus.root)
            settle()
            out, err = self.scratch / "ingest.json", self.scratch / "ingest.err"
            measured = run_measured([*svidok_command(), "--home", str(home), "ingest",
                                     str(corpus.root), "--json"], env, out, err)
            report = self._check_ingest(corpus, backend, measured, out, err)
        finally:
            shutil.rmtree(home, ignore_errors=True)
            for leftover in ("ingest.json", "ingest.err"):
                (self.scratch / leftover).unlink(missing_ok=True)
            settle()
        spec = corpus.spec
        return RunResult(
            run=f"svidok {backend}", backend=backend, wall_s=measured.wall_s,
            cpu_user_s=measured.user_s, cpu_sys_s=measured.sys_s,
            mib_per_s=spec.total_bytes / MB / measured.wall_s,
            files_per_s=spec.count / measured.wall_s,
            peak_rss_mib=measured.peak_rss_kb / 1024,
            svidok_reported_s=float(report.get("seconds", 0.0)))

    def _check_ingest(self, corpus: Corpus, backend: str, measured: Measured, out: Path,
                      err: Path) -> dict[str, Any]:
        """Svidok's own report; a run that did not store every file has no valid figure."""
        try:
            report: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            report = {}
        counts = report.get("counts", {})
        if measured.returncode != 0 or not report.get("ok") or \
                counts.get("stored") != corpus.spec.count:
            raise BenchError(
                f"svidok ingest ({backend}) did not store all {corpus.spec.count} files "
                f"(exit {measured.returncode}, counts {counts}):\n{tail(err)}")
        return report

    # -- cases ------------------------------------------------------------------------

    def _case(self, key: CaseKey, title: str, spec: CorpusSpec, unit: Unit) -> CaseResult:
        return CaseResult(key, title, {**asdict(spec), "total_bytes": spec.total_bytes}, unit)

    def _prepare(self, case: CaseResult, spec: CorpusSpec, copies: int,
                 hint: str = "") -> Corpus | None:
        problem = self.space_problem(spec, copies)
        if problem:
            case.skipped = problem + hint
            console.print(Text(f"Skipping {case.title}: {problem}.", style="yellow"))
            return None
        made_corpus, generated = corpora.ensure(spec, self.workdir)
        case.corpus["generated_now"] = generated
        self.make_scratch()
        return made_corpus

    def make_scratch(self) -> None:
        if self.scratch.is_dir():
            return
        self.scratch.mkdir(parents=True)
        # On ext4 creating files became up to 15 times slower (kernel time in
        # recently_deleted()/find_get_block) in block groups where many inodes had just been
        # deleted, so whichever side ran second paid for the first side's clean-up. With
        # the Orlov "top directory" flag, each fresh folder below lands in a block group of
        # its own, picked from its (unique) name. Other file systems ignore or refuse it.
        subprocess.run(["chattr", "+T", str(self.scratch)], capture_output=True, check=False)

    def fresh(self, prefix: str) -> Path:
        """A new, never used destination: see :meth:`make_scratch` for why names vary."""
        return self.scratch / f"{prefix}-{secrets.token_hex(6)}"

    def memory_target(self, run: RunResult) -> Target:
        rss = run.peak_rss_mib or 0.0
        return Target(f"< {RSS_LIMIT_MIB} MiB", rss < RSS_LIMIT_MIB)

    def case_large(self) -> CaseResult:
        spec = self.sizes.large
        case = self._case("a", f"(a) {spec.count}×{corpora.human_size(spec.size)}", spec,
                          "MiB/s")
        corpus = self._prepare(case, spec, copies=1)
        if corpus is None:
            return case
        base = self.baseline(corpus)
        case.runs.append(base)
        run = self.svidok(corpus, "SQLite", None)
        run.ratio_to_baseline = run.mib_per_s / base.mib_per_s
        run.targets = [Target(f"≥ {base.mib_per_s:.1f} MiB/s (baseline)",
                              run.mib_per_s >= base.mib_per_s), self.memory_target(run)]
        case.runs.append(run)
        return case

    def case_small(self) -> CaseResult:
        spec = self.sizes.small
        case = self._case("b", f"(b) {spec.count:,}×{corpora.human_size(spec.size)}", spec,
                          "files/s")
        corpus = self._prepare(case, spec, copies=1)
        if corpus is None:
            return case
        base = self.baseline(corpus)
        case.runs.append(base)
        run = self.svidok(corpus, "SQLite", None)
        run.ratio_to_baseline = run.files_per_s / base.files_per_s
        run.targets = [Target(f"≥ {SMALL_FILES_PER_S:,} files/s",
                              run.files_per_s >= SMALL_FILES_PER_S), self.memory_target(run)]
        case.runs.append(run)
        if self.opts.skip_postgres:
            case.notes.append("PostgreSQL skipped (--skip-postgres).")
            return case
        try:
            with postgres_schema(self.opts.postgres_url) as url:
                pg = self.svidok(corpus, "PostgreSQL", url)
        except SQLAlchemyError as exc:
            message = f"PostgreSQL not measured: cannot use {self.opts.postgres_url} ({exc})"
            console.print(Text(message, style="yellow"))
            case.notes.append(message)
            return case
        pg.ratio_to_baseline = pg.files_per_s / base.files_per_s
        pg.targets = [Target("reported, no target", None),
                      self.memory_target(pg)]
        case.notes.append(f"PostgreSQL: {pg.files_per_s:,.0f} files/s, "
                          f"{'meets' if pg.files_per_s >= SMALL_FILES_PER_S else 'below'} the "
                          f"SQLite target of {SMALL_FILES_PER_S:,} files/s.")
        case.runs.append(pg)
        return case

    def case_big(self) -> CaseResult:
        spec = self.sizes.big
        case = self._case("big", f"(big) 1×{corpora.human_size(spec.size)}", spec, "MiB/s")
        corpus = self._prepare(case, spec, copies=1,
                               hint="; choose a smaller file with --big-gb")
        if corpus is None:
            return case
        run = self.svidok(corpus, "SQLite", None)
        run.targets = [Target("reported, no target", None), self.memory_target(run)]
        case.runs.append(run)
        case.notes.append("No baseline for the big file: only Svidok's memory is in question.")
        return case

    def run(self) -> list[CaseResult]:
        results: list[CaseResult] = []
        runners = {"a": self.case_large, "b": self.case_small, "big": self.case_big}
        # Left over by an interrupted run; it would count against the space checks.
        shutil.rmtree(self.scratch, ignore_errors=True)
        try:
            for key in self.opts.cases:
                console.print(Text(f"Running case {key} ...", style="bold"))
                results.append(runners[key]())
        finally:
            shutil.rmtree(self.scratch, ignore_errors=True)
            if self.opts.drop_corpora:
                for spec in (self.sizes.large, self.sizes.small, self.sizes.big):
                    corpora.remove(spec, self.workdir)
        return results


# -- reporting -------------------------------------------------------------------------


def _verdict(target: Target) -> Text:
    if target.met is None:
        return Text(target.what, style="dim")
    if target.met:
        return Text(f"✔ {target.what}", style="green")
    return Text(f"✘ {target.what}", style="bold red")


def render(results: list[CaseResult], opts: Options) -> Table:
    fsync = "" if opts.fsync else ", fsync OFF"
    grid = Table(title=f"Svidok ingest benchmark ({opts.workers} workers{fsync})",
                 title_justify="left", caption_justify="left",
                 caption="Rate: wall time of the whole command. Ratio: Svidok's rate / the "
                         "baseline's. (+N sync): flushing the baseline's copy, not counted.")
    for name, justify in (("Case", "left"), ("Run", "left"), ("Time s", "right"),
                          ("Rate", "right"), ("Baseline", "right"), ("Ratio", "right"),
                          ("Peak RSS", "right"), ("Rate target", "left"),
                          ("RSS target", "left")):
        # Figures folded over two lines are misread; let the notes columns fold instead.
        grid.add_column(name, justify=justify, no_wrap=name != "Rate target")  # type: ignore[arg-type]
    for case in results:
        grid.add_section()
        if case.skipped:
            grid.add_row(case.title, Text("skipped", style="yellow"), "", "", "", "", "",
                         Text(case.skipped, style="yellow"), "")
            continue
        base = next((r for r in case.runs if r.backend is None), None)
        for run in case.runs:
            rate = run.rate(case.unit)
            rate_text = f"{rate:,.1f} MiB/s" if case.unit == "MiB/s" else f"{rate:,.0f} files/s"
            time_text = f"{run.wall_s:.2f}"
            if run.flush_after_s is not None:
                time_text += f" (+{run.flush_after_s:.2f} sync)"
            is_base = run.backend is None
            base_text = ""
            if base is not None and not is_base:
                b = base.rate(case.unit)
                base_text = f"{b:,.1f} MiB/s" if case.unit == "MiB/s" else f"{b:,.0f} files/s"
            ratio = f"{run.ratio_to_baseline:.2f}×" if run.ratio_to_baseline else ""
            rss = f"{run.peak_rss_mib:.0f} MiB" if run.peak_rss_mib is not None else ""
            speed = _verdict(run.targets[0]) if run.targets else Text("")
            memory = _verdict(run.targets[1]) if len(run.targets) > 1 else Text("")
            grid.add_row(case.title, run.run, time_text, rate_text, base_text, ratio, rss,
                         speed, memory)
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
        "cpus": os.cpu_count(), "mem_total_bytes": mem_total,
        "filesystem": first_line(["stat", "-f", "-c", "%T", str(opts.workdir)]),
        "coreutils": first_line(["cp", "--version"]),
        "svidok": first_line([*svidok_command(), "--version"]),
        "git_commit": first_line(["git", "rev-parse", "HEAD"]),
        "git_dirty": bool(first_line(["git", "status", "--porcelain", "--", "src"])),
    }


def all_targets(results: list[CaseResult]) -> list[tuple[str, Target]]:
    return [(f"{case.title} {run.run}", t) for case in results for run in case.runs
            for t in run.targets if t.met is not None]


# -- command line ----------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> tuple[Options, Path, bool]:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 20 × 1 MiB, 2,000 × 4 KiB, a 200 MiB file")
    parser.add_argument("--skip-postgres", action="store_true",
                        help="do not measure (b) on PostgreSQL")
    parser.add_argument("--big-gb", type=float, default=None,
                        help="size of the single big file in GiB (default 5; 200 MiB with --quick)")
    parser.add_argument("--cases", default="a,b,big",
                        help="comma-separated subset of a,b,big (default: all)")
    parser.add_argument("--workdir", type=Path, default=corpora.DEFAULT_WORKDIR,
                        help="corpora and scratch copies (default bench/out; needs room)")
    parser.add_argument("--results", type=Path, default=DEFAULT_RESULTS,
                        help="where to write the JSON figures (default bench/out/results.json)")
    parser.add_argument("--postgres-url",
                        default=os.environ.get("SVIDOK_BENCH_DATABASE_URL", DEFAULT_PG_URL),
                        help="PostgreSQL database in which a throwaway schema is made "
                             "(default $SVIDOK_BENCH_DATABASE_URL or the local test database)")
    parser.add_argument("--workers", type=int, default=Settings(home=Path()).ingest_workers,
                        help="SVIDOK_INGEST_WORKERS for every run (default: Svidok's default)")
    parser.add_argument("--no-fsync", action="store_true",
                        help="diagnostic only: SVIDOK_FSYNC=false, originals not crash-safe")
    parser.add_argument("--seed", type=int, default=corpora.DEFAULT_SEED)
    parser.add_argument("--drop-corpora", action="store_true",
                        help="delete the generated corpora at the end instead of keeping them")
    parser.add_argument("--check", action="store_true",
                        help="exit with status 1 if any target is missed")
    args = parser.parse_args(argv)
    cases: list[CaseKey] = []
    for raw in args.cases.split(","):
        name = raw.strip()
        if name not in ("a", "b", "big"):
            parser.error(f"unknown case {name!r}; choose from a, b, big")
        cases.append(name)
    if args.big_gb is not None and args.big_gb <= 0:
        parser.error("--big-gb must be positive")
    opts = Options(quick=args.quick, cases=tuple(cases), skip_postgres=args.skip_postgres,
                   postgres_url=args.postgres_url, workers=args.workers,
                   fsync=not args.no_fsync, workdir=args.workdir.resolve(),
                   big_gb=args.big_gb, seed=args.seed, drop_corpora=args.drop_corpora)
    return opts, args.results, args.check


def main(argv: list[str] | None = None) -> int:
    opts, results_path, check = parse_args(argv)
    started = datetime.now(UTC)
    try:
        results = Bench(opts).run()
    except BenchError as exc:
        console.print(Text(f"Benchmark failed: {exc}", style="bold red"))
        return 1
    table = render(results, opts)
    console.print(table)
    for case in results:
        for note in case.notes:
            console.print(Text(f"{case.title}: {note}", style="dim"))
    if opts.quick:
        console.print(Text("--quick: the corpora are too small for the targets to mean much "
                           "(interpreter start-up dominates); run without --quick to judge.",
                           style="yellow"))
    if not opts.fsync:
        console.print(Text("--no-fsync: Svidok did not fsync; these figures are diagnostic, "
                           "not what a user gets.", style="yellow"))
    judged = all_targets(results)
    missed = [(where, t) for where, t in judged if not t.met]
    summary = f"Targets: {len(judged) - len(missed)} of {len(judged)} met."
    console.print(Text(summary, style="bold red" if missed else "bold green"))
    for where, target in missed:
        console.print(Text(f"  missed: {where}: {target.what}", style="red"))

    data = {
        "started_at": started.isoformat(), "finished_at": datetime.now(UTC).isoformat(),
        "options": {**asdict(opts), "workdir": str(opts.workdir)},
        "targets": {"rss_limit_mib": RSS_LIMIT_MIB, "small_files_per_s": SMALL_FILES_PER_S,
                    "large": "svidok MiB/s >= baseline MiB/s"},
        "units": {"MiB": MB, "rates": "wall time of the whole command, start-up included"},
        "machine": machine_info(opts),
        "cases": [asdict(case) for case in results],
        "all_targets_met": not missed,
    }
    results_path.parent.mkdir(parents=True, exist_ok=True)
    results_path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n",
                            encoding="utf-8")
    console.print(f"Figures written to {results_path}")
    return 1 if check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
