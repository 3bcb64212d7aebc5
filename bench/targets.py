"""The closing table of the search, PDQ index and image hashing benchmarks, and their exit status.

Each row is one figure: its target (or none: reported only), what was measured, the
baseline measured in the same run, and the ratio measured ÷ baseline, so a figure can be
judged on a busy machine by how it moved against its yardstick. The status is 1 when a
target was missed, unless ``--check`` asked for a smoke run (tiny sizes, figures not judged).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from dataclasses import dataclass

from rich.console import Console
from rich.table import Table
from rich.text import Text


@dataclass(frozen=True, slots=True)
class Row:
    figure: str
    target: str             # "< 50 ms", "≥ 100 img/s"; "—" when only reported
    measured: str
    baseline: str           # what the yardstick measured, with its name; "—" if none
    ratio: str              # measured ÷ baseline; "—" if no baseline
    met: bool | None        # None: reported, no target


def ratio(measured: float, baseline: float) -> str:
    if baseline <= 0:
        return "—"
    value = measured / baseline
    return f"{value:,.0f}×" if value >= 100 else f"{value:.3g}×"


def common_options(parser: argparse.ArgumentParser, *, postgres: bool) -> None:
    """The options ``make bench`` passes to every benchmark (BENCH_ARGS)."""
    parser.add_argument("--quick", action="store_true", help="smaller sizes, a few minutes")
    parser.add_argument("--check", action="store_true",
                        help="smoke run: tiny sizes; exit 0 if it ran, whatever the figures")
    parser.add_argument("--skip-postgres", action="store_true",
                        help="SQLite only" if postgres else "(no PostgreSQL here; ignored)")


def finish(title: str, rows: Sequence[Row], *, check: bool, size_note: str | None = None,
           caption: str | None = None) -> int:
    """Print the table and a verdict line; the exit status."""
    console = Console()
    if not console.is_terminal:  # a log file: one line per row, not wrapped at 80 columns
        console = Console(width=140)
    table = Table(title=f"{title} ({os.cpu_count()} CPUs)", caption=caption,
                  caption_justify="left")
    for name in ("figure", "target", "measured", "baseline (same run)", "ratio", "verdict"):
        table.add_column(name, justify="right" if name == "ratio" else "left")
    for row in rows:
        verdict = (Text("reported", style="dim") if row.met is None
                   else Text("met", style="green") if row.met
                   else Text("MISSED", style="bold red"))
        table.add_row(row.figure, row.target, row.measured, row.baseline, row.ratio, verdict)
    console.print(table)
    judged = [row for row in rows if row.met is not None]
    missed = [row.figure for row in judged if not row.met]
    line = f"{title}: {len(judged) - len(missed)} of {len(judged)} targets met"
    if missed:
        line += " (missed: " + "; ".join(missed) + ")"
    console.print(line, style="bold red" if missed and not check else None)
    if size_note:
        console.print(size_note, style="yellow")
    if check:
        console.print("--check: a smoke run at tiny sizes; figures are not judged.",
                      style="yellow")
        return 0
    return 1 if missed else 0
