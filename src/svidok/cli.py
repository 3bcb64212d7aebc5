"""The ``svidok`` command: ``init``, ``ingest``, ``capture``, ``verify``, ``status``,
``items``, ``imports``, ``log``, ``users``, ``tokens``.

Exit status: 0 all went well; 1 something failed (each failure is named); 2 the command
was used wrongly; 3 ``verify`` found a missing or altered original or a custody-log problem.
"""

from __future__ import annotations

import time
from dataclasses import asdict, fields
from pathlib import Path
from typing import Annotated, Any

import typer

from svidok import __version__
from svidok.cli_capture import capture_cmd
from svidok.cli_common import CTX, EXIT_FAILED, EXIT_FIXITY, JsonOpt, fail, opened
from svidok.cli_dedup import dedup_cmd
from svidok.cli_enrich import enrich_cmd, enrich_shown, enrichers_cmd
from svidok.cli_enrich import print_report as print_enrich_report
from svidok.cli_enrich import report_json as enrich_json
from svidok.cli_imports import imports_app, print_imports, reading_options
from svidok.cli_items import items_app
from svidok.cli_log import log_app
from svidok.cli_search import search_cmd
from svidok.cli_serve import serve_cmd
from svidok.cli_tokens import tokens_app
from svidok.cli_users import users_app
from svidok.config import ConfigError
from svidok.custody import log
from svidok.db import DatabaseError
from svidok.home import HomeError, init_home
from svidok.locker import fixity, records
from svidok.locker.ingest import (
    BatchReport,
    IngestError,
    IngestOptions,
    Outcome,
    ingest,
    resolve_paths,
)
from svidok.output import ProgressReporter, counting, emit_json, err, human_bytes, out, safe, table
from svidok.sources.importers import FORMATS

app = typer.Typer(help="Svidok: preserve evidence so a court can trust it.",
                  no_args_is_help=True, add_completion=False, rich_markup_mode=None)
app.add_typer(items_app, name="items")
app.add_typer(imports_app, name="imports")
app.add_typer(log_app, name="log")
app.add_typer(users_app, name="users")
app.add_typer(tokens_app, name="tokens")
app.command("capture")(capture_cmd)
app.command("search")(search_cmd)
app.command("enrich")(enrich_cmd)
app.command("enrichers")(enrichers_cmd)
app.command("dedup")(dedup_cmd)
app.command("serve")(serve_cmd)

def _version(value: bool) -> None:
    if value:
        out.print(f"svidok {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    home: Annotated[Path | None, typer.Option(
        "--home", help="Data folder (default: $SVIDOK_HOME or ./svidok-data).")] = None,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    CTX.home_path = home


@app.command()
def init(
    name: Annotated[str | None, typer.Option(
        "--name", help="Instance name, used to sign this locker's records.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Create the data folder: settings, database and blob store."""
    try:
        home, created = init_home(CTX.home_path or _default_home(), name)
    except (ConfigError, DatabaseError, HomeError, OSError) as exc:
        fail(str(exc), as_json)
    try:
        info = {"home": str(home.settings.home.resolve()), "instance": home.instance_name,
                "created": created, "database": home.engine.dialect.name,
                "verifier_key": log.verifier(home).vkey}
    except log.LogError as exc:
        fail(str(exc), as_json)
    finally:
        home.dispose()
    if as_json:
        emit_json(info)
        return
    verb = "Created" if created else "Already initialised; schema up to date:"
    out.print(safe(f"{verb} {info['home']} (instance {info['instance']}, {info['database']})"))
    out.print("Custody log verifier key (publish it; anyone can check proofs with it):")
    print(info["verifier_key"])


def _default_home() -> Path:
    from svidok.config import load_settings

    return load_settings().home


@app.command("ingest")
def ingest_cmd(
    paths: Annotated[list[Path], typer.Argument(help="Files and folders to preserve.")],
    collector: Annotated[str | None, typer.Option(help="Who collected this material.")] = None,
    note: Annotated[str | None, typer.Option(help="A note kept with every item.")] = None,
    rehash: Annotated[bool, typer.Option(
        "--rehash", help="Hash every file, even those unchanged since the last ingest.")] = False,
    read_as: Annotated[str | None, typer.Option(
        "--as", metavar="FORMAT",
        help=f"Read the files as this format only ({', '.join(FORMATS)}); 'file' reads "
             "none, keeping every file as it is.")] = None,
    tz: Annotated[str | None, typer.Option(
        "--tz", metavar="ZONE", help="The exporting computer's time zone (e.g. Europe/Kyiv), "
        "for exports that give only local times (Telegram before 2022, WhatsApp).")] = None,
    date_order: Annotated[str | None, typer.Option(
        "--date-order", metavar="ORDER", help="day-first or month-first: how a WhatsApp "
        "chat writes dates, when the file itself cannot tell.")] = None,
    enrich: Annotated[bool, typer.Option(
        "--enrich", help="Then enrich what is new, as 'svidok enrich' does: text, OCR, "
        "places, dates, names, violation types, media, fingerprints, search.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Preserve files and folders (recursively) as originals, resumably, and read the
    messages, e-mails and records inside exports, mailboxes and archives as child items."""
    reading = reading_options(read_as, tz, date_order, as_json)
    options = IngestOptions(collector=collector, note=note, rehash=rehash, reading=reading)
    started = time.monotonic()
    with opened(as_json) as home:
        try:
            resolve_paths(paths)  # a wrong path is reported before any progress is drawn
            if as_json:
                report = ingest(home, paths, options)
            else:
                with ProgressReporter() as progress:
                    report = ingest(home, paths, options, progress)
        except IngestError as exc:
            fail(str(exc), as_json)
        except KeyboardInterrupt:
            fail("interrupted; run the same ingest again to finish the batch", as_json, 130)
        elapsed = time.monotonic() - started
        if not as_json:
            _print_report(report, elapsed)
        enriched = None
        if enrich:
            enrich_started = time.monotonic()
            enriched = enrich_shown(home, (), False, as_json)
            if not as_json:
                print_enrich_report(enriched, time.monotonic() - enrich_started)
    if as_json:
        shown = _report_json(report, elapsed)
        if enriched is not None:
            shown["enrich"] = enrich_json(enriched, time.monotonic() - started - elapsed)
        emit_json(shown)
    if not report.ok or (enriched is not None and enriched.failed):
        raise typer.Exit(EXIT_FAILED)


# Built by hand: dataclasses.asdict deep-copies, and took half a second per 50,000 files.
OUTCOME_FIELDS = tuple(f.name for f in fields(Outcome))


def _report_json(report: BatchReport, elapsed: float) -> dict[str, Any]:
    return {
        "batch": report.batch_id, "resumed": report.resumed, "ok": report.ok,
        "aborted": report.aborted, "seconds": round(elapsed, 3),
        "counts": {state: report.count(state)
                   for state in ("stored", "sighting", "failed", "skipped")}
        | {"unchanged": report.unchanged, "already_done": report.already_done},
        "outcomes": [{name: getattr(o, name) for name in OUTCOME_FIELDS}
                     for o in report.outcomes],
        "checkpoint": None if report.checkpoint is None else dict(zip(
            ("id", "size", "stamped"), report.checkpoint, strict=True)),
        "checkpoint_error": report.checkpoint_error, "stamp_errors": report.stamp_errors,
        "imports": [asdict(i) for i in report.imports],
    }


def _print_report(report: BatchReport, elapsed: float) -> None:
    stored = [o for o in report.outcomes if o.state in ("stored", "sighting")]
    if stored and len(stored) <= 30:
        out.print(table("Stored", ["item", "", "type", "size", "path"], [
            [o.item_id, "seen again" if o.state == "sighting" else "new", o.media_type,
             human_bytes(o.size or 0), o.rel_path] for o in stored]))
    problems = [o for o in report.outcomes if o.message]
    if problems:
        out.print(table("Needs attention", ["", "path", "what happened"], [
            [o.state, o.rel_path, o.message] for o in problems]))
    print_imports(report.imports)
    resumed = " (resumed)" if report.resumed else ""
    out.print(safe(
        f"Batch {report.batch_id}{resumed}: {report.count('stored')} stored, "
        f"{report.count('sighting')} seen again, {report.count('failed')} failed, "
        f"{report.count('skipped')} skipped, {report.unchanged} unchanged since the last "
        f"ingest; {elapsed:.1f} s."))
    if len(stored) > 30:
        out.print(safe(f"List them with: svidok items list --batch {report.batch_id}"))
    if report.checkpoint is not None:
        cp_id, size, stamped = report.checkpoint
        out.print(f"Custody log: checkpoint {cp_id} signed at {size} events"
                  f"{'' if stamped else ' (not timestamped yet)'}.")
    for error in report.stamp_errors:
        err.print(safe(f"Timestamp failed: {error}"), style="yellow")
    if report.checkpoint_error:
        err.print(safe(f"Error: {report.checkpoint_error}"), style="red")
    if report.aborted:
        err.print(safe(f"Stopped early: {report.aborted}"), style="red")
    elif report.count("failed"):
        err.print("Some files were not stored; see the reasons above.", style="red")
    elif not report.ok and report.imports:
        err.print("Some parts of the files could not be read; see above, and "
                  "'svidok imports show ID' for every problem.", style="red")


@app.command()
def verify(
    sample: Annotated[int, typer.Option(
        "--sample", min=1, max=100, help="Re-hash only this percentage, chosen at random.")
    ] = 100,
    as_json: JsonOpt = False,
) -> None:
    """Check the custody log and re-hash originals; exit status 3 on any problem."""
    with opened(as_json) as home:
        if as_json:
            logged = log.check(home)
            report = fixity.verify(home, sample)
        else:
            with counting("Checking the custody log") as update:
                logged = log.check(home, update)
            with ProgressReporter("Verifying") as progress:
                report = fixity.verify(home, sample, progress)
    data = {"ok": report.ok and logged.ok, "checked": report.checked,
            "bytes": report.bytes_checked, "sample_percent": report.sample_percent,
            "problems": [asdict(f) for f in report.findings],
            "log": {"ok": logged.ok, "events": logged.events, "size": logged.size,
                    "checkpoints": logged.checkpoints, "stamped": logged.stamped,
                    "unsigned": logged.unsigned, "items": logged.items,
                    "seconds": round(logged.seconds, 3),
                    "problems": logged.problems}}
    if as_json:
        emit_json(data)
    else:
        for problem in logged.problems:
            out.print(safe(f"CUSTODY LOG {problem}"), style="red")
        verdict = "intact" if logged.ok else f"{len(logged.problems)} problem(s)"
        out.print(f"Custody log: {logged.events} events, {logged.checkpoints} checkpoints "
                  f"({logged.stamped} timestamped), capture contexts of {logged.items} "
                  f"items: {verdict}.")
        if logged.unsigned:
            out.print(f"{logged.unsigned} event(s) after the latest checkpoint are not signed "
                      "yet: run svidok log checkpoint", style="yellow")
        # One line per problem, whole: a hash folded across table rows cannot be copied.
        for f in report.findings:
            owners = ", ".join(map(str, f.item_ids)) or "none"
            out.print(safe(f"{f.problem.upper()} {f.sha256} (items {owners}): {f.detail}"),
                      style="red")
        verdict = "all hold" if report.ok else f"{len(report.findings)} problem(s)"
        out.print(f"Checked {report.checked} originals "
                  f"({human_bytes(report.bytes_checked)}): {verdict}.")
    if not data["ok"]:
        raise typer.Exit(EXIT_FIXITY)


@app.command()
def status(as_json: JsonOpt = False) -> None:
    """Counts, bytes stored, interrupted batches, the custody log and the last verification."""
    with opened(as_json) as home:
        data = records.status(home)
        data["custody"] = log.summary(home)
    if as_json:
        emit_json(data)
        return
    states = data["items"]
    out.print(safe(f"Data folder {data['home']} · instance {data['instance']} · "
                   f"{data['database']}"))
    out.print(f"Items: {states['stored']} stored, {states['failed']} failed, "
              f"{states['skipped']} skipped, {states['pending']} pending; "
              f"{data['sightings']} sightings")
    read = {k: n for k, n in data["kinds"].items() if k not in ("file", "folder")}
    if read:
        out.print(safe("Read from files: " + ", ".join(f"{n:,} {k}" for k, n in read.items())
                       + " (svidok imports list)"))
    out.print(f"Originals: {data['originals']} ({human_bytes(data['bytes'])})")
    if data["ingest_running"]:
        out.print("An ingest is running now.", style="yellow")
    for batch in data["interrupted_batches"]:
        out.print(safe(f"Batch {batch['id']} was interrupted; to finish it, run "
                       f"svidok ingest again over {batch['roots']}"), style="yellow")
    custody = data["custody"]
    latest = custody["latest_checkpoint"]
    if latest is None:
        out.print(f"Custody log: {custody['events']} events, no checkpoint yet "
                  "(svidok log checkpoint)")
    else:
        stamped = "timestamped" if latest["stamped"] else "not timestamped"
        out.print(f"Custody log: {custody['events']} events; checkpoint {latest['id']} at "
                  f"{latest['size']} events, {stamped}")
    if custody["unsigned_events"]:
        out.print(f"{custody['unsigned_events']} event(s) wait for a checkpoint: "
                  "run svidok log checkpoint", style="yellow")
    check = data["last_verification"]
    if check:
        verdict = "all held" if check["ok"] else (
            f"{check['missing']} missing, {check['altered']} altered")
        out.print(f"Last verification {check['finished_at']}: {check['checked']} checked "
                  f"({check['sample_percent']}%), {verdict}")
    else:
        out.print("Never verified: run svidok verify")


def main() -> None:
    app()
