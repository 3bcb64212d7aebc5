"""``svidok enrich`` and ``svidok enrichers``: understand what is stored, and see how far."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from svidok.cli_common import EXIT_FAILED, EXIT_USAGE, JsonOpt, fail, opened
from svidok.enrich.runner import EnrichReport, EnrichStopped, EnrichUsageError, summary
from svidok.home import Home
from svidok.output import emit_json, err, out, safe, table

SHOWN_FAILURES = 30


def enrich_cmd(
    only: Annotated[list[str] | None, typer.Option(
        "--only", metavar="NAME", help="Run only this enricher (repeatable); see "
        "'svidok enrichers'.")] = None,
    force: Annotated[bool, typer.Option(
        "--force", help="Run again even where nothing changed.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Extract text (OCR too), language, places, dates, names, violation types, media
    metadata and fingerprints from every stored item, index it for search and link
    near-duplicates. Runs only where an enricher's version or its input changed."""
    started = time.monotonic()
    with opened(as_json) as home:
        report = enrich_shown(home, only or (), force, as_json)
    elapsed = time.monotonic() - started
    if as_json:
        emit_json(report_json(report, elapsed))
    else:
        print_report(report, elapsed)
    if report.failed:
        raise typer.Exit(EXIT_FAILED)


def enrich_shown(home: Home, only: Sequence[str], force: bool, as_json: bool) -> EnrichReport:
    """Enrich with a progress bar for people; a usage error, a full disk or Ctrl-C end
    the command with a message saying what to do."""
    from svidok.enrich.pipeline import enrich_home

    try:
        if as_json:
            return enrich_home(home, only=only, force=force)
        with _progress() as (bar, task):
            return enrich_home(home, only=only, force=force,
                               progress=lambda done, total: bar.update(
                                   task, completed=done, total=total))
    except EnrichUsageError as exc:
        fail(str(exc), as_json, EXIT_USAGE)
    except EnrichStopped as exc:
        fail(str(exc), as_json, EXIT_FAILED)
    except KeyboardInterrupt:
        fail("interrupted; what was enriched is kept: run 'svidok enrich' again to finish",
             as_json, 130)


class _progress:
    def __enter__(self) -> tuple[Progress, Any]:
        self.bar = Progress(TextColumn("Enriching"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("items"), TimeRemainingColumn(), console=err)
        self.bar.start()
        return self.bar, self.bar.add_task("enrich", total=None)

    def __exit__(self, *exc: object) -> None:
        self.bar.stop()


def report_json(report: EnrichReport, elapsed: float) -> dict[str, Any]:
    return {
        "ok": report.failed == 0, "seconds": round(elapsed, 3), "items": report.items,
        "enriched": report.enriched, "events": report.events, "indexed": report.indexed,
        "links": report.links,
        "checkpoint": None if report.checkpoint is None else dict(zip(
            ("id", "size", "stamped"), report.checkpoint, strict=True)),
        "checkpoint_error": report.checkpoint_error, "stamp_errors": report.stamp_errors,
        "runs": [{"enricher": e, "state": s, "count": n}
                 for (e, s), n in sorted(report.runs.items())],
        "failures": [{"item": f.item_id, "enricher": f.enricher, "error": f.error}
                     for f in report.failures],
    }


def print_report(report: EnrichReport, elapsed: float) -> None:
    names = sorted({e for e, _ in report.runs})
    if names:
        out.print(table("Enrichers run", ["enricher", "done", "skipped", "failed"], [
            [name, report.runs[(name, "done")], report.runs[(name, "skipped")],
             report.runs[(name, "failed")]] for name in names]))
    if report.failures:
        shown = report.failures[:SHOWN_FAILURES]
        out.print(table("Failed", ["item", "enricher", "what failed"],
                        [[f.item_id, f.enricher, f.error] for f in shown]))
        if len(report.failures) > SHOWN_FAILURES:
            out.print(f"... and {len(report.failures) - SHOWN_FAILURES} more "
                      "(all of them with --json).")
    out.print(safe(
        f"{report.items} items looked at, {report.enriched} enriched; "
        f"{report.indexed} indexed for search, {report.links} duplicate links found, "
        f"{report.events} custody events; {elapsed:.1f} s."))
    if report.checkpoint is not None:
        cp_id, size, stamped = report.checkpoint
        out.print(f"Custody log: checkpoint {cp_id} signed at {size} events"
                  f"{'' if stamped else ' (not timestamped yet)'}.")
    for error in report.stamp_errors:
        err.print(safe(f"Timestamp failed: {error}"), style="yellow")
    if report.checkpoint_error:
        err.print(safe(f"Error: {report.checkpoint_error}"), style="red")
    if report.failed:
        err.print("Some items could not be enriched; each failure is recorded and the rest "
                  "went on. A new version of an enricher tries them again.", style="red")


def enrichers_cmd(as_json: JsonOpt = False) -> None:
    """List the enrichers, their versions and inputs, and how many items each has done."""
    from svidok.enrich.registry import enrichers

    registered = enrichers()
    with opened(as_json) as home, home.engine.connect() as conn:
        counts = summary(conn)
    rows: list[dict[str, Any]] = []
    for e in registered:
        mine = [c for c in counts if c["enricher"] == e.name]
        current = {c["state"]: c["items"] for c in mine if c["version"] == e.version}
        older = sum(int(str(c["items"])) for c in mine if c["version"] != e.version)
        rows.append({"name": e.name, "version": e.version, "needs": list(e.needs),
                     "done": current.get("done", 0), "skipped": current.get("skipped", 0),
                     "failed": current.get("failed", 0), "older_versions": older})
    if as_json:
        emit_json(rows)
        return
    out.print(table("Enrichers", ["name", "version", "needs", "done", "skipped", "failed",
                                  "older versions"], [
        [r["name"], r["version"], ", ".join(r["needs"]) or "-", r["done"], r["skipped"],
         r["failed"], r["older_versions"]] for r in rows]))
